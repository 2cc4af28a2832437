package mall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// PriceInput is a price in one currency.
type PriceInput struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// PlanInput describes a SaaS plan SKU.
type PlanInput struct {
	Tier      string   `json:"tier"`
	Interval  string   `json:"interval"`
	PerSeat   bool     `json:"per_seat"`
	TrialDays int      `json:"trial_days"`
	Features  []string `json:"features"`
}

// SKUInput creates or (with ID) updates a SKU.
type SKUInput struct {
	ID            int64        `json:"id,omitempty"`
	Code          string       `json:"code"`
	Name          string       `json:"name"`
	Prices        []PriceInput `json:"prices"`
	WeightGrams   int          `json:"weight_grams"`
	HSCode        string       `json:"hs_code"`
	OriginCountry string       `json:"origin_country"`
	Plan          *PlanInput   `json:"plan"`
}

// ProductInput creates a product with its SKUs.
type ProductInput struct {
	Kind        string      `json:"kind"`
	Name        string      `json:"name"`
	Summary     string      `json:"summary"`
	Description string      `json:"description"`
	Category    string      `json:"category"`
	ImageURL    string      `json:"image_url"`
	Status      string      `json:"status"`
	Attributes  []Attribute `json:"attributes"`
	SKUs        []SKUInput  `json:"skus"`
}

// ProductPatch changes a product; nil fields stay as they are. SKUs, when
// given, is the full list: entries with an id update that SKU, entries
// without create one, and SKUs left out are deactivated (never deleted: old
// orders and subscriptions refer to them).
type ProductPatch struct {
	Name        *string      `json:"name"`
	Summary     *string      `json:"summary"`
	Description *string      `json:"description"`
	Category    *string      `json:"category"`
	ImageURL    *string      `json:"image_url"`
	Status      *string      `json:"status"`
	Attributes  *[]Attribute `json:"attributes"`
	SKUs        *[]SKUInput  `json:"skus"`
}

// PlanView is a plan as shown to staff and shoppers.
type PlanView struct {
	Tier      string   `json:"tier"`
	Interval  string   `json:"interval"`
	PerSeat   bool     `json:"per_seat"`
	TrialDays int      `json:"trial_days"`
	Features  []string `json:"features"`
}

// SKUView is a SKU with prices and plan.
type SKUView struct {
	ID            int64     `json:"id"`
	Code          string    `json:"code"`
	Name          string    `json:"name"`
	Active        bool      `json:"active"`
	Prices        []Money   `json:"prices"`
	WeightGrams   int       `json:"weight_grams,omitempty"`
	HSCode        string    `json:"hs_code,omitempty"`
	OriginCountry string    `json:"origin_country,omitempty"`
	Plan          *PlanView `json:"plan,omitempty"`
	InStock       *bool     `json:"in_stock,omitempty"` // goods, shopper views
}

// StoreRef names a product's brand store.
type StoreRef struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// ProductView is a product with its SKUs.
type ProductView struct {
	ID          int64       `json:"id"`
	Kind        string      `json:"kind"`
	Name        string      `json:"name"`
	Summary     string      `json:"summary"`
	Description string      `json:"description"`
	Category    string      `json:"category"`
	ImageURL    string      `json:"image_url"`
	Status      string      `json:"status"`
	Attributes  []Attribute `json:"attributes"`
	Store       StoreRef    `json:"store"`
	SalesCount  int64       `json:"sales_count"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	SKUs        []SKUView   `json:"skus"`
}

var (
	skuCodeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	hsCodeRE  = regexp.MustCompile(`^[0-9]{6,10}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

const (
	maxSKUs       = 50
	maxAttributes = 50
	maxPrices     = 10
	maxAmount     = 1_000_000_000_000
)

func checkLen(f apperr.Fields, field, v string, min, max int) {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		f.Add(field, "required")
	case n > max:
		f.Add(field, "too_long", "Max", max)
	}
}

func checkURL(f apperr.Fields, field, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(v) > 500 {
		f.Add(field, "invalid_url")
	}
}

