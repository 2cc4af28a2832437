package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2"

	"saasmall/frontend"
	"saasmall/server/i18n"
)

func consoleApp(files fstest.MapFS) *fiber.App {
	app := fiber.New()
	h := consoleHandler(files)
	app.Get("/console", h)
	app.Get("/console/*", h)
	return app
}

type consoleResp struct {
	status int
	header map[string]string
	body   string
}

func consoleGet(t *testing.T, app *fiber.App, target string, hdr ...string) consoleResp {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	h := map[string]string{}
	for k := range res.Header {
		h[k] = res.Header.Get(k)
	}
	return consoleResp{res.StatusCode, h, string(b)}
}

// TestConsoleServesBuild: /console redirects to /console/ (once: no loop),
// index.html is revalidated, hashed assets are immutable and gzipped, and
// unknown paths are 404.
func TestConsoleServesBuild(t *testing.T) {
	js := strings.Repeat("console.log('saasmall');\n", 200)
	app := consoleApp(fstest.MapFS{
		"index.html":          {Data: []byte(`<!doctype html><html><script type="module" src="./assets/index-abc.js"></script></html>`)},
		"assets/index-abc.js": {Data: []byte(js)},
		".gitkeep":            {Data: nil},
	})

	for _, tc := range []struct {
		target, location string
	}{
		{"/console", "/console/"},
		{"/console?lang=zh-Hans", "/console/?lang=zh-Hans"},
	} {
		r := consoleGet(t, app, tc.target)
		if r.status != fiber.StatusMovedPermanently || r.header["Location"] != tc.location {
			t.Errorf("GET %s = %d Location %q, want 301 %q", tc.target, r.status, r.header["Location"], tc.location)
		}
	}

	idx := consoleGet(t, app, "/console/")
	if idx.status != 200 || !strings.Contains(idx.body, "./assets/index-abc.js") {
		t.Fatalf("GET /console/ = %d %q", idx.status, idx.body)
	}
	if got := idx.header["Cache-Control"]; got != "no-cache" {
		t.Errorf("index.html Cache-Control = %q, want no-cache", got)
	}
	if got := idx.header["Content-Type"]; !strings.HasPrefix(got, "text/html") {
		t.Errorf("index.html Content-Type = %q", got)
	}
	if r := consoleGet(t, app, "/console/index.html"); r.status != 200 || r.body != idx.body {
		t.Errorf("GET /console/index.html = %d", r.status)
	}
	if r := consoleGet(t, app, "/console/", "If-None-Match", idx.header["Etag"]); r.status != fiber.StatusNotModified {
		t.Errorf("revalidation with the ETag = %d, want 304", r.status)
	}

	plain := consoleGet(t, app, "/console/assets/index-abc.js")
	if plain.status != 200 || plain.body != js || plain.header["Content-Encoding"] != "" {
		t.Fatalf("asset without gzip = %d %q encoding %q", plain.status, plain.body[:min(40, len(plain.body))], plain.header["Content-Encoding"])
	}
	if got := plain.header["Cache-Control"]; !strings.Contains(got, "immutable") {
		t.Errorf("asset Cache-Control = %q, want immutable", got)
	}
	if got := plain.header["Content-Type"]; !strings.Contains(got, "javascript") {
		t.Errorf("asset Content-Type = %q", got)
	}
	gz := consoleGet(t, app, "/console/assets/index-abc.js", "Accept-Encoding", "br, gzip")
	if gz.header["Content-Encoding"] != "gzip" || !strings.Contains(gz.header["Vary"], "Accept-Encoding") {
		t.Fatalf("asset with gzip: Content-Encoding %q Vary %q", gz.header["Content-Encoding"], gz.header["Vary"])
	}
	zr, err := gzip.NewReader(bytes.NewReader([]byte(gz.body)))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != js {
		t.Error("gzipped asset does not unpack to the file")
	}
	if r := consoleGet(t, app, "/console/assets/index-abc.js", "Accept-Encoding", "gzip;q=0"); r.header["Content-Encoding"] != "" {
		t.Error("gzip;q=0 still got gzip")
	}

	for _, p := range []string{"/console/nothing", "/console/assets/none.js", "/console/.gitkeep", "/console/../go.mod"} {
		if r := consoleGet(t, app, p); r.status != 404 {
			t.Errorf("GET %s = %d, want 404", p, r.status)
		}
	}
}

// TestConsoleNotBuilt: without index.html (a fresh clone before
// `make console`) /console/ explains how to build it.
func TestConsoleNotBuilt(t *testing.T) {
	app := consoleApp(fstest.MapFS{".gitkeep": {Data: nil}})
	r := consoleGet(t, app, "/console/")
	if r.status != fiber.StatusServiceUnavailable || !strings.Contains(r.body, "make console") {
		t.Fatalf("GET /console/ unbuilt = %d %q", r.status, r.body)
	}
	if r := consoleGet(t, app, "/console"); r.status != fiber.StatusMovedPermanently {
		t.Errorf("GET /console unbuilt = %d, want the redirect", r.status)
	}
	if r := consoleGet(t, app, "/console/assets/x.js"); r.status != 404 {
		t.Errorf("GET an asset unbuilt = %d, want 404", r.status)
	}
}

// TestConsoleRoutes: the console is served by the real server, as public
// routes outside the API.
func TestConsoleRoutes(t *testing.T) {
	s := New(Deps{I18n: i18n.New()}, Config{})
	found := 0
	for _, rt := range s.Routes() {
		if strings.HasPrefix(rt.Path, "/console") {
			found++
			if rt.Access.Kind != AccessPublic || rt.Method != fiber.MethodGet {
				t.Errorf("console route %s %s: want a public GET", rt.Method, rt.Path)
			}
		}
	}
	if found != 2 {
		t.Errorf("%d console routes, want /console and /console/*", found)
	}
	res, err := s.App().Test(httptest.NewRequest("GET", "/console/", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	want := fiber.StatusServiceUnavailable
	if frontend.Built() {
		want = fiber.StatusOK
	}
	if res.StatusCode != want {
		t.Errorf("GET /console/ = %d, want %d (console built: %v)", res.StatusCode, want, frontend.Built())
	}
	// The console's pages carry the same security headers as the rest.
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GET /console/: CSP %q", csp)
	}
}
