package catalog

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Search semantics (what the tests check against a brute-force model):
//
//   - Q: every analyzed term must match (AND). A term matches a document
//     that has it as an index term (stem, CJK gram) in its name, summary or
//     attributes; the last word of Q also matches any document with a word
//     that starts with it (type-ahead). Q without any term (empty,
//     punctuation, emoji) does not filter. Q is cut to 1 KiB and 16 terms.
//   - Kind, Category, Store, Tier: exact value; Attrs: for each key with at
//     least one value, the document has that key with one of the values
//     (OR within a key, AND across keys); InStock: in-stock documents only.
//   - Price: only when Currency is set. Then MinPrice/MaxPrice (inclusive)
//     and the price sorts use MinPrice[Currency], and documents without a
//     price in that currency are left out when a bound or a price sort is
//     given. With Currency empty, bounds are ignored and price sorts fall
//     back to newest.
//   - Sort: relevance (BM25 over name ×3, attributes ×1.5, summary ×1, ties
//     by newest) when Q has terms, else newest; price_asc, price_desc,
//     newest (CreatedAt descending), best_selling (Sales descending). Every
//     order breaks ties by ascending ID. Unknown sorts mean relevance.
//   - Page < 1 means 1; PerPage outside 1..100 means 24 (0 or less) or 100.
//   - Facets: for kind, category, store, tier and "attr:<key>", the number
//     of matches per value with every filter applied except that
//     dimension's own (disjunctive faceting). Values with a zero count are
//     left out, as are dimensions without values; a dimension lists at most
//     maxFacetValues values, the largest counts first, ties by value.
//
// Result.Items and Result.Facets must be treated as read-only.

const (
	defaultPerPage = 24
	maxPerPage     = 100
	maxFacetValues = 50
	maxAttrKeys    = 32 // attribute filters beyond this are ignored
	maxAttrValues  = 64 // values per attribute key beyond this are ignored

	bm25K1 = 1.2
	bm25B  = 0.75
)

// Search answers a query.
func (m *Memory) Search(q Query) Result { return m.snap.Load().search(&q, !m.noFacetCache) }

// SearchPage answers q and returns render's encoding of the result; the
// encoding is kept with the snapshot under key (which must determine q), so
// that the same question asked again of the same snapshot is a map lookup.
func (m *Memory) SearchPage(key []byte, q Query, render func(Result) []byte) []byte {
	s := m.snap.Load()
	if m.noFacetCache {
		return render(s.search(&q, false))
	}
	if b := s.pages.get(key); b != nil {
		return b
	}
	b := render(s.search(&q, true))
	s.pages.put(key, b)
	return b
}

type scratch struct {
	bufs   [][]uint64
	used   int
	counts []int32
	active []bool
	scores []float32
	keys   []uint64
	vals   []valCount
	key    []byte
}

