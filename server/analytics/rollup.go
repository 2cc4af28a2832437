package analytics

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"saasmall/server/store"
	"saasmall/tenants"
)

// The rollup. analytics_daily holds, per tenant (0: the whole mall), UTC
// day, currency and channel, the orders created that day, how many of them
// are paid, and their revenue; analytics_product_daily holds, per tenant,
// day, currency and product, the units and line amounts of paid orders, and
// analytics_product_monthly the same per month (YYYY-MM), so a year of top
// products reads twelve rows per product rather than 365. All are computed
// from the orders only, never updated by the mall.
//
// Refresh (a periodic job) recomputes the (tenant, day) pairs of the orders
// whose updated_at is at or after the watermark minus Config.Margin, then
// the mall's rows of those days, and moves the watermark to the newest
// updated_at it saw. A dashboard takes the rollup for every day no order
// changed on since the watermark (minus the margin) and reads the orders of
// the other days itself, so what it shows is what the orders say, only
// faster. Before the first refresh (and while a rebuild runs) it reads the
// orders for every day.
//
// This relies on one rule of the mall: every change of an order's status
// or amounts writes its updated_at (from clocks no further apart than the
// margin), and orders are never deleted.

const (
	stateName = "rollup"
	// maxIncremental is the most (tenant, day) pairs one refresh recomputes
	// one by one; beyond it the rollup is rebuilt tenant by tenant.
	maxIncremental = 5000
	pairsPerTx     = 100
	daysPerStmt    = 400
)

// rollupState is the one row of analytics_state.
type rollupState struct {
	Name        string     `gorm:"primaryKey;size:40"`
	Watermark   *time.Time // nil: no rollup yet (or being rebuilt)
	Rebuild     *time.Time // while rebuilding: the newest updated_at when it began
	Cursor      int64      // while rebuilding: tenants up to this id are done
	RefreshedAt *time.Time
}

func (rollupState) TableName() string { return "analytics_state" }

// Migrations are the rollup tables and the indexes the dashboard's queries
// read. The indexes are on the mall's orders and order lines (read only
// here), so these run after the mall's migrations:
//
//   - ix_orders_analytics_tenant (tenant_id, created_at, currency, status,
//     client_source, total): a tenant's days are an index range scan that
//     never reads the table;
//   - ix_orders_analytics_day (created_at, currency, status, client_source,
//     total): the same for the whole mall;
//   - ix_orders_analytics_changes (updated_at, tenant_id, created_at) and
//     ix_orders_analytics_tenant_changes (tenant_id, updated_at, created_at):
//     which days changed since the watermark, in the mall and in a tenant;
//   - ix_order_lines_analytics (order_id, product_id, quantity, amount): top
//     products from the index only.
func Migrations() []*store.Migration {
	type daily struct {
		TenantID   int64  `gorm:"primaryKey;autoIncrement:false"`
		Day        string `gorm:"primaryKey;size:10;index:ix_analytics_daily_day"`
		Currency   string `gorm:"primaryKey;size:3"`
		Channel    string `gorm:"primaryKey;size:10"`
		Orders     int64  `gorm:"not null"`
		PaidOrders int64  `gorm:"not null"`
		Revenue    int64  `gorm:"not null"`
	}
	type productDaily struct {
		TenantID  int64  `gorm:"primaryKey;autoIncrement:false"`
		Day       string `gorm:"primaryKey;size:10"`
		Currency  string `gorm:"primaryKey;size:3"`
		ProductID int64  `gorm:"primaryKey;autoIncrement:false"`
		Units     int64  `gorm:"not null"`
		Revenue   int64  `gorm:"not null"`
	}
	type productMonthly struct {
		TenantID  int64  `gorm:"primaryKey;autoIncrement:false"`
		Month     string `gorm:"primaryKey;size:7"`
		Currency  string `gorm:"primaryKey;size:3"`
		ProductID int64  `gorm:"primaryKey;autoIncrement:false"`
		Units     int64  `gorm:"not null"`
		Revenue   int64  `gorm:"not null"`
	}
	type state struct {
		Name        string `gorm:"primaryKey;size:40"`
		Watermark   *time.Time
		Rebuild     *time.Time
		Cursor      int64 `gorm:"not null;default:0"`
		RefreshedAt *time.Time
	}
	indexes := []string{
		`CREATE INDEX IF NOT EXISTS ix_orders_analytics_tenant ON orders (tenant_id, created_at, currency, status, client_source, total)`,
		`CREATE INDEX IF NOT EXISTS ix_orders_analytics_day ON orders (created_at, currency, status, client_source, total)`,
		`CREATE INDEX IF NOT EXISTS ix_orders_analytics_changes ON orders (updated_at, tenant_id, created_at)`,
		`CREATE INDEX IF NOT EXISTS ix_orders_analytics_tenant_changes ON orders (tenant_id, updated_at, created_at)`,
		`CREATE INDEX IF NOT EXISTS ix_order_lines_analytics ON order_lines (order_id, product_id, quantity, amount)`,
	}
	return []*store.Migration{{
		ID: "202611250040_analytics",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("analytics_daily").AutoMigrate(&daily{}); err != nil {
				return err
			}
			if err := tx.Table("analytics_product_daily").AutoMigrate(&productDaily{}); err != nil {
				return err
			}
			if err := tx.Table("analytics_product_monthly").AutoMigrate(&productMonthly{}); err != nil {
				return err
			}
			if err := tx.Table("analytics_state").AutoMigrate(&state{}); err != nil {
				return err
			}
			for _, q := range indexes {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, ix := range []string{"ix_orders_analytics_tenant", "ix_orders_analytics_day", "ix_orders_analytics_changes",
				"ix_orders_analytics_tenant_changes", "ix_order_lines_analytics"} {
				if err := tx.Exec("DROP INDEX IF EXISTS " + ix).Error; err != nil {
					return err
				}
			}
			return tx.Migrator().DropTable("analytics_daily", "analytics_product_daily", "analytics_product_monthly", "analytics_state")
		},
	}}
}

