package warehouse

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Supplier is a company the tenant buys goods from.
type Supplier struct {
	ID           int64     `gorm:"primaryKey" json:"id"`
	TenantID     int64     `json:"-"`
	Code         string    `json:"code"`
	Name         string    `json:"name"`
	ContactName  string    `json:"contact_name"`
	Email        string    `json:"email"`
	Phone        string    `json:"phone"`
	Currency     string    `json:"currency"`       // what its prices and purchase orders are in
	LeadTimeDays int       `json:"lead_time_days"` // from sending an order to the goods arriving
	PaymentTerms string    `json:"payment_terms"`  // e.g. "NET30", "50% upfront"
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// TableName is the suppliers table.
func (Supplier) TableName() string { return "suppliers" }

// SupplierSKU is what a supplier sells one of the tenant's SKUs as: its own
// code, its price per unit, the least it sells and the pack it ships in.
type SupplierSKU struct {
	ID           int64     `gorm:"primaryKey" json:"-"`
	TenantID     int64     `json:"-"`
	SupplierID   int64     `json:"supplier_id"`
	SKUID        int64     `gorm:"column:sku_id" json:"sku_id"`
	SupplierCode string    `json:"supplier_code"`
	UnitCost     int64     `json:"unit_cost"` // minor units of the supplier's currency
	MinOrderQty  int64     `json:"min_order_qty"`
	PackSize     int64     `json:"pack_size"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// TableName is the supplier SKUs table.
func (SupplierSKU) TableName() string { return "supplier_skus" }

// SupplierInput creates a supplier (Code, Name and Currency required) or,
// in UpdateSupplier, replaces its fields (Code stays).
type SupplierInput struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	ContactName  string `json:"contact_name"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Currency     string `json:"currency"`
	LeadTimeDays int    `json:"lead_time_days"`
	PaymentTerms string `json:"payment_terms"`
	Active       *bool  `json:"active"`
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func supplierMigration() *store.Migration {
	type supplier struct {
		ID           int64  `gorm:"primaryKey"`
		TenantID     int64  `gorm:"not null;uniqueIndex:ux_suppliers_code,priority:1"`
		Code         string `gorm:"size:32;not null;uniqueIndex:ux_suppliers_code,priority:2"`
		Name         string `gorm:"size:120;not null"`
		ContactName  string `gorm:"size:120;not null;default:''"`
		Email        string `gorm:"size:254;not null;default:''"`
		Phone        string `gorm:"size:40;not null;default:''"`
		Currency     string `gorm:"size:3;not null"`
		LeadTimeDays int    `gorm:"not null;default:0;check:chk_suppliers_lead,lead_time_days >= 0"`
		PaymentTerms string `gorm:"size:80;not null;default:''"`
		Active       bool   `gorm:"not null;default:true"`
		CreatedAt    time.Time
		UpdatedAt    time.Time
	}
	type supplierSKU struct {
		ID           int64  `gorm:"primaryKey"`
		TenantID     int64  `gorm:"not null"`
		SupplierID   int64  `gorm:"not null;uniqueIndex:ux_supplier_skus,priority:1"`
		SKUID        int64  `gorm:"column:sku_id;not null;uniqueIndex:ux_supplier_skus,priority:2;index"`
		SupplierCode string `gorm:"size:64;not null;default:''"`
		UnitCost     int64  `gorm:"not null;check:chk_supplier_skus_cost,unit_cost >= 0"`
		MinOrderQty  int64  `gorm:"not null;default:1;check:chk_supplier_skus_moq,min_order_qty >= 1"`
		PackSize     int64  `gorm:"not null;default:1;check:chk_supplier_skus_pack,pack_size >= 1"`
		UpdatedAt    time.Time
	}
	return &store.Migration{
		ID: "202611250054_suppliers",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("suppliers").AutoMigrate(&supplier{}); err != nil {
				return err
			}
			return tx.Table("supplier_skus").AutoMigrate(&supplierSKU{})
		},
	}
}

func (in *SupplierInput) normalize() {
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	in.Name, in.ContactName = strings.TrimSpace(in.Name), strings.TrimSpace(in.ContactName)
	in.Email, in.Phone = strings.TrimSpace(in.Email), strings.TrimSpace(in.Phone)
	in.Currency, in.PaymentTerms = strings.ToUpper(strings.TrimSpace(in.Currency)), strings.TrimSpace(in.PaymentTerms)
}

func (in *SupplierInput) validate(f apperr.Fields, create bool) {
	if create {
		switch {
		case in.Code == "":
			f.Add("code", "required")
		case !warehouseCodeRE.MatchString(in.Code):
			f.Add("code", "invalid_format")
		}
	}
	checkText(f, "name", in.Name, 1, 120)
	checkText(f, "contact_name", in.ContactName, 0, 120)
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
			f.Add("email", "invalid_email")
		}
	}
	checkText(f, "phone", in.Phone, 0, 40)
	if !currencyRE.MatchString(in.Currency) || !tenants.ValidCurrency(in.Currency) {
		f.Add("currency", "invalid_currency")
	}
	if in.LeadTimeDays < 0 || in.LeadTimeDays > 365 {
		f.Add("lead_time_days", "out_of_range", "Min", 0, "Max", 365)
	}
	checkText(f, "payment_terms", in.PaymentTerms, 0, 80)
}

