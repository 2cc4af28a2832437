package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/server/store/storetest"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// Tenant 1 sells goods SKUs 101–105 and SaaS plan 109; tenant 2 sells goods SKU 201.
var goodsOf = map[int64]int64{101: 1, 102: 1, 103: 1, 104: 1, 105: 1, 201: 2}

type fakeSKUs struct{}

func (fakeSKUs) GoodsSKU(ctx context.Context, skuID int64) (bool, error) {
	tid := tenants.ID(ctx)
	return tid != 0 && goodsOf[skuID] == tid, nil
}

func setup(t *testing.T) (*store.DB, *warehouse.Service) {
	t.Helper()
	db := storetest.Open(t)
	ms := append(store.Migrations(), warehouse.Migrations()...)
	if err := db.Migrate(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background(), ms); err != nil { // a second run is a no-op
		t.Fatal(err)
	}
	svc := warehouse.New(db, fakeSKUs{})
	for _, tn := range []*tenants.Tenant{{ID: 1, DefaultCurrency: "CNY"}, {ID: 2, DefaultCurrency: "EUR"}} {
		if err := svc.CreateDefault(context.Background(), tn); err != nil {
			t.Fatal(err)
		}
	}
	return db, svc
}

// staff returns a context of a staff member (user 7) of tenant id.
func staff(id int64) context.Context {
	ctx := tenants.WithTenant(context.Background(), &tenants.Tenant{ID: id})
	return actor.With(ctx, &actor.Actor{UserID: 7, Email: "clerk@example.com"})
}

func defaultWarehouse(t *testing.T, svc *warehouse.Service, ctx context.Context) warehouse.Warehouse {
	t.Helper()
	ws, err := svc.Warehouses(ctx)
	if err != nil || len(ws) == 0 || !ws[0].IsDefault {
		t.Fatalf("Warehouses = %+v, %v", ws, err)
	}
	return ws[0]
}

func adjust(t *testing.T, svc *warehouse.Service, ctx context.Context, sku, wh, delta int64) warehouse.StockLevel {
	t.Helper()
	l, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: sku, WarehouseID: wh, Delta: delta, Reason: "count"})
	if err != nil {
		t.Fatalf("Adjust(%d, %d, %+d): %v", sku, wh, delta, err)
	}
	return l
}

func level(t *testing.T, db *store.DB, wh, sku int64) warehouse.StockLevel {
	t.Helper()
	var l warehouse.StockLevel
	db.Reader().Where("warehouse_id = ? AND sku_id = ?", wh, sku).Find(&l)
	return l
}

func count(t *testing.T, db *store.DB, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Reader().Model(model)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// checkLedger asserts that every stock level is the sum of its moves and
// that what is reserved is what held reservations hold.
func checkLedger(t *testing.T, db *store.DB) {
	t.Helper()
	var levels []warehouse.StockLevel
	db.Reader().Find(&levels)
	for _, l := range levels {
		var sum struct{ OnHand, Reserved int64 }
		db.Reader().Model(&warehouse.StockMove{}).Select("COALESCE(SUM(delta_on_hand),0) AS on_hand, COALESCE(SUM(delta_reserved),0) AS reserved").
			Where("warehouse_id = ? AND sku_id = ?", l.WarehouseID, l.SKUID).Scan(&sum)
		if sum.OnHand != l.OnHand || sum.Reserved != l.Reserved {
			t.Errorf("level %d/%d = %d on hand, %d reserved; its moves sum to %d, %d", l.WarehouseID, l.SKUID, l.OnHand, l.Reserved, sum.OnHand, sum.Reserved)
		}
		var held int64
		db.Reader().Model(&warehouse.Reservation{}).Select("COALESCE(SUM(qty),0)").
			Where("warehouse_id = ? AND sku_id = ? AND status = ?", l.WarehouseID, l.SKUID, warehouse.ReservationHeld).Scan(&held)
		if held != l.Reserved {
			t.Errorf("level %d/%d has %d reserved, held reservations hold %d", l.WarehouseID, l.SKUID, l.Reserved, held)
		}
		if l.Reserved < 0 || l.Reserved > l.OnHand {
			t.Errorf("level %d/%d: reserved %d, on hand %d", l.WarehouseID, l.SKUID, l.Reserved, l.OnHand)
		}
	}
	// Each SKU's valuation counts what its levels hold and what is in
	// transit between warehouses.
	var off []struct {
		SKUID int64 `gorm:"column:sku_id"`
		Qty   int64
		Held  int64
	}
	db.Reader().Raw(`SELECT v.sku_id, v.qty,
		COALESCE((SELECT SUM(on_hand) FROM stock_levels l WHERE l.sku_id = v.sku_id), 0) +
		COALESCE((SELECT SUM(tl.qty) FROM stock_transfer_lines tl JOIN stock_transfers tr ON tr.id = tl.transfer_id
			WHERE tl.sku_id = v.sku_id AND tr.status = 'in_transit'), 0) AS held
		FROM stock_values v`).Scan(&off)
	for _, o := range off {
		if o.Qty != o.Held {
			t.Errorf("sku %d is valued at %d units, its levels and transfers hold %d", o.SKUID, o.Qty, o.Held)
		}
	}
}

// TestTransfers: goods leave at once and are in transit until received (or
// cancelled, back at the source); each transition happens once; the
// valuation keeps them all along.
func TestTransfers(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	main := defaultWarehouse(t, svc, ctx)
	east, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: "EAST", Name: "East", Country: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	cost := int64(250)
	if _, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: 101, Delta: 10, Reason: "received", UnitCost: &cost}); err != nil {
		t.Fatal(err)
	}
	adjust(t, svc, ctx, 102, main.ID, 4)
	if err := svc.Reserve(ctx, "order:1", []warehouse.ReserveLine{{SKUID: 101, Qty: 3}}, time.Hour); err != nil {
		t.Fatal(err)
	}

	// Refusals.
	_, err = svc.CreateTransfer(ctx, warehouse.TransferInput{FromWarehouseID: main.ID, ToWarehouseID: main.ID,
		Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 0}, {SKUID: 101, Qty: 1}}})
	wantField(t, err, "to_warehouse_id", "same_warehouse")
	wantField(t, err, "lines[0].qty", "out_of_range")
	wantField(t, err, "lines[1].sku_id", "duplicate")
	_, err = svc.CreateTransfer(ctx, warehouse.TransferInput{FromWarehouseID: main.ID, ToWarehouseID: 999999, Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 1}}})
	wantField(t, err, "to_warehouse_id", "not_found")
	// 10 on hand, 3 reserved: 8 cannot leave.
	_, err = svc.CreateTransfer(ctx, warehouse.TransferInput{FromWarehouseID: main.ID, ToWarehouseID: east.ID,
		Lines: []warehouse.ReserveLine{{SKUID: 102, Qty: 1}, {SKUID: 101, Qty: 8}}})
	if apperr.As(err).Code != warehouse.CodeInsufficientStock || apperr.As(err).Fields["lines[1].qty"].Code != warehouse.CodeInsufficientStock {
		t.Fatalf("transfer over available: %#v", err)
	}
	if l := level(t, db, main.ID, 102); l.OnHand != 4 {
		t.Fatalf("a refused transfer moved stock: %+v", l)
	}

	// Ship 7 + 2: they leave MAIN at once and are nowhere until received.
	tr, err := svc.CreateTransfer(ctx, warehouse.TransferInput{FromWarehouseID: main.ID, ToWarehouseID: east.ID, Note: "rebalance",
		Lines: []warehouse.ReserveLine{{SKUID: 102, Qty: 2}, {SKUID: 101, Qty: 7}}})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != warehouse.TransferInTransit || len(tr.Lines) != 2 || tr.Lines[0].SKUID != 101 || tr.Lines[0].UnitCost != 250 {
		t.Fatalf("transfer = %+v", tr)
	}
	if m, e := level(t, db, main.ID, 101), level(t, db, east.ID, 101); m.OnHand != 3 || m.Reserved != 3 || e.OnHand != 0 {
		t.Fatalf("in transit: main %+v, east %+v", m, e)
	}
	checkLedger(t, db)
	got, err := svc.ReceiveTransfer(ctx, tr.ID)
	if err != nil || got.Status != warehouse.TransferReceived || got.ReceivedAt == nil {
		t.Fatalf("receive = %+v, %v", got, err)
	}
	if e := level(t, db, east.ID, 101); e.OnHand != 7 {
		t.Fatalf("received: east %+v", e)
	}
	if _, err := svc.ReceiveTransfer(ctx, tr.ID); apperr.As(err).Code != "transfer_not_in_transit" {
		t.Fatalf("receive twice: %v", err)
	}
	if _, err := svc.CancelTransfer(ctx, tr.ID); apperr.As(err).Code != "transfer_not_in_transit" {
		t.Fatalf("cancel a received transfer: %v", err)
	}
	// Cancelled in transit: back at the source; then neither transition.
	tr2, err := svc.CreateTransfer(ctx, warehouse.TransferInput{FromWarehouseID: east.ID, ToWarehouseID: main.ID, Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	if e := level(t, db, east.ID, 101); e.OnHand != 2 {
		t.Fatalf("shipped from east: %+v", e)
	}
	if got, err := svc.CancelTransfer(ctx, tr2.ID); err != nil || got.Status != warehouse.TransferCancelled {
		t.Fatalf("cancel = %+v, %v", got, err)
	}
	if e, m := level(t, db, east.ID, 101), level(t, db, main.ID, 101); e.OnHand != 7 || m.OnHand != 3 {
		t.Fatalf("after cancel: east %+v, main %+v", e, m)
	}
	for _, f := range []func(context.Context, int64) (*warehouse.Transfer, error){svc.ReceiveTransfer, svc.CancelTransfer} {
		if _, err := f(ctx, tr2.ID); apperr.As(err).Code != "transfer_not_in_transit" {
			t.Fatalf("end a cancelled transfer: %v", err)
		}
	}
	// Another tenant sees none of it.
	if _, err := svc.Transfer(staff(2), tr.ID); !errors.Is(err, apperr.NotFound("transfer")) {
		t.Fatalf("another tenant's transfer: %v", err)
	}
	if _, err := svc.ReceiveTransfer(staff(2), tr.ID); !errors.Is(err, apperr.NotFound("transfer")) {
		t.Fatalf("another tenant receives: %v", err)
	}
	page, err := svc.Transfers(ctx, warehouse.TransferQuery{Status: warehouse.TransferCancelled, PageRequest: store.PageRequest{Page: 1, PerPage: 10}})
	if err != nil || page.Total != 1 || page.Items[0].ID != tr2.ID || len(page.Items[0].Lines) != 1 {
		t.Fatalf("Transfers(cancelled) = %+v, %v", page, err)
	}
	checkLedger(t, db)
}

// TestMovingAverageCost: receipts at a cost move the average, rounded half
// to even to the minor unit; everything else goes at the average.
func TestMovingAverageCost(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	main := defaultWarehouse(t, svc, ctx)
	second, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: "B", Name: "B", Country: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	in := func(wh, qty int64, cost *int64) warehouse.StockMove {
		t.Helper()
		if _, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: 101, WarehouseID: wh, Delta: qty, Reason: "received", UnitCost: cost}); err != nil {
			t.Fatal(err)
		}
		var mv warehouse.StockMove
		db.Reader().Order("id DESC").Take(&mv)
		return mv
	}
	valued := func(wantQty, wantAvg int64) {
		t.Helper()
		page, total, err := svc.Valuation(ctx, store.PageRequest{Page: 1, PerPage: 10})
		if err != nil || page.Total != 1 {
			t.Fatalf("Valuation = %+v, %v", page, err)
		}
		v := page.Items[0]
		if v.Qty != wantQty || v.AvgCost != wantAvg || total != wantQty*wantAvg {
			t.Fatalf("valued %d units at %d (total %d), want %d at %d", v.Qty, v.AvgCost, total, wantQty, wantAvg)
		}
	}
	c := func(n int64) *int64 { return &n }
	in(main.ID, 10, c(100))
	valued(10, 100)
	in(second.ID, 5, c(130)) // (1000 + 650) / 15 = 110
	valued(15, 110)
	in(main.ID, 3, c(97)) // (1650 + 291) / 18 = 107.83… → 108
	valued(18, 108)
	in(main.ID, 1, c(99)) // (1944 + 99) / 19 = 107.526… → 108
	valued(19, 108)
	in(main.ID, 1, c(98)) // (2052 + 98) / 20 = 107.5 → 108 (half to even)
	valued(20, 108)
	in(main.ID, 4, c(110)) // (2160 + 440) / 24 = 108.33… → 108
	valued(24, 108)
	in(main.ID, 6, c(131)) // (2592 + 786) / 30 = 112.6 → 113
	valued(30, 113)
	// Units without a cost, and removals, go at the average and keep it.
	if mv := in(main.ID, 2, nil); mv.UnitCost != 113 {
		t.Fatalf("uncosted receipt valued at %d", mv.UnitCost)
	}
	if mv := in(second.ID, -5, nil); mv.UnitCost != 113 || mv.DeltaOnHand != -5 {
		t.Fatalf("removal: %+v", mv)
	}
	valued(27, 113)
	// A sale: reserved, then fulfilled, goes out at the average.
	if err := svc.Reserve(ctx, "order:9", []warehouse.ReserveLine{{SKUID: 101, Qty: 7}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := svc.Commit(ctx, "order:9"); err != nil {
		t.Fatal(err)
	}
	var sale warehouse.StockMove
	db.Reader().Where("kind = ?", warehouse.MoveCommit).Take(&sale)
	if sale.UnitCost != 113 || sale.DeltaOnHand != -7 {
		t.Fatalf("sale move: %+v", sale)
	}
	valued(20, 113)
	_, err = svc.Adjust(ctx, warehouse.Adjustment{SKUID: 101, Delta: -1, Reason: "x", UnitCost: c(5)})
	wantField(t, err, "unit_cost", "not_for_removal")
	_, err = svc.Adjust(ctx, warehouse.Adjustment{SKUID: 101, Delta: 1, Reason: "x", UnitCost: c(-5)})
	wantField(t, err, "unit_cost", "out_of_range")
	checkLedger(t, db)
}

func wantCode(t *testing.T, err error, kind apperr.Kind, code string) *apperr.Error {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want %s", err, err, code)
	}
	if ae.Kind != kind || ae.Code != code {
		t.Fatalf("err = %v (kind %d), want %s (kind %d)", err, ae.Kind, code, kind)
	}
	return ae
}