// dayOf is the UTC day (YYYY-MM-DD) of a timestamp column. SQLite stores
// times as text in UTC ("2026-11-25 09:00:00+00:00"): its first ten
// characters.
func (s *Service) dayOf(col string) string {
	if s.db.Dialect == store.Postgres {
		return `to_char(` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	return `substr(` + col + `, 1, 10)`
}

const aggregates = `COUNT(*) AS orders,
	COALESCE(SUM(CASE WHEN status IN ('paid','fulfilled','completed') THEN 1 ELSE 0 END), 0) AS paid_orders,
	COALESCE(SUM(CASE WHEN status IN ('paid','fulfilled','completed') THEN total ELSE 0 END), 0) AS revenue`

func (s *Service) loadState(db *gorm.DB) (*rollupState, error) {
	var st rollupState
	err := db.Where("name = ?", stateName).Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &rollupState{Name: stateName}, nil
	}
	return &st, err
}

func (s *Service) since(w time.Time) time.Time {
	if w.IsZero() {
		return w
	}
	return w.Add(-s.cfg.Margin)
}

// newestChange is the newest updated_at of any order (zero when none).
func (s *Service) newestChange(ctx context.Context) (time.Time, error) {
	var r []struct{ UpdatedAt time.Time }
	err := s.db.W(ctx).Table("orders").Select("updated_at").Order("updated_at DESC").Limit(1).Scan(&r).Error
	if err != nil || len(r) == 0 {
		return time.Time{}, err
	}
	return r[0].UpdatedAt, nil
}

