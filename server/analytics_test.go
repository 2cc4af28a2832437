package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"saasmall/server/analytics"
	"saasmall/server/mall"
	"saasmall/server/servertest"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// seedSpec describes orders written straight into the database, in bulk:
// the dashboard reads orders, not how they were placed, and 100,000
// checkouts would take minutes.
type seedSpec struct {
	tenant   *tenants.Tenant
	n        int
	days     int // created over the last days days (0 = today only)
	products []*mall.ProductView
	rnd      *rand.Rand
}

var (
	seedChannels = []string{"pc", "pc", "pc", "pc", "mobile", "mobile", "mobile", "app", "app", "applet"}
	seedStatuses = []string{mall.OrderPaid, mall.OrderPaid, mall.OrderFulfilled, mall.OrderCompleted, mall.OrderCompleted,
		mall.OrderCompleted, mall.OrderCompleted, mall.OrderCancelled, mall.OrderPendingPayment, mall.OrderCompleted}
)

// seedOrders inserts spec.n orders with one or two lines each, 90 % in USD
// and 10 % in CNY, and returns them with their lines.
func seedOrders(t testing.TB, env *servertest.Env, spec seedSpec) ([]mall.Order, []mall.OrderLine) {
	t.Helper()
	now := env.Clock.Now()
	orders := make([]mall.Order, spec.n)
	lines := make([][]mall.OrderLine, spec.n)
	for i := range orders {
		at := now.Add(-time.Duration(spec.rnd.Int64N(int64(spec.days*24+9)*int64(time.Hour)) + 1))
		if spec.days == 0 {
			at = now.Add(-time.Duration(spec.rnd.Int64N(int64(9 * time.Hour))))
		}
		cur := "USD"
		if spec.rnd.IntN(10) == 0 {
			cur = "CNY"
		}
		var sub int64
		for j := 0; j < 1+spec.rnd.IntN(2); j++ {
			p := spec.products[spec.rnd.IntN(len(spec.products))]
			k := p.SKUs[0]
			q := int64(1 + spec.rnd.IntN(3))
			unit := int64(1000 + 100*spec.rnd.IntN(50))
			lines[i] = append(lines[i], mall.OrderLine{TenantID: spec.tenant.ID, ProductID: p.ID, SKUID: k.ID, Kind: p.Kind,
				Name: p.Name + " – " + k.Name, Quantity: q, UnitPrice: unit, Amount: unit * q})
			sub += unit * q
		}
		orders[i] = mall.Order{TenantID: spec.tenant.ID, UserID: 1, Number: fmt.Sprintf("S%d-%08d-%d", spec.tenant.ID, i, spec.rnd.Int64()),
			Kind: mall.OrderKindCheckout, Status: seedStatuses[spec.rnd.IntN(len(seedStatuses))], Currency: cur,
			Subtotal: sub, Shipping: 800, Total: sub + 800, ClientSource: seedChannels[spec.rnd.IntN(len(seedChannels))],
			CreatedAt: at, UpdatedAt: at}
	}
	// In time order, like real orders: every index of orders then grows at
	// its end, which is several times faster than random inserts.
	perm := make([]int, len(orders))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(a, b int) int { return orders[a].CreatedAt.Compare(orders[b].CreatedAt) })
	sorted, sortedLines := make([]mall.Order, len(orders)), make([][]mall.OrderLine, len(orders))
	for i, j := range perm {
		sorted[i], sortedLines[i] = orders[j], lines[j]
		sorted[i].Number = fmt.Sprintf("S%d-%08d", spec.tenant.ID, i)
	}
	orders, lines = sorted, sortedLines
	ctx := context.Background()
	err := env.Srv.DB.Tx(ctx, func(ctx context.Context) error {
		if err := env.Srv.DB.W(ctx).CreateInBatches(&orders, 40).Error; err != nil {
			return err
		}
		var all []mall.OrderLine
		for i := range orders {
			for _, l := range lines[i] {
				l.OrderID = orders[i].ID
				all = append(all, l)
			}
		}
		return env.Srv.DB.W(ctx).CreateInBatches(&all, 100).Error
	})
	if err != nil {
		t.Fatalf("seed orders: %v", err)
	}
	var all []mall.OrderLine
	for i := range orders {
		for _, l := range lines[i] {
			l.OrderID = orders[i].ID
			all = append(all, l)
		}
	}
	return orders, all
}

