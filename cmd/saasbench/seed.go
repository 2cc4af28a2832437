package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"saasmall/server/mall"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

type randSrc = rand.Rand

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// Word lists: product names, summaries and search terms are drawn from
// them, so searches hit (and sometimes miss) real documents.
var (
	wordsEN = []string{
		"cloud", "backup", "analytics", "dashboard", "invoice", "crm", "helpdesk", "keyboard", "mechanical",
		"wireless", "headphones", "speaker", "camera", "lens", "charger", "dock", "monitor", "laptop", "stand",
		"office", "chair", "desk", "lamp", "kettle", "coffee", "grinder", "running", "shoes", "jacket",
		"backpack", "bottle", "project", "management", "team", "chat", "email", "marketing", "automation",
		"security", "firewall", "vpn", "password", "manager", "storage", "sync", "notes", "calendar",
		"scheduler", "payroll", "accounting", "inventory", "shipping", "label", "printer", "scanner", "router",
		"mesh", "smart", "home", "thermostat", "pro", "max", "mini", "ultra", "lite", "plus", "studio",
		"enterprise", "starter", "portable", "ergonomic", "noise", "cancelling", "bluetooth", "usb", "hub",
		"cable", "power", "bank", "solar", "garden", "hose", "tent", "outdoor", "video", "conferencing",
		"whiteboard", "survey", "forms", "ecommerce", "pos", "terminal", "webcam", "microphone", "tablet",
	}
	wordsZH = []string{
		"云存储", "项目管理", "机械键盘", "降噪耳机", "扩展坞", "咖啡机", "跑鞋", "办公椅", "智能家居",
		"财务软件", "客服系统", "无线充电", "数据分析", "移动电源", "路由器", "视频会议", "电子发票", "收银系统",
	}
	brands = []string{
		"Acme", "Nimbus", "Orbit", "Pioneer", "Summit", "Lumen", "Vertex", "Harbor", "Cedar", "Quartz",
		"Falcon", "Maple", "Zenith", "Aurora", "Cobalt", "Juniper", "Meridian", "Nova", "Sierra", "Tidal",
	}
	goodsCategories = []string{"Keyboards", "Audio", "Accessories", "Cameras", "Office", "Kitchen", "Outdoor",
		"Apparel", "Networking", "Smart Home", "数码配件"}
	saasCategories = []string{"CRM", "Customer support", "Project management", "Analytics", "Security",
		"Finance", "Marketing", "Storage", "Communication", "Add-ons", "企业软件"}
	goodsAttrs = map[string][]string{
		"Color":      {"Black", "White", "Grey", "Silver", "Red", "Blue", "Green", "黑色"},
		"Connection": {"USB-C", "Bluetooth", "Wi-Fi", "Wired"},
		"Material":   {"Aluminium", "Plastic", "Steel", "Cotton", "Leather"},
	}
	saasAttrs = map[string][]string{
		"OS":         {"Windows", "macOS", "Linux", "iOS", "Android", "Web"},
		"Deployment": {"Cloud", "On-premise", "Hybrid"},
		"SSO":        {"SAML", "OIDC", "None"},
		"Support":    {"24/7 chat", "Business hours", "Email"},
	}
	origins = []string{"CN", "VN", "DE", "US", "JP", "TW", "MX"}
	hsCodes = []string{"847160", "851830", "847330", "852580", "940130", "851660", "640411", "620193"}
)

// cnyRate converts USD minor units to CNY minor units for seeded prices.
const cnyRate = 7.1

// catalogData is what the load generators need to know about the catalog.
type catalogData struct {
	productIDs []int64
	stores     []string // slugs
	// cartable SKUs per store: paid (non-zero USD price), no trial.
	cartable map[string][]cartSKU
	storeIdx []string // stores that have cartable SKUs
}

type cartSKU struct {
	ID      int64
	Kind    string
	PerSeat bool
}

