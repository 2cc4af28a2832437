package mall

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// CSVColumns are the columns of a product CSV, in export order. One row is
// one SKU; rows with the same product_key are the SKUs of one product (an
// empty key is a product of its own). Formats:
//
//	prices        USD:1200;CNY:8500   (ISO 4217 code : integer minor units)
//	attributes    Key=Value|Key2=Value2
//	plan_features a|b
//	plan_per_seat true or false (also yes/no, 1/0); empty is false
//
// In attributes and plan_features a backslash escapes the next character
// (\| \= \\), so any text round-trips. The plan_* columns are set on SaaS
// plan SKUs and left empty on goods.
var CSVColumns = []string{"product_key", "kind", "name", "summary", "category", "status", "attributes",
	"sku_code", "sku_name", "prices", "weight_grams", "hs_code", "origin_country",
	"plan_tier", "plan_interval", "plan_per_seat", "plan_trial_days", "plan_features"}

// productColumns are the columns that describe the product, not the SKU:
// taken from a product's first row; later rows leave them empty or repeat them.
var productColumns = []string{"kind", "name", "summary", "category", "status", "attributes"}

// Import states.
const (
	ImportQueued  = "queued"
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// Import limits.
const (
	// ImportJobKind is the jobs-runner kind that processes imports.
	ImportJobKind = "mall.product_import"
	// MaxImportRows bounds the SKU rows of one CSV (the server's body limit,
	// 1 MiB by default, usually comes first).
	MaxImportRows = 20_000
	// MaxImportErrors bounds the errors kept per import; counts stay exact.
	MaxImportErrors = 1000
)

// ProductImport is a CSV import of products, processed in the background.
type ProductImport struct {
	ID         int64      `gorm:"primaryKey"`
	TenantID   int64      `gorm:"not null;index"`
	Status     string     `gorm:"size:10;not null"`
	Total      int        `gorm:"not null"` // products in the CSV
	Processed  int        `gorm:"not null;default:0"`
	Imported   int        `gorm:"not null;default:0"`
	Errors     string     `gorm:"type:text;not null;default:'[]'"` // JSON []storedError
	Source     string     `gorm:"type:text;not null;default:''"`   // the CSV; emptied when done
	CreatedBy  int64      `gorm:"not null"`
	CreatedAt  time.Time  `gorm:"not null"`
	FinishedAt *time.Time //
}

// TableName is the imports table.
func (ProductImport) TableName() string { return "product_imports" }

// CSVMigrations are the tables of CSV import.
func CSVMigrations() []*store.Migration {
	// The schema as of this migration, frozen apart from the model.
	type productImport struct {
		ID         int64     `gorm:"primaryKey"`
		TenantID   int64     `gorm:"not null;index:ix_product_imports_tenant"`
		Status     string    `gorm:"size:10;not null"`
		Total      int       `gorm:"not null"`
		Processed  int       `gorm:"not null;default:0"`
		Imported   int       `gorm:"not null;default:0"`
		Errors     string    `gorm:"type:text;not null;default:'[]'"`
		Source     string    `gorm:"type:text;not null;default:''"`
		CreatedBy  int64     `gorm:"not null"`
		CreatedAt  time.Time `gorm:"not null"`
		FinishedAt *time.Time
	}
	return []*store.Migration{{
		ID:       "202611250030_mall_product_imports",
		Migrate:  func(tx *gorm.DB) error { return tx.Table("product_imports").AutoMigrate(&productImport{}) },
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable("product_imports") },
	}}
}

// ImportError is one problem of an import: the CSV row (record number, the
// header is row 1) and column where possible, the product field it maps to
// (e.g. skus[1].prices[0].currency) and a field error code. Message is
// filled in the caller's language by the web layer.
type ImportError struct {
	Row     int            `json:"row"`
	Column  string         `json:"column"`
	Field   string         `json:"field"`
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Args    map[string]any `json:"-"`
}

// MessageID is the i18n message of the error: field.<code> for a field,
// error.<code> for an error of the whole product.
func (e ImportError) MessageID() string {
	if e.Field == "" {
		return "error." + e.Code
	}
	return "field." + e.Code
}

