package warehouse_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// TestReturn: goods sent back by a customer come back on hand with a
// "return" move valued at the moving average (which stays as it is), into
// the default warehouse or a chosen active one; closed and unknown
// warehouses, other tenants' SKUs and bad input are refused and write
// nothing; a caller's transaction that fails takes the return with it; the
// levels stay the sums of their moves throughout.
func TestReturn(t *testing.T) {
	db, svc := setup(t)
	ctx := staff(1)
	main := defaultWarehouse(t, svc, ctx)
	east, err := svc.CreateWarehouse(ctx, warehouse.WarehouseInput{Code: "EAST", Name: "East", Country: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	cost := func(n int64) *int64 { return &n }
	for _, a := range []warehouse.Adjustment{
		{SKUID: 101, Delta: 10, Reason: "received", UnitCost: cost(100)},
		{SKUID: 101, Delta: 10, Reason: "received", UnitCost: cost(131)}, // average (1000 + 1310) / 20 = 115.5 → 116
		{SKUID: 102, Delta: 4, Reason: "received", UnitCost: cost(900)},
	} {
		if _, err := svc.Adjust(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// A sale of 3 and 1 leaves at the average.
	if err := svc.Reserve(ctx, "order:5", []warehouse.ReserveLine{{SKUID: 101, Qty: 3}, {SKUID: 102, Qty: 1}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := svc.Commit(ctx, "order:5"); err != nil {
		t.Fatal(err)
	}
	value := func(sku int64) warehouse.StockValue {
		t.Helper()
		var v warehouse.StockValue
		if err := db.Reader().Where("sku_id = ?", sku).Take(&v).Error; err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := value(101); v.Qty != 17 || v.AvgCost != 116 {
		t.Fatalf("before the return: %+v", v)
	}

	// Two of SKU 101 and one of 102 come back into the default warehouse.
	got, err := svc.Return(ctx, warehouse.ReturnInput{Reason: " damaged box ", Ref: "order:5",
		Lines: []warehouse.ReserveLine{{SKUID: 102, Qty: 1}, {SKUID: 101, Qty: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Warehouse.ID != main.ID || len(got.Moves) != 2 || got.Moves[0].SKUID != 101 || got.Moves[1].SKUID != 102 {
		t.Fatalf("Return = %+v", got)
	}
	for _, mv := range got.Moves {
		if mv.ID == 0 || mv.Kind != warehouse.MoveReturn || mv.Ref != "order:5" || mv.Reason != "damaged box" || mv.ActorUserID != 7 || mv.DeltaReserved != 0 {
			t.Errorf("move = %+v", mv)
		}
	}
	if got.Moves[0].UnitCost != 116 || got.Moves[0].DeltaOnHand != 2 || got.Moves[1].UnitCost != 900 || got.Moves[1].DeltaOnHand != 1 {
		t.Fatalf("moves not at the average: %+v", got.Moves)
	}
	if l := level(t, db, main.ID, 101); l.OnHand != 19 || l.Reserved != 0 {
		t.Fatalf("level after the return: %+v", l)
	}
	if v := value(101); v.Qty != 19 || v.AvgCost != 116 {
		t.Fatalf("valuation after the return: %+v", v)
	}
	if v := value(102); v.Qty != 4 || v.AvgCost != 900 {
		t.Fatalf("valuation of 102 after the return: %+v", v)
	}
	page, err := svc.Moves(ctx, warehouse.MoveQuery{Kind: warehouse.MoveReturn, PageRequest: store.PageRequest{Page: 1, PerPage: 10}})
	if err != nil || page.Total != 2 {
		t.Fatalf("Moves(return) = %+v, %v", page, err)
	}
	checkLedger(t, db)

	// Into a chosen warehouse that never held the SKU: its level is created.
	if got, err = svc.Return(ctx, warehouse.ReturnInput{WarehouseID: east.ID, Reason: "wrong size", Ref: "order:5",
		Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 1}}}); err != nil || got.Warehouse.ID != east.ID {
		t.Fatalf("Return to east = %+v, %v", got, err)
	}
	if l := level(t, db, east.ID, 101); l.OnHand != 1 {
		t.Fatalf("east after the return: %+v", l)
	}
	checkLedger(t, db)

	before := count(t, db, &warehouse.StockMove{}, "")
	// A closed warehouse takes no returns.
	closed := warehouse.WarehouseClosed
	if _, err := svc.UpdateWarehouse(ctx, east.ID, warehouse.WarehousePatch{Status: &closed}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Return(ctx, warehouse.ReturnInput{WarehouseID: east.ID, Reason: "x", Ref: "order:5", Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 1}}})
	wantField(t, err, "warehouse_id", "warehouse_closed")
	// Unknown warehouses, another tenant's warehouse, SKUs that are not the
	// tenant's goods, bad input.
	_, err = svc.Return(ctx, warehouse.ReturnInput{WarehouseID: 999999, Reason: "x", Ref: "order:5", Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 1}}})
	wantCode(t, err, apperr.KindNotFound, "not_found")
	wantField(t, err, "warehouse_id", "not_found")
	other := defaultWarehouse(t, svc, staff(2))
	_, err = svc.Return(ctx, warehouse.ReturnInput{WarehouseID: other.ID, Reason: "x", Ref: "order:5", Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 1}}})
	wantField(t, err, "warehouse_id", "not_found")
	_, err = svc.Return(ctx, warehouse.ReturnInput{Reason: "x", Ref: "order:5", Lines: []warehouse.ReserveLine{{SKUID: 201, Qty: 1}, {SKUID: 109, Qty: 1}}})
	wantField(t, err, "lines[0].sku_id", "not_found")
	wantField(t, err, "lines[1].sku_id", "not_found")
	_, err = svc.Return(ctx, warehouse.ReturnInput{WarehouseID: -1, Reason: " ", Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 0}, {SKUID: 101, Qty: 1}}})
	for field, code := range map[string]string{"warehouse_id": "invalid_id", "reason": "required", "ref": "required",
		"lines[0].qty": "out_of_range", "lines[1].sku_id": "duplicate"} {
		wantField(t, err, field, code)
	}
	_, err = svc.Return(ctx, warehouse.ReturnInput{Reason: "x", Ref: "order:5"})
	wantField(t, err, "lines", "required")
	// A caller's transaction that fails after the return takes it back.
	boom := errors.New("boom")
	err = db.Tx(ctx, func(ctx context.Context) error {
		if _, err := svc.Return(ctx, warehouse.ReturnInput{Reason: "x", Ref: "order:5", Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 5}}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing caller: %v", err)
	}
	if n := count(t, db, &warehouse.StockMove{}, ""); n != before {
		t.Fatalf("refused returns wrote %d moves", n-before)
	}
	if l := level(t, db, main.ID, 101); l.OnHand != 19 {
		t.Fatalf("refused returns changed the level: %+v", l)
	}
	if v := value(101); v.Qty != 20 {
		t.Fatalf("refused returns changed the valuation: %+v", v)
	}
	// Without a tenant: refused.
	if _, err := svc.Return(context.Background(), warehouse.ReturnInput{Reason: "x", Ref: "order:5", Lines: []warehouse.ReserveLine{{SKUID: 101, Qty: 1}}}); !errors.Is(err, tenants.ErrNoTenant) {
		t.Fatalf("Return without a tenant = %v", err)
	}
	checkLedger(t, db)
}
