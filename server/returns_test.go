package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/mall"
	"saasmall/server/servertest"
	"saasmall/tenants"
)

// returnsFixture is a tenant (13 % tax) with two goods SKUs and a plan, and
// a shopper's paid order of 3 × A, 1 × B and 2 seats of the plan.
type returnsFixture struct {
	env            *servertest.Env
	ten            *tenants.Tenant
	owner, shopper *servertest.Client
	skuA, skuB     int64
	order          int64
	lines          map[string]int64 // "A", "B", "plan" → order line id
	T              string
}

func newReturnsFixture(t *testing.T, opts ...func(*serverConfig)) *returnsFixture {
	t.Helper()
	env := servertest.New(t, opts...)
	rate := 1300
	ten, err := env.Srv.Tenants.Create(context.Background(), tenants.CreateInput{Slug: "gearhub", Name: "GearHub Inc", TaxRateBP: &rate,
		AdminEmail: "owner@gearhub.test", AdminPassword: servertest.Password, AdminName: "Owner"})
	if err != nil {
		t.Fatal(err)
	}
	f := &returnsFixture{env: env, ten: ten, T: "/api/v1/t/gearhub", lines: map[string]int64{}}
	_, f.skuA = goods(t, env, ten, "RET-A", 1000, 10)
	_, f.skuB = goods(t, env, ten, "RET-B", 2500, 5)
	plan := saas(t, env, ten, "Teamly", skuPlan("RET-TEAM", "Team", 900, mall.TierPaid, mall.IntervalMonth, true, 0, "Reports"))
	f.owner = env.Login("owner@gearhub.test", servertest.Password, "pc")
	f.shopper = env.Register("ada@example.com", "Ada")
	addToCart(t, f.shopper, f.skuA, 3)
	addToCart(t, f.shopper, f.skuB, 1)
	addToCart(t, f.shopper, plan.SKUs[0].ID, 2)
	f.order = orderIDs(checkout(f.shopper, "ret-1", "USD").Want(t, 201))[0]
	f.shopper.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", f.order), map[string]any{"method": "sandbox", "card_number": "4242424242424242"},
		"Idempotency-Key", "ret-pay-1").Want(t, 200)
	for _, l := range f.owner.Do("GET", fmt.Sprintf("%s/orders/%d", f.T, f.order), nil).Want(t, 200).JSON["lines"].([]any) {
		m := l.(map[string]any)
		switch n64(m["sku_id"]) {
		case f.skuA:
			f.lines["A"] = n64(m["id"])
		case f.skuB:
			f.lines["B"] = n64(m["id"])
		default:
			f.lines["plan"] = n64(m["id"])
		}
	}
	return f
}

func (f *returnsFixture) url(order int64) string {
	return fmt.Sprintf("%s/orders/%d/returns", f.T, order)
}

func returnBody(reason string, lines ...int64) map[string]any {
	ls := []map[string]any{}
	for i := 0; i+1 < len(lines); i += 2 {
		ls = append(ls, map[string]any{"line_id": lines[i], "quantity": lines[i+1]})
	}
	return map[string]any{"reason": reason, "lines": ls}
}

// returnRows counts what a return writes.
func returnRows(t *testing.T, env *servertest.Env) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"order_returns", "order_return_lines", "stock_moves", "outbox_events", "catalog_changes"} {
		var n int64
		if err := env.Srv.DB.Reader().Table(tbl).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	var sum int64
	env.Srv.DB.Reader().Table("stock_levels").Select("COALESCE(SUM(on_hand), 0)").Scan(&sum)
	out["on_hand"] = sum
	return out
}

