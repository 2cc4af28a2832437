package imports_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/imports"
	"saasmall/server/store"
	"saasmall/server/store/storetest"
	"saasmall/tenants"
)

// lines is a kind for the tests: CSV "n,v"; each row inserts n into
// import_test_rows, then: v "bad" refuses the row (after writing), "boom"
// fails like the database the first time, "stop" ends the import.
type lines struct {
	db     *store.DB
	mu     sync.Mutex
	boomed map[int]bool
	target int64 // Check refuses other targets
}

func (k *lines) Name() string   { return "lines" }
func (k *lines) Module() string { return "warehouse" }
func (k *lines) Check(_ context.Context, target int64) error {
	if target != k.target {
		return apperr.NotFound("sheet")
	}
	return nil
}
func (k *lines) Parse(_ context.Context, _ int64, data []byte) ([]imports.Item, error) {
	recs, err := imports.ReadCSV(data, []string{"n", "v"}, 100)
	if err != nil {
		return nil, err
	}
	items := make([]imports.Item, len(recs))
	for i, r := range recs {
		items[i] = &line{k: k, row: r.Row, n: r.Get("n"), v: r.Get("v")}
	}
	return items, nil
}

type line struct {
	k    *lines
	row  int
	n, v string
}

func (l *line) Apply(ctx context.Context) ([]imports.RowError, error) {
	if err := l.k.db.W(ctx).Exec("INSERT INTO import_test_rows (n) VALUES (?)", l.n).Error; err != nil {
		return nil, err
	}
	switch l.v {
	case "bad":
		return []imports.RowError{imports.Problem(l.row, "v", "invalid_choice", "Choices", "ok")}, nil
	case "boom":
		l.k.mu.Lock()
		defer l.k.mu.Unlock()
		if !l.k.boomed[l.row] {
			l.k.boomed[l.row] = true
			return nil, errors.New("database is down")
		}
	case "stop":
		return nil, apperr.Conflict("count_not_open")
	}
	return nil, nil
}

type queue struct {
	mu   sync.Mutex
	jobs []imports.Job
}

func (q *queue) Enqueue(_ context.Context, kind string, payload any, _ time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if kind != imports.JobKind {
		return fmt.Errorf("kind %q", kind)
	}
	q.jobs = append(q.jobs, payload.(imports.Job))
	return nil
}

type tenantList []tenants.Tenant