func checkStatus(f apperr.Fields, field, v string) {
	switch v {
	case StatusDraft, StatusActive, StatusArchived:
	default:
		f.Add(field, "invalid_choice", "Choices", "draft, active, archived")
	}
}

func checkAttributes(f apperr.Fields, attrs []Attribute) []Attribute {
	if len(attrs) > maxAttributes {
		f.Add("attributes", "too_many", "Max", maxAttributes)
		return attrs
	}
	seen := map[string]bool{}
	out := make([]Attribute, 0, len(attrs))
	for i, a := range attrs {
		a.Key, a.Value = strings.TrimSpace(a.Key), strings.TrimSpace(a.Value)
		p := fmt.Sprintf("attributes[%d]", i)
		checkLen(f, p+".key", a.Key, 1, 60)
		checkLen(f, p+".value", a.Value, 1, 200)
		if seen[strings.ToLower(a.Key)] {
			f.Add(p+".key", "duplicate")
		}
		seen[strings.ToLower(a.Key)] = true
		out = append(out, a)
	}
	return out
}

// checkSKUs validates the SKU list of a product of kind.
func checkSKUs(f apperr.Fields, kind string, skus []SKUInput) {
	if len(skus) == 0 {
		f.Add("skus", "required")
		return
	}
	if len(skus) > maxSKUs {
		f.Add("skus", "too_many", "Max", maxSKUs)
		return
	}
	codes := map[string]bool{}
	for i := range skus {
		s := &skus[i]
		p := fmt.Sprintf("skus[%d]", i)
		s.Code, s.Name = strings.TrimSpace(s.Code), strings.TrimSpace(s.Name)
		switch {
		case s.Code == "":
			f.Add(p+".code", "required")
		case !skuCodeRE.MatchString(s.Code):
			f.Add(p+".code", "invalid_format")
		case codes[strings.ToLower(s.Code)]:
			f.Add(p+".code", "duplicate")
		}
		codes[strings.ToLower(s.Code)] = true
		checkLen(f, p+".name", s.Name, 1, 200)
		if len(s.Prices) == 0 {
			f.Add(p+".prices", "required")
		} else if len(s.Prices) > maxPrices {
			f.Add(p+".prices", "too_many", "Max", maxPrices)
		}
		curs := map[string]bool{}
		free := s.Plan != nil && s.Plan.Tier == TierFree
		for j := range s.Prices {
			pr := &s.Prices[j]
			pp := fmt.Sprintf("%s.prices[%d]", p, j)
			pr.Currency = strings.ToUpper(strings.TrimSpace(pr.Currency))
			switch {
			case !tenants.ValidCurrency(pr.Currency):
				f.Add(pp+".currency", "invalid_currency")
			case curs[pr.Currency]:
				f.Add(pp+".currency", "duplicate")
			}
			curs[pr.Currency] = true
			switch {
			case pr.Amount < 0 || pr.Amount > maxAmount:
				f.Add(pp+".amount", "out_of_range", "Min", 0, "Max", int64(maxAmount))
			case free && pr.Amount != 0:
				f.Add(pp+".amount", "free_plan_priced")
			case !free && pr.Amount == 0:
				f.Add(pp+".amount", "must_be_positive")
			}
		}
		switch kind {
		case KindGoods:
			if s.Plan != nil {
				f.Add(p+".plan", "not_for_goods")
			}
			if s.WeightGrams < 0 || s.WeightGrams > 10_000_000 {
				f.Add(p+".weight_grams", "out_of_range", "Min", 0, "Max", 10_000_000)
			}
			s.HSCode = strings.ReplaceAll(strings.TrimSpace(s.HSCode), ".", "")
			if s.HSCode != "" && !hsCodeRE.MatchString(s.HSCode) {
				f.Add(p+".hs_code", "invalid_hs_code")
			}
			s.OriginCountry = strings.ToUpper(strings.TrimSpace(s.OriginCountry))
			if s.OriginCountry != "" && !countryRE.MatchString(s.OriginCountry) {
				f.Add(p+".origin_country", "invalid_country")
			}
		case KindSaaS:
			if s.WeightGrams != 0 || s.HSCode != "" || s.OriginCountry != "" {
				f.Add(p, "goods_fields_on_plan")
			}
			if s.Plan == nil {
				f.Add(p+".plan", "required")
				continue
			}
			pl := s.Plan
			switch pl.Tier {
			case TierFree, TierPaid, TierAddon:
			default:
				f.Add(p+".plan.tier", "invalid_choice", "Choices", "free, paid, addon")
			}
			switch pl.Interval {
			case IntervalMonth, IntervalYear:
			default:
				f.Add(p+".plan.interval", "invalid_choice", "Choices", "month, year")
			}
			if pl.TrialDays < 0 || pl.TrialDays > 365 {
				f.Add(p+".plan.trial_days", "out_of_range", "Min", 0, "Max", 365)
			}
			if len(pl.Features) > 50 {
				f.Add(p+".plan.features", "too_many", "Max", 50)
			}
			for k, ft := range pl.Features {
				pl.Features[k] = strings.TrimSpace(ft)
				checkLen(f, fmt.Sprintf("%s.plan.features[%d]", p, k), pl.Features[k], 1, 200)
			}
		}
	}
}

