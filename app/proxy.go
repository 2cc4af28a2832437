package app

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// newRemoteProxy is remote mode's handler: every request of the window goes
// to the saasmall server at raw with its path and query kept and its Host
// rewritten to the server's.
//
// Requests from the webview come from wails://wails with no Origin; a Referer
// or Origin naming the webview is rewritten to the server's own origin, so
// that the server sees same-origin requests as from a browser at its
// address. Accept-Encoding is dropped so that the transport negotiates gzip
// itself and hands the webview plain bodies. Absolute redirects to the
// server are made relative, keeping the window on the proxy.
func newRemoteProxy(raw string, transport http.RoundTripper, log *slog.Logger) (http.Handler, error) {
	target, err := parseRemoteURL(raw)
	if err != nil {
		return nil, err
	}
	origin := target.Scheme + "://" + target.Host
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			h := pr.Out.Header
			h.Del("Accept-Encoding")
			if o := h.Get("Origin"); o != "" && !strings.HasPrefix(o, origin) {
				h.Set("Origin", origin)
			}
			if ref := h.Get("Referer"); ref != "" && !strings.HasPrefix(ref, origin) {
				if u, err := url.Parse(ref); err == nil {
					h.Set("Referer", origin+u.RequestURI())
				} else {
					h.Del("Referer")
				}
			}
		},
		Transport: transport,
		ModifyResponse: func(res *http.Response) error {
			if loc := res.Header.Get("Location"); loc != "" {
				if u, err := url.Parse(loc); err == nil && u.IsAbs() && u.Scheme+"://"+u.Host == origin {
					rel := u.RequestURI()
					if u.Fragment != "" {
						rel += "#" + u.EscapedFragment()
					}
					res.Header.Set("Location", rel)
				}
			}
			return nil
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("desktop: remote server unreachable", "url", origin, "method", r.Method, "path", r.URL.Path, "err", err)
			msg := "Cannot reach the saasmall server at " + origin + ": " + unwrapURLError(err).Error()
			if wantsHTML(r) {
				writePage(w, http.StatusBadGateway, errorPage{
					Title:   "Cannot reach the server",
					Message: msg,
					Hint:    "Check your network connection, or change the server in Settings.",
				})
				return
			}
			writeJSONError(w, http.StatusBadGateway, "unavailable", msg)
		},
	}
	return rp, nil
}

// unavailable answers while there is no backend (starting, shutting down).
func unavailable(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("Retry-After", "1")
	if wantsHTML(r) {
		writePage(w, http.StatusServiceUnavailable, errorPage{Title: "saasmall", Message: msg, Hint: "This page reloads by itself.", Reload: true})
		return
	}
	writeJSONError(w, http.StatusServiceUnavailable, "unavailable", msg)
}

// writeJSONError writes the API's error shape: {"error": {"code", "message"}}.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
}
