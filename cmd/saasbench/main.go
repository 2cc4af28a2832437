// Command saasbench is saasmall's load benchmark (`make bench`).
//
// It starts the real server in this process on a loopback port with a fresh
// database (a temporary SQLite file, or a fresh schema of the PostgreSQL
// database given with -db), seeds a catalog of products across brand stores
// through the service layer, signs shoppers in over HTTP, and then measures,
// with -conns concurrent keep-alive connections of a fasthttp client and
// varied inputs (so a response cache alone cannot pass):
//
//	ceiling     a bare Fiber v2 app in the same process: GET /ping (c.JSON)
//	search      GET /api/v1/products?… random terms, filters, sorts, pages
//	detail      GET /api/v1/products/{random id}
//	storefront  GET /p/{random id} (HTML)
//	checkout    POST /api/v1/checkout then POST /api/v1/orders/{id}/pay for
//	            each order, per shopper with a cart filled outside the timed
//	            window
//
// It prints requests/s, p50, p99, errors and the ratio to the ceiling next to
// the targets of DESIGN.md ("Hot paths"). It exits non-zero on an error of
// the harness itself; missed targets (and request errors) only with -strict.
//
//	go run ./cmd/saasbench [-duration 10s] [-conns 64] [-products 10000]
//	    [-stores 20] [-db postgres://…] [-json] [-strict] [-cpuprofile PREFIX]
//	    [-contentionprofile PREFIX] [-only search,detail,…] [-shoppers N]
//	make bench BENCHFLAGS="-duration 5s -json"
//
// Profiles cover the measured windows only; the client runs in the same
// process, so its frames (fasthttp.(*HostClient), main.*) appear beside the
// server's. Checkout writes one CPU profile per timed round
// (PREFIX.checkout-rNN.pprof): `go tool pprof -top PREFIX.checkout-r*.pprof`
// merges them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	o := defaultOptions()
	o.Out = os.Stdout
	o.Progress = os.Stderr
	fs := flag.NewFlagSet("saasbench", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: saasbench [flags]\n\nLoad benchmark of saasmall (see cmd/saasbench/main.go).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured time per endpoint")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "unmeasured load before each GET endpoint")
	fs.IntVar(&o.Conns, "conns", o.Conns, "concurrent connections (one worker each)")
	fs.IntVar(&o.Products, "products", o.Products, "active products to seed")
	fs.IntVar(&o.Orders, "orders", o.Orders, "orders of the store whose staff dashboard is measured")
	fs.IntVar(&o.Stores, "stores", o.Stores, "brand stores (tenants) to seed")
	fs.IntVar(&o.Shoppers, "shoppers", o.Shoppers, "checkout shoppers, each with its own cart, refilled between timed rounds (0: 8 per connection)")
	fs.IntVar(&o.SeedWorkers, "seed-workers", o.SeedWorkers, "goroutines calling CreateProduct while seeding")
	fs.StringVar(&o.DB, "db", "", "PostgreSQL DSN (postgres://…) to bench instead of SQLite; a fresh schema is created and dropped")
	fs.BoolVar(&o.JSON, "json", false, "also print the results as JSON")
	fs.BoolVar(&o.Strict, "strict", false, "exit 3 when a target is missed or a request failed")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of each endpoint's measured window to PREFIX.<endpoint>.pprof")
	fs.StringVar(&o.ContentionProfile, "contentionprofile", "", "write mutex and block profiles to PREFIX.<endpoint>.{mutex,block}.pprof (sampled in measured windows, cumulative: use with -only)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the database (SQLite temp dir / PostgreSQL schema) and print where it is")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed of the catalog and the inputs")
	only := fs.String("only", "", "comma-separated endpoints to measure: "+strings.Join(allEndpoints, ","))
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "saasbench: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "saasbench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "saasbench: done in %s\n", time.Since(start).Round(100*time.Millisecond))
	if o.Strict && !rep.Pass {
		fmt.Fprintln(os.Stderr, "saasbench: -strict: a target was missed or a request failed")
		os.Exit(3)
	}
}