// CreateSupplier adds a supplier to the tenant in ctx. Staff with
// warehouse write.
// Errors: invalid_input (code: required, invalid_format; name: required,
// too_long; contact_name, phone, payment_terms: too_long; email:
// invalid_email; currency: invalid_currency; lead_time_days:
// out_of_range 0…365), conflict already_exists (code), internal.
func (s *Service) CreateSupplier(ctx context.Context, in SupplierInput) (*Supplier, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	in.normalize()
	f := apperr.Fields{}
	in.validate(f, true)
	if err := f.Err(); err != nil {
		return nil, err
	}
	now := s.nowUTC()
	sp := Supplier{TenantID: t.ID, Code: in.Code, Name: in.Name, ContactName: in.ContactName, Email: in.Email, Phone: in.Phone,
		Currency: in.Currency, LeadTimeDays: in.LeadTimeDays, PaymentTerms: in.PaymentTerms, Active: in.Active == nil || *in.Active,
		CreatedAt: now, UpdatedAt: now}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		// Select("*") writes Active even when false (gorm skips zero values
		// of fields with a database default).
		if err := s.db.W(ctx).Select("*").Omit("ID").Create(&sp).Error; err != nil {
			return store.Error(err, "supplier")
		}
		return s.db.Emit(ctx, t.ID, "supplier.created", sp)
	})
	if err != nil {
		return nil, err
	}
	return &sp, nil
}

// UpdateSupplier replaces a supplier's fields (not its code). Staff with
// warehouse write. Errors: as CreateSupplier's, not_found.
func (s *Service) UpdateSupplier(ctx context.Context, id int64, in SupplierInput) (*Supplier, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	in.normalize()
	f := apperr.Fields{}
	in.validate(f, false)
	if err := f.Err(); err != nil {
		return nil, err
	}
	var sp *Supplier
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		upd := map[string]any{"name": in.Name, "contact_name": in.ContactName, "email": in.Email, "phone": in.Phone,
			"currency": in.Currency, "lead_time_days": in.LeadTimeDays, "payment_terms": in.PaymentTerms, "updated_at": s.nowUTC()}
		if in.Active != nil {
			upd["active"] = *in.Active
		}
		res := s.db.W(ctx).Model(&Supplier{}).Scopes(tenants.Scope(ctx)).Where("id = ?", id).Updates(upd)
		if res.Error != nil {
			return internal(res.Error, "update supplier")
		}
		if res.RowsAffected != 1 {
			return apperr.NotFound("supplier")
		}
		if sp, err = s.Supplier(ctx, id); err != nil {
			return err
		}
		return s.db.Emit(ctx, t.ID, "supplier.updated", sp)
	})
	if err != nil {
		return nil, err
	}
	return sp, nil
}

// Supplier returns one supplier of the tenant in ctx. Staff with warehouse
// read. Errors: not_found, internal.
func (s *Service) Supplier(ctx context.Context, id int64) (*Supplier, error) {
	if _, err := tenantOf(ctx); err != nil {
		return nil, err
	}
	var sp Supplier
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("id = ?", id).Take(&sp).Error; err != nil {
		return nil, store.Error(err, "supplier")
	}
	sp.CreatedAt, sp.UpdatedAt = sp.CreatedAt.UTC(), sp.UpdatedAt.UTC()
	return &sp, nil
}

