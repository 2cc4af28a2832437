package mall

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"saasmall/server/apperr"
	"saasmall/server/imports"
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

// MaxImportRows bounds the SKU rows of one product CSV (the server's body
// limit, 1 MiB by default, usually comes first).
const MaxImportRows = imports.MaxRows

// ImportKind is the name of product imports in the imports table.
const ImportKind = "products"

// Importer imports and exports a tenant's products as CSV. It is the
// products kind of imports.Service: an import runs in the background, one
// product per transaction through CreateProduct, so a bad product is
// skipped and reported while the rest are imported.
type Importer struct {
	mall *Service
}

var _ imports.Kind = (*Importer)(nil)

// NewImporter returns the product CSV importer of the mall service m;
// register it with the imports service.
func NewImporter(m *Service) *Importer {
	return &Importer{mall: m}
}

// Name is the kind's name: products.
func (im *Importer) Name() string { return ImportKind }

// Module is the policy object of product imports: mall.
func (im *Importer) Module() string { return "mall" }

// Check accepts any product import: it has no target.
func (im *Importer) Check(context.Context, int64) error { return nil }

// Parse reads a product CSV (CSVColumns, rows grouped by product_key) into
// one item per product; see parseProductsCSV.
func (im *Importer) Parse(_ context.Context, _ int64, data []byte) ([]imports.Item, error) {
	products, err := parseProductsCSV(data)
	if err != nil {
		return nil, err
	}
	items := make([]imports.Item, len(products))
	for i, p := range products {
		items[i] = &productItem{mall: im.mall, p: p}
	}
	return items, nil
}

// productItem is one product of an import.
type productItem struct {
	mall *Service
	p    *csvProduct
}

// Apply creates the product (CreateProduct), unless reading its rows found
// problems; its validation errors and a taken SKU code are its problems.
func (it *productItem) Apply(ctx context.Context) ([]imports.RowError, error) {
	p := it.p
	if len(p.errs) > 0 {
		in := p.in
		return p.problems(in.validate()), nil // report every problem of the product at once
	}
	if _, err := it.mall.CreateProduct(ctx, p.in); err != nil {
		if k := apperr.KindOf(err); k == apperr.KindInvalid || k == apperr.KindConflict {
			return p.problems(err), nil
		}
		return nil, err
	}
	return nil, nil
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
	errs  []imports.RowError
}

func (p *csvProduct) fail(row int, column, field, code string, args ...any) {
	e := imports.Problem(row, column, code, args...)
	e.Field = field
	p.errs = append(p.errs, e)
}

// parseProductsCSV reads a product CSV into products. The CSV as a whole
// must be well-formed with a valid header; problems with single values are
// recorded on their product (csvProduct.errs), which is then skipped.
// Errors: empty_body, invalid_csv_header (error.fields: each missing,
// unknown or duplicate column), csv_syntax, csv_field_count, csv_no_rows,
// csv_too_many_rows.
func parseProductsCSV(data []byte) ([]*csvProduct, error) {
	recs, err := imports.ReadCSV(data, CSVColumns, MaxImportRows)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*csvProduct{}
	var out []*csvProduct
	for _, rec := range recs {
		rowNo, get := rec.Row, rec.Get
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
	return out, nil
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
	if slices.Contains(CSVColumns, top) {
		return p.rows[0], top
	}
	return p.rows[0], ""
}

// problems merges the product's reading errors with err's field errors
// (CreateProduct's, or its validation's), one per row and column, by row.
func (p *csvProduct) problems(err error) []imports.RowError {
	out := append([]imports.RowError(nil), p.errs...)
	seen := map[string]bool{}
	for _, e := range out {
		seen[fmt.Sprint(e.Row, e.Column)] = true
	}
	if err != nil {
		ae := apperr.As(err)
		if len(ae.Fields) == 0 {
			out = append(out, imports.RowError{Row: p.rows[0], Code: ae.Code, Args: ae.Args})
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
			out = append(out, imports.RowError{Row: row, Column: column, Field: f, Code: ae.Fields[f].Code, Args: ae.Fields[f].Args})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Row < out[j].Row })
	return out
}
