package mall

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"saasmall/server/apperr"
)

var csvHeader = strings.Join(CSVColumns, ",") + "\n"

func TestParseProductsCSVGroupsRows(t *testing.T) {
	data := csvHeader +
		"a,goods,Lamp,Bright,Home,active,Color=Red|Note=x\\|y,LAMP-S,Small,USD:1000;cny:7000,300,9405.10,de,,,,,\n" +
		",goods,Solo,,,,,SOLO-1,One,EUR:500,,,,,,,,\n" +
		"b,saas,Ledger,,,,,LED-FREE,Free,USD:0,,,,free,month,,,\n" +
		"a,goods,Lamp,,,,,LAMP-L,Large,USD:2000,,,,,,,,\n" +
		",,,,,,,,,,,,,,,,,\n" + // blank: skipped
		"b,,,,,,,LED-TEAM,Team,USD:1200,,,,Paid,Year,yes,14,Invoices|A\\|B\n"
	ps, err := parseProductsCSV([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("%d products, want 3 (a, the keyless one, b)", len(ps))
	}
	lamp, solo, ledger := ps[0], ps[1], ps[2]
	if !reflect.DeepEqual(lamp.rows, []int{2, 5}) || !reflect.DeepEqual(solo.rows, []int{3}) || !reflect.DeepEqual(ledger.rows, []int{4, 7}) {
		t.Errorf("rows: %v %v %v", lamp.rows, solo.rows, ledger.rows)
	}
	want := ProductInput{Kind: "goods", Name: "Lamp", Summary: "Bright", Category: "Home", Status: "active",
		Attributes: []Attribute{{"Color", "Red"}, {"Note", "x|y"}},
		SKUs: []SKUInput{
			{Code: "LAMP-S", Name: "Small", Prices: []PriceInput{{1000, "USD"}, {7000, "CNY"}}, WeightGrams: 300, HSCode: "9405.10", OriginCountry: "de"},
			{Code: "LAMP-L", Name: "Large", Prices: []PriceInput{{2000, "USD"}}},
		}}
	if !reflect.DeepEqual(lamp.in, want) {
		t.Errorf("lamp = %+v\nwant   %+v", lamp.in, want)
	}
	plan := ledger.in.SKUs[1].Plan
	if plan == nil || plan.Tier != "paid" || plan.Interval != "year" || !plan.PerSeat || plan.TrialDays != 14 ||
		!reflect.DeepEqual(plan.Features, []string{"Invoices", "A|B"}) || ledger.in.SKUs[0].Plan.Tier != "free" {
		t.Errorf("plans: %+v %+v", ledger.in.SKUs[0].Plan, plan)
	}
	for _, p := range ps {
		if len(p.errs) > 0 {
			t.Errorf("unexpected errors: %+v", p.errs)
		}
	}
}

func TestParseProductsCSVValueErrors(t *testing.T) {
	data := csvHeader +
		"a,goods,Lamp,,,,Color,L-1,One,USD 100,heavy,,,,,,,\n" +
		"a,saas,Other name,,,,,L-2,Two,USD:100,,,,paid,month,maybe,-1,\n"
	ps, err := parseProductsCSV([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ps[0].problems(nil) {
		got = append(got, strings.Join([]string{itoa(int64(e.Row)), e.Column, e.Field, e.Code}, " "))
	}
	want := []string{
		"2 attributes attributes invalid_attributes",
		"2 prices skus[0].prices invalid_prices",
		"2 weight_grams skus[0].weight_grams invalid_number",
		"3 kind kind inconsistent_product",
		"3 name name inconsistent_product",
		"3 plan_per_seat skus[1].plan.per_seat invalid_boolean",
		"3 plan_trial_days skus[1].plan.trial_days invalid_number",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseProductsCSVRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		data   string
		code   string
		fields map[string]string
	}{
		"empty":      {"  \n", "empty_body", nil},
		"header":     {"product_key,kind,Name,color\n", "invalid_csv_header", map[string]string{"color": "unknown_column", "sku_code": "missing_column"}},
		"duplicate":  {strings.TrimSuffix(csvHeader, "\n") + ",kind\n", "invalid_csv_header", map[string]string{"kind": "duplicate_column"}},
		"no rows":    {csvHeader + ",,,,,,,,,,,,,,,,,\n", "csv_no_rows", nil},
		"fields":     {csvHeader + "a,goods\n", "csv_field_count", nil},
		"quote":      {csvHeader + "a,\"goods\"x,,,,,,,,,,,,,,,,\n", "csv_syntax", nil},
		"bom header": {"\xEF\xBB\xBF" + csvHeader, "csv_no_rows", nil},
	} {
		_, err := parseProductsCSV([]byte(tc.data))
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != tc.code || ae.Kind != apperr.KindInvalid {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
			continue
		}
		for f, code := range tc.fields {
			if ae.Fields[f].Code != code {
				t.Errorf("%s: field %s = %q, want %s (%v)", name, f, ae.Fields[f].Code, code, ae.Fields)
			}
		}
	}
	_, err := parseProductsCSV([]byte(csvHeader + "a,goods,Lamp,,,,,L-1,One,USD:1,,,,,,,,\nb,goods\n"))
	if ae := apperr.As(err); ae.Args["Line"] != 3 {
		t.Errorf("field count names line %v, want 3", ae.Args)
	}
}

func TestLocateFieldErrors(t *testing.T) {
	p := &csvProduct{rows: []int{4, 9, 12}}
	for field, want := range map[string]string{
		"name":                       "4 name",
		"kind":                       "4 kind",
		"description":                "4 ",
		"attributes[1].key":          "4 attributes",
		"skus":                       "4 ",
		"skus[1]":                    "9 ",
		"skus[1].code":               "9 sku_code",
		"skus[2].prices[1].currency": "12 prices",
		"skus[2].prices":             "12 prices",
		"skus[0].plan":               "4 plan_tier",
		"skus[1].plan.interval":      "9 plan_interval",
		"skus[1].plan.features[3]":   "9 plan_features",
		"skus[2].hs_code":            "12 hs_code",
		"skus[7].name":               "4 sku_name", // past the rows: the product's first
	} {
		row, col := p.locate(field)
		if got := itoa(int64(row)) + " " + col; got != want {
			t.Errorf("locate(%q) = %q, want %q", field, got, want)
		}
	}
}

func TestListEscapes(t *testing.T) {
	for _, v := range []string{"plain", "a|b", `back\slash`, "k=v", `\|=`, "", "中文|x"} {
		esc := escapeList(v, "|=")
		parts := splitList(esc+"|next", '|')
		if len(parts) != 2 || unescapeList(parts[0]) != v || parts[1] != "next" {
			t.Errorf("%q → %q → %q", v, esc, parts)
		}
		k, val, ok := cutList(escapeList(v, "|=")+"=x", '=')
		if !ok || unescapeList(k) != v || val != "x" {
			t.Errorf("cut %q: %q %q %v", v, k, val, ok)
		}
	}
}

func TestCSVRowRoundTrip(t *testing.T) {
	p := &ProductView{ID: 7, Kind: KindSaaS, Name: `Desk "Pro", 桌子`, Status: StatusActive,
		Attributes: []Attribute{{"A|B", "x=y"}}}
	k := &SKUView{Code: "D-1", Name: "One", Prices: []Money{{100, "CNY"}, {15, "USD"}},
		Plan: &PlanView{Tier: TierPaid, Interval: IntervalYear, PerSeat: true, TrialDays: 3, Features: []string{"a|b", "c"}}}
	row := csvRow(p, k)
	var b strings.Builder
	b.WriteString(csvHeader)
	b.WriteString(strings.Join(quoteAll(row), ",") + "\n")
	ps, err := parseProductsCSV([]byte(b.String()))
	if err != nil || len(ps) != 1 || len(ps[0].errs) != 0 {
		t.Fatalf("%v %+v", err, ps)
	}
	in := ps[0].in
	if in.Name != p.Name || !reflect.DeepEqual(in.Attributes, p.Attributes) || in.SKUs[0].Plan.Features[0] != "a|b" ||
		!reflect.DeepEqual(in.SKUs[0].Prices, []PriceInput{{100, "CNY"}, {15, "USD"}}) {
		t.Errorf("round trip: %+v", in)
	}
}

func quoteAll(row []string) []string {
	out := make([]string, len(row))
	for i, v := range row {
		out[i] = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	return out
}