// Refresh brings the rollup up to date with the orders (the periodic
// analytics.rollup job). It recomputes the days whose orders changed since
// its last run; the first time, or after a very large change, it rebuilds
// the rollup tenant by tenant, stopping after budget with more = true (the
// next run goes on). A platform entry point: it reads every tenant's orders.
func (s *Service) Refresh(ctx context.Context, budget time.Duration) (more bool, err error) {
	st, err := s.loadState(s.db.W(ctx))
	if err != nil {
		return false, err
	}
	if st.Watermark == nil || st.Rebuild != nil {
		return s.rebuild(ctx, st, budget)
	}
	mark, err := s.newestChange(ctx)
	if err != nil {
		return false, err
	}
	var pairs []struct {
		TenantID int64
		Day      string
	}
	err = s.db.W(ctx).Table("orders").Select("tenant_id, "+s.dayOf("created_at")+" AS day").
		Where("updated_at >= ?", s.since(*st.Watermark)).Group("tenant_id, day").Order("day, tenant_id").Scan(&pairs).Error
	if err != nil {
		return false, err
	}
	now := s.cfg.Now()
	st.RefreshedAt = &now
	if len(pairs) > maxIncremental {
		st.Watermark = nil // rebuild from the next run
		return true, s.db.W(ctx).Save(st).Error
	}
	var days []string
	for start := 0; start < len(pairs); start += pairsPerTx {
		chunk := pairs[start:min(start+pairsPerTx, len(pairs))]
		err := s.db.Tx(ctx, func(ctx context.Context) error {
			for _, p := range chunk {
				if err := s.rollTenant(ctx, p.TenantID, p.Day); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		for _, p := range chunk {
			if len(days) == 0 || days[len(days)-1] != p.Day {
				days = append(days, p.Day)
			}
		}
	}
	// The months of the pairs, once per tenant.
	months := map[monthKey]bool{}
	for _, p := range pairs {
		months[monthKey{p.TenantID, p.Day[:7]}] = true
	}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		for k := range months {
			if err := s.rollMonth(ctx, k.tenantID, k.month); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.rollMall(ctx, days); err != nil {
			return err
		}
		if mark.After(*st.Watermark) {
			st.Watermark = &mark
		}
		return s.db.W(ctx).Save(st).Error
	})
	return false, err
}

// rebuild recomputes the whole rollup, tenant by tenant, resuming after
// st.Cursor; the watermark becomes the newest change seen when it began.
func (s *Service) rebuild(ctx context.Context, st *rollupState, budget time.Duration) (bool, error) {
	if st.Rebuild == nil {
		mark, err := s.newestChange(ctx)
		if err != nil {
			return false, err
		}
		err = s.db.Tx(ctx, func(ctx context.Context) error {
			for _, q := range []string{"DELETE FROM analytics_daily", "DELETE FROM analytics_product_daily", "DELETE FROM analytics_product_monthly"} {
				if err := s.db.W(ctx).Exec(q).Error; err != nil {
					return err
				}
			}
			st.Watermark, st.Rebuild, st.Cursor = nil, &mark, 0
			return s.db.W(ctx).Save(st).Error
		})
		if err != nil {
			return false, err
		}
	}
	start, done := time.Now(), 0
	for {
		var ids []int64
		err := s.db.W(ctx).Table("orders").Distinct("tenant_id").Where("tenant_id > ?", st.Cursor).Order("tenant_id").Limit(100).Pluck("tenant_id", &ids).Error
		if err != nil {
			return false, err
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			if done > 0 && time.Since(start) > budget {
				return true, nil // at least one tenant per run
			}
			done++
			err := s.db.Tx(ctx, func(ctx context.Context) error {
				if err := s.rollTenant(ctx, id, ""); err != nil {
					return err
				}
				if err := s.rollMonth(ctx, id, ""); err != nil {
					return err
				}
				st.Cursor = id
				return s.db.W(ctx).Save(st).Error
			})
			if err != nil {
				return false, err
			}
		}
	}
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.rollMall(ctx, nil); err != nil {
			return err
		}
		now := s.cfg.Now()
		st.Watermark, st.Rebuild, st.Cursor, st.RefreshedAt = st.Rebuild, nil, 0, &now
		return s.db.W(ctx).Save(st).Error
	})
	return false, err
}