type storedError struct {
	Row    int            `json:"row"`
	Column string         `json:"column,omitempty"`
	Field  string         `json:"field"`
	Code   string         `json:"code"`
	Args   map[string]any `json:"args,omitempty"`
}

// ImportView is an import as staff see it.
type ImportView struct {
	ID         int64         `json:"id"`
	Status     string        `json:"status"`
	Total      int           `json:"total"`
	Processed  int           `json:"processed"`
	Imported   int           `json:"imported"`
	Failed     int           `json:"failed"`
	Errors     []ImportError `json:"errors"`
	CreatedAt  time.Time     `json:"created_at"`
	FinishedAt *time.Time    `json:"finished_at"`
}

func importView(imp *ProductImport) *ImportView {
	v := &ImportView{ID: imp.ID, Status: imp.Status, Total: imp.Total, Processed: imp.Processed, Imported: imp.Imported,
		Failed: imp.Processed - imp.Imported, Errors: []ImportError{}, CreatedAt: imp.CreatedAt, FinishedAt: imp.FinishedAt}
	var stored []storedError
	_ = json.Unmarshal([]byte(imp.Errors), &stored)
	for _, e := range stored {
		v.Errors = append(v.Errors, ImportError{Row: e.Row, Column: e.Column, Field: e.Field, Code: e.Code, Args: e.Args})
	}
	return v
}

// JobQueue schedules background jobs inside the caller's transaction (the
// jobs runner).
type JobQueue interface {
	Enqueue(ctx context.Context, kind string, payload any, runAt time.Time) error
}

// ImportJob is the payload of an ImportJobKind job.
type ImportJob struct {
	ImportID int64 `json:"import_id"`
}

// Importer imports and exports a tenant's products as CSV. Imports run in
// the background, one product per transaction through CreateProduct, so a
// bad product is skipped and reported while the rest are imported.
type Importer struct {
	mall *Service
	jobs JobQueue
}

// NewImporter returns the CSV importer of the mall service m; jobs runs the
// imports (register RunImport for ImportJobKind).
func NewImporter(m *Service, jobs JobQueue) *Importer {
	return &Importer{mall: m, jobs: jobs}
}

