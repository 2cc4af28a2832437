package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestBenchSmoke runs the whole harness with tiny settings: it seeds, serves,
// signs shoppers in, measures every endpoint and reports, with no request
// failing.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and drives load for a few seconds")
	}
	var out bytes.Buffer
	o := defaultOptions()
	o.Duration, o.Warmup = 300*time.Millisecond, 100*time.Millisecond
	o.Conns, o.Products, o.Stores, o.Shoppers, o.SeedWorkers, o.Orders = 4, 200, 2, 8, 2, 500
	o.JSON, o.Out = true, &out
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := run(ctx, o)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())

	if rep.Seeding == nil || rep.Seeding.Products != 200 || rep.Seeding.CatalogDocs != 200 {
		t.Errorf("seeding = %+v, want 200 products in the read model", rep.Seeding)
	}
	got := map[string]*Result{}
	for _, r := range rep.Results {
		got[r.Name] = r
	}
	for _, name := range allEndpoints {
		r := got[name]
		switch {
		case r == nil:
			t.Errorf("%s: not measured", name)
		case r.Ops == 0 || r.PerSec <= 0 || r.P50ms <= 0:
			t.Errorf("%s: no measurements: %+v", name, r)
		case r.Errors > 0:
			t.Errorf("%s: %d request errors: %v", name, r.Errors, r.ErrorSamples)
		}
	}
	if r := got[epCheckout]; r != nil {
		if r.Orders < r.Ops-r.Errors || r.OrdersPerSec <= 0 || r.HTTPRequests < 2*r.Ops {
			t.Errorf("checkout: %d orders, %d HTTP requests for %d ops", r.Orders, r.HTTPRequests, r.Ops)
		}
		if r.Target == "" || r.Met == nil {
			t.Errorf("checkout: target not judged: %+v", r)
		}
	}
	if r := got[epSearch]; r != nil && (r.Ratio == nil || r.Met == nil) {
		t.Errorf("search: ratio or target not judged: %+v", r)
	}
	if sh := rep.Seeding.Shoppers; sh == nil || sh.Rounds < 1 || sh.FillErrors != 0 {
		t.Errorf("shoppers = %+v, want at least one round and no fill errors", sh)
	}

	text := out.String()
	for _, want := range []string{"ceiling", "search", "detail", "storefront", "checkout+pay", "÷ceiling", "orders/s"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The JSON document follows the table.
	i := strings.Index(text, "\n{")
	if i < 0 {
		t.Fatalf("no JSON in the output")
	}
	var back Report
	if err := json.Unmarshal([]byte(text[i+1:]), &back); err != nil {
		t.Fatalf("JSON output: %v", err)
	}
	if len(back.Results) != len(allEndpoints) {
		t.Errorf("JSON results: %d, want %d", len(back.Results), len(allEndpoints))
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Options)
		want string
	}{
		{func(o *Options) { o.Duration = 0 }, "-duration"},
		{func(o *Options) { o.Conns = 0 }, "-conns"},
		{func(o *Options) { o.DB = "mysql://x" }, "-db"},
		{func(o *Options) { o.Only = []string{"nope"} }, "-only"},
	} {
		o := defaultOptions()
		tc.mod(&o)
		if err := o.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("validate() = %v, want an error about %s", err, tc.want)
		}
	}
	o := defaultOptions()
	if err := o.validate(); err != nil || o.Shoppers != 8*o.Conns {
		t.Errorf("defaults: err %v, shoppers %d", err, o.Shoppers)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