// rollTenant recomputes the rollup rows of a tenant for one day (every day
// when day is ""), inside ctx's transaction.
func (s *Service) rollTenant(ctx context.Context, tenantID int64, day string) error {
	db := s.db.W(ctx)
	dayCol, where, args := s.dayOf("created_at"), "tenant_id = ?", []any{tenantID}
	lineDay, lineWhere := s.dayOf("o.created_at"), "o.tenant_id = ?"
	if day != "" {
		from, err := time.Parse(dateLayout, day)
		if err != nil {
			return err
		}
		dayCol, lineDay = "?", "?"
		where += " AND created_at >= ? AND created_at < ?"
		lineWhere += " AND o.created_at >= ? AND o.created_at < ?"
		args = append(args, from, from.AddDate(0, 0, 1))
	}
	withDay := func(a []any) []any {
		if day == "" {
			return a
		}
		return append([]any{day}, a...)
	}
	del := "tenant_id = ?"
	delArgs := []any{tenantID}
	if day != "" {
		del += " AND day = ?"
		delArgs = append(delArgs, day)
	}
	for _, t := range []string{"analytics_daily", "analytics_product_daily"} {
		if err := db.Exec("DELETE FROM "+t+" WHERE "+del, delArgs...).Error; err != nil {
			return err
		}
	}
	err := db.Exec(`INSERT INTO analytics_daily (tenant_id, day, currency, channel, orders, paid_orders, revenue)
		SELECT tenant_id, `+dayCol+`, currency, client_source, `+aggregates+`
		FROM orders WHERE `+where+` GROUP BY tenant_id, `+s.dayOf("created_at")+`, currency, client_source`, withDay(args)...).Error
	if err != nil {
		return err
	}
	return db.Exec(`INSERT INTO analytics_product_daily (tenant_id, day, currency, product_id, units, revenue)
		SELECT o.tenant_id, `+lineDay+`, o.currency, l.product_id, SUM(l.quantity), SUM(l.amount)
		FROM orders o JOIN order_lines l ON l.order_id = o.id
		WHERE `+lineWhere+` AND o.status IN ?
		GROUP BY o.tenant_id, `+s.dayOf("o.created_at")+`, o.currency, l.product_id`, withDay(append(args, paidStatuses))...).Error
}

type monthKey struct {
	tenantID int64
	month    string
}

// rollMonth recomputes a tenant's monthly product rows of month (YYYY-MM;
// every month when "") from its daily rows, inside ctx's transaction.
func (s *Service) rollMonth(ctx context.Context, tenantID int64, month string) error {
	db := s.db.W(ctx)
	if month == "" {
		if err := db.Exec("DELETE FROM analytics_product_monthly WHERE tenant_id = ?", tenantID).Error; err != nil {
			return err
		}
		return db.Exec(`INSERT INTO analytics_product_monthly (tenant_id, month, currency, product_id, units, revenue)
			SELECT tenant_id, substr(day, 1, 7), currency, product_id, SUM(units), SUM(revenue) FROM analytics_product_daily
			WHERE tenant_id = ? GROUP BY tenant_id, substr(day, 1, 7), currency, product_id`, tenantID).Error
	}
	if err := db.Exec("DELETE FROM analytics_product_monthly WHERE tenant_id = ? AND month = ?", tenantID, month).Error; err != nil {
		return err
	}
	return db.Exec(`INSERT INTO analytics_product_monthly (tenant_id, month, currency, product_id, units, revenue)
		SELECT tenant_id, ?, currency, product_id, SUM(units), SUM(revenue) FROM analytics_product_daily
		WHERE tenant_id = ? AND day >= ? AND day <= ? GROUP BY tenant_id, currency, product_id`,
		month, tenantID, month+"-01", month+"-31").Error
}

// rollMall recomputes the mall's rows (tenant 0) of days (every day when
// nil) from the tenants' rows, inside ctx's transaction.
func (s *Service) rollMall(ctx context.Context, days []string) error {
	db := s.db.W(ctx)
	const ins = `INSERT INTO analytics_daily (tenant_id, day, currency, channel, orders, paid_orders, revenue)
		SELECT 0, day, currency, channel, SUM(orders), SUM(paid_orders), SUM(revenue) FROM analytics_daily `
	if days == nil {
		if err := db.Exec("DELETE FROM analytics_daily WHERE tenant_id = 0").Error; err != nil {
			return err
		}
		return db.Exec(ins + "WHERE tenant_id <> 0 GROUP BY day, currency, channel").Error
	}
	for start := 0; start < len(days); start += daysPerStmt {
		chunk := days[start:min(start+daysPerStmt, len(days))]
		if err := db.Exec("DELETE FROM analytics_daily WHERE tenant_id = 0 AND day IN ?", chunk).Error; err != nil {
			return err
		}
		if err := db.Exec(ins+"WHERE tenant_id <> 0 AND day IN ? GROUP BY day, currency, channel", chunk).Error; err != nil {
			return err
		}
	}
	return nil
}

// plan says, for one dashboard, which days come from the rollup and which
// from the orders.
type plan struct {
	rollup bool      // the rollup holds every day not in the live sets
	since  time.Time // orders changed at or after this are read live
	live   map[string]bool
	ranges []dayRange // the live days of the tenant, as ranges
}

type dayRange struct{ from, end time.Time }