// seedProducts creates n active goods products of one SKU in tenant.
func seedProducts(t testing.TB, env *servertest.Env, ten *tenants.Tenant, prefix string, n int) []*mall.ProductView {
	t.Helper()
	ctx := tenants.WithTenant(context.Background(), ten)
	out := make([]*mall.ProductView, n)
	for i := range out {
		p, err := env.Srv.Mall.CreateProduct(ctx, mall.ProductInput{Kind: mall.KindGoods, Name: fmt.Sprintf("%s product %02d", prefix, i),
			Status: mall.StatusActive, SKUs: []mall.SKUInput{{Code: fmt.Sprintf("%s-%02d", prefix, i), Name: "Standard",
				Prices: []mall.PriceInput{{Amount: 1000, Currency: "USD"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = p
	}
	return out
}

// raceBuild reports whether the test binary was built with -race (timings
// are then meaningless).
func raceBuild() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return true
			}
		}
	}
	return false
}

// TestDashboardLatency100k: a tenant with 100,000 orders over the last
// year (and another tenant's 20,000 in the mall): 50 dashboard calls over
// HTTP with varying ranges and currencies answer within 100 ms p99, for the
// default 30 days and for a whole year. Under -race it runs on a tenth of
// the orders and checks no timing.
func TestDashboardLatency100k(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 120,000 orders; skipped with -short")
	}
	n := 100_000
	if raceBuild() {
		n = 10_000
	}
	env := servertest.New(t)
	big := env.Tenant("bigstore", "owner@bigstore.test")
	other := env.Tenant("otherstore", "owner@otherstore.test")
	rnd := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	seedOrders(t, env, seedSpec{tenant: big, n: n, days: 365, products: seedProducts(t, env, big, "BIG", 40), rnd: rnd})
	seedOrders(t, env, seedSpec{tenant: other, n: n / 5, days: 365, products: seedProducts(t, env, other, "OTH", 10), rnd: rnd})
	t.Logf("seeded %d orders in %v", n+n/5, time.Since(start).Round(time.Millisecond))

	owner := env.Login("owner@bigstore.test", servertest.Password, "pc")
	today := env.Clock.Now().UTC().Truncate(24 * time.Hour)
	measure := func(name string, calls int, path func(i int) string) (p50, p99 time.Duration) {
		t.Helper()
		owner.Do("GET", path(0), nil).Want(t, 200) // warm the reader pool
		ds := make([]time.Duration, calls)
		for i := range ds {
			st := time.Now()
			r := owner.Do("GET", path(i), nil)
			ds[i] = time.Since(st)
			r.Want(t, 200)
		}
		slices.Sort(ds)
		p50, p99 = ds[len(ds)/2], ds[(len(ds)*99+99)/100-1]
		t.Logf("%s: %d calls, p50 %v, p99 %v", name, calls, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
		return p50, p99
	}
	dflt := func(int) string { return "/api/v1/t/bigstore/analytics/dashboard" }
	year := func(i int) string {
		to := today.AddDate(0, 0, -i%3)
		return fmt.Sprintf("/api/v1/t/bigstore/analytics/dashboard?from=%s&to=%s", to.AddDate(0, 0, -365).Format("2006-01-02"), to.Format("2006-01-02"))
	}
	// Before the rollup job's first run every figure is read from the orders.
	measure("before the rollup: default range", 10, dflt)
	measure("before the rollup: full year", 5, year)
	st := time.Now()
	if _, err := env.Srv.Analytics.Refresh(context.Background(), time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Logf("built the rollup in %v", time.Since(st).Round(time.Millisecond))

	// The default (last 30 days), then ranges of 7 to 366 days ending on
	// varying days, in USD or CNY, then whole years. A round whose p99 is
	// over the target is measured again, up to three times: on a shared
	// machine (go test runs packages in parallel) one stall of another
	// process is the p99 of 50 calls; a slow dashboard fails every round.
	varying := func(i int) string {
		days := []int{7, 30, 90, 180, 366}[i%5]
		to := today.AddDate(0, 0, -rnd.IntN(30))
		cur := "USD"
		if i%7 == 3 {
			cur = "CNY"
		}
		return fmt.Sprintf("/api/v1/t/bigstore/analytics/dashboard?from=%s&to=%s&currency=%s",
			to.AddDate(0, 0, 1-days).Format("2006-01-02"), to.Format("2006-01-02"), cur)
	}
	for _, c := range []struct {
		name string
		path func(int) string
	}{{"default range", dflt}, {"varying ranges", varying}, {"full year", year}} {
		var p99s []time.Duration
		for round := 0; round < 3; round++ {
			_, p99 := measure(c.name, 50, c.path)
			p99s = append(p99s, p99)
			if p99 < 100*time.Millisecond || raceBuild() {
				break
			}
		}
		if p99 := slices.Min(p99s); p99 >= 100*time.Millisecond && !raceBuild() {
			t.Errorf("%s: p99 %v in every round (%v), want < 100 ms", c.name, p99, p99s)
		}
	}
	if raceBuild() {
		t.Log("built with -race: timings not checked")
	}
}

// oracle computes a dashboard's figures (all but low stock) straight from
// every order in the database, the slow and obvious way.
func oracle(t *testing.T, env *servertest.Env, ten *tenants.Tenant, from, to, cur string) analytics.Dashboard {
	t.Helper()
	start, _ := time.Parse("2006-01-02", from)
	end, _ := time.Parse("2006-01-02", to)
	end = end.AddDate(0, 0, 1)
	var orders []mall.Order
	if err := env.Srv.DB.Reader().Where("currency = ?", cur).Find(&orders).Error; err != nil {
		t.Fatal(err)
	}
	paid := func(o mall.Order) bool {
		return o.Status == mall.OrderPaid || o.Status == mall.OrderFulfilled || o.Status == mall.OrderCompleted
	}
	ratio := func(n, d int64) float64 {
		if d == 0 {
			return 0
		}
		return math.Round(float64(n)/float64(d)*10000) / 10000
	}
	d := analytics.Dashboard{From: from, To: to, Currency: cur}
	days := map[string]int{}
	for x := start; x.Before(end); x = x.AddDate(0, 0, 1) {
		days[x.Format("2006-01-02")] = len(d.ByDay)
		d.ByDay = append(d.ByDay, analytics.DayFigures{Day: x.Format("2006-01-02")})
	}
	chans := map[string]*analytics.ChannelFigures{}
	for _, c := range analytics.Channels {
		d.ByChannel = append(d.ByChannel, analytics.ChannelFigures{Channel: c})
	}
	for i := range d.ByChannel {
		chans[d.ByChannel[i].Channel] = &d.ByChannel[i]
	}
	totals := func(f *analytics.Figures, shares map[string]int64) {
		f.Conversion = ratio(f.PaidOrders, f.Orders)
		if f.PaidOrders > 0 {
			f.AverageOrderValue = mall.MulDivHalfEven(f.Revenue, 1, f.PaidOrders)
		}
		f.ChannelShare = map[string]float64{}
		for _, c := range analytics.Channels {
			f.ChannelShare[c] = ratio(shares[c], f.PaidOrders)
		}
	}
	mallPaid, storePaid := map[string]int64{}, map[string]int64{}
	var paidIDs []int64
	for _, o := range orders {
		if o.CreatedAt.Before(start) || !o.CreatedAt.Before(end) {
			continue
		}
		p, rev := int64(0), int64(0)
		if paid(o) {
			p, rev = 1, o.Total
		}
		d.Mall.Orders++
		d.Mall.PaidOrders += p
		d.Mall.Revenue += rev
		mallPaid[o.ClientSource] += p
		if o.TenantID != ten.ID {
			continue
		}
		if p == 1 {
			paidIDs = append(paidIDs, o.ID)
		}
		day := &d.ByDay[days[o.CreatedAt.UTC().Format("2006-01-02")]]
		day.Orders++
		day.PaidOrders += p
		day.Revenue += rev
		c := chans[o.ClientSource]
		c.Orders++
		c.PaidOrders += p
		c.Revenue += rev
		d.Store.Orders++
		d.Store.PaidOrders += p
		d.Store.Revenue += rev
		storePaid[o.ClientSource] += p
	}
	totals(&d.Store, storePaid)
	totals(&d.Mall, mallPaid)
	for i := range d.ByChannel {
		d.ByChannel[i].Share = ratio(d.ByChannel[i].PaidOrders, d.Store.PaidOrders)
	}
	var lines []mall.OrderLine
	for start := 0; start < len(paidIDs); start += 500 {
		var ls []mall.OrderLine
		if err := env.Srv.DB.Reader().Where("order_id IN ?", paidIDs[start:min(start+500, len(paidIDs))]).Find(&ls).Error; err != nil {
			t.Fatal(err)
		}
		lines = append(lines, ls...)
	}
	byProduct := map[int64]*analytics.ProductFigures{}
	for _, l := range lines {
		f := byProduct[l.ProductID]
		if f == nil {
			var p mall.Product
			env.Srv.DB.Reader().Take(&p, l.ProductID)
			f = &analytics.ProductFigures{ProductID: l.ProductID, Name: p.Name}
			byProduct[l.ProductID] = f
		}
		f.Units += l.Quantity
		f.Revenue += l.Amount
	}
	d.TopProducts = []analytics.ProductFigures{}
	for _, f := range byProduct {
		d.TopProducts = append(d.TopProducts, *f)
	}
	sort.Slice(d.TopProducts, func(i, j int) bool {
		a, b := d.TopProducts[i], d.TopProducts[j]
		return a.Revenue > b.Revenue || a.Revenue == b.Revenue && a.ProductID < b.ProductID
	})
	d.TopProducts = d.TopProducts[:min(10, len(d.TopProducts))]
	return d
}

// sameFigures fails unless got has want's figures (low stock aside).
func sameFigures(t *testing.T, label string, got *analytics.Dashboard, want analytics.Dashboard) {
	t.Helper()
	g := *got
	g.LowStock = nil
	if !reflect.DeepEqual(g, want) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(want)
		t.Fatalf("%s:\ngot  %.1500s\nwant %.1500s", label, gb, wb)
	}
}

// TestDashboardFigures checks every figure of the dashboard against the
// orders themselves: before the rollup is built (read live), after, after
// orders change (the changed days read live), after another refresh and on
// the next day; then low stock, isolation, access and bad input over HTTP.
func TestDashboardFigures(t *testing.T) {
	env := servertest.New(t)
	alpha := env.Tenant("alpha", "owner@alpha.test")
	bravo := env.Tenant("bravo", "owner@bravo.test")
	rnd := rand.New(rand.NewPCG(3, 4))
	ap := seedProducts(t, env, alpha, "ALPHA", 12)
	seedOrders(t, env, seedSpec{tenant: alpha, n: 3000, days: 60, products: ap, rnd: rnd})
	seedOrders(t, env, seedSpec{tenant: bravo, n: 1000, days: 60, products: seedProducts(t, env, bravo, "BRAVO", 3), rnd: rnd})

	// A real checkout on the applet channel, paid today.
	_, sku := goods(t, env, alpha, "REAL-1", 2500, 10)
	shopper := env.Register("buyer@example.com", "Buyer")
	shopper.Source = "applet"
	addToCart(t, shopper, sku, 2)
	order := orderIDs(checkout(shopper, "k1", "USD").Want(t, 201))[0]
	shopper.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", order), map[string]any{"method": "sandbox", "card_number": "4242424242424242"},
		"Idempotency-Key", "p1").Want(t, 200)

	ctx := context.Background()
	actx := tenants.WithTenant(ctx, alpha)
	svc := analytics.New(env.Srv.DB, analytics.Config{Now: env.Clock.Now, MallTTL: -1})
	check := func(phase string) {
		t.Helper()
		today := env.Clock.Now().UTC().Truncate(24 * time.Hour)
		day := func(n int) string { return today.AddDate(0, 0, n).Format("2006-01-02") }
		for _, q := range []analytics.Query{
			{},
			{From: day(-59), To: day(0)},
			{From: day(-44), To: day(-1), Currency: "cny"},
			{From: day(-16), To: day(-10)},
			{From: day(-400), To: day(-35)},
		} {
			got, err := svc.Dashboard(actx, q)
			if err != nil {
				t.Fatalf("%s %+v: %v", phase, q, err)
			}
			sameFigures(t, fmt.Sprintf("%s %+v", phase, q), got, oracle(t, env, alpha, got.From, got.To, got.Currency))
		}
	}
	check("live")
	// The first build, in the smallest slices: one tenant per run.
	runs := 0
	for more := true; more; runs++ {
		var err error
		if more, err = svc.Refresh(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if more {
			check("half built")
		}
	}
	if runs != 2 {
		t.Errorf("the rollup of two tenants was built in %d runs, want 2", runs)
	}
	check("rollup")

	// Orders change: a paid order of three weeks ago is cancelled by staff,
	// a new one is placed on a phone; both days are read live.
	var old mall.Order
	if err := env.Srv.DB.Reader().Where("tenant_id = ? AND status = ? AND currency = ? AND created_at < ?", alpha.ID, mall.OrderPaid, "USD",
		env.Clock.Now().AddDate(0, 0, -21)).Order("created_at DESC").Take(&old).Error; err != nil {
		t.Fatal(err)
	}
	owner := env.Login("owner@alpha.test", servertest.Password, "pc")
	owner.Do("POST", fmt.Sprintf("/api/v1/t/alpha/orders/%d/cancel", old.ID), nil).Want(t, 200)
	env.Clock.Advance(time.Minute)
	shopper.Source = "mobile"
	addToCart(t, shopper, sku, 1)
	checkout(shopper, "k2", "USD").Want(t, 201)
	check("changed")
	if _, err := svc.Refresh(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	check("refreshed")
	env.Clock.Advance(10 * time.Minute)
	check("later")
	env.Clock.Advance(24 * time.Hour)
	if _, err := svc.Refresh(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	check("next day")

	// Over HTTP: the shape, low stock, isolation.
	stock := func(p *mall.ProductView, n int64) {
		t.Helper()
		if _, err := env.Srv.Mall.AdjustStock(actx, warehouse.Adjustment{SKUID: p.SKUs[0].ID, Delta: n, Reason: "count"}); err != nil {
			t.Fatal(err)
		}
	}
	stock(ap[0], 2)
	stock(ap[1], 10)
	stock(ap[2], 5)
	owner.Do("PATCH", fmt.Sprintf("/api/v1/t/alpha/products/%d", ap[3].ID), map[string]any{"status": "archived"}).Want(t, 200)
	saas(t, env, alpha, "Plans", skuPlan("PLAN-1", "Team", 1000, "paid", "month", true, 0))
	r := owner.Do("GET", "/api/v1/t/alpha/analytics/dashboard", nil).Want(t, 200)
	var d analytics.Dashboard
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.ByDay) != 30 || len(d.ByChannel) != 4 || d.Currency != "USD" || d.To != env.Clock.Now().Format("2006-01-02") {
		t.Fatalf("dashboard shape: %.400s", r.Body)
	}
	var low []string
	for _, it := range d.LowStock {
		low = append(low, fmt.Sprintf("%s:%s:%d", it.Code, it.Warehouse, it.Available))
		var k mall.SKU
		if err := env.Srv.DB.Reader().Take(&k, it.SKUID).Error; err != nil || k.Code != it.Code || k.ProductID != it.ProductID || it.ProductName == "" || it.Name != "Standard" {
			t.Errorf("low stock item %+v: SKU %+v %v", it, k, err)
		}
	}
	want := []string{}
	for _, p := range ap[4:] {
		want = append(want, p.SKUs[0].Code+"::0")
	}
	want = append(want, ap[0].SKUs[0].Code+":MAIN:2", ap[2].SKUs[0].Code+":MAIN:5")
	if !slices.Equal(low, want) {
		t.Errorf("low stock = %v\nwant %v", low, want)
	}
	if strings.Contains(string(r.Body), "BRAVO") || d.Mall.Orders <= d.Store.Orders {
		t.Errorf("mall figures: store %+v, mall %+v; bravo's names must not show", d.Store, d.Mall)
	}

	// Access and bad input.
	T := "/api/v1/t/alpha/analytics/dashboard"
	env.Member(alpha, "viewer@alpha.test", "viewer").Do("GET", T, nil).Want(t, 200)
	owner.Do("POST", "/api/v1/t/alpha/roles", map[string]any{"name": "bare"}).Want(t, 201)
	env.Member(alpha, "bare@alpha.test", "bare").Do("GET", T, nil).Want(t, 403)
	env.Login("owner@bravo.test", servertest.Password, "pc").Do("GET", T, nil).Want(t, 404)
	env.Anon().Do("GET", T, nil).Want(t, 401)
	for q, field := range map[string]string{
		"?from=2026-11-20&to=2026-11-01": "to",
		"?from=2025-01-01&to=2026-01-03": "to",
		"?from=2026-02-30":               "from",
		"?to=yesterday":                  "to",
		"?currency=US":                   "currency",
	} {
		r := owner.Do("GET", T+q, nil)
		if r.Status != 400 || r.Field(field) == "" {
			t.Errorf("GET %s: %s", q, r)
		}
	}
	if r := owner.Do("GET", T+"?from=2025-01-01&to=2026-01-01&currency=cny", nil).Want(t, 200); r.JSON["currency"] != "CNY" || len(r.JSON["by_day"].([]any)) != 366 {
		t.Errorf("366 days in CNY: %.200s", r.Body)
	}
}

// TestDashboardRounding: average order value is rounded half to even, and
// an empty range has zeros, never a division by zero.
func TestDashboardRounding(t *testing.T) {
	env := servertest.New(t)
	ten := env.Tenant("alpha", "owner@alpha.test")
	ps := seedProducts(t, env, ten, "R", 1)
	orders, _ := seedOrders(t, env, seedSpec{tenant: ten, n: 4, days: 0, products: ps, rnd: rand.New(rand.NewPCG(5, 6))})
	// Totals 1001, 1002, 1002 and 1 cancelled: (1001+1002+1002)/3 = 1001.67 → 1002;
	// then 1001+1002 = 2003/2 = 1001.5 → 1002 (even); 1001+1003 → 1002.
	set := func(i int, status string, total int64) {
		t.Helper()
		if err := env.Srv.DB.Writer().Model(&mall.Order{}).Where("id = ?", orders[i].ID).
			Updates(map[string]any{"status": status, "total": total, "currency": "USD"}).Error; err != nil {
			t.Fatal(err)
		}
	}
	owner := env.Login("owner@alpha.test", servertest.Password, "pc")
	store := func() map[string]any {
		t.Helper()
		return owner.Do("GET", "/api/v1/t/alpha/analytics/dashboard", nil).Want(t, 200).JSON["store"].(map[string]any)
	}
	for _, tc := range []struct {
		totals   [4]int64
		statuses [4]string
		aov      float64
		conv     float64
	}{
		{[4]int64{1001, 1002, 1002, 5}, [4]string{"paid", "completed", "fulfilled", "cancelled"}, 1002, 0.75},
		{[4]int64{1001, 1002, 9, 5}, [4]string{"paid", "completed", "pending_payment", "cancelled"}, 1002, 0.5},
		{[4]int64{1001, 1004, 9, 5}, [4]string{"paid", "completed", "pending_payment", "cancelled"}, 1002, 0.5},
		{[4]int64{1000, 1003, 9, 5}, [4]string{"paid", "completed", "pending_payment", "cancelled"}, 1002, 0.5},
		{[4]int64{1, 2, 3, 4}, [4]string{"cancelled", "cancelled", "pending_payment", "cancelled"}, 0, 0},
	} {
		for i := range tc.totals {
			set(i, tc.statuses[i], tc.totals[i])
		}
		if s := store(); s["orders"] != float64(4) || s["average_order_value"] != tc.aov || s["conversion"] != tc.conv {
			t.Errorf("totals %v %v: store %v, want aov %v conversion %v", tc.totals, tc.statuses, s, tc.aov, tc.conv)
		}
	}
}
