// Package analytics answers the staff dashboard: a tenant's orders and
// revenue by day and by channel, its top products and low stock, and the
// same figures for the whole mall beside them, so a brand store can compare
// itself with the mall.
//
// It is a read side. The source of truth stays the mall's orders and order
// lines (and the warehouse's stock levels), which it only reads. To answer
// a year of a large store fast it keeps daily rollups (rollup.go) that a
// background job refreshes from the orders changed since its last run; a
// dashboard reads the rollup for the days no order changed on since then
// and the orders themselves for the few days that did (usually today), so
// its figures are always exact, whether or not the job has run. The
// mall-wide figures are aggregates only: no other tenant's names, ids or
// rows leave this package.
package analytics

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/mall"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Limits of a dashboard query.
const (
	DefaultDays   = 30  // from = to − 29 days when from is not given
	MaxDays       = 366 // inclusive range
	TopProducts   = 10
	LowStockLimit = 20
	LowStockMax   = 5 // available ≤ this is low
	dateLayout    = "2006-01-02"
)

// Channels are the client sources, in the order the dashboard lists them.
var Channels = []string{string(actor.SourcePC), string(actor.SourceMobile), string(actor.SourceApp), string(actor.SourceApplet)}

// paidStatuses are the order states that count as paid (revenue).
var paidStatuses = []string{mall.OrderPaid, mall.OrderFulfilled, mall.OrderCompleted}

// Config tunes the service.
type Config struct {
	Now func() time.Time // clock (UTC); the default range ends today
	// MallTTL is how long the mall-wide figures of one (currency, range) are
	// reused (default 15 s): they are the same for every tenant's dashboard,
	// and today's part of them reads every store's orders of today. A
	// negative value disables the cache.
	MallTTL time.Duration
	// Margin is how far before the rollup's watermark orders are still
	// taken as changed (default 2 min): it covers transactions that commit
	// a little after the time they stamp, and clock skew between servers.
	Margin time.Duration
	Log    *slog.Logger
}

// Service computes dashboards and refreshes their rollups.
type Service struct {
	db  *store.DB
	cfg Config

	mu        sync.Mutex
	mallCache map[mallKey]mallEntry
}

type mallKey struct {
	currency string
	from, to time.Time
}

type mallEntry struct {
	at   time.Time
	rows []channelRow
}