// Suppliers returns a page of the tenant's suppliers by code, optionally
// only active ones or those whose code or name contains q. Staff with
// warehouse read.
func (s *Service) Suppliers(ctx context.Context, q string, activeOnly bool, p store.PageRequest) (store.Page[Supplier], error) {
	if _, err := tenantOf(ctx); err != nil {
		return store.Page[Supplier]{}, err
	}
	base := func() *gorm.DB {
		db := s.db.R(ctx).Model(&Supplier{}).Scopes(tenants.Scope(ctx))
		if q = strings.TrimSpace(q); q != "" {
			like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
			db = db.Where(`(LOWER(code) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`, like, like)
		}
		if activeOnly {
			db = db.Where("active")
		}
		return db
	}
	return listPage(base, "code", p, false, "suppliers", func(sp *Supplier) {
		sp.CreatedAt, sp.UpdatedAt = sp.CreatedAt.UTC(), sp.UpdatedAt.UTC()
	})
}

// SupplierSKUInput sets what a supplier sells a SKU as.
type SupplierSKUInput struct {
	SKUID        int64  `json:"sku_id"`
	SupplierCode string `json:"supplier_code"`
	UnitCost     int64  `json:"unit_cost"`
	MinOrderQty  int64  `json:"min_order_qty"`
	PackSize     int64  `json:"pack_size"`
}

// SetSupplierSKU creates or replaces a supplier's terms for one of the
// tenant's goods SKUs (min_order_qty and pack_size default to 1). Staff
// with warehouse write.
// Errors: invalid_input (sku_id: required, not_found; supplier_code:
// too_long 64; unit_cost: out_of_range 0…MaxUnitCost; min_order_qty,
// pack_size: out_of_range 1…MaxDelta), not_found (supplier), internal.
func (s *Service) SetSupplierSKU(ctx context.Context, supplierID int64, in SupplierSKUInput) (*SupplierSKU, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	in.SupplierCode = strings.TrimSpace(in.SupplierCode)
	if in.MinOrderQty == 0 {
		in.MinOrderQty = 1
	}
	if in.PackSize == 0 {
		in.PackSize = 1
	}
	f := apperr.Fields{}
	if in.SKUID <= 0 {
		f.Add("sku_id", "required")
	} else if goods, err := s.skus.GoodsSKU(ctx, in.SKUID); err != nil {
		return nil, internal(err, "check sku")
	} else if !goods {
		f.Add("sku_id", "not_found")
	}
	checkText(f, "supplier_code", in.SupplierCode, 0, 64)
	if in.UnitCost < 0 || in.UnitCost > MaxUnitCost {
		f.Add("unit_cost", "out_of_range", "Min", 0, "Max", MaxUnitCost)
	}
	for _, c := range []struct {
		name string
		v    int64
	}{{"min_order_qty", in.MinOrderQty}, {"pack_size", in.PackSize}} {
		if c.v < 1 || c.v > MaxDelta {
			f.Add(c.name, "out_of_range", "Min", 1, "Max", MaxDelta)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	row := SupplierSKU{TenantID: t.ID, SupplierID: supplierID, SKUID: in.SKUID, SupplierCode: in.SupplierCode, UnitCost: in.UnitCost,
		MinOrderQty: in.MinOrderQty, PackSize: in.PackSize, UpdatedAt: s.nowUTC()}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.Supplier(ctx, supplierID); err != nil {
			return err
		}
		return s.db.W(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "supplier_id"}, {Name: "sku_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"supplier_code", "unit_cost", "min_order_qty", "pack_size", "updated_at"}),
		}).Create(&row).Error
	})
	if err != nil {
		return nil, internal(err, "set supplier sku")
	}
	row.UpdatedAt = row.UpdatedAt.UTC()
	return &row, nil
}

// SupplierSKUs returns a supplier's SKUs by SKU id. Staff with warehouse
// read. Errors: not_found (supplier), internal.
func (s *Service) SupplierSKUs(ctx context.Context, supplierID int64) ([]SupplierSKU, error) {
	if _, err := s.Supplier(ctx, supplierID); err != nil {
		return nil, err
	}
	rows := []SupplierSKU{}
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("supplier_id = ?", supplierID).Order("sku_id").Find(&rows).Error; err != nil {
		return nil, internal(err, "list supplier skus")
	}
	for i := range rows {
		rows[i].UpdatedAt = rows[i].UpdatedAt.UTC()
	}
	return rows, nil
}