// ownSKUs copies the SKU, price and plan values, so that normalising them
// during validation never writes through to the caller's (possibly shared)
// input.
func ownSKUs(in []SKUInput) []SKUInput {
	skus := make([]SKUInput, len(in))
	for i, s := range in {
		s.Prices = slices.Clone(s.Prices)
		if s.Plan != nil {
			pl := *s.Plan
			pl.Features = slices.Clone(pl.Features)
			s.Plan = &pl
		}
		skus[i] = s
	}
	return skus
}

func (in *ProductInput) validate() error {
	in.SKUs = ownSKUs(in.SKUs)
	f := apperr.Fields{}
	in.Name, in.Summary, in.Category = strings.TrimSpace(in.Name), strings.TrimSpace(in.Summary), strings.TrimSpace(in.Category)
	switch in.Kind {
	case KindSaaS, KindGoods:
	case "":
		f.Add("kind", "required")
	default:
		f.Add("kind", "invalid_choice", "Choices", "saas, goods")
	}
	checkLen(f, "name", in.Name, 1, 200)
	checkLen(f, "summary", in.Summary, 0, 500)
	checkLen(f, "description", in.Description, 0, 20000)
	checkLen(f, "category", in.Category, 0, 80)
	checkURL(f, "image_url", in.ImageURL)
	if in.Status == "" {
		in.Status = StatusDraft
	}
	checkStatus(f, "status", in.Status)
	in.Attributes = checkAttributes(f, in.Attributes)
	if in.Kind == KindSaaS || in.Kind == KindGoods {
		checkSKUs(f, in.Kind, in.SKUs)
	}
	return f.Err()
}

func encodeJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func skuRow(tenantID, productID int64, pos int, in SKUInput) SKU {
	s := SKU{TenantID: tenantID, ProductID: productID, Code: in.Code, Name: in.Name, Position: pos, Active: true,
		WeightGrams: in.WeightGrams, HSCode: in.HSCode, OriginCountry: in.OriginCountry, PlanFeatures: "[]"}
	if in.Plan != nil {
		s.PlanTier, s.PlanInterval, s.PlanPerSeat, s.PlanTrialDays = in.Plan.Tier, in.Plan.Interval, in.Plan.PerSeat, in.Plan.TrialDays
		feats := in.Plan.Features
		if feats == nil {
			feats = []string{}
		}
		s.PlanFeatures = encodeJSON(feats)
	}
	return s
}

// touch records a catalog change in ctx's transaction so every process's
// read model reloads the product.
func (s *Service) touch(ctx context.Context, tenantID, productID int64) error {
	return s.db.W(ctx).Create(&CatalogChange{TenantID: tenantID, ProductID: productID, At: s.now()}).Error
}

