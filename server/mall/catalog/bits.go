package catalog

import (
	"math/bits"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Query-time set algebra runs on flat bitsets ([]uint64, one bit per
// document number): the stored sets are roaring bitmaps, and a search loads
// the few it needs into pooled flat buffers, so that ANDs, ORs and counts
// are short loops over len(docs)/64 words with no allocation.

func andInto(dst, a []uint64) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] &= a[i]
	}
}

func orInto(dst, a []uint64) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] |= a[i]
	}
}

func popcount(a []uint64) int {
	n := 0
	for len(a) >= 4 {
		n += bits.OnesCount64(a[0]) + bits.OnesCount64(a[1]) + bits.OnesCount64(a[2]) + bits.OnesCount64(a[3])
		a = a[4:]
	}
	for _, w := range a {
		n += bits.OnesCount64(w)
	}
	return n
}

// popcountAnd is |a ∩ b|.
func popcountAnd(a, b []uint64) int {
	b = b[:len(a)]
	var n0, n1 int
	for len(a) >= 8 && len(b) >= 8 {
		n0 += bits.OnesCount64(a[0]&b[0]) + bits.OnesCount64(a[1]&b[1]) +
			bits.OnesCount64(a[2]&b[2]) + bits.OnesCount64(a[3]&b[3])
		n1 += bits.OnesCount64(a[4]&b[4]) + bits.OnesCount64(a[5]&b[5]) +
			bits.OnesCount64(a[6]&b[6]) + bits.OnesCount64(a[7]&b[7])
		a, b = a[8:], b[8:]
	}
	for i := range a {
		n0 += bits.OnesCount64(a[i] & b[i])
	}
	return n0 + n1
}

func hasBit(a []uint64, n uint32) bool { return a[n>>6]&(1<<(n&63)) != 0 }

func setBit(a []uint64, n uint32) { a[n>>6] |= 1 << (n & 63) }

// fset is a stored set of document numbers: a roaring bitmap plus a flat
// form for queries, dense words when the set is big enough for a popcount
// to beat probing its members, else the sorted members.
type fset struct {
	rb    *roaring.Bitmap
	card  int
	dense []uint64 // len == words of the snapshot, or nil
	ids   []uint32 // when dense is nil
}

// derive computes the flat forms for a universe of w words.
func (f *fset) derive(w int) { f.deriveWith(w, nil) }

// deriveWith is derive given the members when the caller has them.
func (f *fset) deriveWith(w int, members []uint32) {
	f.card = int(f.rb.GetCardinality())
	f.dense, f.ids = nil, nil
	if f.card*4 >= w && f.card > 0 {
		f.dense = make([]uint64, w)
		f.rb.WriteDenseTo(f.dense)
	} else if members != nil {
		f.ids = members
	} else {
		f.ids = f.rb.ToArray()
	}
}

// has reports whether n is a member.
func (f *fset) has(n uint32) bool {
	if f.dense != nil {
		return hasBit(f.dense, n)
	}
	_, ok := slices.BinarySearch(f.ids, n)
	return ok
}

// countIn is |f ∩ b|.
func (f *fset) countIn(b []uint64) int {
	if f.dense != nil {
		return popcountAnd(b, f.dense)
	}
	n := 0
	for _, x := range f.ids {
		n += int(b[x>>6] >> (x & 63) & 1)
	}
	return n
}

// cost estimates countIn's work.
func (f *fset) cost(w int) int {
	if f.dense != nil {
		return w / 2
	}
	return len(f.ids)
}

// andWith sets dst &= f, using tmp as scratch.
func (f *fset) andWith(dst, tmp []uint64) {
	if f.dense != nil {
		andInto(dst, f.dense)
		return
	}
	clear(tmp)
	for _, x := range f.ids {
		if hasBit(dst, x) {
			setBit(tmp, x)
		}
	}
	copy(dst, tmp)
}

// orWith sets dst |= f.
func (f *fset) orWith(dst []uint64) {
	if f.dense != nil {
		orInto(dst, f.dense)
		return
	}
	for _, x := range f.ids {
		setBit(dst, x)
	}
}