// maxQty is the most the bench puts in one cart line of this SKU.
func (k cartSKU) maxQty() int {
	switch {
	case k.Kind == mall.KindGoods:
		return 2
	case k.PerSeat:
		return 5
	}
	return 1
}

// SeedReport says how long seeding took.
type SeedReport struct {
	Tenants         int     `json:"tenants"`
	TenantsSeconds  float64 `json:"tenants_seconds"`
	Products        int     `json:"products"`
	SKUs            int     `json:"skus"`
	GoodsSKUs       int     `json:"goods_skus"`
	ProductsSeconds float64 `json:"products_seconds"` // CreateProduct + AdjustStock, wall clock
	CreateSeconds   float64 `json:"create_product_seconds"`
	StockSeconds    float64 `json:"adjust_stock_seconds"` // summed over workers
	CreateP50ms     float64 `json:"create_product_p50_ms"`
	CreateP99ms     float64 `json:"create_product_p99_ms"`
	ProductsPerSec  float64 `json:"products_per_second"`
	CatalogSeconds  float64 `json:"catalog_load_seconds"`
	CatalogDocs     int     `json:"catalog_docs"`
	TotalSeconds    float64 `json:"total_seconds"`

	Shoppers *ShopperReport `json:"shoppers,omitempty"`
}

const benchPassword = "Loopback-bench-Passw0rd!"

