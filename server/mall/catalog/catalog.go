// Package catalog is the shopper-facing catalog read model: every process
// keeps the visible catalog (active products of active tenants) in memory,
// with an inverted index for full-text search, facet bitmaps per filter
// value, precomputed sort orders and each product's JSON encoded once.
// Search is set algebra plus a page slice; detail is a map lookup.
//
// The database stays the source of truth; package mall feeds this index from
// it and keeps it fresh. The Index interface is what the rest of the code
// uses, so a catalog beyond one machine's memory can move to a search
// engine.
package catalog

// Doc is one shopper-visible product as the index sees it.
type Doc struct {
	ID         int64
	TenantID   int64
	Store      string // tenant slug
	StoreName  string
	Kind       string // saas | goods
	Category   string
	Name       string
	Summary    string
	Attributes []Attr
	Tiers      []string         // plan tiers of the product's SKUs (saas)
	MinPrice   map[string]int64 // lowest active SKU price per currency, minor units
	CreatedAt  int64            // unix nanoseconds; "newest" sorts on it
	Sales      int64            // "best-selling" sorts on it
	InStock    bool             // goods: some SKU available; saas: always true
	// Card is the product's list entry, Detail its full JSON (with SKUs),
	// both encoded once when the product changes.
	Card   []byte
	Detail []byte
}

// Attr is a screening attribute.
type Attr struct {
	Key   string
	Value string
}

// Sort orders.
const (
	SortRelevance   = "relevance" // by text score when Q is set, else newest
	SortPriceAsc    = "price_asc"
	SortPriceDesc   = "price_desc"
	SortNewest      = "newest"
	SortBestSelling = "best_selling"
)

// Query is a shopper's search. Empty fields do not filter.
type Query struct {
	Q        string
	Kind     string
	Category string
	Store    string
	Tier     string
	Attrs    map[string][]string // key → accepted values (OR within a key, AND across keys)
	Currency string              // price filters and price sorts use this currency; products without a price in it are excluded when a price filter or price sort is set
	MinPrice *int64
	MaxPrice *int64
	InStock  bool
	Sort     string
	Page     int // 1-based
	PerPage  int
}

// Result is one page of matches with facet counts over all matches.
type Result struct {
	Total int
	Items []*Doc
	// Facets count matches per value for kind, category, store, tier and
	// each attribute key ("attr:<key>"). Each facet is counted with every
	// filter applied except its own, so a shopper sees what selecting another
	// value would give. Values with a zero count are left out, and so are
	// dimensions without values; a dimension lists at most 50 values, the
	// largest counts first.
	//
	// Items and Facets may be shared with other results: read-only.
	// AppendFacetsJSON encodes Facets (cached alongside them).
	Facets map[string]map[string]int

	fc *facetEntry // the cache entry Facets came from, if any
}

// Index is the read model's contract.
type Index interface {
	// Replace swaps the whole content (initial load).
	Replace(docs []*Doc)
	// Upsert adds or replaces documents; Remove drops them.
	Upsert(docs ...*Doc)
	Remove(ids ...int64)
	// Get returns a visible product by id.
	Get(id int64) (*Doc, bool)
	// Search answers a query.
	Search(q Query) Result
	// SearchPage answers q and returns render's encoding of the result,
	// cached under key (which must determine q) until the content changes.
	SearchPage(key []byte, q Query, render func(Result) []byte) []byte
	// Len is the number of documents.
	Len() int
}