// ExportCSV writes the products of the tenant in ctx, in any status, as CSV
// (CSVColumns, one row per active SKU, product_key = the product id) to w.
// Products without an active SKU are left out. Staff with mall:read.
// Errors: no_tenant_in_context, internal.
func (im *Importer) ExportCSV(ctx context.Context, w io.Writer) error {
	t := tenants.From(ctx)
	if t == nil {
		return tenants.ErrNoTenant
	}
	s := im.mall
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return apperr.Internal(err)
	}
	stores := map[int64]StoreRef{t.ID: {Slug: t.Slug, Name: t.Name}}
	var last int64
	for {
		var ps []Product
		if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("id > ?", last).Order("id").Limit(200).Find(&ps).Error; err != nil {
			return apperr.Internal(err)
		}
		if len(ps) == 0 {
			break
		}
		last = ps[len(ps)-1].ID
		views, err := s.views(ctx, ps, stores, true)
		if err != nil {
			return err
		}
		for _, p := range views {
			for _, k := range p.SKUs {
				if !k.Active {
					continue
				}
				if err := cw.Write(csvRow(&p, &k)); err != nil {
					return apperr.Internal(err)
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return apperr.Internal(err)
	}
	return nil
}

func csvRow(p *ProductView, k *SKUView) []string {
	attrs := make([]string, len(p.Attributes))
	for i, a := range p.Attributes {
		attrs[i] = escapeList(a.Key, "|=") + "=" + escapeList(a.Value, "|=")
	}
	prices := make([]string, len(k.Prices))
	for i, pr := range k.Prices {
		prices[i] = pr.Currency + ":" + strconv.FormatInt(pr.Amount, 10)
	}
	weight := ""
	if k.WeightGrams != 0 {
		weight = strconv.Itoa(k.WeightGrams)
	}
	var tier, interval, perSeat, trial, features string
	if pl := k.Plan; pl != nil {
		tier, interval, perSeat, trial = pl.Tier, pl.Interval, strconv.FormatBool(pl.PerSeat), strconv.Itoa(pl.TrialDays)
		fs := make([]string, len(pl.Features))
		for i, f := range pl.Features {
			fs[i] = escapeList(f, "|")
		}
		features = strings.Join(fs, "|")
	}
	return []string{strconv.FormatInt(p.ID, 10), p.Kind, p.Name, p.Summary, p.Category, p.Status, strings.Join(attrs, "|"),
		k.Code, k.Name, strings.Join(prices, ";"), weight, k.HSCode, k.OriginCountry,
		tier, interval, perSeat, trial, features}
}

// escapeList backslash-escapes the backslash and the separators seps in v.
func escapeList(v, seps string) string {
	if !strings.ContainsAny(v, seps+`\`) {
		return v
	}
	var b strings.Builder
	for _, r := range v {
		if r == '\\' || strings.ContainsRune(seps, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// splitList splits v at the separator sep not escaped by a backslash; the
// parts keep their escapes (unescape them with unescapeList).
func splitList(v string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, v[start:i])
			start = i + 1
		}
	}
	return append(parts, v[start:])
}

// cutList is strings.Cut at the first sep not escaped by a backslash.
func cutList(v string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case sep:
			return v[:i], v[i+1:], true
		}
	}
	return v, "", false
}

func unescapeList(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// csvProduct is one product of a CSV: its input, the record number of each
// SKU row, and the problems found while reading its rows.
type csvProduct struct {
	rows  []int
	in    ProductInput
	first map[string]string // product columns of the first row, as written
	errs  []storedError
}

func (p *csvProduct) fail(row int, column, field, code string, args ...any) {
	e := storedError{Row: row, Column: column, Field: field, Code: code}
	if len(args) > 0 {
		e.Args = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			e.Args[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	p.errs = append(p.errs, e)
}

var csvHeaderErr = apperr.Error{Kind: apperr.KindInvalid, Code: "invalid_csv_header"}

// parseProductsCSV reads a product CSV into products. The CSV as a whole
// must be well-formed with a valid header; problems with single values are
// recorded on their product (csvProduct.errs), which is then skipped.
// Errors: empty_body, invalid_csv_header (error.fields: each missing,
// unknown or duplicate column), csv_syntax, csv_field_count, csv_no_rows,
// csv_too_many_rows.
func parseProductsCSV(data []byte) ([]*csvProduct, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")) // a BOM, as spreadsheets write
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &apperr.Error{Kind: apperr.KindInvalid, Code: "empty_body"}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, csvErr(err, 0)
	}
	col := map[string]int{}
	f := apperr.Fields{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch _, dup := col[h]; {
		case dup:
			f.Add(h, "duplicate_column")
		case !contains(CSVColumns, h):
			f.Add(h, "unknown_column", "Columns", strings.Join(CSVColumns, ", "))
		default:
			col[h] = i
		}
	}
	for _, c := range CSVColumns {
		if _, ok := col[c]; !ok {
			f.Add(c, "missing_column")
		}
	}
	if len(f) > 0 {
		e := csvHeaderErr
		e.Fields = f
		return nil, &e
	}
	r.FieldsPerRecord = len(header)

	byKey := map[string]*csvProduct{}
	var out []*csvProduct
	rowNo, rows := 1, 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		rowNo++
		if err != nil {
			return nil, csvErr(err, len(header))
		}
		if blank(rec) {
			continue
		}
		if rows++; rows > MaxImportRows {
			return nil, &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_too_many_rows", Args: map[string]any{"Max": MaxImportRows}}
		}
		get := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
		key := get("product_key")
		p := byKey[key]
		if p == nil {
			p = &csvProduct{first: map[string]string{}}
			out = append(out, p)
			if key != "" {
				byKey[key] = p
			}
			for _, c := range productColumns {
				p.first[c] = get(c)
			}
			p.in = ProductInput{Kind: get("kind"), Name: get("name"), Summary: get("summary"), Category: get("category"), Status: get("status")}
			p.in.Attributes = parseAttributes(p, rowNo, get("attributes"))
		} else {
			for _, c := range productColumns {
				if v := get(c); v != "" && v != p.first[c] {
					p.fail(rowNo, c, c, "inconsistent_product")
				}
			}
		}
		p.rows = append(p.rows, rowNo)
		p.in.SKUs = append(p.in.SKUs, parseSKU(p, rowNo, len(p.in.SKUs), get))
	}
	if len(out) == 0 {
		return nil, &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_no_rows"}
	}
	return out, nil
}

func csvErr(err error, want int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_field_count", Args: map[string]any{"Line": pe.StartLine, "Want": want}, Err: err}
		}
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_syntax", Args: map[string]any{"Line": pe.Line, "Column": pe.Column}, Err: err}
	}
	return &apperr.Error{Kind: apperr.KindInvalid, Code: "csv_syntax", Args: map[string]any{"Line": 1, "Column": 1}, Err: err}
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func parseAttributes(p *csvProduct, row int, v string) []Attribute {
	if v == "" {
		return nil
	}
	var attrs []Attribute
	for _, pair := range splitList(v, '|') {
		k, val, ok := cutList(pair, '=')
		if !ok {
			p.fail(row, "attributes", "attributes", "invalid_attributes")
			return nil
		}
		attrs = append(attrs, Attribute{Key: strings.TrimSpace(unescapeList(k)), Value: strings.TrimSpace(unescapeList(val))})
	}
	return attrs
}

var priceRE = regexp.MustCompile(`^\s*([A-Za-z]{3})\s*:\s*([0-9]{1,13})\s*$`)

func parseSKU(p *csvProduct, row, i int, get func(string) string) SKUInput {
	path := func(f string) string { return fmt.Sprintf("skus[%d].%s", i, f) }
	k := SKUInput{Code: get("sku_code"), Name: get("sku_name"), HSCode: get("hs_code"), OriginCountry: get("origin_country")}
	if v := get("prices"); v != "" {
		for _, part := range strings.Split(strings.TrimSuffix(v, ";"), ";") {
			m := priceRE.FindStringSubmatch(part)
			if m == nil {
				p.fail(row, "prices", path("prices"), "invalid_prices")
				k.Prices = nil
				break
			}
			amount, _ := strconv.ParseInt(m[2], 10, 64)
			k.Prices = append(k.Prices, PriceInput{Currency: strings.ToUpper(m[1]), Amount: amount})
		}
	}
	num := func(c, field string) int {
		v := get(c)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.fail(row, c, path(field), "invalid_number")
			return 0
		}
		return n
	}
	k.WeightGrams = num("weight_grams", "weight_grams")
	tier, interval, perSeat, trial, features := get("plan_tier"), get("plan_interval"), get("plan_per_seat"), get("plan_trial_days"), get("plan_features")
	if tier+interval+perSeat+trial+features != "" {
		pl := &PlanInput{Tier: strings.ToLower(tier), Interval: strings.ToLower(interval), Features: []string{}}
		switch strings.ToLower(perSeat) {
		case "", "false", "no", "0", "n":
		case "true", "yes", "1", "y":
			pl.PerSeat = true
		default:
			p.fail(row, "plan_per_seat", path("plan.per_seat"), "invalid_boolean")
		}
		pl.TrialDays = num("plan_trial_days", "plan.trial_days")
		if features != "" {
			for _, f := range splitList(features, '|') {
				pl.Features = append(pl.Features, strings.TrimSpace(unescapeList(f)))
			}
		}
		k.Plan = pl
	}
	return k
}

var skuPathRE = regexp.MustCompile(`^skus\[(\d+)\](?:\.(.*))?$`)

// skuColumns maps a SKU field (after skus[i].) to its CSV column.
var skuColumns = map[string]string{"code": "sku_code", "name": "sku_name", "prices": "prices", "weight_grams": "weight_grams",
	"hs_code": "hs_code", "origin_country": "origin_country", "plan": "plan_tier", "plan.tier": "plan_tier",
	"plan.interval": "plan_interval", "plan.per_seat": "plan_per_seat", "plan.trial_days": "plan_trial_days", "plan.features": "plan_features"}

// locate maps a product field path (skus[1].prices[0].currency) to the CSV
// row and column it came from.
func (p *csvProduct) locate(field string) (int, string) {
	if m := skuPathRE.FindStringSubmatch(field); m != nil {
		i, _ := strconv.Atoi(m[1])
		row := p.rows[0]
		if i < len(p.rows) {
			row = p.rows[i]
		}
		rest := m[2]
		if j := strings.IndexByte(rest, '['); j >= 0 {
			rest = rest[:j] // prices[0].currency → prices, plan.features[2] → plan.features
		}
		return row, skuColumns[rest]
	}
	top := field
	if j := strings.IndexAny(top, "[."); j >= 0 {
		top = top[:j] // attributes[0].key → attributes
	}
	if contains(CSVColumns, top) {
		return p.rows[0], top
	}
	return p.rows[0], ""
}

// problems merges the product's reading errors with err's field errors
// (CreateProduct's, or its validation's), one per row and column, by row.
func (p *csvProduct) problems(err error) []storedError {
	out := append([]storedError(nil), p.errs...)
	seen := map[string]bool{}
	for _, e := range out {
		seen[fmt.Sprint(e.Row, e.Column)] = true
	}
	if err != nil {
		ae := apperr.As(err)
		if len(ae.Fields) == 0 {
			out = append(out, storedError{Row: p.rows[0], Code: ae.Code, Args: ae.Args})
		}
		fields := make([]string, 0, len(ae.Fields))
		for f := range ae.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			row, column := p.locate(f)
			k := fmt.Sprint(row, column)
			if column != "" && seen[k] {
				continue // already reported while reading the value
			}
			seen[k] = true
			out = append(out, storedError{Row: row, Column: column, Field: f, Code: ae.Fields[f].Code, Args: ae.Fields[f].Args})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Row < out[j].Row })
	return out
}

// StartImport checks a product CSV (well-formed, the CSVColumns header, at
// most MaxImportRows rows), records an import of the tenant in ctx and
// queues it; the jobs runner then imports it product by product (RunImport).
// Staff with mall:write. Errors: empty_body, invalid_csv_header (with a
// field per missing, unknown or duplicate column), csv_syntax,
// csv_field_count, csv_no_rows, csv_too_many_rows, no_tenant_in_context.
func (im *Importer) StartImport(ctx context.Context, data []byte) (*ImportView, error) {
	t := tenants.From(ctx)
	if t == nil {
		return nil, tenants.ErrNoTenant
	}
	products, err := parseProductsCSV(data)
	if err != nil {
		return nil, err
	}
	s := im.mall
	imp := ProductImport{TenantID: t.ID, Status: ImportQueued, Total: len(products), Errors: "[]",
		Source: string(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))), CreatedBy: actor.UserID(ctx), CreatedAt: s.now()}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.db.W(ctx).Create(&imp).Error; err != nil {
			return err
		}
		return im.jobs.Enqueue(ctx, ImportJobKind, ImportJob{ImportID: imp.ID}, time.Time{})
	})
	if err != nil {
		return nil, store.Error(err, "import")
	}
	return importView(&imp), nil
}

// Import returns an import of the tenant in ctx with its progress and
// errors (messages not yet translated). Staff with mall:read.
// Errors: not_found, no_tenant_in_context.
func (im *Importer) Import(ctx context.Context, id int64) (*ImportView, error) {
	var imp ProductImport
	if err := im.mall.db.R(ctx).Scopes(tenants.Scope(ctx)).Omit("source").Take(&imp, id).Error; err != nil {
		return nil, store.Error(err, "import")
	}
	return importView(&imp), nil
}

var errImportMoved = errors.New("mall: import progressed elsewhere")

// RunImport processes the import id (the ImportJobKind job's handler; a
// platform entry point, the tenant comes from the import): each product in
// its own transaction through CreateProduct, recording progress in the same
// transaction, so a job taken again after a crash resumes where it stopped
// and never imports a product twice. A product that fails validation (or
// whose SKU code is taken) is skipped and its errors are recorded by row.
// It stops after budget and reports more = true, so the caller queues the
// rest (a job's lease is bounded). Other errors (the database) are returned
// for the runner to retry; an import it cannot read is marked failed.
func (im *Importer) RunImport(ctx context.Context, id int64, budget time.Duration) (more bool, err error) {
	s := im.mall
	var imp ProductImport
	if err := s.db.W(ctx).Take(&imp, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return false, nil // deleted: nothing to do
		}
		return false, err
	}
	if imp.Status == ImportDone || imp.Status == ImportFailed {
		return false, nil
	}
	tctx, _, err := s.tenantCtx(ctx, imp.TenantID)
	if err != nil {
		return false, im.finish(ctx, &imp, ImportFailed, &storedError{Code: "internal"})
	}
	products, perr := parseProductsCSV([]byte(imp.Source))
	switch {
	case perr != nil:
		ae := apperr.As(perr)
		return false, im.finish(ctx, &imp, ImportFailed, &storedError{Row: 1, Code: ae.Code, Args: ae.Args})
	case len(products) != imp.Total:
		return false, im.finish(ctx, &imp, ImportFailed, &storedError{Code: "internal"})
	}
	if imp.Status == ImportQueued {
		if err := s.db.W(ctx).Model(&ProductImport{}).Where("id = ? AND status = ?", id, ImportQueued).Update("status", ImportRunning).Error; err != nil {
			return false, err
		}
	}
	start := time.Now()
	for i := imp.Processed; i < len(products); i++ {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if i > imp.Processed && time.Since(start) > budget {
			return true, nil // at least one product per run
		}
		p := products[i]
		var failure error
		if len(p.errs) > 0 {
			in := p.in
			failure = in.validate() // report every problem of the product at once
		} else {
			failure = s.db.Tx(tctx, func(ctx context.Context) error {
				if _, err := s.CreateProduct(ctx, p.in); err != nil {
					return err
				}
				return im.advance(ctx, id, i, true, nil)
			})
			switch {
			case failure == nil:
				continue
			case errors.Is(failure, errImportMoved):
				return false, nil // another runner has it
			case apperr.KindOf(failure) != apperr.KindInvalid && apperr.KindOf(failure) != apperr.KindConflict:
				return false, failure // the database: retry later from here
			}
		}
		err := s.db.Tx(ctx, func(ctx context.Context) error { return im.advance(ctx, id, i, false, p.problems(failure)) })
		switch {
		case errors.Is(err, errImportMoved):
			return false, nil
		case err != nil:
			return false, err
		}
	}
	return false, im.finish(ctx, &imp, ImportDone, nil)
}

// advance records that product i of import id was processed, inside ctx's
// transaction; it fails with errImportMoved unless i was the next one.
func (im *Importer) advance(ctx context.Context, id int64, i int, imported bool, errs []storedError) error {
	db := im.mall.db
	upd := map[string]any{"processed": i + 1}
	if imported {
		upd["imported"] = gorm.Expr("imported + 1")
	}
	if len(errs) > 0 {
		var cur ProductImport
		if err := db.W(ctx).Select("errors").Take(&cur, id).Error; err != nil {
			return err
		}
		var all []storedError
		_ = json.Unmarshal([]byte(cur.Errors), &all)
		if room := MaxImportErrors - len(all); room > 0 {
			all = append(all, errs[:min(room, len(errs))]...)
			b, err := json.Marshal(all)
			if err != nil {
				return err
			}
			upd["errors"] = string(b)
		}
	}
	res := db.W(ctx).Model(&ProductImport{}).Where("id = ? AND processed = ?", id, i).Updates(upd)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errImportMoved
	}
	return nil
}

// finish ends an import as done or failed (with an error of the whole
// import, added to those recorded) and drops its CSV.
func (im *Importer) finish(ctx context.Context, imp *ProductImport, status string, e *storedError) error {
	db := im.mall.db
	upd := map[string]any{"status": status, "finished_at": im.mall.now(), "source": ""}
	if e != nil {
		var cur ProductImport
		if err := db.W(ctx).Select("errors").Take(&cur, imp.ID).Error; err != nil {
			return err
		}
		var all []storedError
		_ = json.Unmarshal([]byte(cur.Errors), &all)
		b, err := json.Marshal(append(all, *e))
		if err != nil {
			return err
		}
		upd["errors"] = string(b)
	}
	return db.W(ctx).Model(&ProductImport{}).Where("id = ?", imp.ID).Updates(upd).Error
}
