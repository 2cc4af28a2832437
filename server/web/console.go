package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"saasmall/frontend"
)

// The staff console (Vue, built into frontend/dist and embedded by package
// frontend) is served at /console/. It is a single page with hash routing
// (/console/#/orders), so the server only hands out index.html and the
// files under assets/; every other /console path is 404. The console talks
// to the JSON API with bearer tokens, like the desktop app that embeds the
// same files.

// consolePrefix is where the console lives; /console itself redirects here
// so that the page's relative asset URLs (vite base './') resolve.
const consolePrefix = "/console/"

// consoleNotBuilt answers /console/ on a server built without the console
// (a fresh clone before `make console`).
const consoleNotBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>saasmall console not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;min-height:100vh;display:grid;place-items:center;background:#f5f6f8;color:#1f2937}
main{max-width:34rem;padding:2rem;background:#fff;border-radius:10px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
code{background:#f0f1f3;padding:0 .3em;border-radius:4px}</style></head>
<body><main data-testid="console-not-built">
<h1>Console not built</h1>
<p>This server was built without the staff console. Run <code>make console</code>
(<code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code>), then build and start the server again
(<code>make run</code> does all of it).</p>
<p lang="zh-Hans">控制台尚未构建：请运行 <code>make console</code>，然后重新构建并启动服务器。</p>
<p>The JSON API is described at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</main></body></html>
`

// consoleFile is one embedded file, ready to send.
type consoleFile struct {
	body  []byte
	gz    []byte // gzip of body, when that is worth it
	ctype string
	etag  string
}

// consoleFiles indexes a built console: path → file. It is nil when files
// hold no index.html.
type consoleFiles map[string]*consoleFile

func loadConsole(files fs.FS) (consoleFiles, error) {
	if _, err := fs.Stat(files, "index.html"); err != nil {
		return nil, nil // not built
	}
	out := consoleFiles{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path.Base(p), ".") {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = fiber.MIMEOctetStream
		}
		if (strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript")) && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		sum := sha256.Sum256(b)
		f := &consoleFile{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		if compressible(ct) && len(b) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(b)
			if zw.Close() == nil && buf.Len() < len(b)*9/10 {
				f.gz = buf.Bytes()
			}
		}
		out[p] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "json") ||
		strings.Contains(ct, "svg")
}

// routesConsole serves the embedded console at /console/.
func (s *Server) routesConsole() {
	h := consoleHandler(frontend.Dist())
	s.public(fiber.MethodGet, "/console", h)
	s.public(fiber.MethodGet, "/console/*", h)
}

// consoleHandler serves a console build from files (frontend.Dist() in
// production; tests pass their own).
func consoleHandler(files fs.FS) fiber.Handler {
	idx, err := loadConsole(files)
	if err != nil {
		// The files are compiled in: a failure here is a build-time bug.
		panic("console: " + err.Error())
	}
	return func(c *fiber.Ctx) error {
		// Fiber matches /console and /console/ alike (no strict routing), so
		// only the exact path redirects: the page's relative asset URLs need
		// the trailing slash.
		if c.Path() == "/console" {
			to := consolePrefix
			if q := string(c.Request().URI().QueryString()); q != "" {
				to += "?" + q
			}
			return c.Redirect(to, fiber.StatusMovedPermanently)
		}
		name := strings.TrimPrefix(c.Path(), consolePrefix)
		if name == "" {
			name = "index.html"
		}
		if idx == nil {
			if name != "index.html" {
				return fiber.ErrNotFound
			}
			c.Set(fiber.HeaderCacheControl, "no-store")
			c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
			return c.Status(fiber.StatusServiceUnavailable).SendString(consoleNotBuilt)
		}
		f, ok := idx[name]
		if !ok {
			return fiber.ErrNotFound
		}
		if strings.HasPrefix(name, "assets/") {
			// Vite puts a content hash in every asset's name.
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Set(fiber.HeaderCacheControl, "no-cache")
		}
		c.Set(fiber.HeaderETag, f.etag)
		c.Set(fiber.HeaderContentType, f.ctype)
		c.Vary(fiber.HeaderAcceptEncoding)
		if c.Get(fiber.HeaderIfNoneMatch) == f.etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		if f.gz != nil && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send(f.gz)
		}
		return c.Send(f.body)
	}
}

// acceptsGzip reads Accept-Encoding (gzip, unless given q=0).
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
