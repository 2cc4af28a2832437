package server_test

import (
	"context"
	"fmt"
	"testing"

	"saasmall/server/mall"
	"saasmall/server/servertest"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// goods creates an active goods product with one SKU priced in USD and CNY
// and onHand units in stock; it returns the product and SKU ids.
func goods(t *testing.T, env *servertest.Env, ten *tenants.Tenant, code string, usd int64, onHand int64) (int64, int64) {
	t.Helper()
	ctx := tenants.WithTenant(context.Background(), ten)
	p, err := env.Srv.Mall.CreateProduct(ctx, mall.ProductInput{Kind: mall.KindGoods, Name: "Widget " + code, Summary: "A fine widget",
		Category: "Widgets", Status: mall.StatusActive, Attributes: []mall.Attribute{{Key: "Color", Value: "Blue"}},
		SKUs: []mall.SKUInput{{Code: code, Name: "Standard", Prices: []mall.PriceInput{{Amount: usd, Currency: "USD"}, {Amount: usd * 7, Currency: "CNY"}},
			WeightGrams: 500, HSCode: "847160", OriginCountry: "CN"}}})
	if err != nil {
		t.Fatalf("create goods %s: %v", code, err)
	}
	if onHand > 0 {
		if _, err := env.Srv.Mall.AdjustStock(ctx, warehouse.Adjustment{SKUID: p.SKUs[0].ID, Delta: onHand, Reason: "test stock"}); err != nil {
			t.Fatalf("stock %s: %v (%#v)", code, err, err)
		}
	}
	refresh(t, env)
	return p.ID, p.SKUs[0].ID
}

// saas creates an active SaaS product with the given plans.
func saas(t *testing.T, env *servertest.Env, ten *tenants.Tenant, name string, skus ...mall.SKUInput) *mall.ProductView {
	t.Helper()
	ctx := tenants.WithTenant(context.Background(), ten)
	p, err := env.Srv.Mall.CreateProduct(ctx, mall.ProductInput{Kind: mall.KindSaaS, Name: name, Summary: name + " for teams",
		Category: "Software", Status: mall.StatusActive, SKUs: skus})
	if err != nil {
		t.Fatalf("create saas %s: %v", name, err)
	}
	refresh(t, env)
	return p
}

func refresh(t *testing.T, env *servertest.Env) {
	t.Helper()
	if err := env.Srv.Mall.Catalog.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

var addr = map[string]any{"name": "Ada Lovelace", "line1": "1 Analytical St", "city": "London", "postal_code": "N1 9GU", "country": "GB"}

func checkout(c *servertest.Client, key string, currency string) *servertest.Resp {
	return c.Do("POST", "/api/v1/checkout", map[string]any{"shipping_address": addr, "currency": currency}, "Idempotency-Key", key)
}

func addToCart(t *testing.T, c *servertest.Client, sku int64, qty int64) {
	t.Helper()
	c.Do("POST", "/api/v1/cart/items", map[string]any{"sku_id": sku, "quantity": qty}).Want(t, 201)
}

func n64(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func orderIDs(r *servertest.Resp) []int64 {
	var ids []int64
	os, _ := r.JSON["orders"].([]any)
	for _, o := range os {
		ids = append(ids, n64(o.(map[string]any)["id"]))
	}
	return ids
}

var _ = fmt.Sprint

func skuPlan(code, name string, usd int64, tier, interval string, perSeat bool, trial int, features ...string) mall.SKUInput {
	return mall.SKUInput{Code: code, Name: name, Prices: []mall.PriceInput{{Amount: usd, Currency: "USD"}},
		Plan: &mall.PlanInput{Tier: tier, Interval: interval, PerSeat: perSeat, TrialDays: trial, Features: features}}
}