// plan reads the rollup's state and the tenant's days changed since.
func (s *Service) plan(ctx context.Context, w window) (*plan, error) {
	st, err := s.loadState(s.db.R(ctx))
	if err != nil {
		return nil, err
	}
	if st.Watermark == nil || st.Rebuild != nil {
		return &plan{ranges: []dayRange{{w.from, w.end}}}, nil
	}
	p := &plan{rollup: true, since: s.since(*st.Watermark)}
	var days []string
	err = s.db.R(ctx).Table("orders").Scopes(tenants.Scope(ctx)).Distinct(s.dayOf("created_at")+" AS day").
		Where("updated_at >= ?", p.since).Pluck("day", &days).Error
	if err != nil {
		return nil, err
	}
	p.live, p.ranges = liveRanges(w, days)
	return p, nil
}

// liveRanges keeps the days inside w and joins consecutive ones.
func liveRanges(w window, days []string) (map[string]bool, []dayRange) {
	live := map[string]bool{}
	for _, d := range days {
		if d >= w.fromDay() && d <= w.toDay() {
			live[d] = true
		}
	}
	var out []dayRange
	for d := w.from; d.Before(w.end); d = d.AddDate(0, 0, 1) {
		if !live[d.Format(dateLayout)] {
			continue
		}
		if n := len(out); n > 0 && out[n-1].end.Equal(d) {
			out[n-1].end = d.AddDate(0, 0, 1)
		} else {
			out = append(out, dayRange{d, d.AddDate(0, 0, 1)})
		}
	}
	return live, out
}

