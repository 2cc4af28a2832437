// Package web is saasmall's HTTP face (Fiber v2): middleware, the route
// table with each route's declared access, handlers per module, and the
// OpenAPI document. Handlers parse, call one service method, and render;
// they never touch the database.
package web

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"saasmall/server/actor"
	"saasmall/server/analytics"
	"saasmall/server/audit"
	"saasmall/server/auth"
	"saasmall/server/i18n"
	"saasmall/server/imports"
	"saasmall/server/mall"
	"saasmall/server/warehouse"
	"saasmall/tenants"

	"saasmall/policies"
)

// Enforcer answers authorization questions from memory.
type Enforcer interface {
	Enforce(ctx context.Context, tenantID, userID int64, obj, act string) (bool, error)
}

// Pinger says whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the services the web layer calls.
type Deps struct {
	Auth     *auth.Service
	Tenants  *tenants.Service
	Policies *policies.Service
	Audit    *audit.Log
	Mall     *mall.Service
	Stock    *warehouse.Service
	// Imports, ProductCSV and Analytics back the console's CSV and
	// dashboard routes (handlers_console.go).
	Imports    *imports.Service
	ProductCSV *mall.Importer
	Analytics  *analytics.Service
	I18n       *i18n.Bundle
	DB         Pinger
	Log        *slog.Logger
}

// Config tunes the HTTP layer.
type Config struct {
	BodyLimit int // bytes (default 1 MiB)
	// BaseURL is the public URL of the mall (hand-off links and QR codes);
	// empty means the URL the request came in on.
	BaseURL string
}

// Server is the Fiber app with its route table.
type Server struct {
	Deps
	app    *fiber.App
	cfg    Config
	routes []Route
	log    *slog.Logger
}

const (
	localRequestID = "requestid"
	localLang      = "lang"
	localCurrent   = "current"
	localAuthErr   = "autherr"
	localViaCookie = "viacookie"
	localTenant    = "tenant"
)

// Cookie names.
const (
	SessionCookie = "saasmall_session"
	CSRFCookie    = "saasmall_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// New builds the Fiber app and registers every route.
func New(d Deps, cfg Config) *Server {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Server{Deps: d, log: d.Log, cfg: cfg}
	s.app = fiber.New(fiber.Config{
		AppName:               "saasmall",
		BodyLimit:             cfg.BodyLimit,
		ErrorHandler:          s.errorHandler,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		// Values from c.Params, c.Query, c.Get… are copies: Fiber otherwise
		// hands out strings that alias a reused buffer, and one kept past the
		// request (a cache key, say) silently changes under the next one.
		Immutable:      true,
		ReadBufferSize: 16 << 10,
	})
	s.app.Use(
		requestid.New(requestid.Config{ContextKey: localRequestID}),
		recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
			s.log.Error("panic", "request_id", c.Locals(localRequestID), "path", c.Path(), "panic", e)
		}}),
		s.accessLog,
		securityHeaders,
		s.clientSource,
		s.session,
	)
	s.routesAll()
	return s
}

// App returns the Fiber app (for Listen, app.Test, or a Wails asset handler).
func (s *Server) App() *fiber.App { return s.app }

// Routes returns the declared route table.
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler write the response now so the status is logged.
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	lvl := slog.LevelDebug
	if status >= 500 {
		lvl = slog.LevelError
	} else if status >= 400 {
		lvl = slog.LevelInfo
	}
	if s.log.Enabled(c.UserContext(), lvl) {
		s.log.Log(c.UserContext(), lvl, "http", "request_id", c.Locals(localRequestID), "method", c.Method(),
			"path", c.Path(), "status", status, "dur_ms", float64(time.Since(start).Microseconds())/1000,
			"ip", c.IP(), "source", actor.Source(c.UserContext()))
	}
	return nil
}

func securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
	if c.Protocol() == "https" {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	return c.Next()
}

// clientSource reads X-Client-Source, else infers pc or mobile from the
// User-Agent, and puts it in the request context.
func (s *Server) clientSource(c *fiber.Ctx) error {
	src := actor.ClientSource(strings.ToLower(strings.TrimSpace(c.Get("X-Client-Source"))))
	if !src.Valid() {
		src = SourceFromUA(c.Get(fiber.HeaderUserAgent))
	}
	c.SetUserContext(actor.WithSource(c.UserContext(), src))
	return c.Next()
}

// SourceFromUA infers the channel of a browser: mobile for phones, applet for
// mini-program web views, pc otherwise.
func SourceFromUA(ua string) actor.ClientSource {
	u := strings.ToLower(ua)
	switch {
	case strings.Contains(u, "miniprogram"):
		return actor.SourceApplet
	case strings.Contains(u, "iphone"), strings.Contains(u, "android") && strings.Contains(u, "mobile"),
		strings.Contains(u, "mobile safari"), strings.Contains(u, "windows phone"), strings.Contains(u, "ipod"):
		return actor.SourceMobile
	}
	return actor.SourcePC
}

// session resolves the caller from "Authorization: Bearer" (APP, applet) or
// the session cookie (web). A cookie-authenticated unsafe request must carry
// the session's CSRF token (header X-CSRF-Token or form field _csrf).
// A bad token makes the request anonymous; routes that need a user then
// answer with the reason.
func (s *Server) session(c *fiber.Ctx) error {
	tok, viaCookie := "", false
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			tok = strings.TrimSpace(h[7:])
		}
	} else if ck := c.Cookies(SessionCookie); ck != "" {
		tok, viaCookie = ck, true
	}
	if tok == "" {
		return c.Next()
	}
	cur, err := s.Auth.Authenticate(c.UserContext(), tok)
	if err != nil {
		c.Locals(localAuthErr, err)
		return c.Next()
	}
	if viaCookie && !safeMethod(c.Method()) {
		got := c.Get(CSRFHeader)
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if !auth.CheckCSRF(cur.Session, got) {
			return &apperrCSRF
		}
	}
	c.Locals(localCurrent, cur)
	c.Locals(localViaCookie, viaCookie)
	c.SetUserContext(actor.With(c.UserContext(), cur.Actor))
	return c.Next()
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

func current(c *fiber.Ctx) *auth.Current {
	cur, _ := c.Locals(localCurrent).(*auth.Current)
	return cur
}

// localizer picks the language: ?lang=, the user's preference, then
// Accept-Language.
func (s *Server) localizer(c *fiber.Ctx) *i18n.Localizer {
	lang, _ := c.Locals(localLang).(string)
	if lang == "" {
		pref := ""
		if cur := current(c); cur != nil {
			pref = cur.Actor.Locale
		}
		lang = s.I18n.Match(c.Query("lang"), pref, c.Get(fiber.HeaderAcceptLanguage))
		c.Locals(localLang, lang)
	}
	return s.I18n.Localizer(lang)
}
