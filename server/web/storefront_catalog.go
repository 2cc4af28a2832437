package web

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/apperr"
	"saasmall/server/mall"
	"saasmall/server/mall/catalog"
	"saasmall/tenants"
)

// cardVM is a product card of a list.
type cardVM struct {
	mall.CardView
	B        *base
	From     string // lowest price in the page's currency (else the first known)
	FromFree bool   // the lowest price is 0
	Compare  bool   // show the compare checkbox (search pages)
}

func (s *Server) cards(b *base, docs []*catalog.Doc) []cardVM {
	out := make([]cardVM, 0, len(docs))
	for _, d := range docs {
		var cv mall.CardView
		if err := json.Unmarshal(d.Card, &cv); err != nil {
			continue
		}
		vm := cardVM{CardView: cv, B: b}
		for _, p := range cv.Prices {
			if p.Currency == b.Currency {
				vm.From, vm.FromFree = b.Price(p), p.Amount == 0
			}
		}
		if vm.From == "" && len(cv.Prices) > 0 {
			vm.From, vm.FromFree = b.Price(cv.Prices[0]), cv.Prices[0].Amount == 0
		}
		out = append(out, vm)
	}
	return out
}

// ---- home ----

type storeVM struct {
	Slug  string
	Name  string
	Count int
	URL   string
}

type homeView struct {
	*base
	Newest     []cardVM
	Best       []cardVM
	Categories []facetValueVM
	Stores     []storeVM
	Total      int
}

func (s *Server) sfHome(c *fiber.Ctx) error {
	b := s.page(c, "")
	b.Title = b.T("home.title")
	b.Nav = "home"
	idx := s.Mall.Catalog.Index()
	newest := idx.Search(catalog.Query{Sort: catalog.SortNewest, PerPage: 8})
	best := idx.Search(catalog.Query{Sort: catalog.SortBestSelling, PerPage: 8})
	v := &homeView{base: b, Newest: s.cards(b, newest.Items), Best: s.cards(b, best.Items), Total: newest.Total}
	for _, fv := range sortedFacet(newest.Facets["category"]) {
		fv.URL = "/search?category=" + url.QueryEscape(fv.Value)
		fv.Label = fv.Value
		v.Categories = append(v.Categories, fv)
	}
	for _, fv := range sortedFacet(newest.Facets["store"]) {
		v.Stores = append(v.Stores, storeVM{Slug: fv.Value, Name: s.storeName(c, fv.Value), Count: fv.Count, URL: "/s/" + url.PathEscape(fv.Value)})
	}
	return s.render(c, fiber.StatusOK, "home", v)
}

func (s *Server) storeName(c *fiber.Ctx, slug string) string {
	if t, err := s.Tenants.BySlug(c.UserContext(), slug); err == nil {
		return t.Name
	}
	return slug
}

// ---- search and brand stores ----

type facetValueVM struct {
	Value   string
	Label   string
	Count   int
	Checked bool
	URL     string
}

type facetVM struct {
	Key    string // query parameter
	Label  string
	Multi  bool // checkboxes (attributes) rather than radios
	Values []facetValueVM
	AnyOn  bool // no value selected (radios)
}

type optionVM struct {
	Value    string
	Label    string
	Selected bool
}

type pageLinkVM struct {
	N       int
	URL     string
	Current bool
	Gap     bool
}

type searchForm struct {
	Q, Kind, Category, Store, Tier, Min, Max, Sort string
	InStock                                        bool
}

type searchView struct {
	*base
	Store      *storeVM
	Action     string
	F          searchForm
	Facets     []facetVM
	Cards      []cardVM
	Total      int
	Page       int
	Pages      int
	PageLinks  []pageLinkVM
	PrevURL    string
	NextURL    string
	Sorts      []optionVM
	Currencies []optionVM
	Chips      []sfLink
	ClearURL   string
	vals       url.Values
}

// SortURL is this search in another order.
func (v *searchView) SortURL(order string) string {
	nv := cloneValues(v.vals)
	nv.Del("page")
	if order == catalog.SortRelevance {
		nv.Del("sort")
	} else {
		nv.Set("sort", order)
	}
	return withQuery(v.Action, nv)
}

