// Package app holds what the desktop app binds into the Wails window: the few
// things a browser can't do (choosing local or remote mode, native dialogs, OS
// notifications) and the window's lifecycle. Everything else the console does
// through the same HTTP API as in a browser.
//
// The package is plain Go (no cgo, no Wails imports yet) so that it builds and
// tests without GTK/WebKit.
package app

import (
	"context"
	"sync"
)

// BuildVersion is the version reported by the desktop app. Set it at link time:
//
//	go build -ldflags "-X saasmall/app.BuildVersion=v1.2.3" ...
var BuildVersion = "dev"

// App is bound into the Wails window: its exported methods are callable from
// the console's JavaScript (window.go.app.App.*). Startup and Shutdown are the
// lifecycle hooks main passes to Wails; Wails exempts them from binding.
type App struct {
	mu  sync.Mutex
	ctx context.Context
}

// NewApp returns the App to bind.
func NewApp() *App { return &App{} }

// Startup is Wails' OnStartup hook. ctx is the Wails runtime context, needed
// later for dialogs, notifications and runtime.Quit.
func (a *App) Startup(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ctx = ctx
}

// Shutdown is Wails' OnShutdown hook.
func (a *App) Shutdown(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ctx = nil
}

// Version reports the desktop app's version.
func (a *App) Version() string { return BuildVersion }

// context returns the Wails runtime context (nil before Startup or after Shutdown).
func (a *App) context() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctx
}