func wantField(t *testing.T, err error, field, code string) {
	t.Helper()
	ae := apperr.As(err)
	if f, ok := ae.Fields[field]; !ok || f.Code != code {
		t.Fatalf("err = %v, want field %s: %s", err, field, code)
	}
}

func TestDefaultWarehouse(t *testing.T) {
	db, svc := setup(t)
	w1 := defaultWarehouse(t, svc, staff(1))
	if w1.Code != "MAIN" || w1.Name != "Main warehouse" || w1.Country != "CN" || w1.CreatedAt.Location() != time.UTC {
		t.Errorf("tenant 1 default = %+v", w1)
	}
	if w2 := defaultWarehouse(t, svc, staff(2)); w2.Country != "" || w2.ID == w1.ID {
		t.Errorf("tenant 2 default = %+v (EUR has no single country)", w2)
	}
	// The hook may run again: still one default warehouse.
	if err := svc.CreateDefault(staff(1), &tenants.Tenant{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, &warehouse.Warehouse{}, "tenant_id = ?", 1); n != 1 {
		t.Fatalf("tenant 1 has %d warehouses", n)
	}
	// The hook runs with the new tenant in ctx; another tenant's ctx is refused.
	wantCode(t, svc.CreateDefault(staff(2), &tenants.Tenant{ID: 3}), apperr.KindForbidden, "forbidden")
	wantCode(t, svc.CreateDefault(context.Background(), nil), apperr.KindNotFound, "not_found")
	// At most one default warehouse per tenant, and codes are unique per tenant.
	if err := db.Writer().Create(&warehouse.Warehouse{TenantID: 1, Code: "SECOND", Name: "x", IsDefault: true, CreatedAt: time.Now()}).Error; err == nil {
		t.Error("a second default warehouse was accepted")
	}
	if err := db.Writer().Create(&warehouse.Warehouse{TenantID: 1, Code: "MAIN", Name: "x", CreatedAt: time.Now()}).Error; err == nil {
		t.Error("a duplicate code was accepted")
	}
	if err := db.Writer().Create(&warehouse.Warehouse{TenantID: 3, Code: "MAIN", Name: "x", CreatedAt: time.Now()}).Error; err != nil {
		t.Errorf("another tenant's MAIN: %v", err)
	}
	if _, err := svc.Warehouses(context.Background()); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("Warehouses without a tenant = %v", err)
	}
}

// TestCostMigrationKeepsTheLedger: moves written before the ledger got
// costs survive the migration (SQLite rebuilds the table), stay
// append-only, and their SKUs get a valuation of what the levels hold.
func TestCostMigrationKeepsTheLedger(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	all := append(store.Migrations(), warehouse.Migrations()...)
	var before []*store.Migration // everything before the cost migration
	for _, m := range all {
		if m.ID == "202611250051_stock_costs" {
			break
		}
		before = append(before, m)
	}
	if err := db.Migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := db.Writer().Exec(`INSERT INTO warehouses (tenant_id, code, name, country, is_default, created_at) VALUES (1, 'MAIN', 'Main', 'CN', true, ?)`, now).Error; err != nil {
		t.Fatal(err)
	}
	var wh int64
	db.Writer().Raw("SELECT id FROM warehouses").Scan(&wh)
	for _, q := range []string{
		"INSERT INTO stock_levels (tenant_id, warehouse_id, sku_id, on_hand, reserved, updated_at) VALUES (1, ?, 101, 7, 2, ?)",
		"INSERT INTO stock_moves (tenant_id, warehouse_id, sku_id, kind, delta_on_hand, delta_reserved, reason, created_at) VALUES (1, ?, 101, 'adjust', 7, 0, 'opening', ?)",
		"INSERT INTO stock_moves (tenant_id, warehouse_id, sku_id, kind, delta_on_hand, delta_reserved, reason, created_at) VALUES (1, ?, 101, 'reserve', 0, 2, 'checkout', ?)",
		"INSERT INTO stock_reservations (tenant_id, order_ref, sku_id, warehouse_id, qty, status, expires_at, created_at) VALUES (1, 'order:1', 101, ?, 2, 'held', ?, ?)",
	} {
		args := []any{wh, now}
		if strings.Contains(q, "stock_reservations") {
			args = append(args, now)
		}
		if err := db.Writer().Exec(q, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx, all); err != nil {
		t.Fatal(err)
	}
	var moves []warehouse.StockMove
	db.Reader().Order("id").Find(&moves)
	if len(moves) != 2 || moves[0].Reason != "opening" || moves[1].DeltaReserved != 2 || moves[0].UnitCost != 0 {
		t.Fatalf("moves after the migration: %+v", moves)
	}
	if err := db.Writer().Exec("UPDATE stock_moves SET delta_on_hand = 99").Error; err == nil {
		t.Error("the rebuilt ledger accepts updates")
	}
	if err := db.Writer().Exec("DELETE FROM stock_moves").Error; err == nil {
		t.Error("the rebuilt ledger accepts deletes")
	}
	var v warehouse.StockValue
	if err := db.Reader().Take(&v, "sku_id = ?", 101).Error; err != nil || v.Qty != 7 || v.TenantID != 1 {
		t.Fatalf("valuation after the migration: %+v, %v", v, err)
	}
	checkLedger(t, db)
}

func TestSchemaGuards(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	w := defaultWarehouse(t, svc, ctx)
	adjust(t, svc, ctx, 101, 0, 5)
	for _, tc := range []struct{ name, sql string }{
		{"negative on hand", "UPDATE stock_levels SET on_hand = -1, reserved = 0"},
		{"negative reserved", "UPDATE stock_levels SET reserved = -1"},
		{"reserved over on hand", "UPDATE stock_levels SET reserved = on_hand + 1"},
		{"ledger update", "UPDATE stock_moves SET delta_on_hand = 99"},
		{"ledger delete", "DELETE FROM stock_moves"},
		{"negative valuation", "UPDATE stock_values SET qty = -1"},
		{"unknown move kind", fmt.Sprintf("INSERT INTO stock_moves (tenant_id, warehouse_id, sku_id, kind, created_at) VALUES (1, %d, 101, 'steal', CURRENT_TIMESTAMP)", w.ID)},
		{"zero reservation", fmt.Sprintf("INSERT INTO stock_reservations (tenant_id, order_ref, sku_id, warehouse_id, qty, status, expires_at, created_at) VALUES (1, 'o', 101, %d, 0, 'held', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", w.ID)},
	} {
		if err := db.Writer().Exec(tc.sql).Error; err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if l := level(t, db, w.ID, 101); l.OnHand != 5 || l.Reserved != 0 {
		t.Errorf("level = %+v", l)
	}
	checkLedger(t, db)
}

func TestAdjust(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	w := defaultWarehouse(t, svc, ctx)
	w2 := defaultWarehouse(t, svc, staff(2))

	invalid := []struct {
		name  string
		in    warehouse.Adjustment
		field string
		code  string
	}{
		{"no sku", warehouse.Adjustment{Delta: 1, Reason: "x"}, "sku_id", "required"},
		{"zero delta", warehouse.Adjustment{SKUID: 101, Reason: "x"}, "delta", "required"},
		{"delta too large", warehouse.Adjustment{SKUID: 101, Delta: 1_000_000_001, Reason: "x"}, "delta", "out_of_range"},
		{"delta too small", warehouse.Adjustment{SKUID: 101, Delta: -1_000_000_001, Reason: "x"}, "delta", "out_of_range"},
		{"no reason", warehouse.Adjustment{SKUID: 101, Delta: 1, Reason: "  "}, "reason", "required"},
		{"long reason", warehouse.Adjustment{SKUID: 101, Delta: 1, Reason: strings.Repeat("库", 201)}, "reason", "too_long"},
		{"negative warehouse", warehouse.Adjustment{SKUID: 101, WarehouseID: -1, Delta: 1, Reason: "x"}, "warehouse_id", "invalid_id"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Adjust(ctx, tc.in)
			wantCode(t, err, apperr.KindInvalid, "invalid_input")
			wantField(t, err, tc.field, tc.code)
		})
	}
	notFound := []struct {
		name  string
		in    warehouse.Adjustment
		field string
	}{
		{"saas plan", warehouse.Adjustment{SKUID: 109, Delta: 1, Reason: "x"}, "sku_id"},
		{"unknown sku", warehouse.Adjustment{SKUID: 999, Delta: 1, Reason: "x"}, "sku_id"},
		{"another tenant's sku", warehouse.Adjustment{SKUID: 201, Delta: 1, Reason: "x"}, "sku_id"},
		{"another tenant's warehouse", warehouse.Adjustment{SKUID: 101, WarehouseID: w2.ID, Delta: 1, Reason: "x"}, "warehouse_id"},
		{"unknown warehouse", warehouse.Adjustment{SKUID: 101, WarehouseID: 99999, Delta: 1, Reason: "x"}, "warehouse_id"},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Adjust(ctx, tc.in)
			wantCode(t, err, apperr.KindNotFound, "not_found")
			wantField(t, err, tc.field, "not_found")
			if !errors.Is(err, apperr.ErrNotFound) {
				t.Error("not errors.Is ErrNotFound")
			}
		})
	}
	if _, err := svc.Adjust(context.Background(), warehouse.Adjustment{SKUID: 101, Delta: 1, Reason: "x"}); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("Adjust without a tenant = %v", err)
	}
	if n := count(t, db, &warehouse.StockMove{}, ""); n != 0 {
		t.Fatalf("%d moves after refused adjustments", n)
	}

	// Receive 10 (default warehouse), then write off 4 (explicit warehouse).
	l := adjust(t, svc, ctx, 101, 0, 10)
	if l.OnHand != 10 || l.Reserved != 0 || l.WarehouseID != w.ID || l.SKUID != 101 {
		t.Fatalf("after +10: %+v", l)
	}
	l = adjust(t, svc, ctx, 101, w.ID, -4)
	if l.OnHand != 6 || l.Available() != 6 || l.UpdatedAt.IsZero() {
		t.Fatalf("after -4: %+v", l)
	}
	body, _ := json.Marshal(l)
	var js map[string]any
	_ = json.Unmarshal(body, &js)
	if js["available"] != float64(6) || js["on_hand"] != float64(6) || js["reserved"] != float64(0) || js["sku_id"] != float64(101) {
		t.Errorf("JSON = %s", body)
	}
	if _, leak := js["tenant_id"]; leak {
		t.Errorf("JSON leaks tenant_id: %s", body)
	}

	// Removing more than is available (on hand − reserved) is a conflict.
	if err := svc.Reserve(ctx, "order:1", []warehouse.ReserveLine{{SKUID: 101, Qty: 5}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: 101, Delta: -2, Reason: "broken"})
	ae := wantCode(t, err, apperr.KindConflict, "insufficient_stock")
	if ae.Args["Available"] != int64(1) || !errors.Is(err, warehouse.ErrInsufficientStock) {
		t.Errorf("insufficient_stock args = %v", ae.Args)
	}
	_, err = svc.Adjust(ctx, warehouse.Adjustment{SKUID: 102, Delta: -1, Reason: "never stocked"})
	wantCode(t, err, apperr.KindConflict, "insufficient_stock")
	if n := count(t, db, &warehouse.StockLevel{}, "sku_id = ?", 102); n != 0 {
		t.Errorf("a refused removal left %d levels", n)
	}
	l = adjust(t, svc, ctx, 101, 0, -1)
	if l.OnHand != 5 || l.Reserved != 5 || l.Available() != 0 {
		t.Fatalf("after -1: %+v", l)
	}

	// Moves: one per accepted adjustment, with the actor; one event each.
	var moves []warehouse.StockMove
	db.Reader().Where("kind = ?", warehouse.MoveAdjust).Order("id").Find(&moves)
	if len(moves) != 3 || moves[0].DeltaOnHand != 10 || moves[1].DeltaOnHand != -4 || moves[2].DeltaOnHand != -1 ||
		moves[0].ActorUserID != 7 || moves[0].Reason != "count" || moves[0].TenantID != 1 {
		t.Errorf("moves = %+v", moves)
	}
	var evs []store.OutboxEvent
	db.Reader().Order("id").Find(&evs)
	if len(evs) != 3 {
		t.Fatalf("%d outbox events, want 3", len(evs))
	}
	var ev warehouse.AdjustedEvent
	if err := json.Unmarshal([]byte(evs[1].Payload), &ev); err != nil || evs[1].Topic != "stock.adjusted" ||
		evs[1].TenantID == nil || *evs[1].TenantID != 1 || ev.Delta != -4 || ev.OnHand != 6 || ev.WarehouseCode != "MAIN" || ev.MoveID != moves[1].ID {
		t.Errorf("event = %+v %s (%v)", evs[1], evs[1].Payload, err)
	}
	checkLedger(t, db)
}

