package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"saasmall/server/apperr"
	"saasmall/server/imports"
	"saasmall/server/store"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// fakeCodes names the fake catalog's SKUs: goods SKU 101 is "G-101";
// tenant 1's SaaS plan 109 is "PLAN-109".
type fakeCodes struct{}

func (fakeCodes) SKUByCode(ctx context.Context, code string) (int64, bool, error) {
	tid := tenants.ID(ctx)
	if code == "PLAN-109" && tid == 1 {
		return 109, false, nil
	}
	var id int64
	if _, err := fmt.Sscanf(code, "G-%d", &id); err != nil || fmt.Sprintf("G-%d", id) != code || goodsOf[id] != tid || tid == 0 {
		return 0, false, nil
	}
	return id, true, nil
}

type nopQueue struct{}

func (nopQueue) Enqueue(context.Context, string, any, time.Time) error { return nil }

type tenantsByID struct{}

func (tenantsByID) ByIDs(_ context.Context, ids []int64) ([]tenants.Tenant, error) {
	var out []tenants.Tenant
	for _, id := range ids {
		out = append(out, tenants.Tenant{ID: id})
	}
	return out, nil
}

// importSetup is setup with the imports table and both warehouse kinds.
func importSetup(t *testing.T) (*store.DB, *warehouse.Service, *imports.Service) {
	t.Helper()
	db, svc := setup(t)
	if err := db.Migrate(context.Background(), imports.Migrations()); err != nil {
		t.Fatal(err)
	}
	im := imports.New(db, nopQueue{}, tenantsByID{}, nil)
	im.Register(warehouse.NewCountImport(svc, fakeCodes{}))
	im.Register(warehouse.NewPriceListImport(svc, fakeCodes{}))
	return db, svc, im
}

// runImport runs import id to the end in slices of one item, as after a
// crash or a lease running out every time.
func runImport(t *testing.T, im *imports.Service, id int64) {
	t.Helper()
	for range 10_000 {
		more, err := im.RunImport(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return
		}
	}
	t.Fatal("the import does not end")
}

