package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"saasmall/server"
)

// Endpoint names, in the order they are measured.
const (
	epCeiling    = "ceiling"
	epSearch     = "search"
	epDetail     = "detail"
	epStorefront = "storefront"
	epCheckout   = "checkout"
	epDashboard  = "dashboard"
)

var allEndpoints = []string{epCeiling, epSearch, epDetail, epStorefront, epCheckout, epDashboard}

// Options configure one benchmark run.
type Options struct {
	Duration    time.Duration
	Warmup      time.Duration
	Conns       int
	Products    int
	Stores      int
	Orders      int // orders of the dashboard's store
	Shoppers    int // 0: 8 per connection
	SeedWorkers int
	DB          string // "" (SQLite in a temp dir) or a postgres:// DSN
	JSON        bool
	Strict      bool
	CPUProfile  string
	// ContentionProfile: prefix of mutex and block profiles per endpoint.
	ContentionProfile string
	Keep              bool
	Seed              int64
	Only              []string
	Out               io.Writer // the results table (and JSON)
	Progress          io.Writer // progress lines; nil: none
}

func defaultOptions() Options {
	return Options{Duration: 10 * time.Second, Warmup: time.Second, Conns: 64, Products: 10_000, Stores: 20,
		Orders: dashboardOrders, SeedWorkers: 4, Seed: 1}
}

func (o *Options) validate() error {
	switch {
	case o.Duration <= 0:
		return errors.New("-duration must be positive")
	case o.Warmup < 0:
		return errors.New("-warmup must not be negative")
	case o.Conns < 1:
		return errors.New("-conns must be at least 1")
	case o.Orders < 1:
		return fmt.Errorf("-orders must be at least 1")
	case o.Products < 1:
		return errors.New("-products must be at least 1")
	case o.Stores < 1 || o.Stores > 500:
		return errors.New("-stores must be 1..500")
	case o.Shoppers < 0:
		return errors.New("-shoppers must not be negative")
	case o.DB != "" && !strings.HasPrefix(o.DB, "postgres://") && !strings.HasPrefix(o.DB, "postgresql://"):
		return errors.New("-db must be a postgres:// DSN (SQLite is the default)")
	}
	if o.SeedWorkers < 1 {
		o.SeedWorkers = 1
	}
	if o.Shoppers == 0 {
		o.Shoppers = 8 * o.Conns
	}
	for _, e := range o.Only {
		if !slices.Contains(allEndpoints, e) {
			return fmt.Errorf("-only: unknown endpoint %q (want %s)", e, strings.Join(allEndpoints, ","))
		}
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return nil
}

func (o *Options) wants(ep string) bool { return len(o.Only) == 0 || slices.Contains(o.Only, ep) }

func (o *Options) logf(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "saasbench: "+format+"\n", args...)
	}
}

// env is the running system under test.
type env struct {
	o       *Options
	srv     *server.Server
	base    string // http://127.0.0.1:port of the mall
	client  *fasthttp.HostClient
	dialect string
	where   string // the database, for -keep
	cleanup []func()
}

func (e *env) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

