package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"saasmall/server"
	"saasmall/server/servertest"
	"saasmall/tenants"
)

// TestCheckoutNeverOversells: 200 shoppers check out the last 50 units of a
// SKU at once (some buying 2) over real HTTP: exactly 50 units are sold,
// every other shopper gets a clear out_of_stock naming the SKU, and stock
// never goes negative.
func TestCheckoutNeverOversells(t *testing.T) {
	t.Run("one warehouse", func(t *testing.T) { neverOversells(t, nil) })
	// 50 units over three warehouses, one in the shoppers' country (GB):
	// lines are taken whole where they fit and split where they do not.
	t.Run("three warehouses", func(t *testing.T) { neverOversells(t, []int64{20, 15, 15}) })
}

func neverOversells(t *testing.T, split []int64) {
	env := servertest.New(t, servertest.WithRealClock())
	env.Listen()
	ten := env.Tenant("gearhub", "owner@gearhub.test")
	var sku int64
	if split == nil {
		_, sku = goods(t, env, ten, "LAST-50", 1000, 50)
	} else {
		_, sku = goods(t, env, ten, "LAST-50", 1000, split[0])
		owner := env.Login("owner@gearhub.test", servertest.Password, "pc")
		for i, country := range []string{"GB", "DE"} {
			w := owner.Do("POST", "/api/v1/t/gearhub/warehouses", map[string]any{"code": "W" + country, "name": country, "country": country}).Want(t, 201)
			owner.Do("POST", "/api/v1/t/gearhub/stock/adjustments", map[string]any{"sku_id": sku, "warehouse_id": n64(w.JSON["id"]),
				"delta": split[i+1], "reason": "received"}).Want(t, 201)
		}
	}

	const shoppers = 200
	clients := make([]*servertest.Client, shoppers)
	want := make([]int64, shoppers)
	for i := range clients {
		clients[i] = env.Register(fmt.Sprintf("s%d@example.com", i), "Shopper")
		want[i] = 1 + int64(i%3/2) // every third shopper wants 2
		addToCart(t, clients[i], sku, want[i])
	}
	var sold, refused, other atomic.Int64
	var mu sync.Mutex
	var odd []string
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := checkout(c, fmt.Sprintf("k-%d", i), "USD")
			switch {
			case r.Status == 201:
				sold.Add(want[i])
			case r.Status == 409 && r.Code() == "out_of_stock" && r.Field(fmt.Sprintf("sku:%d", sku)) == "out_of_stock" && strings.Contains(r.Message(), fmt.Sprint(sku)):
				refused.Add(1)
			default:
				other.Add(1)
				mu.Lock()
				odd = append(odd, r.String())
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if other.Load() != 0 {
		t.Fatalf("%d unexpected answers, e.g. %v", other.Load(), odd[:min(3, len(odd))])
	}
	if sold.Load() != 50 {
		t.Fatalf("sold %d units, want exactly 50 (refused %d)", sold.Load(), refused.Load())
	}
	lvl := stockOf(t, env, ten, sku)
	if lvl["on_hand"] != 50 || lvl["reserved"] != 50 || lvl["available"] != 0 {
		t.Fatalf("stock after the rush: %v", lvl)
	}
	t.Logf("sold 50 units to %d shoppers, refused %d", shoppers-int(refused.Load()), refused.Load())
	// Every level's reserved count is the sum of its held reservations.
	var bad []string
	err := env.Srv.DB.Reader().Raw(`SELECT l.warehouse_id, l.reserved, COALESCE(SUM(r.qty), 0) AS held FROM stock_levels l
		LEFT JOIN stock_reservations r ON r.warehouse_id = l.warehouse_id AND r.sku_id = l.sku_id AND r.status = 'held'
		WHERE l.sku_id = ? GROUP BY l.warehouse_id, l.reserved HAVING l.reserved <> COALESCE(SUM(r.qty), 0)`, sku).Scan(&bad).Error
	if err != nil || len(bad) != 0 {
		t.Fatalf("reserved differs from held reservations: %v %v", bad, err)
	}
}

func stockOf(t *testing.T, env *servertest.Env, ten *tenants.Tenant, sku int64) map[string]int64 {
	t.Helper()
	owner := env.Login("owner@"+ten.Slug+".test", servertest.Password, "pc")
	r := owner.Do("GET", fmt.Sprintf("/api/v1/t/%s/stock?sku_ids=%d", ten.Slug, sku), nil).Want(t, 200)
	items := r.JSON["items"].([]any)
	out := map[string]int64{}
	for _, it := range items {
		m := it.(map[string]any)
		for _, k := range []string{"on_hand", "reserved", "available"} {
			out[k] += n64(m[k])
		}
	}
	return out
}

// TestCheckoutIdempotency: a replay returns the same orders (also after a
// restart), 100 identical requests at once make one set of orders, and the
// same key with another body is 422.
func TestCheckoutIdempotency(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "mall.db")
	env := servertest.New(t, func(c *server.Config) { c.DB = dsn })
	env.Listen()
	ten := env.Tenant("gearhub", "owner@gearhub.test")
	_, sku := goods(t, env, ten, "IDEM", 2500, 500)
	c := env.Register("idem@example.com", "Idem")
	addToCart(t, c, sku, 2)

	var wg sync.WaitGroup
	bodies := make([]*servertest.Resp, 100)
	for i := range bodies {
		wg.Add(1)
		go func() { defer wg.Done(); bodies[i] = checkout(c, "same-key", "USD") }()
	}
	wg.Wait()
	var first string
	for _, r := range bodies {
		switch {
		case r.Status == 201:
			if first == "" {
				first = string(r.Body)
			} else if string(r.Body) != first {
				t.Fatalf("two different bodies for one key:\n%s\n%s", first, r.Body)
			}
		case r.Status == 409 && r.Code() == "idempotency_in_flight":
		default:
			t.Fatalf("concurrent replay: %s", r)
		}
	}
	if first == "" {
		t.Fatal("no request succeeded")
	}
	orders := c.Do("GET", "/api/v1/orders", nil).Want(t, 200)
	if n64(orders.JSON["total"]) != 1 {
		t.Fatalf("100 identical checkouts made %d orders", n64(orders.JSON["total"]))
	}
	if lvl := stockOf(t, env, ten, sku); lvl["reserved"] != 2 {
		t.Fatalf("reserved %d units, want 2", lvl["reserved"])
	}
	// Same key, another body: 422.
	if r := checkout(c, "same-key", "CNY"); r.Status != 422 || r.Code() != "idempotency_key_reused" {
		t.Fatalf("reused key: %s", r)
	}
	// No key: 400.
	if r := c.Do("POST", "/api/v1/checkout", map[string]any{"shipping_address": addr, "currency": "USD"}); r.Status != 400 || r.Code() != "idempotency_key_required" {
		t.Fatalf("no key: %s", r)
	}

	// Restart on the same database: the replay is the same.
	token := c.Token
	if err := env.Srv.Close(); err != nil {
		t.Fatal(err)
	}
	env2 := servertest.New(t, func(cfg *server.Config) { cfg.DB = dsn })
	c2 := &servertest.Client{Env: env2, Token: token}
	if r := checkout(c2, "same-key", "USD"); r.Status != 201 || string(r.Body) != first {
		t.Fatalf("replay after restart: %s\nwant %s", r, first)
	}
	// The key is per account: another shopper may use the same key.
	other := env2.Register("other@example.com", "Other")
	addToCart(t, other, sku, 1)
	if r := checkout(other, "same-key", "USD"); r.Status != 201 || string(r.Body) == first {
		t.Fatalf("other account's same key: %s", r)
	}
}

