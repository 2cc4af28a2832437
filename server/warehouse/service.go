package warehouse

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/cache"
	"saasmall/server/store"
	"saasmall/tenants"
)

// SKUChecker is what the warehouse needs of the catalog: whether skuID is a
// goods SKU (not a SaaS plan) of the tenant in ctx. Another tenant's SKU, or
// an unknown id, is false with a nil error. The mall service implements it.
type SKUChecker interface {
	GoodsSKU(ctx context.Context, skuID int64) (bool, error)
}

// SKUCheckerFunc adapts a function to SKUChecker (handy when the mall
// service is built after the warehouse service).
type SKUCheckerFunc func(ctx context.Context, skuID int64) (bool, error)

// GoodsSKU calls f.
func (f SKUCheckerFunc) GoodsSKU(ctx context.Context, skuID int64) (bool, error) {
	return f(ctx, skuID)
}

// Service manages warehouses, stock levels, reservations and the stock ledger.
type Service struct {
	db    *store.DB
	skus  SKUChecker
	now   func() time.Time
	sites *cache.TTL[int64, []site] // active warehouses by tenant
}

// New returns the warehouse service. skus is required by Adjust.
func New(db *store.DB, skus SKUChecker) *Service {
	return &Service{db: db, skus: skus, now: func() time.Time { return time.Now().UTC() }, sites: cache.NewTTL[int64, []site](sitesTTL, 10_000)}
}

// Limits of the inputs.
const (
	MaxDelta       = 1_000_000_000 // |Adjustment.Delta| and ReserveLine.Qty
	MaxReasonLen   = 200           // characters of Adjustment.Reason
	MaxOrderRefLen = 100           // bytes of an order ref
	MaxSKUIDs      = 500           // SKU ids of one Stock or Available call
	MaxLines       = 1000          // lines of one Reserve call
	DefaultTTL     = 15 * time.Minute
)

// Default warehouse created for every new tenant.
const (
	DefaultCode = "MAIN"
	DefaultName = "Main warehouse"
)

// Reasons written on the moves of reservations.
const (
	reasonReserve = "checkout"
	reasonRelease = "released"
	reasonCommit  = "fulfilled"
)

// nowUTC is the service clock, truncated to microseconds (PostgreSQL's
// precision) so a value reads back as written on both databases.
func (s *Service) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func tenantOf(ctx context.Context) (*tenants.Tenant, error) {
	t := tenants.From(ctx)
	if t == nil || t.ID == 0 {
		return nil, tenants.ErrNoTenant
	}
	return t, nil
}

// CreateDefault creates the tenant's default warehouse, code "MAIN", named
// "Main warehouse", in the country of the tenant's default currency when
// that currency belongs to one country (CNY → CN, USD → US; otherwise "").
// It is the tenants service's OnCreate hook, run inside the transaction that
// provisions the tenant; it may also be called again for an existing tenant:
// when the tenant already has a default warehouse it does nothing.
// When ctx carries a tenant it must be t.
// Errors: forbidden (ctx's tenant is another one), not_found (t is nil or
// has no id), internal.
func (s *Service) CreateDefault(ctx context.Context, t *tenants.Tenant) error {
	if t == nil || t.ID <= 0 {
		return apperr.NotFound("tenant")
	}
	if ct := tenants.From(ctx); ct != nil && ct.ID != t.ID {
		return apperr.Forbidden()
	}
	ctx = tenants.WithTenant(ctx, t)
	defer s.sites.Forget(t.ID)
	return s.db.Tx(ctx, func(ctx context.Context) error {
		var n int64
		if err := s.db.W(ctx).Model(&Warehouse{}).Scopes(tenants.Scope(ctx)).Where("is_default = ?", true).Count(&n).Error; err != nil {
			return internal(err, "count default warehouse")
		}
		if n > 0 {
			return nil
		}
		w := Warehouse{TenantID: t.ID, Code: DefaultCode, Name: DefaultName, Country: countryOf(t.DefaultCurrency), Status: WarehouseActive,
			IsDefault: true, CreatedAt: s.nowUTC()}
		if err := s.db.W(ctx).Create(&w).Error; err != nil {
			return store.Error(err, "warehouse")
		}
		return nil
	})
}

// countryOf returns the ISO 3166-1 country whose currency is code, or "".
func countryOf(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 3 {
		return ""
	}
	r, err := language.ParseRegion(code[:2])
	if err != nil || !r.IsCountry() || r.String() != code[:2] {
		return ""
	}
	if u, ok := currency.FromRegion(r); !ok || u.String() != code {
		return ""
	}
	return r.String()
}

