package warehouse

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"saasmall/server/apperr"
	"saasmall/server/imports"
	"saasmall/tenants"
)

// SKUCodes finds the tenant's SKUs by code, for the CSV imports (the mall
// service implements it).
type SKUCodes interface {
	// SKUByCode returns the id of the SKU of the tenant in ctx whose code
	// is code, and whether it is goods (not a SaaS plan); id 0 when the
	// tenant has no SKU with that code.
	SKUByCode(ctx context.Context, code string) (id int64, goods bool, err error)
}

// Kinds of import this package implements (imports.Kind names).
const (
	CountImportKind     = "stock_counts"
	PriceListImportKind = "supplier_skus"
)

// CountCSVColumns are the columns of a stock count CSV: one row per SKU,
// the SKU's code and the whole number of units counted.
var CountCSVColumns = []string{"sku_code", "counted"}

// PriceListCSVColumns are the columns of a supplier price list CSV: one row
// per SKU; cost is a decimal amount in the supplier's currency (12.50; at
// most the currency's decimals, JPY none); supplier_code may be empty;
// min_order_qty and pack_size are whole numbers, empty meaning 1.
var PriceListCSVColumns = []string{"sku_code", "supplier_code", "cost", "min_order_qty", "pack_size"}

// CountImport fills an open count sheet's counted numbers from a CSV
// (CountCSVColumns), one SKU per transaction through EnterCount. It never
// confirms the sheet: posting the differences stays the act of someone
// with warehouse approve.
type CountImport struct {
	svc  *Service
	skus SKUCodes
}

// PriceListImport sets a supplier's terms for the tenant's SKUs from a CSV
// (PriceListCSVColumns), one SKU per transaction through SetSupplierSKU
// (create or replace).
type PriceListImport struct {
	svc  *Service
	skus SKUCodes
}

var (
	_ imports.Kind = (*CountImport)(nil)
	_ imports.Kind = (*PriceListImport)(nil)
)

// NewCountImport returns the stock count kind of import.
func NewCountImport(svc *Service, skus SKUCodes) *CountImport {
	return &CountImport{svc: svc, skus: skus}
}

// NewPriceListImport returns the supplier price list kind of import.
func NewPriceListImport(svc *Service, skus SKUCodes) *PriceListImport {
	return &PriceListImport{svc: svc, skus: skus}
}

// Name is the kind's name: stock_counts.
func (*CountImport) Name() string { return CountImportKind }

// Module is the policy object of count imports: warehouse.
func (*CountImport) Module() string { return "warehouse" }

// Check wants target to be an open count sheet of the tenant in ctx.
// Errors: not_found, conflict count_not_open, internal.
func (k *CountImport) Check(ctx context.Context, target int64) error {
	if _, err := tenantOf(ctx); err != nil {
		return err
	}
	var c Count
	err := k.svc.db.R(ctx).Scopes(tenants.Scope(ctx)).Select("id", "status").Where("id = ?", target).Take(&c).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return apperr.NotFound("count")
	case err != nil:
		return internal(err, "read count")
	case c.Status != CountOpen:
		return apperr.Conflict("count_not_open")
	}
	return nil
}

// Parse reads a count CSV (at most MaxCountLines rows) into one item per
// row. Per row: sku_code required and once in the file (duplicate_row);
// counted required, a whole number (invalid_count), at most MaxDelta
// (out_of_range).
func (k *CountImport) Parse(_ context.Context, target int64, data []byte) ([]imports.Item, error) {
	recs, err := imports.ReadCSV(data, CountCSVColumns, MaxCountLines)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	items := make([]imports.Item, len(recs))
	for i, r := range recs {
		it := &countItem{kind: k, count: target, row: r.Row, code: r.Get("sku_code")}
		it.errs = skuCodeProblems(seen, r.Row, it.code)
		it.counted, it.errs = wholeNumber(it.errs, r.Row, "counted", r.Get("counted"), true, 0, "invalid_count")
		items[i] = it
	}
	return items, nil
}

type countItem struct {
	kind    *CountImport
	count   int64
	row     int
	code    string
	counted int64
	errs    []imports.RowError
}

// Apply enters the row's count on the sheet. Problems: unknown_sku_code,
// not_goods_sku, not_on_sheet; the sheet not open any more ends the import.
func (it *countItem) Apply(ctx context.Context) ([]imports.RowError, error) {
	if len(it.errs) > 0 {
		return it.errs, nil
	}
	sku, problem, err := findGoods(ctx, it.kind.skus, it.row, it.code)
	if err != nil || problem != nil {
		return problem, err
	}
	if err := it.kind.svc.EnterCount(ctx, it.count, sku, it.counted); err != nil {
		return rowProblems(err, it.row, countColumns)
	}
	return nil, nil
}

