package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// StartLocal starts the in-process saasmall server of local mode and returns
// its HTTP handler (the Fiber app through adaptor.FiberApp) and what stops it.
// baseURL is the mall's address on the network when the app also listens on
// one (for hand-off links and QR codes), else "".
type StartLocal func(ctx context.Context, baseURL string) (http.Handler, io.Closer, error)

// HostConfig configures a Host.
type HostConfig struct {
	// SettingsPath is the settings file (see SettingsPath).
	SettingsPath string
	// StartLocal starts the in-process server; required for local mode.
	StartLocal StartLocal
	// Log receives the host's messages; webview requests at debug level.
	Log *slog.Logger
	// Client checks a remote server's /healthz (default: http.Client{}).
	Client *http.Client
	// Transport carries remote mode's proxied requests (default: a clone of
	// http.DefaultTransport).
	Transport http.RoundTripper
	// DrainTimeout bounds how long a replaced handler may finish its requests
	// before it is closed (default 10 s).
	DrainTimeout time.Duration
	// StartPath is where the window's start page leads (default ConsolePath);
	// a path of this origin such as SettingsPagePath.
	StartPath string
}

// Host is the http.Handler that the Wails asset server calls for every
// request of the window. It serves the desktop app's own pages (the start
// page and /desktop/settings) and hands everything else to the current
// backend: the in-process server (local mode) or a reverse proxy to a saasmall
// server (remote mode). Apply swaps the backend behind an atomic pointer, so
// a mode change needs no restart of the app.
//
// In local mode with Settings.ListenAddr the Host also serves the in-process
// server on that address for shoppers on the network (never the desktop
// pages).
type Host struct {
	cfg HostConfig
	log *slog.Logger

	cur atomic.Pointer[backend]

	mu       sync.Mutex // serialises Start, Apply and Close
	ctx      context.Context
	settings Settings // applied (and, after Apply, saved)
	net      *netListener
	closed   bool
	retiring sync.WaitGroup
}

// NewHost returns a Host; Start gives it its first backend.
func NewHost(cfg HostConfig) *Host {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{} // checkRemote bounds each check with healthTimeout
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if !strings.HasPrefix(cfg.StartPath, "/") || strings.HasPrefix(cfg.StartPath, "//") {
		cfg.StartPath = ConsolePath
	}
	return &Host{cfg: cfg, log: cfg.Log}
}

// Start applies s without checking that a remote server answers (the app
// opens even when it is down: the window then shows why, with a link to the
// settings). ctx bounds the in-process server's background work. An address
// that cannot be listened on is logged, not fatal.
func (h *Host) Start(ctx context.Context, s Settings) error {
	s = s.normalized()
	if err := s.check(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errors.New("app: host is closed")
	}
	h.ctx = ctx
	b, err := h.newBackend(s)
	if err != nil {
		// Open the window anyway: it shows the error and the way to Settings
		// (where another mode, or local mode again, can be chosen).
		h.log.Error("desktop: cannot start", "mode", s.Mode, "err", err)
		b = failedBackend(err)
	}
	h.cur.Store(b)
	h.settings = s
	if err := h.listen(s); err != nil {
		h.log.Error("desktop: cannot serve the storefront on the network", "listen_addr", s.ListenAddr, "err", err)
	}
	h.log.Info("desktop: started", "mode", s.Mode, "remote_url", s.effective().RemoteURL, "listen", h.listenURL())
	return nil
}

// Settings returns the settings in force.
func (h *Host) Settings() Settings {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.settings
}

