package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"saasmall/server/mall"
	"saasmall/server/servertest"
)

// genProductsCSV writes n products as CSV: goods with one or two SKUs (the
// second row of some far below the first, so rows group by product_key, not
// by position), SaaS products with a free and a paid plan, some without a
// key, names with commas, quotes and Chinese, escaped separators. bad maps
// a product index (of a one-row goods product) to a fault: "currency",
// "name" or "duplicate" (the SKU code of product 10). It returns the CSV,
// its number of rows, and the row of each fault (the header is row 1).
func genProductsCSV(n int, bad map[int]string) ([]byte, int, map[string]int) {
	var rows, later [][]string
	badRows := map[string]int{}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("P%04d", i)
		name := fmt.Sprintf("Product %04d", i)
		if i%11 == 0 {
			name = fmt.Sprintf(`Desk "Pro", 桌子 %d`, i)
		}
		attrs := "Color=Blue|Size=L"
		if i%13 == 0 {
			attrs = `Note=a\|b|Formula=x\=y`
		}
		if i%3 == 0 {
			rows = append(rows,
				[]string{key, "saas", name, "Cloud tool", "Software", "active", attrs, fmt.Sprintf("S%04d-FREE", i), "Free", "USD:0",
					"", "", "", "free", "month", "false", "0", "Invoices"},
				[]string{key, "", "", "", "", "", "", fmt.Sprintf("S%04d-TEAM", i), "Team", "USD:1200;CNY:8500",
					"", "", "", "paid", "year", "true", "14", `Invoices|Payroll|A\|B`})
			continue
		}
		if i%7 == 6 {
			key = ""
		}
		row := []string{key, "goods", name, "A fine thing", "Gear", "draft", attrs, fmt.Sprintf("G%04d-A", i), "Standard",
			"USD:2500;CNY:17900", "500", "8471.60", "cn", "", "", "", "", ""}
		switch bad[i] {
		case "currency":
			row[9] = "QQQ:1200"
		case "name":
			row[2] = ""
		case "duplicate":
			row[7] = "G0010-A"
		}
		rows = append(rows, row)
		if bad[i] != "" {
			badRows[bad[i]] = len(rows) + 1
		} else if i%5 == 0 && key != "" {
			later = append(later, []string{key, "goods", name, "", "", "", "", fmt.Sprintf("G%04d-B", i), "Large", "USD:3500", "900", "", "", "", "", "", "", ""})
		}
	}
	rows = append(rows, later...)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(mall.CSVColumns)
	_ = w.WriteAll(rows)
	return b.Bytes(), len(rows), badRows
}

// runImport runs the jobs runner until the import is done, recording the
// progress seen meanwhile.
func runImport(t *testing.T, env *servertest.Env, c *servertest.Client, path string) (final map[string]any, seen []int64, took time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := env.Srv.Jobs.RunDue(context.Background())
		done <- err
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			took = time.Since(start)
			r := c.Do("GET", path, nil).Want(t, 200)
			return r.JSON, append(seen, n64(r.JSON["processed"])), took
		case <-time.After(20 * time.Millisecond):
			r := c.Do("GET", path, nil).Want(t, 200)
			if p := n64(r.JSON["processed"]); len(seen) == 0 || seen[len(seen)-1] != p {
				seen = append(seen, p)
			}
		}
	}
}

