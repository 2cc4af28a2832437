package warehouse

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// MaxUnitCost bounds a unit cost in minor units (10 million in major units
// of a two-decimal currency).
const MaxUnitCost = 1_000_000_000

// revalue records that delta units of sku came in (delta > 0) or went out
// (delta < 0) of the tenant's stock, inside ctx's transaction, and returns
// the unit cost the move is valued at: cost when units come in at a known
// cost (a receipt: the average moves), else the current moving average.
func (s *Service) revalue(ctx context.Context, tenantID, sku, delta int64, cost *int64) (int64, error) {
	tx := s.db.W(ctx)
	now := s.nowUTC()
	// The row exists from the first move on; the lock (PostgreSQL) holds it
	// until the transaction ends, so two receipts average one after the other.
	row := StockValue{TenantID: tenantID, SKUID: sku, UpdatedAt: now}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return 0, internal(err, "create stock value")
	}
	var v StockValue
	q := tx.Scopes(tenants.Scope(ctx)).Where("sku_id = ?", sku)
	if s.db.Dialect == store.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Take(&v).Error; err != nil {
		return 0, internal(err, "read stock value")
	}
	unit, avg := v.AvgCost, v.AvgCost
	qty := v.Qty + delta
	if qty < 0 {
		return 0, internal(fmt.Errorf("valuation of sku %d would fall below zero (%d %+d)", sku, v.Qty, delta), "revalue")
	}
	if delta > 0 && cost != nil {
		unit = *cost
		avg = movingAverage(v.Qty, v.AvgCost, delta, *cost)
	}
	if err := tx.Model(&StockValue{}).Scopes(tenants.Scope(ctx)).Where("sku_id = ?", sku).
		Updates(map[string]any{"qty": qty, "avg_cost": avg, "updated_at": now}).Error; err != nil {
		return 0, internal(err, "update stock value")
	}
	return unit, nil
}

// movingAverage is (qty × avg + n × cost) / (qty + n), rounded half to even,
// computed without overflow.
func movingAverage(qty, avg, n, cost int64) int64 {
	if qty+n <= 0 {
		return avg
	}
	num := new(big.Int).Mul(big.NewInt(qty), big.NewInt(avg))
	num.Add(num, new(big.Int).Mul(big.NewInt(n), big.NewInt(cost)))
	den := big.NewInt(qty + n)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	// Round half to even: compare 2r with den.
	switch new(big.Int).Lsh(r, 1).Cmp(den) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// Valuation returns the valuation of the tenant's SKUs in ctx (those ever
// stocked), by SKU id, and the total value in minor units. Staff with
// warehouse read (finance reads it too).
func (s *Service) Valuation(ctx context.Context, p store.PageRequest) (store.Page[StockValue], int64, error) {
	if _, err := tenantOf(ctx); err != nil {
		return store.Page[StockValue]{}, 0, err
	}
	base := func() *gorm.DB { return s.db.R(ctx).Model(&StockValue{}).Scopes(tenants.Scope(ctx)) }
	var agg struct {
		N     int64
		Total int64
	}
	if err := base().Select("COUNT(*) AS n, COALESCE(SUM(qty * avg_cost), 0) AS total").Scan(&agg).Error; err != nil {
		return store.Page[StockValue]{}, 0, internal(err, "value stock")
	}
	var items []StockValue
	if agg.N > 0 {
		if err := base().Order("sku_id").Scopes(p.Scope).Find(&items).Error; err != nil {
			return store.Page[StockValue]{}, 0, internal(err, "list stock values")
		}
		for i := range items {
			items[i].UpdatedAt = items[i].UpdatedAt.UTC()
		}
	}
	return store.NewPage(items, agg.N, p), agg.Total, nil
}

// MoveQuery selects ledger entries: optionally of one SKU, one warehouse,
// one kind; newest first.
type MoveQuery struct {
	SKUID       int64
	WarehouseID int64
	Kind        MoveKind
	store.PageRequest
}

// Moves returns a page of the tenant's stock ledger, newest first. Staff
// with warehouse read.
// Errors: invalid_input (sku_id, warehouse_id: invalid_id; kind:
// invalid_choice), not_found (warehouse_id), no_tenant_in_context, internal.
func (s *Service) Moves(ctx context.Context, q MoveQuery) (store.Page[StockMove], error) {
	if _, err := tenantOf(ctx); err != nil {
		return store.Page[StockMove]{}, err
	}
	f := apperr.Fields{}
	if q.SKUID < 0 {
		f.Add("sku_id", "invalid_id")
	}
	if q.WarehouseID < 0 {
		f.Add("warehouse_id", "invalid_id")
	}
	if q.Kind != "" && !slices.Contains(moveKinds, q.Kind) {
		names := make([]string, len(moveKinds))
		for i, k := range moveKinds {
			names[i] = string(k)
		}
		f.Add("kind", "invalid_choice", "Choices", strings.Join(names, ", "))
	}
	if err := f.Err(); err != nil {
		return store.Page[StockMove]{}, err
	}
	if q.WarehouseID != 0 {
		if _, err := s.warehouse(ctx, q.WarehouseID); err != nil {
			return store.Page[StockMove]{}, err
		}
	}
	base := func() *gorm.DB {
		db := s.db.R(ctx).Model(&StockMove{}).Scopes(tenants.Scope(ctx))
		if q.SKUID != 0 {
			db = db.Where("sku_id = ?", q.SKUID)
		}
		if q.WarehouseID != 0 {
			db = db.Where("warehouse_id = ?", q.WarehouseID)
		}
		if q.Kind != "" {
			db = db.Where("kind = ?", q.Kind)
		}
		return db
	}
	return listPage(base, "id DESC", q.PageRequest, false, "moves", func(m *StockMove) { m.CreatedAt = m.CreatedAt.UTC() })
}
