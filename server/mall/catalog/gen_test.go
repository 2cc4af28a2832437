package catalog

import (
	"cmp"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
)

// Test data: a generator of plausible catalogs and a brute-force model of
// the search semantics (see search.go) to check the index against.

var (
	genKinds      = []string{"saas", "goods"}
	genCategories = []string{"shoes", "apparel", "software", "crm", "books", "kitchen", "garden", "toys", "audio", "camera", "office", "sports"}
	genTiers      = []string{"basic", "pro", "enterprise"}
	genAttrs      = map[string][]string{
		"color":    {"red", "blue", "green", "black", "white", "café", "navy", "olive"},
		"size":     {"xs", "s", "m", "l", "xl", "xxl"},
		"material": {"cotton", "leather", "wool", "steel"},
		"os":       {"linux", "windows", "macos", "android"},
		"license":  {"mit", "annual", "perpetual"},
	}
	genAttrKeys = []string{"color", "size", "material", "os", "license"}
	genWords    = []string{
		"running", "runner", "runs", "shoe", "shoes", "trail", "road", "light", "lighter", "waterproof",
		"jacket", "jackets", "wool", "coffee", "café", "crème", "naïve", "project", "projects", "management",
		"managing", "cloud", "backup", "backups", "sync", "team", "teams", "analytics", "dashboard", "invoice",
		"invoicing", "camera", "lens", "lenses", "zoom", "kettle", "garden", "gardening", "hose", "toy",
		"puzzle", "puzzles", "audio", "speaker", "speakers", "wireless", "charger", "office", "chair", "desk",
		"the", "for", "and", "with", "pro", "max", "mini", "ultra", "x1", "3.5", "men's", "don't", "e-mail",
	}
	genHan = []string{"项目管理", "软件", "云", "跑鞋", "咖啡机", "无线耳机", "管理", "办公椅", "项目"}
)

func genText(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		if r.Intn(8) == 0 {
			b.WriteString(genHan[r.Intn(len(genHan))])
			continue
		}
		w := genWords[r.Intn(len(genWords))]
		if r.Intn(5) == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
	}
	return b.String()
}

func genDoc(r *rand.Rand, id int64, stores int) *Doc {
	store := r.Intn(stores)
	d := &Doc{
		ID:        id,
		TenantID:  int64(store + 1),
		Store:     fmt.Sprintf("store%02d", store),
		StoreName: fmt.Sprintf("Store %d", store),
		Kind:      genKinds[r.Intn(2)],
		Category:  genCategories[r.Intn(len(genCategories))],
		Name:      genText(r, 1+r.Intn(4)),
		Summary:   genText(r, r.Intn(12)),
		CreatedAt: int64(r.Intn(500)) * 1e9, // ties on purpose
		Sales:     int64(r.Intn(50)),
		InStock:   r.Intn(5) != 0,
		MinPrice:  map[string]int64{},
	}
	if d.Kind == "saas" {
		d.InStock = true
		for _, t := range genTiers {
			if r.Intn(2) == 0 {
				d.Tiers = append(d.Tiers, t)
			}
		}
	}
	for _, k := range genAttrKeys {
		if r.Intn(3) == 0 {
			continue
		}
		vs := genAttrs[k]
		d.Attributes = append(d.Attributes, Attr{Key: k, Value: vs[r.Intn(len(vs))]})
		if r.Intn(6) == 0 { // multi-valued key
			d.Attributes = append(d.Attributes, Attr{Key: k, Value: vs[r.Intn(len(vs))]})
		}
	}
	d.MinPrice["USD"] = int64(100 * (1 + r.Intn(200)))
	if r.Intn(2) == 0 {
		d.MinPrice["EUR"] = int64(100 * (1 + r.Intn(200)))
	}
	if r.Intn(10) == 0 {
		delete(d.MinPrice, "USD")
	}
	d.Card = []byte(fmt.Sprintf(`{"id":%d}`, id))
	d.Detail = d.Card
	return d
}

func genDocs(r *rand.Rand, n, stores int) []*Doc {
	docs := make([]*Doc, n)
	for i := range docs {
		docs[i] = genDoc(r, int64(i+1), stores)
	}
	return docs
}

func ptr(v int64) *int64 { return &v }