func (ts tenantList) ByIDs(_ context.Context, ids []int64) ([]tenants.Tenant, error) {
	var out []tenants.Tenant
	for _, t := range ts {
		for _, id := range ids {
			if t.ID == id {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

func setup(t *testing.T) (*store.DB, *imports.Service, *lines, *queue) {
	t.Helper()
	db := storetest.Open(t)
	if err := db.Migrate(context.Background(), imports.Migrations()); err != nil {
		t.Fatal(err)
	}
	if err := db.Writer().Exec("CREATE TABLE import_test_rows (n integer NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	q := &queue{}
	svc := imports.New(db, q, tenantList{{ID: 1, Slug: "one"}, {ID: 2, Slug: "two"}}, nil)
	k := &lines{db: db, boomed: map[int]bool{}, target: 5}
	svc.Register(k)
	return db, svc, k, q
}

func staff(tenant int64) context.Context {
	ctx := tenants.WithTenant(context.Background(), &tenants.Tenant{ID: tenant})
	return actor.With(ctx, &actor.Actor{UserID: 9})
}

func applied(t *testing.T, db *store.DB) string {
	t.Helper()
	var ns []string
	if err := db.Reader().Raw("SELECT n FROM import_test_rows ORDER BY n").Scan(&ns).Error; err != nil {
		t.Fatal(err)
	}
	return strings.Join(ns, ",")
}

// TestRunImport: refused rows are rolled back and reported, a database
// error is retried from the same row, every row is applied once however
// the runs are sliced, and another tenant cannot see the import.
func TestRunImport(t *testing.T) {
	db, svc, _, q := setup(t)
	ctx := staff(1)
	v, err := svc.Start(ctx, "lines", 5, []byte("\xEF\xBB\xBFn,v\n1,ok\n2,bad\n\n3,boom\n4,ok\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != imports.Queued || v.Total != 4 || v.Kind != "lines" || v.TargetID != 5 || len(q.jobs) != 1 || q.jobs[0].ImportID != v.ID {
		t.Fatalf("started %+v, jobs %v", v, q.jobs)
	}
	// One item per run (budget 0): run 1 applies row 2, run 2 refuses row 3,
	// run 3 meets the database error on row 5.
	for run := 1; run <= 2; run++ {
		if more, err := svc.RunImport(context.Background(), v.ID, 0); err != nil || !more {
			t.Fatalf("run %d: %v %v", run, more, err)
		}
	}
	if _, err := svc.RunImport(context.Background(), v.ID, 0); err == nil || apperr.KindOf(err) != apperr.KindInternal {
		t.Fatalf("run 3: %v, want the database error", err)
	}
	got, _ := svc.Import(ctx, v.ID)
	if got.Status != imports.Running || got.Processed != 2 || got.Imported != 1 || applied(t, db) != "1" {
		t.Fatalf("after the error: %+v, rows %s", got, applied(t, db))
	}
	// The retry goes on from row 5.
	if more, err := svc.RunImport(context.Background(), v.ID, time.Minute); err != nil || more {
		t.Fatalf("retry: %v %v", more, err)
	}
	got, _ = svc.Import(ctx, v.ID)
	want := []imports.Error{{Row: 3, Column: "v", Field: "v", Code: "invalid_choice", Args: map[string]any{"Choices": "ok"}}}
	if got.Status != imports.Done || got.Processed != 4 || got.Imported != 3 || got.Failed != 1 || got.FinishedAt == nil ||
		!reflect.DeepEqual(got.Errors, want) || got.Module != "warehouse" {
		t.Fatalf("done: %+v", got)
	}
	if a := applied(t, db); a != "1,3,4" {
		t.Errorf("rows applied %s, want 1,3,4 (row 3 refused, each once)", a)
	}
	if more, err := svc.RunImport(context.Background(), v.ID, time.Minute); err != nil || more || applied(t, db) != "1,3,4" {
		t.Errorf("a finished import ran again: %v %v %s", more, err, applied(t, db))
	}
	if _, err := svc.Import(staff(2), v.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("another tenant reads the import: %v", err)
	}
	var src string
	db.Reader().Raw("SELECT source FROM imports WHERE id = ?", v.ID).Scan(&src)
	if src != "" {
		t.Errorf("the CSV is kept after the import: %q", src)
	}
}

// TestRunImportConcurrently: two runners on one import apply each row once.
func TestRunImportConcurrently(t *testing.T) {
	db, svc, _, _ := setup(t)
	var b strings.Builder
	b.WriteString("n,v\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "%d,ok\n", i)
	}
	v, err := svc.Start(staff(1), "lines", 5, []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.RunImport(context.Background(), v.ID, time.Minute); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int64
	db.Reader().Raw("SELECT COUNT(DISTINCT n) FROM import_test_rows").Scan(&n)
	var all int64
	db.Reader().Raw("SELECT COUNT(*) FROM import_test_rows").Scan(&all)
	got, _ := svc.Import(staff(1), v.ID)
	if n != 40 || all != 40 || got.Imported != 40 || got.Status != imports.Done {
		t.Errorf("%d distinct of %d rows, import %+v", n, all, got)
	}
}

// TestImportRefusedOrEnded: a bad target or file is refused with nothing
// written; an application error while applying ends the import as failed.
func TestImportRefusedOrEnded(t *testing.T) {
	db, svc, k, q := setup(t)
	ctx := staff(1)
	for name, tc := range map[string]struct {
		target int64
		data   string
		code   string
	}{
		"target": {6, "n,v\n1,ok\n", "not_found"},
		"header": {5, "n,w\n1,ok\n", "invalid_csv_header"},
		"empty":  {5, "", "empty_body"},
		"rows":   {5, "n,v\n,\n", "csv_no_rows"},
	} {
		if _, err := svc.Start(ctx, "lines", tc.target, []byte(tc.data)); apperr.As(err).Code != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	if _, err := svc.Start(ctx, "nope", 5, []byte("n,v\n1,ok\n")); apperr.KindOf(err) != apperr.KindInternal {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := svc.Start(context.Background(), "lines", 5, []byte("n,v\n1,ok\n")); !errors.Is(err, tenants.ErrNoTenant) {
		t.Errorf("no tenant: %v", err)
	}
	var n int64
	db.Reader().Raw("SELECT COUNT(*) FROM imports").Scan(&n)
	if n != 0 || len(q.jobs) != 0 {
		t.Fatalf("refused imports wrote %d rows, %d jobs", n, len(q.jobs))
	}

	// "stop" ends the import where it is.
	v, err := svc.Start(ctx, "lines", 5, []byte("n,v\n1,ok\n2,stop\n3,ok\n"))
	if err != nil {
		t.Fatal(err)
	}
	if more, err := svc.RunImport(context.Background(), v.ID, time.Minute); err != nil || more {
		t.Fatalf("run: %v %v", more, err)
	}
	got, _ := svc.Import(ctx, v.ID)
	if got.Status != imports.Failed || got.Processed != 1 || applied(t, db) != "1" || len(got.Errors) != 1 ||
		!reflect.DeepEqual(got.Errors[0], imports.Error{Code: "count_not_open"}) || got.Errors[0].MessageID() != "error.count_not_open" {
		t.Errorf("stopped: %+v, rows %s", got, applied(t, db))
	}

	// A target gone before the import runs ends it at once.
	v, err = svc.Start(ctx, "lines", 5, []byte("n,v\n7,ok\n"))
	if err != nil {
		t.Fatal(err)
	}
	k.target = 0
	if _, err := svc.RunImport(context.Background(), v.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, _ = svc.Import(ctx, v.ID)
	if got.Status != imports.Failed || got.Processed != 0 || len(got.Errors) != 1 || got.Errors[0].Code != "not_found" || applied(t, db) != "1" {
		t.Errorf("target gone: %+v", got)
	}
}

// TestMigrationKeepsProductImports: the product imports made before
// imports had kinds are product imports of the new table, with their
// progress, errors and ids; new ids follow theirs.
func TestMigrationKeepsProductImports(t *testing.T) {
	db := storetest.Open(t)
	ms := imports.Migrations()
	if err := db.Migrate(context.Background(), ms[:1]); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		err := db.Writer().Exec(`INSERT INTO product_imports (tenant_id, status, total, processed, imported, errors, source, created_by, created_at)
		VALUES (1, 'done', 3, 3, 2, '[{"row":4,"column":"name","field":"name","code":"required"}]', '', 9, ?)`, time.Now().UTC()).Error
		if err != nil {
			t.Fatal(i, err)
		}
	}
	if err := db.Migrate(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background(), ms); err != nil { // a second run is a no-op
		t.Fatal(err)
	}
	q := &queue{}
	svc := imports.New(db, q, tenantList{{ID: 1}}, nil)
	svc.Register(&lines{db: db, target: 5})
	got, err := svc.Import(staff(1), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []imports.Error{{Row: 4, Column: "name", Field: "name", Code: "required"}}
	if got.Kind != "products" || got.TargetID != 0 || got.Status != imports.Done || got.Imported != 2 || got.Failed != 1 || !reflect.DeepEqual(got.Errors, want) {
		t.Errorf("migrated import: %+v", got)
	}
	if err := db.Writer().Exec("CREATE TABLE import_test_rows (n integer NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	v, err := svc.Start(staff(1), "lines", 5, []byte("n,v\n1,ok\n"))
	if err != nil || v.ID != 3 {
		t.Fatalf("a new import after the migration: %+v %v", v, err)
	}
	if !db.Writer().Migrator().HasIndex("imports", "ix_imports_tenant") || db.Writer().Migrator().HasTable("product_imports") {
		t.Error("imports has no tenant index, or product_imports is still there")
	}
}
