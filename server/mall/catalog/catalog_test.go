package catalog

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func ids(docs []*Doc) []int64 {
	out := []int64{}
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out
}

func searchIDs(ix Index, q Query) []int64 { return ids(ix.Search(q).Items) }

func TestFold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Café", "cafe"},
		{"CRÈME Brûlée", "creme brulee"},
		{"naïve", "naive"},
		{"Straße", "strasse"},
		{"İstanbul", "istanbul"},
		{"plain", "plain"},
		{"ÅNGSTRÖM", "angstrom"},
		{"項目", "項目"},
	} {
		if got := fold(tc.in); got != tc.want {
			t.Errorf("fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []qterm
	}{
		{"", nil},
		{"running shoes", []qterm{{term: "run"}, {term: "shoe", prefix: "shoes"}}},
		{"Run Shoe", []qterm{{term: "run"}, {term: "shoe", prefix: "shoe"}}},
		{"Café", []qterm{{term: "cafe", prefix: "cafe"}}},
		{"shoes for the road", []qterm{{term: "shoe"}, {term: "road", prefix: "road"}}},
		{"the", []qterm{{term: "the", prefix: "the"}}},
		{"项目管理", []qterm{{term: "项目"}, {term: "目管"}, {term: "管理"}}},
		{"管", []qterm{{term: "管"}}},
		{"men's 3.5 e-mail", []qterm{{term: "men"}, {term: "3.5"}, {term: "e"}, {term: "mail", prefix: "mail"}}},
		{`"quoted" AND -not OR (x)`, []qterm{{term: "quot"}, {term: "x", prefix: "x"}}},
		{"🙂🙂 !!!", nil},
		{"shoe shoe shoe", []qterm{{term: "shoe"}, {term: "shoe", prefix: "shoe"}}},
	} {
		got := parseQuery(tc.in, nil)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseQuery(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// The ASCII fast path of the segmenter must agree with UAX #29 segmentation.
func TestSegmentASCIIMatchesUniseg(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	alphabet := "abcXYZ019 .,'_:-\"!?\t"
	for range 20000 {
		b := make([]byte, r.Intn(16))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		s := fold(string(b))
		var fast, slow []token
		(&segmenter{}).segment(s, func(t token) bool { fast = append(fast, t); return true })
		(&segmenter{forceUniseg: true}).segment(s, func(t token) bool { slow = append(slow, t); return true })
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("segment(%q): fast %v, uniseg %v", s, fast, slow)
		}
	}
}

func textDocs() []*Doc {
	return []*Doc{
		{ID: 1, Store: "a", Kind: "goods", Category: "shoes", Name: "Run Shoe", Summary: "A light trail shoe", CreatedAt: 1},
		{ID: 2, Store: "a", Kind: "goods", Category: "shoes", Name: "Leather Boots", Summary: "For walking", CreatedAt: 2},
		{ID: 3, Store: "b", Kind: "saas", Category: "software", Name: "项目管理软件", Summary: "团队协作", CreatedAt: 3},
		{ID: 4, Store: "b", Kind: "goods", Category: "kitchen", Name: "Café Crème machine", Summary: "Espresso", CreatedAt: 4},
		{ID: 5, Store: "c", Kind: "goods", Category: "audio", Name: "Wireless Speaker", Summary: "Runs 20 hours",
			Attributes: []Attr{{Key: "Color", Value: "Navy Blue"}}, CreatedAt: 5},
		{ID: 6, Store: "c", Kind: "saas", Category: "software", Name: "管理后台", CreatedAt: 6},
		{ID: 7, Store: "c", Kind: "goods", Category: "shoes", Name: "Running shoes for runners", CreatedAt: 7},
		{ID: 8, Store: "c", Kind: "saas", Category: "software", Name: "云", Summary: "单字", CreatedAt: 8},
	}
}

func TestSearchText(t *testing.T) {
	ix := NewMemory()
	ix.Replace(textDocs())
	for _, tc := range []struct {
		name string
		q    string
		want []int64 // newest first (Sort: newest)
	}{
		{"stemming", "running shoes", []int64{7, 1}},
		{"stemming reverse", "run shoe", []int64{7, 1}},
		{"inflection in summary", "run", []int64{7, 5, 1}},
		{"prefix on last word", "runn", []int64{7}},
		{"prefix type-ahead", "wire", []int64{5}},
		{"prefix only on last word", "runn shoe", nil},
		{"AND semantics", "leather shoe", nil},
		{"AND across fields", "trail shoe", []int64{1}},
		{"diacritics folded in doc", "cafe creme", []int64{4}},
		{"diacritics folded in query", "CAFÉ", []int64{4}},
		{"case", "LEATHER", []int64{2}},
		{"chinese bigram prefix part", "项目", []int64{3}},
		{"chinese bigram suffix part", "管理", []int64{6, 3}},
		{"chinese whole", "项目管理", []int64{3}},
		{"chinese single char", "管", []int64{6, 3}},
		{"chinese single-char doc", "云", []int64{8}},
		{"chinese not adjacent", "项管", nil},
		{"attribute key", "color", []int64{5}},
		{"attribute value", "navy", []int64{5}},
		{"stop words dropped", "shoes for the trail", []int64{1}},
		{"unknown word", "xylophone", nil},
		{"punctuation only matches all", "?!", []int64{8, 7, 6, 5, 4, 3, 2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := searchIDs(ix, Query{Q: tc.q, Sort: SortNewest})
			if tc.want == nil {
				tc.want = []int64{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Search(%q) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
	// Relevance: the name match outranks the summary match.
	if got := searchIDs(ix, Query{Q: "shoe"}); got[0] != 7 && got[0] != 1 {
		t.Errorf("relevance order %v", got)
	}
	if got := searchIDs(ix, Query{Q: "runs"}); !reflect.DeepEqual(got, []int64{7, 1, 5}) {
		t.Errorf("relevance for runs = %v, want name matches first [7 1 5]", got)
	}
}

func filterDocs() []*Doc {
	mk := func(id int64, store, kind, cat string, tiers []string, attrs []Attr, prices map[string]int64, stock bool, created, sales int64) *Doc {
		return &Doc{ID: id, Store: store, Kind: kind, Category: cat, Name: "item", Tiers: tiers, Attributes: attrs,
			MinPrice: prices, InStock: stock, CreatedAt: created, Sales: sales}
	}
	red, blue, green := Attr{"color", "red"}, Attr{"color", "blue"}, Attr{"color", "green"}
	s, l := Attr{"size", "s"}, Attr{"size", "l"}
	return []*Doc{
		mk(1, "a", "goods", "shoes", nil, []Attr{red, s}, map[string]int64{"USD": 1000, "EUR": 900}, true, 10, 5),
		mk(2, "a", "goods", "shoes", nil, []Attr{blue, l}, map[string]int64{"USD": 2000}, false, 20, 5),
		mk(3, "b", "goods", "apparel", nil, []Attr{red, l}, map[string]int64{"USD": 1500, "EUR": 1400}, true, 20, 9),
		mk(4, "b", "saas", "crm", []string{"basic", "pro"}, nil, map[string]int64{"USD": 500}, true, 30, 1),
		mk(5, "c", "saas", "crm", []string{"pro", "enterprise"}, []Attr{green}, map[string]int64{"EUR": 700}, true, 30, 9),
		mk(6, "c", "goods", "apparel", nil, []Attr{green, red, s}, map[string]int64{"USD": 1000}, true, 5, 0),
	}
}

func TestFilters(t *testing.T) {
	ix := NewMemory()
	ix.Replace(filterDocs())
	for _, tc := range []struct {
		name string
		q    Query
		want []int64 // newest order: created desc, then id
	}{
		{"none", Query{}, []int64{4, 5, 2, 3, 1, 6}},
		{"kind", Query{Kind: "saas"}, []int64{4, 5}},
		{"category", Query{Category: "apparel"}, []int64{3, 6}},
		{"store", Query{Store: "a"}, []int64{2, 1}},
		{"unknown store", Query{Store: "zzz"}, nil},
		{"tier", Query{Tier: "pro"}, []int64{4, 5}},
		{"tier enterprise", Query{Tier: "enterprise"}, []int64{5}},
		{"in stock", Query{InStock: true}, []int64{4, 5, 3, 1, 6}},
		{"attr one value", Query{Attrs: map[string][]string{"color": {"red"}}}, []int64{3, 1, 6}},
		{"attr OR within key", Query{Attrs: map[string][]string{"color": {"blue", "green"}}}, []int64{5, 2, 6}},
		{"attr AND across keys", Query{Attrs: map[string][]string{"color": {"red"}, "size": {"l"}}}, []int64{3}},
		{"attr empty list ignored", Query{Attrs: map[string][]string{"color": {}}}, []int64{4, 5, 2, 3, 1, 6}},
		{"attr unknown key", Query{Attrs: map[string][]string{"nope": {"x"}}}, nil},
		{"attr unknown value", Query{Attrs: map[string][]string{"color": {"pink"}}}, nil},
		{"price range USD", Query{Currency: "USD", MinPrice: ptr(1000), MaxPrice: ptr(1500)}, []int64{3, 1, 6}},
		{"price min only EUR", Query{Currency: "EUR", MinPrice: ptr(800)}, []int64{3, 1}},
		{"price max only", Query{Currency: "USD", MaxPrice: ptr(999)}, []int64{4}},
		{"price inverted range", Query{Currency: "USD", MinPrice: ptr(2000), MaxPrice: ptr(1000)}, nil},
		{"price unknown currency", Query{Currency: "GBP", MinPrice: ptr(0)}, nil},
		{"price without currency ignored", Query{MinPrice: ptr(1_000_000)}, []int64{4, 5, 2, 3, 1, 6}},
		{"currency alone does not filter", Query{Currency: "EUR"}, []int64{4, 5, 2, 3, 1, 6}},
		{"combined", Query{Kind: "goods", InStock: true, Attrs: map[string][]string{"color": {"red"}}, Currency: "USD", MaxPrice: ptr(1200)}, []int64{1, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Sort = SortNewest
			got := searchIDs(ix, tc.q)
			if tc.want == nil {
				tc.want = []int64{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if n := ix.Search(tc.q).Total; n != len(tc.want) {
				t.Errorf("Total %d, want %d", n, len(tc.want))
			}
		})
	}
}

func TestSorts(t *testing.T) {
	ix := NewMemory()
	ix.Replace(filterDocs())
	for _, tc := range []struct {
		name string
		q    Query
		want []int64
	}{
		{"newest with ties by id", Query{Sort: SortNewest}, []int64{4, 5, 2, 3, 1, 6}},
		{"relevance without Q is newest", Query{Sort: SortRelevance}, []int64{4, 5, 2, 3, 1, 6}},
		{"empty sort is relevance", Query{}, []int64{4, 5, 2, 3, 1, 6}},
		{"unknown sort", Query{Sort: "random()"}, []int64{4, 5, 2, 3, 1, 6}},
		{"best selling with ties by id", Query{Sort: SortBestSelling}, []int64{3, 5, 1, 2, 4, 6}},
		{"price asc USD excludes EUR-only, ties by id", Query{Sort: SortPriceAsc, Currency: "USD"}, []int64{4, 1, 6, 3, 2}},
		{"price desc USD, ties by id", Query{Sort: SortPriceDesc, Currency: "USD"}, []int64{2, 3, 1, 6, 4}},
		{"price asc EUR", Query{Sort: SortPriceAsc, Currency: "EUR"}, []int64{5, 1, 3}},
		{"price sort without currency is newest", Query{Sort: SortPriceAsc}, []int64{4, 5, 2, 3, 1, 6}},
		{"price desc with filter", Query{Sort: SortPriceDesc, Currency: "USD", Kind: "goods", MinPrice: ptr(1000)}, []int64{2, 3, 1, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := searchIDs(ix, tc.q); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPagination(t *testing.T) {
	var docs []*Doc
	for i := 1; i <= 250; i++ {
		docs = append(docs, &Doc{ID: int64(i), Name: "thing", CreatedAt: int64(i)})
	}
	ix := NewMemory()
	ix.Replace(docs)
	newest := func(from, n int) []int64 { // ids from..from-n+1
		out := []int64{}
		for i := 0; i < n && from-i >= 1; i++ {
			out = append(out, int64(from-i))
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		page, per  int
		want       []int64
		wantLength int
	}{
		{"defaults", 0, 0, newest(250, 24), 24},
		{"page 2", 2, 10, newest(240, 10), 10},
		{"negative page", -5, 10, newest(250, 10), 10},
		{"per page capped", 1, 1000, newest(250, 100), 100},
		{"negative per page", 1, -1, newest(250, 24), 24},
		{"last partial page", 3, 100, newest(50, 50), 50},
		{"past the end", 4, 100, []int64{}, 0},
		{"huge page", 1 << 40, 24, []int64{}, 0},
		{"max int page", int(^uint(0) >> 1), 100, []int64{}, 0},
		{"one per page", 250, 1, []int64{1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, q := range []Query{{Sort: SortNewest}, {Q: "thing", Sort: SortRelevance}} {
				q.Page, q.PerPage = tc.page, tc.per
				res := ix.Search(q)
				if res.Total != 250 {
					t.Errorf("Total = %d", res.Total)
				}
				if got := ids(res.Items); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%+v: got %v, want %v", q, got, tc.want)
				}
			}
		})
	}
}

func TestFacetsDisjunctive(t *testing.T) {
	ix := NewMemory()
	ix.Replace(filterDocs())
	res := ix.Search(Query{Kind: "goods", Attrs: map[string][]string{"color": {"red"}}})
	want := map[string]map[string]int{
		// kind counted without the kind filter (color=red applies)
		"kind": {"goods": 3},
		// color counted without the color filter (kind=goods applies)
		"attr:color": {"red": 3, "blue": 1, "green": 1},
		// the rest over the matches (ids 1, 3, 6)
		"category":  {"shoes": 1, "apparel": 2},
		"store":     {"a": 1, "b": 1, "c": 1},
		"attr:size": {"s": 2, "l": 1},
	}
	if !reflect.DeepEqual(res.Facets, want) {
		t.Errorf("facets = %v\nwant %v", res.Facets, want)
	}
	if res.Total != 3 {
		t.Errorf("Total %d", res.Total)
	}
}

func TestFacetValueLimit(t *testing.T) {
	var docs []*Doc
	for i := 1; i <= 200; i++ {
		docs = append(docs, &Doc{ID: int64(i), Name: "x", Attributes: []Attr{{"sku", fmt.Sprintf("v%03d", i%80)}}})
	}
	ix := NewMemory()
	ix.Replace(docs)
	f := ix.Search(Query{}).Facets["attr:sku"]
	if len(f) != maxFacetValues {
		t.Fatalf("got %d values", len(f))
	}
	// 200 docs over 80 values: v000..v039 have 3, the rest 2; the 50 kept
	// are the 40 threes and the first 10 twos by value.
	for i := range 50 {
		v := fmt.Sprintf("v%03d", i)
		if f[v] == 0 {
			t.Errorf("missing %s", v)
		}
	}
}

// The key test: random catalogs and queries against the brute-force model,
// after a Replace and after random upserts and removes.
func TestSearchMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	const stores = 20
	docs := genDocs(r, 1500, stores)
	ix := NewMemory()
	ix.Replace(docs)
	uncached := &Memory{noFacetCache: true}
	uncached.snap.Store(ix.snap.Load())
	check := func(round string, docs []*Doc, n int) {
		ref := newRef(docs)
		uncached.snap.Store(ix.snap.Load())
		if ix.Len() != len(docs) {
			t.Fatalf("%s: Len %d, want %d", round, ix.Len(), len(docs))
		}
		// Relevance uses an average length that may lag the truth by 10 %.
		avgdl := ix.snap.Load().avgdl
		if len(docs) > 0 {
			var sum float64
			for _, d := range ref.docs {
				sum += float64(d.dl)
			}
			if real := float32(sum / float64(len(docs))); avgdl < real*0.89 || avgdl > real*1.11 {
				t.Fatalf("%s: avgdl %v, true average %v", round, avgdl, real)
			}
		}
		for i := range n {
			q := genQuery(r, stores)
			// The same filters again with another sort and page hit the
			// facet cache; without the cache every query is counted.
			q2 := q
			q2.Sort = []string{SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest, SortBestSelling}[r.Intn(5)]
			q2.Page = 1 + r.Intn(3)
			for j, q := range []Query{q, q2, q} {
				got, want := ix.Search(q), ref.searchAvg(q, avgdl)
				if j == 2 {
					got = uncached.Search(q)
				}
				if got.Total != want.Total || !reflect.DeepEqual(ids(got.Items), ids(want.Items)) || !reflect.DeepEqual(got.Facets, want.Facets) {
					t.Fatalf("%s query %d.%d %+v:\ngot  total %d items %v\n     facets %v\nwant total %d items %v\n     facets %v",
						round, i, j, q, got.Total, ids(got.Items), got.Facets, want.Total, ids(want.Items), want.Facets)
				}
				if js, _ := json.Marshal(want.Facets); string(got.AppendFacetsJSON(nil)) != string(js) {
					t.Fatalf("%s query %d.%d: facets JSON %s, want %s", round, i, j, got.AppendFacetsJSON(nil), js)
				}
			}
		}
	}
	scale := 1
	if testing.Short() {
		scale = 4
	}
	check("replace", docs, 1500/scale)
	nextID := int64(len(docs) + 1)
	for round := range 12 {
		// Random batch: updates of existing docs, new docs, removals.
		var up []*Doc
		for range r.Intn(40) {
			if r.Intn(2) == 0 && len(docs) > 0 {
				old := docs[r.Intn(len(docs))]
				d := genDoc(r, old.ID, stores)
				if r.Intn(3) == 0 { // same text, other facets
					d.Name, d.Summary, d.Attributes = old.Name, old.Summary, old.Attributes
				}
				up = append(up, d)
			} else {
				up = append(up, genDoc(r, nextID, stores))
				nextID++
			}
		}
		ix.Upsert(up...)
		byID := map[int64]*Doc{}
		for _, d := range docs {
			byID[d.ID] = d
		}
		for _, d := range up {
			byID[d.ID] = d
		}
		var rm []int64
		for range r.Intn(60) {
			id := int64(1 + r.Intn(int(nextID)))
			rm = append(rm, id)
			delete(byID, id)
		}
		ix.Remove(rm...)
		docs = docs[:0]
		for _, d := range byID {
			docs = append(docs, d)
		}
		slices.SortFunc(docs, func(a, b *Doc) int { return int(a.ID - b.ID) })
		check(fmt.Sprintf("round %d", round), docs, 150/scale)
	}
	// Growth past the flat bitset size, then shrink to nothing.
	var more []*Doc
	for range 3000 {
		more = append(more, genDoc(r, nextID, stores))
		nextID++
	}
	ix.Upsert(more...)
	docs = append(docs, more...)
	check("grown", docs, 300)
	var all []int64
	for _, d := range docs {
		all = append(all, d.ID)
	}
	ix.Remove(all[:len(all)/2]...)
	check("half removed", docs[len(all)/2:], 200)
	ix.Remove(all...)
	check("empty", nil, 20)
}

func TestUpsertRemoveVisibility(t *testing.T) {
	ix := NewMemory()
	ix.Replace(textDocs())
	if _, ok := ix.Get(99); ok {
		t.Fatal("Get(99) before upsert")
	}
	d := &Doc{ID: 99, Store: "z", Kind: "goods", Category: "toys", Name: "Puzzle cube", CreatedAt: 100, MinPrice: map[string]int64{"USD": 5}}
	ix.Upsert(d)
	if got, ok := ix.Get(99); !ok || got != d {
		t.Fatal("Get(99) after upsert")
	}
	if got := searchIDs(ix, Query{Q: "puzzle"}); !reflect.DeepEqual(got, []int64{99}) {
		t.Fatalf("search after upsert: %v", got)
	}
	if f := ix.Search(Query{}).Facets["store"]["z"]; f != 1 {
		t.Fatalf("store facet z = %d", f)
	}
	// Change text, store and price.
	d2 := &Doc{ID: 99, Store: "y", Kind: "goods", Category: "toys", Name: "Kite", CreatedAt: 100, MinPrice: map[string]int64{"USD": 50}}
	ix.Upsert(d2)
	for _, tc := range []struct {
		q    Query
		want []int64
	}{
		{Query{Q: "puzzle"}, []int64{}},
		{Query{Q: "kite"}, []int64{99}},
		{Query{Store: "z"}, []int64{}},
		{Query{Store: "y"}, []int64{99}},
		{Query{Currency: "USD", MaxPrice: ptr(10)}, []int64{}},
		{Query{Currency: "USD", MinPrice: ptr(50)}, []int64{99}},
	} {
		if got := searchIDs(ix, tc.q); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.q, got, tc.want)
		}
	}
	if _, ok := ix.Search(Query{}).Facets["store"]["z"]; ok {
		t.Error("facet of the old store left")
	}
	n := ix.Len()
	ix.Remove(99, 12345)
	if _, ok := ix.Get(99); ok || ix.Len() != n-1 {
		t.Fatal("Get(99) after remove")
	}
	if got := searchIDs(ix, Query{Q: "kite"}); len(got) != 0 {
		t.Fatalf("search after remove: %v", got)
	}
	ix.Upsert()
	ix.Remove()
	ix.Upsert(nil)
	ix.Replace(nil)
	if ix.Len() != 0 || ix.Search(Query{Q: "shoe"}).Total != 0 {
		t.Fatal("Replace(nil) left documents")
	}
}

func TestHostileInput(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ix := NewMemory()
	ix.Replace(genDocs(r, 2000, 20))
	long := strings.Repeat("shoe ", 2048) // 10 KB
	rnd := make([]byte, 10<<10)
	r.Read(rnd)
	queries := []string{
		long,
		strings.Repeat("a", 10<<10),
		strings.Repeat("项", 10<<10),
		strings.Repeat("🙂", 3000),
		string(rnd),
		`"" '' \ \\ %s %d %% ' OR 1=1 -- ; DROP TABLE products`,
		"*", "?", "a*", "(", ")", "AND", "NOT", "\x00\x01\x02", "\xff\xfe", "e\u0301\u0301\u0301",
		"\u202e\u200d\u200b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", strings.Repeat("é", 5000),
	}
	for _, q := range queries {
		start := time.Now()
		res := ix.Search(Query{Q: q, Attrs: map[string][]string{"color": {q}}, Store: q, Sort: q, Page: -1, PerPage: -1})
		if el := time.Since(start); el > 250*time.Millisecond {
			t.Errorf("query of %d bytes took %v", len(q), el)
		}
		_ = res
	}
	// Hostile attribute maps are bounded too.
	attrs := map[string][]string{}
	for i := range 1000 {
		attrs[fmt.Sprint("k", i)] = slices.Repeat([]string{"v"}, 1000)
	}
	start := time.Now()
	ix.Search(Query{Attrs: attrs})
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Errorf("huge attrs took %v", el)
	}
	// And hostile documents index.
	ix.Upsert(&Doc{ID: -1, Name: string(rnd), Summary: long, Attributes: []Attr{{Key: "", Value: "x"}, {Key: string(rnd[:100]), Value: ""}}})
	if _, ok := ix.Get(-1); !ok {
		t.Fatal("hostile doc not indexed")
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	docs := genDocs(r, 2000, 20)
	ix := NewMemory()
	ix.Replace(docs)
	queries := make([]Query, 200)
	for i := range queries {
		queries[i] = genQuery(r, 20)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res := ix.Search(queries[i%len(queries)])
				if len(res.Items) > res.Total {
					t.Error("more items than total")
					return
				}
				ix.Get(int64(i % 2500))
			}
		}()
	}
	wr := rand.New(rand.NewSource(4))
	for i := range 60 {
		switch i % 3 {
		case 0:
			ix.Upsert(genDoc(wr, int64(1+wr.Intn(2500)), 20), genDoc(wr, int64(1+wr.Intn(2500)), 20))
		case 1:
			ix.Remove(int64(1 + wr.Intn(2500)))
		case 2:
			if i%15 == 2 {
				ix.Replace(genDocs(wr, 1500+wr.Intn(500), 20))
			}
		}
	}
	close(stop)
	wg.Wait()
	// After the writes settle, the index agrees with the model.
	var final []*Doc
	for id := int64(-1); id < 2600; id++ {
		if d, ok := ix.Get(id); ok {
			final = append(final, d)
		}
	}
	ref := newRef(final)
	for range 100 {
		q := genQuery(r, 20)
		got, want := ix.Search(q), ref.searchAvg(q, ix.snap.Load().avgdl)
		if got.Total != want.Total || !reflect.DeepEqual(ids(got.Items), ids(want.Items)) || !reflect.DeepEqual(got.Facets, want.Facets) {
			t.Fatalf("after concurrent writes %+v: got %d %v, want %d %v", q, got.Total, ids(got.Items), want.Total, ids(want.Items))
		}
	}
}

func TestAppendFacetsJSON(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	strs := []string{"", "plain", `quo"te`, `back\slash`, "<script>&", "\n\t\r\b\f\x00\x1f", "\u2028\u2029", "\xff\xfe", "é项🙂", "attr:color"}
	for range 500 {
		f := map[string]map[string]int{}
		for range r.Intn(5) {
			m := map[string]int{}
			for range r.Intn(6) {
				m[strs[r.Intn(len(strs))]+strs[r.Intn(len(strs))]] = r.Intn(1000)
			}
			f[strs[r.Intn(len(strs))]] = m
		}
		if r.Intn(10) == 0 {
			f["nil"] = nil
		}
		want, _ := json.Marshal(f)
		res := Result{Facets: f}
		if got := res.AppendFacetsJSON([]byte("x")); string(got) != "x"+string(want) {
			t.Fatalf("AppendFacetsJSON = %s\nwant %s", got, want)
		}
	}
	// From the index, cached and not.
	ix := NewMemory()
	docs := genDocs(r, 300, 5)
	for i, v := range strs {
		docs[i].Attributes = append(docs[i].Attributes, Attr{Key: v + "k", Value: v + "v"})
		docs[i].Store = v
	}
	ix.Replace(docs)
	for range 3 {
		res := ix.Search(Query{Kind: "goods"})
		want, _ := json.Marshal(res.Facets)
		if got := res.AppendFacetsJSON(nil); string(got) != string(want) {
			t.Fatalf("AppendFacetsJSON = %s\nwant %s", got, want)
		}
	}
	// A caller that swaps the map gets its own map encoded.
	res := ix.Search(Query{Kind: "goods"})
	res.Facets = map[string]map[string]int{"x": {"y": 1}}
	if got := string(res.AppendFacetsJSON(nil)); got != `{"x":{"y":1}}` {
		t.Fatalf("swapped facets encoded as %s", got)
	}
}

// TestSearchPageCachedPerSnapshot: a page rendered for a key is served
// again for that key until the content changes; a change renders afresh.
func TestSearchPageCachedPerSnapshot(t *testing.T) {
	ix := NewMemory()
	docs := textDocs()
	ix.Replace(docs)
	renders := 0
	render := func(r Result) []byte {
		renders++
		return []byte(fmt.Sprint(r.Total))
	}
	q := Query{Q: "shoe", Sort: SortNewest}
	first := ix.SearchPage([]byte("q=shoe"), q, render)
	again := ix.SearchPage([]byte("q=shoe"), q, render)
	if renders != 1 || string(first) != string(again) {
		t.Fatalf("same key, same snapshot: %d renders (%s, %s)", renders, first, again)
	}
	ix.SearchPage([]byte("q=shoe&page=2"), q, render)
	if renders != 2 {
		t.Fatalf("another key was answered from the cache")
	}
	ix.Remove(docs[0].ID) // product 1 ("trail running shoes") leaves
	after := ix.SearchPage([]byte("q=shoe"), q, render)
	if renders != 3 || string(after) == string(first) {
		t.Fatalf("after a change: %d renders, %s then %s", renders, first, after)
	}
}
