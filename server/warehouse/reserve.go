package warehouse

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// ReserveLine asks for Qty units of one SKU. Lines of the same SKU are added
// up before anything is reserved.
type ReserveLine struct {
	SKUID int64 `json:"sku_id"`
	Qty   int64 `json:"qty"`
}

func validateReserve(orderRef string, lines []ReserveLine) error {
	f := apperr.Fields{}
	switch {
	case strings.TrimSpace(orderRef) == "":
		f.Add("order_ref", "required")
	case len(orderRef) > MaxOrderRefLen:
		f.Add("order_ref", "too_long", "Max", MaxOrderRefLen)
	}
	switch {
	case len(lines) == 0:
		f.Add("lines", "required")
	case len(lines) > MaxLines:
		f.Add("lines", "too_many", "Max", MaxLines)
	}
	for i, l := range lines {
		if i >= MaxLines {
			break
		}
		if l.SKUID <= 0 {
			f.Add(fmt.Sprintf("lines[%d].sku_id", i), "required")
		}
		if l.Qty <= 0 || l.Qty > MaxDelta {
			f.Add(fmt.Sprintf("lines[%d].qty", i), "out_of_range", "Min", 1, "Max", MaxDelta)
		}
	}
	return f.Err()
}

// savepoint names Reserve's savepoint inside a caller's transaction.
const savepoint = "warehouse_reserve"