func TestReserve(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	w := defaultWarehouse(t, svc, ctx)
	adjust(t, svc, ctx, 101, 0, 5)
	adjust(t, svc, ctx, 102, 0, 1)
	adjust(t, svc, ctx, 103, 0, 3)

	// Two lines of one SKU are summed: 3 + 3 > 5 is out of stock even though
	// each line alone fits; several short SKUs are all named, ascending.
	err := svc.Reserve(ctx, "order:1", []warehouse.ReserveLine{{SKUID: 103, Qty: 1}, {SKUID: 101, Qty: 3}, {SKUID: 104, Qty: 1}, {SKUID: 101, Qty: 3}}, time.Hour)
	var oos *warehouse.OutOfStockError
	if !errors.As(err, &oos) || fmt.Sprint(oos.SKUIDs) != "[101 104]" {
		t.Fatalf("Reserve = %v, want out of stock for 101 and 104", err)
	}
	ae := wantCode(t, err, apperr.KindConflict, "out_of_stock")
	if !errors.Is(err, warehouse.ErrOutOfStock) || ae.Args["SKUs"] != "101, 104" {
		t.Errorf("out_of_stock = %+v", ae)
	}
	wantField(t, err, "sku:101", "out_of_stock")
	wantField(t, err, "sku:104", "out_of_stock")
	if _, ok := ae.Fields["sku:103"]; ok {
		t.Error("SKU 103 (in stock) named")
	}
	if n := count(t, db, &warehouse.Reservation{}, ""); n != 0 {
		t.Fatalf("%d reservations after out_of_stock", n)
	}
	if l := level(t, db, w.ID, 103); l.Reserved != 0 {
		t.Fatalf("103 reserved %d after a refused reservation", l.Reserved)
	}

	// Inside a caller's transaction a refused Reserve leaves nothing behind,
	// even if the caller commits anyway.
	err = db.Tx(ctx, func(ctx context.Context) error {
		err := svc.Reserve(ctx, "order:2", []warehouse.ReserveLine{{SKUID: 103, Qty: 2}, {SKUID: 102, Qty: 2}}, time.Hour)
		if !errors.Is(err, warehouse.ErrOutOfStock) {
			t.Errorf("Reserve in tx = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l := level(t, db, w.ID, 103); l.Reserved != 0 || count(t, db, &warehouse.Reservation{}, "") != 0 {
		t.Fatalf("a refused Reserve in a committed tx left %+v", l)
	}

	// Two lines of one SKU that fit: one reservation of the sum.
	err = db.Tx(ctx, func(ctx context.Context) error {
		return svc.Reserve(ctx, "order:3", []warehouse.ReserveLine{{SKUID: 101, Qty: 2}, {SKUID: 102, Qty: 1}, {SKUID: 101, Qty: 3}}, time.Hour)
	})
	if err != nil {
		t.Fatal(err)
	}
	if l := level(t, db, w.ID, 101); l.OnHand != 5 || l.Reserved != 5 {
		t.Errorf("101 = %+v", l)
	}
	var rs []warehouse.Reservation
	db.Reader().Order("sku_id").Find(&rs)
	if len(rs) != 2 || rs[0].SKUID != 101 || rs[0].Qty != 5 || rs[0].Status != warehouse.ReservationHeld || rs[0].OrderRef != "order:3" ||
		rs[1].SKUID != 102 || rs[1].Qty != 1 || rs[0].WarehouseID != w.ID || rs[0].TenantID != 1 {
		t.Errorf("reservations = %+v", rs)
	}
	if d := rs[0].ExpiresAt.Sub(rs[0].CreatedAt); d != time.Hour {
		t.Errorf("expires after %v, want 1h", d)
	}
	if n := count(t, db, &warehouse.StockMove{}, "kind = ? AND ref = ? AND actor_user_id = 7", warehouse.MoveReserve, "order:3"); n != 2 {
		t.Errorf("%d reserve moves", n)
	}
	avail, err := svc.Available(ctx, []int64{101, 102, 103, 105})
	if err != nil || avail[101] != 0 || avail[102] != 0 || avail[103] != 3 || avail[105] != 0 || len(avail) != 4 {
		t.Errorf("Available = %v, %v", avail, err)
	}

	// The same order cannot reserve twice.
	err = svc.Reserve(ctx, "order:3", []warehouse.ReserveLine{{SKUID: 103, Qty: 1}}, time.Hour)
	wantCode(t, err, apperr.KindConflict, "already_reserved")

	// Bad input.
	for _, tc := range []struct {
		name  string
		ref   string
		lines []warehouse.ReserveLine
		field string
		code  string
	}{
		{"no ref", "", []warehouse.ReserveLine{{SKUID: 103, Qty: 1}}, "order_ref", "required"},
		{"long ref", strings.Repeat("x", 101), []warehouse.ReserveLine{{SKUID: 103, Qty: 1}}, "order_ref", "too_long"},
		{"no lines", "o", nil, "lines", "required"},
		{"zero qty", "o", []warehouse.ReserveLine{{SKUID: 103, Qty: 0}}, "lines[0].qty", "out_of_range"},
		{"negative qty", "o", []warehouse.ReserveLine{{SKUID: 103, Qty: 1}, {SKUID: 103, Qty: -1}}, "lines[1].qty", "out_of_range"},
		{"no sku", "o", []warehouse.ReserveLine{{Qty: 1}}, "lines[0].sku_id", "required"},
	} {
		err := svc.Reserve(ctx, tc.ref, tc.lines, time.Hour)
		wantCode(t, err, apperr.KindInvalid, "invalid_input")
		wantField(t, err, tc.field, tc.code)
	}
	if err := svc.Reserve(context.Background(), "o", []warehouse.ReserveLine{{SKUID: 103, Qty: 1}}, 0); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("Reserve without a tenant = %v", err)
	}
	checkLedger(t, db)
}

func TestReleaseAndCommit(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	w := defaultWarehouse(t, svc, ctx)
	adjust(t, svc, ctx, 101, 0, 10)
	reserve := func(ref string, qty int64) {
		t.Helper()
		if err := svc.Reserve(ctx, ref, []warehouse.ReserveLine{{SKUID: 101, Qty: qty}}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	reserve("order:1", 3)
	reserve("order:2", 4)
	if l := level(t, db, w.ID, 101); l.OnHand != 10 || l.Reserved != 7 {
		t.Fatalf("after reserving: %+v", l)
	}

	// Release is idempotent.
	for i := 0; i < 2; i++ {
		if err := svc.Release(ctx, "order:1"); err != nil {
			t.Fatal(err)
		}
		if l := level(t, db, w.ID, 101); l.OnHand != 10 || l.Reserved != 4 {
			t.Fatalf("after release #%d: %+v", i+1, l)
		}
	}
	if n := count(t, db, &warehouse.StockMove{}, "kind = ? AND ref = ?", warehouse.MoveRelease, "order:1"); n != 1 {
		t.Errorf("%d release moves, want 1", n)
	}
	// A released order cannot be fulfilled from its (gone) reservation.
	err := svc.Commit(ctx, "order:1")
	wantCode(t, err, apperr.KindConflict, "reservation_released")

	// Commit is idempotent, inside a caller's transaction too.
	for i := 0; i < 2; i++ {
		if err := db.Tx(ctx, func(ctx context.Context) error { return svc.Commit(ctx, "order:2") }); err != nil {
			t.Fatal(err)
		}
		if l := level(t, db, w.ID, 101); l.OnHand != 6 || l.Reserved != 0 {
			t.Fatalf("after commit #%d: %+v", i+1, l)
		}
	}
	// Releasing a committed order changes nothing.
	if err := svc.Release(ctx, "order:2"); err != nil {
		t.Fatal(err)
	}
	if l := level(t, db, w.ID, 101); l.OnHand != 6 || l.Reserved != 0 {
		t.Fatalf("after release of a committed order: %+v", l)
	}
	var st []string
	db.Reader().Model(&warehouse.Reservation{}).Order("order_ref").Pluck("status", &st)
	if fmt.Sprint(st) != "[released committed]" {
		t.Errorf("statuses = %v", st)
	}
	// Unknown orders (SaaS-only orders reserve nothing) are no-ops.
	if err := svc.Release(ctx, "order:404"); err != nil {
		t.Error(err)
	}
	if err := svc.Commit(ctx, "order:404"); err != nil {
		t.Error(err)
	}
	wantCode(t, svc.Release(ctx, " "), apperr.KindInvalid, "invalid_input")
	if err := svc.Commit(context.Background(), "order:2"); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("Commit without a tenant = %v", err)
	}
	checkLedger(t, db)
}

// reserveTo runs ReserveNew for an order shipping to country in its own
// transaction, as the checkout does.
func reserveTo(db *store.DB, svc *warehouse.Service, ctx context.Context, ref, country string, sku, qty int64) error {
	return db.Tx(ctx, func(ctx context.Context) error {
		_, err := svc.ReserveNew(ctx, ref, country, []warehouse.ReserveLine{{SKUID: sku, Qty: qty}}, time.Hour)
		return err
	})
}

func heldBy(t *testing.T, db *store.DB, ref string) map[int64]int64 {
	t.Helper()
	var rs []warehouse.Reservation
	if err := db.Reader().Where("order_ref = ?", ref).Find(&rs).Error; err != nil {
		t.Fatal(err)
	}
	m := map[int64]int64{}
	for _, r := range rs {
		m[r.WarehouseID] += r.Qty
	}
	return m
}

// TestAllocationStrategy: a line is taken whole from a warehouse in the
// destination country when one can cover it (the one with the most
// available), else whole from the one with the most available anywhere;
// only when none can is it split, destination country first, most
// available first. Closed warehouses give nothing.
func TestAllocationStrategy(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	main := defaultWarehouse(t, svc, ctx) // CN (the tenant sells in CNY)
	mk := func(code, country string) warehouse.Warehouse {
		w, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: code, Name: code, Country: country})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	east, west := mk("EAST", "US"), mk("WEST", "US")
	adjust(t, svc, ctx, 101, main.ID, 2)
	adjust(t, svc, ctx, 101, east.ID, 2)
	adjust(t, svc, ctx, 101, west.ID, 4)

	steps := []struct {
		ref, country string
		qty          int64
		want         map[int64]int64
	}{
		// To the US, 3: WEST (4) covers it, EAST (2) does not.
		{"order:1", "US", 3, map[int64]int64{west.ID: 3}},
		// To the US, 1: EAST has 2, WEST 1 left: the most available.
		{"order:2", "US", 1, map[int64]int64{east.ID: 1}},
		// To China, 2: MAIN, in country.
		{"order:3", "CN", 2, map[int64]int64{main.ID: 2}},
		// Nowhere in particular, 1: EAST and WEST have 1 each: the default
		// comes first among equals, but MAIN has none: EAST (lower id).
		{"order:4", "", 1, map[int64]int64{east.ID: 1}},
	}
	for _, st := range steps {
		if err := reserveTo(db, svc, ctx, st.ref, st.country, 101, st.qty); err != nil {
			t.Fatalf("%s: %v", st.ref, err)
		}
		if got := heldBy(t, db, st.ref); !maps.Equal(got, st.want) {
			t.Fatalf("%s to %q: held %v, want %v", st.ref, st.country, got, st.want)
		}
	}
	// Free order 3, then 3 to the US: no single warehouse has 3 (MAIN 2,
	// WEST 1): split, the US first, then the rest.
	if err := svc.Release(ctx, "order:3"); err != nil {
		t.Fatal(err)
	}
	if err := reserveTo(db, svc, ctx, "order:5", "US", 101, 3); err != nil {
		t.Fatal(err)
	}
	if got := heldBy(t, db, "order:5"); !maps.Equal(got, map[int64]int64{west.ID: 1, main.ID: 2}) {
		t.Fatalf("split: held %v", got)
	}
	if err := reserveTo(db, svc, ctx, "order:6", "US", 101, 1); !errors.Is(err, warehouse.ErrOutOfStock) {
		t.Fatalf("nothing left: %v", err)
	}
	// A closed warehouse keeps its stock but gives none.
	adjust(t, svc, ctx, 102, east.ID, 10)
	closed := warehouse.WarehouseClosed
	if _, err := svc.UpdateWarehouse(ctx, east.ID, warehouse.WarehousePatch{Status: &closed}); err != nil {
		t.Fatal(err)
	}
	if err := reserveTo(db, svc, ctx, "order:7", "US", 102, 1); !errors.Is(err, warehouse.ErrOutOfStock) {
		t.Fatalf("from a closed warehouse: %v", err)
	}
	// Committing the split order takes it from both warehouses.
	if err := svc.Commit(ctx, "order:5"); err != nil {
		t.Fatal(err)
	}
	if m, w := level(t, db, main.ID, 101), level(t, db, west.ID, 101); m.OnHand != 0 || w.OnHand != 3 || w.Reserved != 3 {
		t.Fatalf("main %+v, west %+v", m, w)
	}
	ws, _ := svc.Warehouses(ctx)
	if len(ws) != 3 || ws[0].Code != "MAIN" || ws[1].Code != "EAST" || ws[1].Status != warehouse.WarehouseClosed {
		t.Errorf("Warehouses = %+v", ws)
	}
	checkLedger(t, db)
}

// TestWarehouseManagement: create, read, change, close and re-default
// warehouses, with field errors, and tenant isolation.
func TestWarehouseManagement(t *testing.T) {
	_, svc := setup(t)
	ctx := staff(1)
	w, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: " sh-01 ", Name: " Shanghai ", Country: "cn",
		Line1: "88 Century Ave", City: "Shanghai", PostalCode: "200120"})
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != "SH-01" || w.Name != "Shanghai" || w.Country != "CN" || w.Status != warehouse.WarehouseActive || w.IsDefault {
		t.Fatalf("created %+v", w)
	}
	if _, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: "SH-01", Name: "Again", Country: "CN"}); !errors.Is(err, apperr.Conflict("already_exists")) {
		t.Fatalf("duplicate code: %v", err)
	}
	// Another tenant may use the code.
	if _, err := svc.CreateWarehouse(staff(2), warehouse.WarehouseInput{Code: "SH-01", Name: "Theirs", Country: "DE"}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: "no spaces", Name: "", Country: "XX", City: strings.Repeat("c", 121)})
	wantField(t, err, "code", "invalid_format")
	wantField(t, err, "name", "required")
	wantField(t, err, "country", "invalid_country")
	wantField(t, err, "city", "too_long")

	got, err := svc.Warehouse(ctx, w.ID)
	if err != nil || got.City != "Shanghai" || got.PostalCode != "200120" {
		t.Fatalf("Warehouse = %+v, %v", got, err)
	}
	if _, err := svc.Warehouse(staff(2), w.ID); !errors.Is(err, apperr.NotFound("warehouse")) {
		t.Fatalf("another tenant's warehouse: %v", err)
	}
	name, closed, bad := "Shanghai Pudong", warehouse.WarehouseClosed, "open"
	if got, err = svc.UpdateWarehouse(ctx, w.ID, warehouse.WarehousePatch{Name: &name}); err != nil || got.Name != name || got.Code != "SH-01" {
		t.Fatalf("rename = %+v, %v", got, err)
	}
	_, err = svc.UpdateWarehouse(ctx, w.ID, warehouse.WarehousePatch{Status: &bad})
	wantField(t, err, "status", "invalid_choice")
	if _, err := svc.UpdateWarehouse(ctx, w.ID, warehouse.WarehousePatch{}); apperr.As(err).Code != "nothing_to_change" {
		t.Fatalf("empty patch: %v", err)
	}
	if _, err := svc.UpdateWarehouse(staff(2), w.ID, warehouse.WarehousePatch{Name: &name}); !errors.Is(err, apperr.NotFound("warehouse")) {
		t.Fatalf("another tenant's update: %v", err)
	}
	// The default cannot be closed; after moving the default it can.
	main := defaultWarehouse(t, svc, ctx)
	if _, err := svc.UpdateWarehouse(ctx, main.ID, warehouse.WarehousePatch{Status: &closed}); apperr.As(err).Code != "default_warehouse_closed" {
		t.Fatalf("closing the default: %v", err)
	}
	yes := true
	if got, err = svc.UpdateWarehouse(ctx, w.ID, warehouse.WarehousePatch{IsDefault: &yes}); err != nil || !got.IsDefault {
		t.Fatalf("make default = %+v, %v", got, err)
	}
	if got, err = svc.UpdateWarehouse(ctx, main.ID, warehouse.WarehousePatch{Status: &closed}); err != nil || got.Status != closed || got.IsDefault {
		t.Fatalf("close the old default = %+v, %v", got, err)
	}
	if d := defaultWarehouse(t, svc, ctx); d.ID != w.ID {
		t.Fatalf("default is %d, want %d", d.ID, w.ID)
	}
}