// TestCheckoutSplitsPerStoreAndPays walks the happy path over the API.
func TestCheckoutSplitsPerStoreAndPays(t *testing.T) {
	env := servertest.New(t)
	gear := env.Tenant("gearhub", "owner@gearhub.test")
	cloud := env.Tenant("cloudnine", "owner@cloudnine.test")
	tax := 1300
	_ = tax
	gp, sku := goods(t, env, gear, "K8", 8900, 10)
	p := saas(t, env, cloud, "CRM", skuPlan("CRM-TEAM", "Team", 1200, "paid", "month", true, 0))
	shopper := env.Register("buyer@example.com", "Buyer")
	shopper.Source = "applet"
	addToCart(t, shopper, sku, 2)
	addToCart(t, shopper, p.SKUs[0].ID, 5)
	cart := shopper.Do("GET", "/api/v1/cart?currency=USD", nil).Want(t, 200)
	if n64(cart.JSON["subtotal"].(map[string]any)["amount"]) != 2*8900+5*1200 {
		t.Fatalf("cart subtotal: %s", cart.Body)
	}
	r := checkout(shopper, "k1", "USD").Want(t, 201)
	ids := orderIDs(r)
	if len(ids) != 2 {
		t.Fatalf("want one order per store: %s", r.Body)
	}
	for _, o := range r.JSON["orders"].([]any) {
		m := o.(map[string]any)
		if m["client_source"] != "applet" || m["status"] != "pending_payment" {
			t.Fatalf("order: %v", m)
		}
		store := m["store"].(map[string]any)["slug"]
		total := n64(m["total"].(map[string]any)["amount"])
		switch store {
		case "gearhub": // 17800 + 0 tax + 800 shipping
			if total != 17800+800 {
				t.Fatalf("gearhub total %d", total)
			}
		case "cloudnine":
			if total != 6000 {
				t.Fatalf("cloudnine total %d", total)
			}
		}
	}
	// The cart is empty now.
	if c := shopper.Do("GET", "/api/v1/cart", nil); len(c.JSON["items"].([]any)) != 0 {
		t.Fatalf("cart after checkout: %s", c.Body)
	}
	// Pay: declined card, then a good one; paying twice with another key is already_paid.
	if r := shopper.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", ids[0]), map[string]any{"method": "sandbox", "card_number": "4000 0000 0000 0002"}, "Idempotency-Key", "p0"); r.Status != 402 || r.Code() != "payment_declined" {
		t.Fatalf("declined: %s", r)
	}
	for _, id := range ids {
		pr := shopper.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), map[string]any{"method": "sandbox", "card_number": "4242424242424242"}, "Idempotency-Key", fmt.Sprintf("p%d", id)).Want(t, 200)
		if pr.JSON["order"].(map[string]any)["status"] != "paid" {
			t.Fatalf("pay: %s", pr.Body)
		}
		// Replay: same answer.
		again := shopper.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), map[string]any{"method": "sandbox", "card_number": "4242424242424242"}, "Idempotency-Key", fmt.Sprintf("p%d", id)).Want(t, 200)
		if string(again.Body) != string(pr.Body) {
			t.Fatal("payment replay differs")
		}
		if r := shopper.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), map[string]any{"method": "sandbox"}, "Idempotency-Key", "other"+fmt.Sprint(id)); r.Status != 409 || r.Code() != "already_paid" {
			t.Fatalf("pay twice: %s", r)
		}
	}
	// Sales counts follow from the count_sales job, once per order however
	// often it runs.
	owner := env.Login("owner@gearhub.test", servertest.Password, "pc")
	salesOf := func() int64 {
		return n64(owner.Do("GET", fmt.Sprintf("/api/v1/t/gearhub/products/%d", gp), nil).Want(t, 200).JSON["sales_count"])
	}
	if n := salesOf(); n != 0 {
		t.Fatalf("sales before the job: %d", n)
	}
	for range 2 {
		if _, err := env.Srv.Mall.CountSales(context.Background(), 1); err != nil { // one order per run
			t.Fatal(err)
		}
	}
	if n, err := env.Srv.Mall.CountSales(context.Background(), 100); err != nil || n != 0 {
		t.Fatalf("third count: %d orders, %v", n, err)
	}
	if n := salesOf(); n != 2 {
		t.Fatalf("sales after the job: %d, want 2", n)
	}
	// A subscription for the SaaS line, with 5 seats.
	subs := shopper.Do("GET", "/api/v1/subscriptions", nil).Want(t, 200).JSON["items"].([]any)
	if len(subs) != 1 || n64(subs[0].(map[string]any)["seats"]) != 5 || subs[0].(map[string]any)["status"] != "active" {
		t.Fatalf("subscriptions: %v", subs)
	}
	// Staff of gearhub see their order with its channel; not cloudnine's.
	list := owner.Do("GET", "/api/v1/t/gearhub/orders?client_source=applet", nil).Want(t, 200)
	if n64(list.JSON["total"]) != 1 {
		t.Fatalf("staff orders: %s", list.Body)
	}
	for _, id := range ids {
		r := owner.Do("GET", fmt.Sprintf("/api/v1/t/gearhub/orders/%d", id), nil)
		if r.Status != 200 && r.Status != 404 {
			t.Fatalf("staff order: %s", r)
		}
	}
	// Fulfil takes the goods out of stock.
	gid := n64(list.JSON["items"].([]any)[0].(map[string]any)["id"])
	owner.Do("POST", fmt.Sprintf("/api/v1/t/gearhub/orders/%d/fulfil", gid), nil).Want(t, 200)
	if lvl := stockOf(t, env, gear, sku); lvl["on_hand"] != 8 || lvl["reserved"] != 0 {
		t.Fatalf("stock after fulfil: %v", lvl)
	}
	_ = context.Background()
}

