package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"saasmall/server/mall"
)

// dashboardOrders is how many orders the dashboard's store gets: the
// console issue's target is p99 < 100 ms for a tenant with 100,000 orders.
const dashboardOrders = 100_000

const targetDashboardP99ms = 100

// dashboardConns is how many staff load dashboards at once in the bench.
const dashboardConns = 8

var dashChannels = []string{"pc", "pc", "pc", "mobile", "mobile", "app", "applet"}
var dashStatuses = []string{mall.OrderPaid, mall.OrderFulfilled, mall.OrderCompleted, mall.OrderCompleted, mall.OrderCancelled, mall.OrderPendingPayment}

// seedDashboard gives the first store dashboardOrders orders spread over the
// last year, inserted in bulk (the dashboard reads orders, not how they were
// placed; 100,000 checkouts would take minutes), and builds the rollups.
func seedDashboard(ctx context.Context, e *env, cat *catalogData) (string, error) {
	slug := cat.stores[0]
	t, err := e.srv.Tenants.BySlug(ctx, slug)
	if err != nil {
		return "", err
	}
	skus := cat.cartable[slug]
	if len(skus) == 0 {
		return "", fmt.Errorf("store %s has no SKUs", slug)
	}
	var pids []int64
	e.srv.DB.Reader().Table("skus").Where("id = ?", skus[0].ID).Pluck("product_id", &pids)
	if len(pids) == 0 {
		return "", fmt.Errorf("sku %d has no product", skus[0].ID)
	}
	r := newRand(e.o.Seed, 77)
	now := time.Now().UTC()
	start := time.Now()
	for done := 0; done < e.o.Orders; done += 5000 {
		orders := make([]mall.Order, 0, 5000)
		for i := done; i < done+5000 && i < e.o.Orders; i++ {
			// In time order, so every index grows at its end.
			at := now.Add(-365 * 24 * time.Hour).Add(time.Duration(i) * (365 * 24 * time.Hour / time.Duration(e.o.Orders)))
			sub := int64(1000 + 100*r.IntN(90))
			orders = append(orders, mall.Order{TenantID: t.ID, UserID: 1, Number: fmt.Sprintf("D%d-%08d", t.ID, i), Kind: mall.OrderKindCheckout,
				Status: dashStatuses[r.IntN(len(dashStatuses))], Currency: "USD", Subtotal: sub, Total: sub,
				ClientSource: dashChannels[r.IntN(len(dashChannels))], CreatedAt: at, UpdatedAt: at})
		}
		err := e.srv.DB.Tx(ctx, func(ctx context.Context) error {
			if err := e.srv.DB.W(ctx).CreateInBatches(&orders, 40).Error; err != nil {
				return err
			}
			lines := make([]mall.OrderLine, len(orders))
			for i, o := range orders {
				lines[i] = mall.OrderLine{OrderID: o.ID, TenantID: t.ID, ProductID: pids[0], SKUID: skus[0].ID, Kind: skus[0].Kind,
					Name: "bench line", Quantity: 1, UnitPrice: o.Subtotal, Amount: o.Subtotal}
			}
			return e.srv.DB.W(ctx).CreateInBatches(&lines, 100).Error
		})
		if err != nil {
			return "", err
		}
	}
	for {
		more, err := e.srv.Analytics.Refresh(ctx, 5*time.Second)
		if err != nil {
			return "", err
		}
		if !more {
			break
		}
	}
	e.o.logf("dashboard: %d orders for %s seeded and rolled up in %s", e.o.Orders, slug, time.Since(start).Round(time.Millisecond))
	return slug, nil
}

// measureDashboard drives the staff dashboard of the seeded store with
// varied date ranges, as its owner.
func measureDashboard(ctx context.Context, e *env, cat *catalogData) (*Result, error) {
	slug, err := seedDashboard(ctx, e, cat)
	if err != nil {
		return nil, err
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(e.base + "/api/v1/auth/login")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBodyString(`{"email":"owner@saasbench.example.com","password":"` + benchPassword + `"}`)
	if err := e.client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
		return nil, fmt.Errorf("dashboard: owner login: %v %d %s", err, resp.StatusCode(), resp.Body())
	}
	var in struct{ Token string }
	if err := json.Unmarshal(resp.Body(), &in); err != nil {
		return nil, err
	}
	today := time.Now().UTC()
	gen := func(r *randSrc, b []byte) []byte {
		days := []int{7, 30, 30, 90, 365}[r.IntN(5)]
		to := today.AddDate(0, 0, -r.IntN(30))
		from := to.AddDate(0, 0, -days+1)
		b = append(b, "/api/v1/t/"...)
		b = append(b, slug...)
		b = append(b, "/analytics/dashboard?from="...)
		b = from.AppendFormat(b, time.DateOnly)
		b = append(b, "&to="...)
		return to.AppendFormat(b, time.DateOnly)
	}
	// A dashboard is opened by a tenant's staff, not by crowds of shoppers:
	// it is measured at dashboardConns concurrent users.
	o := *e.o
	o.Conns = min(o.Conns, dashboardConns)
	de := *e
	de.o = &o
	return measureGET(ctx, &de, epDashboard, e.client, e.base, gen, "Authorization", "Bearer "+strings.TrimSpace(in.Token))
}