// TestOrderReturns: checkout → pay → fulfil → a partial return puts the
// goods back on hand (return moves at the moving average), records the
// refund due (goods plus their share of the tax) and emits goods.returned;
// a second return beyond what is left is refused with a field error naming
// the maximum; the staff order shows the units returned per line; unpaid
// and paid orders take no returns; viewers and store managers (no
// warehouse:write) cannot record one; another tenant's order is not found;
// and no refused request writes anything.
func TestOrderReturns(t *testing.T) {
	f := newReturnsFixture(t)
	env, owner := f.env, f.owner
	url := f.url(f.order)

	// Paid, not fulfilled: no returns yet. (A pending order: below.)
	if r := owner.Do("POST", url, returnBody("damaged", f.lines["A"], 1)); r.Status != 409 || r.Code() != "order_not_returnable" {
		t.Fatalf("return of a paid order: %s", r)
	}
	owner.Do("POST", fmt.Sprintf("%s/orders/%d/fulfil", f.T, f.order), nil).Want(t, 200)
	if lvl := stockOf(t, env, f.ten, f.skuA); lvl["on_hand"] != 7 {
		t.Fatalf("stock after fulfil: %v", lvl)
	}
	o := owner.Do("GET", fmt.Sprintf("%s/orders/%d", f.T, f.order), nil).Want(t, 200)
	subtotal, tax := n64(o.JSON["subtotal"].(map[string]any)["amount"]), n64(o.JSON["tax"].(map[string]any)["amount"])
	if subtotal != 3*1000+2500+2*900 || tax != mall.MulDivHalfEven(subtotal, 1300, 10_000) {
		t.Fatalf("order totals: %s", o.Body)
	}

	// Refused requests, none of which writes anything.
	viewer := env.Member(f.ten, "viewer@gearhub.test", "viewer")
	manager := env.Member(f.ten, "manager@gearhub.test", "store_manager")
	env.Tenant("bravo", "owner@bravo.test")
	bravo := env.Login("owner@bravo.test", servertest.Password, "pc")
	second := owner.Do("POST", f.T+"/warehouses", map[string]any{"code": "EAST", "name": "East", "country": "CN"}).Want(t, 201)
	owner.Do("PATCH", fmt.Sprintf("%s/warehouses/%d", f.T, n64(second.JSON["id"])), map[string]any{"status": "closed"}).Want(t, 200)
	otherLine := f.lines["A"] + 1000
	before := returnRows(t, env)
	for _, tc := range []struct {
		name   string
		c      *servertest.Client
		path   string
		body   any
		status int
		code   string
		fields map[string]string
	}{
		{"viewer", viewer, url, returnBody("damaged", f.lines["A"], 1), 403, "forbidden", nil},
		{"store manager", manager, url, returnBody("damaged", f.lines["A"], 1), 403, "forbidden", nil},
		{"another tenant", bravo, fmt.Sprintf("/api/v1/t/bravo/orders/%d/returns", f.order), returnBody("damaged", f.lines["A"], 1), 404, "not_found", nil},
		{"unknown order", owner, f.url(999999), returnBody("damaged", f.lines["A"], 1), 404, "not_found", nil},
		{"no reason, no lines", owner, url, map[string]any{"reason": "  ", "warehouse_id": -1}, 400, "invalid_input",
			map[string]string{"reason": "required", "lines": "required", "warehouse_id": "invalid_id"}},
		{"reason too long", owner, url, returnBody(strings.Repeat("é", 201), f.lines["A"], 1), 400, "invalid_input", map[string]string{"reason": "too_long"}},
		{"bad lines", owner, url, returnBody("damaged", f.lines["A"], 0, f.lines["A"], 1, 0, 1), 400, "invalid_input",
			map[string]string{"lines[0].quantity": "must_be_positive", "lines[1].line_id": "duplicate", "lines[2].line_id": "required"}},
		{"lines of the order", owner, url, returnBody("damaged", otherLine, 1, f.lines["plan"], 1, f.lines["A"], 4, f.lines["B"], 1), 400, "invalid_input",
			map[string]string{"lines[0].line_id": "not_in_order", "lines[1].line_id": "not_goods", "lines[2].quantity": "out_of_range"}},
		{"unknown warehouse", owner, url, map[string]any{"warehouse_id": 999999, "reason": "x", "lines": []map[string]any{{"line_id": f.lines["A"], "quantity": 1}}},
			404, "not_found", map[string]string{"warehouse_id": "not_found"}},
		{"closed warehouse", owner, url, map[string]any{"warehouse_id": n64(second.JSON["id"]), "reason": "x", "lines": []map[string]any{{"line_id": f.lines["A"], "quantity": 1}}},
			400, "invalid_input", map[string]string{"warehouse_id": "warehouse_closed"}},
		{"unknown field", owner, url, map[string]any{"reason": "x", "lines": []map[string]any{{"line_id": f.lines["A"], "quantity": 1}}, "refund": 5}, 400, "invalid_input",
			map[string]string{"refund": "unknown_field"}},
	} {
		r := tc.c.Do("POST", tc.path, tc.body)
		if r.Status != tc.status || r.Code() != tc.code {
			t.Errorf("%s: %s, want %d %s", tc.name, r, tc.status, tc.code)
			continue
		}
		for field, code := range tc.fields {
			if got := r.Field(field); got != code {
				t.Errorf("%s: field %s = %q, want %q (%s)", tc.name, field, got, code, r.Body)
			}
		}
	}
	// The maximum is in the message, in both languages.
	r := owner.Do("POST", url+"?lang=zh-Hans", returnBody("damaged", f.lines["A"], 4))
	var body struct {
		Error struct {
			Fields map[string]struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || !strings.Contains(body.Error.Fields["lines[0].quantity"].Message, "3") {
		t.Errorf("out of range, zh-Hans: %s", r.Body)
	}
	viewer.Do("GET", url, nil).Want(t, 200) // viewers read returns
	bravo.Do("GET", fmt.Sprintf("/api/v1/t/bravo/orders/%d/returns", f.order), nil).Want(t, 404)
	if after := returnRows(t, env); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("refused returns wrote: before %v, after %v", before, after)
	}

	// A partial return by a warehouse clerk: 2 of the 3 A.
	clerk := env.Member(f.ten, "clerk@gearhub.test", "warehouse_clerk")
	r = clerk.Do("POST", url, returnBody(" Box crushed ", f.lines["A"], 2)).Want(t, 201)
	first := r.JSON
	wantTax := mall.MulDivHalfEven(2000, tax, subtotal)
	if n64(first["order_id"]) != f.order || first["reason"] != "Box crushed" || n64(first["actor_user_id"]) == 0 ||
		n64(first["subtotal"].(map[string]any)["amount"]) != 2000 || n64(first["tax"].(map[string]any)["amount"]) != wantTax ||
		n64(first["refund_due"].(map[string]any)["amount"]) != 2000+wantTax || first["refund_due"].(map[string]any)["currency"] != "USD" {
		t.Fatalf("return: %s", r.Body)
	}
	if ls := first["lines"].([]any); len(ls) != 1 || n64(ls[0].(map[string]any)["line_id"]) != f.lines["A"] || n64(ls[0].(map[string]any)["quantity"]) != 2 ||
		n64(ls[0].(map[string]any)["unit_price"].(map[string]any)["amount"]) != 1000 {
		t.Fatalf("return lines: %s", r.Body)
	}
	if lvl := stockOf(t, env, f.ten, f.skuA); lvl["on_hand"] != 9 || lvl["available"] != 9 {
		t.Fatalf("stock after the return: %v", lvl)
	}
	mv := owner.Do("GET", fmt.Sprintf("%s/stock/moves?kind=return&sku_id=%d", f.T, f.skuA), nil).Want(t, 200)
	if items := mv.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["ref"] != fmt.Sprintf("order:%d", f.order) ||
		n64(items[0].(map[string]any)["delta_on_hand"]) != 2 || items[0].(map[string]any)["reason"] != "Box crushed" {
		t.Fatalf("return moves: %s", mv.Body)
	}
	var evs []string
	env.Srv.DB.Reader().Table("outbox_events").Where("topic = ?", "goods.returned").Pluck("payload", &evs)
	if len(evs) != 1 {
		t.Fatalf("%d goods.returned events", len(evs))
	}
	var ev struct {
		OrderID   int64 `json:"order_id"`
		ReturnID  int64 `json:"return_id"`
		Lines     []struct{ LineID, Quantity int64 }
		RefundDue mall.Money `json:"refund_due"`
	}
	if err := json.Unmarshal([]byte(evs[0]), &ev); err != nil || ev.OrderID != f.order || ev.ReturnID != n64(first["id"]) ||
		len(ev.Lines) != 1 || ev.RefundDue != (mall.Money{Amount: 2000 + wantTax, Currency: "USD"}) {
		t.Fatalf("goods.returned = %s (%v)", evs[0], err)
	}

	// A second return beyond the one A left: refused, Max 1, nothing written.
	before = returnRows(t, env)
	r = owner.Do("POST", url, returnBody("more", f.lines["A"], 2, f.lines["B"], 1))
	if r.Status != 400 || r.Field("lines[0].quantity") != "out_of_range" || r.Field("lines[1].quantity") != "" ||
		!strings.Contains(string(r.Body), "between 1 and 1") {
		t.Fatalf("return beyond the rest: %s", r)
	}
	if after := returnRows(t, env); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a refused return wrote: before %v, after %v", before, after)
	}
	// The rest, after the order is completed: the tax shares add up.
	owner.Do("POST", fmt.Sprintf("%s/orders/%d/complete", f.T, f.order), nil).Want(t, 200)
	r = owner.Do("POST", url, returnBody("more", f.lines["A"], 1, f.lines["B"], 1)).Want(t, 201)
	if got, want := n64(r.JSON["tax"].(map[string]any)["amount"]), mall.MulDivHalfEven(5500, tax, subtotal)-wantTax; got != want {
		t.Fatalf("second return tax %d, want %d: %s", got, want, r.Body)
	}
	if r := owner.Do("POST", url, returnBody("again", f.lines["A"], 1)); r.Status != 400 || r.Field("lines[0].quantity") != "fully_returned" {
		t.Fatalf("return of a fully returned line: %s", r)
	}
	if lvl := stockOf(t, env, f.ten, f.skuB); lvl["on_hand"] != 5 {
		t.Fatalf("B after its return: %v", lvl)
	}

	// The order's returns and its lines' returned units.
	list := owner.Do("GET", url, nil).Want(t, 200).JSON["items"].([]any)
	if len(list) != 2 || n64(list[0].(map[string]any)["id"]) != n64(first["id"]) || len(list[1].(map[string]any)["lines"].([]any)) != 2 {
		t.Fatalf("returns: %v", list)
	}
	returned := map[int64]int64{}
	for _, l := range owner.Do("GET", fmt.Sprintf("%s/orders/%d", f.T, f.order), nil).Want(t, 200).JSON["lines"].([]any) {
		m := l.(map[string]any)
		returned[n64(m["id"])] = n64(m["quantity_returned"])
	}
	if returned[f.lines["A"]] != 3 || returned[f.lines["B"]] != 1 || returned[f.lines["plan"]] != 0 {
		t.Fatalf("returned per line: %v", returned)
	}
	// The shopper's own view of the order is unchanged (no returned units).
	if l := f.shopper.Do("GET", fmt.Sprintf("/api/v1/orders/%d", f.order), nil).Want(t, 200).JSON["lines"].([]any)[0].(map[string]any); l["quantity_returned"] != nil {
		t.Fatalf("shopper's order line: %v", l)
	}

	// An unpaid order takes no returns.
	addToCart(t, f.shopper, f.skuA, 1)
	pending := orderIDs(checkout(f.shopper, "ret-2", "USD").Want(t, 201))[0]
	if r := owner.Do("POST", f.url(pending), returnBody("x", f.lines["A"], 1)); r.Status != 409 || r.Code() != "order_not_returnable" {
		t.Fatalf("return of an unpaid order: %s", r)
	}
}