func TestStockList(t *testing.T) {
	_, svc := setup(t)
	ctx := staff(1)
	for _, sku := range []int64{103, 101, 102, 105} {
		adjust(t, svc, ctx, sku, 0, sku-100)
	}
	page, err := svc.Stock(ctx, warehouse.StockQuery{PageRequest: store.PageRequest{Page: 1, PerPage: 3}})
	if err != nil || page.Total != 4 || len(page.Items) != 3 || page.Items[0].SKUID != 101 || page.Items[2].SKUID != 103 {
		t.Fatalf("page 1 = %+v, %v", page, err)
	}
	page, _ = svc.Stock(ctx, warehouse.StockQuery{PageRequest: store.PageRequest{Page: 2, PerPage: 3}})
	if len(page.Items) != 1 || page.Items[0].SKUID != 105 || page.Items[0].OnHand != 5 {
		t.Fatalf("page 2 = %+v", page)
	}
	page, _ = svc.Stock(ctx, warehouse.StockQuery{SKUIDs: []int64{102, 105, 104}})
	if page.Total != 2 || page.Items[0].SKUID != 102 || page.Items[1].SKUID != 105 {
		t.Fatalf("by sku = %+v", page)
	}
	_, err = svc.Stock(ctx, warehouse.StockQuery{SKUIDs: []int64{1, 0}})
	wantField(t, err, "sku_ids[1]", "invalid_id")
	_, err = svc.Stock(ctx, warehouse.StockQuery{SKUIDs: make([]int64, warehouse.MaxSKUIDs+1)})
	wantField(t, err, "sku_ids", "too_many")
	if _, err := svc.Stock(context.Background(), warehouse.StockQuery{}); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("Stock without a tenant = %v", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	db, svc := setup(t)
	a, b := staff(1), staff(2)
	wa := defaultWarehouse(t, svc, a)
	adjust(t, svc, a, 101, 0, 10)
	adjust(t, svc, b, 201, 0, 4)
	if err := svc.Reserve(a, "order:1", []warehouse.ReserveLine{{SKUID: 101, Qty: 3}}, time.Hour); err != nil {
		t.Fatal(err)
	}

	// B sees only its own warehouse and stock.
	ws, err := svc.Warehouses(b)
	if err != nil || len(ws) != 1 || ws[0].ID == wa.ID {
		t.Fatalf("B's warehouses = %+v, %v", ws, err)
	}
	page, err := svc.Stock(b, warehouse.StockQuery{})
	if err != nil || page.Total != 1 || page.Items[0].SKUID != 201 {
		t.Fatalf("B's stock = %+v, %v", page, err)
	}
	page, err = svc.Stock(b, warehouse.StockQuery{SKUIDs: []int64{101}})
	if err != nil || page.Total != 0 || len(page.Items) != 0 {
		t.Fatalf("B's stock of A's SKU = %+v, %v", page, err)
	}
	_, err = svc.Stock(b, warehouse.StockQuery{WarehouseID: wa.ID})
	wantCode(t, err, apperr.KindNotFound, "not_found")
	if avail, err := svc.Available(b, []int64{101, 201}); err != nil || avail[101] != 0 || avail[201] != 4 {
		t.Fatalf("B's availability = %v, %v", avail, err)
	}

	// B cannot adjust A's stock: A's warehouse and A's SKU are not found.
	_, err = svc.Adjust(b, warehouse.Adjustment{SKUID: 201, WarehouseID: wa.ID, Delta: 1, Reason: "x"})
	wantCode(t, err, apperr.KindNotFound, "not_found")
	_, err = svc.Adjust(b, warehouse.Adjustment{SKUID: 101, Delta: -1, Reason: "x"})
	wantCode(t, err, apperr.KindNotFound, "not_found")
	// B cannot reserve, release or commit A's stock.
	if err := svc.Reserve(b, "order:9", []warehouse.ReserveLine{{SKUID: 101, Qty: 1}}, time.Hour); !errors.Is(err, warehouse.ErrOutOfStock) {
		t.Fatalf("B reserving A's SKU = %v", err)
	}
	if err := svc.Release(b, "order:1"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Commit(b, "order:1"); err != nil {
		t.Fatal(err)
	}
	if l := level(t, db, wa.ID, 101); l.OnHand != 10 || l.Reserved != 3 {
		t.Fatalf("A's level after B's calls = %+v", l)
	}
	// The same order ref in B is B's own.
	if err := svc.Reserve(b, "order:1", []warehouse.ReserveLine{{SKUID: 201, Qty: 1}}, time.Hour); err != nil {
		t.Fatal(err)
	}

	// The catalog's platform read sees every tenant's SKUs.
	all, err := svc.AvailableAll(context.Background(), []int64{101, 201, 999, 101})
	if err != nil || len(all) != 3 || all[101] != 7 || all[201] != 3 || all[999] != 0 {
		t.Fatalf("AvailableAll = %v, %v", all, err)
	}
	if _, err := svc.Available(context.Background(), []int64{101}); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("Available without a tenant = %v", err)
	}
	checkLedger(t, db)
}

func TestExpiredReservations(t *testing.T) {
	db, svc := setup(t)
	a, b := staff(1), staff(2)
	adjust(t, svc, a, 101, 0, 10)
	adjust(t, svc, b, 201, 0, 10)
	now := time.Now().UTC()
	for _, r := range []struct {
		ctx context.Context
		ref string
		sku int64
		ttl time.Duration
	}{
		{a, "order:1", 101, time.Minute},
		{b, "order:2", 201, 2 * time.Minute},
		{a, "order:3", 101, time.Hour},
	} {
		lines := []warehouse.ReserveLine{{SKUID: r.sku, Qty: 1}}
		if r.ref == "order:1" { // two rows of one order: listed once
			lines = append(lines, warehouse.ReserveLine{SKUID: 102, Qty: 1})
			adjust(t, svc, a, 102, 0, 1)
		}
		if err := svc.Reserve(r.ctx, r.ref, lines, r.ttl); err != nil {
			t.Fatal(err)
		}
	}
	refs, err := svc.ExpiredReservations(context.Background(), now, 10)
	if err != nil || len(refs) != 0 {
		t.Fatalf("expired now = %v, %v", refs, err)
	}
	refs, _ = svc.ExpiredReservations(context.Background(), now.Add(5*time.Minute), 10)
	if fmt.Sprint(refs) != "[order:1 order:2]" {
		t.Fatalf("expired in 5 min = %v", refs)
	}
	refs, _ = svc.ExpiredReservations(context.Background(), now.Add(5*time.Minute), 1)
	if fmt.Sprint(refs) != "[order:1]" {
		t.Fatalf("expired in 5 min, limit 1 = %v", refs)
	}
	// The job releases each in its tenant; they are not listed again.
	if err := svc.Release(a, "order:1"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Release(b, "order:2"); err != nil {
		t.Fatal(err)
	}
	refs, _ = svc.ExpiredReservations(context.Background(), now.Add(5*time.Minute), 10)
	if len(refs) != 0 {
		t.Fatalf("after release = %v", refs)
	}
	refs, _ = svc.ExpiredReservations(context.Background(), now.Add(2*time.Hour), 0)
	if fmt.Sprint(refs) != "[order:3]" {
		t.Fatalf("in 2 h = %v", refs)
	}
	checkLedger(t, db)
}

// TestConcurrentReserveNeverOversells: 200 checkouts race for 50 units.
// Every fourth asks for two lines of one unit each (2 units); the others for
// one unit. Each runs in its own transaction.
func TestConcurrentReserveNeverOversells(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	w := defaultWarehouse(t, svc, ctx)
	adjust(t, svc, ctx, 101, 0, 50)

	const n = 200
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		ok       atomic.Int64
		units    atomic.Int64
		oos      atomic.Int64
		other    = make(chan error, n)
		stop     = make(chan struct{})
		monitors sync.WaitGroup
		failed   = make([]int64, n) // demand of each refused checkout
	)
	// A reader watches the level while the checkouts run.
	monitors.Add(1)
	go func() {
		defer monitors.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			l := level(t, db, w.ID, 101)
			if l.Reserved > l.OnHand || l.OnHand != 50 {
				other <- fmt.Errorf("observed %+v", l)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lines := []warehouse.ReserveLine{{SKUID: 101, Qty: 1}}
			if i%4 == 0 {
				lines = append(lines, warehouse.ReserveLine{SKUID: 101, Qty: 1})
			}
			<-start
			err := db.Tx(ctx, func(ctx context.Context) error {
				return svc.Reserve(ctx, fmt.Sprintf("order:%d", i), lines, time.Hour)
			})
			var o *warehouse.OutOfStockError
			switch {
			case err == nil:
				ok.Add(1)
				units.Add(int64(len(lines)))
			case errors.As(err, &o) && len(o.SKUIDs) == 1 && o.SKUIDs[0] == 101:
				oos.Add(1)
				failed[i] = int64(len(lines))
			default:
				other <- err
			}
		}(i)
	}
	close(start)
	wg.Wait()
	close(stop)
	monitors.Wait()
	close(other)
	for err := range other {
		t.Errorf("unexpected: %v", err)
	}
	l := level(t, db, w.ID, 101)
	t.Logf("%d reserved (%d units), %d out of stock; level %+v", ok.Load(), units.Load(), oos.Load(), l)
	if ok.Load()+oos.Load() != n {
		t.Fatalf("%d + %d != %d", ok.Load(), oos.Load(), n)
	}
	if units.Load() != 50 || l.Reserved != 50 || l.OnHand != 50 {
		t.Fatalf("reserved %d units, level %+v; want exactly 50", units.Load(), l)
	}
	// Stock only shrinks, so a refused demand must exceed what is left.
	for i, d := range failed {
		if d > 0 && d <= l.Available() {
			t.Errorf("checkout %d for %d refused with %d available", i, d, l.Available())
		}
	}
	var held int64
	db.Reader().Model(&warehouse.Reservation{}).Select("COALESCE(SUM(qty),0)").Where("status = ?", warehouse.ReservationHeld).Scan(&held)
	if held != 50 {
		t.Errorf("held reservations sum to %d", held)
	}
	checkLedger(t, db)
}

// TestConcurrentMixedWorkload races multi-SKU checkouts (lines in random
// order, some split over two warehouses), releases, commits and stock
// adjustments: no deadlock, no error besides out_of_stock and
// insufficient_stock, and the ledger still adds up.
func TestConcurrentMixedWorkload(t *testing.T) {
	t.Run("one warehouse", func(t *testing.T) { mixedWorkload(t, false) })
	t.Run("two warehouses", func(t *testing.T) { mixedWorkload(t, true) })
}

func mixedWorkload(t *testing.T, two bool) {
	db, svc := setup(t)
	ctx := staff(1)
	main := defaultWarehouse(t, svc, ctx)
	east := main
	if two {
		east = warehouse.Warehouse{TenantID: 1, Code: "EAST", Name: "East", CreatedAt: time.Now().UTC()}
		if err := db.Writer().Create(&east).Error; err != nil {
			t.Fatal(err)
		}
	}
	skus := []int64{101, 102, 103, 104, 105}
	for _, sku := range skus {
		adjust(t, svc, ctx, sku, main.ID, 50)
		adjust(t, svc, ctx, sku, east.ID, 35)
	}
	var oos atomic.Int64
	const n = 120
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			ref := fmt.Sprintf("order:%d", i)
			var lines []warehouse.ReserveLine
			for j := range 3 {
				lines = append(lines, warehouse.ReserveLine{SKUID: skus[(i+j*2)%len(skus)], Qty: int64(1 + (i+j)%4)})
			}
			err := db.Tx(ctx, func(ctx context.Context) error { return svc.Reserve(ctx, ref, lines, time.Hour) })
			if err != nil {
				if !errors.Is(err, warehouse.ErrOutOfStock) {
					errs <- fmt.Errorf("reserve %s: %w", ref, err)
				}
				oos.Add(1)
				return
			}
			switch i % 3 {
			case 0:
				err = svc.Release(ctx, ref)
			case 1:
				err = db.Tx(ctx, func(ctx context.Context) error { return svc.Commit(ctx, ref) })
			}
			if err != nil {
				errs <- fmt.Errorf("settle %s: %w", ref, err)
			}
			if i%5 == 0 {
				wh := main.ID
				if i%2 == 0 {
					wh = east.ID
				}
				_, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: skus[i%len(skus)], WarehouseID: wh, Delta: int64(i%3 - 1 + i%2*2), Reason: "recount"})
				if err != nil && !errors.Is(err, warehouse.ErrInsufficientStock) && !errors.Is(err, apperr.ErrInvalid) {
					var ae *apperr.Error
					if !errors.As(err, &ae) || ae.Code != "invalid_input" {
						errs <- fmt.Errorf("adjust: %w", err)
					}
				}
			}
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var split int64
	db.Reader().Raw("SELECT COUNT(*) FROM (SELECT order_ref FROM stock_reservations GROUP BY order_ref, sku_id HAVING COUNT(*) > 1) x").Scan(&split)
	t.Logf("%d of %d checkouts out of stock; %d SKUs split over warehouses", oos.Load(), n, split)
	checkLedger(t, db)
}

