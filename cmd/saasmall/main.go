// Command saasmall is the headless mall server and its admin tools.
//
//	saasmall serve [--addr 127.0.0.1:8080] [--db sqlite:./data/saasmall.db|postgres://…] [--demo]
//	saasmall migrate
//	saasmall seed demo
//	saasmall tenant create --slug --name --admin-email --admin-password
//	saasmall operator create --email --password --name
//	saasmall backup PATH
//
// Every flag also reads an environment variable: --db from SAASMALL_DB,
// --admin-email from SAASMALL_ADMIN_EMAIL, and so on.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/peterbourgon/ff/v3"
	"github.com/peterbourgon/ff/v3/ffcli"

	"saasmall/server"
	"saasmall/server/apperr"
	"saasmall/server/auth"
	"saasmall/server/store"
	"saasmall/tenants"
)

const defaultDB = "sqlite:./data/saasmall.db"

type common struct {
	db         string
	durability string
	logLevel   string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", defaultDB, "database: sqlite:PATH or postgres://user:pass@host/db")
	fs.StringVar(&c.durability, "durability", "normal", "SQLite durability: normal (WAL, synchronous=NORMAL) or full (synchronous=FULL)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
}

func (c *common) config() (server.Config, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return server.Config{}, fmt.Errorf("--log-level: %w", err)
	}
	d := store.Durability(c.durability)
	if d != store.DurabilityNormal && d != store.DurabilityFull {
		return server.Config{}, fmt.Errorf("--durability must be normal or full, not %q", c.durability)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	slog.SetDefault(log)
	return server.Config{DB: c.db, Durability: d, Log: log}, nil
}

func newFlagSet(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ContinueOnError) }

var opts = []ff.Option{ff.WithEnvVarPrefix("SAASMALL")}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &ffcli.Command{
		Name:       "saasmall",
		ShortUsage: "saasmall <serve|migrate|seed|tenant|operator|backup> [flags]",
		ShortHelp:  "the saasmall multi-tenant SaaS mall",
		Subcommands: []*ffcli.Command{
			serveCmd(), migrateCmd(), seedCmd(), tenantCmd(), operatorCmd(), backupCmd(),
		},
		Exec: func(context.Context, []string) error { return flag.ErrHelp },
	}
	if err := root.ParseAndRun(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, ffcli.DefaultUsageFunc(root))
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "saasmall:", describe(err))
		os.Exit(1)
	}
}

// describe prints field errors readably for the terminal.
func describe(err error) string {
	var ae *apperr.Error
	if errors.As(err, &ae) && len(ae.Fields) > 0 {
		var b strings.Builder
		b.WriteString(ae.Code)
		for name, f := range ae.Fields {
			fmt.Fprintf(&b, "\n  %s: %s", name, f.Code)
			for k, v := range f.Args {
				fmt.Fprintf(&b, " %s=%v", k, v)
			}
		}
		return b.String()
	}
	return err.Error()
}

func serveCmd() *ffcli.Command {
	fs := newFlagSet("serve")
	var c common
	c.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	demo := fs.Bool("demo", false, "seed the demo mall once and print its sign-ins")
	baseURL := fs.String("base-url", "", "public URL of the mall for links and QR codes (default: the request's own)")
	return &ffcli.Command{
		Name: "serve", ShortUsage: "saasmall serve [--addr] [--db] [--demo]", ShortHelp: "serve the mall and run background jobs",
		FlagSet: fs, Options: opts,
		Exec: func(ctx context.Context, _ []string) error {
			cfg, err := c.config()
			if err != nil {
				return err
			}
			cfg.Addr, cfg.Demo, cfg.BaseURL = *addr, *demo, *baseURL
			srv, err := server.New(ctx, cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			fmt.Printf("saasmall serving http://%s (database %s)\n", cfg.Addr, redact(cfg.DB))
			if len(srv.DemoLogins) > 0 {
				fmt.Println("demo sign-ins (password for all: " + server.DemoPassword + "):")
				for _, l := range srv.DemoLogins {
					where := "mall"
					if l.Tenant != "" {
						where = l.Tenant
					}
					fmt.Printf("  %-18s %-10s %s\n", l.Role, where, l.Email)
				}
			}
			return srv.Run(ctx)
		},
	}
}

// redact hides a PostgreSQL password in logs.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.Index(dsn[i+3:], "@"); j >= 0 {
			cred := dsn[i+3 : i+3+j]
			if k := strings.Index(cred, ":"); k >= 0 {
				return dsn[:i+3] + cred[:k] + ":***" + dsn[i+3+j:]
			}
		}
	}
	return dsn
}

