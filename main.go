//go:build desktop || bindings

// Command saasmall-desktop is the staff desktop app: the whole saasmall server
// runs inside the process ("local" mode, SQLite in the user's data folder) and
// its Fiber app is handed to Wails as the asset server's handler, so the
// console's fetch('/api/...') is served in-process without a port.
//
// Build (cgo, GTK 3 and WebKit2GTK 4.0 dev packages):
//
//	make desktop
//	# = go build -tags desktop,production,webkit2_40 -ldflags "-s -w" -o build/bin/saasmall-desktop .
//
// The headless server is cmd/saasmall.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"

	"saasmall/app"
	"saasmall/frontend"
	"saasmall/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "saasmall-desktop:", err)
		os.Exit(1)
	}
}

func run() error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	// SIGINT/SIGTERM end the background jobs; Wails itself quits the window on them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var handler http.Handler
	if !app.BindingsOnly { // the Wails CLI's bindings run needs no database
		dsn, err := localDB()
		if err != nil {
			return err
		}
		srv, err := server.New(ctx, server.Config{DB: dsn, Demo: true, Log: log})
		if err != nil {
			return fmt.Errorf("start the local server: %w", err)
		}
		defer func() {
			if err := srv.Close(); err != nil {
				log.Error("close the local server", "err", err)
			}
		}()
		srv.StartBackground(ctx)
		handler = adaptor.FiberApp(srv.App())
		if strings.HasPrefix(dsn, "sqlite:") {
			log.Info("local mode", "db", dsn)
		} else {
			log.Info("local mode", "db", "SAASMALL_DB") // may hold a password: not logged
		}
		for _, l := range srv.DemoLogins { // set only when this start seeded the demo
			log.Info("demo sign-in", "role", l.Role, "tenant", l.Tenant, "email", l.Email, "password", l.Password)
		}
	}

	a := app.NewApp()
	err := wails.Run(&options.App{
		Title:     "saasmall",
		Width:     1280,
		Height:    800,
		MinWidth:  960,
		MinHeight: 600,
		AssetServer: &assetserver.Options{
			Assets:  frontend.Dist(),
			Handler: handler,
		},
		OnStartup:  a.Startup,
		OnShutdown: a.Shutdown,
		Bind:       []interface{}{a},
	})
	stop() // end background jobs before the deferred Close
	return err
}

// localDB is the database of "local" mode: SAASMALL_DB when set, else SQLite in
// the user's data folder (see app.DataDir).
func localDB() (string, error) {
	if dsn := os.Getenv("SAASMALL_DB"); dsn != "" {
		return dsn, nil
	}
	dir, err := app.DataDir()
	if err != nil {
		return "", fmt.Errorf("find the data folder: %w", err)
	}
	return "sqlite:" + filepath.Join(dir, "saasmall.db"), nil
}