// TestCounts: a sheet takes what the books say; confirming posts the
// differences as count moves (kept relative to the sheet, so sales since
// stay), needs every line counted, never takes on_hand below reserved,
// and happens once.
func TestCounts(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	main := defaultWarehouse(t, svc, ctx)
	cost := int64(100)
	if _, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: 101, Delta: 10, Reason: "received", UnitCost: &cost}); err != nil {
		t.Fatal(err)
	}
	adjust(t, svc, ctx, 102, main.ID, 5)
	adjust(t, svc, ctx, 103, main.ID, 2)

	if _, err := svc.CreateCount(ctx, warehouse.CountInput{}); err == nil {
		t.Fatal("a count without a warehouse")
	}
	_, err := svc.CreateCount(ctx, warehouse.CountInput{WarehouseID: main.ID, SKUIDs: []int64{101, 101, -1}})
	wantField(t, err, "sku_ids[1]", "duplicate")
	wantField(t, err, "sku_ids[2]", "invalid_id")
	c, err := svc.CreateCount(ctx, warehouse.CountInput{WarehouseID: main.ID, Note: "year end"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != warehouse.CountOpen || len(c.Lines) != 3 || c.Lines[0].SKUID != 101 || c.Lines[0].Expected != 10 || c.Lines[2].Expected != 2 {
		t.Fatalf("sheet = %+v", c)
	}
	// A sale after the sheet was made: it stays when the count is posted.
	if err := svc.Reserve(ctx, "order:1", []warehouse.ReserveLine{{SKUID: 101, Qty: 3}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := svc.Commit(ctx, "order:1"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.EnterCounts(ctx, c.ID, []warehouse.CountEntry{{SKUID: 104, Counted: 1}, {SKUID: 101, Counted: -1}})
	wantField(t, err, "lines[1].counted", "out_of_range")
	_, err = svc.EnterCounts(ctx, c.ID, []warehouse.CountEntry{{SKUID: 104, Counted: 1}})
	wantField(t, err, "lines[0].sku_id", "not_on_sheet")
	if _, err := svc.EnterCounts(ctx, c.ID, []warehouse.CountEntry{{SKUID: 101, Counted: 12}, {SKUID: 102, Counted: 5}}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.ConfirmCount(ctx, c.ID)
	wantField(t, err, "lines[2].counted", "required")
	if got, _ := svc.Count(ctx, c.ID); got.Status != warehouse.CountOpen {
		t.Fatalf("a refused confirmation changed the sheet: %+v", got)
	}
	// 103: 2 on the books, 0 found — but 1 is reserved: refused.
	if err := svc.Reserve(ctx, "order:2", []warehouse.ReserveLine{{SKUID: 103, Qty: 1}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EnterCounts(ctx, c.ID, []warehouse.CountEntry{{SKUID: 103, Counted: 0}}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.ConfirmCount(ctx, c.ID)
	if apperr.As(err).Code != warehouse.CodeInsufficientStock || apperr.As(err).Fields["lines[2].counted"].Code == "" {
		t.Fatalf("count below reserved: %#v", err)
	}
	if l := level(t, db, main.ID, 101); l.OnHand != 7 {
		t.Fatalf("a refused confirmation moved stock: %+v", l)
	}
	if err := svc.Release(ctx, "order:2"); err != nil {
		t.Fatal(err)
	}
	got, err := svc.ConfirmCount(ctx, c.ID)
	if err != nil || got.Status != warehouse.CountConfirmed || got.ConfirmedAt == nil {
		t.Fatalf("confirm = %+v, %v", got, err)
	}
	// 101: 10 on the sheet, 12 counted: +2 on top of the 7 left after the sale.
	if l := level(t, db, main.ID, 101); l.OnHand != 9 {
		t.Fatalf("101 after the count: %+v", l)
	}
	if l := level(t, db, main.ID, 103); l.OnHand != 0 {
		t.Fatalf("103 after the count: %+v", l)
	}
	if got.Lines[0].Posted != 2 || got.Lines[1].Posted != 0 || got.Lines[2].Posted != -2 {
		t.Fatalf("posted = %+v", got.Lines)
	}
	var mv warehouse.StockMove
	db.Reader().Where("kind = ? AND sku_id = ?", warehouse.MoveCount, 101).Take(&mv)
	if mv.DeltaOnHand != 2 || mv.UnitCost != 100 || mv.Ref != fmt.Sprintf("count:%d", c.ID) {
		t.Fatalf("count move: %+v", mv)
	}
	for _, f := range []func() error{
		func() error { _, err := svc.ConfirmCount(ctx, c.ID); return err },
		func() error { _, err := svc.CancelCount(ctx, c.ID); return err },
		func() error {
			_, err := svc.EnterCounts(ctx, c.ID, []warehouse.CountEntry{{SKUID: 101, Counted: 1}})
			return err
		},
	} {
		if err := f(); apperr.As(err).Code != "count_not_open" {
			t.Fatalf("on a confirmed sheet: %v", err)
		}
	}
	if _, err := svc.Count(staff(2), c.ID); !errors.Is(err, apperr.NotFound("count")) {
		t.Fatalf("another tenant's sheet: %v", err)
	}
	c2, err := svc.CreateCount(ctx, warehouse.CountInput{WarehouseID: main.ID, SKUIDs: []int64{102}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := svc.CancelCount(ctx, c2.ID); err != nil || got.Status != warehouse.CountCancelled {
		t.Fatalf("cancel = %+v, %v", got, err)
	}
	page, err := svc.Counts(ctx, warehouse.CountQuery{Status: warehouse.CountConfirmed, PageRequest: store.PageRequest{Page: 1, PerPage: 5}})
	if err != nil || page.Total != 1 || page.Items[0].ID != c.ID {
		t.Fatalf("Counts(confirmed) = %+v, %v", page, err)
	}
	checkLedger(t, db)
}

// TestSuppliers: suppliers with their terms and the SKUs they sell, with
// field errors, replacing terms, and tenant isolation.
func TestSuppliers(t *testing.T) {
	_, svc := setup(t)
	ctx := staff(1)
	sp, err := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "acme", Name: " Acme Parts ", Email: "sales@acme.test",
		Currency: "usd", LeadTimeDays: 14, PaymentTerms: "NET30"})
	if err != nil {
		t.Fatal(err)
	}
	if sp.Code != "ACME" || sp.Name != "Acme Parts" || sp.Currency != "USD" || !sp.Active || sp.LeadTimeDays != 14 {
		t.Fatalf("supplier = %+v", sp)
	}
	if _, err := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "ACME", Name: "Again", Currency: "USD"}); !errors.Is(err, apperr.Conflict("already_exists")) {
		t.Fatalf("duplicate code: %v", err)
	}
	_, err = svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "a b", Email: "not an email", Currency: "QQQ", LeadTimeDays: 400})
	for field, code := range map[string]string{"code": "invalid_format", "name": "required", "email": "invalid_email",
		"currency": "invalid_currency", "lead_time_days": "out_of_range"} {
		wantField(t, err, field, code)
	}
	off := false
	got, err := svc.UpdateSupplier(ctx, sp.ID, warehouse.SupplierInput{Name: "Acme Parts Ltd", Currency: "EUR", LeadTimeDays: 10, Active: &off})
	if err != nil || got.Name != "Acme Parts Ltd" || got.Currency != "EUR" || got.Active || got.Code != "ACME" {
		t.Fatalf("update = %+v, %v", got, err)
	}
	page, err := svc.Suppliers(ctx, "parts", false, store.PageRequest{Page: 1, PerPage: 10})
	if err != nil || page.Total != 1 {
		t.Fatalf("search = %+v, %v", page, err)
	}
	if page, _ := svc.Suppliers(ctx, "", true, store.PageRequest{Page: 1, PerPage: 10}); page.Total != 0 {
		t.Fatalf("active only: %+v", page)
	}
	row, err := svc.SetSupplierSKU(ctx, sp.ID, warehouse.SupplierSKUInput{SKUID: 101, SupplierCode: "AC-101", UnitCost: 420, MinOrderQty: 50, PackSize: 12})
	if err != nil || row.PackSize != 12 || row.MinOrderQty != 50 {
		t.Fatalf("set sku = %+v, %v", row, err)
	}
	if _, err := svc.SetSupplierSKU(ctx, sp.ID, warehouse.SupplierSKUInput{SKUID: 101, UnitCost: 400}); err != nil { // replaces, defaults 1
		t.Fatal(err)
	}
	rows, err := svc.SupplierSKUs(ctx, sp.ID)
	if err != nil || len(rows) != 1 || rows[0].UnitCost != 400 || rows[0].PackSize != 1 || rows[0].MinOrderQty != 1 {
		t.Fatalf("supplier skus = %+v, %v", rows, err)
	}
	_, err = svc.SetSupplierSKU(ctx, sp.ID, warehouse.SupplierSKUInput{SKUID: 0, UnitCost: -1, PackSize: -2})
	wantField(t, err, "sku_id", "required")
	wantField(t, err, "unit_cost", "out_of_range")
	wantField(t, err, "pack_size", "out_of_range")
	// Tenant 2 sees none of it.
	if _, err := svc.Supplier(staff(2), sp.ID); !errors.Is(err, apperr.NotFound("supplier")) {
		t.Fatalf("another tenant's supplier: %v", err)
	}
	if _, err := svc.SetSupplierSKU(staff(2), sp.ID, warehouse.SupplierSKUInput{SKUID: 201, UnitCost: 1}); !errors.Is(err, apperr.NotFound("supplier")) {
		t.Fatalf("another tenant sets a price: %v", err)
	}
	if _, err := svc.UpdateSupplier(staff(2), sp.ID, warehouse.SupplierInput{Name: "x", Currency: "USD"}); !errors.Is(err, apperr.NotFound("supplier")) {
		t.Fatalf("another tenant updates: %v", err)
	}
}

// TestPurchaseOrders walks the purchase order state machine (every allowed
// transition and refusals of the others), partial, over and short
// receipts, and receipt costs converted at the order's exchange rate into
// the moving average.
func TestPurchaseOrders(t *testing.T) {
	db, svc := setup(t)
	ctx := tenants.WithTenant(staff(1), &tenants.Tenant{ID: 1, DefaultCurrency: "CNY"})
	main := defaultWarehouse(t, svc, ctx)
	sp, err := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "ACME", Name: "Acme", Currency: "USD", LeadTimeDays: 14})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetSupplierSKU(ctx, sp.ID, warehouse.SupplierSKUInput{SKUID: 101, UnitCost: 1000}); err != nil {
		t.Fatal(err)
	}
	c := func(n int64) *int64 { return &n }
	lines := []warehouse.POLineInput{{SKUID: 102, Qty: 5, UnitCost: c(200)}, {SKUID: 101, Qty: 10}}
	_, err = svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, Lines: lines})
	wantField(t, err, "exchange_rate", "required") // USD into a CNY tenant
	_, err = svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, ExchangeRate: "abc", Lines: lines})
	wantField(t, err, "exchange_rate", "invalid_rate")
	_, err = svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, ExchangeRate: "7.2", Lines: []warehouse.POLineInput{{SKUID: 103, Qty: 1}, {SKUID: 103, Qty: 0}}})
	wantField(t, err, "lines[1].sku_id", "duplicate")
	wantField(t, err, "lines[1].qty", "out_of_range")
	_, err = svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, ExchangeRate: "7.2", Lines: []warehouse.POLineInput{{SKUID: 103, Qty: 1}}})
	wantField(t, err, "lines[0].sku_id", "no_supplier_price")
	po, err := svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, ExchangeRate: "7.2", Note: "restock", Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	if po.Status != warehouse.POStatusDraft || po.Currency != "USD" || po.WarehouseID != main.ID || po.Total != 10*1000+5*200 ||
		po.Lines[0].SKUID != 101 || po.Lines[0].UnitCost != 1000 {
		t.Fatalf("draft = %+v", po)
	}
	refused := func(name string, err error) {
		t.Helper()
		if apperr.As(err).Code != "invalid_transition" {
			t.Fatalf("%s: %v, want invalid_transition", name, err)
		}
	}
	_, err = svc.SendPurchaseOrder(ctx, po.ID)
	refused("send a draft", err)
	_, err = svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: 101, Qty: 1}})
	refused("receive a draft", err)
	_, err = svc.ClosePurchaseOrder(ctx, po.ID)
	refused("close a draft", err)
	if po, err = svc.ApprovePurchaseOrder(ctx, po.ID); err != nil || po.Status != warehouse.POStatusApproved || po.ApprovedAt == nil {
		t.Fatalf("approve = %+v, %v", po, err)
	}
	_, err = svc.ApprovePurchaseOrder(ctx, po.ID)
	refused("approve twice", err)
	_, err = svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: 101, Qty: 1}})
	refused("receive before sending", err)
	if po, err = svc.SendPurchaseOrder(ctx, po.ID); err != nil || po.Status != warehouse.POStatusSent || po.ExpectedAt == nil ||
		po.ExpectedAt.Sub(*po.SentAt) != 14*24*time.Hour {
		t.Fatalf("send = %+v, %v", po, err)
	}
	// 4 of 10 arrive: partially received, 6 short, valued at 10.00 USD × 7.2 = 72.00 CNY.
	_, err = svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: 104, Qty: 1}})
	wantField(t, err, "lines[0].sku_id", "not_on_order")
	rc, err := svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: 101, Qty: 4}})
	if err != nil || rc.Order.Status != warehouse.POStatusPartiallyReceived || rc.Lines[0].Short != 6 || rc.Lines[0].UnitCost != 7200 {
		t.Fatalf("partial receipt = %+v, %v", rc, err)
	}
	_, err = svc.CancelPurchaseOrder(ctx, po.ID)
	refused("cancel after a receipt", err)
	// 8 more of 101 (2 over) and the 5 of 102 (2.00 USD × 7.2 = 14.40 CNY).
	rc, err = svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: 102, Qty: 5}, {SKUID: 101, Qty: 8}})
	if err != nil || rc.Order.Status != warehouse.POStatusReceived || rc.Lines[0].Over != 2 || rc.Lines[0].Total != 12 || rc.Lines[1].UnitCost != 1440 {
		t.Fatalf("final receipt = %+v, %v", rc, err)
	}
	if l := level(t, db, main.ID, 101); l.OnHand != 12 {
		t.Fatalf("101 on hand %+v", l)
	}
	page, _, _ := svc.Valuation(ctx, store.PageRequest{Page: 1, PerPage: 10})
	if page.Items[0].AvgCost != 7200 || page.Items[1].AvgCost != 1440 {
		t.Fatalf("valuation = %+v", page.Items)
	}
	if po, err = svc.ClosePurchaseOrder(ctx, po.ID); err != nil || po.Status != warehouse.POStatusClosed {
		t.Fatalf("close = %+v, %v", po, err)
	}
	for name, f := range map[string]func(context.Context, int64) (*warehouse.PurchaseOrder, error){
		"approve": svc.ApprovePurchaseOrder, "send": svc.SendPurchaseOrder, "cancel": svc.CancelPurchaseOrder, "close": svc.ClosePurchaseOrder,
	} {
		_, err := f(ctx, po.ID)
		refused(name+" a closed order", err)
	}
	_, err = svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: 101, Qty: 1}})
	refused("receive into a closed order", err)

	// Cancel from draft, approved and sent; close a partial one short.
	for _, steps := range [][]func(context.Context, int64) (*warehouse.PurchaseOrder, error){
		nil, {svc.ApprovePurchaseOrder}, {svc.ApprovePurchaseOrder, svc.SendPurchaseOrder},
	} {
		p, err := svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, ExchangeRate: "7", Lines: []warehouse.POLineInput{{SKUID: 101, Qty: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range steps {
			if _, err := st(ctx, p.ID); err != nil {
				t.Fatal(err)
			}
		}
		if p, err = svc.CancelPurchaseOrder(ctx, p.ID); err != nil || p.Status != warehouse.POStatusCancelled {
			t.Fatalf("cancel after %d steps = %+v, %v", len(steps), p, err)
		}
		_, err = svc.ApprovePurchaseOrder(ctx, p.ID)
		refused("approve a cancelled order", err)
	}
	p, _ := svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, ExchangeRate: "7", Lines: []warehouse.POLineInput{{SKUID: 101, Qty: 3}}})
	svc.ApprovePurchaseOrder(ctx, p.ID)
	svc.SendPurchaseOrder(ctx, p.ID)
	if _, err := svc.ReceiveGoods(ctx, p.ID, []warehouse.ReceiptLine{{SKUID: 101, Qty: 1}}); err != nil {
		t.Fatal(err)
	}
	if p, err = svc.ClosePurchaseOrder(ctx, p.ID); err != nil || p.Status != warehouse.POStatusClosed || p.Lines[0].Received != 1 {
		t.Fatalf("short close = %+v, %v", p, err)
	}
	// Events for the docking and finance modules.
	for _, topic := range []string{"purchase_order.created", "purchase_order.approved", "purchase_order.sent", "goods.received",
		"purchase_order.closed", "purchase_order.cancelled"} {
		if n := count(t, db, &store.OutboxEvent{}, "topic = ?", topic); n == 0 {
			t.Errorf("no %s event", topic)
		}
	}
	if _, err := svc.PurchaseOrder(staff(2), po.ID); !errors.Is(err, apperr.NotFound("purchase order")) {
		t.Fatalf("another tenant's order: %v", err)
	}
	list, err := svc.PurchaseOrders(ctx, warehouse.POQuery{Status: warehouse.POStatusCancelled, PageRequest: store.PageRequest{Page: 1, PerPage: 10}})
	if err != nil || list.Total != 3 {
		t.Fatalf("cancelled orders = %+v, %v", list.Total, err)
	}
	checkLedger(t, db)
}

