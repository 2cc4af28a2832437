// Package servertest starts a real saasmall server for tests (SQLite in a
// temporary directory, or PostgreSQL when SAASMALL_TEST_POSTGRES is set) and
// speaks JSON to it through Fiber's app.Test, or over loopback.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"saasmall/server"
	"saasmall/server/store/storetest"
	"saasmall/tenants"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Env is a running test server.
type Env struct {
	T     testing.TB
	Srv   *server.Server
	Clock *Clock
	// Base is the server's URL once Listen was called; clients then speak
	// real HTTP over loopback instead of app.Test.
	Base string
	HTTP *http.Client
}

// Listen serves the app on a loopback port until the test ends.
func (e *Env) Listen() string {
	e.T.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.T.Fatal(err)
	}
	go func() { _ = e.Srv.App().Listener(ln) }()
	e.T.Cleanup(func() {
		e.HTTP.CloseIdleConnections()
		_ = e.Srv.App().ShutdownWithTimeout(5 * time.Second)
	})
	e.Base = "http://" + ln.Addr().String()
	e.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256,
		ExpectContinueTimeout: 5 * time.Second}}
	return e.Base
}

// WithRealClock uses the wall clock (for load tests).
func WithRealClock() func(*server.Config) { return func(c *server.Config) { c.Auth.Now = nil } }

// New starts a server on a fresh database.
func New(t testing.TB, opts ...func(*server.Config)) *Env {
	t.Helper()
	clock := NewClock()
	cfg := server.Config{DB: storetest.DSN(t), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.Auth.Now = clock.Now
	cfg.Auth.IPBurst = 10_000 // every test request comes from one address
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("servertest: start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &Env{T: t, Srv: srv, Clock: clock}
}

// Client is a caller: its bearer token or cookies, channel and language.
type Client struct {
	Env     *Env
	Token   string
	Cookies []*http.Cookie
	CSRF    string
	Source  string
	Lang    string
	UA      string
	IP      string
}

// Anon returns an anonymous client.
func (e *Env) Anon() *Client { return &Client{Env: e} }

// Resp is a response.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Code returns error.code of an error body.
func (r *Resp) Code() string {
	if e, ok := r.JSON["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// Message returns error.message.
func (r *Resp) Message() string {
	if e, ok := r.JSON["error"].(map[string]any); ok {
		s, _ := e["message"].(string)
		return s
	}
	return ""
}

// Field returns error.fields[name].code.
func (r *Resp) Field(name string) string {
	if e, ok := r.JSON["error"].(map[string]any); ok {
		if fs, ok := e["fields"].(map[string]any); ok {
			if f, ok := fs[name].(map[string]any); ok {
				s, _ := f["code"].(string)
				return s
			}
		}
	}
	return ""
}

func (r *Resp) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// Request builds the request the client sends: its credentials, channel,
// language and device, then hdr (name, value pairs).
func (c *Client) Request(method, path, contentType string, body []byte, hdr ...string) *http.Request {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for _, ck := range c.Cookies {
		req.AddCookie(ck)
	}
	if c.CSRF != "" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	if c.Source != "" {
		req.Header.Set("X-Client-Source", c.Source)
	}
	if c.Lang != "" {
		req.Header.Set("Accept-Language", c.Lang)
	}
	if c.UA != "" {
		req.Header.Set("User-Agent", c.UA)
	}
	if c.IP != "" {
		req.RemoteAddr = c.IP + ":1234"
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

// Raw sends a request with a raw body and content type.
func (c *Client) Raw(method, path, contentType string, body []byte, hdr ...string) *Resp {
	c.Env.T.Helper()
	req := c.Request(method, path, contentType, body, hdr...)
	var res *http.Response
	var err error
	if c.Env.Base != "" {
		if len(body) > 32<<10 {
			// Let the server refuse a large body before it is sent, as
			// browsers' uploads race a 413 otherwise (broken pipe).
			req.Header.Set("Expect", "100-continue")
		}
		req.RequestURI = ""
		req.URL, err = url.Parse(c.Env.Base + path)
		// The server may answer a too-large body (413) and close while the
		// client is still writing it: the client then sees a broken pipe
		// instead of the answer. That race is the client's, not the
		// server's: send again (the server's answer is still what is checked).
		for try := 0; err == nil; try++ {
			req.Body = io.NopCloser(bytes.NewReader(body))
			res, err = c.Env.HTTP.Do(req)
			if err == nil || len(body) <= 32<<10 || try == 4 ||
				!(strings.Contains(err.Error(), "broken pipe") || strings.Contains(err.Error(), "connection reset")) {
				break
			}
			err = nil
		}
	} else {
		res, err = c.Env.Srv.App().Test(req, -1)
	}
	if err != nil {
		c.Env.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := &Resp{Status: res.StatusCode, Header: res.Header, Body: b}
	if strings.Contains(res.Header.Get("Content-Type"), "json") && len(b) > 0 {
		_ = json.Unmarshal(b, &r.JSON)
	}
	return r
}

// Do sends body (marshalled as JSON unless nil) and returns the response.
func (c *Client) Do(method, path string, body any, hdr ...string) *Resp {
	c.Env.T.Helper()
	if body == nil {
		return c.Raw(method, path, "", nil, hdr...)
	}
	b, err := json.Marshal(body)
	if err != nil {
		c.Env.T.Fatal(err)
	}
	return c.Raw(method, path, "application/json", b, hdr...)
}

// Want fails the test unless the response has status.
func (r *Resp) Want(t testing.TB, status int) *Resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

// Login signs in with email and password as a bearer client on source.
func (e *Env) Login(email, password, source string) *Client {
	e.T.Helper()
	c := &Client{Env: e, Source: source}
	r := c.Do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	r.Want(e.T, 200)
	c.Token, _ = r.JSON["token"].(string)
	return c
}

// Password is the password test accounts get.
const Password = "test-pass-Quokka-42"

// Register creates an account and returns a signed-in bearer client.
func (e *Env) Register(email, name string) *Client {
	e.T.Helper()
	c := &Client{Env: e, Source: "app"}
	r := c.Do("POST", "/api/v1/auth/register", map[string]string{"email": email, "password": Password, "name": name})
	r.Want(e.T, 201)
	c.Token, _ = r.JSON["token"].(string)
	return c
}

// Tenant provisions a tenant whose owner is ownerEmail (created with
// Password when new) and returns it.
func (e *Env) Tenant(slug, ownerEmail string) *tenants.Tenant {
	e.T.Helper()
	t, err := e.Srv.Tenants.Create(context.Background(), tenants.CreateInput{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:] + " Inc",
		AdminEmail: ownerEmail, AdminPassword: Password, AdminName: "Owner of " + slug})
	if err != nil {
		e.T.Fatalf("servertest: tenant %s: %v", slug, err)
	}
	return t
}

// Member adds email (created when new) to tenant with roles and returns a
// signed-in client.
func (e *Env) Member(t *tenants.Tenant, email string, roles ...string) *Client {
	e.T.Helper()
	ctx := tenants.WithTenant(context.Background(), t)
	if _, err := e.Srv.Auth.EnsureAccount(ctx, email, Password, email); err != nil {
		e.T.Fatal(err)
	}
	if _, err := e.Srv.Tenants.AddMember(ctx, tenants.AddMemberInput{Email: email, Roles: roles}); err != nil {
		e.T.Fatalf("servertest: member %s: %v", email, err)
	}
	return e.Login(email, Password, "pc")
}