// seed creates the stores and the products (through the service layer),
// stocks the goods and loads the catalog read model.
func seed(ctx context.Context, e *env) (*catalogData, *SeedReport, error) {
	o := e.o
	srv := e.srv
	rep := &SeedReport{}
	t0 := time.Now()

	// Stores. One owner account for all (EnsureAccount hashes its password
	// once; the others find it).
	ts := make([]*tenants.Tenant, o.Stores)
	for i := range ts {
		r := newRand(o.Seed, uint64(1_000_000+i))
		brand := brands[i%len(brands)]
		slug := fmt.Sprintf("%s-%02d", strings.ToLower(brand), i+1)
		name := fmt.Sprintf("%s %s", brand, []string{"Cloud", "Gear", "Works", "Labs", "Store", "商城"}[r.IntN(6)])
		cur, loc := "USD", "en"
		if i%4 == 3 {
			cur, loc = "CNY", "zh-Hans"
		}
		tax := r.IntN(14) * 100
		t, err := srv.Tenants.Create(ctx, tenants.CreateInput{Slug: slug, Name: name, DefaultCurrency: cur, DefaultLocale: loc,
			TaxRateBP: &tax, AdminEmail: "owner@saasbench.example.com", AdminPassword: benchPassword, AdminName: "Bench Owner"})
		if err != nil {
			return nil, rep, fmt.Errorf("tenant %s: %w", slug, err)
		}
		ts[i] = t
	}
	rep.Tenants = len(ts)
	rep.TenantsSeconds = time.Since(t0).Seconds()
	o.logf("%d stores in %.2fs", len(ts), rep.TenantsSeconds)

	// Products, concurrently: validation, JSON and the read-back overlap;
	// the writes queue on the single writer connection.
	prof, err := startProfile(o, "seed")
	if err != nil {
		return nil, rep, err
	}
	t1 := time.Now()
	cat := &catalogData{cartable: map[string][]cartSKU{}}
	for _, t := range ts {
		cat.stores = append(cat.stores, t.Slug)
	}
	var (
		mu        sync.Mutex
		next      atomic.Int64
		firstErr  error
		createDur = make([]time.Duration, 0, o.Products)
		stockNS   atomic.Int64
		skus      atomic.Int64
		goodsSKUs atomic.Int64
		done      atomic.Int64
	)
	ids := make([]int64, o.Products)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range o.SeedWorkers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= o.Products || cctx.Err() != nil {
					return
				}
				t := ts[i%len(ts)]
				in := productInput(o.Seed, i)
				tctx := tenants.WithTenant(cctx, t)
				s := time.Now()
				p, err := srv.Mall.CreateProduct(tctx, in)
				d := time.Since(s)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("CreateProduct #%d: %w", i, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				ids[i] = p.ID
				var mine []cartSKU
				s = time.Now()
				for _, k := range p.SKUs {
					skus.Add(1)
					if p.Kind == mall.KindGoods {
						goodsSKUs.Add(1)
						if _, err := srv.Mall.AdjustStock(tctx, warehouse.Adjustment{SKUID: k.ID, Delta: 100_000, Reason: "saasbench opening stock"}); err != nil {
							mu.Lock()
							if firstErr == nil {
								firstErr = fmt.Errorf("AdjustStock sku %d: %w", k.ID, err)
							}
							mu.Unlock()
							cancel()
							return
						}
						mine = append(mine, cartSKU{ID: k.ID, Kind: mall.KindGoods})
						continue
					}
					if k.Plan != nil && k.Plan.Tier != mall.TierFree && k.Plan.TrialDays == 0 && usd(k.Prices) > 0 {
						mine = append(mine, cartSKU{ID: k.ID, Kind: mall.KindSaaS, PerSeat: k.Plan.PerSeat})
					}
				}
				stockNS.Add(int64(time.Since(s)))
				mu.Lock()
				createDur = append(createDur, d)
				cat.cartable[t.Slug] = append(cat.cartable[t.Slug], mine...)
				mu.Unlock()
				if n := done.Add(1); n%2000 == 0 {
					o.logf("  %d products (%.0f/s)", n, float64(n)/time.Since(t1).Seconds())
				}
			}
		})
	}
	wg.Wait()
	if err := prof.stop(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, rep, firstErr
	}
	rep.Products = o.Products
	rep.SKUs = int(skus.Load())
	rep.GoodsSKUs = int(goodsSKUs.Load())
	rep.ProductsSeconds = time.Since(t1).Seconds()
	rep.StockSeconds = time.Duration(stockNS.Load()).Seconds()
	var sum time.Duration
	for _, d := range createDur {
		sum += d
	}
	rep.CreateSeconds = sum.Seconds()
	st := summarize(createDur)
	rep.CreateP50ms, rep.CreateP99ms = st.p50, st.p99
	rep.ProductsPerSec = float64(o.Products) / rep.ProductsSeconds
	o.logf("%d products (%d SKUs, %d goods SKUs stocked) in %.2fs: %.0f products/s (CreateProduct p50 %.1fms p99 %.1fms with %d workers)",
		rep.Products, rep.SKUs, rep.GoodsSKUs, rep.ProductsSeconds, rep.ProductsPerSec, rep.CreateP50ms, rep.CreateP99ms, o.SeedWorkers)

	cat.productIDs = ids
	for s, l := range cat.cartable {
		if len(l) > 0 {
			cat.storeIdx = append(cat.storeIdx, s)
		}
	}
	sort.Strings(cat.storeIdx)
	if len(cat.storeIdx) == 0 {
		return nil, rep, errors.New("no SKU can be put in a cart")
	}
	// A deterministic order of each store's SKUs (workers appended in any order).
	for _, l := range cat.cartable {
		sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	}

	t2 := time.Now()
	if err := srv.Mall.Catalog.Load(ctx); err != nil {
		return nil, rep, fmt.Errorf("catalog load: %w", err)
	}
	rep.CatalogSeconds = time.Since(t2).Seconds()
	rep.CatalogDocs = srv.Mall.Catalog.Index().Len()
	rep.TotalSeconds = time.Since(t0).Seconds()
	o.logf("catalog read model loaded: %d products in %.2fs", rep.CatalogDocs, rep.CatalogSeconds)
	if rep.CatalogDocs != o.Products {
		return nil, rep, fmt.Errorf("catalog read model holds %d products, seeded %d", rep.CatalogDocs, o.Products)
	}
	return cat, rep, nil
}

