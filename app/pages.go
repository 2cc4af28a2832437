package app

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
)

// The desktop app's own pages, served by the Host to the window only (never
// on the network listener and never proxied).
const (
	// SettingsPagePath is the settings page; the menu's "Settings…" opens it.
	SettingsPagePath = "/desktop/settings"
	// ConsolePath is where the window starts: the staff console of the
	// current backend (in-process server or remote server).
	ConsolePath = "/console/"
)

//go:embed pages
var pages embed.FS

var (
	errorTemplate = template.Must(template.ParseFS(pages, "pages/error.html"))
	startTemplate = template.Must(template.ParseFS(pages, "pages/start.html"))
)

type errorPage struct {
	Title, Message, Hint string
	Reload               bool // reload the page by itself every 2 s
}

// servePage serves the start page ("/", which leads to start, normally the
// console) and the settings page; false for every other request.
func servePage(w http.ResponseWriter, r *http.Request, start string) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	var name, ctype string
	switch r.URL.Path {
	case "/", "", "/index.html":
		var buf bytes.Buffer
		if err := startTemplate.Execute(&buf, start); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return true
		}
		writeBody(w, r, "text/html; charset=utf-8", buf.Bytes())
		return true
	case SettingsPagePath:
		name, ctype = "pages/settings.html", "text/html; charset=utf-8"
	case "/desktop/settings.js":
		name, ctype = "pages/settings.js", "text/javascript; charset=utf-8"
	default:
		return false
	}
	b, err := pages.ReadFile(name)
	if err != nil { // embedded: cannot happen
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	writeBody(w, r, ctype, b)
	return true
}

func writeBody(w http.ResponseWriter, r *http.Request, ctype string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
}

// writePage answers with the error page.
func writePage(w http.ResponseWriter, status int, p errorPage) {
	var buf bytes.Buffer
	if err := errorTemplate.Execute(&buf, p); err != nil {
		http.Error(w, p.Message, status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
