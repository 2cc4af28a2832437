package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"saasmall/server/servertest"
)

// importErrors renders an import's errors as "row column code", in order,
// failing unless each has a translated message.
func importErrors(t *testing.T, final map[string]any) string {
	t.Helper()
	var out []string
	for _, e := range final["errors"].([]any) {
		m := e.(map[string]any)
		if msg, _ := m["message"].(string); msg == "" || strings.HasPrefix(msg, "field.") || strings.HasPrefix(msg, "error.") {
			t.Errorf("error without a message: %v", m)
		}
		out = append(out, fmt.Sprintf("%v %s %s", m["row"], m["column"], m["code"]))
	}
	return strings.Join(out, "\n")
}

// TestCountImportHTTP: a warehouse clerk fills an open count sheet from a
// CSV through the API; bad rows come back by row and column, translated;
// nothing is posted until the owner (warehouse approve) confirms. A viewer
// cannot import; another tenant's sheet is not found; a role without
// warehouse read cannot follow the import; a bad header is refused with
// nothing written.
func TestCountImportHTTP(t *testing.T) {
	env := servertest.New(t)
	ten := env.Tenant("gearhub", "owner@gearhub.test")
	env.Tenant("bravo", "owner@bravo.test")
	const T = "/api/v1/t/gearhub"
	var skus []int64
	for i := 1; i <= 6; i++ {
		_, sku := goods(t, env, ten, fmt.Sprintf("CNT-%d", i), 1000, int64(10*i))
		skus = append(skus, sku)
	}
	saas(t, env, ten, "Ledger", skuPlan("LEDGER-TEAM", "Team", 1200, "paid", "month", true, 0))
	owner := env.Login("owner@gearhub.test", servertest.Password, "pc")
	clerk := env.Member(ten, "clerk@gearhub.test", "warehouse_clerk")
	viewer := env.Member(ten, "viewer@gearhub.test", "viewer")
	accountant := env.Member(ten, "accountant@gearhub.test", "accountant") // finance and mall read, no warehouse

	whs := clerk.Do("GET", T+"/warehouses", nil).Want(t, 200)
	wh := n64(whs.JSON["items"].([]any)[0].(map[string]any)["id"])
	// A sheet of the first five SKUs (CNT-6 is stocked but not on it).
	cnt := clerk.Do("POST", T+"/counts", map[string]any{"warehouse_id": wh, "sku_ids": skus[:5]}).Want(t, 201)
	cntURL := fmt.Sprintf("%s/counts/%d", T, n64(cnt.JSON["id"]))

	data := "sku_code,counted\n" +
		"CNT-1,11\n" + // 2
		"CNT-2,20\n" + // 3
		"CNT-3,three\n" + // 4
		"NOPE-1,5\n" + // 5
		"LEDGER-TEAM,1\n" + // 6
		"CNT-6,60\n" + // 7: not on the sheet
		"CNT-1,12\n" + // 8: again
		"CNT-4,0\n" // 9
	viewer.Raw("POST", cntURL+"/import", "text/csv", []byte(data)).Want(t, 403)
	env.Login("owner@bravo.test", servertest.Password, "pc").
		Raw("POST", strings.Replace(cntURL, "/gearhub/", "/bravo/", 1)+"/import", "text/csv", []byte(data)).Want(t, 404)
	clerk.Raw("POST", T+"/counts/999999/import", "text/csv", []byte(data)).Want(t, 404)
	clerk.Raw("POST", cntURL+"/import", "application/xml", []byte(data)).Want(t, 400)

	// A bad header: 400 with a message per column, nothing written.
	r := clerk.Raw("POST", cntURL+"/import", "text/csv", []byte("sku,counted,extra\nCNT-1,1,x\n")).Want(t, 400)
	if r.Code() != "invalid_csv_header" || r.Field("sku") != "unknown_column" || r.Field("extra") != "unknown_column" || r.Field("sku_code") != "missing_column" {
		t.Errorf("bad header: %s", r.Body)
	}
	if !strings.Contains(string(r.Body), "sku_code, counted") {
		t.Errorf("unknown_column does not name the columns: %s", r.Body)
	}
	for body, code := range map[string]string{
		"":                                 "empty_body",
		"sku_code,counted\n":               "csv_no_rows",
		"sku_code,counted\nCNT-1\n":        "csv_field_count",
		"sku_code,counted\n\"CNT-1,1\n":    "csv_syntax",
		"sku_code,counted\nCNT-1,\"1\"x\n": "csv_syntax",
	} {
		if r := clerk.Raw("POST", cntURL+"/import", "text/csv", []byte(body)); r.Status != 400 || r.Code() != code {
			t.Errorf("body %q: %s, want %s", body, r, code)
		}
	}

	r = clerk.Raw("POST", cntURL+"/import", "text/csv; charset=utf-8", append([]byte("\xEF\xBB\xBF"), data...)).Want(t, 202)
	if r.JSON["status"] != "queued" || n64(r.JSON["total"]) != 8 {
		t.Fatalf("import: %s", r.Body)
	}
	path := fmt.Sprintf("%s/imports/%d", T, n64(r.JSON["id"]))
	accountant.Do("GET", path, nil).Want(t, 403)
	final, _, _ := runImport(t, env, clerk, path)
	if final["status"] != "done" || final["kind"] != "stock_counts" || n64(final["target_id"]) != n64(cnt.JSON["id"]) ||
		n64(final["imported"]) != 3 || n64(final["failed"]) != 5 {
		t.Fatalf("import result: %v", final)
	}
	want := strings.Join([]string{"4 counted invalid_count", "5 sku_code unknown_sku_code", "6 sku_code not_goods_sku",
		"7 sku_code not_on_sheet", "8 sku_code duplicate_row"}, "\n")
	if got := importErrors(t, final); got != want {
		t.Errorf("errors:\n%s\nwant\n%s", got, want)
	}
	viewer.Do("GET", path, nil).Want(t, 200)
	zh := viewer.Do("GET", path+"?lang=zh-Hans", nil).Want(t, 200)
	if msg := zh.JSON["errors"].([]any)[4].(map[string]any)["message"].(string); utf8.RuneCountInString(msg) == len(msg) || !strings.Contains(msg, "2") {
		t.Errorf("zh-Hans duplicate_row message: %q", msg)
	}
	env.Login("owner@bravo.test", servertest.Password, "pc").Do("GET", strings.Replace(path, "/gearhub/", "/bravo/", 1), nil).Want(t, 404)

	// The sheet has the counts and is still open; stock has not moved.
	sheet := clerk.Do("GET", cntURL, nil).Want(t, 200)
	var got []string
	for _, l := range sheet.JSON["lines"].([]any) {
		m := l.(map[string]any)
		got = append(got, fmt.Sprintf("%v/%v", m["expected"], m["counted"]))
	}
	if sheet.JSON["status"] != "open" || strings.Join(got, " ") != "10/11 20/20 30/<nil> 40/0 50/<nil>" {
		t.Fatalf("sheet after the import: %s %v", sheet.JSON["status"], got)
	}
	stock := clerk.Do("GET", fmt.Sprintf("%s/stock?sku_ids=%d", T, skus[0]), nil).Want(t, 200)
	if oh := n64(stock.JSON["items"].([]any)[0].(map[string]any)["on_hand"]); oh != 10 {
		t.Errorf("the import moved stock: on hand %d", oh)
	}

	// Confirming stays the approver's act.
	clerk.Do("PATCH", cntURL, map[string]any{"lines": []map[string]any{{"sku_id": skus[2], "counted": 30}, {"sku_id": skus[4], "counted": 50}}}).Want(t, 200)
	clerk.Do("POST", cntURL+"/confirm", nil).Want(t, 403)
	owner.Do("POST", cntURL+"/confirm", nil).Want(t, 200)
	stock = clerk.Do("GET", fmt.Sprintf("%s/stock?sku_ids=%d", T, skus[0]), nil).Want(t, 200)
	if oh := n64(stock.JSON["items"].([]any)[0].(map[string]any)["on_hand"]); oh != 11 {
		t.Errorf("after confirming: on hand %d, want 11", oh)
	}
	r = clerk.Raw("POST", cntURL+"/import", "text/csv", []byte(data)).Want(t, 409)
	if r.Code() != "count_not_open" {
		t.Errorf("import into a confirmed sheet: %s", r.Body)
	}
}

