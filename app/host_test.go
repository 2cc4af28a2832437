package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLocal stands in for the in-process server: it answers "local N <path>"
// (N counts the starts) and records its closes.
type fakeLocal struct {
	starts   atomic.Int32
	closes   atomic.Int32
	baseURLs []string
	mu       sync.Mutex
	hold     chan struct{} // when set, /slow waits for it
	fail     error
}

func (f *fakeLocal) start(ctx context.Context, baseURL string) (http.Handler, io.Closer, error) {
	if f.fail != nil {
		return nil, nil, f.fail
	}
	n := f.starts.Add(1)
	f.mu.Lock()
	f.baseURLs = append(f.baseURLs, baseURL)
	f.mu.Unlock()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" && f.hold != nil {
			<-f.hold
		}
		fmt.Fprintf(w, "local %d %s", n, r.URL.Path)
	})
	return h, closerFunc(func() error { f.closes.Add(1); return nil }), nil
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

// remoteServer is a stand-in saasmall server: /healthz, and an echo of what
// it received as JSON.
func remoteServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/console/#/orders", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "host": r.Host, "uri": r.RequestURI, "body": string(body),
			"auth": r.Header.Get("Authorization"), "referer": r.Header.Get("Referer"),
			"origin": r.Header.Get("Origin"), "accept_encoding": r.Header.Get("Accept-Encoding"),
		})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func newTestHost(t *testing.T, local *fakeLocal) (*Host, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "desktop.json")
	h := NewHost(HostConfig{
		SettingsPath: path,
		StartLocal:   local.start,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		DrainTimeout: 5 * time.Second,
	})
	t.Cleanup(func() { _ = h.Close() })
	return h, path
}

