package warehouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Count sheet states: staff enter what they counted while it is open; a
// person with warehouse approve confirms it, which posts the differences.
const (
	CountOpen      = "open"
	CountConfirmed = "confirmed"
	CountCancelled = "cancelled"
)

// MaxCountLines bounds the SKUs of one count sheet.
const MaxCountLines = 5000

// Count is a stock count sheet of one warehouse.
type Count struct {
	ID          int64       `gorm:"primaryKey" json:"id"`
	TenantID    int64       `json:"-"`
	WarehouseID int64       `json:"warehouse_id"`
	Status      string      `json:"status"`
	Note        string      `json:"note"`
	CreatedBy   int64       `json:"created_by"`
	CreatedAt   time.Time   `json:"created_at"`
	ConfirmedBy int64       `json:"confirmed_by,omitempty"`
	ConfirmedAt *time.Time  `json:"confirmed_at,omitempty"`
	CancelledAt *time.Time  `json:"cancelled_at,omitempty"`
	Lines       []CountLine `gorm:"foreignKey:CountID" json:"lines"`
}

// TableName is the count sheets table.
func (Count) TableName() string { return "stock_counts" }

// CountLine is one SKU of a count sheet: what the books said when the sheet
// was made (Expected), what was counted, and, once confirmed, the
// correction posted (Counted − Expected; moves since the sheet was made
// are kept).
type CountLine struct {
	ID       int64  `gorm:"primaryKey" json:"-"`
	CountID  int64  `json:"-"`
	TenantID int64  `json:"-"`
	SKUID    int64  `gorm:"column:sku_id" json:"sku_id"`
	Expected int64  `json:"expected"`
	Counted  *int64 `json:"counted"`
	Posted   int64  `json:"posted"`
}

// TableName is the count lines table.
func (CountLine) TableName() string { return "stock_count_lines" }

// CountInput makes a count sheet: every SKU stocked in the warehouse, or
// the ones listed.
type CountInput struct {
	WarehouseID int64   `json:"warehouse_id"`
	SKUIDs      []int64 `json:"sku_ids"`
	Note        string  `json:"note"`
}

// CountEntry is what was counted of one SKU.
type CountEntry struct {
	SKUID   int64 `json:"sku_id"`
	Counted int64 `json:"counted"`
}

func countMigration() *store.Migration {
	type count struct {
		ID          int64  `gorm:"primaryKey"`
		TenantID    int64  `gorm:"not null;index:ix_stock_counts_tenant,priority:1"`
		WarehouseID int64  `gorm:"not null"`
		Status      string `gorm:"size:12;not null;index:ix_stock_counts_tenant,priority:2;check:chk_stock_counts_status,status IN ('open','confirmed','cancelled')"`
		Note        string `gorm:"size:500;not null;default:''"`
		CreatedBy   int64  `gorm:"not null;default:0"`
		CreatedAt   time.Time
		ConfirmedBy int64 `gorm:"not null;default:0"`
		ConfirmedAt *time.Time
		CancelledAt *time.Time
	}
	type countLine struct {
		ID       int64 `gorm:"primaryKey"`
		CountID  int64 `gorm:"not null;uniqueIndex:ux_stock_count_lines,priority:1"`
		TenantID int64 `gorm:"not null"`
		SKUID    int64 `gorm:"column:sku_id;not null;uniqueIndex:ux_stock_count_lines,priority:2"`
		Expected int64 `gorm:"not null"`
		Counted  *int64
		Posted   int64 `gorm:"not null;default:0"`
	}
	return &store.Migration{
		ID: "202611250053_stock_counts",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("stock_counts").AutoMigrate(&count{}); err != nil {
				return err
			}
			return tx.Table("stock_count_lines").AutoMigrate(&countLine{})
		},
	}
}