// splitMonths divides the days of w that are not live into whole months
// (every day of the month in w, none live) and ranges of the other days.
func splitMonths(w window, live map[string]bool) (months []string, days []dayRange) {
	for m := time.Date(w.from.Year(), w.from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(w.end); m = m.AddDate(0, 1, 0) {
		next := m.AddDate(0, 1, 0)
		whole := !m.Before(w.from) && !next.After(w.end)
		for d := m; whole && d.Before(next); d = d.AddDate(0, 0, 1) {
			whole = !live[d.Format(dateLayout)]
		}
		if whole {
			months = append(months, m.Format("2006-01"))
			continue
		}
		first := m
		if first.Before(w.from) {
			first = w.from
		}
		for d := first; d.Before(next) && d.Before(w.end); d = d.AddDate(0, 0, 1) {
			if live[d.Format(dateLayout)] {
				continue
			}
			if n := len(days); n > 0 && days[n-1].end.Equal(d) {
				days[n-1].end = d.AddDate(0, 0, 1)
			} else {
				days = append(days, dayRange{d, d.AddDate(0, 0, 1)})
			}
		}
	}
	return months, days
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// tenantDays are the tenant's orders in w by day and channel.
func (s *Service) tenantDays(ctx context.Context, w window, p *plan) ([]dayRow, error) {
	var rows []dayRow
	if p.rollup {
		// Up to 366 × 4 rows: scanned by hand, GORM's reflection would
		// cost more than the query.
		res, err := s.db.R(ctx).Table("analytics_daily").Scopes(tenants.Scope(ctx)).
			Select("day, channel, orders, paid_orders, revenue").
			Where("day >= ? AND day <= ? AND currency = ?", w.fromDay(), w.toDay(), w.currency).Rows()
		if err != nil {
			return nil, err
		}
		defer res.Close()
		for res.Next() {
			var r dayRow
			if err := res.Scan(&r.Day, &r.Source, &r.Orders, &r.PaidOrders, &r.Revenue); err != nil {
				return nil, err
			}
			if !p.live[r.Day] {
				rows = append(rows, r)
			}
		}
		if err := res.Err(); err != nil {
			return nil, err
		}
	}
	for _, rg := range p.ranges {
		var live []dayRow
		err := s.db.R(ctx).Table("orders").Scopes(tenants.Scope(ctx)).
			Select(s.dayOf("created_at")+` AS day, client_source, `+aggregates).
			Where("created_at >= ? AND created_at < ? AND currency = ?", rg.from, rg.end, w.currency).
			Group("day, client_source").Scan(&live).Error
		if err != nil {
			return nil, err
		}
		rows = append(rows, live...)
	}
	return rows, nil
}

// productSums are the tenant's paid units and line amounts in w by product.
func (s *Service) productSums(ctx context.Context, w window, p *plan) (map[int64]ProductFigures, error) {
	sums := map[int64]ProductFigures{}
	add := func(rows []ProductFigures) {
		for _, r := range rows {
			f := sums[r.ProductID]
			f.Units += r.Units
			f.Revenue += r.Revenue
			sums[r.ProductID] = f
		}
	}
	if p.rollup {
		months, days := splitMonths(w, p.live)
		var rows []ProductFigures
		if len(months) > 0 {
			err := s.db.R(ctx).Table("analytics_product_monthly").Scopes(tenants.Scope(ctx)).
				Select("product_id, SUM(units) AS units, SUM(revenue) AS revenue").
				Where("month IN ? AND currency = ?", months, w.currency).Group("product_id").Scan(&rows).Error
			if err != nil {
				return nil, err
			}
			add(rows)
		}
		for _, rg := range days {
			rows = rows[:0]
			err := s.db.R(ctx).Table("analytics_product_daily").Scopes(tenants.Scope(ctx)).
				Select("product_id, SUM(units) AS units, SUM(revenue) AS revenue").
				Where("day >= ? AND day < ? AND currency = ?", rg.from.Format(dateLayout), rg.end.Format(dateLayout), w.currency).
				Group("product_id").Scan(&rows).Error
			if err != nil {
				return nil, err
			}
			add(rows)
		}
	}
	for _, rg := range p.ranges {
		var rows []ProductFigures
		err := s.db.R(ctx).Table("orders").Scopes(tenants.Scope(ctx)).
			Select("order_lines.product_id AS product_id, SUM(order_lines.quantity) AS units, SUM(order_lines.amount) AS revenue").
			Joins("JOIN order_lines ON order_lines.order_id = orders.id").
			Where("orders.created_at >= ? AND orders.created_at < ? AND orders.currency = ? AND orders.status IN ?",
				rg.from, rg.end, w.currency, paidStatuses).
			Group("order_lines.product_id").Scan(&rows).Error
		if err != nil {
			return nil, err
		}
		add(rows)
	}
	return sums, nil
}

// mallChannels are every tenant's orders in w by channel: a PLATFORM READ
// that returns sums only. Results are reused for Config.MallTTL.
func (s *Service) mallChannels(ctx context.Context, w window, p *plan) ([]channelRow, error) {
	k := mallKey{currency: w.currency, from: w.from, to: w.to}
	now := time.Now()
	if s.cfg.MallTTL > 0 {
		s.mu.Lock()
		e, ok := s.mallCache[k]
		s.mu.Unlock()
		if ok && now.Sub(e.at) < s.cfg.MallTTL {
			return e.rows, nil
		}
	}
	ranges := []dayRange{{w.from, w.end}}
	var rows []channelRow
	if p.rollup {
		var days []string
		err := s.db.R(ctx).Table("orders").Distinct(s.dayOf("created_at")+" AS day").Where("updated_at >= ?", p.since).Pluck("day", &days).Error
		if err != nil {
			return nil, err
		}
		var live map[string]bool
		live, ranges = liveRanges(w, days)
		q := s.db.R(ctx).Table("analytics_daily").
			Select("channel AS client_source, SUM(orders) AS orders, SUM(paid_orders) AS paid_orders, SUM(revenue) AS revenue").
			Where("tenant_id = 0 AND day >= ? AND day <= ? AND currency = ?", w.fromDay(), w.toDay(), w.currency)
		if len(live) > 0 {
			q = q.Where("day NOT IN ?", keys(live))
		}
		if err := q.Group("channel").Scan(&rows).Error; err != nil {
			return nil, err
		}
	}
	for _, rg := range ranges {
		var live []channelRow
		err := s.db.R(ctx).Table("orders").Select(`client_source, `+aggregates).
			Where("created_at >= ? AND created_at < ? AND currency = ?", rg.from, rg.end, w.currency).
			Group("client_source").Scan(&live).Error
		if err != nil {
			return nil, err
		}
		rows = append(rows, live...)
	}
	if s.cfg.MallTTL > 0 {
		s.mu.Lock()
		if len(s.mallCache) > 1000 { // many ranges asked for: start over
			clear(s.mallCache)
		}
		s.mallCache[k] = mallEntry{at: now, rows: rows}
		s.mu.Unlock()
	}
	return rows, nil
}