// Warehouses returns the warehouses of the tenant in ctx, the default one
// first, then by code. Staff with warehouse read call it.
// Errors: no_tenant_in_context, internal.
func (s *Service) Warehouses(ctx context.Context) ([]Warehouse, error) {
	ws := []Warehouse{}
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Order("is_default DESC, code").Find(&ws).Error; err != nil {
		return nil, internal(err, "list warehouses")
	}
	for i := range ws {
		ws[i].CreatedAt = ws[i].CreatedAt.UTC()
	}
	return ws, nil
}

// warehouse returns the tenant's warehouse id, or its default warehouse when
// id is 0, reading in ctx's transaction when there is one.
// Errors: not_found (field warehouse_id), internal.
func (s *Service) warehouse(ctx context.Context, id int64) (Warehouse, error) {
	var w Warehouse
	q := s.db.R(ctx).Scopes(tenants.Scope(ctx))
	if id == 0 {
		q = q.Where("is_default = ?", true)
	} else {
		q = q.Where("id = ?", id)
	}
	if err := q.Take(&w).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return w, notFoundField("warehouse", "warehouse_id")
		}
		return w, internal(err, "read warehouse")
	}
	return w, nil
}

// site is what allocation needs to know of a warehouse.
type site struct {
	ID        int64
	Country   string
	IsDefault bool
}

// activeSites returns the tenant's active warehouses, the default one
// first, then by id. Checkout asks for them on every order, so they are
// kept for sitesTTL: this process forgets a tenant's once its warehouse
// change commits, another process (PostgreSQL) within sitesTTL.
func (s *Service) activeSites(ctx context.Context) ([]site, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if ws, ok := s.sites.Get(t.ID); ok {
		return ws, nil
	}
	gen := s.sites.Generation()
	var ws []site
	if err := s.db.R(ctx).Model(&Warehouse{}).Scopes(tenants.Scope(ctx)).Where("status = ?", WarehouseActive).
		Order("is_default DESC, id").Select("id", "country", "is_default").Scan(&ws).Error; err != nil {
		return nil, internal(err, "list warehouses")
	}
	s.sites.Put(t.ID, ws, gen)
	return ws, nil
}

const sitesTTL = 2 * time.Second

// StockQuery selects stock levels: optionally only some SKUs and one
// warehouse, one page at a time.
type StockQuery struct {
	SKUIDs      []int64 `query:"sku_ids" json:"sku_ids"`
	WarehouseID int64   `query:"warehouse_id" json:"warehouse_id"`
	store.PageRequest
}

// Stock returns a page of the stock levels of the tenant in ctx, by SKU id
// then warehouse id. Each level's JSON has available = on_hand − reserved.
// SKUs never stocked have no level (and no item). Staff with warehouse read
// call it.
// Errors: invalid_input (sku_ids: too_many over MaxSKUIDs; sku_ids[i],
// warehouse_id: invalid_id when negative or zero), not_found (warehouse_id
// is not a warehouse of this tenant), no_tenant_in_context, internal.
func (s *Service) Stock(ctx context.Context, q StockQuery) (store.Page[StockLevel], error) {
	if _, err := tenantOf(ctx); err != nil {
		return store.Page[StockLevel]{}, err
	}
	f := apperr.Fields{}
	checkSKUIDs(f, "sku_ids", q.SKUIDs)
	if q.WarehouseID < 0 {
		f.Add("warehouse_id", "invalid_id")
	}
	if err := f.Err(); err != nil {
		return store.Page[StockLevel]{}, err
	}
	if q.WarehouseID != 0 {
		if _, err := s.warehouse(ctx, q.WarehouseID); err != nil {
			return store.Page[StockLevel]{}, err
		}
	}
	base := func() *gorm.DB {
		db := s.db.R(ctx).Model(&StockLevel{}).Scopes(tenants.Scope(ctx))
		if len(q.SKUIDs) > 0 {
			db = db.Where("sku_id IN ?", q.SKUIDs)
		}
		if q.WarehouseID != 0 {
			db = db.Where("warehouse_id = ?", q.WarehouseID)
		}
		return db
	}
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return store.Page[StockLevel]{}, internal(err, "count stock")
	}
	var items []StockLevel
	if total > 0 {
		if err := base().Order("sku_id, warehouse_id").Scopes(q.PageRequest.Scope).Find(&items).Error; err != nil {
			return store.Page[StockLevel]{}, internal(err, "list stock")
		}
		for i := range items {
			items[i].UpdatedAt = items[i].UpdatedAt.UTC()
		}
	}
	return store.NewPage(items, total, q.PageRequest), nil
}

func checkSKUIDs(f apperr.Fields, field string, ids []int64) {
	if len(ids) > MaxSKUIDs {
		f.Add(field, "too_many", "Max", MaxSKUIDs)
		return
	}
	for i, id := range ids {
		if id <= 0 {
			f.Add(fmt.Sprintf("%s[%d]", field, i), "invalid_id")
		}
	}
}