// problems renders an import's errors as "row column code", by row.
func problems(v *imports.View) string {
	var out []string
	for _, e := range v.Errors {
		s := fmt.Sprintf("%d %s %s", e.Row, e.Column, e.Code)
		if r, ok := e.Args["Row"]; ok {
			s += fmt.Sprintf(" (row %v)", r)
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

func counted(c *warehouse.Count) string {
	var out []string
	for _, l := range c.Lines {
		v := "-"
		if l.Counted != nil {
			v = fmt.Sprint(*l.Counted)
		}
		out = append(out, fmt.Sprintf("%d:%s", l.SKUID, v))
	}
	return strings.Join(out, " ")
}

// TestCountImport: a count CSV fills an open sheet's counted numbers, row by
// row, reporting each bad row by row and column while the others are
// entered; it posts nothing (confirming stays the approver's).
func TestCountImport(t *testing.T) {
	db, svc, im := importSetup(t)
	ctx := staff(1)
	main := defaultWarehouse(t, svc, ctx)
	for _, sku := range []int64{101, 102, 103, 105} {
		adjust(t, svc, ctx, sku, main.ID, 5)
	}
	c, err := svc.CreateCount(ctx, warehouse.CountInput{WarehouseID: main.ID})
	if err != nil {
		t.Fatal(err)
	}
	data := "SKU_Code, Counted\n" + // any case, spaces around names
		"G-101,7\n" + // 2
		"G-102,seven\n" + // 3
		"NOPE,1\n" + // 4
		"PLAN-109,1\n" + // 5
		"G-104,2\n" + // 6: not on the sheet
		"G-101,9\n" + // 7: again
		",3\n" + // 8
		" , \n" + // 9: blank, skipped
		" G-103 , 0 \n" + // 10
		"G-105,2000000000\n" + // 11
		"G-201,1\n" // 12: another tenant's SKU
	v, err := im.Start(ctx, warehouse.CountImportKind, c.ID, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if v.Total != 10 || v.Status != imports.Queued {
		t.Fatalf("started: %+v", v)
	}
	runImport(t, im, v.ID)
	got, err := im.Import(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"3 counted invalid_count",
		"4 sku_code unknown_sku_code",
		"5 sku_code not_goods_sku",
		"6 sku_code not_on_sheet",
		"7 sku_code duplicate_row (row 2)",
		"8 sku_code required",
		"11 counted out_of_range",
		"12 sku_code unknown_sku_code",
	}, "\n")
	if got.Status != imports.Done || got.Imported != 2 || got.Failed != 8 || problems(got) != want {
		t.Fatalf("import: %+v\nproblems:\n%s\nwant\n%s", got, problems(got), want)
	}
	for _, e := range got.Errors {
		if e.Field != e.Column || e.MessageID() != "field."+e.Code {
			t.Errorf("error %+v: field and message id", e)
		}
	}
	sheet, _ := svc.Count(ctx, c.ID)
	if s := counted(sheet); sheet.Status != warehouse.CountOpen || s != "101:7 102:- 103:0 105:-" {
		t.Fatalf("sheet after the import: %s %s", sheet.Status, s)
	}
	if l := level(t, db, main.ID, 101); l.OnHand != 5 {
		t.Errorf("the import moved stock: %+v", l)
	}
	var moves int64
	db.Reader().Model(&warehouse.StockMove{}).Where("kind = ?", warehouse.MoveCount).Count(&moves)
	if moves != 0 {
		t.Errorf("the import posted %d count moves", moves)
	}

	// Again, by two runners at once: the same numbers, each row once.
	v, err = im.Start(ctx, warehouse.CountImportKind, c.ID, []byte("sku_code,counted\nG-102,4\nG-105,6\nG-101,8\n"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := im.RunImport(context.Background(), v.ID, time.Minute); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := im.Import(ctx, v.ID); got.Status != imports.Done || got.Processed != 3 || got.Imported != 3 {
		t.Fatalf("two runners: %+v", got)
	}
	sheet, _ = svc.Count(ctx, c.ID)
	if s := counted(sheet); s != "101:8 102:4 103:0 105:6" {
		t.Fatalf("sheet after the second import: %s", s)
	}

	// Confirmed while an import waits: the import ends at its next row.
	v, err = im.Start(ctx, warehouse.CountImportKind, c.ID, []byte("sku_code,counted\nG-101,1\nG-102,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if more, err := im.RunImport(context.Background(), v.ID, 0); err != nil || !more {
		t.Fatalf("first slice: %v %v", more, err)
	}
	if _, err := svc.ConfirmCount(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	runImport(t, im, v.ID)
	got, _ = im.Import(ctx, v.ID)
	if got.Status != imports.Failed || got.Processed != 1 || len(got.Errors) != 1 || got.Errors[0].Code != "count_not_open" || got.Errors[0].Row != 0 {
		t.Fatalf("import into a sheet confirmed meanwhile: %+v", got)
	}
	sheet, _ = svc.Count(ctx, c.ID)
	if s := counted(sheet); s != "101:1 102:4 103:0 105:6" {
		t.Fatalf("sheet after confirmation: %s", s)
	}

	// Refused at the start, with nothing recorded: a confirmed sheet,
	// another tenant's sheet, bad files.
	before := importCount(t, db)
	for name, tc := range map[string]struct {
		ctx    context.Context
		target int64
		data   string
		code   string
		fields map[string]string
	}{
		"confirmed":     {ctx, c.ID, "sku_code,counted\nG-101,1\n", "count_not_open", nil},
		"other tenant":  {staff(2), c.ID, "sku_code,counted\nG-201,1\n", "not_found", nil},
		"missing sheet": {ctx, 999, "sku_code,counted\nG-101,1\n", "not_found", nil},
	} {
		_, err := im.Start(tc.ctx, warehouse.CountImportKind, tc.target, []byte(tc.data))
		if apperr.As(err).Code != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	open, err := svc.CreateCount(ctx, warehouse.CountInput{WarehouseID: main.ID})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		data   string
		code   string
		fields map[string]string
	}{
		"header":    {"sku,counted,note\nG-101,1,x\n", "invalid_csv_header", map[string]string{"sku": "unknown_column", "note": "unknown_column", "sku_code": "missing_column"}},
		"duplicate": {"sku_code,counted,Counted\nG-101,1,2\n", "invalid_csv_header", map[string]string{"counted": "duplicate_column"}},
		"no rows":   {"sku_code,counted\n,\n", "csv_no_rows", nil},
		"fields":    {"sku_code,counted\nG-101\n", "csv_field_count", nil},
		"empty":     {"\xEF\xBB\xBF", "empty_body", nil},
		"too many":  {"sku_code,counted\n" + strings.Repeat("G-101,1\n", warehouse.MaxCountLines+1), "csv_too_many_rows", nil},
	} {
		_, err := im.Start(ctx, warehouse.CountImportKind, open.ID, []byte(tc.data))
		ae := apperr.As(err)
		if ae.Code != tc.code || ae.Kind != apperr.KindInvalid {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
		for f, code := range tc.fields {
			if ae.Fields[f].Code != code {
				t.Errorf("%s: field %s = %q, want %s", name, f, ae.Fields[f].Code, code)
			}
		}
	}
	if n := importCount(t, db); n != before {
		t.Errorf("refused imports recorded %d imports", n-before)
	}
	checkLedger(t, db)
}

func importCount(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Reader().Model(&imports.Import{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPriceListImport: a price list CSV creates or replaces a supplier's
// terms row by row, costs read as decimals in the supplier's currency,
// reporting each bad row by row and column while the others are set.
func TestPriceListImport(t *testing.T) {
	db, svc, im := importSetup(t)
	ctx := staff(1)
	sp, err := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "acme", Name: "Acme", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetSupplierSKU(ctx, sp.ID, warehouse.SupplierSKUInput{SKUID: 102, SupplierCode: "OLD", UnitCost: 999, MinOrderQty: 5, PackSize: 5}); err != nil {
		t.Fatal(err)
	}
	data := "sku_code,supplier_code,cost,min_order_qty,pack_size\n" +
		"G-101,AC-101,12.50,10,6\n" + // 2
		"G-102,,3,,\n" + // 3: replaces OLD; moq and pack 1
		"G-103,X,12.345,1,1\n" + // 4
		"G-104,X,-1,1,1\n" + // 5
		"G-105,X,1.5,0,-2\n" + // 6: two problems
		"NOPE,X,1,1,1\n" + // 7
		"PLAN-109,X,1,1,1\n" + // 8
		"G-101,X,1,1,1\n" + // 9: again
		"G-103,X,,1,1\n" + // 10: duplicate of 4 and no cost
		"G-104," + strings.Repeat("x", 65) + ",1,1,1\n" + // 11: duplicate of 5 and too long
		",X,1,1,1\n" + // 12
		"G-105,X,10000000.01,1,1\n" // 13: duplicate of 6 and over MaxUnitCost
	v, err := im.Start(ctx, warehouse.PriceListImportKind, sp.ID, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	runImport(t, im, v.ID)
	got, _ := im.Import(ctx, v.ID)
	want := strings.Join([]string{
		"4 cost invalid_amount",
		"5 cost invalid_amount",
		"6 min_order_qty out_of_range",
		"6 pack_size invalid_number",
		"7 sku_code unknown_sku_code",
		"8 sku_code not_goods_sku",
		"9 sku_code duplicate_row (row 2)",
		"10 sku_code duplicate_row (row 4)",
		"10 cost required",
		"11 sku_code duplicate_row (row 5)",
		"11 supplier_code too_long",
		"12 sku_code required",
		"13 sku_code duplicate_row (row 6)",
		"13 cost out_of_range",
	}, "\n")
	if got.Status != imports.Done || got.Total != 12 || got.Imported != 2 || got.Failed != 10 || problems(got) != want {
		t.Fatalf("import: %+v\nproblems:\n%s\nwant\n%s", got, problems(got), want)
	}
	if e := got.Errors[0]; e.Args["Currency"] != "USD" || e.Args["Digits"] != float64(2) {
		t.Errorf("invalid_amount args: %v", e.Args)
	}
	rows, err := svc.SupplierSKUs(ctx, sp.ID)
	if err != nil {
		t.Fatal(err)
	}
	var gotRows []string
	for _, r := range rows {
		gotRows = append(gotRows, fmt.Sprintf("%d %s %d %d %d", r.SKUID, r.SupplierCode, r.UnitCost, r.MinOrderQty, r.PackSize))
	}
	if s := strings.Join(gotRows, "; "); s != "101 AC-101 1250 10 6; 102  300 1 1" {
		t.Fatalf("supplier SKUs: %s", s)
	}

	// A yen supplier: whole yen only; again in one-row slices.
	yen, err := svc.CreateSupplier(ctx, warehouse.SupplierInput{Code: "nippon", Name: "Nippon", Currency: "JPY"})
	if err != nil {
		t.Fatal(err)
	}
	v, err = im.Start(ctx, warehouse.PriceListImportKind, yen.ID, []byte("sku_code,supplier_code,cost,min_order_qty,pack_size\nG-101,N1,1200,1,1\nG-102,N2,1200.5,1,1\nG-103,N3,980.00,1,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	runImport(t, im, v.ID)
	got, _ = im.Import(ctx, v.ID)
	if got.Imported != 2 || problems(got) != "3 cost invalid_amount" || got.Errors[0].Args["Digits"] != float64(0) {
		t.Fatalf("yen import: %+v %s", got, problems(got))
	}
	rows, _ = svc.SupplierSKUs(ctx, yen.ID)
	if len(rows) != 2 || rows[0].UnitCost != 1200 || rows[1].SKUID != 103 || rows[1].UnitCost != 980 {
		t.Fatalf("yen rows: %+v", rows)
	}

	// Refused at the start: another tenant's supplier, a bad header.
	before := importCount(t, db)
	if _, err := im.Start(staff(2), warehouse.PriceListImportKind, sp.ID, []byte("sku_code,supplier_code,cost,min_order_qty,pack_size\nG-201,,1,1,1\n")); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("another tenant's supplier: %v", err)
	}
	_, err = im.Start(ctx, warehouse.PriceListImportKind, sp.ID, []byte("sku_code,price\nG-101,1\n"))
	if ae := apperr.As(err); ae.Code != "invalid_csv_header" || ae.Fields["price"].Code != "unknown_column" || ae.Fields["cost"].Code != "missing_column" ||
		ae.Fields["pack_size"].Code != "missing_column" {
		t.Errorf("bad header: %v", err)
	}
	if n := importCount(t, db); n != before {
		t.Errorf("refused imports recorded %d imports", n-before)
	}
}
