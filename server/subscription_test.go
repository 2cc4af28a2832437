package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"saasmall/server"
	"saasmall/server/servertest"
)

// TestSubscriptionLifecycle walks trial → active → seat change with
// proration → renewal → cancel at period end, on a fake clock.
func TestSubscriptionLifecycle(t *testing.T) {
	// Months pass: sessions must outlive them.
	env := servertest.New(t, func(c *server.Config) { c.Auth.IdleTTL, c.Auth.AbsoluteTTL = 365*24*time.Hour, 730*24*time.Hour })
	cloud := env.Tenant("cloudnine", "owner@cloudnine.test")
	p := saas(t, env, cloud, "Helpdesk",
		skuPlan("HD-TEAM", "Team", 3000, "paid", "month", true, 14, "Tickets"),
		skuPlan("HD-PRO", "Pro", 6000, "paid", "month", true, 0, "Tickets", "SLA"),
		skuPlan("HD-FREE", "Free", 0, "free", "month", false, 0, "Tickets"),
		skuPlan("HD-LITE", "Lite", 1500, "paid", "month", true, 0, "Tickets"))
	c := env.Register("team@example.com", "Team Lead")
	ctx := context.Background()
	renew := func() {
		t.Helper()
		if _, err := env.Srv.Mall.RenewSubscriptions(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sub := func() map[string]any {
		t.Helper()
		items := c.Do("GET", "/api/v1/subscriptions", nil).Want(t, 200).JSON["items"].([]any)
		for _, it := range items {
			if m := it.(map[string]any); n64(m["sku_id"]) != p.SKUs[2].ID {
				return m
			}
		}
		t.Fatal("no paid subscription")
		return nil
	}
	pay := func(orderID int64, key string) {
		t.Helper()
		c.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", orderID), map[string]any{"method": "sandbox"}, "Idempotency-Key", key).Want(t, 200)
	}

	// 1. Checkout 4 seats of a plan with a 14-day trial: nothing to pay, trialing.
	addToCart(t, c, p.SKUs[0].ID, 4)
	addToCart(t, c, p.SKUs[2].ID, 1) // and the free plan: active at once, no payment
	r := checkout(c, "sub-1", "USD").Want(t, 201)
	for _, o := range r.JSON["orders"].([]any) {
		if m := o.(map[string]any); m["status"] != "paid" || n64(m["total"].(map[string]any)["amount"]) != 0 {
			t.Fatalf("trial/free checkout should be paid at 0: %v", m)
		}
	}
	s := sub()
	if s["status"] != "trialing" || n64(s["seats"]) != 4 || s["license_key"] == "" {
		t.Fatalf("after checkout: %v", s)
	}
	id := n64(s["id"])

	// 2. The renewal job raises the first period's order 3 days before the trial ends.
	env.Clock.Advance(10 * 24 * time.Hour)
	renew()
	if s = sub(); s["renewal_order_id"] != nil {
		t.Fatalf("renewal raised too early: %v", s)
	}
	env.Clock.Advance(24*time.Hour + time.Minute) // 11 days in: 3 days left
	renew()
	s = sub()
	if s["renewal_order_id"] == nil {
		t.Fatalf("no renewal order 3 days before the trial ends: %v", s)
	}
	ord := c.Do("GET", fmt.Sprintf("/api/v1/orders/%d", n64(s["renewal_order_id"])), nil).Want(t, 200)
	if n64(ord.JSON["total"].(map[string]any)["amount"]) != 4*3000 || ord.JSON["kind"] != "renewal" {
		t.Fatalf("first period order: %s", ord.Body)
	}
	pay(n64(s["renewal_order_id"]), "renew-1")
	s = sub()
	if s["status"] != "active" {
		t.Fatalf("after paying the first period: %v", s)
	}
	periodStart, _ := time.Parse(time.RFC3339, s["current_period_start"].(string))
	periodEnd, _ := time.Parse(time.RFC3339, s["current_period_end"].(string))
	periodDays := int64(periodEnd.Sub(periodStart) / (24 * time.Hour))

	// 3. Add 2 seats 10 days into the period: prorated to the day, half-even.
	env.Clock.Advance(3*24*time.Hour + 10*24*time.Hour) // trial end + 10 days
	left := int64(periodEnd.Sub(env.Clock.Now()) / (24 * time.Hour))
	ch := c.Do("PATCH", fmt.Sprintf("/api/v1/subscriptions/%d/seats", id), map[string]any{"seats": 6}).Want(t, 200)
	order := ch.JSON["order"].(map[string]any)
	wantAmount := halfEven(2*3000*left, periodDays)
	if got := n64(order["subtotal"].(map[string]any)["amount"]); got != wantAmount {
		t.Fatalf("proration = %d, want %d (2 seats × 30.00 × %d/%d days)", got, wantAmount, left, periodDays)
	}
	if n64(ch.JSON["subscription"].(map[string]any)["seats"]) != 4 {
		t.Fatal("seats changed before the proration was paid")
	}
	pay(n64(order["id"]), "seats-1")
	if s = sub(); n64(s["seats"]) != 6 {
		t.Fatalf("seats after paying: %v", s)
	}
	// Fewer seats: at once, credited to the next renewal.
	c.Do("PATCH", fmt.Sprintf("/api/v1/subscriptions/%d/seats", id), map[string]any{"seats": 5}).Want(t, 200)
	s = sub()
	credit := n64(s["credit"].(map[string]any)["amount"])
	if n64(s["seats"]) != 5 || credit != halfEven(3000*left, periodDays) {
		t.Fatalf("after removing a seat: seats %v credit %d", s["seats"], credit)
	}

	// 4. Renewal: 3 days before the period ends, an order for 5 seats less the credit.
	env.Clock.Advance(periodEnd.Sub(env.Clock.Now()) - 3*24*time.Hour + time.Minute)
	renew()
	s = sub()
	ord = c.Do("GET", fmt.Sprintf("/api/v1/orders/%d", n64(s["renewal_order_id"])), nil).Want(t, 200)
	if got := n64(ord.JSON["subtotal"].(map[string]any)["amount"]); got != 5*3000-credit {
		t.Fatalf("renewal subtotal %d, want %d", got, 5*3000-credit)
	}
	pay(n64(s["renewal_order_id"]), "renew-2")
	s = sub()
	newEnd, _ := time.Parse(time.RFC3339, s["current_period_end"].(string))
	if !newEnd.After(periodEnd) || s["status"] != "active" || n64(s["credit"].(map[string]any)["amount"]) != 0 {
		t.Fatalf("after renewal: %v", s)
	}

	// A cheaper plan applies at once; the unused difference is credited.
	env.Clock.Advance(24 * time.Hour)
	sw := c.Do("POST", fmt.Sprintf("/api/v1/subscriptions/%d/plan", id), map[string]any{"sku_id": p.SKUs[3].ID}).Want(t, 200)
	if sw.JSON["order"] != nil {
		t.Fatalf("a downgrade raised an order: %s", sw.Body)
	}
	if s = sub(); n64(s["sku_id"]) != p.SKUs[3].ID || n64(s["credit"].(map[string]any)["amount"]) <= 0 {
		t.Fatalf("after switching to the cheaper plan: %v", s)
	}

	// 5. Cancel at period end: still active until then, cancelled after.
	c.Do("POST", fmt.Sprintf("/api/v1/subscriptions/%d/cancel", id), nil).Want(t, 200)
	renew()
	if s = sub(); s["status"] != "active" || s["cancel_at_period_end"] != true {
		t.Fatalf("after cancel request: %v", s)
	}
	env.Clock.Advance(newEnd.Sub(env.Clock.Now()) + time.Minute)
	renew()
	if s = sub(); s["status"] != "cancelled" {
		t.Fatalf("after the period ended: %v", s)
	}
	if r := c.Do("PATCH", fmt.Sprintf("/api/v1/subscriptions/%d/seats", id), map[string]any{"seats": 9}); r.Status != 409 || r.Code() != "subscription_cancelled" {
		t.Fatalf("change a cancelled subscription: %s", r)
	}
}

// halfEven is a*1/b rounded half to even, as the mall rounds proration.
func halfEven(a, b int64) int64 {
	q, r := a/b, a%b
	switch {
	case 2*r > b, 2*r == b && q%2 == 1:
		q++
	}
	return q
}