func genQuery(r *rand.Rand, stores int) Query {
	var q Query
	switch r.Intn(6) {
	case 0:
	case 1:
		q.Q = genWords[r.Intn(len(genWords))]
	case 2:
		w := genWords[r.Intn(len(genWords))]
		q.Q = w[:1+r.Intn(len(w))] // a prefix
	case 3:
		q.Q = genWords[r.Intn(len(genWords))] + " " + genWords[r.Intn(len(genWords))]
	case 4:
		q.Q = genHan[r.Intn(len(genHan))]
	case 5:
		q.Q = genText(r, 1+r.Intn(3))
	}
	if r.Intn(4) == 0 {
		q.Kind = genKinds[r.Intn(2)]
	}
	if r.Intn(4) == 0 {
		q.Category = genCategories[r.Intn(len(genCategories))]
	}
	if r.Intn(4) == 0 {
		q.Store = fmt.Sprintf("store%02d", r.Intn(stores+1))
	}
	if r.Intn(6) == 0 {
		q.Tier = genTiers[r.Intn(len(genTiers))]
	}
	if r.Intn(3) == 0 {
		q.Attrs = map[string][]string{}
		for range 1 + r.Intn(2) {
			k := genAttrKeys[r.Intn(len(genAttrKeys))]
			if r.Intn(10) == 0 {
				k = "nosuchkey"
			}
			vs := genAttrs["color"]
			if v, ok := genAttrs[k]; ok {
				vs = v
			}
			for range r.Intn(3) {
				q.Attrs[k] = append(q.Attrs[k], vs[r.Intn(len(vs))])
			}
		}
	}
	if r.Intn(3) == 0 {
		q.Currency = []string{"USD", "EUR", "GBP", ""}[r.Intn(4)]
	}
	if r.Intn(4) == 0 {
		q.MinPrice = ptr(int64(100 * r.Intn(150)))
	}
	if r.Intn(4) == 0 {
		q.MaxPrice = ptr(int64(100 * (50 + r.Intn(200))))
	}
	q.InStock = r.Intn(4) == 0
	q.Sort = []string{"", SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest, SortBestSelling, "bogus"}[r.Intn(7)]
	q.Page = r.Intn(5)
	q.PerPage = []int{0, 1, 5, 24, 200}[r.Intn(5)]
	return q
}

// ---------------------------------------------------------------------------
// Reference model

type refDoc struct {
	d     *Doc
	terms map[string]float32
	words []string
	dl    float32
}

type refIndex struct {
	docs []*refDoc
}

func newRef(docs []*Doc) *refIndex {
	a := newAnalyzer()
	ri := &refIndex{}
	for _, d := range docs {
		an := a.analyze(d)
		rd := &refDoc{d: d, terms: map[string]float32{}, dl: an.dl}
		for _, t := range an.terms {
			rd.terms[t.term] = t.tf
		}
		for _, w := range an.words {
			rd.words = append(rd.words, w.word)
		}
		ri.docs = append(ri.docs, rd)
	}
	return ri
}

func (rd *refDoc) matchesTerm(t qterm) bool {
	if _, ok := rd.terms[t.term]; ok {
		return true
	}
	if t.prefix != "" {
		for _, w := range rd.words {
			if strings.HasPrefix(w, t.prefix) {
				return true
			}
		}
	}
	return false
}

// dimsOf lists the (dimension, value) pairs of a document.
func dimsOf(d *Doc) map[string][]string {
	m := map[string][]string{}
	add := func(k, v string) {
		if v != "" && !slices.Contains(m[k], v) {
			m[k] = append(m[k], v)
		}
	}
	add("kind", d.Kind)
	add("category", d.Category)
	add("store", d.Store)
	for _, t := range d.Tiers {
		add("tier", t)
	}
	for _, a := range d.Attributes {
		if a.Key != "" {
			add("attr:"+a.Key, a.Value)
		}
	}
	return m
}

