// Package server wires saasmall together: it opens the store, runs the
// migrations, builds every service and the web layer, registers background
// jobs, and serves.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"saasmall/policies"
	"saasmall/server/analytics"
	"saasmall/server/audit"
	"saasmall/server/auth"
	"saasmall/server/i18n"
	"saasmall/server/imports"
	"saasmall/server/jobs"
	"saasmall/server/mall"
	"saasmall/server/store"
	"saasmall/server/warehouse"
	"saasmall/server/web"
	"saasmall/tenants"
)

// Config configures a saasmall server process.
type Config struct {
	DB         string // sqlite:PATH or postgres://…
	Addr       string // listen address for Run (default 127.0.0.1:8080)
	Demo       bool   // seed the demo mall once and print its sign-ins
	Durability store.Durability
	Log        *slog.Logger
	Auth       auth.Config // session lifetimes, login limits, clock
	JobPoll    time.Duration
	BodyLimit  int
	// BaseURL is the mall's public URL, e.g. https://mall.example.com.
	BaseURL string
	// ReservationTTL is how long an unpaid order holds its stock (default 15 min).
	ReservationTTL time.Duration
}

// JobSlice is how long one run of a long job (a product import, a rebuild of
// the dashboard's rollup) works before it leaves the rest for a later run:
// the runner does one job at a time, so it must not hold up the outbox relay
// or order expiry for long.
const JobSlice = 5 * time.Second

// Server is one saasmall process.
type Server struct {
	cfg      Config
	DB       *store.DB
	I18n     *i18n.Bundle
	Auth     *auth.Service
	Tenants  *tenants.Service
	Policies *policies.Service
	Mall     *mall.Service
	Stock    *warehouse.Service
	Audit    *audit.Log
	Jobs     *jobs.Runner
	// Imports runs the CSV imports of every kind (as jobs): products, stock
	// counts and supplier price lists.
	Imports *imports.Service
	// ProductCSV exports products as CSV; it is the products kind of Imports.
	ProductCSV *mall.Importer
	// Analytics answers the staff dashboard.
	Analytics *analytics.Service
	Web       *web.Server
	// DemoLogins are the demo sign-ins when Config.Demo seeded them.
	DemoLogins []DemoLogin

	bgOnce sync.Once
	bgStop context.CancelFunc
	bgDone sync.WaitGroup
}

// Migrations lists every package's migrations in order.
func Migrations() []*store.Migration {
	var ms []*store.Migration
	ms = append(ms, store.Migrations()...)
	ms = append(ms, jobs.Migrations()...)
	ms = append(ms, auth.Migrations()...)
	ms = append(ms, policies.Migrations()...)
	ms = append(ms, audit.Migrations()...)
	ms = append(ms, tenants.Migrations()...)
	ms = append(ms, warehouse.Migrations()...)
	ms = append(ms, mall.Migrations()...)
	ms = append(ms, imports.Migrations()...)
	ms = append(ms, analytics.Migrations()...) // indexes on the mall's tables: after them
	return ms
}

// Open opens and migrates the database.
func Open(ctx context.Context, cfg Config) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{DSN: cfg.DB, Durability: cfg.Durability, Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, Migrations()); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// New opens the database, migrates it, and builds every service.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	db, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, DB: db, I18n: i18n.New()}
	s.Audit = audit.New(db)
	s.Auth = auth.New(db, cfg.Auth)
	s.Policies, err = policies.New(db, s.Audit)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.Tenants = tenants.New(db, s.Auth, s.Policies, s.Audit)
	s.Stock = warehouse.New(db, warehouse.SKUCheckerFunc(func(ctx context.Context, id int64) (bool, error) { return s.Mall.GoodsSKU(ctx, id) }))
	s.Tenants.OnCreate(s.Stock.CreateDefault)
	s.Tenants.OnStatusChange(func(ctx context.Context, t *tenants.Tenant) error { return s.Mall.TenantChanged(ctx, t.ID) })
	s.Mall = mall.New(db, s.Stock, s.Tenants, mall.Config{Now: cfg.Auth.Now, Log: cfg.Log, ReservationTTL: cfg.ReservationTTL})
	s.Jobs = jobs.New(db, jobs.Options{Poll: cfg.JobPoll, Log: cfg.Log})
	s.ProductCSV = mall.NewImporter(s.Mall)
	s.Imports = imports.New(db, s.Jobs, s.Tenants, cfg.Auth.Now)
	s.Imports.Register(s.ProductCSV)
	s.Imports.Register(warehouse.NewCountImport(s.Stock, s.Mall))
	s.Imports.Register(warehouse.NewPriceListImport(s.Stock, s.Mall))
	s.Analytics = analytics.New(db, analytics.Config{Now: cfg.Auth.Now, Log: cfg.Log})
	s.registerJobs()
	s.Web = web.New(web.Deps{Auth: s.Auth, Tenants: s.Tenants, Policies: s.Policies, Audit: s.Audit, Mall: s.Mall, Stock: s.Stock,
		Imports: s.Imports, ProductCSV: s.ProductCSV, Analytics: s.Analytics, I18n: s.I18n, DB: db, Log: cfg.Log}, web.Config{BodyLimit: cfg.BodyLimit, BaseURL: cfg.BaseURL})
	if cfg.Demo {
		if s.DemoLogins, err = SeedDemo(ctx, s); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("demo seed: %w", err)
		}
	}
	if err := s.Mall.Catalog.Load(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return s, nil
}

