package catalog

import (
	"cmp"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// Memory is the in-memory Index.
//
// Readers (Search, Get, Len) load an immutable snapshot through an atomic
// pointer and never block. Writers (Replace, Upsert, Remove) are serialized
// by a mutex; each call builds the next snapshot copy-on-write from the
// current one, sharing every structure it does not change (postings, facet
// sets and per-currency orders are rebuilt only for the terms, values and
// currencies the batch touches), and publishes it with one atomic store. A
// batch is therefore visible all at once.
//
// Documents are numbered densely inside the index (numbers of removed
// documents are reused). The index keeps the *Doc it is given: callers
// must not modify a Doc after handing it over, and must treat the Docs and
// facet maps that Search returns as read-only.
type Memory struct {
	mu   sync.Mutex // writers
	snap atomic.Pointer[snapshot]

	noFacetCache bool // tests and benchmarks: count every time
}

var _ Index = (*Memory)(nil)

// NewMemory returns an empty index.
func NewMemory() *Memory {
	m := &Memory{}
	m.snap.Store(emptySnapshot())
	return m
}

const avgdlDrift = 0.1

// Fixed facet dimensions; attribute keys follow as "attr:<key>".
const (
	dimKind = iota
	dimCategory
	dimStore
	dimTier
	numFixedDims
)

var fixedDimNames = [numFixedDims]string{"kind", "category", "store", "tier"}

type entry struct {
	doc  *Doc
	an   *analysis
	ords []uint32 // facet values of the document (unique)
}

// posting is a term's documents with their weighted term frequencies,
// tf aligned with the ascending members of rb.
type posting struct {
	set fset      // members
	num []uint32  // members, ascending
	tf  []float32 // weighted term frequency per member
	w   []float32 // bm25w(tf, dl, snapshot.avgdl) per member
	// byScore lists the members by descending w, then newest; computed
	// on first use (a posting never changes once published).
	byScore atomic.Pointer[[]uint32]
}

func newPosting(num []uint32, tf, w []float32, words int) *posting {
	p := &posting{num: num, tf: tf, w: w}
	p.set.rb = roaring.New()
	p.set.rb.AddMany(num)
	p.set.rb.RunOptimize()
	p.set.deriveWith(words, num)
	return p
}

// bm25w is the term-frequency part of BM25 (k1 = 1.2, b = 0.75).
func bm25w(tf, dl, avgdl float32) float32 {
	norm := bm25K1 * (1 - bm25B + bm25B*dl/avgdl)
	return tf * (bm25K1 + 1) / (tf + norm)
}

// wordEntry is a folded surface word, for prefix matching.
type wordEntry struct {
	set  fset
	stem string
}

// fval is one facet value: (dimension, value) and its documents.
type fval struct {
	fset
	dim   int
	value string
	json  string // value as a JSON string
}

type valKey struct {
	dim   int
	value string
}

type dimension struct {
	name    string
	json    string   // name as a JSON string
	ords    []uint32 // its values
	byValue []uint32 // ords sorted by value (as encoding/json sorts keys)
	cost    int      // work to count all its values by fset.countIn
}

// order is a precomputed sort order: perm lists document numbers in order,
// rank gives each number's position (-1 if absent).
type order struct {
	perm []uint32
	rank []int32
}

// priceIdx holds one currency's prices.
type priceIdx struct {
	has   fset
	asc   order   // price ascending, then ID
	desc  order   // price descending, then ID
	price []int64 // aligned with asc.perm
}

type snapshot struct {
	entries []*entry   // by number; nil = free
	ords    [][]uint32 // entries[n].ords, flat for facet counting
	free    []uint32
	byID    map[int64]uint32
	live    []uint64
	n       int
	words   int // len of flat bitsets: entries fit in words*64

	terms    map[string]*posting
	vocab    map[string]*wordEntry
	wordList []string // sorted keys of vocab
	sumDL    float64
	// avgdl is the average document length that posting weights use. It
	// is refreshed (and every weight recomputed) when the true average
	// drifts by more than avgdlDrift.
	avgdl float32

	dims       []*dimension
	dimsByName []int // dimension indexes sorted by name
	dimIdx     map[string]int
	vals       []*fval
	valDim     []int32 // vals[i].dim, flat
	valIdx     map[valKey]uint32
	instock    fset
	newest     order
	best       order
	cur        map[string]*priceIdx
	totalOrds  int

	prefix *prefixCache
	facets *facetCache
	pages  *pageCache
}

func emptySnapshot() *snapshot {
	s := &snapshot{
		byID:   map[int64]uint32{},
		terms:  map[string]*posting{},
		vocab:  map[string]*wordEntry{},
		dimIdx: map[string]int{},
		valIdx: map[valKey]uint32{},
		cur:    map[string]*priceIdx{},
		words:  1,
		live:   make([]uint64, 1),
		prefix: newPrefixCache(),
		facets: newFacetCache(),
		pages:  newPageCache(),
	}
	for i, name := range fixedDimNames {
		s.dims = append(s.dims, &dimension{name: name, json: string(appendJSONString(nil, name))})
		s.dimIdx[name] = i
	}
	s.dimsByName = sortedDims(s.dims)
	s.instock.rb = roaring.New()
	s.instock.derive(s.words)
	return s
}

// Len is the number of documents.
func (m *Memory) Len() int { return m.snap.Load().n }

// Get returns a product by id.
func (m *Memory) Get(id int64) (*Doc, bool) {
	s := m.snap.Load()
	num, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return s.entries[num].doc, true
}

// Replace swaps the whole content. Analyses of documents whose text did
// not change are reused.
func (m *Memory) Replace(docs []*Doc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.snap.Load()
	docs = dedupe(docs)
	ans := analyzeAll(docs, old)
	b := newBatch(emptySnapshot(), len(docs))
	for i, d := range docs {
		b.add(d, ans[i])
	}
	m.snap.Store(b.finish())
}

// Upsert adds or replaces documents.
func (m *Memory) Upsert(docs ...*Doc) {
	docs = dedupe(docs)
	if len(docs) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.snap.Load()
	ans := analyzeAll(docs, old)
	b := newBatch(old, len(docs))
	for i, d := range docs {
		if num, ok := old.byID[d.ID]; ok {
			b.remove(num)
		}
		b.add(d, ans[i])
	}
	m.snap.Store(b.finish())
}

// Remove drops documents; unknown ids are ignored.
func (m *Memory) Remove(ids ...int64) {
	if len(ids) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.snap.Load()
	var nums []uint32
	seen := map[int64]bool{}
	for _, id := range ids {
		if num, ok := old.byID[id]; ok && !seen[id] {
			seen[id] = true
			nums = append(nums, num)
		}
	}
	if len(nums) == 0 {
		return
	}
	b := newBatch(old, 0)
	for _, num := range nums {
		b.remove(num)
	}
	m.snap.Store(b.finish())
}

// dedupe drops nil documents and keeps the last of each id.
func dedupe(docs []*Doc) []*Doc {
	last := make(map[int64]int, len(docs))
	for i, d := range docs {
		if d != nil {
			last[d.ID] = i
		}
	}
	if len(last) == len(docs) {
		return docs
	}
	out := make([]*Doc, 0, len(last))
	for i, d := range docs {
		if d != nil && last[d.ID] == i {
			out = append(out, d)
		}
	}
	return out
}

// analyzeAll analyzes docs in parallel, reusing old analyses of unchanged
// text.
func analyzeAll(docs []*Doc, old *snapshot) []*analysis {
	out := make([]*analysis, len(docs))
	var todo []int
	for i, d := range docs {
		if num, ok := old.byID[d.ID]; ok {
			if e := old.entries[num]; sameText(e.doc, d) {
				out[i] = e.an
				continue
			}
		}
		todo = append(todo, i)
	}
	workers := runtime.GOMAXPROCS(0)
	if len(todo) < 256 || workers < 2 {
		a := newAnalyzer()
		for _, i := range todo {
			out[i] = a.analyze(docs[i])
		}
		return out
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := newAnalyzer()
			for {
				k := int(next.Add(64)) - 64
				if k >= len(todo) {
					return
				}
				for _, i := range todo[k:min(k+64, len(todo))] {
					out[i] = a.analyze(docs[i])
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// ---------------------------------------------------------------------------
// Write batches

type termChange struct {
	removes []uint32
	adds    []numTF
}

type numTF struct {
	num uint32
	tf  float32
}

// batch builds the next snapshot from old. Structures of old are shared
// until the batch changes them; then they are copied once ("own").
type batch struct {
	old, s *snapshot

	termCh    map[string]*termChange
	ownWords  map[string]bool
	newWords  bool // vocab gained or lost a word
	ownVals   map[uint32]bool
	ownDims   map[int]bool
	valsOwned bool // s.vals / s.valIdx / s.dims / s.dimIdx copied
	newDims   bool
	removed   map[uint32]bool // numbers whose old document left the orders
	added     []uint32
	curTouch  map[string]bool
	grew      bool
}

func newBatch(old *snapshot, adds int) *batch {
	s := *old
	s.entries = slices.Clone(old.entries)
	s.ords = slices.Clone(old.ords)
	s.free = slices.Clone(old.free)
	s.byID = maps.Clone(old.byID)
	s.live = slices.Clone(old.live)
	s.terms = maps.Clone(old.terms)
	s.vocab = maps.Clone(old.vocab)
	s.cur = maps.Clone(old.cur)
	s.prefix = newPrefixCache()
	s.facets = newFacetCache()
	s.pages = newPageCache()
	b := &batch{
		old: old, s: &s,
		termCh:   map[string]*termChange{},
		ownWords: map[string]bool{},
		ownVals:  map[uint32]bool{},
		ownDims:  map[int]bool{},
		removed:  map[uint32]bool{},
		curTouch: map[string]bool{},
	}
	// Make room for the additions up front.
	need := len(s.entries) + max(0, adds-len(s.free))
	if need > s.words*64 {
		b.grow(need)
	}
	return b
}

func (b *batch) grow(need int) {
	s := b.s
	// Headroom: a sixteenth. Every flat set is w words long, and growing
	// re-derives them all.
	w := (need + need/16 + 63) / 64
	live := make([]uint64, w)
	copy(live, s.live)
	s.live = live
	s.words = w
	b.grew = true
}

func (b *batch) term(t string) *termChange {
	c := b.termCh[t]
	if c == nil {
		c = &termChange{}
		b.termCh[t] = c
	}
	return c
}

func (b *batch) word(w string, stem string) *wordEntry {
	s := b.s
	we := s.vocab[w]
	if we != nil && b.ownWords[w] {
		return we
	}
	nw := &wordEntry{stem: stem}
	if we != nil {
		nw.set.rb = we.set.rb.Clone()
	} else {
		nw.set.rb = roaring.New()
		b.newWords = true
	}
	s.vocab[w] = nw
	b.ownWords[w] = true
	return nw
}

func (b *batch) ownValTables() {
	if b.valsOwned {
		return
	}
	s := b.s
	s.vals = slices.Clone(s.vals)
	s.valIdx = maps.Clone(s.valIdx)
	s.dims = slices.Clone(s.dims)
	s.dimIdx = maps.Clone(s.dimIdx)
	b.valsOwned = true
}

// val returns the ord of (dim, value), creating it when create is set.
func (b *batch) val(dimName, value string, create bool) (uint32, bool) {
	s := b.s
	d, ok := s.dimIdx[dimName]
	if !ok {
		if !create {
			return 0, false
		}
		b.ownValTables()
		d = len(s.dims)
		s.dims = append(s.dims, &dimension{name: dimName, json: string(appendJSONString(nil, dimName))})
		b.newDims = true
		s.dimIdx[dimName] = d
		b.ownDims[d] = true
	}
	if ord, ok := s.valIdx[valKey{d, value}]; ok {
		return ord, true
	}
	if !create {
		return 0, false
	}
	b.ownValTables()
	ord := uint32(len(s.vals))
	s.vals = append(s.vals, &fval{fset: fset{rb: roaring.New()}, dim: d, value: value, json: string(appendJSONString(nil, value))})
	s.valIdx[valKey{d, value}] = ord
	b.ownVals[ord] = true
	dm := b.dim(d)
	dm.ords = append(dm.ords, ord)
	return ord, true
}

func (b *batch) dim(d int) *dimension {
	b.ownValTables()
	if !b.ownDims[d] {
		c := *b.s.dims[d]
		c.ords = slices.Clone(c.ords)
		b.s.dims[d] = &c
		b.ownDims[d] = true
	}
	return b.s.dims[d]
}

// ownVal returns a writable fval.
func (b *batch) ownVal(ord uint32) *fval {
	b.ownValTables()
	v := b.s.vals[ord]
	if !b.ownVals[ord] {
		c := *v
		c.rb = v.rb.Clone()
		v = &c
		b.s.vals[ord] = v
		b.ownVals[ord] = true
	}
	b.dim(v.dim) // its cost changes
	return v
}

// docOrds lists the facet values of d, creating missing ones.
func (b *batch) docOrds(d *Doc) []uint32 {
	var ords []uint32
	add := func(dim, value string) {
		if value == "" {
			return
		}
		ord, _ := b.val(dim, value, true)
		if !slices.Contains(ords, ord) {
			ords = append(ords, ord)
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
	return ords
}

func (b *batch) remove(num uint32) {
	s := b.s
	e := s.entries[num]
	if e == nil {
		return
	}
	d := e.doc
	for _, t := range e.an.terms {
		c := b.term(t.term)
		c.removes = append(c.removes, num)
	}
	for _, w := range e.an.words {
		we := b.word(w.word, w.stem)
		we.set.rb.Remove(num)
	}
	for _, ord := range e.ords {
		b.ownVal(ord).rb.Remove(num)
	}
	if d.InStock {
		b.ownInstock().Remove(num)
	}
	for c := range d.MinPrice {
		b.curTouch[c] = true
	}
	s.sumDL -= float64(e.an.dl)
	s.totalOrds -= len(e.ords)
	s.live[num>>6] &^= 1 << (num & 63)
	s.n--
	delete(s.byID, d.ID)
	s.entries[num] = nil
	s.ords[num] = nil
	s.free = append(s.free, num)
	b.removed[num] = true
}

func (b *batch) ownInstock() *roaring.Bitmap {
	if b.s.instock.rb == b.old.instock.rb {
		b.s.instock.rb = b.old.instock.rb.Clone()
	}
	return b.s.instock.rb
}

func (b *batch) add(d *Doc, an *analysis) {
	s := b.s
	var num uint32
	if k := len(s.free); k > 0 {
		// Prefer the number the document had, then the last freed.
		num = s.free[k-1]
		if old, ok := b.old.byID[d.ID]; ok {
			if i := slices.Index(s.free, old); i >= 0 {
				num = old
				s.free[i] = s.free[k-1]
			}
		}
		s.free = s.free[:k-1]
	} else {
		num = uint32(len(s.entries))
		s.entries = append(s.entries, nil)
		s.ords = append(s.ords, nil)
		if len(s.entries) > s.words*64 {
			b.grow(len(s.entries))
		}
	}
	e := &entry{doc: d, an: an, ords: b.docOrds(d)}
	s.entries[num] = e
	s.ords[num] = e.ords
	s.byID[d.ID] = num
	s.live[num>>6] |= 1 << (num & 63)
	s.n++
	s.sumDL += float64(an.dl)
	s.totalOrds += len(e.ords)
	for _, t := range an.terms {
		c := b.term(t.term)
		c.adds = append(c.adds, numTF{num, t.tf})
	}
	for _, w := range an.words {
		b.word(w.word, w.stem).set.rb.Add(num)
	}
	for _, ord := range e.ords {
		b.ownVal(ord).rb.Add(num)
	}
	if d.InStock {
		b.ownInstock().Add(num)
	}
	for c := range d.MinPrice {
		b.curTouch[c] = true
	}
	b.added = append(b.added, num)
}

// finish settles the derived structures and returns the new snapshot.
func (b *batch) finish() *snapshot {
	s := b.s
	w := s.words
	// Postings.
	avg := float32(s.sumDL / float64(max(1, s.n)))
	if avg <= 0 {
		avg = 1
	}
	reweight := s.avgdl == 0 || avg > s.avgdl*(1+avgdlDrift) || avg < s.avgdl*(1-avgdlDrift)
	if reweight {
		s.avgdl = avg
	}
	dl := func(n uint32) float32 { return s.entries[n].an.dl }
	for t, c := range b.termCh {
		p := mergePosting(s.terms[t], c, dl, s.avgdl, w, reweight)
		if p == nil {
			delete(s.terms, t)
		} else {
			s.terms[t] = p
		}
	}
	if reweight || b.grew {
		for t, p := range s.terms {
			if _, ok := b.termCh[t]; ok {
				continue
			}
			ws := p.w
			if reweight {
				ws = make([]float32, len(p.num))
				for j, n := range p.num {
					ws[j] = bm25w(p.tf[j], dl(n), s.avgdl)
				}
			}
			s.terms[t] = newPosting(p.num, p.tf, ws, w)
		}
	}
	// Vocabulary for prefixes.
	var gone []string
	for wd := range b.ownWords {
		we := s.vocab[wd]
		if we.set.rb.IsEmpty() {
			delete(s.vocab, wd)
			gone = append(gone, wd)
			continue
		}
		we.set.rb.RunOptimize()
		we.set.derive(w)
	}
	if b.grew {
		for wd, we := range s.vocab {
			if !b.ownWords[wd] {
				nw := &wordEntry{set: fset{rb: we.set.rb}, stem: we.stem}
				nw.set.derive(w)
				s.vocab[wd] = nw
			}
		}
	}
	if b.newWords || len(gone) > 0 {
		s.wordList = make([]string, 0, len(s.vocab))
		for wd := range s.vocab {
			s.wordList = append(s.wordList, wd)
		}
		slices.Sort(s.wordList)
	}
	// Facet values and their dimensions.
	for ord := range b.ownVals {
		v := s.vals[ord]
		v.rb.RunOptimize()
		v.derive(w)
	}
	if b.grew {
		// The flat forms of every set are sized by words: redo them all
		// (sharing the roaring bitmaps, which do not change).
		b.ownValTables()
		for ord := range s.vals {
			if !b.ownVals[uint32(ord)] {
				c := *s.vals[ord]
				c.derive(w)
				s.vals[ord] = &c
			}
		}
		for d := range s.dims {
			b.dim(d)
		}
		for c := range s.cur {
			b.curTouch[c] = true
		}
	}
	if b.valsOwned {
		s.valDim = make([]int32, len(s.vals))
		for i, v := range s.vals {
			s.valDim[i] = int32(v.dim)
		}
	}
	if b.newDims {
		s.dimsByName = sortedDims(s.dims)
	}
	for d := range b.ownDims {
		dm := s.dims[d]
		if len(dm.byValue) != len(dm.ords) {
			dm.byValue = slices.Clone(dm.ords)
			slices.SortFunc(dm.byValue, func(a, c uint32) int { return strings.Compare(s.vals[a].value, s.vals[c].value) })
		}
		dm.cost = 0
		for _, ord := range dm.ords {
			if v := s.vals[ord]; v.card > 0 {
				dm.cost += v.cost(w)
			}
		}
	}
	if s.instock.rb != b.old.instock.rb || b.grew {
		s.instock.derive(w)
	}
	// Orders.
	if len(b.removed) > 0 || len(b.added) > 0 || b.grew {
		drop := func(n uint32) bool { return b.removed[n] }
		slots := len(s.entries)
		newest := func(a, c uint32) int {
			da, dc := s.entries[a].doc, s.entries[c].doc
			if x := cmp.Compare(dc.CreatedAt, da.CreatedAt); x != 0 {
				return x
			}
			return cmp.Compare(da.ID, dc.ID)
		}
		best := func(a, c uint32) int {
			da, dc := s.entries[a].doc, s.entries[c].doc
			if x := cmp.Compare(dc.Sales, da.Sales); x != 0 {
				return x
			}
			return cmp.Compare(da.ID, dc.ID)
		}
		s.newest = rebuildOrder(b.old.newest.perm, drop, b.added, newest, slots)
		s.best = rebuildOrder(b.old.best.perm, drop, b.added, best, slots)
		for c := range b.curTouch {
			b.rebuildCurrency(c)
		}
	}
	return s
}

// mergePosting applies c to p (nil = empty); nil result = empty posting.
func mergePosting(p *posting, c *termChange, dl func(uint32) float32, avgdl float32, words int, reweight bool) *posting {
	slices.SortFunc(c.adds, func(a, b numTF) int { return cmp.Compare(a.num, b.num) })
	var members []uint32
	var tfs []float32
	if p != nil {
		members = p.num
		tfs = p.tf
	}
	rm := c.removes
	if len(rm) > 1 {
		slices.Sort(rm)
	}
	outN := make([]uint32, 0, len(members)-len(rm)+len(c.adds))
	outT := make([]float32, 0, cap(outN))
	outW := make([]float32, 0, cap(outN))
	i, j := 0, 0
	for i < len(members) || j < len(c.adds) {
		if j == len(c.adds) || i < len(members) && members[i] < c.adds[j].num {
			n := members[i]
			if _, found := slices.BinarySearch(rm, n); !found {
				outN = append(outN, n)
				outT = append(outT, tfs[i])
				if reweight {
					outW = append(outW, bm25w(tfs[i], dl(n), avgdl))
				} else {
					outW = append(outW, p.w[i])
				}
			}
			i++
			continue
		}
		if i < len(members) && members[i] == c.adds[j].num {
			i++ // replaced (it was removed and added back)
		}
		outN = append(outN, c.adds[j].num)
		outT = append(outT, c.adds[j].tf)
		outW = append(outW, bm25w(c.adds[j].tf, dl(c.adds[j].num), avgdl))
		j++
	}
	if len(outN) == 0 {
		return nil
	}
	if p == nil || len(c.adds)+len(rm) > len(outN)/8 {
		return newPosting(outN, outT, outW, words)
	}
	// Few changes: edit a copy of the bitmap.
	np := &posting{num: outN, tf: outT, w: outW}
	np.set.rb = p.set.rb.Clone()
	for _, n := range rm {
		np.set.rb.Remove(n)
	}
	for _, a := range c.adds {
		np.set.rb.Add(a.num)
	}
	np.set.deriveWith(words, outN)
	return np
}

// rebuildOrder drops numbers from old, merges in add (sorted by cmpf) and
// computes ranks over slots numbers.
func rebuildOrder(old []uint32, drop func(uint32) bool, add []uint32, cmpf func(a, b uint32) int, slots int) order {
	add = slices.Clone(add)
	slices.SortFunc(add, cmpf)
	perm := make([]uint32, 0, len(old)+len(add))
	j := 0
	for _, n := range old {
		if drop(n) {
			continue
		}
		for j < len(add) && cmpf(add[j], n) < 0 {
			perm = append(perm, add[j])
			j++
		}
		perm = append(perm, n)
	}
	perm = append(perm, add[j:]...)
	return order{perm: perm, rank: ranks(perm, slots)}
}

func (b *batch) rebuildCurrency(c string) {
	s := b.s
	old := b.old.cur[c]
	type pn struct {
		n  uint32
		p  int64
		id int64
	}
	var add []pn
	for _, n := range b.added {
		if p, ok := s.entries[n].doc.MinPrice[c]; ok {
			add = append(add, pn{n, p, s.entries[n].doc.ID})
		}
	}
	less := func(a, x pn) bool { return a.p < x.p || a.p == x.p && a.id < x.id }
	slices.SortFunc(add, func(a, x pn) int {
		if less(a, x) {
			return -1
		}
		return 1
	})
	var oldPerm []uint32
	var oldPrice []int64
	if old != nil {
		oldPerm, oldPrice = old.asc.perm, old.price
	}
	perm := make([]uint32, 0, len(oldPerm)+len(add))
	price := make([]int64, 0, cap(perm))
	j := 0
	for i, n := range oldPerm {
		if b.removed[n] {
			continue
		}
		cur := pn{n: n, p: oldPrice[i]}
		for j < len(add) && (add[j].p < cur.p || add[j].p == cur.p && add[j].id < s.entries[n].doc.ID) {
			perm, price = append(perm, add[j].n), append(price, add[j].p)
			j++
		}
		perm, price = append(perm, n), append(price, cur.p)
	}
	for ; j < len(add); j++ {
		perm, price = append(perm, add[j].n), append(price, add[j].p)
	}
	if len(perm) == 0 {
		delete(s.cur, c)
		return
	}
	slots := len(s.entries)
	p := &priceIdx{asc: order{perm: perm, rank: ranks(perm, slots)}, price: price}
	// Descending by price, ascending by ID among equal prices: reverse the
	// groups of equal price.
	desc := make([]uint32, 0, len(perm))
	for hi := len(perm); hi > 0; {
		lo := hi - 1
		for lo > 0 && price[lo-1] == price[hi-1] {
			lo--
		}
		desc = append(desc, perm[lo:hi]...)
		hi = lo
	}
	p.desc = order{perm: desc, rank: ranks(desc, slots)}
	if old != nil {
		p.has.rb = old.has.rb.Clone()
		for n := range b.removed {
			p.has.rb.Remove(n)
		}
	} else {
		p.has.rb = roaring.New()
	}
	for _, a := range add {
		p.has.rb.Add(a.n)
	}
	p.has.rb.RunOptimize()
	p.has.derive(s.words)
	s.cur[c] = p
}

func sortedDims(dims []*dimension) []int {
	out := make([]int, len(dims))
	for i := range out {
		out[i] = i
	}
	slices.SortFunc(out, func(a, b int) int { return strings.Compare(dims[a].name, dims[b].name) })
	return out
}

func ranks(perm []uint32, slots int) []int32 {
	rank := make([]int32, slots)
	for i := range rank {
		rank[i] = -1
	}
	for i, n := range perm {
		rank[n] = int32(i)
	}
	return rank
}

// ---------------------------------------------------------------------------
// Prefix cache

// prefixCache keeps, per snapshot, the flat set of documents that a last
// query word matches (its stem, or any word it begins); nil for none. When
// full it starts over.
type prefixCache struct {
	mu    sync.RWMutex
	m     map[string][]uint64
	bytes int
}

const prefixCacheBytes = 16 << 20

func newPrefixCache() *prefixCache { return &prefixCache{m: map[string][]uint64{}} }

func (c *prefixCache) get(p string) ([]uint64, bool) {
	c.mu.RLock()
	v, ok := c.m[p]
	c.mu.RUnlock()
	return v, ok
}

func (c *prefixCache) put(p string, v []uint64) {
	size := 8*len(v) + len(p) + 64
	c.mu.Lock()
	if c.bytes+size > prefixCacheBytes {
		c.m, c.bytes = map[string][]uint64{}, 0
	}
	if _, ok := c.m[p]; !ok {
		c.m[strings.Clone(p)] = v
		c.bytes += size
	}
	c.mu.Unlock()
}

// wordRange returns the words of the vocabulary that start with p.
func (s *snapshot) wordRange(p string) []string {
	lo := sort.SearchStrings(s.wordList, p)
	hi := lo
	for hi < len(s.wordList) && strings.HasPrefix(s.wordList[hi], p) {
		hi++
	}
	return s.wordList[lo:hi]
}