// searchAvg searches with avgdl as the average document length of the
// weights (0: the true average).
func (ri *refIndex) searchAvg(q Query, avgdl float32) Result {
	res := Result{Items: []*Doc{}, Facets: map[string]map[string]int{}}
	terms := parseQuery(q.Q, nil)
	priceSort := q.Sort == SortPriceAsc || q.Sort == SortPriceDesc
	priceActive := q.Currency != "" && (q.MinPrice != nil || q.MaxPrice != nil || priceSort)
	// filters: dimension → accepted values
	filters := map[string][]string{}
	if q.Kind != "" {
		filters["kind"] = []string{q.Kind}
	}
	if q.Category != "" {
		filters["category"] = []string{q.Category}
	}
	if q.Store != "" {
		filters["store"] = []string{q.Store}
	}
	if q.Tier != "" {
		filters["tier"] = []string{q.Tier}
	}
	for k, vs := range q.Attrs {
		if len(vs) > 0 {
			filters["attr:"+k] = vs
		}
	}
	baseOK := func(rd *refDoc) bool {
		for _, t := range terms {
			if !rd.matchesTerm(t) {
				return false
			}
		}
		if q.InStock && !rd.d.InStock {
			return false
		}
		if priceActive {
			p, ok := rd.d.MinPrice[q.Currency]
			if !ok {
				return false
			}
			if q.MinPrice != nil && p < *q.MinPrice || q.MaxPrice != nil && p > *q.MaxPrice {
				return false
			}
		}
		return true
	}
	passes := func(dv map[string][]string, except string) bool {
		for dim, want := range filters {
			if dim == except {
				continue
			}
			ok := false
			for _, v := range dv[dim] {
				if slices.Contains(want, v) {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	var matches []*refDoc
	counts := map[string]map[string]int{}
	for _, rd := range ri.docs {
		if !baseOK(rd) {
			continue
		}
		dv := dimsOf(rd.d)
		if passes(dv, "") {
			matches = append(matches, rd)
		}
		for dim, vals := range dv {
			if !passes(dv, dim) {
				continue
			}
			if counts[dim] == nil {
				counts[dim] = map[string]int{}
			}
			for _, v := range vals {
				counts[dim][v]++
			}
		}
	}
	for dim, m := range counts {
		if len(m) > maxFacetValues {
			type vc struct {
				v string
				c int
			}
			var l []vc
			for v, c := range m {
				l = append(l, vc{v, c})
			}
			slices.SortFunc(l, func(a, b vc) int {
				if a.c != b.c {
					return b.c - a.c
				}
				return strings.Compare(a.v, b.v)
			})
			m = map[string]int{}
			for _, x := range l[:maxFacetValues] {
				m[x.v] = x.c
			}
		}
		res.Facets[dim] = m
	}
	res.Total = len(matches)

	newest := func(a, b *refDoc) int {
		if c := cmp.Compare(b.d.CreatedAt, a.d.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.d.ID, b.d.ID)
	}
	var less func(a, b *refDoc) int
	switch {
	case len(terms) > 0 && (q.Sort == SortRelevance || !knownSort(q.Sort)):
		n := float64(len(ri.docs))
		var sum float64
		for _, rd := range ri.docs {
			sum += float64(rd.dl)
		}
		if avgdl == 0 {
			avgdl = float32(sum / n)
		}
		score := map[*refDoc]float32{}
		seen := map[string]bool{}
		for _, t := range terms {
			if seen[t.term] {
				continue
			}
			seen[t.term] = true
			df := 0
			for _, rd := range ri.docs {
				if _, ok := rd.terms[t.term]; ok {
					df++
				}
			}
			if df == 0 {
				continue
			}
			idf := float32(math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5)))
			for _, rd := range matches {
				if tf, ok := rd.terms[t.term]; ok {
					score[rd] += idf * bm25w(tf, rd.dl, avgdl)
				}
			}
		}
		less = func(a, b *refDoc) int {
			if score[a] != score[b] {
				return cmp.Compare(score[b], score[a])
			}
			return newest(a, b)
		}
	case priceActive && priceSort:
		sign := 1
		if q.Sort == SortPriceDesc {
			sign = -1
		}
		less = func(a, b *refDoc) int {
			if c := cmp.Compare(a.d.MinPrice[q.Currency], b.d.MinPrice[q.Currency]); c != 0 {
				return sign * c
			}
			return cmp.Compare(a.d.ID, b.d.ID)
		}
	case q.Sort == SortBestSelling:
		less = func(a, b *refDoc) int {
			if c := cmp.Compare(b.d.Sales, a.d.Sales); c != 0 {
				return c
			}
			return cmp.Compare(a.d.ID, b.d.ID)
		}
	default:
		less = newest
	}
	slices.SortFunc(matches, less)
	page, per := normPage(&q)
	for i := (page - 1) * per; i < min(page*per, len(matches)); i++ {
		res.Items = append(res.Items, matches[i].d)
	}
	return res
}