func (s *Service) writeSKUs(ctx context.Context, tenantID, productID int64, skus []SKUInput) error {
	var existing []SKU
	if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Where("product_id = ?", productID).Find(&existing).Error; err != nil {
		return err
	}
	byID := map[int64]SKU{}
	for _, e := range existing {
		byID[e.ID] = e
	}
	keep := map[int64]bool{}
	f := apperr.Fields{}
	for i, in := range skus {
		row := skuRow(tenantID, productID, i, in)
		if in.ID != 0 {
			old, ok := byID[in.ID]
			if !ok {
				f.Add(fmt.Sprintf("skus[%d].id", i), "not_found")
				continue
			}
			row.ID = old.ID
			keep[old.ID] = true
			if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Model(&SKU{}).Where("id = ?", old.ID).Select("*").Omit("id", "tenant_id", "product_id").Updates(&row).Error; err != nil {
				return skuErr(err, i)
			}
			if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Where("sku_id = ?", old.ID).Delete(&Price{}).Error; err != nil {
				return err
			}
		} else {
			if err := s.db.W(ctx).Create(&row).Error; err != nil {
				return skuErr(err, i)
			}
		}
		for _, p := range in.Prices {
			if err := s.db.W(ctx).Create(&Price{SKUID: row.ID, Currency: p.Currency, TenantID: tenantID, Amount: p.Amount}).Error; err != nil {
				return err
			}
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	for _, e := range existing {
		if !keep[e.ID] && e.Active {
			if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Model(&SKU{}).Where("id = ?", e.ID).Update("active", false).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

func skuErr(err error, i int) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return apperr.Invalid(fmt.Sprintf("skus[%d].code", i), "sku_code_taken")
	}
	return err
}

// CreateProduct adds a product with its SKUs to the tenant in ctx. Staff
// with mall:write. Errors: invalid_input (field errors down to
// skus[i].prices[j].currency), sku_code_taken.
func (s *Service) CreateProduct(ctx context.Context, in ProductInput) (*ProductView, error) {
	t := tenants.From(ctx)
	if t == nil {
		return nil, tenants.ErrNoTenant
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var id int64
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		now := s.now()
		attrs := in.Attributes
		if attrs == nil {
			attrs = []Attribute{}
		}
		p := Product{TenantID: t.ID, Kind: in.Kind, Name: in.Name, Summary: in.Summary, Description: in.Description,
			Category: in.Category, ImageURL: in.ImageURL, Status: in.Status, Attributes: encodeJSON(attrs), CreatedAt: now, UpdatedAt: now}
		if err := s.db.W(ctx).Create(&p).Error; err != nil {
			return err
		}
		id = p.ID
		if err := s.writeSKUs(ctx, t.ID, p.ID, in.SKUs); err != nil {
			return err
		}
		if err := s.db.Emit(ctx, t.ID, "product.created", map[string]any{"id": p.ID, "status": p.Status}); err != nil {
			return err
		}
		return s.touch(ctx, t.ID, p.ID)
	})
	if err != nil {
		return nil, store.Error(err, "product")
	}
	return s.StaffProduct(ctx, id)
}

// UpdateProduct changes a product of the tenant in ctx (publish and archive
// are status changes). Staff with mall:write. Errors: not_found,
// invalid_input, sku_code_taken.
func (s *Service) UpdateProduct(ctx context.Context, id int64, in ProductPatch) (*ProductView, error) {
	t := tenants.From(ctx)
	if t == nil {
		return nil, tenants.ErrNoTenant
	}
	var p Product
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Take(&p, id).Error; err != nil {
		return nil, store.Error(err, "product")
	}
	f := apperr.Fields{}
	upd := map[string]any{}
	str := func(field string, v *string, min, max int) {
		if v != nil {
			val := strings.TrimSpace(*v)
			if field == "description" {
				val = *v
			}
			checkLen(f, field, val, min, max)
			upd[field] = val
		}
	}
	str("name", in.Name, 1, 200)
	str("summary", in.Summary, 0, 500)
	str("description", in.Description, 0, 20000)
	str("category", in.Category, 0, 80)
	if in.ImageURL != nil {
		checkURL(f, "image_url", *in.ImageURL)
		upd["image_url"] = *in.ImageURL
	}
	if in.Status != nil {
		checkStatus(f, "status", *in.Status)
		upd["status"] = *in.Status
	}
	if in.Attributes != nil {
		attrs := checkAttributes(f, *in.Attributes)
		upd["attributes"] = encodeJSON(attrs)
	}
	if in.SKUs != nil {
		skus := ownSKUs(*in.SKUs)
		in.SKUs = &skus
		checkSKUs(f, p.Kind, skus)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		upd["updated_at"] = s.now()
		if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Model(&Product{}).Where("id = ?", id).Updates(upd).Error; err != nil {
			return err
		}
		if in.SKUs != nil {
			if err := s.writeSKUs(ctx, t.ID, id, *in.SKUs); err != nil {
				return err
			}
		}
		topic := "product.updated"
		if in.Status != nil && *in.Status != p.Status {
			topic = "product." + map[string]string{StatusActive: "published", StatusArchived: "archived", StatusDraft: "unpublished"}[*in.Status]
		}
		if err := s.db.Emit(ctx, t.ID, topic, map[string]any{"id": id}); err != nil {
			return err
		}
		return s.touch(ctx, t.ID, id)
	})
	if err != nil {
		return nil, store.Error(err, "product")
	}
	return s.StaffProduct(ctx, id)
}

// StaffProduct returns a product of the tenant in ctx in any status. Staff
// with mall:read. Errors: not_found.
func (s *Service) StaffProduct(ctx context.Context, id int64) (*ProductView, error) {
	t := tenants.From(ctx)
	if t == nil {
		return nil, tenants.ErrNoTenant
	}
	var p Product
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Take(&p, id).Error; err != nil {
		return nil, store.Error(err, "product")
	}
	views, err := s.views(ctx, []Product{p}, map[int64]StoreRef{t.ID: {Slug: t.Slug, Name: t.Name}}, true)
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// ProductQuery filters the staff product list.
type ProductQuery struct {
	store.PageRequest
	Q      string `query:"q"`
	Status string `query:"status"`
	Kind   string `query:"kind"`
}

// StaffProducts lists the tenant's products in any status, newest first,
// with full-text search over name, summary and attributes (FTS5 trigram on
// SQLite, to_tsvector on PostgreSQL). Staff with mall:read.
func (s *Service) StaffProducts(ctx context.Context, q ProductQuery) (store.Page[ProductView], error) {
	t := tenants.From(ctx)
	if t == nil {
		return store.Page[ProductView]{}, tenants.ErrNoTenant
	}
	f := apperr.Fields{}
	if q.Status != "" {
		checkStatus(f, "status", q.Status)
	}
	if q.Kind != "" && q.Kind != KindSaaS && q.Kind != KindGoods {
		f.Add("kind", "invalid_choice", "Choices", "saas, goods")
	}
	if utf8.RuneCountInString(q.Q) > 200 {
		f.Add("q", "too_long", "Max", 200)
	}
	if err := f.Err(); err != nil {
		return store.Page[ProductView]{}, err
	}
	db := s.db.R(ctx).Model(&Product{}).Scopes(tenants.Scope(ctx))
	if q.Status != "" {
		db = db.Where("status = ?", q.Status)
	}
	if q.Kind != "" {
		db = db.Where("kind = ?", q.Kind)
	}
	if text := strings.TrimSpace(q.Q); text != "" {
		db = s.textFilter(db, text)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return store.Page[ProductView]{}, apperr.Internal(err)
	}
	var ps []Product
	if err := db.Scopes(q.PageRequest.Scope).Order("id DESC").Find(&ps).Error; err != nil {
		return store.Page[ProductView]{}, apperr.Internal(err)
	}
	views, err := s.views(ctx, ps, map[int64]StoreRef{t.ID: {Slug: t.Slug, Name: t.Name}}, true)
	if err != nil {
		return store.Page[ProductView]{}, err
	}
	return store.NewPage(views, total, q.PageRequest), nil
}

// textFilter restricts db to products matching text. Every word must match.
func (s *Service) textFilter(db *gorm.DB, text string) *gorm.DB {
	words := strings.Fields(text)
	if len(words) > 8 {
		words = words[:8]
	}
	if s.db.Dialect == store.Postgres {
		return db.Where("to_tsvector('simple', name || ' ' || summary || ' ' || attributes) @@ plainto_tsquery('simple', ?) OR name ILIKE ?",
			text, "%"+escapeLike(text)+"%")
	}
	var fts []string
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 3 {
			// Quoted, so FTS5 syntax in user text is just text.
			fts = append(fts, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
		} else {
			db = db.Where("(name LIKE ? ESCAPE '\\' OR summary LIKE ? ESCAPE '\\')", "%"+escapeLike(w)+"%", "%"+escapeLike(w)+"%")
		}
	}
	if len(fts) > 0 {
		db = db.Where("id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)", strings.Join(fts, " AND "))
	}
	return db
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// views loads SKUs and prices for products and builds their views.
func (s *Service) views(ctx context.Context, ps []Product, storesByTenant map[int64]StoreRef, staff bool) ([]ProductView, error) {
	if len(ps) == 0 {
		return []ProductView{}, nil
	}
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	// Staff views are scoped to their tenant; the shopper read model reads
	// every visible product across tenants (a platform read).
	scoped := func() *gorm.DB {
		if staff {
			return s.db.R(ctx).Scopes(tenants.Scope(ctx))
		}
		return s.db.R(ctx)
	}
	var skus []SKU
	q := scoped().Where("product_id IN ?", ids)
	if !staff {
		q = q.Where("active = ?", true)
	}
	if err := q.Order("product_id, position, id").Find(&skus).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	skuIDs := make([]int64, len(skus))
	for i, k := range skus {
		skuIDs[i] = k.ID
	}
	var prices []Price
	if len(skuIDs) > 0 {
		if err := scoped().Where("sku_id IN ?", skuIDs).Order("sku_id, currency").Find(&prices).Error; err != nil {
			return nil, apperr.Internal(err)
		}
	}
	priceBy := map[int64][]Money{}
	for _, p := range prices {
		priceBy[p.SKUID] = append(priceBy[p.SKUID], Money{Amount: p.Amount, Currency: p.Currency})
	}
	var sales []ProductSales
	if err := scoped().Where("product_id IN ?", ids).Find(&sales).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	salesBy := make(map[int64]int64, len(sales))
	for _, x := range sales {
		salesBy[x.ProductID] = x.Units
	}
	skuBy := map[int64][]SKUView{}
	for _, k := range skus {
		skuBy[k.ProductID] = append(skuBy[k.ProductID], skuView(k, priceBy[k.ID]))
	}
	out := make([]ProductView, len(ps))
	for i, p := range ps {
		var attrs []Attribute
		_ = json.Unmarshal([]byte(p.Attributes), &attrs)
		if attrs == nil {
			attrs = []Attribute{}
		}
		sv := skuBy[p.ID]
		if sv == nil {
			sv = []SKUView{}
		}
		out[i] = ProductView{ID: p.ID, Kind: p.Kind, Name: p.Name, Summary: p.Summary, Description: p.Description,
			Category: p.Category, ImageURL: p.ImageURL, Status: p.Status, Attributes: attrs, Store: storesByTenant[p.TenantID],
			SalesCount: salesBy[p.ID], CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, SKUs: sv}
	}
	return out, nil
}

func skuView(k SKU, prices []Money) SKUView {
	if prices == nil {
		prices = []Money{}
	}
	v := SKUView{ID: k.ID, Code: k.Code, Name: k.Name, Active: k.Active, Prices: prices,
		WeightGrams: k.WeightGrams, HSCode: k.HSCode, OriginCountry: k.OriginCountry}
	if k.PlanTier != "" {
		var feats []string
		_ = json.Unmarshal([]byte(k.PlanFeatures), &feats)
		if feats == nil {
			feats = []string{}
		}
		v.Plan = &PlanView{Tier: k.PlanTier, Interval: k.PlanInterval, PerSeat: k.PlanPerSeat, TrialDays: k.PlanTrialDays, Features: feats}
	}
	return v
}
