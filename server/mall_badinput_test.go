package server_test

import (
	"context"
	"fmt"
	"testing"

	"saasmall/server/mall"
	"saasmall/server/servertest"
	"saasmall/tenants"
)

// TestMallBadInput: unknown SKU, quantity 0 or 10⁶, a price or currency
// from the client, a draft product, an archived (suspended) store and a
// foreign tenant's order id each get a clear 4xx, and write nothing.
func TestMallBadInput(t *testing.T) {
	env := servertest.New(t)
	gear := env.Tenant("gearhub", "owner@gearhub.test")
	other := env.Tenant("otherco", "owner@otherco.test")
	_, sku := goods(t, env, gear, "OK-1", 1000, 10)
	_, otherSKU := goods(t, env, other, "OTHER-1", 1000, 10)
	draft, err := env.Srv.Mall.CreateProduct(tenants.WithTenant(context.Background(), gear), mall.ProductInput{Kind: mall.KindGoods, Name: "Secret draft",
		Status: mall.StatusDraft, SKUs: []mall.SKUInput{{Code: "DRAFT-1", Name: "x", Prices: []mall.PriceInput{{Amount: 100, Currency: "USD"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	refresh(t, env)
	c := env.Register("bad@example.com", "Bad Input")

	// A foreign tenant's order: another shopper's order in otherco.
	victim := env.Register("victim@example.com", "Victim")
	addToCart(t, victim, otherSKU, 1)
	vid := orderIDs(checkout(victim, "v1", "USD").Want(t, 201))[0]
	gearOwner := env.Login("owner@gearhub.test", servertest.Password, "pc")

	// Suspend otherco: its store disappears from the mall.
	op, _ := env.Srv.Auth.CreateUser(ctxBG, authRegister("op@saasmall.test", "Op"), true)
	_ = op
	operator := env.Login("op@saasmall.test", servertest.Password, "pc")
	operator.Do("PATCH", "/api/v1/tenants/otherco", map[string]any{"status": "suspended"}).Want(t, 200)
	refresh(t, env)

	before := rowCounts(t, env)
	cases := []struct {
		name   string
		c      *servertest.Client
		method string
		path   string
		body   any
		hdr    []string
		status int
		code   string
		field  string
	}{
		{"unknown sku", c, "POST", "/api/v1/cart/items", map[string]any{"sku_id": 999999, "quantity": 1}, nil, 400, "invalid_input", "sku_id"},
		{"quantity 0", c, "POST", "/api/v1/cart/items", map[string]any{"sku_id": sku, "quantity": 0}, nil, 400, "invalid_input", "quantity"},
		{"quantity 1e6", c, "POST", "/api/v1/cart/items", map[string]any{"sku_id": sku, "quantity": 1000000}, nil, 400, "invalid_input", "quantity"},
		{"negative quantity", c, "POST", "/api/v1/cart/items", map[string]any{"sku_id": sku, "quantity": -3}, nil, 400, "invalid_input", "quantity"},
		{"price from client", c, "POST", "/api/v1/cart/items", map[string]any{"sku_id": sku, "quantity": 1, "price": 1}, nil, 400, "invalid_input", "price"},
		{"currency in cart item", c, "POST", "/api/v1/cart/items", map[string]any{"sku_id": sku, "quantity": 1, "unit_price": map[string]any{"amount": 1, "currency": "USD"}}, nil, 400, "invalid_input", "unit_price"},
		{"total in checkout", c, "POST", "/api/v1/checkout", map[string]any{"currency": "USD", "total": 1}, []string{"Idempotency-Key", "bad-1"}, 400, "invalid_input", "total"},
		{"bad currency", c, "POST", "/api/v1/checkout", map[string]any{"currency": "ZZZ"}, []string{"Idempotency-Key", "bad-2"}, 400, "invalid_input", "currency"},
		{"draft product sku", c, "POST", "/api/v1/cart/items", map[string]any{"sku_id": draft.SKUs[0].ID, "quantity": 1}, nil, 400, "invalid_input", "sku_id"},
		{"draft product page", c, "GET", fmt.Sprintf("/api/v1/products/%d", draft.ID), nil, nil, 404, "not_found", ""},
		{"suspended store sku", c, "POST", "/api/v1/cart/items", map[string]any{"sku_id": otherSKU, "quantity": 1}, nil, 400, "invalid_input", "sku_id"},
		{"foreign order as shopper", c, "GET", fmt.Sprintf("/api/v1/orders/%d", vid), nil, nil, 404, "not_found", ""},
		{"pay foreign order", c, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", vid), map[string]any{"method": "sandbox"}, []string{"Idempotency-Key", "bad-3"}, 404, "not_found", ""},
		{"cancel foreign order", c, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", vid), nil, nil, 404, "not_found", ""},
		{"foreign order as staff", gearOwner, "GET", fmt.Sprintf("/api/v1/t/gearhub/orders/%d", vid), nil, nil, 404, "not_found", ""},
		{"foreign order cancel as staff", gearOwner, "POST", fmt.Sprintf("/api/v1/t/gearhub/orders/%d/cancel", vid), nil, nil, 404, "not_found", ""},
		{"foreign sku stock adjust", gearOwner, "POST", "/api/v1/t/gearhub/stock/adjustments", map[string]any{"sku_id": otherSKU, "delta": 5, "reason": "steal"}, nil, 404, "", ""},
		{"empty cart checkout", c, "POST", "/api/v1/checkout", map[string]any{"currency": "USD"}, []string{"Idempotency-Key", "bad-4"}, 409, "cart_empty", ""},
		{"bad pay method", victim, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", vid), map[string]any{"method": "bitcoin"}, []string{"Idempotency-Key", "bad-5"}, 400, "invalid_input", "method"},
		{"compare one", c, "GET", fmt.Sprintf("/api/v1/compare?ids=%d", sku), nil, nil, 400, "invalid_input", "ids"},
		{"search bad sort", c, "GET", "/api/v1/products?sort=cheapest&kind=cars", nil, nil, 400, "invalid_input", "sort"},
		{"search price without currency", c, "GET", "/api/v1/products?min_price=5", nil, nil, 400, "invalid_input", "currency"},
		{"product bad fields", gearOwner, "POST", "/api/v1/t/gearhub/products", map[string]any{"kind": "goods", "name": "", "skus": []map[string]any{{"code": "bad code!", "name": "x", "prices": []map[string]any{{"amount": -1, "currency": "usd1"}}, "plan": map[string]any{"tier": "free"}}}}, nil, 400, "invalid_input", "skus[0].code"},
	}
	for _, tc := range cases {
		r := tc.c.Do(tc.method, tc.path, tc.body, tc.hdr...)
		if r.Status != tc.status || (tc.code != "" && r.Code() != tc.code) || (tc.field != "" && r.Field(tc.field) == "") {
			t.Errorf("%s: got %s, want %d %s field %q", tc.name, r, tc.status, tc.code, tc.field)
		}
	}
	after := rowCounts(t, env)
	for k, v := range before {
		if k == "sessions" { // logins above
			continue
		}
		if after[k] != v {
			t.Errorf("table %s: %d rows before, %d after bad input", k, v, after[k])
		}
	}
	// The shopper's cart is still empty and the victim's order untouched.
	if items := c.Do("GET", "/api/v1/cart", nil).JSON["items"].([]any); len(items) != 0 {
		t.Fatalf("cart changed: %v", items)
	}
	if o := victim.Do("GET", fmt.Sprintf("/api/v1/orders/%d", vid), nil).Want(t, 200); o.JSON["status"] != "pending_payment" {
		t.Fatalf("victim's order changed: %s", o.Body)
	}
}