// webview sends a request as the Wails webview does (Host "wails", no Origin).
func webview(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "wails://wails"+target, strings.NewReader(body))
	r.Host = "wails"
	r.RemoteAddr = "192.0.2.1:0"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHostSwitchesModes(t *testing.T) {
	local := &fakeLocal{}
	h, path := newTestHost(t, local)
	remote := remoteServer(t)
	ctx := context.Background()

	if err := h.Start(ctx, Settings{}); err != nil {
		t.Fatal(err)
	}
	if got := webview(t, h, "GET", "/api/v1/me", "").Body.String(); got != "local 1 /api/v1/me" {
		t.Fatalf("local mode: got %q", got)
	}
	if u := h.StorefrontURL(); u != "" {
		t.Errorf("local mode without a port: StorefrontURL = %q, want empty", u)
	}

	// To remote: the proxy keeps method, path, query and body, rewrites Host.
	if err := h.Apply(ctx, Settings{Mode: ModeRemote, RemoteURL: remote.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	w := webview(t, h, "POST", "/api/v1/products?x=1", `{"name":"a"}`)
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("remote mode: %d %q: %v", w.Code, w.Body.String(), err)
	}
	wantHost := strings.TrimPrefix(remote.URL, "http://")
	if got["method"] != "POST" || got["uri"] != "/api/v1/products?x=1" || got["body"] != `{"name":"a"}` || got["host"] != wantHost {
		t.Errorf("remote mode: the server saw %v", got)
	}
	if local.closes.Load() != 1 {
		t.Errorf("the in-process server was closed %d times after the switch, want 1", local.closes.Load())
	}
	if u := h.StorefrontURL(); u != remote.URL+"/" {
		t.Errorf("remote mode: StorefrontURL = %q, want %q", u, remote.URL+"/")
	}
	saved, err := LoadSettings(path)
	if err != nil || saved.Mode != ModeRemote || saved.RemoteURL != remote.URL {
		t.Errorf("saved settings: %+v, %v", saved, err)
	}

	// Back to local: a new in-process server; the remote URL is remembered.
	if err := h.Apply(ctx, Settings{Mode: ModeLocal, RemoteURL: remote.URL}); err != nil {
		t.Fatal(err)
	}
	if got := webview(t, h, "GET", "/console/", "").Body.String(); got != "local 2 /console/" {
		t.Fatalf("local again: got %q", got)
	}
	if s := h.Settings(); s.Mode != ModeLocal || s.RemoteURL != remote.URL {
		t.Errorf("settings in force: %+v", s)
	}

	// Saving the same settings again changes nothing.
	if err := h.Apply(ctx, Settings{Mode: ModeLocal, RemoteURL: remote.URL}); err != nil {
		t.Fatal(err)
	}
	if n := local.starts.Load(); n != 2 {
		t.Errorf("in-process server started %d times, want 2", n)
	}
}

func TestHostRefusesBadSettings(t *testing.T) {
	old := healthTimeout
	healthTimeout = 500 * time.Millisecond
	t.Cleanup(func() { healthTimeout = old })

	local := &fakeLocal{}
	h, path := newTestHost(t, local)
	ctx := context.Background()
	if err := h.Start(ctx, Settings{}); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	for _, c := range []struct {
		s     Settings
		field string
	}{
		{Settings{Mode: ModeRemote, RemoteURL: "http://" + freeAddr(t)}, "remote_url"},
		{Settings{Mode: ModeRemote, RemoteURL: "file:///etc/passwd"}, "remote_url"},
		{Settings{Mode: ModeLocal, ListenAddr: busy.Addr().String()}, "listen_addr"},
		{Settings{Mode: "other"}, "mode"},
	} {
		err := h.Apply(ctx, c.s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: got %v, want a FieldError on %s", c.s, err, c.field)
		}
	}
	if s := h.Settings(); s != DefaultSettings() {
		t.Errorf("settings changed after refused saves: %+v", s)
	}
	if _, err := LoadSettings(path); err != nil {
		t.Error(err)
	}
	if got := webview(t, h, "GET", "/x", "").Body.String(); got != "local 1 /x" {
		t.Errorf("after refused saves the window gets %q, want the first in-process server", got)
	}

	local.fail = errors.New("disk full")
	if err := h.Apply(ctx, Settings{Mode: ModeRemote, RemoteURL: remoteServer(t).URL}); err != nil {
		t.Fatal(err)
	}
	if err := h.Apply(ctx, Settings{Mode: ModeLocal}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("a failing in-process server: got %v", err)
	}
	if s := h.Settings(); s.Mode != ModeRemote {
		t.Errorf("mode after a failed switch: %+v, want remote still", s)
	}
}

func TestHostListensOnTheNetwork(t *testing.T) {
	local := &fakeLocal{}
	h, _ := newTestHost(t, local)
	ctx := context.Background()
	addr := freeAddr(t)
	if err := h.Start(ctx, Settings{Mode: ModeLocal, ListenAddr: addr}); err != nil {
		t.Fatal(err)
	}
	if got := local.baseURLs[0]; got != "http://"+addr {
		t.Errorf("base URL handed to the server = %q, want http://%s", got, addr)
	}
	if u := h.StorefrontURL(); u != "http://"+addr+"/" {
		t.Errorf("StorefrontURL = %q", u)
	}
	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("http://" + addr + "/s/cloudnine"); code != 200 || body != "local 1 /s/cloudnine" {
		t.Errorf("network: %d %q", code, body)
	}
	// The desktop's own pages are for the window only.
	if _, body := get("http://" + addr + "/desktop/settings"); body != "local 1 /desktop/settings" {
		t.Errorf("network /desktop/settings: %q, want the server's answer", body)
	}
	if _, body := get("http://" + addr + "/"); body != "local 1 /" {
		t.Errorf("network /: %q, want the storefront", body)
	}

	// Move the port without restarting the server.
	addr2 := freeAddr(t)
	if err := h.Apply(ctx, Settings{Mode: ModeLocal, ListenAddr: addr2}); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("http://" + addr2 + "/"); code != 200 {
		t.Errorf("new address: %d", code)
	}
	if code, _ := get("http://" + addr + "/"); code != 0 {
		t.Errorf("old address still answers: %d", code)
	}
	if n := local.starts.Load(); n != 1 {
		t.Errorf("moving the port restarted the server (%d starts)", n)
	}

	// Remote mode closes the port.
	if err := h.Apply(ctx, Settings{Mode: ModeRemote, RemoteURL: remoteServer(t).URL}); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("http://" + addr2 + "/"); code != 0 {
		t.Errorf("remote mode still listens: %d", code)
	}
	// Off.
	if err := h.Apply(ctx, Settings{Mode: ModeLocal}); err != nil {
		t.Fatal(err)
	}
	if u := h.StorefrontURL(); u != "" {
		t.Errorf("StorefrontURL without a port = %q", u)
	}
}

func TestHostDrainsBeforeClosing(t *testing.T) {
	local := &fakeLocal{hold: make(chan struct{})}
	h, _ := newTestHost(t, local)
	ctx := context.Background()
	if err := h.Start(ctx, Settings{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() { done <- webview(t, h, "GET", "/slow", "").Body.String() }()
	for i := 0; h.cur.Load().inflight.Load() == 0; i++ {
		if i > 2000 {
			t.Fatal("the slow request never started")
		}
		time.Sleep(time.Millisecond)
	}
	if err := h.Apply(ctx, Settings{Mode: ModeRemote, RemoteURL: remoteServer(t).URL}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if n := local.closes.Load(); n != 0 {
		t.Fatalf("the in-process server closed with a request inside")
	}
	close(local.hold)
	if got := <-done; got != "local 1 /slow" {
		t.Errorf("slow request: %q", got)
	}
	h.retiring.Wait()
	if n := local.closes.Load(); n != 1 {
		t.Errorf("closes = %d, want 1", n)
	}
}

func TestHostPagesAndErrors(t *testing.T) {
	local := &fakeLocal{}
	h, _ := newTestHost(t, local)

	// Before Start: 503, JSON for the API, a self-reloading page otherwise.
	if w := webview(t, h, "GET", "/api/v1/me", ""); w.Code != 503 || !strings.Contains(w.Body.String(), `"code":"unavailable"`) {
		t.Errorf("API before start: %d %q", w.Code, w.Body.String())
	}
	if err := h.Start(context.Background(), Settings{}); err != nil {
		t.Fatal(err)
	}

	w := webview(t, h, "GET", "/", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `url=/console/`) || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("start page: %d %q", w.Code, w.Body.String())
	}
	w = webview(t, h, "GET", "/desktop/settings", "")
	body := w.Body.String()
	for _, want := range []string{`/wails/ipc.js`, `/wails/runtime.js`, `/desktop/settings.js`, `name="mode" value="remote"`} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	w = webview(t, h, "GET", "/desktop/settings.js", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "window.go.app.App") || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("settings.js: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	// A POST to / is the server's business, not the start page's.
	if got := webview(t, h, "POST", "/", "").Body.String(); got != "local 1 /" {
		t.Errorf("POST /: %q", got)
	}

	// A remote server that goes away: a 502 page with a way to the settings.
	remote := remoteServer(t)
	if err := h.Apply(context.Background(), Settings{Mode: ModeRemote, RemoteURL: remote.URL}); err != nil {
		t.Fatal(err)
	}
	remote.Close()
	r := httptest.NewRequest("GET", "/console/", nil)
	r.Header.Set("Accept", "text/html,application/xhtml+xml")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 502 || !strings.Contains(rec.Body.String(), `href="/desktop/settings"`) || !strings.Contains(rec.Body.String(), "Cannot reach") {
		t.Errorf("remote down, page: %d %q", rec.Code, rec.Body.String())
	}
	rec = webview(t, h, "GET", "/api/v1/me", "")
	if rec.Code != 502 || !strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
		t.Errorf("remote down, API: %d %q", rec.Code, rec.Body.String())
	}

	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if w := webview(t, h, "GET", "/api/v1/me", ""); w.Code != 503 {
		t.Errorf("after Close: %d", w.Code)
	}
}

func TestRemoteProxyRewrites(t *testing.T) {
	remote := remoteServer(t)
	p, err := newRemoteProxy(remote.URL, http.DefaultTransport, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "wails://wails/api/v1/orders", nil)
	r.Host = "wails"
	r.Header.Set("Referer", "wails://wails/console/#/orders")
	r.Header.Set("Origin", "wails://wails")
	r.Header.Set("Authorization", "Bearer tok")
	r.Header.Set("Accept-Encoding", "br")
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("%d %q", w.Code, w.Body.String())
	}
	if got["referer"] != remote.URL+"/console/" || got["origin"] != remote.URL || got["auth"] != "Bearer tok" {
		t.Errorf("headers seen by the server: %v", got)
	}
	if got["accept_encoding"] == "br" {
		t.Errorf("the webview's Accept-Encoding reached the server")
	}

	r = httptest.NewRequest("GET", "wails://wails/redirect", nil)
	w = httptest.NewRecorder()
	p.ServeHTTP(w, r)
	if loc := w.Header().Get("Location"); w.Code != 302 || loc != "/console/#/orders" {
		t.Errorf("redirect: %d Location %q, want a relative one", w.Code, loc)
	}
}

func TestHostOpensEvenWhenLocalFails(t *testing.T) {
	local := &fakeLocal{fail: errors.New("database is locked")}
	h, _ := newTestHost(t, local)
	ctx := context.Background()
	if err := h.Start(ctx, Settings{}); err != nil {
		t.Fatalf("Start with a failing in-process server: %v, want the window to open", err)
	}
	r := httptest.NewRequest("GET", "/console/", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 503 || !strings.Contains(w.Body.String(), "database is locked") || !strings.Contains(w.Body.String(), `href="/desktop/settings"`) {
		t.Errorf("failed start, page: %d %q", w.Code, w.Body.String())
	}
	if w := webview(t, h, "GET", "/desktop/settings", ""); w.Code != 200 {
		t.Errorf("settings page after a failed start: %d", w.Code)
	}
	// Saving local mode again retries.
	local.fail = nil
	if err := h.Apply(ctx, Settings{}); err != nil {
		t.Fatal(err)
	}
	if got := webview(t, h, "GET", "/x", "").Body.String(); got != "local 1 /x" {
		t.Errorf("after the retry: %q", got)
	}
}
