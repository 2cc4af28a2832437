// Package app is the desktop app around the saasmall console: the Host (the
// asset server's http.Handler that serves the in-process server in "local"
// mode or proxies to a saasmall server in "remote" mode), the persisted
// Settings, the native menu, and the App bound into the Wails window.
//
// The bound App does only what a browser can't: choose the mode, native
// open/save dialogs, OS notifications, opening the storefront in the system
// browser. Everything else the console does through the same HTTP API as in a
// browser.
//
// The package is plain Go (the Wails runtime and menu packages build without
// cgo), so it builds and tests without GTK/WebKit; main.go (build tag
// desktop) wires it to wails.Run.
package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// BuildVersion is the version reported by the desktop app. Set it at link time:
//
//	go build -ldflags "-X saasmall/app.BuildVersion=v1.2.3" ...
var BuildVersion = "dev"

// MaxOpenFileSize bounds what OpenFile reads into memory (and hands to the
// window as base64).
const MaxOpenFileSize = 64 << 20

// App is bound into the Wails window: its exported methods are callable from
// the window's JavaScript as window.go.app.App.<Method>(...), each returning a
// Promise (rejected with the error's text). Startup and Shutdown are the
// lifecycle hooks that main passes to Wails, which exempts them from binding.
type App struct {
	host  *Host
	log   *slog.Logger
	shell shell

	mu          sync.Mutex
	ctx         context.Context // the Wails runtime context, between Startup and Shutdown
	quitPending bool
	notifier    notifier
}

// NewApp returns the App to bind. host may be nil (the Wails CLI's bindings
// generation); log may be nil.
func NewApp(host *Host, log *slog.Logger) *App {
	if log == nil {
		log = slog.Default()
	}
	return &App{host: host, log: log, shell: wailsShell}
}

// Startup is Wails' OnStartup hook. ctx is the Wails runtime context, needed
// for dialogs, notifications and quitting.
func (a *App) Startup(ctx context.Context) {
	a.mu.Lock()
	a.ctx = ctx
	quit := a.quitPending
	a.mu.Unlock()
	if quit {
		a.shell.Quit(ctx)
	}
}

// Shutdown is Wails' OnShutdown hook.
func (a *App) Shutdown(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notifier.close(a.shell, ctx)
	a.ctx = nil
}

// context returns the Wails runtime context (nil before Startup or after Shutdown).
func (a *App) context() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctx
}

// Version reports the desktop app's version.
func (a *App) Version() string { return BuildVersion }

// GetSettings returns the settings in force (mode, remote URL, listen address).
func (a *App) GetSettings() Settings {
	a.log.Debug("desktop: bound call", "method", "GetSettings")
	if a.host == nil {
		return DefaultSettings()
	}
	return a.host.Settings()
}

// SaveSettings checks s (a remote server must answer /healthz within 5 s; a
// listen address must be free), switches the window's handler to it without
// restarting the app, and saves it in the user's config folder. An error on
// a field reads "field: message" (field is mode, remote_url or listen_addr);
// then nothing changed.
func (a *App) SaveSettings(s Settings) error {
	a.log.Debug("desktop: bound call", "method", "SaveSettings", "mode", s.Mode)
	if a.host == nil {
		return errors.New("settings are not available in this build")
	}
	ctx := a.context()
	if ctx == nil {
		ctx = context.Background()
	}
	return a.host.Apply(ctx, s)
}

// OpenedFile is a file chosen with OpenFile.
type OpenedFile struct {
	// Name is the file's base name; "" when the user cancelled.
	Name string `json:"name"`
	// Path is the full path on this computer.
	Path string `json:"path"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Content is the file's bytes, base64-encoded (standard encoding), so that
	// a CSV in any character set arrives unchanged.
	Content string `json:"content"`
}

// OpenFile shows the system's open dialog and returns the chosen file's
// content (base64). patterns filter the files shown, e.g. ["*.csv", "*.txt"].
// A cancelled dialog returns a file with an empty name and no error; a file
// over 64 MiB is an error.
func (a *App) OpenFile(title string, patterns []string) (OpenedFile, error) {
	ctx := a.context()
	if ctx == nil {
		return OpenedFile{}, errNoWindow
	}
	path, err := a.shell.OpenFileDialog(ctx, openDialogOptions(title, patterns))
	if err != nil || path == "" {
		return OpenedFile{}, err
	}
	return readFileBase64(path)
}

// SaveFile shows the system's save dialog, proposing defaultName, and writes
// content (base64, standard encoding) to the chosen path, which it returns.
// A cancelled dialog returns "" and no error.
func (a *App) SaveFile(defaultName string, content string) (string, error) {
	data, err := base64.StdEncoding.DecodeString(content)
	if err != nil {
		return "", fmt.Errorf("content is not base64: %w", err)
	}
	ctx := a.context()
	if ctx == nil {
		return "", errNoWindow
	}
	path, err := a.shell.SaveFileDialog(ctx, saveDialogOptions(defaultName))
	if err != nil || path == "" {
		return "", err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// Notify shows an OS notification (low stock, a failed delivery…): through
// the desktop's notification service when there is one, else notify-send,
// else it is only logged.
func (a *App) Notify(title, body string) {
	a.notifier.notify(a.shell, a.context(), a.log, title, body)
}

// OpenStorefront opens the storefront in the system browser: the remote
// server in remote mode, the network address in local mode when the app
// serves one. In local mode without one there is no address a browser could
// open, and the error says how to get one.
func (a *App) OpenStorefront() error {
	ctx := a.context()
	if ctx == nil {
		return errNoWindow
	}
	u := ""
	if a.host != nil {
		u = a.host.StorefrontURL()
	}
	if u == "" {
		return errors.New("the storefront is served inside this app only; to open it in a browser, turn on " +
			"\"Also serve the storefront on the network\" in Settings")
	}
	a.shell.BrowserOpenURL(ctx, u)
	return nil
}

// Quit closes the window and ends the app.
func (a *App) Quit() {
	a.mu.Lock()
	ctx := a.ctx
	if ctx == nil {
		a.quitPending = true // Startup quits at once
	}
	a.mu.Unlock()
	if ctx != nil {
		a.shell.Quit(ctx)
	}
}

var errNoWindow = errors.New("the app window is not open")

func readFileBase64(path string) (OpenedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return OpenedFile{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return OpenedFile{}, err
	}
	if st.IsDir() {
		return OpenedFile{}, fmt.Errorf("%s is a folder", path)
	}
	if st.Size() > MaxOpenFileSize {
		return OpenedFile{}, fmt.Errorf("%s is %d MiB; files up to %d MiB can be opened", filepath.Base(path), st.Size()>>20, MaxOpenFileSize>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxOpenFileSize+1))
	if err != nil {
		return OpenedFile{}, err
	}
	if len(b) > MaxOpenFileSize {
		return OpenedFile{}, fmt.Errorf("%s grew past %d MiB while being read", filepath.Base(path), MaxOpenFileSize>>20)
	}
	return OpenedFile{Name: filepath.Base(path), Path: path, Size: int64(len(b)), Content: base64.StdEncoding.EncodeToString(b)}, nil
}

// patternLabel is "CSV files (*.csv)" for one pattern, else "Files (*.csv, *.txt)".
func patternLabel(patterns []string) string {
	if len(patterns) == 1 {
		if ext, ok := strings.CutPrefix(patterns[0], "*."); ok && ext != "*" && ext != "" {
			return strings.ToUpper(ext) + " files (" + patterns[0] + ")"
		}
	}
	return "Files (" + strings.Join(patterns, ", ") + ")"
}