// run seeds, measures and reports. Request errors and missed targets are in
// the report; an error return means the harness itself failed.
func run(ctx context.Context, o Options) (*Report, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	rep := &Report{Config: reportConfig(&o), Machine: machineInfo()}
	e := &env{o: &o}
	defer e.close()

	if err := e.start(ctx); err != nil {
		return nil, err
	}
	rep.Config.Database = e.dialect

	cat, seedRep, err := seed(ctx, e)
	rep.Seeding = seedRep
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if err := e.serve(ctx); err != nil {
		return nil, err
	}

	var ceiling *Result
	if o.wants(epCeiling) {
		r, err := measureCeiling(ctx, e)
		if err != nil {
			return nil, err
		}
		ceiling = r
		rep.Results = append(rep.Results, r)
	}
	gets := []struct {
		name string
		gen  func(c *catalogData) pathGen
	}{
		{epSearch, searchGen},
		{epDetail, detailGen},
		{epStorefront, storefrontGen},
	}
	for _, g := range gets {
		if !o.wants(g.name) {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r, err := measureGET(ctx, e, g.name, e.client, e.base, g.gen(cat))
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, r)
	}
	if o.wants(epCheckout) {
		r, shopRep, err := measureCheckout(ctx, e, cat)
		rep.Seeding.Shoppers = shopRep
		if err != nil {
			return nil, fmt.Errorf("checkout: %w", err)
		}
		rep.Results = append(rep.Results, r)
	}
	if o.wants(epDashboard) {
		r, err := measureDashboard(ctx, e, cat)
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		rep.Results = append(rep.Results, r)
	}
	rep.judge(ceiling)
	if o.Keep {
		rep.Kept = e.where
	}
	rep.print(o.Out)
	if o.JSON {
		if err := rep.printJSON(o.Out); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// start builds the server on a fresh database (not serving yet: seeding runs
// first without the background refresh competing for the writer).
func (e *env) start(ctx context.Context) error {
	o := e.o
	dsn := ""
	if o.DB == "" {
		dir, err := os.MkdirTemp("", "saasbench-")
		if err != nil {
			return err
		}
		if o.Keep {
			e.where = dir
		} else {
			e.cleanup = append(e.cleanup, func() { _ = os.RemoveAll(dir) })
		}
		dsn = "sqlite:" + filepath.Join(dir, "bench.db")
		e.dialect = "sqlite"
	} else {
		var err error
		if dsn, err = e.freshSchema(ctx, o.DB); err != nil {
			return err
		}
		e.dialect = "postgres"
	}
	cfg := server.Config{DB: dsn, Log: slog.New(slog.DiscardHandler)}
	// Every shopper signs in from 127.0.0.1: lift the per-IP login limit.
	cfg.Auth.IPBurst = 1 << 30
	cfg.Auth.IPEvery = time.Nanosecond
	t0 := time.Now()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	o.logf("server ready on a fresh %s database in %s", e.dialect, time.Since(t0).Round(time.Millisecond))
	e.srv = srv
	e.cleanup = append(e.cleanup, func() { _ = srv.Close() })
	return nil
}

// freshSchema creates a new schema in the PostgreSQL database and returns a
// DSN whose search_path is that schema, so every run starts empty.
func (e *env) freshSchema(ctx context.Context, dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("-db: %w", err)
	}
	schema := fmt.Sprintf("saasbench_%d", time.Now().UnixNano())
	g, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return "", err
	}
	if err := g.WithContext(ctx).Exec("CREATE SCHEMA " + schema).Error; err != nil {
		_ = sqlDB.Close()
		return "", fmt.Errorf("postgres: create schema: %w", err)
	}
	if e.o.Keep {
		e.where = dsn + " schema " + schema
		e.cleanup = append(e.cleanup, func() { _ = sqlDB.Close() })
	} else {
		e.cleanup = append(e.cleanup, func() {
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = g.WithContext(dctx).Exec("DROP SCHEMA " + schema + " CASCADE").Error
			_ = sqlDB.Close()
		})
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// serve starts the mall on a loopback port and the client that measures it.
func (e *env) serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(sctx, ln) }()
	e.base = "http://" + ln.Addr().String()
	e.client = newClient(ln.Addr().String(), e.o.Conns)
	e.cleanup = append(e.cleanup, func() {
		e.client.CloseIdleConnections()
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
		}
	})
	return waitHealthy(ctx, e.client, e.base+"/healthz")
}

func newClient(addr string, conns int) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:                      addr,
		Name:                      "saasbench",
		MaxConns:                  conns,
		MaxIdleConnDuration:       time.Minute,
		ReadTimeout:               30 * time.Second,
		WriteTimeout:              30 * time.Second,
		MaxConnWaitTimeout:        30 * time.Second,
		MaxIdemponentCallAttempts: 1, // a failed GET is an error, not a silent retry
		MaxResponseBodySize:       16 << 20,
	}
}

func waitHealthy(ctx context.Context, c *fasthttp.HostClient, u string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, err := c.Get(nil, u)
		if err == nil && code == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not healthy at %s: status %d, %v", u, code, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// measureCeiling runs a bare Fiber v2 app in this process on another port and
// measures GET /ping with the same client settings.
func measureCeiling(ctx context.Context, e *env) (*Result, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ping", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"ok": true, "service": "ping"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = app.Listener(ln) }()
	defer func() { _ = app.ShutdownWithTimeout(5 * time.Second) }()
	c := newClient(ln.Addr().String(), e.o.Conns)
	defer c.CloseIdleConnections()
	base := "http://" + ln.Addr().String()
	if err := waitHealthy(ctx, c, base+"/ping"); err != nil {
		return nil, err
	}
	return measureGET(ctx, e, epCeiling, c, base, func(_ *randSrc, b []byte) []byte { return append(b, "/ping"...) })
}

func machineInfo() Machine {
	m := Machine{GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH}
	m.LoadAvg = loadAvg()
	return m
}

// loadAvg is the system's 1, 5 and 15 minute load averages ("" if unknown).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}
