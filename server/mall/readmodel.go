package mall

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	"saasmall/server/apperr"
	"saasmall/server/mall/catalog"
	"saasmall/tenants"
)

// ReadModel keeps the shopper-visible catalog in memory and fresh: it loads
// everything at start, then applies the catalog_changes rows written in the
// same transaction as every catalog write (polled, so N processes converge
// within a poll interval).
type ReadModel struct {
	s    *Service
	idx  catalog.Index
	mu   sync.Mutex // serialises refreshes
	last int64      // last applied catalog_changes id

	sales   map[int64]bool // products whose sales moved, folded in every SalesEvery
	salesAt time.Time

	skuMu     sync.RWMutex
	skus      map[int64]*SKUInfo // visible SKUs by id
	skusByPro map[int64][]int64  // product id → its SKU ids in skus
}

// SKUInfo is what cart and checkout need of a visible SKU.
type SKUInfo struct {
	ID          int64
	ProductID   int64
	TenantID    int64
	Store       StoreRef
	Kind        string
	ProductName string
	Name        string
	Prices      map[string]int64
	Tier        string
	Interval    string
	PerSeat     bool
	TrialDays   int
	InStock     bool
}

// MaxQuantity is the most a cart line may hold: seats of a per-seat plan,
// 1 of a flat plan, units of goods.
func (k *SKUInfo) MaxQuantity() int64 {
	switch {
	case k.Kind == KindGoods:
		return 999
	case k.PerSeat:
		return 10_000
	}
	return 1
}

// SKU returns a visible SKU.
func (m *ReadModel) SKU(id int64) (*SKUInfo, bool) {
	m.skuMu.RLock()
	defer m.skuMu.RUnlock()
	k, ok := m.skus[id]
	return k, ok
}

func (m *ReadModel) setSKUs(products []int64, infos []*SKUInfo, replace bool) {
	m.skuMu.Lock()
	defer m.skuMu.Unlock()
	if replace || m.skus == nil {
		m.skus, m.skusByPro = map[int64]*SKUInfo{}, map[int64][]int64{}
	}
	// Only the refreshed products' SKUs change: a refresh costs what it
	// touches, not the size of the catalog.
	for _, pid := range products {
		for _, id := range m.skusByPro[pid] {
			delete(m.skus, id)
		}
		delete(m.skusByPro, pid)
	}
	for _, k := range infos {
		m.skus[k.ID] = k
		m.skusByPro[k.ProductID] = append(m.skusByPro[k.ProductID], k.ID)
	}
}

func newReadModel(s *Service, idx catalog.Index) *ReadModel { return &ReadModel{s: s, idx: idx} }

// Index returns the underlying index (searches go straight to it).
func (m *ReadModel) Index() catalog.Index { return m.idx }

// SalesEvery is how often sales counts reach the best-selling order: a
// product is rebuilt at most this often for its sales, however fast it sells.
const SalesEvery = 10 * time.Second

// CardView is a product's entry in shopper lists.
type CardView struct {
	ID       int64    `json:"id"`
	Kind     string   `json:"kind"`
	Name     string   `json:"name"`
	Summary  string   `json:"summary"`
	Category string   `json:"category"`
	ImageURL string   `json:"image_url"`
	Store    StoreRef `json:"store"`
	Prices   []Money  `json:"prices"` // lowest price per currency ("from")
	Tiers    []string `json:"tiers,omitempty"`
	InStock  bool     `json:"in_stock"`
	// Attributes are left out of cards: a list shows name, store, price and
	// badges, and a phone on a slow network should not download every
	// product's specification with a page of 24 (the detail has them).
}

// Load replaces the index with every visible product.
func (m *ReadModel) Load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var last int64
	if err := m.s.db.R(ctx).Model(&CatalogChange{}).Select("COALESCE(MAX(id), 0)").Scan(&last).Error; err != nil {
		return err
	}
	var ids []int64
	if err := m.s.db.R(ctx).Model(&Product{}).Where("status = ?", StatusActive).Pluck("id", &ids).Error; err != nil {
		return err
	}
	docs, infos, err := m.build(ctx, ids)
	if err != nil {
		return err
	}
	m.setSKUs(nil, infos, true)
	list := make([]*catalog.Doc, 0, len(docs))
	for _, d := range docs {
		list = append(list, d)
	}
	m.idx.Replace(list)
	m.last = last
	return nil
}