// TestUnpaidOrderExpires: an unpaid order's reservation runs out after 15
// minutes; the expiry job cancels the order and frees the stock, and paying
// it then is refused.
func TestUnpaidOrderExpires(t *testing.T) {
	env := servertest.New(t)
	ten := env.Tenant("gearhub", "owner@gearhub.test")
	_, sku := goods(t, env, ten, "EXP-1", 1000, 3)
	c := env.Register("late@example.com", "Late Payer")
	addToCart(t, c, sku, 3)
	id := orderIDs(checkout(c, "e1", "USD").Want(t, 201))[0]
	if lvl := stockOf(t, env, ten, sku); lvl["available"] != 0 {
		t.Fatalf("not reserved: %v", lvl)
	}
	ctx := context.Background()
	env.Clock.Advance(14 * time.Minute)
	if n, err := env.Srv.Mall.ExpireOrders(ctx, 100); err != nil || n != 0 {
		t.Fatalf("expired too early: %d %v", n, err)
	}
	env.Clock.Advance(2 * time.Minute)
	if n, err := env.Srv.Mall.ExpireOrders(ctx, 100); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	o := c.Do("GET", fmt.Sprintf("/api/v1/orders/%d", id), nil).Want(t, 200)
	if o.JSON["status"] != "cancelled" || o.JSON["cancel_reason"] != "expired" {
		t.Fatalf("after expiry: %s", o.Body)
	}
	if lvl := stockOf(t, env, ten, sku); lvl["available"] != 3 || lvl["reserved"] != 0 {
		t.Fatalf("stock not released: %v", lvl)
	}
	if r := c.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), map[string]any{"method": "sandbox"}, "Idempotency-Key", "late"); r.Status != 409 || r.Code() != "order_cancelled" {
		t.Fatalf("paying an expired order: %s", r)
	}
	// The cancellation is in the outbox.
	var n int64
	env.Srv.DB.Reader().Table("outbox_events").Where("topic = ?", "order.cancelled").Count(&n)
	if n != 1 {
		t.Fatalf("%d order.cancelled events", n)
	}
}