// CreateCount makes a count sheet for a warehouse of the tenant in ctx,
// with what the books say now. Staff with warehouse write.
// Errors: invalid_input (warehouse_id: required, not_found; sku_ids:
// too_many, sku_ids[i]: invalid_id, not_found; note: too_long; the
// warehouse has nothing to count: sku_ids required), no_tenant_in_context,
// internal.
func (s *Service) CreateCount(ctx context.Context, in CountInput) (*Count, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	in.Note = strings.TrimSpace(in.Note)
	f := apperr.Fields{}
	if in.WarehouseID <= 0 {
		f.Add("warehouse_id", "required")
	}
	if len(in.SKUIDs) > MaxCountLines {
		f.Add("sku_ids", "too_many", "Max", MaxCountLines)
	} else {
		seen := map[int64]bool{}
		for i, id := range in.SKUIDs {
			switch {
			case id <= 0:
				f.Add(fmt.Sprintf("sku_ids[%d]", i), "invalid_id")
			case seen[id]:
				f.Add(fmt.Sprintf("sku_ids[%d]", i), "duplicate")
			default:
				if goods, err := s.skus.GoodsSKU(ctx, id); err != nil {
					return nil, internal(err, "check sku")
				} else if !goods {
					f.Add(fmt.Sprintf("sku_ids[%d]", i), "not_found")
				}
			}
			seen[id] = true
		}
	}
	if utf8.RuneCountInString(in.Note) > 500 {
		f.Add("note", "too_long", "Max", 500)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var c Count
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		w, err := s.warehouse(ctx, in.WarehouseID)
		if err != nil {
			return err
		}
		var levels []StockLevel
		q := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("warehouse_id = ?", w.ID)
		if len(in.SKUIDs) > 0 {
			q = q.Where("sku_id IN ?", in.SKUIDs)
		}
		if err := q.Order("sku_id").Find(&levels).Error; err != nil {
			return internal(err, "read levels")
		}
		onHand := map[int64]int64{}
		for _, l := range levels {
			onHand[l.SKUID] = l.OnHand
		}
		skus := in.SKUIDs
		if len(skus) == 0 {
			for _, l := range levels {
				skus = append(skus, l.SKUID)
			}
		}
		if len(skus) == 0 {
			return apperr.Invalid("sku_ids", "required")
		}
		now := s.nowUTC()
		c = Count{TenantID: t.ID, WarehouseID: w.ID, Status: CountOpen, Note: in.Note, CreatedBy: actor.UserID(ctx), CreatedAt: now}
		if err := s.db.W(ctx).Omit("Lines").Create(&c).Error; err != nil {
			return internal(err, "create count")
		}
		for _, sku := range sortedIDs(skus) {
			c.Lines = append(c.Lines, CountLine{CountID: c.ID, TenantID: t.ID, SKUID: sku, Expected: onHand[sku]})
		}
		if err := s.db.W(ctx).CreateInBatches(&c.Lines, 500).Error; err != nil {
			return internal(err, "create count lines")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// EnterCounts records what was counted on an open sheet (entering a SKU
// again replaces its number). Staff with warehouse write.
// Errors: invalid_input (lines: required, too_many; lines[i].sku_id:
// not_on_sheet; lines[i].counted: out_of_range), not_found, conflict
// count_not_open, internal.
func (s *Service) EnterCounts(ctx context.Context, id int64, lines []CountEntry) (*Count, error) {
	if _, err := tenantOf(ctx); err != nil {
		return nil, err
	}
	f := apperr.Fields{}
	switch {
	case len(lines) == 0:
		f.Add("lines", "required")
	case len(lines) > MaxCountLines:
		f.Add("lines", "too_many", "Max", MaxCountLines)
	}
	for i, l := range lines {
		if l.Counted < 0 || l.Counted > MaxDelta {
			f.Add(fmt.Sprintf("lines[%d].counted", i), "out_of_range", "Min", 0, "Max", MaxDelta)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var c *Count
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.Count(ctx, id); err != nil {
			return err
		}
		if c.Status != CountOpen {
			return apperr.Conflict("count_not_open")
		}
		on := map[int64]int{}
		for i, l := range c.Lines {
			on[l.SKUID] = i
		}
		for i, l := range lines {
			if _, ok := on[l.SKUID]; !ok {
				f.Add(fmt.Sprintf("lines[%d].sku_id", i), "not_on_sheet")
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		for _, l := range lines {
			n := l.Counted
			if err := s.db.W(ctx).Model(&CountLine{}).Scopes(tenants.Scope(ctx)).Where("count_id = ? AND sku_id = ?", c.ID, l.SKUID).Update("counted", n).Error; err != nil {
				return internal(err, "enter count")
			}
			c.Lines[on[l.SKUID]].Counted = &n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ConfirmCount posts an open sheet whose every line is counted: each line
// whose count differs from what the books said when the sheet was made
// gets a "count" move of the difference at the moving-average cost. A
// correction may not take on_hand below what is reserved. Emits
// stock.counted. Staff with warehouse approve (the route checks it).
// Errors: invalid_input (lines[i].counted: required — not counted yet),
// not_found, conflict count_not_open, conflict insufficient_stock (field
// lines[i].counted), no_tenant_in_context, internal.
func (s *Service) ConfirmCount(ctx context.Context, id int64) (*Count, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var c *Count
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		now := s.nowUTC()
		res := s.db.W(ctx).Model(&Count{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status = ?", id, CountOpen).
			Updates(map[string]any{"status": CountConfirmed, "confirmed_by": actor.UserID(ctx), "confirmed_at": now})
		if res.Error != nil {
			return internal(res.Error, "confirm count")
		}
		if c, err = s.Count(ctx, id); err != nil {
			return err
		}
		if res.RowsAffected != 1 {
			return apperr.Conflict("count_not_open")
		}
		f := apperr.Fields{}
		for i, l := range c.Lines {
			if l.Counted == nil {
				f.Add(fmt.Sprintf("lines[%d].counted", i), "required")
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		ref := "count:" + store.Itoa(c.ID)
		changed := map[int64]int64{}
		for i := range c.Lines { // in SKU order: the lock order
			l := &c.Lines[i]
			d := *l.Counted - l.Expected
			if d == 0 {
				continue
			}
			if err := s.shift(ctx, t.ID, c.WarehouseID, l.SKUID, d, MoveCount, "stock count", ref, now); err != nil {
				if apperr.As(err).Code == CodeInsufficientStock {
					e := *apperr.As(err)
					e.Fields = map[string]apperr.FieldError{fmt.Sprintf("lines[%d].counted", i): {Code: CodeInsufficientStock, Args: e.Args}}
					return &e
				}
				return err
			}
			l.Posted = d
			changed[l.SKUID] = d
			if err := s.db.W(ctx).Model(&CountLine{}).Scopes(tenants.Scope(ctx)).Where("id = ?", l.ID).Update("posted", d).Error; err != nil {
				return internal(err, "post count line")
			}
		}
		// Found or lost goods change the valuation (at the average).
		for _, sku := range sortedKeys(changed) {
			if _, err := s.revalue(ctx, t.ID, sku, changed[sku], nil); err != nil {
				return err
			}
		}
		c.Status, c.ConfirmedBy, c.ConfirmedAt = CountConfirmed, actor.UserID(ctx), &now
		return s.db.Emit(ctx, t.ID, "stock.counted", c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CancelCount drops an open sheet. Staff with warehouse write.
// Errors: not_found, conflict count_not_open, internal.
func (s *Service) CancelCount(ctx context.Context, id int64) (*Count, error) {
	if _, err := tenantOf(ctx); err != nil {
		return nil, err
	}
	var c *Count
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		now := s.nowUTC()
		res := s.db.W(ctx).Model(&Count{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status = ?", id, CountOpen).
			Updates(map[string]any{"status": CountCancelled, "cancelled_at": now})
		if res.Error != nil {
			return internal(res.Error, "cancel count")
		}
		var err error
		if c, err = s.Count(ctx, id); err != nil {
			return err
		}
		if res.RowsAffected != 1 {
			return apperr.Conflict("count_not_open")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Count returns one count sheet of the tenant in ctx with its lines in SKU
// order. Staff with warehouse read. Errors: not_found, internal.
func (s *Service) Count(ctx context.Context, id int64) (*Count, error) {
	return document(ctx, s, id, "count", (*Count).utc)
}

func (c *Count) utc() {
	c.CreatedAt = c.CreatedAt.UTC()
	for _, p := range []*time.Time{c.ConfirmedAt, c.CancelledAt} {
		if p != nil {
			*p = p.UTC()
		}
	}
}

// CountQuery selects count sheets, newest first.
type CountQuery struct {
	Status      string
	WarehouseID int64
	store.PageRequest
}

// Counts returns a page of the tenant's count sheets, newest first, without
// their lines. Staff with warehouse read.
// Errors: invalid_input (status: invalid_choice), internal.
func (s *Service) Counts(ctx context.Context, q CountQuery) (store.Page[Count], error) {
	if _, err := tenantOf(ctx); err != nil {
		return store.Page[Count]{}, err
	}
	switch q.Status {
	case "", CountOpen, CountConfirmed, CountCancelled:
	default:
		return store.Page[Count]{}, apperr.Invalid("status", "invalid_choice", "Choices", "open, confirmed, cancelled")
	}
	base := func() *gorm.DB {
		db := s.db.R(ctx).Model(&Count{}).Scopes(tenants.Scope(ctx))
		if q.Status != "" {
			db = db.Where("status = ?", q.Status)
		}
		if q.WarehouseID != 0 {
			db = db.Where("warehouse_id = ?", q.WarehouseID)
		}
		return db
	}
	return listPage(base, "id DESC", q.PageRequest, false, "count sheets", func(c *Count) {
		c.utc()
		c.Lines = []CountLine{}
	})
}

// sortedIDs returns ids ascending, each once.
func sortedIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