// Refresh applies the catalog changes since the last one applied (and the
// sales counts gathered since SalesEvery ago).
func (m *ReadModel) Refresh(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		var chs []CatalogChange
		if err := m.s.db.R(ctx).Where("id > ?", m.last).Order("id").Limit(2000).Find(&chs).Error; err != nil {
			return err
		}
		ids := map[int64]bool{}
		var tenantIDs []int64
		for _, c := range chs {
			switch {
			case c.ProductID == 0:
				tenantIDs = append(tenantIDs, c.TenantID)
			case c.SalesOnly:
				if m.sales == nil {
					m.sales = map[int64]bool{}
				}
				m.sales[c.ProductID] = true
			default:
				ids[c.ProductID] = true
			}
		}
		if now := time.Now(); len(m.sales) > 0 && now.Sub(m.salesAt) >= SalesEvery {
			for id := range m.sales {
				ids[id] = true
			}
			m.sales, m.salesAt = nil, now
		}
		if len(tenantIDs) > 0 {
			var more []int64
			if err := m.s.db.R(ctx).Model(&Product{}).Where("tenant_id IN ?", tenantIDs).Pluck("id", &more).Error; err != nil {
				return err
			}
			for _, id := range more {
				ids[id] = true
			}
		}
		if err := m.rebuild(ctx, ids); err != nil {
			return err
		}
		if len(chs) == 0 {
			return nil
		}
		m.last = chs[len(chs)-1].ID
	}
}

// rebuild reloads the given products into the index (or drops those no
// longer visible).
func (m *ReadModel) rebuild(ctx context.Context, ids map[int64]bool) error {
	if len(ids) == 0 {
		return nil
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	docs, infos, err := m.build(ctx, list)
	if err != nil {
		return err
	}
	m.setSKUs(list, infos, false)
	var up []*catalog.Doc
	var gone []int64
	for _, id := range list {
		if d, ok := docs[id]; ok {
			up = append(up, d)
		} else {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		m.idx.Remove(gone...)
	}
	if len(up) > 0 {
		m.idx.Upsert(up...)
	}
	return nil
}

// Run refreshes every interval until ctx ends.
func (m *ReadModel) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.s.cfg.Log.Warn("catalog refresh failed", "err", err)
		}
	}
}

// build returns the documents of the given products that are visible to
// shoppers (active, of an active tenant, with at least one active SKU).
func (m *ReadModel) build(ctx context.Context, ids []int64) (map[int64]*catalog.Doc, []*SKUInfo, error) {
	out := map[int64]*catalog.Doc{}
	var infos []*SKUInfo
	for start := 0; start < len(ids); start += 500 {
		end := min(start+500, len(ids))
		if err := m.buildChunk(ctx, ids[start:end], out, &infos); err != nil {
			return nil, nil, err
		}
	}
	return out, infos, nil
}