// New returns the analytics service on db.
func New(db *store.DB, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.MallTTL == 0 {
		cfg.MallTTL = 15 * time.Second
	}
	if cfg.Margin <= 0 {
		cfg.Margin = 2 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{db: db, cfg: cfg, mallCache: map[mallKey]mallEntry{}}
}

// Query selects a dashboard: dates are YYYY-MM-DD (UTC days, both
// inclusive); empty values take the defaults.
type Query struct {
	From     string
	To       string
	Currency string
}

// DayFigures are one day's orders of the tenant.
type DayFigures struct {
	Day        string `json:"day"`
	Orders     int64  `json:"orders"`
	PaidOrders int64  `json:"paid_orders"`
	Revenue    int64  `json:"revenue"`
}

// ChannelFigures are the tenant's orders from one channel.
type ChannelFigures struct {
	Channel    string  `json:"channel"`
	Orders     int64   `json:"orders"`
	PaidOrders int64   `json:"paid_orders"`
	Revenue    int64   `json:"revenue"`
	Share      float64 `json:"share"` // of the tenant's paid orders
}

// ProductFigures are one product's paid sales.
type ProductFigures struct {
	ProductID int64  `json:"product_id" gorm:"column:product_id"`
	Name      string `json:"name" gorm:"-"`
	Units     int64  `json:"units" gorm:"column:units"`
	Revenue   int64  `json:"revenue" gorm:"column:revenue"` // order line amounts: before tax and shipping
}

// LowStockItem is a goods SKU with little stock left in one warehouse.
type LowStockItem struct {
	SKUID       int64  `json:"sku_id" gorm:"column:sku_id"`
	Code        string `json:"code" gorm:"column:code"`
	Name        string `json:"name" gorm:"column:name"`
	ProductID   int64  `json:"product_id" gorm:"column:product_id"`
	ProductName string `json:"product_name" gorm:"column:product_name"`
	Warehouse   string `json:"warehouse" gorm:"column:warehouse"` // warehouse code; "" for a SKU never stocked anywhere
	Available   int64  `json:"available" gorm:"column:available"`
}

// Figures are totals over a range: for the tenant ("store") or the whole
// mall.
type Figures struct {
	Orders            int64              `json:"orders"`
	PaidOrders        int64              `json:"paid_orders"`
	Revenue           int64              `json:"revenue"`
	AverageOrderValue int64              `json:"average_order_value"`
	Conversion        float64            `json:"conversion"`
	ChannelShare      map[string]float64 `json:"channel_share"`
}

// Dashboard is the staff dashboard of a tenant. Money is in integer minor
// units of Currency.
type Dashboard struct {
	From        string           `json:"from"`
	To          string           `json:"to"`
	Currency    string           `json:"currency"`
	ByDay       []DayFigures     `json:"by_day"`
	ByChannel   []ChannelFigures `json:"by_channel"`
	TopProducts []ProductFigures `json:"top_products"`
	LowStock    []LowStockItem   `json:"low_stock"`
	Store       Figures          `json:"store"`
	Mall        Figures          `json:"mall"`
}

// window is a validated query: the days [from, end) in UTC.
type window struct {
	from, to, end time.Time
	days          int
	currency      string
}

func (w window) fromDay() string { return w.from.Format(dateLayout) }
func (w window) toDay() string   { return w.to.Format(dateLayout) }

func (s *Service) window(t *tenants.Tenant, q Query) (window, error) {
	f := apperr.Fields{}
	today := s.cfg.Now().UTC().Truncate(24 * time.Hour)
	w := window{to: today}
	parse := func(field, v string) (time.Time, bool) {
		d, err := time.Parse(dateLayout, strings.TrimSpace(v))
		if err != nil || d.Year() < 2000 || d.Year() > 9998 {
			f.Add(field, "invalid_date")
			return time.Time{}, false
		}
		return d, true
	}
	okTo := true
	if q.To != "" {
		w.to, okTo = parse("to", q.To)
	}
	w.from = w.to.AddDate(0, 0, -(DefaultDays - 1))
	okFrom := true
	if q.From != "" {
		w.from, okFrom = parse("from", q.From)
	}
	if okFrom && okTo {
		w.days = int(w.to.Sub(w.from)/(24*time.Hour)) + 1
		switch {
		case w.days < 1:
			f.Add("to", "before_from")
		case w.days > MaxDays:
			f.Add("to", "range_too_long", "Max", MaxDays)
		}
	}
	w.end = w.to.AddDate(0, 0, 1)
	w.currency = strings.ToUpper(strings.TrimSpace(q.Currency))
	if w.currency == "" {
		w.currency = t.DefaultCurrency
	}
	if !tenants.ValidCurrency(w.currency) {
		f.Add("currency", "invalid_currency")
	}
	return w, f.Err()
}

// Dashboard returns the dashboard of the tenant in ctx over q's range: by
// day (every day, zero-filled), by channel (all four), its top products by
// revenue, its low stock, and its totals beside the whole mall's in the
// same currency and range.
//
// Definitions: orders are the orders created in the range (UTC days) in
// the currency, in any status and of any kind (checkouts, renewals,
// prorations); paid orders are those of them now paid, fulfilled or
// completed; revenue is the sum of their totals (tax and shipping
// included; an order cancelled after payment is no longer revenue);
// conversion = paid orders ÷ orders; average order value = revenue ÷ paid
// orders, rounded half to even; a channel's share is its part of the paid
// orders. Shares and conversion are rounded to 4 decimals. Top products
// rank products by the amounts of their lines in paid orders (before tax
// and shipping).
//
// Staff with mall:read. Errors: invalid_input (from, to: invalid_date,
// before_from, range_too_long over MaxDays; currency: invalid_currency),
// no_tenant_in_context, internal.
func (s *Service) Dashboard(ctx context.Context, q Query) (*Dashboard, error) {
	t := tenants.From(ctx)
	if t == nil {
		return nil, tenants.ErrNoTenant
	}
	w, err := s.window(t, q)
	if err != nil {
		return nil, err
	}
	d := &Dashboard{From: w.fromDay(), To: w.toDay(), Currency: w.currency}
	if err := s.fill(ctx, w, d); err != nil {
		return nil, apperr.Internal(err)
	}
	return d, nil
}

func (s *Service) fill(ctx context.Context, w window, d *Dashboard) error {
	p, err := s.plan(ctx, w)
	if err != nil {
		return err
	}
	rows, err := s.tenantDays(ctx, w, p)
	if err != nil {
		return err
	}
	d.ByDay = byDay(w, rows)
	chans := make([]channelRow, len(rows))
	for i, r := range rows {
		chans[i] = channelRow{Source: r.Source, Orders: r.Orders, PaidOrders: r.PaidOrders, Revenue: r.Revenue}
	}
	d.ByChannel, d.Store = byChannel(chans)
	if d.TopProducts, err = s.topProducts(ctx, w, p); err != nil {
		return err
	}
	if d.LowStock, err = s.lowStock(ctx); err != nil {
		return err
	}
	mallRows, err := s.mallChannels(ctx, w, p)
	if err != nil {
		return err
	}
	_, d.Mall = byChannel(mallRows)
	return nil
}

// channelRow is an aggregate of orders of one channel.
type channelRow struct {
	Source     string `gorm:"column:client_source"`
	Orders     int64  `gorm:"column:orders"`
	PaidOrders int64  `gorm:"column:paid_orders"`
	Revenue    int64  `gorm:"column:revenue"`
}

// dayRow is an aggregate of orders of one day and channel.
type dayRow struct {
	Day        string `gorm:"column:day"`
	Source     string `gorm:"column:client_source"`
	Orders     int64  `gorm:"column:orders"`
	PaidOrders int64  `gorm:"column:paid_orders"`
	Revenue    int64  `gorm:"column:revenue"`
}

func byDay(w window, rows []dayRow) []DayFigures {
	idx := map[string]int{}
	out := make([]DayFigures, 0, w.days)
	for d := w.from; d.Before(w.end); d = d.AddDate(0, 0, 1) {
		day := d.Format(dateLayout)
		idx[day] = len(out)
		out = append(out, DayFigures{Day: day})
	}
	for _, r := range rows {
		i, ok := idx[r.Day]
		if !ok {
			continue
		}
		out[i].Orders += r.Orders
		out[i].PaidOrders += r.PaidOrders
		out[i].Revenue += r.Revenue
	}
	return out
}

// byChannel folds channel rows into the four channels and their totals.
func byChannel(rows []channelRow) ([]ChannelFigures, Figures) {
	by := map[string]*ChannelFigures{}
	out := make([]ChannelFigures, len(Channels))
	for i, c := range Channels {
		out[i].Channel = c
		by[c] = &out[i]
	}
	var tot Figures
	for _, r := range rows {
		tot.Orders += r.Orders
		tot.PaidOrders += r.PaidOrders
		tot.Revenue += r.Revenue
		if c, ok := by[r.Source]; ok {
			c.Orders += r.Orders
			c.PaidOrders += r.PaidOrders
			c.Revenue += r.Revenue
		}
	}
	tot.ChannelShare = make(map[string]float64, len(Channels))
	for i := range out {
		out[i].Share = ratio(out[i].PaidOrders, tot.PaidOrders)
		tot.ChannelShare[out[i].Channel] = out[i].Share
	}
	tot.Conversion = ratio(tot.PaidOrders, tot.Orders)
	if tot.PaidOrders > 0 {
		tot.AverageOrderValue = mall.MulDivHalfEven(tot.Revenue, 1, tot.PaidOrders)
	}
	return out, tot
}

// ratio is n/d rounded to 4 decimals (0 when d is 0). It is a ratio of
// counts, never money.
func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(d)*10000) / 10000
}