// Apply validates s (a remote server must answer /healthz within
// HealthTimeout, a listen address must be free), switches the window to it
// without restarting the app, and saves it to the settings file. On an error
// nothing changes and nothing is saved. Field errors are *FieldError.
func (h *Host) Apply(ctx context.Context, s Settings) error {
	s = s.normalized()
	if err := s.check(); err != nil {
		return err
	}
	if s.Mode == ModeRemote {
		if err := checkRemote(ctx, h.cfg.Client, s.RemoteURL); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errors.New("app: host is closed")
	}
	old := h.settings.effective()
	next := s.effective()

	cur := h.cur.Load()
	if next.Mode != old.Mode || next.RemoteURL != old.RemoteURL || cur == nil || cur.mode == "failed" {
		// Listen first: a busy port refuses the change before anything moves.
		if err := h.relisten(next, old); err != nil {
			return err
		}
		b, err := h.newBackend(s)
		if err != nil {
			h.stopListening()
			if lerr := h.listen(old); lerr != nil {
				h.log.Error("desktop: cannot serve the storefront on the network again", "listen_addr", old.ListenAddr, "err", lerr)
			}
			return err
		}
		prev := h.cur.Swap(b)
		h.retire(prev)
	} else if next.ListenAddr != old.ListenAddr {
		if err := h.relisten(next, old); err != nil {
			return err
		}
	}
	h.settings = s
	if err := WriteSettings(h.cfg.SettingsPath, s); err != nil {
		return fmt.Errorf("the settings are in force until the app quits, but could not be saved: %w", err)
	}
	h.log.Info("desktop: settings applied", "mode", s.Mode, "remote_url", next.RemoteURL, "listen", h.listenURL())
	return nil
}

// Close stops the network listener and the current backend (the in-process
// server), waiting for replaced ones. Requests after Close get 503.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.stopListening()
	b := h.cur.Swap(nil)
	h.mu.Unlock()
	err := b.close(h.cfg.DrainTimeout)
	h.retiring.Wait()
	return err
}

// StorefrontURL is the address where a browser reaches the storefront: the
// remote server in remote mode, the network address in local mode with a
// listen address, else "" (the in-process server has no port).
func (h *Host) StorefrontURL() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.settings.Mode == ModeRemote {
		return h.settings.RemoteURL + "/"
	}
	if u := h.listenURL(); u != "" {
		return u + "/"
	}
	return ""
}

// ServeHTTP serves one request of the window.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	start := time.Now()
	h.serve(rec, r)
	if h.log.Enabled(r.Context(), slog.LevelDebug) {
		h.log.Debug("webview", "method", r.Method, "path", r.URL.Path, "status", rec.status(), "dur_ms", time.Since(start).Milliseconds())
	}
}

func (h *Host) serve(w http.ResponseWriter, r *http.Request) {
	if servePage(w, r, h.cfg.StartPath) {
		return
	}
	for {
		b := h.cur.Load()
		if b == nil {
			unavailable(w, r, "The app is starting or shutting down.")
			return
		}
		if b.serve(w, r) {
			return
		}
		// b was replaced while this request started: take the new one.
		time.Sleep(time.Millisecond)
	}
}

// newBackend builds the handler of s (h.mu held).
func (h *Host) newBackend(s Settings) (*backend, error) {
	switch s.Mode {
	case ModeRemote:
		p, err := newRemoteProxy(s.RemoteURL, h.cfg.Transport, h.log)
		if err != nil {
			return nil, err
		}
		return &backend{mode: ModeRemote, handler: p}, nil
	default:
		if h.cfg.StartLocal == nil {
			return nil, errors.New("app: local mode is not available in this build")
		}
		handler, closer, err := h.cfg.StartLocal(h.ctx, publicURL(s.effective().ListenAddr))
		if err != nil {
			return nil, fmt.Errorf("start the local server: %w", err)
		}
		return &backend{mode: ModeLocal, handler: handler, closer: closer}, nil
	}
}

// failedBackend answers every request with err: an error page for page
// loads, the API's error shape otherwise.
func failedBackend(err error) *backend {
	msg := err.Error()
	return &backend{mode: "failed", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsHTML(r) {
			writePage(w, http.StatusServiceUnavailable, errorPage{
				Title:   "saasmall could not start",
				Message: msg,
				Hint:    "Open Settings to try again or to connect to a saasmall server instead.",
			})
			return
		}
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", msg)
	})}
}

// retire closes b in the background once its requests have finished.
func (h *Host) retire(b *backend) {
	if b == nil {
		return
	}
	h.retiring.Add(1)
	go func() {
		defer h.retiring.Done()
		if err := b.close(h.cfg.DrainTimeout); err != nil {
			h.log.Error("desktop: close the previous handler", "mode", b.mode, "err", err)
		}
	}()
}