func (m *ReadModel) buildChunk(ctx context.Context, ids []int64, out map[int64]*catalog.Doc, infos *[]*SKUInfo) error {
	s := m.s
	var ps []Product
	if err := s.db.R(ctx).Where("id IN ? AND status = ?", ids, StatusActive).Find(&ps).Error; err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	tids := map[int64]bool{}
	for _, p := range ps {
		tids[p.TenantID] = true
	}
	tl := make([]int64, 0, len(tids))
	for id := range tids {
		tl = append(tl, id)
	}
	ts, err := s.tenants.ByIDs(ctx, tl)
	if err != nil {
		return err
	}
	stores := map[int64]StoreRef{}
	for _, t := range ts {
		if t.Status == tenants.StatusActive {
			stores[t.ID] = StoreRef{Slug: t.Slug, Name: t.Name}
		}
	}
	visible := ps[:0]
	for _, p := range ps {
		if _, ok := stores[p.TenantID]; ok {
			visible = append(visible, p)
		}
	}
	views, err := s.views(ctx, visible, stores, false)
	if err != nil {
		return err
	}
	var goodsSKUs []int64
	for _, v := range views {
		if v.Kind == KindGoods {
			for _, k := range v.SKUs {
				goodsSKUs = append(goodsSKUs, k.ID)
			}
		}
	}
	avail := map[int64]int64{}
	if len(goodsSKUs) > 0 && s.stock != nil {
		if avail, err = s.availableAll(ctx, goodsSKUs); err != nil {
			return err
		}
	}
	for i := range views {
		v := &views[i]
		if len(v.SKUs) == 0 {
			continue
		}
		d := &catalog.Doc{ID: v.ID, TenantID: visible[i].TenantID, Store: v.Store.Slug, StoreName: v.Store.Name, Kind: v.Kind,
			Category: v.Category, Name: v.Name, Summary: v.Summary, MinPrice: map[string]int64{},
			CreatedAt: v.CreatedAt.UnixNano(), Sales: v.SalesCount}
		for _, a := range v.Attributes {
			d.Attributes = append(d.Attributes, catalog.Attr{Key: a.Key, Value: a.Value})
		}
		tiers := map[string]bool{}
		inStock := v.Kind == KindSaaS
		for j := range v.SKUs {
			k := &v.SKUs[j]
			if k.Plan != nil && !tiers[k.Plan.Tier] {
				tiers[k.Plan.Tier] = true
				d.Tiers = append(d.Tiers, k.Plan.Tier)
			}
			if v.Kind == KindGoods {
				n := avail[k.ID]
				ok := n > 0
				k.InStock = &ok
				inStock = inStock || ok
			}
			info := &SKUInfo{ID: k.ID, ProductID: v.ID, TenantID: d.TenantID, Store: v.Store, Kind: v.Kind, ProductName: v.Name,
				Name: k.Name, Prices: map[string]int64{}, InStock: v.Kind == KindSaaS || (k.InStock != nil && *k.InStock)}
			if k.Plan != nil {
				info.Tier, info.Interval, info.PerSeat, info.TrialDays = k.Plan.Tier, k.Plan.Interval, k.Plan.PerSeat, k.Plan.TrialDays
			}
			for _, p := range k.Prices {
				info.Prices[p.Currency] = p.Amount
				if cur, ok := d.MinPrice[p.Currency]; !ok || p.Amount < cur {
					d.MinPrice[p.Currency] = p.Amount
				}
			}
			*infos = append(*infos, info)
		}
		d.InStock = inStock
		card := CardView{ID: v.ID, Kind: v.Kind, Name: v.Name, Summary: v.Summary, Category: v.Category, ImageURL: v.ImageURL,
			Store: v.Store, Tiers: d.Tiers, InStock: inStock}
		for _, cur := range sortedKeys(d.MinPrice) {
			card.Prices = append(card.Prices, Money{Amount: d.MinPrice[cur], Currency: cur})
		}
		if card.Prices == nil {
			card.Prices = []Money{}
		}
		v.Status = "" // shoppers only ever see active products
		if d.Card, err = json.Marshal(card); err != nil {
			return err
		}
		if d.Detail, err = json.Marshal(shopperProduct{ProductView: v, InStock: inStock}); err != nil {
			return err
		}
		out[v.ID] = d
	}
	return nil
}

type shopperProduct struct {
	*ProductView
	Status  string `json:"status,omitempty"`
	InStock bool   `json:"in_stock"`
}

// Product returns a visible product's detail JSON. Errors: not_found.
func (m *ReadModel) Product(id int64) ([]byte, error) {
	d, ok := m.idx.Get(id)
	if !ok {
		return nil, apperr.NotFound("product")
	}
	return d.Detail, nil
}

// ProductView decodes a visible product (storefront templates and compare).
func (m *ReadModel) ProductView(id int64) (*ProductView, error) {
	b, err := m.Product(id)
	if err != nil {
		return nil, err
	}
	var v ProductView
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, apperr.Internal(err)
	}
	return &v, nil
}

func sortedKeys(m map[string]int64) []string { return slices.Sorted(maps.Keys(m)) }