// Adjustment changes the stock on hand of one SKU in one warehouse: a count,
// a receipt, a write-off.
type Adjustment struct {
	SKUID       int64  `json:"sku_id"`
	WarehouseID int64  `json:"warehouse_id"` // 0: the tenant's default warehouse
	Delta       int64  `json:"delta"`        // units added (> 0) or removed (< 0)
	Reason      string `json:"reason"`
	// UnitCost, for units added, is what each cost (minor units of the
	// tenant's currency): the moving average takes it in. Without it, and
	// for removals, the move is valued at the current average.
	UnitCost *int64 `json:"unit_cost,omitempty"`
}

func (in *Adjustment) validate() error {
	f := apperr.Fields{}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.SKUID <= 0 {
		f.Add("sku_id", "required")
	}
	if in.WarehouseID < 0 {
		f.Add("warehouse_id", "invalid_id")
	}
	switch {
	case in.Delta == 0:
		f.Add("delta", "required")
	case in.Delta > MaxDelta || in.Delta < -MaxDelta:
		f.Add("delta", "out_of_range", "Min", -MaxDelta, "Max", MaxDelta)
	}
	switch {
	case in.Reason == "":
		f.Add("reason", "required")
	case utf8.RuneCountInString(in.Reason) > MaxReasonLen:
		f.Add("reason", "too_long", "Max", MaxReasonLen)
	}
	if in.UnitCost != nil {
		switch {
		case in.Delta < 0:
			f.Add("unit_cost", "not_for_removal")
		case *in.UnitCost < 0 || *in.UnitCost > MaxUnitCost:
			f.Add("unit_cost", "out_of_range", "Min", 0, "Max", MaxUnitCost)
		}
	}
	return f.Err()
}

// AdjustedEvent is the payload of the outbox event "stock.adjusted".
type AdjustedEvent struct {
	MoveID        int64  `json:"move_id"`
	WarehouseID   int64  `json:"warehouse_id"`
	WarehouseCode string `json:"warehouse_code"`
	SKUID         int64  `json:"sku_id"`
	Delta         int64  `json:"delta"`
	OnHand        int64  `json:"on_hand"`
	Reserved      int64  `json:"reserved"`
	Available     int64  `json:"available"`
	Reason        string `json:"reason"`
	ActorUserID   int64  `json:"actor_user_id"`
}

// Adjust adds in.Delta units to the stock on hand of in.SKUID in
// in.WarehouseID (0: the default warehouse) of the tenant in ctx, writes an
// "adjust" move with the actor from ctx, and emits "stock.adjusted", in one
// transaction (joining ctx's). It returns the level after the change. Staff
// with warehouse write call it (the route checks it).
// A removal never takes on_hand below what is reserved: that is a conflict.
// Errors: invalid_input (sku_id: required; warehouse_id: invalid_id;
// delta: required when 0, out_of_range beyond ±MaxDelta; reason: required,
// too_long over MaxReasonLen characters), not_found with field warehouse_id
// (not a warehouse of this tenant, or no default warehouse), not_found with
// field sku_id (not a goods SKU of this tenant), conflict insufficient_stock
// (Args SKUID, Available), no_tenant_in_context, internal.
func (s *Service) Adjust(ctx context.Context, in Adjustment) (StockLevel, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return StockLevel{}, err
	}
	if err := in.validate(); err != nil {
		return StockLevel{}, err
	}
	if s.skus == nil {
		return StockLevel{}, apperr.Internal(errors.New("warehouse: no SKUChecker configured"))
	}
	goods, err := s.skus.GoodsSKU(ctx, in.SKUID)
	if err != nil {
		return StockLevel{}, internal(err, "check sku")
	}
	if !goods {
		return StockLevel{}, notFoundField("sku", "sku_id")
	}
	var lvl StockLevel
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		w, err := s.warehouse(ctx, in.WarehouseID)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		tx := s.db.W(ctx)
		if in.Delta > 0 {
			if err := s.ensureLevel(ctx, t.ID, w.ID, in.SKUID, now); err != nil {
				return err
			}
		}
		// The guard keeps on_hand ≥ reserved (and so ≥ 0) for removals.
		res := tx.Model(&StockLevel{}).Scopes(tenants.Scope(ctx)).
			Where("warehouse_id = ? AND sku_id = ? AND on_hand - reserved + ? >= 0", w.ID, in.SKUID, in.Delta).
			Updates(map[string]any{"on_hand": gorm.Expr("on_hand + ?", in.Delta), "updated_at": now})
		if res.Error != nil {
			return internal(res.Error, "adjust stock")
		}
		if res.RowsAffected != 1 {
			return s.insufficient(ctx, w.ID, in.SKUID)
		}
		unit, err := s.revalue(ctx, t.ID, in.SKUID, in.Delta, in.UnitCost)
		if err != nil {
			return err
		}
		mv := StockMove{TenantID: t.ID, WarehouseID: w.ID, SKUID: in.SKUID, Kind: MoveAdjust, DeltaOnHand: in.Delta,
			Reason: in.Reason, UnitCost: unit, ActorUserID: actor.UserID(ctx), CreatedAt: now}
		if err := tx.Create(&mv).Error; err != nil {
			return internal(err, "write stock move")
		}
		if lvl, err = s.level(ctx, w.ID, in.SKUID); err != nil {
			return err
		}
		return s.db.Emit(ctx, t.ID, "stock.adjusted", AdjustedEvent{
			MoveID: mv.ID, WarehouseID: w.ID, WarehouseCode: w.Code, SKUID: in.SKUID, Delta: in.Delta,
			OnHand: lvl.OnHand, Reserved: lvl.Reserved, Available: lvl.Available(), Reason: in.Reason, ActorUserID: mv.ActorUserID,
		})
	})
	if err != nil {
		return StockLevel{}, err
	}
	return lvl, nil
}