// TestReplenishment: sales bring a SKU below its minimum → exactly one draft
// purchase order from the preferred supplier, for the maximum less the
// projected stock rounded to the supplier's minimum and pack; running again
// proposes nothing new; receiving the order restores the stock.
func TestReplenishment(t *testing.T) {
	db, svc := setup(t)
	ctx := tenants.WithTenant(staff(1), &tenants.Tenant{ID: 1, DefaultCurrency: "CNY"})
	main := defaultWarehouse(t, svc, ctx)
	cheap, err := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "CHEAP", Name: "Cheap", Currency: "CNY"})
	if err != nil {
		t.Fatal(err)
	}
	pref, err := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "PREF", Name: "Preferred", Currency: "CNY", LeadTimeDays: 3})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetSupplierSKU(ctx, cheap.ID, warehouse.SupplierSKUInput{SKUID: 101, UnitCost: 500})
	svc.SetSupplierSKU(ctx, pref.ID, warehouse.SupplierSKUInput{SKUID: 101, UnitCost: 600, MinOrderQty: 30, PackSize: 12})
	cost := int64(550)
	if _, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: 101, Delta: 20, Reason: "opening", UnitCost: &cost}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.SetReorderRule(ctx, warehouse.ReorderRuleInput{SKUID: 101, MinQty: 10, MaxQty: 5})
	wantField(t, err, "max_qty", "less_than_min")
	if _, err := svc.SetReorderRule(ctx, warehouse.ReorderRuleInput{SKUID: 101, MinQty: 10, MaxQty: 40, PreferredSupplierID: &pref.ID}); err != nil {
		t.Fatal(err)
	}
	// Above the minimum: nothing.
	if run, err := svc.Replenish(ctx); err != nil || len(run.Orders) != 0 || len(run.Proposals) != 0 {
		t.Fatalf("run above minimum = %+v, %v", run, err)
	}
	// Sales: 12 shipped, 4 more reserved → projected 20 − 12 − 4 = 4 < 10.
	for i, q := range []int64{7, 5} {
		ref := fmt.Sprintf("order:%d", i)
		if err := svc.Reserve(ctx, ref, []warehouse.ReserveLine{{SKUID: 101, Qty: q}}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := svc.Commit(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Reserve(ctx, "order:9", []warehouse.ReserveLine{{SKUID: 101, Qty: 4}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	run, err := svc.Replenish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Orders) != 1 || len(run.Proposals) != 1 {
		t.Fatalf("run = %+v", run)
	}
	p := run.Proposals[0]
	// Up to 40 needs 36; the supplier's minimum 30 is met; packs of 12: 36.
	if p.Projected != 4 || p.OnHand != 8 || p.Reserved != 4 || p.Qty != 36 || p.SupplierID != pref.ID || p.OrderID != run.Orders[0] {
		t.Fatalf("proposal = %+v", p)
	}
	t.Logf("why: %s", p.Reason)
	po, err := svc.PurchaseOrder(ctx, run.Orders[0])
	if err != nil || po.Status != warehouse.POStatusDraft || po.Source != "replenishment" || po.SupplierID != pref.ID ||
		len(po.Lines) != 1 || po.Lines[0].Qty != 36 || po.Lines[0].UnitCost != 600 || po.Lines[0].Reason != p.Reason {
		t.Fatalf("drafted = %+v, %v", po, err)
	}
	if n := count(t, db, &store.OutboxEvent{}, "topic = ?", "stock.low"); n != 1 {
		t.Fatalf("%d stock.low events", n)
	}
	// Again: the draft counts as incoming, so nothing new.
	if run, err := svc.Replenish(ctx); err != nil || len(run.Orders) != 0 {
		t.Fatalf("second run = %+v, %v", run, err)
	}
	if n := count(t, db, &warehouse.PurchaseOrder{}, "1 = 1"); n != 1 {
		t.Fatalf("%d purchase orders after two runs", n)
	}
	// Approve, send, receive: stock restored, nothing proposed.
	svc.ApprovePurchaseOrder(ctx, po.ID)
	svc.SendPurchaseOrder(ctx, po.ID)
	if _, err := svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: 101, Qty: 36}}); err != nil {
		t.Fatal(err)
	}
	if l := level(t, db, main.ID, 101); l.OnHand != 44 || l.Available() != 40 {
		t.Fatalf("after the receipt: %+v", l)
	}
	if run, err := svc.Replenish(ctx); err != nil || len(run.Orders) != 0 {
		t.Fatalf("run after the receipt = %+v, %v", run, err)
	}
	// A rule whose SKU nobody sells is reported, not ordered.
	adjust(t, svc, ctx, 102, main.ID, 1)
	svc.SetReorderRule(ctx, warehouse.ReorderRuleInput{SKUID: 102, MinQty: 5, MaxQty: 10})
	if run, err := svc.Replenish(ctx); err != nil || len(run.Orders) != 0 || len(run.Proposals) != 1 || run.Proposals[0].Skipped != "no_supplier" {
		t.Fatalf("run without a supplier = %+v, %v", run, err)
	}
	rules, err := svc.ReorderRules(ctx, store.PageRequest{Page: 1, PerPage: 10})
	if err != nil || rules.Total != 2 {
		t.Fatalf("rules = %+v, %v", rules, err)
	}
	checkLedger(t, db)
}

