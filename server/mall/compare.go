package mall

import (
	"fmt"
	"sort"
	"strings"

	"saasmall/server/apperr"
)

// CompareCell is one product's value in a comparison row.
type CompareCell struct {
	Text string `json:"text"`
	Has  bool   `json:"has"` // the product has the attribute or feature
}

// CompareRow is one line of a side-by-side comparison.
type CompareRow struct {
	Group  string        `json:"group"` // price | product | attribute | plan | feature
	Label  string        `json:"label"`
	Cells  []CompareCell `json:"cells"`
	Differ bool          `json:"differ"` // the products' values are not all the same
}

// ComparePlan is a plan with its price normalised per seat per month and per year.
type ComparePlan struct {
	SKUID     int64    `json:"sku_id"`
	Name      string   `json:"name"`
	Tier      string   `json:"tier"`
	Interval  string   `json:"interval"`
	PerSeat   bool     `json:"per_seat"`
	TrialDays int      `json:"trial_days"`
	Price     *Money   `json:"price"`     // as listed, per interval
	PerMonth  *Money   `json:"per_month"` // per seat (or flat) per month
	PerYear   *Money   `json:"per_year"`
	Features  []string `json:"features"`
}

// CompareProduct is one column of a comparison.
type CompareProduct struct {
	ID       int64         `json:"id"`
	Name     string        `json:"name"`
	Kind     string        `json:"kind"`
	Store    StoreRef      `json:"store"`
	ImageURL string        `json:"image_url"`
	Summary  string        `json:"summary"`
	Plans    []ComparePlan `json:"plans"`
	From     *Money        `json:"from"` // lowest price in the currency
}

// Comparison is two to four products side by side.
type Comparison struct {
	Currency string           `json:"currency"`
	Products []CompareProduct `json:"products"`
	Rows     []CompareRow     `json:"rows"`
}

// Compare puts two to four visible products side by side: their plans with
// prices per seat per month and per year in currency, and every attribute
// and plan feature as a row, with differences flagged. Anyone may call it.
// Errors: invalid_input (ids: count, unknown product).
func (s *Service) Compare(ids []int64, currency string) (*Comparison, error) {
	currency, err := cartCurrency(currency)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	var uniq []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	if len(uniq) < 2 || len(uniq) > 4 {
		return nil, apperr.Invalid("ids", "compare_count", "Min", 2, "Max", 4)
	}
	c := &Comparison{Currency: currency}
	var views []*ProductView
	for _, id := range uniq {
		v, err := s.Catalog.ProductView(id)
		if err != nil {
			return nil, apperr.Invalid("ids", "unknown_product", "ID", id)
		}
		views = append(views, v)
	}
	featureSet := map[string]bool{}
	attrKeys := []string{}
	attrSeen := map[string]bool{}
	for _, v := range views {
		cp := CompareProduct{ID: v.ID, Name: v.Name, Kind: v.Kind, Store: v.Store, ImageURL: v.ImageURL, Summary: v.Summary, Plans: []ComparePlan{}}
		for _, a := range v.Attributes {
			if !attrSeen[a.Key] {
				attrSeen[a.Key] = true
				attrKeys = append(attrKeys, a.Key)
			}
		}
		for _, k := range v.SKUs {
			var price *Money
			for _, p := range k.Prices {
				if p.Currency == currency {
					pp := p
					price = &pp
				}
			}
			if price != nil && (cp.From == nil || price.Amount < cp.From.Amount) {
				f := *price
				cp.From = &f
			}
			if k.Plan == nil {
				continue
			}
			pl := ComparePlan{SKUID: k.ID, Name: k.Name, Tier: k.Plan.Tier, Interval: k.Plan.Interval, PerSeat: k.Plan.PerSeat,
				TrialDays: k.Plan.TrialDays, Price: price, Features: k.Plan.Features}
			if price != nil {
				if k.Plan.Interval == IntervalYear {
					pl.PerYear = price
					pl.PerMonth = &Money{Amount: MulDivHalfEven(price.Amount, 1, 12), Currency: currency}
				} else {
					pl.PerMonth = price
					pl.PerYear = &Money{Amount: price.Amount * 12, Currency: currency}
				}
			}
			for _, f := range k.Plan.Features {
				featureSet[f] = true
			}
			cp.Plans = append(cp.Plans, pl)
		}
		c.Products = append(c.Products, cp)
	}
	row := func(group, label string, cells []CompareCell) {
		differ := false
		for _, x := range cells[1:] {
			if x != cells[0] {
				differ = true
			}
		}
		c.Rows = append(c.Rows, CompareRow{Group: group, Label: label, Cells: cells, Differ: differ})
	}
	cells := make([]CompareCell, len(views))
	for i, p := range c.Products {
		if p.From != nil {
			cells[i] = CompareCell{Text: FormatMoney(*p.From), Has: true}
		}
	}
	row("price", "from", cells)
	kinds := make([]CompareCell, len(views))
	for i, v := range views {
		kinds[i] = CompareCell{Text: v.Kind, Has: true}
	}
	row("product", "kind", kinds)
	stores := make([]CompareCell, len(views))
	for i, v := range views {
		stores[i] = CompareCell{Text: v.Store.Name, Has: true}
	}
	row("product", "store", stores)
	for _, key := range attrKeys {
		cs := make([]CompareCell, len(views))
		for i, v := range views {
			for _, a := range v.Attributes {
				if a.Key == key {
					cs[i] = CompareCell{Text: a.Value, Has: true}
				}
			}
		}
		row("attribute", key, cs)
	}
	for i, lbl := range []string{"plans", "per seat per month (lowest)"} {
		cs := make([]CompareCell, len(views))
		for j, p := range c.Products {
			if i == 0 {
				var names []string
				for _, pl := range p.Plans {
					names = append(names, pl.Name)
				}
				cs[j] = CompareCell{Text: strings.Join(names, ", "), Has: len(names) > 0}
				continue
			}
			var best *Money
			for _, pl := range p.Plans {
				if pl.PerMonth != nil && (best == nil || pl.PerMonth.Amount < best.Amount) {
					best = pl.PerMonth
				}
			}
			if best != nil {
				cs[j] = CompareCell{Text: FormatMoney(*best), Has: true}
			}
		}
		row("plan", lbl, cs)
	}
	feats := make([]string, 0, len(featureSet))
	for f := range featureSet {
		feats = append(feats, f)
	}
	sort.Strings(feats)
	for _, f := range feats {
		cs := make([]CompareCell, len(views))
		for i, p := range c.Products {
			var in []string
			for _, pl := range p.Plans {
				for _, pf := range pl.Features {
					if pf == f {
						in = append(in, pl.Name)
					}
				}
			}
			if len(in) > 0 {
				cs[i] = CompareCell{Text: strings.Join(in, ", "), Has: true}
			}
		}
		row("feature", f, cs)
	}
	return c, nil
}

// FormatMoney renders an amount with its currency's minor digits ("USD 12.50").
func FormatMoney(m Money) string {
	d := MinorDigits(m.Currency)
	if d == 0 {
		return fmt.Sprintf("%s %d", m.Currency, m.Amount)
	}
	neg := m.Amount < 0
	a := m.Amount
	if neg {
		a = -a
	}
	pow := int64(1)
	for i := 0; i < d; i++ {
		pow *= 10
	}
	s := fmt.Sprintf("%s %d.%0*d", m.Currency, a/pow, d, a%pow)
	if neg {
		s = "-" + s
	}
	return s
}
