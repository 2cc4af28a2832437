package warehouse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"saasmall/server/apperr"
)

// Error codes of this package (besides not_found, invalid_input, internal
// and no_tenant_in_context). The i18n bundle has "error.<code>".
const (
	CodeOutOfStock        = "out_of_stock"       // Reserve: a SKU cannot be covered
	CodeInsufficientStock = "insufficient_stock" // Adjust: on_hand would fall below reserved
	CodeAlreadyReserved   = "already_reserved"   // Reserve: the order already holds reservations
	CodeReservationGone   = "reservation_released"
)

// Sentinels for errors.Is (apperr errors match by Code).
var (
	ErrOutOfStock        = apperr.Conflict(CodeOutOfStock)
	ErrInsufficientStock = apperr.Conflict(CodeInsufficientStock)
	ErrAlreadyReserved   = apperr.Conflict(CodeAlreadyReserved)
	ErrReservationGone   = apperr.Conflict(CodeReservationGone)
)

// OutOfStockError is Reserve's refusal: the SKUs in SKUIDs (ascending) could
// not be covered by the tenant's warehouses. It is an apperr conflict with
// Code "out_of_stock" (errors.As(err, **apperr.Error) finds it, so web
// answers 409), whose Args carry "SKUs" (the ids, comma-separated, for the
// message) and whose Fields have one entry "sku:<id>" with code
// "out_of_stock" per SKU, so a client can mark the affected lines.
type OutOfStockError struct {
	SKUIDs []int64
	err    *apperr.Error
}

func (e *OutOfStockError) Error() string { return e.err.Error() + " " + e.err.Args["SKUs"].(string) }

// Unwrap exposes the apperr error to errors.As and errors.Is.
func (e *OutOfStockError) Unwrap() error { return e.err }

// AppErr returns the apperr conflict it carries.
func (e *OutOfStockError) AppErr() *apperr.Error { return e.err }

func newOutOfStock(skuIDs []int64) *OutOfStockError {
	ids := make([]string, len(skuIDs))
	fields := make(map[string]apperr.FieldError, len(skuIDs))
	for i, id := range skuIDs {
		ids[i] = strconv.FormatInt(id, 10)
		fields["sku:"+ids[i]] = apperr.FieldError{Code: CodeOutOfStock, Args: map[string]any{"SKUID": id}}
	}
	e := apperr.Conflict(CodeOutOfStock)
	e.Args = map[string]any{"SKUs": strings.Join(ids, ", "), "SKUIDs": skuIDs}
	e.Fields = fields
	return &OutOfStockError{SKUIDs: skuIDs, err: e}
}

// notFoundField is a not_found error (HTTP 404: missing, or another
// tenant's) that also names the input field that referred to the thing.
func notFoundField(what, field string) *apperr.Error {
	e := apperr.NotFound(what)
	e.Fields = map[string]apperr.FieldError{field: {Code: "not_found"}}
	return e
}

func internal(err error, what string) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.Internal(fmt.Errorf("warehouse: %s: %w", what, err))
}

// checkSKULines adds to f what is wrong with a document's n lines of SKUs
// and quantities: none or more than MaxLines, a SKU missing or given twice,
// a quantity outside 1..MaxDelta. line gives line i's SKU and quantity;
// more, when not nil, checks the rest of line i (p is its field prefix,
// "lines[i]"; fresh when its SKU is set and not seen before).
func checkSKULines(f apperr.Fields, n int, line func(i int) (sku, qty int64), more func(i int, p string, fresh bool) error) error {
	switch {
	case n == 0:
		f.Add("lines", "required")
	case n > MaxLines:
		f.Add("lines", "too_many", "Max", MaxLines)
	}
	seen := make(map[int64]bool, min(n, MaxLines))
	for i := range min(n, MaxLines) {
		sku, qty := line(i)
		p := fmt.Sprintf("lines[%d]", i)
		fresh := false
		switch {
		case sku <= 0:
			f.Add(p+".sku_id", "required")
		case seen[sku]:
			f.Add(p+".sku_id", "duplicate")
		default:
			fresh = true
		}
		seen[sku] = true
		if qty <= 0 || qty > MaxDelta {
			f.Add(p+".qty", "out_of_range", "Min", 1, "Max", MaxDelta)
		}
		if more != nil {
			if err := more(i, p, fresh); err != nil {
				return err
			}
		}
	}
	return nil
}