type valCount struct {
	ord   uint32
	count int32
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

// buf returns a zeroed flat bitset of w words.
func (sc *scratch) buf(w int) []uint64 {
	if sc.used == len(sc.bufs) {
		sc.bufs = append(sc.bufs, nil)
	}
	b := sc.bufs[sc.used]
	if cap(b) < w {
		b = make([]uint64, w, w+w/4)
		sc.bufs[sc.used] = b
	} else {
		b = b[:w]
		clear(b)
	}
	sc.used++
	return b
}

type filter struct {
	dim int // -1: not a known dimension (matches nothing, has no facet)
	set []uint64
}

func normPage(q *Query) (page, per int) {
	page, per = q.Page, q.PerPage
	if page < 1 {
		page = 1
	}
	switch {
	case per <= 0:
		per = defaultPerPage
	case per > maxPerPage:
		per = maxPerPage
	}
	return page, per
}

func (s *snapshot) stemOf(w string) (string, bool) {
	if we := s.vocab[w]; we != nil {
		return we.stem, true
	}
	return "", false
}

func (s *snapshot) search(q *Query, useCache bool) Result {
	res := Result{Items: []*Doc{}, Facets: map[string]map[string]int{}}
	page, per := normPage(q)
	if s.n == 0 {
		return res
	}
	sc := scratchPool.Get().(*scratch)
	defer func() { sc.used = 0; scratchPool.Put(sc) }()
	w := s.words

	// base = live ∩ text ∩ in-stock ∩ price: the filters that are not
	// facets.
	base := sc.buf(w)
	copy(base, s.live)
	terms := parseQuery(q.Q, s.stemOf)
	tmp := sc.buf(w)
	for _, t := range terms {
		if !s.applyTerm(base, tmp, t, sc) {
			return res
		}
	}
	if q.InStock {
		s.instock.andWith(base, tmp)
	}
	priceSort := q.Sort == SortPriceAsc || q.Sort == SortPriceDesc
	var cur *priceIdx
	if q.Currency != "" && (q.MinPrice != nil || q.MaxPrice != nil || priceSort) {
		cur = s.cur[q.Currency]
		if cur == nil {
			return res
		}
		cur.has.andWith(base, tmp)
		if q.MinPrice != nil || q.MaxPrice != nil {
			lo, hi := 0, len(cur.price)
			if q.MinPrice != nil {
				lo = sort.Search(len(cur.price), func(i int) bool { return cur.price[i] >= *q.MinPrice })
			}
			if q.MaxPrice != nil {
				hi = sort.Search(len(cur.price), func(i int) bool { return cur.price[i] > *q.MaxPrice })
			}
			clear(tmp)
			for _, n := range cur.asc.perm[lo:max(lo, hi)] {
				setBit(tmp, n)
			}
			andInto(base, tmp)
		}
	}

	// Facet filters.
	var fbuf [8]filter
	filters := fbuf[:0]
	one := func(d int, value string) {
		if value == "" {
			return
		}
		set := sc.buf(w)
		if ord, ok := s.valIdx[valKey{d, value}]; ok {
			s.vals[ord].orWith(set)
		}
		filters = append(filters, filter{dim: d, set: set})
	}
	one(dimKind, q.Kind)
	one(dimCategory, q.Category)
	one(dimStore, q.Store)
	one(dimTier, q.Tier)
	if len(q.Attrs) > 0 {
		keys := make([]string, 0, len(q.Attrs))
		for k, vs := range q.Attrs {
			if len(vs) > 0 {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		if len(keys) > maxAttrKeys {
			keys = keys[:maxAttrKeys]
		}
		for _, k := range keys {
			set := sc.buf(w)
			d, ok := s.dimIdx["attr:"+k]
			if !ok {
				d = -1
			}
			vs := q.Attrs[k]
			if len(vs) > maxAttrValues {
				vs = vs[:maxAttrValues]
			}
			if d >= 0 {
				for _, v := range vs {
					if ord, ok := s.valIdx[valKey{d, v}]; ok {
						s.vals[ord].orWith(set)
					}
				}
			}
			filters = append(filters, filter{dim: d, set: set})
		}
	}

	match := sc.buf(w)
	copy(match, base)
	for _, f := range filters {
		andInto(match, f.set)
	}
	var fe *facetEntry
	if useCache {
		sc.key = facetKey(sc.key[:0], q, terms, cur != nil)
		fe = s.facets.get(sc.key)
	}
	if fe != nil {
		res.Total, res.Facets, res.fc = fe.total, fe.facets, fe
	} else {
		res.Total = popcount(match)
		fl := s.countAllFacets(base, match, res.Total, filters, res.Facets, tmp, sc)
		res.fc = &facetEntry{total: res.Total, facets: res.Facets, list: fl}
		if useCache {
			s.facets.put(sc.key, res.fc)
		}
	}
	total := res.Total

	// Page.
	offset := (page - 1) * per
	if page-1 > total/per || offset >= total {
		return res
	}
	k := min(offset+per, total)
	items := make([]*Doc, 0, k-offset)
	switch {
	case len(terms) > 0 && (q.Sort == SortRelevance || !knownSort(q.Sort)):
		items = s.pageByScore(match, total, terms, offset, k, items, sc)
	case priceSort && cur != nil && q.Sort == SortPriceAsc:
		items = s.pageByOrder(match, total, &cur.asc, offset, k, items, sc)
	case priceSort && cur != nil:
		items = s.pageByOrder(match, total, &cur.desc, offset, k, items, sc)
	case q.Sort == SortBestSelling:
		items = s.pageByOrder(match, total, &s.best, offset, k, items, sc)
	default:
		items = s.pageByOrder(match, total, &s.newest, offset, k, items, sc)
	}
	res.Items = items
	return res
}

// countAllFacets fills out with the facet counts: one group per filtered
// dimension (counted over base and the other filters), one for the rest
// (counted over the matches).
func (s *snapshot) countAllFacets(base, match []uint64, total int, filters []filter, out map[string]map[string]int, tmp []uint64, sc *scratch) *facetList {
	if len(sc.active) < len(s.dims) {
		sc.active = make([]bool, len(s.dims)+8)
	}
	active := sc.active[:len(s.dims)]
	if len(sc.counts) < len(s.vals) {
		sc.counts = make([]int32, len(s.vals)+64)
	}
	counts := sc.counts[:len(s.vals)]
	clear(counts)
	for i, f := range filters {
		if f.dim < 0 {
			continue
		}
		b := tmp
		copy(b, base)
		for j, g := range filters {
			if j != i {
				andInto(b, g.set)
			}
		}
		clear(active)
		active[f.dim] = true
		s.countFacets(b, popcount(b), active, counts, sc)
	}
	for i := range active {
		active[i] = true
	}
	for _, f := range filters {
		if f.dim >= 0 {
			active[f.dim] = false
		}
	}
	s.countFacets(match, total, active, counts, sc)
	for _, f := range filters {
		if f.dim >= 0 {
			active[f.dim] = true
		}
	}
	return s.facetMaps(out, counts, active, sc)
}

func knownSort(s string) bool {
	switch s {
	case SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest, SortBestSelling:
		return true
	}
	return false
}

// applyTerm intersects base with the documents matching t; false when
// nothing can match.
func (s *snapshot) applyTerm(base, tmp []uint64, t qterm, sc *scratch) bool {
	if t.prefix == "" {
		p := s.terms[t.term]
		if p == nil {
			return false
		}
		p.set.andWith(base, tmp)
		return true
	}
	u, ok := s.prefix.get(t.prefix)
	if !ok {
		u = s.prefixSet(t)
		s.prefix.put(t.prefix, u)
	}
	if u == nil {
		return false
	}
	andInto(base, u)
	return true
}

// prefixSet is the flat set of documents with t's term or a word that
// starts with t.prefix (t.term is a function of t.prefix); nil if none.
func (s *snapshot) prefixSet(t qterm) []uint64 {
	p := s.terms[t.term]
	words := s.wordRange(t.prefix)
	if p == nil && len(words) == 0 {
		return nil
	}
	u := make([]uint64, s.words)
	if p != nil {
		p.set.orWith(u)
	}
	for _, wd := range words {
		s.vocab[wd].set.orWith(u)
	}
	return u
}

// countFacets adds to counts the number of documents of b (card c) per
// value of the active dimensions, choosing the cheaper of walking the
// documents (or the complement of b) and intersecting each value's set.
func (s *snapshot) countFacets(b []uint64, c int, active []bool, counts []int32, sc *scratch) {
	if c == 0 {
		return
	}
	perValue := 0
	for d, on := range active {
		if on {
			perValue += s.dims[d].cost
		}
	}
	walk := min(c, s.n-c)
	perDoc := walk * (2 + 2*s.totalOrds/max(1, s.n))
	if perValue <= perDoc {
		for d, on := range active {
			if !on {
				continue
			}
			for _, ord := range s.dims[d].ords {
				if v := s.vals[ord]; v.card > 0 {
					counts[ord] = int32(v.countIn(b))
				}
			}
		}
		return
	}
	complement := c > s.n-c
	valDim := s.valDim
	ords := s.ords
	for i := range b {
		x := b[i]
		if complement {
			x = s.live[i] &^ x
		}
		for x != 0 {
			n := uint32(i<<6 + bits.TrailingZeros64(x))
			x &= x - 1
			for _, ord := range ords[n] {
				if active[valDim[ord]] {
					counts[ord]++
				}
			}
		}
	}
	if complement {
		for d, on := range active {
			if !on {
				continue
			}
			for _, ord := range s.dims[d].ords {
				counts[ord] = int32(s.vals[ord].card) - counts[ord]
			}
		}
	}
}

// facetMaps turns counts into the result's facet maps, and the same
// counts into a list in the order JSON wants.
func (s *snapshot) facetMaps(out map[string]map[string]int, counts []int32, active []bool, sc *scratch) *facetList {
	all := sc.vals[:0]
	var dims [16]facetDim
	fds := dims[:0]
	for _, d := range s.dimsByName {
		if !active[d] {
			continue
		}
		dm := s.dims[d]
		lo := len(all)
		for _, ord := range dm.byValue {
			if c := counts[ord]; c > 0 {
				all = append(all, valCount{ord, c})
			}
		}
		vc := all[lo:]
		if len(vc) == 0 {
			continue
		}
		if len(vc) > maxFacetValues {
			slices.SortStableFunc(vc, func(a, b valCount) int { return cmp.Compare(b.count, a.count) })
			vc = vc[:maxFacetValues]
			slices.SortFunc(vc, func(a, b valCount) int { return strings.Compare(s.vals[a.ord].value, s.vals[b.ord].value) })
			all = all[:lo+maxFacetValues]
		}
		m := make(map[string]int, len(vc))
		for _, x := range vc {
			m[s.vals[x.ord].value] = int(x.count)
		}
		out[dm.name] = m
		fds = append(fds, facetDim{dim: d, lo: lo, hi: len(all)})
	}
	sc.vals = all
	return &facetList{s: s, dims: slices.Clone(fds), vals: slices.Clone(all)}
}

// pageByOrder picks matches offset..k-1 in a precomputed order, walking the
// order when matches are dense in it and sorting the matches otherwise.
func (s *snapshot) pageByOrder(match []uint64, total int, o *order, offset, k int, items []*Doc, sc *scratch) []*Doc {
	walkCost := k * len(o.perm) / max(1, total)
	sortCost := total*(bits.Len(uint(total))+1) + len(match)
	if walkCost <= sortCost {
		seen := 0
		for _, n := range o.perm {
			if !hasBit(match, n) {
				continue
			}
			if seen >= offset {
				items = append(items, s.entries[n].doc)
			}
			seen++
			if seen == k {
				break
			}
		}
		return items
	}
	keys := sc.keys[:0]
	rank := o.rank
	for i, x := range match {
		for x != 0 {
			n := uint32(i<<6 + bits.TrailingZeros64(x))
			x &= x - 1
			keys = append(keys, uint64(rank[n]))
		}
	}
	sc.keys = keys
	topK(keys, k)
	for _, key := range keys[offset:k] {
		items = append(items, s.entries[o.perm[key]].doc)
	}
	return items
}

// pageByScore ranks the matches by BM25, ties by newest. Matches without
// any scoring term (found only through a prefix) score 0 and follow in
// newest order.
func (s *snapshot) pageByScore(match []uint64, total int, terms []qterm, offset, k int, items []*Doc, sc *scratch) []*Doc {
	var single *posting
	scoring := 0
	for i, t := range terms {
		if p := s.terms[t.term]; p != nil && !slices.ContainsFunc(terms[:i], func(u qterm) bool { return u.term == t.term }) {
			scoring++
			single = p
		}
	}
	switch scoring {
	case 0:
		return s.pageByOrder(match, total, &s.newest, offset, k, items, sc)
	case 1:
		// One scoring term: its members in score order, then the rest.
		seen := 0
		for _, x := range s.scoreOrder(single) {
			if !hasBit(match, x) {
				continue
			}
			if seen >= offset {
				items = append(items, s.entries[x].doc)
			}
			seen++
			if seen == k {
				return items
			}
		}
		for _, x := range s.newest.perm {
			if !hasBit(match, x) || single.set.has(x) {
				continue
			}
			if seen >= offset {
				items = append(items, s.entries[x].doc)
			}
			seen++
			if seen == k {
				break
			}
		}
		return items
	}
	slots := len(s.entries)
	if cap(sc.scores) < slots {
		sc.scores = make([]float32, slots+slots/4)
	}
	scores := sc.scores[:slots]
	n := float64(s.n)
	for i, t := range terms {
		p := s.terms[t.term]
		if p == nil || slices.ContainsFunc(terms[:i], func(u qterm) bool { return u.term == t.term }) {
			continue
		}
		df := float64(len(p.num))
		idf := float32(math.Log(1 + (n-df+0.5)/(df+0.5)))
		ws := p.w[:len(p.num)]
		for j, x := range p.num {
			// Branch-free: non-matches add 0 and stay 0.
			bit := float32(match[x>>6] >> (x & 63) & 1)
			scores[x] += bit * idf * ws[j]
		}
	}
	// Key: descending score (positive floats order as their bits), then
	// newest rank.
	keys := sc.keys[:0]
	rank := s.newest.rank
	for i, word := range match {
		for word != 0 {
			x := uint32(i<<6 + bits.TrailingZeros64(word))
			word &= word - 1
			if v := scores[x]; v > 0 {
				keys = append(keys, uint64(math.MaxUint32-math.Float32bits(v))<<32|uint64(uint32(rank[x])))
			}
		}
	}
	sc.keys = keys
	kk := min(k, len(keys))
	topK(keys, kk)
	for i := offset; i < kk; i++ {
		items = append(items, s.entries[s.newest.perm[uint32(keys[i])]].doc)
	}
	if kk < k {
		// The rest in newest order, skipping the scored ones.
		seen := kk
		for _, x := range s.newest.perm {
			if !hasBit(match, x) || scores[x] != 0 {
				continue
			}
			if seen >= offset {
				items = append(items, s.entries[x].doc)
			}
			seen++
			if seen == k {
				break
			}
		}
	}
	for i, word := range match {
		for word != 0 {
			scores[i<<6+bits.TrailingZeros64(word)] = 0
			word &= word - 1
		}
	}
	return items
}

// scoreOrder returns p's members by descending weight, then newest.
func (s *snapshot) scoreOrder(p *posting) []uint32 {
	if o := p.byScore.Load(); o != nil {
		return *o
	}
	idx := make([]int32, len(p.num))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(p.w[b], p.w[a]); c != 0 {
			return c
		}
		da, db := s.entries[p.num[a]].doc, s.entries[p.num[b]].doc
		if c := cmp.Compare(db.CreatedAt, da.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(da.ID, db.ID)
	})
	o := make([]uint32, len(idx))
	for i, j := range idx {
		o[i] = p.num[j]
	}
	p.byScore.Store(&o)
	return o
}

// topK moves the k least keys, sorted, to the front of c.
func topK(c []uint64, k int) {
	if k <= 0 {
		return
	}
	if k >= len(c) || k*2 >= len(c) {
		slices.Sort(c)
		return
	}
	// Max-heap of the k least so far in c[:k].
	h := c[:k]
	down := func(i int) {
		x := h[i]
		for {
			l := 2*i + 1
			if l >= k {
				break
			}
			j := l
			if r := l + 1; r < k && h[r] > h[l] {
				j = r
			}
			if h[j] <= x {
				break
			}
			h[i] = h[j]
			i = j
		}
		h[i] = x
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, x := range c[k:] {
		if x < h[0] {
			h[0] = x
			down(0)
		}
	}
	slices.Sort(h)
}