func migrateCmd() *ffcli.Command {
	fs := newFlagSet("migrate")
	var c common
	c.register(fs)
	return &ffcli.Command{
		Name: "migrate", ShortUsage: "saasmall migrate [--db]", ShortHelp: "apply database migrations",
		FlagSet: fs, Options: opts,
		Exec: func(ctx context.Context, _ []string) error {
			cfg, err := c.config()
			if err != nil {
				return err
			}
			db, err := server.Open(ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Println("migrations applied")
			return db.Close()
		},
	}
}

func seedCmd() *ffcli.Command {
	fs := newFlagSet("seed")
	var c common
	c.register(fs)
	return &ffcli.Command{
		Name: "seed", ShortUsage: "saasmall seed demo [--db]", ShortHelp: "seed the demo mall (once)",
		FlagSet: fs, Options: opts,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) != 1 || args[0] != "demo" {
				return fmt.Errorf("usage: saasmall seed demo")
			}
			cfg, err := c.config()
			if err != nil {
				return err
			}
			cfg.Demo = true
			srv, err := server.New(ctx, cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			for _, l := range srv.DemoLogins {
				fmt.Printf("%-18s %-10s %s\n", l.Role, l.Tenant, l.Email)
			}
			return nil
		},
	}
}

func tenantCmd() *ffcli.Command {
	fs := newFlagSet("tenant create")
	var c common
	c.register(fs)
	var in tenants.CreateInput
	fs.StringVar(&in.Slug, "slug", "", "URL name of the tenant's brand store (a-z, 0-9, -)")
	fs.StringVar(&in.Name, "name", "", "display name")
	fs.StringVar(&in.DefaultCurrency, "currency", "USD", "default ISO 4217 currency")
	fs.StringVar(&in.DefaultLocale, "locale", "en", "default locale: en or zh-Hans")
	tax := fs.Int("tax-rate-bp", 0, "tax rate in basis points (1300 = 13%)")
	fs.StringVar(&in.AdminEmail, "admin-email", "", "the first administrator's email (created if new)")
	fs.StringVar(&in.AdminPassword, "admin-password", "", "the first administrator's password (when the account is new)")
	fs.StringVar(&in.AdminName, "admin-name", "", "the first administrator's name")
	create := &ffcli.Command{
		Name: "create", ShortUsage: "saasmall tenant create --slug --name --admin-email --admin-password", ShortHelp: "provision a tenant",
		FlagSet: fs, Options: opts,
		Exec: func(ctx context.Context, _ []string) error {
			cfg, err := c.config()
			if err != nil {
				return err
			}
			srv, err := server.New(ctx, cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			in.TaxRateBP = tax
			t, err := srv.Tenants.Create(ctx, in)
			if err != nil {
				return err
			}
			fmt.Printf("tenant %s (%s) created with id %d; owner %s\n", t.Slug, t.Name, t.ID, in.AdminEmail)
			return nil
		},
	}
	return &ffcli.Command{Name: "tenant", ShortUsage: "saasmall tenant create …", ShortHelp: "manage tenants",
		Subcommands: []*ffcli.Command{create}, Exec: func(context.Context, []string) error { return flag.ErrHelp }}
}

func operatorCmd() *ffcli.Command {
	fs := newFlagSet("operator create")
	var c common
	c.register(fs)
	var in auth.RegisterInput
	fs.StringVar(&in.Email, "email", "", "email")
	fs.StringVar(&in.Password, "password", "", "password")
	fs.StringVar(&in.Name, "name", "Platform operator", "name")
	create := &ffcli.Command{
		Name: "create", ShortUsage: "saasmall operator create --email --password [--name]", ShortHelp: "create a platform operator account",
		FlagSet: fs, Options: opts,
		Exec: func(ctx context.Context, _ []string) error {
			cfg, err := c.config()
			if err != nil {
				return err
			}
			srv, err := server.New(ctx, cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			u, err := srv.Auth.CreateUser(ctx, in, true)
			if err != nil {
				return err
			}
			fmt.Printf("platform operator %s created with id %d\n", u.Email, u.ID)
			return nil
		},
	}
	return &ffcli.Command{Name: "operator", ShortUsage: "saasmall operator create …", ShortHelp: "manage platform operators",
		Subcommands: []*ffcli.Command{create}, Exec: func(context.Context, []string) error { return flag.ErrHelp }}
}

func backupCmd() *ffcli.Command {
	fs := newFlagSet("backup")
	var c common
	c.register(fs)
	return &ffcli.Command{
		Name: "backup", ShortUsage: "saasmall backup [--db] PATH", ShortHelp: "write a consistent online copy of the SQLite database",
		FlagSet: fs, Options: opts,
		Exec: func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("usage: saasmall backup PATH")
			}
			cfg, err := c.config()
			if err != nil {
				return err
			}
			db, err := store.Open(ctx, store.Config{DSN: cfg.DB})
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Backup(ctx, args[0]); err != nil {
				return err
			}
			fmt.Println("backup written to", args[0])
			return nil
		},
	}
}