// TestProductImport1000 imports 1,000 products with 3 bad rows in the
// background, watches the progress, reads the per-row errors, then exports
// the catalog and imports it into another tenant: the same products.
func TestProductImport1000(t *testing.T) {
	env := servertest.New(t)
	alpha := env.Tenant("alpha", "owner@alpha.test")
	env.Tenant("bravo", "owner@bravo.test")
	owner := env.Login("owner@alpha.test", servertest.Password, "pc")
	data, nrows, badRows := genProductsCSV(1000, map[int]string{101: "currency", 502: "name", 901: "duplicate"})
	if len(badRows) != 3 {
		t.Fatalf("bad rows: %v", badRows)
	}
	t.Logf("CSV: %d bytes, %d rows", len(data), nrows)

	r := owner.Raw("POST", "/api/v1/t/alpha/products/import", "text/csv; charset=utf-8", data).Want(t, 202)
	if r.JSON["status"] != "queued" || n64(r.JSON["total"]) != 1000 {
		t.Fatalf("import: %s", r.Body)
	}
	path := fmt.Sprintf("/api/v1/t/alpha/imports/%d", n64(r.JSON["id"]))
	final, seen, took := runImport(t, env, owner, path)
	t.Logf("1,000 products imported in %v; progress read %d times: %v … %v", took.Round(time.Millisecond), len(seen), seen[:min(5, len(seen))], seen[max(0, len(seen)-3):])
	if final["status"] != "done" || n64(final["processed"]) != 1000 || n64(final["imported"]) != 997 || n64(final["failed"]) != 3 {
		t.Fatalf("import result: %v", final)
	}
	if final["finished_at"] == nil {
		t.Errorf("finished_at not set: %v", final)
	}
	intermediate := false
	for i, p := range seen {
		intermediate = intermediate || (p > 0 && p < 1000)
		if i > 0 && p < seen[i-1] {
			t.Errorf("progress went back: %v", seen)
		}
	}
	if !intermediate {
		t.Errorf("no progress between 0 and 1000 observed: %v", seen)
	}
	errs := final["errors"].([]any)
	want := map[int]string{badRows["currency"]: "prices skus[0].prices[0].currency invalid_currency",
		badRows["name"]: "name name required", badRows["duplicate"]: "sku_code skus[0].code sku_code_taken"}
	if len(errs) != 3 {
		t.Fatalf("errors: %v", errs)
	}
	for _, e := range errs {
		m := e.(map[string]any)
		got := fmt.Sprintf("%s %s %s", m["column"], m["field"], m["code"])
		if w := want[int(n64(m["row"]))]; got != w || m["message"] == "" || m["message"] == "field."+m["code"].(string) {
			t.Errorf("error %v: want row %d %q", m, n64(m["row"]), w)
		}
	}
	// Messages follow the request's language.
	zh := owner.Do("GET", path+"?lang=zh-Hans", nil).Want(t, 200)
	if msg := zh.JSON["errors"].([]any)[0].(map[string]any)["message"].(string); utf8.RuneCountInString(msg) == len(msg) {
		t.Errorf("zh-Hans message is not translated: %q", msg)
	}
	if got := owner.Do("GET", "/api/v1/t/alpha/products?per_page=1", nil).Want(t, 200); n64(got.JSON["total"]) != 997 {
		t.Errorf("products after import: %s", got.Body)
	}

	// Export, then import the export into bravo: the same products.
	exp := owner.Do("GET", "/api/v1/t/alpha/products/export", nil).Want(t, 200)
	if ct, cd := exp.Header.Get("Content-Type"), exp.Header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		cd != `attachment; filename=products-alpha.csv` {
		t.Errorf("export headers: %q %q", ct, cd)
	}
	alphaRows := readCSV(t, exp.Body)
	if len(alphaRows) != 1+nrows-3 || !strings.Contains(string(exp.Body), `"Desk ""Pro"", 桌子 11"`) || !strings.Contains(string(exp.Body), `Note=a\|b|Formula=x\=y`) {
		t.Fatalf("export: %d rows\n%.600s", len(alphaRows), exp.Body)
	}
	bravo := env.Login("owner@bravo.test", servertest.Password, "pc")
	r = bravo.Raw("POST", "/api/v1/t/bravo/products/import", "text/csv", exp.Body).Want(t, 202)
	final, _, took = runImport(t, env, bravo, fmt.Sprintf("/api/v1/t/bravo/imports/%d", n64(r.JSON["id"])))
	t.Logf("the export (997 products) imported into another tenant in %v", took.Round(time.Millisecond))
	if final["status"] != "done" || n64(final["imported"]) != 997 || len(final["errors"].([]any)) != 0 {
		t.Fatalf("round trip import: %v", final)
	}
	bravoRows := readCSV(t, bravo.Do("GET", "/api/v1/t/bravo/products/export", nil).Want(t, 200).Body)
	if a, b := normalizeKeys(alphaRows), normalizeKeys(bravoRows); a != b {
		t.Errorf("round trip differs:\nalpha %.500s\nbravo %.500s", a, b)
	}

	// Another tenant's import is not found; bad requests are refused.
	bravo.Do("GET", strings.Replace(path, "/alpha/", "/bravo/", 1), nil).Want(t, 404)
	owner.Do("GET", "/api/v1/t/alpha/imports/abc", nil).Want(t, 400)
	owner.Do("GET", "/api/v1/t/alpha/imports/999999", nil).Want(t, 404)
	viewer := env.Member(alpha, "viewer@alpha.test", "viewer")
	viewer.Do("GET", path, nil).Want(t, 200)
	viewer.Raw("POST", "/api/v1/t/alpha/products/import", "text/csv", data).Want(t, 403)
}

// readCSV parses a CSV body.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v", err)
	}
	return rows
}

// normalizeKeys renders rows with each product_key replaced by the order of
// its first appearance (ids differ between tenants).
func normalizeKeys(rows [][]string) string {
	ids := map[string]int{}
	var b strings.Builder
	for _, r := range rows[1:] {
		if _, ok := ids[r[0]]; !ok {
			ids[r[0]] = len(ids)
		}
		fmt.Fprintf(&b, "%d|%s\n", ids[r[0]], strings.Join(r[1:], "|"))
	}
	return b.String()
}