// TestPriceListImportHTTP: a clerk imports a supplier's price list; terms
// are created or replaced exactly, bad rows reported; a viewer cannot
// import, another tenant's supplier is not found; run one row at a time (as
// after crashes), each row is applied once.
func TestPriceListImportHTTP(t *testing.T) {
	env := servertest.New(t)
	ten := env.Tenant("gearhub", "owner@gearhub.test")
	env.Tenant("bravo", "owner@bravo.test")
	const T = "/api/v1/t/gearhub"
	var skus []int64
	for i := 1; i <= 4; i++ {
		_, sku := goods(t, env, ten, fmt.Sprintf("PL-%d", i), 1000, 0)
		skus = append(skus, sku)
	}
	clerk := env.Member(ten, "clerk@gearhub.test", "warehouse_clerk")
	viewer := env.Member(ten, "viewer@gearhub.test", "viewer")
	accountant := env.Member(ten, "accountant@gearhub.test", "accountant")
	sup := clerk.Do("POST", T+"/suppliers", map[string]any{"code": "acme", "name": "Acme", "currency": "EUR"}).Want(t, 201)
	supURL := fmt.Sprintf("%s/suppliers/%d", T, n64(sup.JSON["id"]))
	clerk.Do("POST", supURL+"/skus", map[string]any{"sku_id": skus[1], "supplier_code": "OLD", "unit_cost": 9999, "min_order_qty": 7, "pack_size": 7}).Want(t, 200)

	data := "sku_code,supplier_code,cost,min_order_qty,pack_size\n" +
		"PL-1,AC-1,12.50,10,6\n" + // 2
		"PL-2,AC-2,0.99,,\n" + // 3: replaces OLD
		"PL-3,AC-3,12.5.0,1,1\n" + // 4
		"PL-4,AC-4,7,0,1\n" + // 5
		"PL-9,AC-9,1,1,1\n" + // 6
		"PL-1,AC-1,13,1,1\n" + // 7
		"PL-3,,1 000,1,x\n" // 8: again, a bad cost, a bad pack
	viewer.Raw("POST", supURL+"/skus/import", "text/csv", []byte(data)).Want(t, 403)
	env.Login("owner@bravo.test", servertest.Password, "pc").
		Raw("POST", strings.Replace(supURL, "/gearhub/", "/bravo/", 1)+"/skus/import", "text/csv", []byte(data)).Want(t, 404)
	r := clerk.Raw("POST", supURL+"/skus/import", "text/csv", []byte("sku_code,cost\nPL-1,1\n")).Want(t, 400)
	if r.Code() != "invalid_csv_header" || r.Field("supplier_code") != "missing_column" || r.Field("pack_size") != "missing_column" {
		t.Errorf("bad header: %s", r.Body)
	}
	if rows := clerk.Do("GET", supURL+"/skus", nil).Want(t, 200); len(rows.JSON["items"].([]any)) != 1 {
		t.Fatalf("a refused import wrote: %s", rows.Body)
	}

	r = clerk.Do("POST", supURL+"/skus/import", map[string]any{"csv": data}).Want(t, 202)
	id := n64(r.JSON["id"])
	path := fmt.Sprintf("%s/imports/%d", T, id)
	accountant.Do("GET", path, nil).Want(t, 403)
	for run := 1; ; run++ {
		more, err := env.Srv.Imports.RunImport(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := clerk.Do("GET", path, nil).Want(t, 200)
		if !more {
			if run != 7 || r.JSON["status"] != "done" {
				t.Fatalf("after %d runs: %s", run, r.Body)
			}
			break
		}
		if n64(r.JSON["processed"]) != int64(run) {
			t.Fatalf("run %d: %s", run, r.Body)
		}
	}
	final := viewer.Do("GET", path, nil).Want(t, 200).JSON
	if n64(final["imported"]) != 2 || n64(final["failed"]) != 5 {
		t.Fatalf("import result: %v", final)
	}
	want := strings.Join([]string{"4 cost invalid_amount", "5 min_order_qty out_of_range", "6 sku_code unknown_sku_code",
		"7 sku_code duplicate_row", "8 sku_code duplicate_row", "8 cost invalid_amount", "8 pack_size invalid_number"}, "\n")
	if got := importErrors(t, final); got != want {
		t.Errorf("errors:\n%s\nwant\n%s", got, want)
	}
	rows := clerk.Do("GET", supURL+"/skus", nil).Want(t, 200)
	var got []string
	for _, it := range rows.JSON["items"].([]any) {
		m := it.(map[string]any)
		got = append(got, fmt.Sprintf("%s %v %v %v", m["supplier_code"], m["unit_cost"], m["min_order_qty"], m["pack_size"]))
	}
	if s := strings.Join(got, "; "); s != "AC-1 1250 10 6; AC-2 99 1 1" {
		t.Errorf("supplier SKUs: %s", s)
	}
	// Running the finished import again changes nothing.
	if more, err := env.Srv.Imports.RunImport(context.Background(), id, time.Minute); err != nil || more {
		t.Fatal(more, err)
	}
	if again := clerk.Do("GET", path, nil).Want(t, 200); n64(again.JSON["imported"]) != 2 || n64(again.JSON["processed"]) != 7 {
		t.Errorf("after another run: %s", again.Body)
	}
}