// TestCheckoutOneCartOnce: one cart checked out twice at once under two
// keys (two devices) makes one order; the other checkout is told that the
// cart changed (or is empty), and nothing else is written.
func TestCheckoutOneCartOnce(t *testing.T) {
	env := servertest.New(t)
	env.Listen()
	ten := env.Tenant("gearhub", "owner@gearhub.test")
	_, sku := goods(t, env, ten, "TWICE", 1500, 50)
	c := env.Register("twice@example.com", "Twice")
	for round := range 5 {
		addToCart(t, c, sku, 1)
		var wg sync.WaitGroup
		rs := make([]*servertest.Resp, 4)
		for i := range rs {
			wg.Go(func() { rs[i] = checkout(c, fmt.Sprintf("r%d-k%d", round, i), "USD") })
		}
		wg.Wait()
		ok := 0
		for _, r := range rs {
			switch {
			case r.Status == 201:
				ok++
			case r.Status == 409 && (r.Code() == "cart_changed" || r.Code() == "cart_empty"):
			default:
				t.Fatalf("round %d: %s", round, r)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d checkouts of one cart succeeded", round, ok)
		}
	}
	orders := c.Do("GET", "/api/v1/orders", nil).Want(t, 200)
	if n64(orders.JSON["total"]) != 5 {
		t.Fatalf("%d orders, want 5", n64(orders.JSON["total"]))
	}
	if lvl := stockOf(t, env, ten, sku); lvl["reserved"] != 5 {
		t.Fatalf("reserved %d, want 5", lvl["reserved"])
	}
}

// TestPayRightAfterCheckout: the payment of an order just placed uses the
// order as placed (kept in memory), which must still answer as the
// database would: another shopper cannot pay it, a cancelled one is
// refused, and an order paid once is not paid again.
func TestPayRightAfterCheckout(t *testing.T) {
	env := servertest.New(t)
	ten := env.Tenant("gearhub", "owner@gearhub.test")
	_, sku := goods(t, env, ten, "NOW-1", 1000, 10)
	c := env.Register("quick@example.com", "Quick Payer")
	other := env.Register("other@example.com", "Other Shopper")
	pay := func(cl *servertest.Client, id int64, key string) *servertest.Resp {
		return cl.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), map[string]any{"method": "sandbox"}, "Idempotency-Key", key)
	}

	addToCart(t, c, sku, 1)
	id := orderIDs(checkout(c, "q1", "USD").Want(t, 201))[0]
	pay(other, id, "o1").Want(t, 404)
	r := pay(c, id, "p1").Want(t, 200)
	if o := r.JSON["order"].(map[string]any); o["status"] != "paid" || n64(o["id"]) != id || len(o["lines"].([]any)) != 1 {
		t.Fatalf("paid right away: %s", r.Body)
	}
	if r := pay(c, id, "p2"); r.Status != 409 || r.Code() != "already_paid" {
		t.Fatalf("paying twice: %s", r)
	}

	addToCart(t, c, sku, 2)
	id = orderIDs(checkout(c, "q2", "USD").Want(t, 201))[0]
	c.Do("POST", fmt.Sprintf("/api/v1/orders/%d/cancel", id), nil).Want(t, 200)
	if r := pay(c, id, "p3"); r.Status != 409 || r.Code() != "order_cancelled" {
		t.Fatalf("paying a cancelled order: %s", r)
	}
	if lvl := stockOf(t, env, ten, sku); lvl["on_hand"] != 10 || lvl["reserved"] != 1 {
		t.Fatalf("stock: %v", lvl)
	}
}
