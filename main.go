//go:build desktop || bindings

// Command saasmall-desktop is the staff desktop app: a Wails window showing
// the saasmall console.
//
// In "local" mode (the default) the whole saasmall server runs inside the
// process on SQLite in the user's data folder and its Fiber app is the asset
// server's handler, so the console's fetch('/api/...') is served in-process
// without a port (a setting may also serve it on a network address for
// shoppers). In "remote" mode the handler is a reverse proxy to a saasmall
// server. The mode is kept in the user's config folder (see app.SettingsPath)
// and changed in the app: menu saasmall → Settings….
//
// Build (cgo, GTK 3 and WebKit2GTK 4.0 dev packages):
//
//	make desktop
//	# = go build -tags desktop,production,webkit2_40 -ldflags "-s -w" -o build/bin/saasmall-desktop .
//
// Environment: SAASMALL_LOG_LEVEL (debug, info, warn, error; default info;
// debug logs every request of the window), SAASMALL_DESKTOP_START (the page
// the window opens, default /console/; e.g. /desktop/settings) and, for
// local mode, SAASMALL_DB (default: SQLite in the data folder).
// The headless server is cmd/saasmall.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
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
	"github.com/wailsapp/wails/v2/pkg/options/linux"

	"saasmall/app"
	"saasmall/server"
)

// icon is the window's icon on Linux (the taskbar and window switcher).
//
//go:embed build/appicon.png
var icon []byte

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "saasmall-desktop:", err)
		os.Exit(1)
	}
}

func run() error {
	level, err := logLevel(os.Getenv("SAASMALL_LOG_LEVEL"))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// SIGINT/SIGTERM end the background jobs. Wails quits the window on them
	// itself (its own signal handler); a second quit from here races its
	// teardown and crashes in GTK.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var handler http.Handler = http.NotFoundHandler()
	var host *app.Host
	if !app.BindingsOnly { // the Wails CLI's bindings run needs no server
		path, err := app.SettingsPath()
		if err != nil {
			return fmt.Errorf("find the config folder: %w", err)
		}
		settings, err := app.LoadSettings(path)
		if err != nil {
			log.Error("desktop: settings unreadable, using local mode (the file is left as it is)", "err", err)
		}
		host = app.NewHost(app.HostConfig{
			SettingsPath: path,
			StartLocal:   startLocal(log),
			Log:          log,
			StartPath:    os.Getenv("SAASMALL_DESKTOP_START"),
		})
		if err := host.Start(ctx, settings); err != nil {
			return err
		}
		defer func() {
			if err := host.Close(); err != nil {
				log.Error("desktop: close", "err", err)
			}
		}()
		handler = host
	}

	if ctx.Err() != nil { // a signal before the window opened
		return nil
	}
	a := app.NewApp(host, log)
	err = wails.Run(&options.App{
		Title:            "saasmall",
		Width:            1280,
		Height:           800,
		MinWidth:         1024,
		MinHeight:        680,
		BackgroundColour: &options.RGBA{R: 245, G: 246, B: 248, A: 255},
		Menu:             app.NewMenu(a),
		// No Assets: every request reaches the Host, which serves the start
		// page (→ /console/), the settings page, and the current backend.
		AssetServer: &assetserver.Options{Handler: handler},
		OnStartup:   a.Startup,
		OnShutdown:  a.Shutdown,
		Bind:        []interface{}{a},
		Linux: &linux.Options{
			Icon:             icon,
			ProgramName:      "saasmall",
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
	stop()
	return err
}

// startLocal starts the in-process server of local mode: SAASMALL_DB when
// set, else SQLite in the user's data folder, with the demo mall seeded on
// first use.
func startLocal(log *slog.Logger) app.StartLocal {
	return func(ctx context.Context, baseURL string) (http.Handler, io.Closer, error) {
		dsn, err := localDB()
		if err != nil {
			return nil, nil, err
		}
		srv, err := server.New(ctx, server.Config{DB: dsn, Demo: true, Log: log, BaseURL: baseURL})
		if err != nil {
			return nil, nil, err
		}
		srv.StartBackground(ctx)
		if strings.HasPrefix(dsn, "sqlite:") {
			log.Info("desktop: local mode", "db", dsn)
		} else {
			log.Info("desktop: local mode", "db", "SAASMALL_DB") // may hold a password: not logged
		}
		for _, l := range srv.DemoLogins { // set only when this start seeded the demo
			log.Info("demo sign-in", "role", l.Role, "tenant", l.Tenant, "email", l.Email, "password", l.Password)
		}
		return adaptor.FiberApp(srv.App()), srv, nil
	}
}

// localDB is the database of local mode: SAASMALL_DB when set, else SQLite
// in the user's data folder (see app.DataDir).
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

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("SAASMALL_LOG_LEVEL: %w", err)
	}
	return l, nil
}
