package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wailsapp/wails/v2/pkg/menu"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// fakeShell records what the App asks of the Wails runtime.
type fakeShell struct {
	mu       sync.Mutex
	openPath string
	savePath string
	openOpts runtime.OpenDialogOptions
	saveOpts runtime.SaveDialogOptions
	urls     []string
	js       []string
	quits    int
	messages []string
	commands [][]string
}

func (f *fakeShell) shell() shell {
	return shell{
		OpenFileDialog: func(_ context.Context, o runtime.OpenDialogOptions) (string, error) {
			f.openOpts = o
			return f.openPath, nil
		},
		SaveFileDialog: func(_ context.Context, o runtime.SaveDialogOptions) (string, error) {
			f.saveOpts = o
			return f.savePath, nil
		},
		MessageDialog: func(_ context.Context, o runtime.MessageDialogOptions) (string, error) {
			f.messages = append(f.messages, o.Message)
			return "", nil
		},
		BrowserOpenURL: func(_ context.Context, u string) { f.urls = append(f.urls, u) },
		WindowExecJS:   func(_ context.Context, js string) { f.js = append(f.js, js) },
		WindowReload:   func(context.Context) {},
		Quit: func(context.Context) {
			f.mu.Lock()
			f.quits++
			f.mu.Unlock()
		},
		InitNotify:       func(context.Context) error { return errors.New("no bus") },
		SendNotification: func(context.Context, runtime.NotificationOptions) error { return errors.New("no bus") },
		CleanupNotify:    func(context.Context) {},
		LookPath:         func(string) (string, error) { return "", errors.New("not found") },
		Command: func(_ context.Context, name string, args ...string) error {
			f.commands = append(f.commands, append([]string{name}, args...))
			return nil
		},
	}
}

func testApp(t *testing.T, host *Host) (*App, *fakeShell, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	a := NewApp(host, slog.New(slog.NewTextHandler(&logs, nil)))
	f := &fakeShell{}
	a.shell = f.shell()
	return a, f, &logs
}

func TestBoundMethods(t *testing.T) {
	// The window sees every exported method: keep the list short on purpose.
	want := []string{"GetSettings", "Notify", "OpenFile", "OpenStorefront", "Quit", "SaveFile", "SaveSettings", "Shutdown", "Startup", "Version"}
	var got []string
	ty := reflect.TypeOf(&App{})
	for i := 0; i < ty.NumMethod(); i++ {
		got = append(got, ty.Method(i).Name)
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("exported App methods = %v, want %v (Startup/Shutdown are lifecycle hooks, not bound)", got, want)
	}
}

func TestAppLifecycleAndQuit(t *testing.T) {
	a, f, _ := testApp(t, nil)
	if a.Version() == "" {
		t.Fatal("empty version")
	}
	if a.GetSettings() != DefaultSettings() {
		t.Error("GetSettings without a host")
	}
	a.Quit() // before Startup: remembered
	ctx := context.Background()
	a.Startup(ctx)
	if a.context() != ctx {
		t.Fatal("Startup did not keep the runtime context")
	}
	if f.quits != 1 {
		t.Fatalf("a Quit before Startup was not carried out at Startup (quits=%d)", f.quits)
	}
	a.Quit()
	if f.quits != 2 {
		t.Fatalf("Quit: quits=%d", f.quits)
	}
	a.Shutdown(ctx)
	if a.context() != nil {
		t.Fatal("Shutdown did not clear the runtime context")
	}

}