// TestProductImportRefused: what is refused at upload, with a clear 400.
func TestProductImportRefused(t *testing.T) {
	env := servertest.New(t)
	env.Tenant("alpha", "owner@alpha.test")
	owner := env.Login("owner@alpha.test", servertest.Password, "pc")
	P := "/api/v1/t/alpha/products/import"
	header := strings.Join(mall.CSVColumns, ",")
	row := "k1,goods,Lamp,,,,,LAMP-1,Std,USD:100,,,,,,,,"

	r := owner.Raw("POST", P, "text/csv", []byte("product_key,kind,name,colour\nk,goods,x,red\n")).Want(t, 400)
	if r.Code() != "invalid_csv_header" || r.Field("colour") != "unknown_column" || r.Field("plan_features") != "missing_column" || r.Field("kind") != "" {
		t.Errorf("bad header: %s", r.Body)
	}
	r = owner.Raw("POST", P, "text/csv", []byte(header+",name\n"+row+",x\n")).Want(t, 400)
	if r.Field("name") != "duplicate_column" {
		t.Errorf("duplicate column: %s", r.Body)
	}
	for body, code := range map[string]string{
		"":                                   "empty_body",
		header + "\n":                        "csv_no_rows",
		header + "\n" + row + "\nk2,goods\n": "csv_field_count",
		header + "\n" + row + "\n\"k3,goods,\"x\"y,,,,,,,,,,,,,,,\n": "csv_syntax",
	} {
		if r := owner.Raw("POST", P, "text/csv", []byte(body)); r.Status != 400 || r.Code() != code {
			t.Errorf("body %.40q: %s, want %s", body, r, code)
		}
	}
	if r := owner.Raw("POST", P, "text/csv", []byte(header+"\n"+row+"\nk2,goods\n")); !strings.Contains(r.Message(), "3") {
		t.Errorf("field count message does not name line 3: %s", r.Message())
	}
	owner.Raw("POST", P, "application/xml", []byte(header+"\n"+row+"\n")).Want(t, 400)
	// A BOM (as spreadsheets write) is fine; so is JSON {"csv": …}.
	owner.Raw("POST", P, "text/csv", append([]byte("\xEF\xBB\xBF"), []byte(header+"\n"+row+"\n")...)).Want(t, 202)
	owner.Do("POST", P, map[string]any{"csv": header + "\n" + strings.Replace(row, "LAMP-1", "LAMP-2", 1) + "\n"}).Want(t, 202)
	owner.Do("POST", P, map[string]any{"csv": header, "extra": 1}).Want(t, 400)
	env.Anon().Raw("POST", P, "text/csv", []byte(header+"\n"+row+"\n")).Want(t, 401)
	if _, err := env.Srv.Jobs.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := owner.Do("GET", "/api/v1/t/alpha/products", nil).Want(t, 200); n64(got.JSON["total"]) != 2 {
		t.Errorf("after the two accepted imports: %s", got.Body)
	}
}

// TestProductImportResumes: an import run in the smallest slices (one
// product per run, as after a crash or a lease running out) and by two
// runners at once still imports each product once.
func TestProductImportResumes(t *testing.T) {
	env := servertest.New(t)
	env.Tenant("alpha", "owner@alpha.test")
	owner := env.Login("owner@alpha.test", servertest.Password, "pc")
	data, _, _ := genProductsCSV(12, map[int]string{4: "name"})
	id := n64(owner.Raw("POST", "/api/v1/t/alpha/products/import", "text/csv", data).Want(t, 202).JSON["id"])
	path := fmt.Sprintf("/api/v1/t/alpha/imports/%d", id)
	ctx := context.Background()
	for run := 1; ; run++ {
		more, err := env.Srv.Imports.RunImport(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := owner.Do("GET", path, nil).Want(t, 200)
		if !more {
			if run != 12 || r.JSON["status"] != "done" || n64(r.JSON["imported"]) != 11 || n64(r.JSON["failed"]) != 1 {
				t.Fatalf("after %d runs: %s", run, r.Body)
			}
			break
		}
		if r.JSON["status"] != "running" || n64(r.JSON["processed"]) != int64(run) {
			t.Fatalf("run %d: %s", run, r.Body)
		}
	}
	// Two runners on one import: each product once.
	data, _, _ = genProductsCSV(60, nil)
	data = bytes.ReplaceAll(data, []byte("P00"), []byte("Q00")) // other keys, same codes: prefix them
	data = bytes.ReplaceAll(bytes.ReplaceAll(data, []byte(",G00"), []byte(",H00")), []byte(",S00"), []byte(",T00"))
	id = n64(owner.Raw("POST", "/api/v1/t/alpha/products/import", "text/csv", data).Want(t, 202).JSON["id"])
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := env.Srv.Imports.RunImport(ctx, id, time.Minute)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	r := owner.Do("GET", fmt.Sprintf("/api/v1/t/alpha/imports/%d", id), nil).Want(t, 200)
	if r.JSON["status"] != "done" || n64(r.JSON["imported"]) != 60 || n64(r.JSON["failed"]) != 0 {
		t.Fatalf("two runners: %s", r.Body)
	}
	if got := owner.Do("GET", "/api/v1/t/alpha/products?per_page=1", nil).Want(t, 200); n64(got.JSON["total"]) != 71 {
		t.Errorf("products: %s", got.Body)
	}
}