func sortedFacet(m map[string]int) []facetValueVM {
	out := make([]facetValueVM, 0, len(m))
	for v, n := range m {
		out = append(out, facetValueVM{Value: v, Label: v, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// parseSearch reads the storefront's search form. Bad values are dropped
// with a field error, never a failed page.
func parseSearch(c *fiber.Ctx, b *base, vals url.Values, store string) (catalog.Query, searchForm) {
	f := apperr.Fields{}
	var sf searchForm
	q := catalog.Query{Currency: b.Currency, PerPage: 24, Page: 1}
	sf.Q = clip(vals.Get("q"), 200)
	q.Q = sf.Q
	if k := vals.Get("kind"); k == mall.KindSaaS || k == mall.KindGoods {
		sf.Kind, q.Kind = k, k
	}
	sf.Category = clip(vals.Get("category"), 80)
	q.Category = sf.Category
	if store != "" {
		q.Store = store
	} else {
		sf.Store = clip(vals.Get("store"), 40)
		q.Store = sf.Store
	}
	if t := vals.Get("tier"); t == mall.TierFree || t == mall.TierPaid || t == mall.TierAddon {
		sf.Tier, q.Tier = t, t
	}
	for k, vs := range vals {
		if !strings.HasPrefix(k, "attr.") || len(k) <= 5 || len(k) > 70 {
			continue
		}
		if q.Attrs == nil {
			q.Attrs = map[string][]string{}
		}
		if len(q.Attrs) >= 20 {
			break
		}
		for _, v := range vs {
			if v != "" && len(q.Attrs[k[5:]]) < 20 {
				q.Attrs[k[5:]] = append(q.Attrs[k[5:]], clip(v, 200))
			}
		}
	}
	price := func(name string) *int64 {
		v := strings.TrimSpace(vals.Get(name))
		if v == "" {
			return nil
		}
		n, ok := parseMajor(v, q.Currency)
		if !ok {
			f.Add(name, "invalid_number")
			return nil
		}
		return &n
	}
	q.MinPrice, q.MaxPrice = price("min"), price("max")
	if q.MinPrice != nil {
		sf.Min = formatMajor(*q.MinPrice, q.Currency)
	}
	if q.MaxPrice != nil {
		sf.Max = formatMajor(*q.MaxPrice, q.Currency)
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		f.Add("max", "less_than_min")
		q.MaxPrice, sf.Max = nil, ""
	}
	switch v := vals.Get("sort"); v {
	case catalog.SortRelevance, catalog.SortPriceAsc, catalog.SortPriceDesc, catalog.SortNewest, catalog.SortBestSelling:
		sf.Sort, q.Sort = v, v
	}
	switch vals.Get("in_stock") {
	case "1", "true", "on":
		sf.InStock, q.InStock = true, true
	}
	if v := vals.Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 10_000 {
			q.Page = n
		}
	}
	if len(f) > 0 {
		formErrors(b, f.Err())
	}
	return q, sf
}

func (s *Server) sfSearch(c *fiber.Ctx) error {
	b := s.page(c, "search.title")
	b.Nav = "search"
	return s.searchPage(c, b, nil)
}

func (s *Server) sfStore(c *fiber.Ctx) error {
	slug := c.Params("tenant")
	t, err := s.Tenants.BySlug(c.UserContext(), slug)
	if err != nil {
		return s.fail(c, err)
	}
	if t.Status != tenants.StatusActive {
		return s.fail(c, apperr.NotFound("store"))
	}
	b := s.page(c, "")
	b.Title = t.Name
	onSale := s.Mall.Catalog.Index().Search(catalog.Query{Store: t.Slug, PerPage: 1}).Total
	return s.searchPage(c, b, &storeVM{Slug: t.Slug, Name: t.Name, Count: onSale, URL: "/s/" + url.PathEscape(t.Slug)})
}

func (s *Server) searchPage(c *fiber.Ctx, b *base, store *storeVM) error {
	vals := queryValues(c)
	vals.Del("msg")
	vals.Del("lang")
	slug := ""
	action := "/search"
	if store != nil {
		slug, action = store.Slug, store.URL
	}
	q, sf := parseSearch(c, b, vals, slug)
	res := s.Mall.Catalog.Index().Search(q)
	b.Q = sf.Q
	v := &searchView{base: b, Store: store, Action: action, F: sf, Cards: s.cards(b, res.Items), Total: res.Total, Page: q.Page, vals: vals}
	for i := range v.Cards {
		v.Cards[i].Compare = true
	}
	link := func(set map[string]string, del ...string) string {
		nv := cloneValues(vals)
		for _, d := range del {
			nv.Del(d)
		}
		for k, val := range set {
			nv.Set(k, val)
		}
		nv.Del("page")
		return withQuery(action, nv)
	}

	// Facets, in a fixed order, then attributes by key.
	dims := []string{"kind", "category"}
	if store == nil {
		dims = append(dims, "store")
	}
	dims = append(dims, "tier")
	var attrKeys []string
	for k := range res.Facets {
		if strings.HasPrefix(k, "attr:") {
			attrKeys = append(attrKeys, k)
		}
	}
	sort.Strings(attrKeys)
	selected := map[string]string{"kind": sf.Kind, "category": sf.Category, "store": sf.Store, "tier": sf.Tier}
	for _, dim := range append(dims, attrKeys...) {
		counts := res.Facets[dim]
		fv := facetVM{Key: dim}
		values := sortedFacet(counts)
		if strings.HasPrefix(dim, "attr:") {
			key := dim[5:]
			fv.Key, fv.Label, fv.Multi = "attr."+key, key, true
			on := map[string]bool{}
			for _, x := range q.Attrs[key] {
				on[x] = true
			}
			for i := range values {
				values[i].Checked = on[values[i].Value]
				delete(on, values[i].Value)
			}
			for x := range on { // selected but no longer matching: keep it to untick
				values = append(values, facetValueVM{Value: x, Label: x, Checked: true})
			}
		} else {
			fv.Label = b.T("facet." + dim)
			sel := selected[dim]
			found := false
			for i := range values {
				if values[i].Value == sel {
					values[i].Checked, found = true, true
				}
				switch dim {
				case "kind":
					values[i].Label = b.Kind(values[i].Value)
				case "tier":
					values[i].Label = b.Tier(values[i].Value)
				case "store":
					values[i].Label = s.storeName(c, values[i].Value)
				}
			}
			if sel != "" && !found {
				values = append(values, facetValueVM{Value: sel, Label: sel, Checked: true})
			}
			fv.AnyOn = sel == ""
		}
		if len(values) == 0 {
			continue
		}
		fv.Values = values
		v.Facets = append(v.Facets, fv)
	}

	for _, o := range []string{catalog.SortRelevance, catalog.SortNewest, catalog.SortBestSelling, catalog.SortPriceAsc, catalog.SortPriceDesc} {
		v.Sorts = append(v.Sorts, optionVM{Value: o, Label: b.T("sort." + o), Selected: sf.Sort == o || (sf.Sort == "" && o == catalog.SortRelevance)})
	}
	for _, cur := range storefrontCurrencies {
		v.Currencies = append(v.Currencies, optionVM{Value: cur, Label: cur, Selected: cur == b.Currency})
	}

	// Active filters, each with a link that removes it.
	chip := func(label, key string) {
		v.Chips = append(v.Chips, sfLink{Label: label, URL: link(nil, key)})
	}
	if sf.Q != "" {
		chip("“"+sf.Q+"”", "q")
	}
	if sf.Kind != "" {
		chip(b.Kind(sf.Kind), "kind")
	}
	if sf.Category != "" {
		chip(sf.Category, "category")
	}
	if sf.Store != "" {
		chip(s.storeName(c, sf.Store), "store")
	}
	if sf.Tier != "" {
		chip(b.Tier(sf.Tier), "tier")
	}
	for _, k := range sortedKeysOf(q.Attrs) {
		for _, x := range q.Attrs[k] {
			nv := cloneValues(vals)
			var keep []string
			for _, y := range nv["attr."+k] {
				if y != x {
					keep = append(keep, y)
				}
			}
			nv["attr."+k] = keep
			nv.Del("page")
			v.Chips = append(v.Chips, sfLink{Label: k + ": " + x, URL: withQuery(action, nv)})
		}
	}
	if q.MinPrice != nil {
		chip("≥ "+money(mall.Money{Amount: *q.MinPrice, Currency: q.Currency}), "min")
	}
	if q.MaxPrice != nil {
		chip("≤ "+money(mall.Money{Amount: *q.MaxPrice, Currency: q.Currency}), "max")
	}
	if sf.InStock {
		chip(b.T("search.in_stock"), "in_stock")
	}
	v.ClearURL = action

	// Pagination.
	per := q.PerPage
	v.Pages = (res.Total + per - 1) / per
	if v.Pages > 1 {
		pageURL := func(n int) string {
			nv := cloneValues(vals)
			nv.Set("page", strconv.Itoa(n))
			return withQuery(action, nv)
		}
		if q.Page > 1 {
			v.PrevURL = pageURL(q.Page - 1)
		}
		if q.Page < v.Pages {
			v.NextURL = pageURL(q.Page + 1)
		}
		last := 0
		for n := 1; n <= v.Pages; n++ {
			if n != 1 && n != v.Pages && (n < q.Page-2 || n > q.Page+2) {
				continue
			}
			if last != 0 && n > last+1 {
				v.PageLinks = append(v.PageLinks, pageLinkVM{Gap: true})
			}
			v.PageLinks = append(v.PageLinks, pageLinkVM{N: n, URL: pageURL(n), Current: n == q.Page})
			last = n
		}
	}
	return s.render(c, fiber.StatusOK, "search", v)
}

func sortedKeysOf(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- product ----

type skuVM struct {
	mall.SKUView
	Price    string
	HasPrice bool
	Buyable  bool
	Checked  bool
	Unit     string // "/ seat / month"
}

type productView struct {
	*base
	P          *mall.ProductView
	Goods      bool
	InStock    bool
	From       string
	FromFree   bool
	SKUs       []skuVM
	HasPerSeat bool
	Qty        int64
	CompareURL string
	Related    []cardVM
	StoreURL   string
}

func (s *Server) sfProduct(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return s.fail(c, apperr.NotFound("product"))
	}
	return s.productPage(c, id, fiber.StatusOK, nil, 0, 0)
}

// productPage renders a product; after a failed add to cart it shows the
// error and keeps the shopper's choice.
func (s *Server) productPage(c *fiber.Ctx, id int64, status int, addErr error, skuID, qty int64) error {
	p, err := s.Mall.Catalog.ProductView(id)
	if err != nil {
		return s.fail(c, err)
	}
	b := s.page(c, "")
	b.Title = p.Name
	if addErr != nil {
		formErrors(b, addErr)
	}
	v := &productView{base: b, P: p, Goods: p.Kind == mall.KindGoods, Qty: max(qty, 1),
		StoreURL: "/s/" + url.PathEscape(p.Store.Slug)}
	first := true
	var from *mall.Money
	for _, k := range p.SKUs {
		vm := skuVM{SKUView: k, Buyable: true}
		for _, pr := range k.Prices {
			if pr.Currency == b.Currency {
				vm.Price, vm.HasPrice = b.Price(pr), true
				if from == nil || pr.Amount < from.Amount {
					m := pr
					from = &m
				}
			}
		}
		if v.Goods {
			vm.Buyable = k.InStock != nil && *k.InStock
			v.InStock = v.InStock || vm.Buyable
		} else if k.Plan != nil {
			if k.Plan.PerSeat {
				v.HasPerSeat = true
				vm.Unit = b.T("product.per_seat_per", "Interval", b.Interval(k.Plan.Interval))
			} else {
				vm.Unit = b.T("product.per", "Interval", b.Interval(k.Plan.Interval))
			}
		}
		if !vm.HasPrice {
			vm.Buyable = false
		}
		if (skuID != 0 && k.ID == skuID) || (skuID == 0 && first && vm.Buyable) {
			vm.Checked, first = true, false
		}
		v.SKUs = append(v.SKUs, vm)
	}
	if !v.Goods {
		v.InStock = true
	}
	if from != nil {
		v.From, v.FromFree = b.Price(*from), from.Amount == 0
	}
	// Related products: the same category first, then the same kind.
	seen := map[int64]bool{p.ID: true}
	var rel []*catalog.Doc
	idx := s.Mall.Catalog.Index()
	for _, q := range []catalog.Query{{Category: p.Category, Sort: catalog.SortBestSelling, PerPage: 8},
		{Kind: p.Kind, Sort: catalog.SortBestSelling, PerPage: 8}} {
		for _, d := range idx.Search(q).Items {
			if !seen[d.ID] && len(rel) < 4 {
				seen[d.ID] = true
				rel = append(rel, d)
			}
		}
	}
	v.Related = s.cards(b, rel)
	if len(rel) > 0 {
		ids := []string{strconv.FormatInt(p.ID, 10)}
		for _, d := range rel[:min(2, len(rel))] {
			ids = append(ids, strconv.FormatInt(d.ID, 10))
		}
		v.CompareURL = "/compare?ids=" + strings.Join(ids, ",")
	}
	return s.render(c, status, "product", v)
}

// ---- compare ----

type compareCol struct {
	mall.CompareProduct
	From      string
	Free      bool
	RemoveURL string
}

type compareRowVM struct {
	Group      string
	GroupLabel string
	NewGroup   bool
	Label      string
	Cells      []mall.CompareCell
	Differ     bool
}

type compareView struct {
	*base
	Cols     []compareCol
	Rows     []compareRowVM
	OnlyDiff bool
	DiffURL  string
	AllURL   string
	Width    int
}

// compareIDs reads ids from ?ids=1,2 and from repeated ?ids= (the search
// page's compare checkboxes).
func compareIDs(c *fiber.Ctx) ([]int64, error) {
	var ids []int64
	for _, raw := range c.Context().QueryArgs().PeekMulti("ids") {
		more, err := parseIDs("ids", string(raw), 10)
		if err != nil {
			return nil, err
		}
		ids = append(ids, more...)
		if len(ids) > 10 {
			break
		}
	}
	return ids, nil
}

func (s *Server) sfCompare(c *fiber.Ctx) error {
	b := s.page(c, "compare.title")
	b.Nav = "search"
	v := &compareView{base: b}
	ids, err := compareIDs(c)
	var cmp *mall.Comparison
	if err == nil {
		cmp, err = s.Mall.Compare(ids, b.Currency)
	}
	if err != nil {
		formErrors(b, err)
		if m, ok := b.Errs["ids"]; ok {
			b.Err = m
		}
		return s.render(c, fiber.StatusBadRequest, "compare", v)
	}
	vals := queryValues(c)
	vals.Del("msg")
	v.OnlyDiff = vals.Get("diff") == "1"
	dv := cloneValues(vals)
	dv.Set("diff", "1")
	v.DiffURL = withQuery("/compare", dv)
	dv.Del("diff")
	v.AllURL = withQuery("/compare", dv)
	for _, p := range cmp.Products {
		col := compareCol{CompareProduct: p, From: b.T("compare.no_price")}
		if p.From != nil {
			col.From, col.Free = b.Price(*p.From), p.From.Amount == 0
		}
		var rest []string
		for _, q := range cmp.Products {
			if q.ID != p.ID {
				rest = append(rest, strconv.FormatInt(q.ID, 10))
			}
		}
		if len(rest) >= 2 {
			rv := cloneValues(vals)
			rv.Del("ids")
			rv.Set("ids", strings.Join(rest, ","))
			col.RemoveURL = withQuery("/compare", rv)
		}
		v.Cols = append(v.Cols, col)
	}
	v.Width = len(v.Cols)
	group := ""
	for _, r := range cmp.Rows {
		if v.OnlyDiff && !r.Differ {
			continue
		}
		vm := compareRowVM{Group: r.Group, Label: r.Label, Cells: r.Cells, Differ: r.Differ}
		switch {
		case r.Group == "price" && r.Label == "from":
			vm.Label = b.T("compare.row.from")
			vm.Cells = make([]mall.CompareCell, len(r.Cells))
			for i, p := range cmp.Products {
				if p.From != nil && i < len(vm.Cells) {
					vm.Cells[i] = mall.CompareCell{Text: b.Price(*p.From), Has: true}
				}
			}
		case r.Group == "product" && r.Label == "kind":
			vm.Label = b.T("compare.row.kind")
			vm.Cells = make([]mall.CompareCell, len(r.Cells))
			for i, x := range r.Cells {
				vm.Cells[i] = mall.CompareCell{Text: b.Kind(x.Text), Has: x.Has}
			}
		case r.Group == "product" && r.Label == "store":
			vm.Label = b.T("compare.row.store")
		case r.Group == "plan" && r.Label == "plans":
			vm.Label = b.T("compare.row.plans")
		case r.Group == "plan":
			vm.Label = b.T("compare.row.per_month")
			vm.Cells = make([]mall.CompareCell, len(r.Cells))
			for i, p := range cmp.Products {
				var best *mall.Money
				for _, pl := range p.Plans {
					if pl.PerMonth != nil && (best == nil || pl.PerMonth.Amount < best.Amount) {
						best = pl.PerMonth
					}
				}
				if best != nil && i < len(vm.Cells) {
					vm.Cells[i] = mall.CompareCell{Text: b.Price(*best), Has: true}
				}
			}
		}
		if r.Group != group {
			group = r.Group
			vm.NewGroup = true
			switch r.Group {
			case "price", "product", "attribute", "plan", "feature":
				vm.GroupLabel = b.T("compare.group." + r.Group)
			default:
				vm.GroupLabel = r.Group
			}
		}
		v.Rows = append(v.Rows, vm)
	}
	return s.render(c, fiber.StatusOK, "compare", v)
}