func usd(ps []mall.Money) int64 {
	for _, p := range ps {
		if p.Currency == "USD" {
			return p.Amount
		}
	}
	return 0
}

func pick[T any](r *rand.Rand, l []T) T { return l[r.IntN(len(l))] }

func words(r *rand.Rand, n int, zhChance int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		if r.IntN(100) < zhChance {
			b.WriteString(pick(r, wordsZH))
			continue
		}
		w := pick(r, wordsEN)
		if r.IntN(4) == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
	}
	return b.String()
}

func prices(r *rand.Rand, lo, hi int64) []mall.PriceInput {
	usd := lo + r.Int64N(hi-lo)
	usd = usd / 100 * 100
	if usd == 0 {
		usd = 100
	}
	usd -= 1 // 19.99-style
	cny := int64(float64(usd+1)*cnyRate) / 100 * 100
	return []mall.PriceInput{{Amount: usd, Currency: "USD"}, {Amount: cny, Currency: "CNY"}}
}

func attrs(r *rand.Rand, m map[string][]string) []mall.Attribute {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []mall.Attribute
	for _, k := range keys {
		if r.IntN(4) == 0 {
			continue
		}
		out = append(out, mall.Attribute{Key: k, Value: pick(r, m[k])})
	}
	return out
}

// productInput is product i of the catalog: deterministic in (seed, i).
func productInput(seed int64, i int) mall.ProductInput {
	r := newRand(seed, uint64(i))
	in := mall.ProductInput{Status: mall.StatusActive, ImageURL: fmt.Sprintf("https://img.saasbench.example.com/p/%d.png", i)}
	in.Name = pick(r, brands) + " " + words(r, 1+r.IntN(3), 15)
	in.Summary = words(r, 6+r.IntN(8), 8)
	in.Description = in.Summary + ". " + words(r, 20+r.IntN(20), 5) + "."
	nSKU := 1 + r.IntN(3)
	if r.IntN(2) == 0 {
		in.Kind = mall.KindGoods
		in.Category = pick(r, goodsCategories)
		in.Attributes = attrs(r, goodsAttrs)
		for j := range nSKU {
			in.SKUs = append(in.SKUs, mall.SKUInput{
				Code: fmt.Sprintf("G%d-%d", i, j), Name: pick(r, goodsAttrs["Color"]) + " " + pick(r, []string{"S", "M", "L", "Standard", "标准版"}),
				Prices: prices(r, 500, 50_000), WeightGrams: 50 + r.IntN(5000), HSCode: pick(r, hsCodes), OriginCountry: pick(r, origins),
			})
		}
		return in
	}
	in.Kind = mall.KindSaaS
	in.Category = pick(r, saasCategories)
	in.Attributes = attrs(r, saasAttrs)
	for j := range nSKU {
		tier := mall.TierPaid
		switch {
		case j == 0 && nSKU > 1 && r.IntN(3) == 0:
			tier = mall.TierFree
		case r.IntN(5) == 0:
			tier = mall.TierAddon
		}
		interval := mall.IntervalMonth
		if r.IntN(3) == 0 {
			interval = mall.IntervalYear
		}
		trial := 0
		if tier == mall.TierPaid && r.IntN(4) == 0 {
			trial = 14
		}
		pl := &mall.PlanInput{Tier: tier, Interval: interval, PerSeat: r.IntN(2) == 0, TrialDays: trial,
			Features: strings.Fields(words(r, 2+r.IntN(3), 0))}
		ps := prices(r, 300, 30_000)
		if tier == mall.TierFree {
			ps = []mall.PriceInput{{Amount: 0, Currency: "USD"}, {Amount: 0, Currency: "CNY"}}
		}
		in.SKUs = append(in.SKUs, mall.SKUInput{Code: fmt.Sprintf("S%d-%d", i, j),
			Name: strings.ToUpper(tier[:1]) + tier[1:] + " " + interval + "ly", Prices: ps, Plan: pl})
	}
	return in
}