// TestConcurrentReturns: ten returns of one unit each of a line of 3 at
// once: exactly 3 are recorded, the others are told what is left (SQLite
// serializes the writers; PostgreSQL locks the order row).
func TestConcurrentReturns(t *testing.T) {
	f := newReturnsFixture(t, servertest.WithRealClock())
	f.owner.Do("POST", fmt.Sprintf("%s/orders/%d/fulfil", f.T, f.order), nil).Want(t, 200)
	ctx := actor.With(tenants.WithTenant(context.Background(), f.ten), &actor.Actor{UserID: 1})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	var odd []error
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.env.Srv.Mall.RecordReturn(ctx, f.order, mall.ReturnInput{Reason: "rush", Lines: []mall.ReturnLineInput{{LineID: f.lines["A"], Quantity: 1}}})
			mu.Lock()
			defer mu.Unlock()
			switch c := apperr.As(err); {
			case err == nil:
				ok++
			case c.Kind == apperr.KindInvalid && (c.Fields["lines[0].quantity"].Code == "fully_returned" || c.Fields["lines[0].quantity"].Code == "out_of_range"):
				refused++
			default:
				odd = append(odd, err)
			}
		}()
	}
	wg.Wait()
	if ok != 3 || refused != 7 || len(odd) != 0 {
		t.Fatalf("%d returns recorded, %d refused, unexpected %v", ok, refused, odd)
	}
	if lvl := stockOf(t, f.env, f.ten, f.skuA); lvl["on_hand"] != 10 {
		t.Fatalf("stock after the returns: %v", lvl)
	}
}
