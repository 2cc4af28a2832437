package warehouse

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// WarehouseInput creates a warehouse.
type WarehouseInput struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Country    string `json:"country"`
	Line1      string `json:"line1"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
}

// WarehousePatch changes a warehouse; nil fields stay as they are. The
// code never changes (moves and documents print it).
type WarehousePatch struct {
	Name       *string `json:"name"`
	Country    *string `json:"country"`
	Line1      *string `json:"line1"`
	City       *string `json:"city"`
	PostalCode *string `json:"postal_code"`
	Status     *string `json:"status"`
	// IsDefault true makes this the tenant's default warehouse (manual
	// adjustments without a warehouse go there); false is refused.
	IsDefault *bool `json:"is_default"`
}

var errNothingToChange = &apperr.Error{Kind: apperr.KindInvalid, Code: "nothing_to_change"}

// Warehouse codes: what staff type and documents print.
var warehouseCodeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,31}$`)

func checkText(f apperr.Fields, field, v string, min, max int) {
	n := utf8.RuneCountInString(v)
	switch {
	case n < min:
		f.Add(field, "required")
	case n > max:
		f.Add(field, "too_long", "Max", max)
	}
}

// validCountry reports whether c is an ISO 3166-1 alpha-2 country code.
func validCountry(c string) bool {
	if len(c) != 2 {
		return false
	}
	r, err := language.ParseRegion(c)
	return err == nil && r.IsCountry() && r.String() == c
}

func checkCountry(f apperr.Fields, c string) {
	if !validCountry(c) {
		f.Add("country", "invalid_country")
	}
}

// CreateWarehouse adds an active warehouse to the tenant in ctx. Staff with
// warehouse write.
// Errors: invalid_input (code: required, invalid_format — upper-case
// letters, digits, - and _, at most 32; name: required, too_long 120;
// country: invalid_country; line1: too_long 200; city: too_long 120;
// postal_code: too_long 20), conflict already_exists (the code is taken),
// no_tenant_in_context, internal.
func (s *Service) CreateWarehouse(ctx context.Context, in WarehouseInput) (Warehouse, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return Warehouse{}, err
	}
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	in.Name, in.Line1, in.City = strings.TrimSpace(in.Name), strings.TrimSpace(in.Line1), strings.TrimSpace(in.City)
	in.PostalCode, in.Country = strings.TrimSpace(in.PostalCode), strings.ToUpper(strings.TrimSpace(in.Country))
	f := apperr.Fields{}
	switch {
	case in.Code == "":
		f.Add("code", "required")
	case !warehouseCodeRE.MatchString(in.Code):
		f.Add("code", "invalid_format")
	}
	checkText(f, "name", in.Name, 1, 120)
	checkCountry(f, in.Country)
	checkText(f, "line1", in.Line1, 0, 200)
	checkText(f, "city", in.City, 0, 120)
	checkText(f, "postal_code", in.PostalCode, 0, 20)
	if err := f.Err(); err != nil {
		return Warehouse{}, err
	}
	now := s.nowUTC()
	w := Warehouse{TenantID: t.ID, Code: in.Code, Name: in.Name, Country: in.Country, Line1: in.Line1, City: in.City,
		PostalCode: in.PostalCode, Status: WarehouseActive, CreatedAt: now, UpdatedAt: now}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.db.W(ctx).Create(&w).Error; err != nil {
			return store.Error(err, "warehouse")
		}
		return s.db.Emit(ctx, t.ID, "warehouse.created", w)
	})
	s.sites.Forget(t.ID)
	if err != nil {
		return Warehouse{}, err
	}
	return w, nil
}

// Warehouse returns one warehouse of the tenant in ctx. Staff with
// warehouse read. Errors: not_found, no_tenant_in_context, internal.
func (s *Service) Warehouse(ctx context.Context, id int64) (Warehouse, error) {
	if _, err := tenantOf(ctx); err != nil {
		return Warehouse{}, err
	}
	if id <= 0 {
		return Warehouse{}, apperr.NotFound("warehouse")
	}
	w, err := s.warehouse(ctx, id)
	if err != nil {
		return Warehouse{}, apperr.NotFound("warehouse")
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, nil
}

// UpdateWarehouse changes a warehouse of the tenant in ctx. Closing it stops
// checkouts from drawing on it (its stock, reservations and history stay).
// The default warehouse cannot be closed: make another one the default
// first. Staff with warehouse write.
// Errors: invalid_input (nothing to change; name, country, line1, city,
// postal_code as CreateWarehouse; status: invalid_choice; is_default:
// invalid_choice when false), conflict default_warehouse_closed (closing
// the default, or making a closed warehouse the default), not_found,
// no_tenant_in_context, internal.
func (s *Service) UpdateWarehouse(ctx context.Context, id int64, in WarehousePatch) (Warehouse, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return Warehouse{}, err
	}
	f := apperr.Fields{}
	upd := map[string]any{}
	text := func(field string, v *string, min, max int) {
		if v == nil {
			return
		}
		*v = strings.TrimSpace(*v)
		checkText(f, field, *v, min, max)
		upd[field] = *v
	}
	text("name", in.Name, 1, 120)
	text("line1", in.Line1, 0, 200)
	text("city", in.City, 0, 120)
	text("postal_code", in.PostalCode, 0, 20)
	if in.Country != nil {
		c := strings.ToUpper(strings.TrimSpace(*in.Country))
		checkCountry(f, c)
		upd["country"] = c
	}
	if in.Status != nil {
		switch *in.Status {
		case WarehouseActive, WarehouseClosed:
			upd["status"] = *in.Status
		default:
			f.Add("status", "invalid_choice", "Choices", "active, closed")
		}
	}
	if in.IsDefault != nil && !*in.IsDefault {
		f.Add("is_default", "invalid_choice", "Choices", "true")
	}
	if err := f.Err(); err != nil {
		return Warehouse{}, err
	}
	if len(upd) == 0 && in.IsDefault == nil {
		return Warehouse{}, errNothingToChange
	}
	if id <= 0 {
		return Warehouse{}, apperr.NotFound("warehouse")
	}
	var w Warehouse
	defer s.sites.Forget(t.ID)
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		old, err := s.warehouse(ctx, id)
		if err != nil {
			return apperr.NotFound("warehouse")
		}
		status := old.Status
		if v, ok := upd["status"].(string); ok {
			status = v
		}
		makeDefault := in.IsDefault != nil && *in.IsDefault && !old.IsDefault
		if status == WarehouseClosed && (old.IsDefault || makeDefault) {
			return apperr.Conflict("default_warehouse_closed")
		}
		now := s.nowUTC()
		upd["updated_at"] = now
		if makeDefault {
			// One default per tenant (a unique index): the old one first.
			if err := s.db.W(ctx).Model(&Warehouse{}).Scopes(tenants.Scope(ctx)).Where("is_default").
				Updates(map[string]any{"is_default": false, "updated_at": now}).Error; err != nil {
				return internal(err, "unset default warehouse")
			}
			upd["is_default"] = true
		}
		if err := s.db.W(ctx).Model(&Warehouse{}).Scopes(tenants.Scope(ctx)).Where("id = ?", id).Updates(upd).Error; err != nil {
			return internal(err, "update warehouse")
		}
		if w, err = s.warehouse(ctx, id); err != nil {
			return err
		}
		return s.db.Emit(ctx, t.ID, "warehouse.updated", w)
	})
	if err != nil {
		return Warehouse{}, err
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, nil
}