// level reads one stock level of the tenant in ctx (in ctx's transaction).
func (s *Service) level(ctx context.Context, warehouseID, skuID int64) (StockLevel, error) {
	var l StockLevel
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("warehouse_id = ? AND sku_id = ?", warehouseID, skuID).Take(&l).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return StockLevel{TenantID: tenants.ID(ctx), WarehouseID: warehouseID, SKUID: skuID}, nil
		}
		return l, internal(err, "read stock level")
	}
	l.UpdatedAt = l.UpdatedAt.UTC()
	return l, nil
}

// availableChunk bounds the ids of one IN list.
const availableChunk = 500

// Available returns, for each of skuIDs, the units available (on hand minus
// reserved, summed over the active warehouses) of the tenant in ctx. Every
// requested id is a key; SKUs never stocked, and other tenants' SKUs, are 0.
// The mall calls it (cart, checkout pre-check, staff product pages).
// Errors: invalid_input (sku_ids: too_many over MaxSKUIDs), no_tenant_in_context, internal.
func (s *Service) Available(ctx context.Context, skuIDs []int64) (map[int64]int64, error) {
	if _, err := tenantOf(ctx); err != nil {
		return nil, err
	}
	if len(skuIDs) > MaxSKUIDs {
		return nil, apperr.Invalid("sku_ids", "too_many", "Max", MaxSKUIDs)
	}
	return s.available(ctx, skuIDs, tenants.Scope(ctx))
}

// AvailableAll is a PLATFORM READ, across tenants, for the shopper catalog
// read model only: the units available per SKU id (SKU ids are globally
// unique, so no tenant is needed to tell them apart). Every requested id is
// a key (0 when never stocked). It takes any number of ids (queried in
// chunks of 500) and reads through ctx's transaction, else the reader pool.
// Never call it for one tenant's staff or shoppers' carts: use Available.
// Errors: internal.
func (s *Service) AvailableAll(ctx context.Context, skuIDs []int64) (map[int64]int64, error) {
	return s.available(ctx, skuIDs, nil)
}

func (s *Service) available(ctx context.Context, skuIDs []int64, scope func(*gorm.DB) *gorm.DB) (map[int64]int64, error) {
	out := make(map[int64]int64, len(skuIDs))
	ids := make([]int64, 0, len(skuIDs))
	for _, id := range skuIDs {
		if _, ok := out[id]; !ok {
			out[id] = 0
			ids = append(ids, id)
		}
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), availableChunk)]
		ids = ids[len(chunk):]
		var rows []struct {
			SKUID     int64 `gorm:"column:sku_id"`
			Available int64 `gorm:"column:available"`
		}
		q := s.db.R(ctx).Model(&StockLevel{})
		if scope != nil {
			q = q.Scopes(scope)
		}
		// Closed warehouses keep their stock but sell none of it.
		if err := q.Select("sku_id, CAST(SUM(on_hand - reserved) AS BIGINT) AS available").
			Where("sku_id IN ? AND warehouse_id IN (SELECT id FROM warehouses WHERE status = ?)", chunk, WarehouseActive).
			Group("sku_id").Scan(&rows).Error; err != nil {
			return nil, internal(err, "read availability")
		}
		for _, r := range rows {
			out[r.SKUID] = r.Available
		}
	}
	return out, nil
}

// sortedKeys returns m's keys in ascending order.
func sortedKeys(m map[int64]int64) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}
