package warehouse

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Purchase order states:
//
//	draft → approved (warehouse approve) → sent → partially_received → received → closed
//	draft, approved, sent (nothing received yet) → cancelled
//	partially_received → closed (the rest will not come: the shortfall is reported)
const (
	POStatusDraft             = "draft"
	POStatusApproved          = "approved"
	POStatusSent              = "sent"
	POStatusPartiallyReceived = "partially_received"
	POStatusReceived          = "received"
	POStatusClosed            = "closed"
	POStatusCancelled         = "cancelled"
)

var poStatuses = []string{POStatusDraft, POStatusApproved, POStatusSent, POStatusPartiallyReceived, POStatusReceived, POStatusClosed, POStatusCancelled}

// PurchaseOrder is an order of goods from a supplier into one warehouse,
// priced in the supplier's currency.
type PurchaseOrder struct {
	ID          int64  `gorm:"primaryKey" json:"id"`
	TenantID    int64  `json:"-"`
	SupplierID  int64  `json:"supplier_id"`
	WarehouseID int64  `json:"warehouse_id"`
	Status      string `json:"status"`
	Currency    string `json:"currency"`
	// ExchangeRate is units of the tenant's currency per unit of the PO's
	// currency (a decimal, "1" when they are the same): receipts are
	// valued at unit_cost × rate.
	ExchangeRate string `json:"exchange_rate"`
	Source       string `json:"source"` // manual | replenishment
	Note         string `json:"note"`
	// Reason explains a replenishment proposal (per line in the lines).
	ExpectedAt  *time.Time `json:"expected_at,omitempty"`
	CreatedBy   int64      `json:"created_by"`
	ApprovedBy  int64      `json:"approved_by,omitempty"`
	ApprovedAt  *time.Time `json:"approved_at,omitempty"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Lines       []POLine   `gorm:"foreignKey:POID" json:"lines"`
	Total       int64      `gorm:"-" json:"total"` // Σ qty × unit_cost, minor units of Currency
}

// TableName is the purchase orders table.
func (PurchaseOrder) TableName() string { return "purchase_orders" }

// POLine is one SKU of a purchase order.
type POLine struct {
	ID       int64  `gorm:"primaryKey" json:"id"`
	POID     int64  `gorm:"column:po_id" json:"-"`
	TenantID int64  `json:"-"`
	SKUID    int64  `gorm:"column:sku_id" json:"sku_id"`
	Qty      int64  `json:"qty"`
	UnitCost int64  `json:"unit_cost"` // minor units of the PO's currency
	Received int64  `json:"received"`
	Reason   string `json:"reason,omitempty"` // why replenishment proposed it
}

// TableName is the purchase order lines table.
func (POLine) TableName() string { return "purchase_order_lines" }

// POInput creates a draft purchase order.
type POInput struct {
	SupplierID   int64         `json:"supplier_id"`
	WarehouseID  int64         `json:"warehouse_id"` // 0: the default warehouse
	ExchangeRate string        `json:"exchange_rate"`
	Note         string        `json:"note"`
	Lines        []POLineInput `json:"lines"`
}

// POLineInput is a line of a new purchase order; UnitCost nil takes the
// supplier's price for the SKU.
type POLineInput struct {
	SKUID    int64  `json:"sku_id"`
	Qty      int64  `json:"qty"`
	UnitCost *int64 `json:"unit_cost"`
	Reason   string `json:"-"`
}

// ReceiptLine is what arrived of one SKU.
type ReceiptLine struct {
	SKUID int64 `json:"sku_id"`
	Qty   int64 `json:"qty"`
}

// ReceiptResult reports a goods receipt against a purchase order: per line
// what was ordered, what has arrived in all, and what is still missing or
// came on top.
type ReceiptResult struct {
	Order *PurchaseOrder    `json:"order"`
	Lines []ReceiptLineView `json:"lines"`
}

// ReceiptLineView is one line of a receipt report.
type ReceiptLineView struct {
	SKUID    int64 `json:"sku_id"`
	Received int64 `json:"received"` // in this receipt
	Ordered  int64 `json:"ordered"`
	Total    int64 `json:"total_received"`
	Short    int64 `json:"short"` // ordered − total, when positive
	Over     int64 `json:"over"`  // total − ordered, when positive
	UnitCost int64 `json:"unit_cost_tenant"`
}

func purchaseMigration() *store.Migration {
	type purchaseOrder struct {
		ID           int64  `gorm:"primaryKey"`
		TenantID     int64  `gorm:"not null;index:ix_purchase_orders_tenant,priority:1"`
		SupplierID   int64  `gorm:"not null;index"`
		WarehouseID  int64  `gorm:"not null"`
		Status       string `gorm:"size:20;not null;index:ix_purchase_orders_tenant,priority:2;check:chk_purchase_orders_status,status IN ('draft','approved','sent','partially_received','received','closed','cancelled')"`
		Currency     string `gorm:"size:3;not null"`
		ExchangeRate string `gorm:"size:32;not null;default:'1'"`
		Source       string `gorm:"size:16;not null;default:'manual'"`
		Note         string `gorm:"size:500;not null;default:''"`
		ExpectedAt   *time.Time
		CreatedBy    int64 `gorm:"not null;default:0"`
		ApprovedBy   int64 `gorm:"not null;default:0"`
		ApprovedAt   *time.Time
		SentAt       *time.Time
		ClosedAt     *time.Time
		CancelledAt  *time.Time
		CreatedAt    time.Time
		UpdatedAt    time.Time
	}
	type poLine struct {
		ID       int64  `gorm:"primaryKey"`
		POID     int64  `gorm:"column:po_id;not null;index"`
		TenantID int64  `gorm:"not null"`
		SKUID    int64  `gorm:"column:sku_id;not null;index"`
		Qty      int64  `gorm:"not null;check:chk_po_lines_qty,qty > 0"`
		UnitCost int64  `gorm:"not null;check:chk_po_lines_cost,unit_cost >= 0"`
		Received int64  `gorm:"not null;default:0;check:chk_po_lines_received,received >= 0"`
		Reason   string `gorm:"size:500;not null;default:''"`
	}
	return &store.Migration{
		ID: "202611250055_purchase_orders",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("purchase_orders").AutoMigrate(&purchaseOrder{}); err != nil {
				return err
			}
			return tx.Table("purchase_order_lines").AutoMigrate(&poLine{})
		},
	}
}

// parseRate reads a positive decimal exchange rate.
func parseRate(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 32 || strings.ContainsAny(s, "/eE") {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return nil, false
	}
	return r, true
}

// poRate checks a purchase order's exchange rate from the supplier's
// currency into the tenant's: "" means 1 when they are the same and is
// required otherwise.
func poRate(raw, supplierCurrency, tenantCurrency string) (string, error) {
	rate := strings.TrimSpace(raw)
	switch {
	case rate == "" && supplierCurrency == tenantCurrency:
		return "1", nil
	case rate == "":
		return "", apperr.Invalid("exchange_rate", "required")
	}
	if _, ok := parseRate(rate); !ok {
		return "", apperr.Invalid("exchange_rate", "invalid_rate")
	}
	return rate, nil
}

func minorDigits(code string) int {
	u, err := currency.ParseISO(code)
	if err != nil {
		return 2
	}
	scale, _ := currency.Standard.Rounding(u)
	return scale
}

// convertCost turns a unit cost in minor units of from into minor units of
// to at rate (to per from), rounded half to even.
func convertCost(cost int64, from, to string, rate *big.Rat) int64 {
	v := new(big.Rat).Mul(new(big.Rat).SetInt64(cost), rate)
	shift := minorDigits(to) - minorDigits(from)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(shift))), nil))
	if shift >= 0 {
		v.Mul(v, p)
	} else {
		v.Quo(v, p)
	}
	return roundHalfEven(v)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func roundHalfEven(r *big.Rat) int64 {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	switch new(big.Int).Lsh(new(big.Int).Abs(m), 1).Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(int64(r.Sign())))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(int64(r.Sign())))
		}
	}
	return q.Int64()
}

// CreatePurchaseOrder drafts a purchase order from a supplier into a
// warehouse of the tenant in ctx. Lines without a unit cost take the
// supplier's price (the SKU must then be one it sells). Emits
// purchase_order.created. Staff with warehouse write.
// Errors: invalid_input (supplier_id: required, not_found,
// supplier_inactive; warehouse_id: not_found, warehouse_closed;
// exchange_rate: invalid_rate, required when the supplier's currency is
// not the tenant's; note: too_long; lines: required, too_many;
// lines[i].sku_id: required, duplicate, not_found, no_supplier_price;
// lines[i].qty, lines[i].unit_cost: out_of_range), internal.
func (s *Service) CreatePurchaseOrder(ctx context.Context, in POInput) (*PurchaseOrder, error) {
	return s.createPO(ctx, in, "manual")
}

func (s *Service) createPO(ctx context.Context, in POInput, source string) (*PurchaseOrder, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	in.Note = strings.TrimSpace(in.Note)
	f := apperr.Fields{}
	if in.SupplierID <= 0 {
		f.Add("supplier_id", "required")
	}
	if in.WarehouseID < 0 {
		f.Add("warehouse_id", "invalid_id")
	}
	if utf8.RuneCountInString(in.Note) > 500 {
		f.Add("note", "too_long", "Max", 500)
	}
	if err := s.checkLines(ctx, f, in.Lines); err != nil {
		return nil, err
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var po PurchaseOrder
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		sp, err := s.Supplier(ctx, in.SupplierID)
		if err != nil {
			return notFoundField("supplier", "supplier_id")
		}
		if !sp.Active {
			return apperr.Invalid("supplier_id", "supplier_inactive")
		}
		w, err := s.warehouse(ctx, in.WarehouseID)
		if err != nil {
			return err
		}
		if w.Status != WarehouseActive {
			return apperr.Invalid("warehouse_id", "warehouse_closed")
		}
		rate, err := poRate(in.ExchangeRate, sp.Currency, t.DefaultCurrency)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		po = PurchaseOrder{TenantID: t.ID, SupplierID: sp.ID, WarehouseID: w.ID, Status: POStatusDraft, Currency: sp.Currency,
			ExchangeRate: rate, Source: source, Note: in.Note, CreatedBy: actor.UserID(ctx), CreatedAt: now, UpdatedAt: now}
		if po.Lines, err = s.priceLines(ctx, t.ID, *sp, in.Lines); err != nil {
			return err
		}
		if err := s.db.W(ctx).Omit("Lines").Create(&po).Error; err != nil {
			return internal(err, "create purchase order")
		}
		for i := range po.Lines {
			po.Lines[i].POID = po.ID
		}
		if err := s.db.W(ctx).Create(&po.Lines).Error; err != nil {
			return internal(err, "create purchase order lines")
		}
		po.total()
		return s.db.Emit(ctx, t.ID, "purchase_order.created", &po)
	})
	if err != nil {
		return nil, err
	}
	return &po, nil
}

// POPatch changes a draft purchase order: its exchange rate, its note, or
// all its lines (nil: unchanged).
type POPatch struct {
	ExchangeRate *string        `json:"exchange_rate"`
	Note         *string        `json:"note"`
	Lines        *[]POLineInput `json:"lines"`
}

// UpdatePurchaseOrder changes a draft of the tenant in ctx before it is
// approved (replenishment's proposals are drafts a buyer adjusts). New
// lines replace the draft's, at their unit cost or the supplier's price; a
// SKU that stays keeps the reason replenishment gave for it. Emits
// purchase_order.updated. Staff with warehouse write.
// Errors: invalid_input (nothing_to_change; exchange_rate: invalid_rate,
// required when the supplier's currency is not the tenant's; note:
// too_long; lines as CreatePurchaseOrder), not_found, conflict
// po_not_editable (not a draft), internal.
func (s *Service) UpdatePurchaseOrder(ctx context.Context, id int64, in POPatch) (*PurchaseOrder, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if in.ExchangeRate == nil && in.Note == nil && in.Lines == nil {
		return nil, errNothingToChange
	}
	f := apperr.Fields{}
	upd := map[string]any{}
	if in.Note != nil {
		note := strings.TrimSpace(*in.Note)
		if utf8.RuneCountInString(note) > 500 {
			f.Add("note", "too_long", "Max", 500)
		}
		upd["note"] = note
	}
	if in.Lines != nil {
		if err := s.checkLines(ctx, f, *in.Lines); err != nil {
			return nil, err
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var po *PurchaseOrder
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if po, err = s.PurchaseOrder(ctx, id); err != nil {
			return err
		}
		if po.Status != POStatusDraft {
			e := apperr.Conflict("po_not_editable")
			e.Args = map[string]any{"Status": po.Status}
			return e
		}
		sp, err := s.Supplier(ctx, po.SupplierID)
		if err != nil {
			return err
		}
		if in.ExchangeRate != nil {
			rate, err := poRate(*in.ExchangeRate, sp.Currency, t.DefaultCurrency)
			if err != nil {
				return err
			}
			upd["exchange_rate"] = rate
		}
		upd["updated_at"] = s.nowUTC()
		res := s.db.W(ctx).Model(&PurchaseOrder{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status = ?", id, POStatusDraft).Updates(upd)
		if res.Error != nil {
			return internal(res.Error, "update purchase order")
		}
		if res.RowsAffected != 1 {
			return apperr.Conflict("po_not_editable")
		}
		if in.Lines != nil {
			reasons := map[int64]string{}
			for _, l := range po.Lines {
				reasons[l.SKUID] = l.Reason
			}
			want := slices.Clone(*in.Lines)
			for i := range want {
				want[i].Reason = reasons[want[i].SKUID]
			}
			lines, err := s.priceLines(ctx, t.ID, *sp, want)
			if err != nil {
				return err
			}
			for i := range lines {
				lines[i].POID = id
			}
			if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Where("po_id = ?", id).Delete(&POLine{}).Error; err != nil {
				return internal(err, "replace purchase order lines")
			}
			if err := s.db.W(ctx).Create(&lines).Error; err != nil {
				return internal(err, "replace purchase order lines")
			}
		}
		if po, err = s.PurchaseOrder(ctx, id); err != nil {
			return err
		}
		return s.db.Emit(ctx, t.ID, "purchase_order.updated", po)
	})
	if err != nil {
		return nil, err
	}
	return po, nil
}

// checkLines adds to f what is wrong with purchase order lines.
func (s *Service) checkLines(ctx context.Context, f apperr.Fields, lines []POLineInput) error {
	return checkSKULines(f, len(lines), func(i int) (int64, int64) { return lines[i].SKUID, lines[i].Qty },
		func(i int, p string, fresh bool) error {
			if fresh {
				if goods, err := s.skus.GoodsSKU(ctx, lines[i].SKUID); err != nil {
					return internal(err, "check sku")
				} else if !goods {
					f.Add(p+".sku_id", "not_found")
				}
			}
			if c := lines[i].UnitCost; c != nil && (*c < 0 || *c > MaxUnitCost) {
				f.Add(p+".unit_cost", "out_of_range", "Min", 0, "Max", MaxUnitCost)
			}
			return nil
		})
}

// priceLines turns line inputs into lines of supplier sp, at the input's
// unit cost or else the supplier's price; in SKU order.
func (s *Service) priceLines(ctx context.Context, tenantID int64, sp Supplier, in []POLineInput) ([]POLine, error) {
	prices := map[int64]int64{}
	var terms []SupplierSKU
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("supplier_id = ?", sp.ID).Find(&terms).Error; err != nil {
		return nil, internal(err, "read supplier prices")
	}
	for _, r := range terms {
		prices[r.SKUID] = r.UnitCost
	}
	var lines []POLine
	lf := apperr.Fields{}
	for i, l := range in {
		cost, ok := prices[l.SKUID]
		if l.UnitCost != nil {
			cost, ok = *l.UnitCost, true
		}
		if !ok {
			lf.Add(fmt.Sprintf("lines[%d].sku_id", i), "no_supplier_price")
		}
		lines = append(lines, POLine{TenantID: tenantID, SKUID: l.SKUID, Qty: l.Qty, UnitCost: cost, Reason: l.Reason})
	}
	if err := lf.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(lines, func(a, b POLine) int { return int(a.SKUID - b.SKUID) })
	return lines, nil
}

func (po *PurchaseOrder) total() {
	po.Total = 0
	for _, l := range po.Lines {
		po.Total += l.Qty * l.UnitCost
	}
}

func (po *PurchaseOrder) utc() {
	po.CreatedAt, po.UpdatedAt = po.CreatedAt.UTC(), po.UpdatedAt.UTC()
	for _, p := range []*time.Time{po.ExpectedAt, po.ApprovedAt, po.SentAt, po.ClosedAt, po.CancelledAt} {
		if p != nil {
			*p = p.UTC()
		}
	}
	po.total()
}

// PurchaseOrder returns one purchase order of the tenant in ctx with its
// lines in SKU order. Staff with warehouse read. Errors: not_found.
func (s *Service) PurchaseOrder(ctx context.Context, id int64) (*PurchaseOrder, error) {
	return document(ctx, s, id, "purchase order", (*PurchaseOrder).utc)
}

// POQuery selects purchase orders, newest first.
type POQuery struct {
	Status     string
	SupplierID int64
	store.PageRequest
}

// PurchaseOrders returns a page of the tenant's purchase orders, newest
// first, with their lines. Staff with warehouse read.
// Errors: invalid_input (status: invalid_choice), internal.
func (s *Service) PurchaseOrders(ctx context.Context, q POQuery) (store.Page[PurchaseOrder], error) {
	if _, err := tenantOf(ctx); err != nil {
		return store.Page[PurchaseOrder]{}, err
	}
	if q.Status != "" && !slices.Contains(poStatuses, q.Status) {
		return store.Page[PurchaseOrder]{}, apperr.Invalid("status", "invalid_choice", "Choices", strings.Join(poStatuses, ", "))
	}
	base := func() *gorm.DB {
		db := s.db.R(ctx).Model(&PurchaseOrder{}).Scopes(tenants.Scope(ctx))
		if q.Status != "" {
			db = db.Where("status = ?", q.Status)
		}
		if q.SupplierID != 0 {
			db = db.Where("supplier_id = ?", q.SupplierID)
		}
		return db
	}
	return listPage(base, "id DESC", q.PageRequest, true, "purchase orders", (*PurchaseOrder).utc)
}

// transition moves a purchase order from one of from to to with a guarded
// UPDATE (so two concurrent calls cannot both do it), sets extra columns,
// and emits purchase_order.<event>.
func (s *Service) transition(ctx context.Context, id int64, from []string, to, event string, extra func(po *PurchaseOrder, upd map[string]any) error) (*PurchaseOrder, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var po *PurchaseOrder
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if po, err = s.PurchaseOrder(ctx, id); err != nil {
			return err
		}
		if !slices.Contains(from, po.Status) {
			return poConflict(po.Status, to)
		}
		now := s.nowUTC()
		upd := map[string]any{"status": to, "updated_at": now}
		if extra != nil {
			if err := extra(po, upd); err != nil {
				return err
			}
		}
		res := s.db.W(ctx).Model(&PurchaseOrder{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status = ?", id, po.Status).Updates(upd)
		if res.Error != nil {
			return internal(res.Error, "update purchase order")
		}
		if res.RowsAffected != 1 {
			return poConflict("changed", to)
		}
		if po, err = s.PurchaseOrder(ctx, id); err != nil {
			return err
		}
		return s.db.Emit(ctx, t.ID, "purchase_order."+event, po)
	})
	if err != nil {
		return nil, err
	}
	return po, nil
}

// poConflict is the refusal of a transition the order's state does not
// allow: conflict invalid_transition with the state and the target.
func poConflict(from, to string) error {
	e := apperr.Conflict("invalid_transition")
	e.Args = map[string]any{"From": from, "To": to}
	return e
}

// ApprovePurchaseOrder approves a draft. Staff with warehouse approve (the
// route checks it). Errors: not_found, conflict invalid_transition.
func (s *Service) ApprovePurchaseOrder(ctx context.Context, id int64) (*PurchaseOrder, error) {
	return s.transition(ctx, id, []string{POStatusDraft}, POStatusApproved, "approved", func(_ *PurchaseOrder, upd map[string]any) error {
		upd["approved_by"], upd["approved_at"] = actor.UserID(ctx), s.nowUTC()
		return nil
	})
}

// SendPurchaseOrder records that an approved order went to the supplier;
// the goods are expected after the supplier's lead time. Staff with
// warehouse write. Errors: not_found, conflict invalid_transition.
func (s *Service) SendPurchaseOrder(ctx context.Context, id int64) (*PurchaseOrder, error) {
	return s.transition(ctx, id, []string{POStatusApproved}, POStatusSent, "sent", func(po *PurchaseOrder, upd map[string]any) error {
		now := s.nowUTC()
		lead := 0
		if sp, err := s.Supplier(ctx, po.SupplierID); err == nil {
			lead = sp.LeadTimeDays
		}
		upd["sent_at"], upd["expected_at"] = now, now.AddDate(0, 0, lead)
		return nil
	})
}

// CancelPurchaseOrder cancels an order nothing has been received against.
// Staff with warehouse write. Errors: not_found, conflict
// invalid_transition.
func (s *Service) CancelPurchaseOrder(ctx context.Context, id int64) (*PurchaseOrder, error) {
	return s.transition(ctx, id, []string{POStatusDraft, POStatusApproved, POStatusSent}, POStatusCancelled, "cancelled",
		func(_ *PurchaseOrder, upd map[string]any) error {
			upd["cancelled_at"] = s.nowUTC()
			return nil
		})
}

// ClosePurchaseOrder closes a received order, or a partially received one
// whose rest will not come (the shortfall stays on its lines). Staff with
// warehouse write. Errors: not_found, conflict invalid_transition.
func (s *Service) ClosePurchaseOrder(ctx context.Context, id int64) (*PurchaseOrder, error) {
	return s.transition(ctx, id, []string{POStatusReceived, POStatusPartiallyReceived}, POStatusClosed, "closed",
		func(_ *PurchaseOrder, upd map[string]any) error {
			upd["closed_at"] = s.nowUTC()
			return nil
		})
}

// ReceiveGoods books goods that arrived against a sent (or partially
// received) order into its warehouse: receipt moves valued at the line's
// cost converted at the order's exchange rate, which moves the moving
// average. More than ordered is accepted and reported (over); less leaves
// the order partially received (short). Emits goods.received. Staff with
// warehouse write.
// Errors: invalid_input (lines: required, too_many; lines[i].sku_id:
// duplicate, not_on_order; lines[i].qty: out_of_range), not_found,
// conflict invalid_transition (not sent, or closed/cancelled), internal.
func (s *Service) ReceiveGoods(ctx context.Context, id int64, lines []ReceiptLine) (*ReceiptResult, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	f := apperr.Fields{}
	switch {
	case len(lines) == 0:
		f.Add("lines", "required")
	case len(lines) > MaxLines:
		f.Add("lines", "too_many", "Max", MaxLines)
	}
	seen := map[int64]bool{}
	for i, l := range lines {
		if seen[l.SKUID] {
			f.Add(fmt.Sprintf("lines[%d].sku_id", i), "duplicate")
		}
		seen[l.SKUID] = true
		if l.Qty <= 0 || l.Qty > MaxDelta {
			f.Add(fmt.Sprintf("lines[%d].qty", i), "out_of_range", "Min", 1, "Max", MaxDelta)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var out ReceiptResult
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		po, err := s.PurchaseOrder(ctx, id)
		if err != nil {
			return err
		}
		if po.Status != POStatusSent && po.Status != POStatusPartiallyReceived {
			return poConflict(po.Status, POStatusReceived)
		}
		byID := map[int64]*POLine{}
		for i := range po.Lines {
			byID[po.Lines[i].SKUID] = &po.Lines[i]
		}
		for i, l := range lines {
			if byID[l.SKUID] == nil {
				f.Add(fmt.Sprintf("lines[%d].sku_id", i), "not_on_order")
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		rate, ok := parseRate(po.ExchangeRate)
		if !ok {
			return internal(fmt.Errorf("purchase order %d has exchange rate %q", po.ID, po.ExchangeRate), "receive")
		}
		now := s.nowUTC()
		ref := "po:" + store.Itoa(po.ID)
		got := map[int64]int64{}
		for _, l := range lines {
			got[l.SKUID] = l.Qty
		}
		skus := sortedKeys(got)
		costs := map[int64]int64{}
		// Levels in SKU order, then the valuation rows (the lock order).
		for _, sku := range skus {
			pl := byID[sku]
			costs[sku] = convertCost(pl.UnitCost, po.Currency, t.DefaultCurrency, rate)
			if err := s.ensureLevel(ctx, t.ID, po.WarehouseID, sku, now); err != nil {
				return err
			}
			res := s.db.W(ctx).Model(&StockLevel{}).Scopes(tenants.Scope(ctx)).Where("warehouse_id = ? AND sku_id = ?", po.WarehouseID, sku).
				Updates(map[string]any{"on_hand": gorm.Expr("on_hand + ?", got[sku]), "updated_at": now})
			if res.Error != nil {
				return internal(res.Error, "receive stock")
			}
			if err := s.db.W(ctx).Model(&POLine{}).Scopes(tenants.Scope(ctx)).Where("id = ?", pl.ID).Update("received", gorm.Expr("received + ?", got[sku])).Error; err != nil {
				return internal(err, "count received")
			}
			pl.Received += got[sku]
		}
		for _, sku := range skus {
			c := costs[sku]
			if _, err := s.revalue(ctx, t.ID, sku, got[sku], &c); err != nil {
				return err
			}
			mv := StockMove{TenantID: t.ID, WarehouseID: po.WarehouseID, SKUID: sku, Kind: MoveReceipt, DeltaOnHand: got[sku],
				Reason: "goods received", Ref: ref, UnitCost: c, ActorUserID: actor.UserID(ctx), CreatedAt: now}
			if err := s.db.W(ctx).Create(&mv).Error; err != nil {
				return internal(err, "write stock move")
			}
		}
		status := POStatusReceived
		for _, pl := range po.Lines {
			if pl.Received < pl.Qty {
				status = POStatusPartiallyReceived
			}
		}
		if err := s.db.W(ctx).Model(&PurchaseOrder{}).Scopes(tenants.Scope(ctx)).Where("id = ?", po.ID).Updates(map[string]any{"status": status, "updated_at": now}).Error; err != nil {
			return internal(err, "update purchase order")
		}
		po.Status, po.UpdatedAt = status, now
		for _, sku := range skus {
			pl := byID[sku]
			out.Lines = append(out.Lines, ReceiptLineView{SKUID: sku, Received: got[sku], Ordered: pl.Qty, Total: pl.Received,
				Short: max(0, pl.Qty-pl.Received), Over: max(0, pl.Received-pl.Qty), UnitCost: costs[sku]})
		}
		out.Order = po
		return s.db.Emit(ctx, t.ID, "goods.received", &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