func (s *Server) registerJobs() {
	s.Jobs.Every("auth.session_cleanup", time.Hour, func(ctx context.Context, _ []byte) error {
		n, err := s.Auth.Cleanup(ctx)
		if n > 0 {
			s.cfg.Log.Info("session clean-up", "deleted", n)
		}
		return err
	})
	s.Jobs.Every("mall.expire_orders", 15*time.Second, func(ctx context.Context, _ []byte) error {
		_, err := s.Mall.ExpireOrders(ctx, 500)
		return err
	})
	s.Jobs.Every("mall.count_sales", 2*time.Second, func(ctx context.Context, _ []byte) error {
		// Short transactions (200 orders each, a few milliseconds of the
		// writer) until all are counted.
		for range 100 {
			n, err := s.Mall.CountSales(ctx, 200)
			if err != nil || n < 200 {
				return err
			}
		}
		return nil
	})
	// Replenishment drafts purchase orders for stock below its reorder
	// point, tenant by tenant.
	s.Jobs.Every("warehouse.replenish", 15*time.Minute, func(ctx context.Context, _ []byte) error {
		ids, err := s.Stock.TenantsWithRules(ctx)
		if err != nil || len(ids) == 0 {
			return err
		}
		ts, err := s.Tenants.ByIDs(ctx, ids)
		if err != nil {
			return err
		}
		var errs []error
		for i := range ts {
			if ts[i].Status != tenants.StatusActive {
				continue
			}
			if _, err := s.Stock.Replenish(tenants.WithTenant(ctx, &ts[i])); err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: %w", ts[i].Slug, err))
			}
		}
		return errors.Join(errs...)
	})
	s.Jobs.Every("mall.renew_subscriptions", 5*time.Minute, func(ctx context.Context, _ []byte) error {
		_, err := s.Mall.RenewSubscriptions(ctx)
		return err
	})
	s.Jobs.Every("mall.prune", time.Hour, func(ctx context.Context, _ []byte) error {
		return s.Mall.Prune(ctx)
	})
	// The dashboard's rollup follows the orders; a first build (or a
	// rebuild) goes on over several runs.
	s.Jobs.Every("analytics.rollup", 15*time.Second, func(ctx context.Context, _ []byte) error {
		_, err := s.Analytics.Refresh(ctx, JobSlice)
		return err
	})
	// A CSV import (products, stock counts, price lists) runs in slices of
	// JobSlice, each queueing the next behind the jobs already due. Product
	// imports queued before imports had kinds carry the legacy job kind.
	s.Jobs.Handle(imports.JobKind, s.Imports.Handle(JobSlice))
	s.Jobs.Handle(imports.LegacyJobKind, s.Imports.Handle(JobSlice))
	// Until the docking hub delivers webhooks, relayed events go nowhere.
	noop := store.SinkFunc(func(context.Context, store.OutboxEvent) error { return nil })
	s.Jobs.Every("outbox.relay", 2*time.Second, func(ctx context.Context, _ []byte) error {
		_, err := s.DB.RelayOutbox(ctx, noop, 500)
		return err
	})
}

// App is the HTTP handler (Fiber app): served by Run, or handed to Wails.
func (s *Server) App() *fiber.App { return s.Web.App() }

// StartBackground starts the job runner and the policy watcher until ctx
// ends or Close is called. It is idempotent.
func (s *Server) StartBackground(ctx context.Context) {
	s.bgOnce.Do(func() {
		ctx, cancel := context.WithCancel(ctx)
		s.bgStop = cancel
		s.bgDone.Add(3)
		go func() {
			defer s.bgDone.Done()
			s.Mall.Catalog.Run(ctx, 200*time.Millisecond)
		}()
		go func() {
			defer s.bgDone.Done()
			if err := s.Jobs.Run(ctx); err != nil {
				s.cfg.Log.Error("jobs stopped", "err", err)
			}
		}()
		stopWatcher := s.Policies.StartWatcher(ctx)
		go func() {
			defer s.bgDone.Done()
			<-ctx.Done()
			stopWatcher()
		}()
	})
}

// Run serves HTTP on cfg.Addr with the background work until ctx ends, then
// shuts down gracefully (in-flight requests finish, up to 10 s).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.StartBackground(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.App().Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.cfg.Log.Info("shutting down")
	if err := s.App().ShutdownWithTimeout(10 * time.Second); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// Close stops background work and closes the database.
func (s *Server) Close() error {
	if s.bgStop != nil {
		s.bgStop()
		s.bgDone.Wait()
	}
	return s.DB.Close()
}
