package catalog

import (
	"encoding/binary"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Facet counts and totals depend on the text and the filters only, not on
// the sort or the page, and a snapshot never changes: each snapshot keeps
// the facets of the filter sets it has answered (up to facetCacheEntries,
// then it starts over), so paging and re-sorting, and shoppers asking the
// same thing, skip the counting. The cache dies with its snapshot.

const facetCacheEntries = 2048

type facetEntry struct {
	total  int
	facets map[string]map[string]int
	list   *facetList
	json   atomic.Pointer[[]byte]
}

// facetList is the content of the facet maps in JSON order: dimensions by
// name, each with its values by value.
type facetList struct {
	s    *snapshot
	dims []facetDim
	vals []valCount
}

type facetDim struct {
	dim    int
	lo, hi int // its values: vals[lo:hi]
}

func (l *facetList) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, fd := range l.dims {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l.s.dims[fd.dim].json...)
		b = append(b, ':', '{')
		for j, vc := range l.vals[fd.lo:fd.hi] {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, l.s.vals[vc.ord].json...)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(vc.count), 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

type facetCache struct {
	m atomic.Pointer[sync.Map]
	n atomic.Int64
}

func newFacetCache() *facetCache {
	c := &facetCache{}
	c.m.Store(&sync.Map{})
	return c
}

func (c *facetCache) get(key []byte) *facetEntry {
	if v, ok := c.m.Load().Load(string(key)); ok {
		return v.(*facetEntry)
	}
	return nil
}

func (c *facetCache) put(key []byte, e *facetEntry) {
	if c.n.Add(1) > facetCacheEntries {
		c.m.Store(&sync.Map{})
		c.n.Store(1)
	}
	c.m.Load().Store(string(key), e)
}

// pageCache keeps encoded search responses of one snapshot by request key
// (up to pageCacheEntries, then it starts over).
type pageCache struct {
	m atomic.Pointer[sync.Map]
	n atomic.Int64
}

const pageCacheEntries = 2048

func newPageCache() *pageCache {
	c := &pageCache{}
	c.m.Store(&sync.Map{})
	return c
}

func (c *pageCache) get(key []byte) []byte {
	if v, ok := c.m.Load().Load(string(key)); ok {
		return v.([]byte)
	}
	return nil
}

func (c *pageCache) put(key []byte, b []byte) {
	if c.n.Add(1) > pageCacheEntries {
		c.m.Store(&sync.Map{})
		c.n.Store(1)
	}
	c.m.Load().Store(string(key), b)
}

// facetKey encodes what the facets depend on: the analyzed terms, the
// facet filters, in-stock and the price restriction.
func facetKey(b []byte, q *Query, terms []qterm, priceActive bool) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(terms)))
	for _, t := range terms {
		str(t.term)
		str(t.prefix)
	}
	str(q.Kind)
	str(q.Category)
	str(q.Store)
	str(q.Tier)
	if q.InStock {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	if priceActive {
		b = append(b, 1)
		str(q.Currency)
		for _, p := range []*int64{q.MinPrice, q.MaxPrice} {
			if p == nil {
				b = append(b, 0)
			} else {
				b = append(b, 1)
				b = binary.AppendVarint(b, *p)
			}
		}
	} else {
		b = append(b, 0)
	}
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
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		str(k)
		vs := q.Attrs[k]
		if len(vs) > maxAttrValues {
			vs = vs[:maxAttrValues]
		}
		if !slices.IsSorted(vs) {
			vs = slices.Sorted(slices.Values(vs))
		}
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			str(v)
		}
	}
	return b
}

// AppendFacetsJSON appends r.Facets encoded as JSON, byte for byte what
// encoding/json.Marshal(r.Facets) gives (keys sorted, HTML-safe escaping),
// reusing the encoding when the facets came from the index's cache.
func (r *Result) AppendFacetsJSON(b []byte) []byte {
	if r.fc != nil && sameMap(r.fc.facets, r.Facets) {
		if j := r.fc.json.Load(); j != nil {
			return append(b, *j...)
		}
		if r.fc.list != nil {
			start := len(b)
			b = r.fc.list.appendJSON(b)
			j := slices.Clone(b[start:])
			r.fc.json.Store(&j)
			return b
		}
	}
	return appendFacets(b, r.Facets)
}

// sameMap reports whether a and b are the same map (not a copy).
func sameMap(a, b map[string]map[string]int) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func appendFacets(b []byte, f map[string]map[string]int) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	dims := make([]string, 0, len(f))
	for k := range f {
		dims = append(dims, k)
	}
	slices.Sort(dims)
	b = append(b, '{')
	var vals []string
	for i, d := range dims {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, d)
		b = append(b, ':')
		m := f[d]
		if m == nil {
			b = append(b, "null"...)
			continue
		}
		vals = vals[:0]
		for v := range m {
			vals = append(vals, v)
		}
		slices.Sort(vals)
		b = append(b, '{')
		for j, v := range vals {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(m[v]), 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does (HTML-safe, invalid UTF-8
// as U+FFFD, U+2028 and U+2029 escaped).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
