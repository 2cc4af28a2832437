package catalog

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
)

const (
	benchDocs   = 10000
	benchStores = 20
)

var (
	benchOnce sync.Once
	benchSet  []*Doc
)

func benchCorpus() []*Doc {
	benchOnce.Do(func() {
		r := rand.New(rand.NewSource(99))
		benchSet = genDocs(r, benchDocs, benchStores)
		for _, d := range benchSet {
			d.Detail = make([]byte, 2048) // the size a product page's JSON has
		}
	})
	return benchSet
}

func benchIndex(b *testing.B) *Memory {
	ix := NewMemory()
	ix.Replace(benchCorpus())
	return ix
}

// benchQueries are shopper-like: text, filters, sorts and pages vary.
func benchQueries(shape string) []Query {
	r := rand.New(rand.NewSource(5))
	qs := make([]Query, 4096)
	for i := range qs {
		q := genQuery(r, benchStores)
		q.Page = 1 + r.Intn(3)
		q.PerPage = 24
		switch shape {
		case "browse": // category pages, no text
			q = Query{Category: genCategories[r.Intn(len(genCategories))], Sort: q.Sort, Page: q.Page, PerPage: 24}
		case "text": // a search box, nothing else
			q = Query{Q: q.Q, Page: q.Page, PerPage: 24}
			if q.Q == "" {
				q.Q = genWords[r.Intn(len(genWords))]
			}
		case "all": // the home page: everything, newest
			q = Query{Page: q.Page, PerPage: 24}
		case "shopper": // the mix of a load test: mostly text, some filters, price ranges
			q = shopperQuery(r)
		}
		qs[i] = q
	}
	return qs
}

// BenchmarkSearch cycles through 4096 queries of each shape; "nocache"
// counts the facets every time (the facet cache is per snapshot, so after
// each write batch the first queries run like that).
func BenchmarkSearch(b *testing.B) {
	ix := benchIndex(b)
	nc := &Memory{noFacetCache: true}
	nc.snap.Store(ix.snap.Load())
	for _, shape := range []string{"shopper", "mixed", "browse", "text", "all"} {
		qs := benchQueries(shape)
		for _, m := range []*Memory{ix, nc} {
			name := shape
			if m.noFacetCache {
				name += "/nocache"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					m.Search(qs[i%len(qs)])
					i++
				}
			})
		}
	}
}

// BenchmarkSearchJSON adds what the HTTP handler does with a result: the
// facets as JSON.
func BenchmarkSearchJSON(b *testing.B) {
	ix := benchIndex(b)
	qs := benchQueries("shopper")
	b.ReportAllocs()
	var buf []byte
	i := 0
	for b.Loop() {
		res := ix.Search(qs[i%len(qs)])
		buf = res.AppendFacetsJSON(buf[:0])
		i++
	}
}

func BenchmarkSearchParallel(b *testing.B) {
	ix := benchIndex(b)
	nc := &Memory{noFacetCache: true}
	nc.snap.Store(ix.snap.Load())
	qs := benchQueries("shopper")
	for _, m := range []*Memory{ix, nc} {
		name := "shopper"
		if m.noFacetCache {
			name += "/nocache"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.Intn(len(qs))
				for pb.Next() {
					m.Search(qs[i%len(qs)])
					i++
				}
			})
		})
	}
}

func BenchmarkGet(b *testing.B) {
	ix := benchIndex(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ix.Get(int64(1 + i%benchDocs))
		i++
	}
}

func BenchmarkUpsertOne(b *testing.B) {
	ix := benchIndex(b)
	r := rand.New(rand.NewSource(8))
	docs := make([]*Doc, 256)
	for i := range docs {
		docs[i] = genDoc(r, int64(1+r.Intn(benchDocs)), benchStores)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ix.Upsert(docs[i%len(docs)])
		i++
	}
}

func BenchmarkReplace10k(b *testing.B) {
	docs := benchCorpus()
	b.ReportAllocs()
	for b.Loop() {
		ix := NewMemory() // no analyses to reuse: the cold load
		ix.Replace(docs)
	}
}

// shopperQuery: 70 % text (one word, two words or Chinese), kind 30 %,
// category 20 %, store 15 %, tier 10 %, any sort, a currency 40 % (with a
// random price range 70 % of those), an attribute 10 %, in-stock 5 %,
// pages 1 to 5.
func shopperQuery(r *rand.Rand) Query {
	q := Query{Page: 1 + r.Intn(5), PerPage: 24}
	if r.Intn(10) < 7 {
		q.Q = genWords[r.Intn(len(genWords))]
		switch n := r.Intn(10); {
		case n < 2:
			q.Q = genHan[r.Intn(len(genHan))]
		case n < 5:
			q.Q += " " + genWords[r.Intn(len(genWords))]
		}
	}
	if r.Intn(10) < 3 {
		q.Kind = genKinds[r.Intn(2)]
	}
	if r.Intn(10) < 2 {
		q.Category = genCategories[r.Intn(len(genCategories))]
	}
	if r.Intn(100) < 15 {
		q.Store = fmt.Sprintf("store%02d", r.Intn(benchStores))
	}
	if q.Kind != "goods" && r.Intn(10) == 0 {
		q.Tier = genTiers[r.Intn(len(genTiers))]
	}
	q.Sort = []string{"", SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest, SortBestSelling}[r.Intn(6)]
	if r.Intn(100) < 40 {
		q.Currency = "USD"
		if r.Intn(10) < 7 {
			lo := int64(r.Intn(10000))
			hi := lo + 500 + int64(r.Intn(20000))
			if r.Intn(3) > 0 {
				q.MinPrice = &lo
			}
			q.MaxPrice = &hi
		}
	}
	if r.Intn(10) == 0 {
		q.Attrs = map[string][]string{"color": {genAttrs["color"][r.Intn(8)]}}
	}
	q.InStock = r.Intn(20) == 0
	return q
}