// Reserve holds stock for an order of the tenant in ctx: for every SKU of
// lines (lines of one SKU summed) it raises reserved by the quantity with a
// guarded UPDATE (… AND on_hand - reserved >= qty, checking RowsAffected),
// writes one held reservation per (SKU, warehouse) drawn on, expiring after
// ttl (DefaultTTL when ttl ≤ 0), and one "reserve" move each, with ref
// orderRef and the actor from ctx.
//
// Where the stock comes from (active warehouses only; closed ones keep
// their stock but give none): each SKU is taken whole from one warehouse
// when one can cover it — a warehouse in the destination country first
// (ReserveNew's country), and among equals the one with the most
// available, then the default one, then the lowest id; only when no single
// warehouse can cover it is it split, taking from the warehouses in that
// same order (destination country, most available first) until the line is
// covered. A tenant with one active warehouse pays one guarded UPDATE per
// SKU; with several, Reserve first locks the SKUs' levels (SELECT … FOR
// UPDATE on PostgreSQL) and then applies the guarded UPDATEs. Levels are locked in (sku_id, warehouse_id) order (see
// the package's lock order). A transaction that calls Reserve for several
// orders (a checkout split per store) should call it in ascending tenant id
// order, so that two such checkouts lock in one global order; otherwise
// PostgreSQL may abort one of them as a deadlock (an internal error whose
// cause has SQLSTATE 40P01; retrying the checkout is safe).
//
// The checkout calls it INSIDE its transaction (ctx carries it), so the
// order and its reservations commit together; without one, Reserve runs in
// its own. The caller passes only goods lines: a SKU without stock (a SaaS
// plan, another tenant's SKU) is simply out of stock. Overselling is
// impossible under any concurrency: on SQLite writers are serialised (one
// writer, IMMEDIATE transactions); on PostgreSQL the UPDATE takes the row
// lock and re-checks its guard against the committed row.
//
// On any error Reserve leaves nothing behind: inside a caller's transaction
// it rolls back to a savepoint taken on entry (the caller still normally
// rolls back its whole checkout on out_of_stock).
// Errors: *OutOfStockError (conflict out_of_stock, naming every SKU that
// cannot be covered), invalid_input (order_ref: required, too_long; lines:
// required, too_many; lines[i].sku_id: required; lines[i].qty:
// out_of_range 1…MaxDelta), conflict already_reserved (orderRef already has
// reservations), no_tenant_in_context, internal.
func (s *Service) Reserve(ctx context.Context, orderRef string, lines []ReserveLine, ttl time.Duration) error {
	t, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	if err := validateReserve(orderRef, lines); err != nil {
		return err
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	want := map[int64]int64{}
	for _, l := range lines {
		want[l.SKUID] += l.Qty // ≤ MaxLines × MaxDelta: no overflow
	}
	joined := store.InTx(ctx)
	return s.db.Tx(ctx, func(ctx context.Context) (err error) {
		tx := s.db.W(ctx)
		if joined {
			if err := tx.SavePoint(savepoint).Error; err != nil {
				return internal(err, "savepoint")
			}
			defer func() {
				if err != nil {
					if rerr := tx.RollbackTo(savepoint).Error; rerr != nil {
						// The caller's transaction is unusable: say so, not why Reserve failed.
						err = apperr.Internal(fmt.Errorf("warehouse: rollback to savepoint: %w (after %w)", rerr, err))
					}
				}
			}()
		}
		return s.reserve(ctx, t.ID, orderRef, want, ttl)
	})
}

// ReserveNew is Reserve for an order the caller created in its own
// transaction (ctx must carry it) and rolls back if ReserveNew fails,
// shipping to country (ISO 3166-1 alpha-2, "" when unknown): it
// takes no savepoint and skips the already_reserved check, which a new
// order cannot fail. It returns the SKUs it left with no units available
// in any warehouse, so the caller can mark them sold out without another
// read. Errors as Reserve's.
func (s *Service) ReserveNew(ctx context.Context, orderRef, country string, lines []ReserveLine, ttl time.Duration) ([]int64, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if !store.InTx(ctx) {
		return nil, apperr.Internal(errors.New("warehouse: ReserveNew needs the caller's transaction"))
	}
	if err := validateReserve(orderRef, lines); err != nil {
		return nil, err
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	want := map[int64]int64{}
	for _, l := range lines {
		want[l.SKUID] += l.Qty
	}
	return s.take(ctx, t.ID, orderRef, strings.ToUpper(country), want, ttl, true)
}

func (s *Service) reserve(ctx context.Context, tenantID int64, orderRef string, want map[int64]int64, ttl time.Duration) error {
	tx := s.db.W(ctx)
	var n int64
	if err := tx.Model(&Reservation{}).Scopes(tenants.Scope(ctx)).Where("order_ref = ?", orderRef).Count(&n).Error; err != nil {
		return internal(err, "check reservations")
	}
	if n > 0 {
		return apperr.Conflict(CodeAlreadyReserved)
	}
	_, err := s.take(ctx, tenantID, orderRef, "", want, ttl, false)
	return err
}

// take raises the reserved counts and writes the reservations and moves
// (with the group's commit when later: not under a savepoint); it returns
// the SKUs left with nothing available.
func (s *Service) take(ctx context.Context, tenantID int64, orderRef, country string, want map[int64]int64, ttl time.Duration, later bool) ([]int64, error) {
	tx := s.db.W(ctx)
	sites, err := s.activeSites(ctx)
	if err != nil {
		return nil, err
	}
	skus := sortedKeys(want)
	now := s.nowUTC()
	var takings []taking
	var short, soldOut []int64
	if len(sites) == 1 {
		// One warehouse (the usual case): one guarded UPDATE per SKU, which
		// returns what is left.
		w := sites[0].ID
		for _, sku := range skus {
			left, ok, err := s.guardedReserve(ctx, w, sku, want[sku], now)
			if err != nil {
				return nil, err
			}
			if ok {
				takings = append(takings, taking{sku, w, want[sku]})
				if left <= 0 {
					soldOut = append(soldOut, sku)
				}
			} else {
				short = append(short, sku)
			}
		}
	} else if len(sites) > 1 {
		var left map[int64]int64
		if takings, short, left, err = s.allocate(ctx, sites, country, skus, want); err != nil {
			return nil, err
		}
		if len(short) == 0 {
			for _, tk := range takings {
				_, ok, err := s.guardedReserve(ctx, tk.warehouse, tk.sku, tk.qty, now)
				if err != nil {
					return nil, err
				}
				if !ok { // the rows are locked (PostgreSQL) or we are the only writer (SQLite)
					return nil, apperr.Internal(fmt.Errorf("warehouse: sku %d in warehouse %d changed under its lock", tk.sku, tk.warehouse))
				}
			}
			for _, sku := range skus {
				if left[sku] <= 0 {
					soldOut = append(soldOut, sku)
				}
			}
		}
	} else {
		short = skus // no warehouse at all
	}
	if len(short) > 0 {
		return nil, newOutOfStock(short)
	}
	expires := now.Add(ttl)
	uid := actor.UserID(ctx)
	rows := make([]Reservation, len(takings))
	moves := make([]StockMove, len(takings))
	for i, tk := range takings {
		rows[i] = Reservation{TenantID: tenantID, OrderRef: orderRef, SKUID: tk.sku, WarehouseID: tk.warehouse,
			Qty: tk.qty, Status: ReservationHeld, ExpiresAt: expires, CreatedAt: now}
		moves[i] = StockMove{TenantID: tenantID, WarehouseID: tk.warehouse, SKUID: tk.sku, Kind: MoveReserve,
			DeltaReserved: tk.qty, Reason: reasonReserve, Ref: orderRef, ActorUserID: uid, CreatedAt: now}
	}
	create := func(rows any) error { return tx.Create(rows).Error }
	if later {
		create = func(rows any) error { return s.db.CreateLater(ctx, rows) }
	}
	if err := create(&rows); err != nil {
		return nil, internal(err, "write reservations")
	}
	if err := create(&moves); err != nil {
		return nil, internal(err, "write stock moves")
	}
	return soldOut, nil
}

type taking struct {
	sku       int64
	warehouse int64
	qty       int64
}

// allocate decides, for a tenant with several active warehouses, where
// each SKU is taken from (see Reserve: whole from the best-ranked warehouse
// that has it all, else split in rank order; rank: in country first, then
// most available, then default, then id). It first locks the levels of
// every SKU in (sku_id, warehouse_id) order (SELECT … FOR UPDATE on
// PostgreSQL; SQLite has one writer), so what it reads stays true until
// the transaction ends and concurrent checkouts cannot deadlock. It returns
// the takings in (sku_id, warehouse_id) order, the SKUs that cannot be
// covered, and what each SKU has left over all warehouses afterwards.
func (s *Service) allocate(ctx context.Context, sites []site, country string, skus []int64, want map[int64]int64) ([]taking, []int64, map[int64]int64, error) {
	ids := make([]int64, len(sites))
	for i, w := range sites {
		ids[i] = w.ID
	}
	var levels []StockLevel
	q := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Where("sku_id IN ? AND warehouse_id IN ?", skus, ids).Order("sku_id, warehouse_id")
	if s.db.Dialect == store.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Find(&levels).Error; err != nil {
		return nil, nil, nil, internal(err, "lock stock levels")
	}
	avail := map[int64]map[int64]int64{}
	for _, l := range levels {
		if avail[l.SKUID] == nil {
			avail[l.SKUID] = map[int64]int64{}
		}
		avail[l.SKUID][l.WarehouseID] = l.Available()
	}
	var (
		takings []taking
		short   []int64
		left    = map[int64]int64{} // per SKU, over all warehouses, once the takings are made
	)
	ranked := make([]site, len(sites))
	for _, sku := range skus {
		qty, have := want[sku], avail[sku]
		var total int64
		for _, a := range have {
			total += a
		}
		left[sku] = total - qty
		if total < qty {
			short = append(short, sku)
			continue
		}
		copy(ranked, sites)
		sort.SliceStable(ranked, func(i, j int) bool {
			a, b := ranked[i], ranked[j]
			if ia, ib := country != "" && a.Country == country, country != "" && b.Country == country; ia != ib {
				return ia
			}
			if have[a.ID] != have[b.ID] {
				return have[a.ID] > have[b.ID]
			}
			return false // sites are default first, then by id
		})
		// Whole from one warehouse: the first in rank that has it all (in
		// each group the one with the most available comes first, so this
		// is the in-country one with most, if any in-country one covers).
		whole := int64(0)
		for _, w := range ranked {
			if have[w.ID] >= qty {
				whole = w.ID
				break
			}
		}
		if whole != 0 {
			takings = append(takings, taking{sku, whole, qty})
			continue
		}
		rest := qty
		for _, w := range ranked {
			if n := min(have[w.ID], rest); n > 0 {
				takings = append(takings, taking{sku, w.ID, n})
				rest -= n
			}
		}
	}
	sort.Slice(takings, func(i, j int) bool {
		if takings[i].sku != takings[j].sku {
			return takings[i].sku < takings[j].sku
		}
		return takings[i].warehouse < takings[j].warehouse
	})
	return takings, short, left, nil
}

// guardedReserve raises reserved by qty when that many are available, and
// reports whether it did.
func (s *Service) guardedReserve(ctx context.Context, warehouseID, sku, qty int64, now time.Time) (left int64, ok bool, err error) {
	var lv []StockLevel
	res := s.db.W(ctx).Model(&lv).Scopes(tenants.Scope(ctx)).Clauses(clause.Returning{Columns: []clause.Column{{Name: "on_hand"}, {Name: "reserved"}}}).
		Where("warehouse_id = ? AND sku_id = ? AND on_hand - reserved >= ?", warehouseID, sku, qty).
		Updates(map[string]any{"reserved": gorm.Expr("reserved + ?", qty), "updated_at": now})
	if res.Error != nil {
		return 0, false, internal(res.Error, "reserve stock")
	}
	if res.RowsAffected != 1 || len(lv) != 1 {
		return 0, false, nil
	}
	return lv[0].Available(), true, nil
}

// reservationsOf returns the reservations of orderRef of the tenant in ctx, in lock
// order (SKU, warehouse).
func (s *Service) reservationsOf(ctx context.Context, orderRef string) ([]Reservation, error) {
	var rs []Reservation
	if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Where("order_ref = ?", orderRef).
		Order("sku_id, warehouse_id, id").Find(&rs).Error; err != nil {
		return nil, internal(err, "read reservations")
	}
	return rs, nil
}

// settle moves each held reservation of orderRef to status and applies its
// stock change, in one transaction (joining ctx's). A reservation is moved
// by a guarded UPDATE (… AND status = 'held'), so of two concurrent calls
// only one applies it. It returns the reservations as read.
func (s *Service) settle(ctx context.Context, orderRef string, to ReservationStatus) ([]Reservation, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(orderRef) == "" {
		return nil, apperr.Invalid("order_ref", "required")
	}
	var rs []Reservation
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if rs, err = s.reservationsOf(ctx, orderRef); err != nil {
			return err
		}
		tx := s.db.W(ctx)
		now := s.nowUTC()
		uid := actor.UserID(ctx)
		var moves []StockMove
		shipped := map[int64]int64{} // per SKU, for the valuation
		for _, r := range rs {
			if r.Status != ReservationHeld {
				continue
			}
			res := tx.Model(&Reservation{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status = ?", r.ID, ReservationHeld).
				Update("status", to)
			if res.Error != nil {
				return internal(res.Error, "settle reservation")
			}
			if res.RowsAffected != 1 {
				continue // settled meanwhile by another call
			}
			upd := map[string]any{"reserved": gorm.Expr("reserved - ?", r.Qty), "updated_at": now}
			mv := StockMove{TenantID: t.ID, WarehouseID: r.WarehouseID, SKUID: r.SKUID, DeltaReserved: -r.Qty,
				Ref: orderRef, ActorUserID: uid, CreatedAt: now}
			if to == ReservationCommitted {
				upd["on_hand"] = gorm.Expr("on_hand - ?", r.Qty)
				mv.Kind, mv.DeltaOnHand, mv.Reason = MoveCommit, -r.Qty, reasonCommit
				shipped[r.SKUID] += r.Qty
			} else {
				mv.Kind, mv.Reason = MoveRelease, reasonRelease
			}
			res = tx.Model(&StockLevel{}).Scopes(tenants.Scope(ctx)).
				Where("warehouse_id = ? AND sku_id = ? AND reserved >= ?", r.WarehouseID, r.SKUID, r.Qty).Updates(upd)
			if res.Error != nil {
				return internal(res.Error, "settle stock")
			}
			if res.RowsAffected != 1 {
				return apperr.Internal(fmt.Errorf("warehouse: reservation %d holds %d of sku %d in warehouse %d, but the level has less reserved",
					r.ID, r.Qty, r.SKUID, r.WarehouseID))
			}
			moves = append(moves, mv)
		}
		// The valuation rows are locked after every level (see the lock
		// order), in SKU order; the goods go out at the moving average.
		for _, sku := range sortedKeys(shipped) {
			unit, err := s.revalue(ctx, t.ID, sku, -shipped[sku], nil)
			if err != nil {
				return err
			}
			for i := range moves {
				if moves[i].SKUID == sku && moves[i].Kind == MoveCommit {
					moves[i].UnitCost = unit
				}
			}
		}
		if len(moves) > 0 {
			if err := tx.Create(&moves).Error; err != nil {
				return internal(err, "write stock moves")
			}
		}
		return nil
	})
	return rs, err
}

// Release gives back the stock held for orderRef of the tenant in ctx
// (reserved −= qty of each held reservation, a "release" move each) when the
// order is cancelled or its hold expires. It joins ctx's transaction when
// there is one. Idempotent: reservations already released or committed, and
// unknown order refs, are left alone. The mall calls it (order cancel, the
// reservation expiry job with the order's tenant in ctx).
// Errors: invalid_input (order_ref: required), no_tenant_in_context, internal.
func (s *Service) Release(ctx context.Context, orderRef string) error {
	_, err := s.settle(ctx, orderRef, ReservationReleased)
	return err
}

// Commit turns the stock held for orderRef of the tenant in ctx into a
// shipment: on_hand −= qty and reserved −= qty for each held reservation, a
// "commit" move each. It joins ctx's transaction when there is one.
// Idempotent: committing again does nothing; an order without reservations
// (SaaS only) is a no-op. The mall calls it when an order is fulfilled.
// Errors: conflict reservation_released (the order's holds were released —
// cancelled or expired — so its stock is no longer set aside), invalid_input
// (order_ref: required), no_tenant_in_context, internal.
func (s *Service) Commit(ctx context.Context, orderRef string) error {
	var gone error
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		rs, err := s.settle(ctx, orderRef, ReservationCommitted)
		if err != nil {
			return err
		}
		committed, released := false, false
		for _, r := range rs {
			switch r.Status {
			case ReservationHeld, ReservationCommitted:
				committed = true
			case ReservationReleased:
				released = true
			}
		}
		if released && !committed {
			gone = apperr.Conflict(CodeReservationGone)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return gone
}

// ExpiredReservations is a PLATFORM READ, across tenants, for the
// reservation expiry job only: up to limit order refs (distinct, oldest
// expiry first) that still hold reservations which expired at or before now.
// The job cancels each order and calls Release with the order's tenant in
// ctx. limit ≤ 0 means 100.
// Errors: internal.
func (s *Service) ExpiredReservations(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 100
	}
	refs := []string{}
	if err := s.db.R(ctx).Model(&Reservation{}).Select("order_ref").
		Where("status = ? AND expires_at <= ?", ReservationHeld, now.UTC()).
		Group("order_ref").Order("MIN(expires_at), order_ref").Limit(limit).
		Pluck("order_ref", &refs).Error; err != nil {
		return nil, internal(err, "read expired reservations")
	}
	return refs, nil
}
