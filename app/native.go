package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2/pkg/menu"
	"github.com/wailsapp/wails/v2/pkg/menu/keys"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// shell is the part of the Wails runtime the App uses; tests replace it.
type shell struct {
	OpenFileDialog   func(context.Context, runtime.OpenDialogOptions) (string, error)
	SaveFileDialog   func(context.Context, runtime.SaveDialogOptions) (string, error)
	MessageDialog    func(context.Context, runtime.MessageDialogOptions) (string, error)
	BrowserOpenURL   func(context.Context, string)
	WindowExecJS     func(context.Context, string)
	WindowReload     func(context.Context)
	Quit             func(context.Context)
	InitNotify       func(context.Context) error
	SendNotification func(context.Context, runtime.NotificationOptions) error
	CleanupNotify    func(context.Context)
	LookPath         func(string) (string, error)
	Command          func(ctx context.Context, name string, args ...string) error
}

var wailsShell = shell{
	OpenFileDialog:   runtime.OpenFileDialog,
	SaveFileDialog:   runtime.SaveFileDialog,
	MessageDialog:    runtime.MessageDialog,
	BrowserOpenURL:   runtime.BrowserOpenURL,
	WindowExecJS:     runtime.WindowExecJS,
	WindowReload:     runtime.WindowReload,
	Quit:             runtime.Quit,
	InitNotify:       runtime.InitializeNotifications,
	SendNotification: runtime.SendNotification,
	CleanupNotify:    runtime.CleanupNotifications,
	LookPath:         exec.LookPath,
	Command: func(ctx context.Context, name string, args ...string) error {
		return exec.CommandContext(ctx, name, args...).Run()
	},
}

func openDialogOptions(title string, patterns []string) runtime.OpenDialogOptions {
	o := runtime.OpenDialogOptions{Title: title}
	if ps := cleanPatterns(patterns); len(ps) > 0 {
		o.Filters = []runtime.FileFilter{{DisplayName: patternLabel(ps), Pattern: strings.Join(ps, ";")}}
	}
	return o
}

func saveDialogOptions(defaultName string) runtime.SaveDialogOptions {
	name := filepath.Base(strings.TrimSpace(defaultName))
	if name == "." || name == string(filepath.Separator) {
		name = ""
	}
	o := runtime.SaveDialogOptions{DefaultFilename: name, CanCreateDirectories: true}
	if ext := filepath.Ext(name); ext != "" {
		p := "*" + strings.ToLower(ext)
		o.Filters = []runtime.FileFilter{{DisplayName: patternLabel([]string{p}), Pattern: p}}
	}
	return o
}

func cleanPatterns(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if p = strings.TrimSpace(p); p != "" && !strings.ContainsAny(p, ";/\\") {
			out = append(out, p)
		}
	}
	return out
}

// ---------------------------------------------------------------- notifications

// notifier sends OS notifications: Wails' notification service (D-Bus
// org.freedesktop.Notifications on Linux) when a session bus is there, else
// notify-send when installed, else the log.
type notifier struct {
	mu    sync.Mutex
	state int // 0 not tried, 1 Wails notifications ready, -1 unavailable
}

func (n *notifier) notify(sh shell, ctx context.Context, log *slog.Logger, title, body string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ctx != nil && n.state == 0 {
		n.state = -1
		if sessionBusAvailable() {
			if err := sh.InitNotify(ctx); err != nil {
				log.Debug("desktop: no notification service", "err", err)
			} else {
				n.state = 1
			}
		}
	}
	if ctx != nil && n.state == 1 {
		err := sh.SendNotification(ctx, runtime.NotificationOptions{
			ID: fmt.Sprintf("saasmall-%d", time.Now().UnixNano()), Title: title, Body: body,
		})
		if err == nil {
			return
		}
		log.Debug("desktop: notification service failed", "err", err)
	}
	if goruntime.GOOS == "linux" {
		if path, err := sh.LookPath("notify-send"); err == nil {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := sh.Command(cctx, path, "--app-name=saasmall", "--", title, body)
			if err == nil {
				return
			}
			log.Debug("desktop: notify-send failed", "err", err)
		}
	}
	log.Info("desktop: notification", "title", title, "body", body)
}

func (n *notifier) close(sh shell, ctx context.Context) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state == 1 && ctx != nil {
		sh.CleanupNotify(ctx)
	}
	n.state = 0
}

// sessionBusAvailable says whether a D-Bus session bus can be reached without
// starting one (godbus would otherwise try dbus-launch). Always true off Linux.
func sessionBusAvailable() bool {
	if goruntime.GOOS != "linux" {
		return true
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if st, err := os.Stat(filepath.Join(dir, "bus")); err == nil && st.Mode()&os.ModeSocket != 0 {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- menu

// NewMenu is the window's menu bar: saasmall → Settings…, Open storefront in
// browser, Reload, Quit (plus the standard app and edit menus on macOS).
func NewMenu(a *App) *menu.Menu {
	m := menu.NewMenu()
	if goruntime.GOOS == "darwin" {
		m.Append(menu.AppMenu())
		m.Append(menu.EditMenu())
	}
	sub := m.AddSubmenu("saasmall")
	sub.AddText("Settings…", keys.CmdOrCtrl(","), func(*menu.CallbackData) { a.showSettings() })
	sub.AddText("Open storefront in browser", keys.CmdOrCtrl("b"), func(*menu.CallbackData) {
		if err := a.OpenStorefront(); err != nil {
			a.message("Open storefront", err.Error())
		}
	})
	sub.AddSeparator()
	sub.AddText("Reload", keys.CmdOrCtrl("r"), func(*menu.CallbackData) {
		if ctx := a.context(); ctx != nil {
			a.shell.WindowReload(ctx)
		}
	})
	sub.AddSeparator()
	sub.AddText("Quit", keys.CmdOrCtrl("q"), func(*menu.CallbackData) { a.Quit() })
	return m
}

// showSettings opens the settings page in the window.
func (a *App) showSettings() {
	if ctx := a.context(); ctx != nil {
		a.shell.WindowExecJS(ctx, "window.location.href = "+jsString(SettingsPagePath)+";")
	}
}

// message shows an information dialog (from a menu action).
func (a *App) message(title, msg string) {
	ctx := a.context()
	if ctx == nil {
		return
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:] + "."
	if _, err := a.shell.MessageDialog(ctx, runtime.MessageDialogOptions{Type: runtime.InfoDialog, Title: title, Message: msg}); err != nil {
		a.log.Warn("desktop: message dialog", "err", err)
	}
}

// jsString quotes s as a JavaScript string literal (s is one of our paths).
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "<", `\x3c`).Replace(s) + "'"
}