// EnterCount records what was counted of one SKU on an open sheet, like
// EnterCounts for one line without reading the sheet (the count import
// calls it once per row, inside its transaction). Staff with warehouse
// write. Errors: invalid_input (counted: out_of_range; sku_id:
// not_on_sheet), not_found, conflict count_not_open,
// no_tenant_in_context, internal.
func (s *Service) EnterCount(ctx context.Context, countID, skuID, counted int64) error {
	if _, err := tenantOf(ctx); err != nil {
		return err
	}
	if counted < 0 || counted > MaxDelta {
		return apperr.Invalid("counted", "out_of_range", "Min", 0, "Max", MaxDelta)
	}
	return s.db.Tx(ctx, func(ctx context.Context) error {
		// A guarded write to the sheet first: it fails unless the sheet is
		// open, and holds the sheet's row until this commits, so a
		// confirmation waits and then sees this count.
		res := s.db.W(ctx).Model(&Count{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status = ?", countID, CountOpen).
			Update("status", CountOpen)
		if res.Error != nil {
			return internal(res.Error, "enter count")
		}
		if res.RowsAffected != 1 {
			var n int64
			if err := s.db.R(ctx).Model(&Count{}).Scopes(tenants.Scope(ctx)).Where("id = ?", countID).Count(&n).Error; err != nil {
				return internal(err, "read count")
			}
			if n == 0 {
				return apperr.NotFound("count")
			}
			return apperr.Conflict("count_not_open")
		}
		res = s.db.W(ctx).Model(&CountLine{}).Scopes(tenants.Scope(ctx)).Where("count_id = ? AND sku_id = ?", countID, skuID).
			Update("counted", counted)
		if res.Error != nil {
			return internal(res.Error, "enter count")
		}
		if res.RowsAffected != 1 {
			return apperr.Invalid("sku_id", "not_on_sheet")
		}
		return nil
	})
}

// Name is the kind's name: supplier_skus.
func (*PriceListImport) Name() string { return PriceListImportKind }

// Module is the policy object of price list imports: warehouse.
func (*PriceListImport) Module() string { return "warehouse" }

// Check wants target to be a supplier of the tenant in ctx.
// Errors: not_found, internal.
func (k *PriceListImport) Check(ctx context.Context, target int64) error {
	_, err := k.svc.Supplier(ctx, target)
	return err
}

// Parse reads a price list CSV (at most imports.MaxRows rows) into one item
// per row, costs in the supplier's currency. Per row: sku_code required and
// once in the file (duplicate_row); supplier_code at most 64 characters;
// cost required, a decimal amount (invalid_amount) up to MaxUnitCost minor
// units; min_order_qty and pack_size whole numbers from 1 to MaxDelta.
// Errors: those of ReadCSV, not_found (the supplier).
func (k *PriceListImport) Parse(ctx context.Context, target int64, data []byte) ([]imports.Item, error) {
	sp, err := k.svc.Supplier(ctx, target)
	if err != nil {
		return nil, err
	}
	recs, err := imports.ReadCSV(data, PriceListCSVColumns, imports.MaxRows)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	items := make([]imports.Item, len(recs))
	for i, r := range recs {
		it := &priceItem{kind: k, supplier: sp.ID, row: r.Row, code: r.Get("sku_code")}
		it.errs = skuCodeProblems(seen, r.Row, it.code)
		it.in.SupplierCode = r.Get("supplier_code")
		if n := utf8.RuneCountInString(it.in.SupplierCode); n > 64 {
			it.errs = append(it.errs, imports.Problem(r.Row, "supplier_code", "too_long", "Max", 64))
		}
		switch cost := r.Get("cost"); {
		case cost == "":
			it.errs = append(it.errs, imports.Problem(r.Row, "cost", "required"))
		default:
			amount, ok := parseAmount(cost, sp.Currency)
			switch {
			case !ok:
				it.errs = append(it.errs, imports.Problem(r.Row, "cost", "invalid_amount", "Currency", sp.Currency, "Digits", minorDigits(sp.Currency)))
			case amount > MaxUnitCost:
				it.errs = append(it.errs, imports.Problem(r.Row, "cost", "out_of_range", "Min", 0, "Max", MaxUnitCost))
			}
			it.in.UnitCost = amount
		}
		it.in.MinOrderQty, it.errs = wholeNumber(it.errs, r.Row, "min_order_qty", r.Get("min_order_qty"), false, 1, "invalid_number")
		it.in.PackSize, it.errs = wholeNumber(it.errs, r.Row, "pack_size", r.Get("pack_size"), false, 1, "invalid_number")
		items[i] = it
	}
	return items, nil
}

type priceItem struct {
	kind     *PriceListImport
	supplier int64
	row      int
	code     string
	in       SupplierSKUInput
	errs     []imports.RowError
}

// Apply sets the supplier's terms for the row's SKU. Problems:
// unknown_sku_code, not_goods_sku, and SetSupplierSKU's field errors; the
// supplier gone ends the import.
func (it *priceItem) Apply(ctx context.Context) ([]imports.RowError, error) {
	if len(it.errs) > 0 {
		return it.errs, nil
	}
	sku, problem, err := findGoods(ctx, it.kind.skus, it.row, it.code)
	if err != nil || problem != nil {
		return problem, err
	}
	in := it.in
	in.SKUID = sku
	if _, err := it.kind.svc.SetSupplierSKU(ctx, it.supplier, in); err != nil {
		return rowProblems(err, it.row, priceColumns)
	}
	return nil, nil
}

// skuCodeProblems checks a row's sku_code: given, and not on an earlier row
// (seen maps each code to its first row).
func skuCodeProblems(seen map[string]int, row int, code string) []imports.RowError {
	switch first, dup := seen[code]; {
	case code == "":
		return []imports.RowError{imports.Problem(row, "sku_code", "required")}
	case dup:
		return []imports.RowError{imports.Problem(row, "sku_code", "duplicate_row", "Row", first)}
	}
	seen[code] = row
	return nil
}

// wholeNumber reads column's value v of row as a whole number from min to
// MaxDelta; not a whole number (or negative) is the field code invalid;
// empty is required when req, else 1. Problems are appended to errs.
func wholeNumber(errs []imports.RowError, row int, column, v string, req bool, min int64, invalid string) (int64, []imports.RowError) {
	if v == "" {
		if req {
			return 0, append(errs, imports.Problem(row, column, "required"))
		}
		return 1, errs
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-"):
		return 0, append(errs, imports.Problem(row, column, "out_of_range", "Min", min, "Max", MaxDelta))
	case err != nil || n < 0:
		return 0, append(errs, imports.Problem(row, column, invalid))
	case n < min || n > MaxDelta:
		return 0, append(errs, imports.Problem(row, column, "out_of_range", "Min", min, "Max", MaxDelta))
	}
	return n, errs
}

// findGoods finds the goods SKU of code: its id, or the row's problem
// (unknown_sku_code, not_goods_sku).
func findGoods(ctx context.Context, skus SKUCodes, row int, code string) (int64, []imports.RowError, error) {
	id, goods, err := skus.SKUByCode(ctx, code)
	switch {
	case err != nil:
		return 0, nil, internal(err, "find sku")
	case id == 0:
		return 0, []imports.RowError{imports.Problem(row, "sku_code", "unknown_sku_code")}, nil
	case !goods:
		return 0, []imports.RowError{imports.Problem(row, "sku_code", "not_goods_sku")}, nil
	}
	return id, nil, nil
}

// fieldColumn names the CSV column a service's input field came from.
type fieldColumn struct{ field, column string }

var (
	countColumns = []fieldColumn{{"sku_id", "sku_code"}, {"counted", "counted"}}
	priceColumns = []fieldColumn{{"sku_id", "sku_code"}, {"supplier_code", "supplier_code"}, {"unit_cost", "cost"},
		{"min_order_qty", "min_order_qty"}, {"pack_size", "pack_size"}}
)

// rowProblems turns a service's invalid_input into the row's problems, each
// field at its column; other errors are returned as they are.
func rowProblems(err error, row int, columns []fieldColumn) ([]imports.RowError, error) {
	ae := apperr.As(err)
	if ae.Kind != apperr.KindInvalid {
		return nil, err
	}
	if len(ae.Fields) == 0 {
		return []imports.RowError{{Row: row, Code: ae.Code, Args: ae.Args}}, nil
	}
	var out []imports.RowError
	done := map[string]bool{}
	for _, fc := range columns {
		if fe, ok := ae.Fields[fc.field]; ok {
			out = append(out, imports.RowError{Row: row, Column: fc.column, Field: fc.column, Code: fe.Code, Args: fe.Args})
			done[fc.field] = true
		}
	}
	for _, f := range sortedFields(ae.Fields) {
		if !done[f] {
			out = append(out, imports.RowError{Row: row, Field: f, Code: ae.Fields[f].Code, Args: ae.Fields[f].Args})
		}
	}
	return out, nil
}

func sortedFields(fs map[string]apperr.FieldError) []string {
	out := make([]string, 0, len(fs))
	for f := range fs {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

var amountRE = regexp.MustCompile(`^([0-9]{1,15})(?:\.([0-9]+))?$`)

// parseAmount reads a decimal amount in major units of currency (12.50) as
// minor units (1250), exactly: no sign, no thousands separators, and no
// more decimals than the currency has (JPY none, USD 2) but zeros.
func parseAmount(v, currency string) (int64, bool) {
	m := amountRE.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	d := minorDigits(currency)
	frac := m[2]
	if len(frac) > d {
		if strings.TrimRight(frac[d:], "0") != "" {
			return 0, false
		}
		frac = frac[:d]
	}
	n, err := strconv.ParseInt(m[1]+frac+strings.Repeat("0", d-len(frac)), 10, 64)
	return n, err == nil
}