// topProducts returns the tenant's products with the most revenue from paid
// orders in the window.
func (s *Service) topProducts(ctx context.Context, w window, p *plan) ([]ProductFigures, error) {
	sums, err := s.productSums(ctx, w, p)
	if err != nil {
		return nil, err
	}
	rows := make([]ProductFigures, 0, len(sums))
	for id, f := range sums {
		f.ProductID = id
		rows = append(rows, f)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Revenue != rows[j].Revenue {
			return rows[i].Revenue > rows[j].Revenue
		}
		return rows[i].ProductID < rows[j].ProductID
	})
	rows = rows[:min(len(rows), TopProducts)]
	if len(rows) == 0 {
		return rows, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ProductID
	}
	var names []struct {
		ID   int64
		Name string
	}
	if err := s.db.R(ctx).Table("products").Scopes(tenants.Scope(ctx)).Select("id, name").Where("id IN ?", ids).Scan(&names).Error; err != nil {
		return nil, err
	}
	byID := map[int64]string{}
	for _, n := range names {
		byID[n.ID] = n.Name
	}
	for i := range rows {
		rows[i].Name = byID[rows[i].ProductID]
	}
	return rows, nil
}

// lowStock returns the tenant's goods SKUs (active, of products not
// archived) with at most LowStockMax units available in a warehouse, and
// those never stocked in any (0 available, no warehouse), lowest first.
func (s *Service) lowStock(ctx context.Context) ([]LowStockItem, error) {
	var levels []LowStockItem
	err := s.db.R(ctx).Table("stock_levels").Scopes(tenants.Scope(ctx)).
		Select(`stock_levels.sku_id AS sku_id, skus.code AS code, skus.name AS name, products.id AS product_id,
			products.name AS product_name, warehouses.code AS warehouse, stock_levels.on_hand - stock_levels.reserved AS available`).
		Joins("JOIN skus ON skus.id = stock_levels.sku_id AND skus.tenant_id = stock_levels.tenant_id").
		Joins("JOIN products ON products.id = skus.product_id AND products.tenant_id = stock_levels.tenant_id").
		Joins("JOIN warehouses ON warehouses.id = stock_levels.warehouse_id AND warehouses.tenant_id = stock_levels.tenant_id").
		Where("stock_levels.on_hand - stock_levels.reserved <= ? AND skus.active = ? AND products.kind = ? AND products.status <> ?",
			LowStockMax, true, mall.KindGoods, mall.StatusArchived).
		Order("available, sku_id, warehouse").Limit(LowStockLimit).Scan(&levels).Error
	if err != nil {
		return nil, err
	}
	var never []LowStockItem
	err = s.db.R(ctx).Table("skus").Scopes(tenants.Scope(ctx)).
		Select(`skus.id AS sku_id, skus.code AS code, skus.name AS name, products.id AS product_id, products.name AS product_name`).
		Joins("JOIN products ON products.id = skus.product_id AND products.tenant_id = skus.tenant_id").
		Where("skus.active = ? AND products.kind = ? AND products.status <> ?", true, mall.KindGoods, mall.StatusArchived).
		Where("NOT EXISTS (SELECT 1 FROM stock_levels sl WHERE sl.sku_id = skus.id)").
		Order("skus.id").Limit(LowStockLimit).Scan(&never).Error
	if err != nil {
		return nil, err
	}
	out := make([]LowStockItem, 0, len(levels)+len(never))
	out = append(append(out, levels...), never...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Available != out[j].Available {
			return out[i].Available < out[j].Available
		}
		if out[i].SKUID != out[j].SKUID {
			return out[i].SKUID < out[j].SKUID
		}
		return out[i].Warehouse < out[j].Warehouse
	})
	return out[:min(len(out), LowStockLimit)], nil
}