// TestLedgerInvariantsUnderRandomOperations drives random sequences of
// receipts, adjustments, sales (reserve → fulfil), cancels, transfers and
// counts across three warehouses and checks after every step that each
// level's on hand and reserved are the sums of its moves, that reserved is
// what the held reservations hold and never above on hand (so available ≥
// 0), and that the valuation counts every unit on hand or in transit.
// Refusals (out of stock, insufficient stock, wrong state) are expected;
// anything internal fails the test.
func TestLedgerInvariantsUnderRandomOperations(t *testing.T) {
	steps := 250
	if testing.Short() {
		steps = 60
	}
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			db, svc := setup(t)
			ctx := tenants.WithTenant(staff(1), &tenants.Tenant{ID: 1, DefaultCurrency: "CNY"})
			r := rand.New(rand.NewPCG(seed, 99))
			whs := []int64{defaultWarehouse(t, svc, ctx).ID}
			for _, code := range []string{"EAST", "WEST"} {
				w, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: code, Name: code, Country: []string{"CN", "US"}[len(whs)-1]})
				if err != nil {
					t.Fatal(err)
				}
				whs = append(whs, w.ID)
			}
			sp, _ := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "S", Name: "S", Currency: "CNY"})
			skus := []int64{101, 102, 103}
			for _, sku := range skus {
				svc.SetSupplierSKU(ctx, sp.ID, warehouse.SupplierSKUInput{SKUID: sku, UnitCost: 100 + sku})
			}
			var held []string
			var transfers []int64
			ok := func(op string, err error) {
				t.Helper()
				if err != nil && apperr.As(err).Kind == apperr.KindInternal {
					t.Fatalf("%s: %v", op, err)
				}
			}
			pick := func(xs []int64) int64 { return xs[r.IntN(len(xs))] }
			for step := range steps {
				op := ""
				switch n := r.IntN(100); {
				case n < 20: // receipt through a purchase order
					op = "receipt"
					po, err := svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, WarehouseID: pick(whs),
						Lines: []warehouse.POLineInput{{SKUID: pick(skus), Qty: 1 + r.Int64N(10)}}})
					ok(op, err)
					if err == nil {
						_, err = svc.ApprovePurchaseOrder(ctx, po.ID)
						ok(op, err)
						_, err = svc.SendPurchaseOrder(ctx, po.ID)
						ok(op, err)
						_, err = svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: po.Lines[0].SKUID, Qty: 1 + r.Int64N(po.Lines[0].Qty+2)}})
						ok(op, err)
					}
				case n < 30:
					op = "adjust"
					d := r.Int64N(9) - 4
					if d == 0 {
						d = 1
					}
					_, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: pick(skus), WarehouseID: pick(whs), Delta: d, Reason: "random"})
					ok(op, err)
				case n < 55:
					op = "sale"
					ref := fmt.Sprintf("order:%d", step)
					lines := []warehouse.ReserveLine{{SKUID: pick(skus), Qty: 1 + r.Int64N(4)}}
					if r.IntN(2) == 0 {
						if other := pick(skus); other != lines[0].SKUID {
							lines = append(lines, warehouse.ReserveLine{SKUID: other, Qty: 1 + r.Int64N(3)})
						}
					}
					err := db.Tx(ctx, func(ctx context.Context) error {
						_, err := svc.ReserveNew(ctx, ref, []string{"CN", "US", ""}[r.IntN(3)], lines, time.Hour)
						return err
					})
					ok(op, err)
					if err == nil {
						held = append(held, ref)
					}
				case n < 70 && len(held) > 0:
					i := r.IntN(len(held))
					ref := held[i]
					held = append(held[:i], held[i+1:]...)
					if r.IntN(3) > 0 {
						op = "fulfil"
						ok(op, svc.Commit(ctx, ref))
					} else {
						op = "cancel"
						ok(op, svc.Release(ctx, ref))
					}
				case n < 82:
					op = "transfer"
					from, to := pick(whs), pick(whs)
					tr, err := svc.CreateTransfer(ctx, warehouse.TransferInput{FromWarehouseID: from, ToWarehouseID: to,
						Lines: []warehouse.ReserveLine{{SKUID: pick(skus), Qty: 1 + r.Int64N(3)}}})
					ok(op, err)
					if err == nil {
						transfers = append(transfers, tr.ID)
					}
				case n < 92 && len(transfers) > 0:
					i := r.IntN(len(transfers))
					id := transfers[i]
					transfers = append(transfers[:i], transfers[i+1:]...)
					if r.IntN(4) > 0 {
						op = "receive transfer"
						_, err := svc.ReceiveTransfer(ctx, id)
						ok(op, err)
					} else {
						op = "cancel transfer"
						_, err := svc.CancelTransfer(ctx, id)
						ok(op, err)
					}
				default:
					op = "count"
					c, err := svc.CreateCount(ctx, warehouse.CountInput{WarehouseID: pick(whs)})
					ok(op, err)
					if err == nil {
						var in []warehouse.CountEntry
						for _, l := range c.Lines {
							in = append(in, warehouse.CountEntry{SKUID: l.SKUID, Counted: max(0, l.Expected+r.Int64N(5)-2)})
						}
						_, err = svc.EnterCounts(ctx, c.ID, in)
						ok(op, err)
						_, err = svc.ConfirmCount(ctx, c.ID)
						ok(op, err)
					}
				}
				checkLedger(t, db)
				if t.Failed() {
					t.Fatalf("invariants broken after step %d (%s)", step, op)
				}
			}
			// The run did what it meant to: every kind of move happened.
			for _, k := range []warehouse.MoveKind{warehouse.MoveReceipt, warehouse.MoveAdjust, warehouse.MoveReserve, warehouse.MoveCommit,
				warehouse.MoveRelease, warehouse.MoveTransferOut, warehouse.MoveTransferIn, warehouse.MoveCount} {
				if n := count(t, db, &warehouse.StockMove{}, "kind = ?", k); n == 0 && !testing.Short() {
					t.Errorf("no %s move in %d steps", k, steps)
				}
			}
		})
	}
}