func TestOpenAndSaveFile(t *testing.T) {
	a, f, _ := testApp(t, nil)
	if _, err := a.OpenFile("Import", nil); err == nil {
		t.Error("OpenFile before the window opened: want an error")
	}
	a.Startup(context.Background())
	dir := t.TempDir()

	// Bytes arrive unchanged, whatever their encoding (here GBK "商品").
	content := []byte("name,price\n\xc9\xcc\xc6\xb7,100\n")
	in := filepath.Join(dir, "products.csv")
	if err := os.WriteFile(in, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f.openPath = in
	got, err := a.OpenFile("Import products", []string{"*.csv", " ", "*.txt"})
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := base64.StdEncoding.DecodeString(got.Content)
	if got.Name != "products.csv" || got.Path != in || got.Size != int64(len(content)) || !bytes.Equal(dec, content) {
		t.Errorf("OpenFile = %+v", got)
	}
	if f.openOpts.Title != "Import products" || len(f.openOpts.Filters) != 1 || f.openOpts.Filters[0].Pattern != "*.csv;*.txt" {
		t.Errorf("open dialog options: %+v", f.openOpts)
	}

	f.openPath = "" // cancelled
	if got, err := a.OpenFile("Import", []string{"*.csv"}); err != nil || got.Name != "" {
		t.Errorf("cancelled OpenFile = %+v, %v", got, err)
	}
	f.openPath = dir
	if _, err := a.OpenFile("Import", nil); err == nil {
		t.Error("opening a folder: want an error")
	}

	out := filepath.Join(dir, "export.csv")
	f.savePath = out
	path, err := a.SaveFile("orders-2026.csv", base64.StdEncoding.EncodeToString(content))
	if err != nil || path != out {
		t.Fatalf("SaveFile = %q, %v", path, err)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, content) {
		t.Errorf("saved %q", b)
	}
	if f.saveOpts.DefaultFilename != "orders-2026.csv" || len(f.saveOpts.Filters) != 1 || f.saveOpts.Filters[0].Pattern != "*.csv" {
		t.Errorf("save dialog options: %+v", f.saveOpts)
	}
	if _, err := a.SaveFile("../../etc/x.csv", "bm90IGJhc2U2NA=="); err != nil {
		t.Error(err)
	}
	if f.saveOpts.DefaultFilename != "x.csv" {
		t.Errorf("default name with folders: %q, want x.csv", f.saveOpts.DefaultFilename)
	}
	if _, err := a.SaveFile("x.csv", "%%%"); err == nil {
		t.Error("SaveFile with content that is not base64: want an error")
	}
	f.savePath = ""
	if path, err := a.SaveFile("x.csv", ""); err != nil || path != "" {
		t.Errorf("cancelled SaveFile = %q, %v", path, err)
	}
}

func TestNotifyFallsBack(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	a, f, logs := testApp(t, nil)
	a.Startup(context.Background())
	a.Notify("Low stock", "SKU A-1: 2 left")
	if !strings.Contains(logs.String(), "Low stock") {
		t.Errorf("without a notification service the notification is not logged: %q", logs.String())
	}

	sh := f.shell()
	sh.LookPath = func(string) (string, error) { return "/usr/bin/notify-send", nil }
	a.shell = sh
	a.Notify("Delivery failed", "webhook 42")
	if goruntime.GOOS == "linux" {
		if len(f.commands) != 1 {
			t.Fatalf("notify-send ran %d times, want 1", len(f.commands))
		}
		if c := f.commands[0]; c[0] != "/usr/bin/notify-send" || c[len(c)-2] != "Delivery failed" || c[len(c)-1] != "webhook 42" {
			t.Errorf("notify-send called as %q", c)
		}
	}
}

func TestOpenStorefront(t *testing.T) {
	local := &fakeLocal{}
	h, _ := newTestHost(t, local)
	if err := h.Start(context.Background(), Settings{}); err != nil {
		t.Fatal(err)
	}
	a, f, _ := testApp(t, h)
	a.Startup(context.Background())
	if err := a.OpenStorefront(); err == nil || !strings.Contains(err.Error(), "Settings") {
		t.Errorf("local without a port: got %v, want advice about Settings", err)
	}
	remote := remoteServer(t)
	if err := a.SaveSettings(Settings{Mode: ModeRemote, RemoteURL: remote.URL}); err != nil {
		t.Fatal(err)
	}
	if s := a.GetSettings(); s.Mode != ModeRemote {
		t.Errorf("GetSettings after SaveSettings: %+v", s)
	}
	if err := a.OpenStorefront(); err != nil {
		t.Fatal(err)
	}
	if len(f.urls) != 1 || f.urls[0] != remote.URL+"/" {
		t.Errorf("opened %v", f.urls)
	}
}

func TestMenu(t *testing.T) {
	a, f, _ := testApp(t, nil)
	a.Startup(context.Background())
	m := NewMenu(a)
	var sub *menu.Menu
	for _, it := range m.Items {
		if it.Label == "saasmall" {
			sub = it.SubMenu
		}
	}
	if sub == nil {
		t.Fatal("no saasmall menu")
	}
	items := map[string]*menu.MenuItem{}
	var labels []string
	for _, it := range sub.Items {
		if it.Label != "" {
			items[it.Label] = it
			labels = append(labels, it.Label)
		}
	}
	for _, want := range []string{"Settings…", "Open storefront in browser", "Reload", "Quit"} {
		if items[want] == nil {
			t.Errorf("menu lacks %q (has %v)", want, labels)
		}
	}
	items["Settings…"].Click(nil)
	if len(f.js) != 1 || !strings.Contains(f.js[0], "'/desktop/settings'") {
		t.Errorf("Settings… ran %q", f.js)
	}
	items["Open storefront in browser"].Click(nil) // no host: explains in a dialog
	if len(f.messages) != 1 || !strings.HasPrefix(f.messages[0], "The storefront") {
		t.Errorf("Open storefront without an address showed %q", f.messages)
	}
	items["Quit"].Click(nil)
	if f.quits != 1 {
		t.Errorf("Quit: quits=%d", f.quits)
	}
}