// ---------------------------------------------------------------- network listener

// netListener serves the in-process server on a network address.
type netListener struct {
	addr string // as configured
	url  string // http://host:port a browser can open
	srv  *http.Server
	done chan struct{}
}

// listen starts serving local mode's handler on s.ListenAddr, when set (h.mu held).
func (h *Host) listen(s Settings) error {
	s = s.effective()
	if s.Mode != ModeLocal || s.ListenAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.ListenAddr)
	if err != nil {
		return &FieldError{"listen_addr", fmt.Sprintf("cannot listen on %s: %v", s.ListenAddr, err)}
	}
	l := &netListener{addr: s.ListenAddr, url: browserURL(ln.Addr()), done: make(chan struct{})}
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(h.serveNetwork),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.log.Error("desktop: network listener stopped", "addr", l.addr, "err", err)
		}
	}()
	h.net = l
	return nil
}

// relisten moves the network listener from old's address to next's; on an
// error the old one is restored (h.mu held).
func (h *Host) relisten(next, old Settings) error {
	h.stopListening()
	if err := h.listen(next); err != nil {
		if lerr := h.listen(old); lerr != nil {
			h.log.Error("desktop: cannot serve the storefront on the network again", "listen_addr", old.ListenAddr, "err", lerr)
		}
		return err
	}
	return nil
}

// stopListening shuts the network listener down, letting its requests finish
// for up to 5 s (h.mu held).
func (h *Host) stopListening() {
	l := h.net
	if l == nil {
		return
	}
	h.net = nil
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.srv.Shutdown(ctx); err != nil {
		_ = l.srv.Close()
	}
	<-l.done
}

func (h *Host) listenURL() string {
	if h.net == nil {
		return ""
	}
	return h.net.url
}

// serveNetwork serves a request from the network: the in-process server only.
func (h *Host) serveNetwork(w http.ResponseWriter, r *http.Request) {
	for {
		b := h.cur.Load()
		if b == nil || b.mode != ModeLocal {
			http.Error(w, "saasmall is not serving here right now", http.StatusServiceUnavailable)
			return
		}
		if b.serve(w, r) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// browserURL is the http URL of a listening address; an unspecified host
// (0.0.0.0, ::) becomes this machine's loopback, which a browser here opens.
func browserURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// publicURL is the address that devices on the network use to reach a
// listen address, for hand-off links: an unspecified host becomes this
// machine's first non-loopback IPv4 address. "" when addr is "".
func publicURL(addr string) string {
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if lan := firstLANAddress(); lan != "" {
			host = lan
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

func firstLANAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			if v4 := n.IP.To4(); v4 != nil {
				return v4.String()
			}
		}
	}
	return ""
}

// ---------------------------------------------------------------- backends

// backend is one mode's handler. serve and close cooperate through two
// atomics so that close waits for the requests already inside.
type backend struct {
	mode     string
	handler  http.Handler
	closer   io.Closer // the in-process server, or nil
	inflight atomic.Int64
	retired  atomic.Bool
	once     sync.Once
}

// serve runs the request unless b is retired (then it returns false and the
// caller takes the current backend).
func (b *backend) serve(w http.ResponseWriter, r *http.Request) bool {
	b.inflight.Add(1)
	defer b.inflight.Add(-1)
	if b.retired.Load() {
		return false
	}
	b.handler.ServeHTTP(w, r)
	return true
}

// close retires b, waits up to drain for its requests, then stops it.
func (b *backend) close(drain time.Duration) error {
	if b == nil {
		return nil
	}
	var err error
	b.once.Do(func() {
		b.retired.Store(true)
		deadline := time.Now().Add(drain)
		for b.inflight.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if b.closer != nil {
			err = b.closer.Close()
		}
	})
	return err
}

// ---------------------------------------------------------------- helpers

// statusRecorder remembers the status a handler wrote, for the debug log.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// wantsHTML says whether the request is a page load (not an API call).
func wantsHTML(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return false
	}
	return r.Method == http.MethodGet && (strings.Contains(r.Header.Get("Accept"), "text/html") || r.Header.Get("Accept") == "")
}