// TestConcurrentSalesAdjustmentsAndReceipts: 200 checkouts, 100 stock
// adjustments and 20 goods receipts at once on the same SKUs over three
// warehouses (SQLite, and PostgreSQL when configured): no internal errors,
// no oversell, and every ledger invariant holds afterwards.
func TestConcurrentSalesAdjustmentsAndReceipts(t *testing.T) {
	db, svc := setup(t)
	ctx := tenants.WithTenant(staff(1), &tenants.Tenant{ID: 1, DefaultCurrency: "CNY"})
	whs := []int64{defaultWarehouse(t, svc, ctx).ID}
	for _, code := range []string{"EAST", "WEST"} {
		w, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: code, Name: code, Country: "CN"})
		if err != nil {
			t.Fatal(err)
		}
		whs = append(whs, w.ID)
	}
	skus := []int64{101, 102}
	for _, w := range whs {
		for _, sku := range skus {
			adjust(t, svc, ctx, sku, w, 20)
		}
	}
	sp, _ := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "S", Name: "S", Currency: "CNY"})
	var pos []*warehouse.PurchaseOrder
	for i := range 20 {
		po, err := svc.CreatePurchaseOrder(ctx, warehouse.POInput{SupplierID: sp.ID, WarehouseID: whs[i%3],
			Lines: []warehouse.POLineInput{{SKUID: skus[i%2], Qty: 5, UnitCost: func() *int64 { c := int64(300 + i); return &c }()}}})
		if err != nil {
			t.Fatal(err)
		}
		svc.ApprovePurchaseOrder(ctx, po.ID)
		svc.SendPurchaseOrder(ctx, po.ID)
		pos = append(pos, po)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var internalErrs []string
	var sold atomic.Int64
	note := func(op string, err error) {
		if err != nil && apperr.As(err).Kind == apperr.KindInternal {
			mu.Lock()
			internalErrs = append(internalErrs, op+": "+err.Error())
			mu.Unlock()
		}
	}
	start := make(chan struct{})
	for i := range 200 {
		wg.Go(func() {
			<-start
			lines := []warehouse.ReserveLine{{SKUID: skus[i%2], Qty: 1 + int64(i%3)}}
			err := db.Tx(ctx, func(ctx context.Context) error {
				_, err := svc.ReserveNew(ctx, fmt.Sprintf("order:%d", i), "CN", lines, time.Hour)
				return err
			})
			note("checkout", err)
			if err == nil {
				sold.Add(lines[0].Qty)
			}
		})
	}
	for i := range 100 {
		wg.Go(func() {
			<-start
			d := int64(3)
			if i%2 == 1 {
				d = -2
			}
			_, err := svc.Adjust(ctx, warehouse.Adjustment{SKUID: skus[i%2], WarehouseID: whs[i%3], Delta: d, Reason: "concurrent"})
			note("adjust", err)
		})
	}
	for _, po := range pos {
		wg.Go(func() {
			<-start
			_, err := svc.ReceiveGoods(ctx, po.ID, []warehouse.ReceiptLine{{SKUID: po.Lines[0].SKUID, Qty: 5}})
			note("receipt", err)
		})
	}
	close(start)
	wg.Wait()
	if len(internalErrs) > 0 {
		t.Fatalf("%d internal errors, e.g. %v", len(internalErrs), internalErrs[:min(3, len(internalErrs))])
	}
	var reserved int64
	db.Reader().Model(&warehouse.StockLevel{}).Select("COALESCE(SUM(reserved), 0)").Scan(&reserved)
	if reserved != sold.Load() {
		t.Fatalf("reserved %d, sold %d", reserved, sold.Load())
	}
	if n := count(t, db, &warehouse.PurchaseOrder{}, "status = ?", warehouse.POStatusReceived); n != 20 {
		t.Fatalf("%d of 20 orders received", n)
	}
	t.Logf("sold %d units", sold.Load())
	checkLedger(t, db)
}

// TestClosedWarehouseStockIsNotAvailable: what a closed warehouse holds is
// not offered to shoppers.
func TestClosedWarehouseStockIsNotAvailable(t *testing.T) {
	_, svc := setup(t)
	ctx := staff(1)
	main := defaultWarehouse(t, svc, ctx)
	east, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: "EAST", Name: "East", Country: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	adjust(t, svc, ctx, 101, main.ID, 2)
	adjust(t, svc, ctx, 101, east.ID, 5)
	if a, _ := svc.Available(ctx, []int64{101}); a[101] != 7 {
		t.Fatalf("available = %v", a)
	}
	closed := warehouse.WarehouseClosed
	if _, err := svc.UpdateWarehouse(ctx, east.ID, warehouse.WarehousePatch{Status: &closed}); err != nil {
		t.Fatal(err)
	}
	if a, _ := svc.Available(ctx, []int64{101}); a[101] != 2 {
		t.Fatalf("available with EAST closed = %v", a)
	}
	if a, _ := svc.AvailableAll(context.Background(), []int64{101}); a[101] != 2 {
		t.Fatalf("AvailableAll with EAST closed = %v", a)
	}
	// Checkout learns of the closing at once (its warehouse list is cached).
	if err := svc.Reserve(ctx, "order:1", []warehouse.ReserveLine{{SKUID: 101, Qty: 3}}, time.Hour); apperr.As(err).Code != warehouse.CodeOutOfStock {
		t.Fatalf("reserving 3 with EAST closed: %v, want out_of_stock", err)
	}
	active := warehouse.WarehouseActive
	if _, err := svc.UpdateWarehouse(ctx, east.ID, warehouse.WarehousePatch{Status: &active}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Reserve(ctx, "order:1", []warehouse.ReserveLine{{SKUID: 101, Qty: 3}}, time.Hour); err != nil {
		t.Fatalf("reserving 3 with EAST open again: %v", err)
	}
}

// TestDraftPurchaseOrderEdits: a buyer adjusts replenishment's draft before
// approving it; lines that stay keep why they were proposed; a bad edit
// changes nothing; an approved order cannot change.
func TestDraftPurchaseOrderEdits(t *testing.T) {
	db, svc := setup(t)
	ctx := tenants.WithTenant(staff(1), &tenants.Tenant{ID: 1, DefaultCurrency: "CNY"})
	defaultWarehouse(t, svc, ctx)
	sp, err := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "PREF", Name: "Preferred", Currency: "CNY"})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetSupplierSKU(ctx, sp.ID, warehouse.SupplierSKUInput{SKUID: 101, UnitCost: 600})
	if _, err := svc.SetReorderRule(ctx, warehouse.ReorderRuleInput{SKUID: 101, MinQty: 10, MaxQty: 40, PreferredSupplierID: &sp.ID}); err != nil {
		t.Fatal(err)
	}
	run, err := svc.Replenish(ctx)
	if err != nil || len(run.Orders) != 1 {
		t.Fatalf("run = %+v, %v", run, err)
	}
	id := run.Orders[0]
	draft, _ := svc.PurchaseOrder(ctx, id)
	why := draft.Lines[0].Reason
	if why == "" || draft.Lines[0].Qty != 40 {
		t.Fatalf("draft = %+v", draft)
	}
	c := func(n int64) *int64 { return &n }
	note := "split with next week's"
	lines := []warehouse.POLineInput{{SKUID: 102, Qty: 5, UnitCost: c(250)}, {SKUID: 101, Qty: 30}}
	po, err := svc.UpdatePurchaseOrder(ctx, id, warehouse.POPatch{Note: &note, Lines: &lines})
	if err != nil {
		t.Fatal(err)
	}
	if po.Note != note || len(po.Lines) != 2 || po.Lines[0].SKUID != 101 || po.Lines[0].Qty != 30 || po.Lines[0].UnitCost != 600 ||
		po.Lines[0].Reason != why || po.Lines[1].SKUID != 102 || po.Lines[1].UnitCost != 250 || po.Lines[1].Reason != "" || po.Total != 30*600+5*250 {
		t.Fatalf("edited = %+v", po)
	}
	// Bad edits: field errors, nothing changed.
	bad := []warehouse.POLineInput{{SKUID: 101, Qty: 1}, {SKUID: 101, Qty: 0}}
	_, err = svc.UpdatePurchaseOrder(ctx, id, warehouse.POPatch{Lines: &bad})
	wantField(t, err, "lines[1].sku_id", "duplicate")
	wantField(t, err, "lines[1].qty", "out_of_range")
	noPrice := []warehouse.POLineInput{{SKUID: 103, Qty: 1}}
	_, err = svc.UpdatePurchaseOrder(ctx, id, warehouse.POPatch{Note: c2("changed"), Lines: &noPrice})
	wantField(t, err, "lines[0].sku_id", "no_supplier_price")
	rate := "x"
	_, err = svc.UpdatePurchaseOrder(ctx, id, warehouse.POPatch{ExchangeRate: &rate})
	wantField(t, err, "exchange_rate", "invalid_rate")
	if _, err := svc.UpdatePurchaseOrder(ctx, id, warehouse.POPatch{}); apperr.As(err).Code != "nothing_to_change" {
		t.Fatalf("empty patch: %v", err)
	}
	if got, _ := svc.PurchaseOrder(ctx, id); got.Note != note || len(got.Lines) != 2 || got.Lines[0].Qty != 30 {
		t.Fatalf("after refused edits = %+v", got)
	}
	if _, err := svc.UpdatePurchaseOrder(staff(1), 999999, warehouse.POPatch{Note: &note}); err == nil {
		t.Fatal("another tenant's or a missing order changed")
	}
	// Approved: no more changes.
	if _, err := svc.ApprovePurchaseOrder(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdatePurchaseOrder(ctx, id, warehouse.POPatch{Note: &note}); apperr.As(err).Code != "po_not_editable" {
		t.Fatalf("editing an approved order: %v", err)
	}
	if n := count(t, db, &store.OutboxEvent{}, "topic = ?", "purchase_order.updated"); n != 1 {
		t.Fatalf("%d purchase_order.updated events, want 1", n)
	}
	if n := count(t, db, &warehouse.POLine{}, "1 = 1"); n != 2 {
		t.Fatalf("%d purchase order lines, want 2", n)
	}
}

func c2(s string) *string { return &s }
