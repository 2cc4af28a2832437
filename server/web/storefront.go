package web

// The storefront: server-rendered HTML pages for shoppers on PC and mobile
// web (Fiber html templates, embedded with their CSS). Every page works
// without JavaScript: filters are GET forms, every change is a POST form
// with a CSRF token, and a phone gets a layout made for it by CSS media
// queries. Handlers call the same services as the JSON API.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/template/html/v2"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/auth"
	"saasmall/server/i18n"
	"saasmall/server/mall"
	"saasmall/tenants"
)

//go:embed templates/* static/*
var storefrontFS embed.FS

// Storefront cookies: the anonymous forms' double-submit token, and the
// shopper's chosen language and display currency.
const (
	FormCSRFCookie = "saasmall_fcsrf"
	LangCookie     = "saasmall_lang"
	CurrencyCookie = "saasmall_currency"
)

// storefrontCurrencies are the display currencies offered by the switch.
var storefrontCurrencies = []string{"USD", "CNY"}

var (
	sfOnce   sync.Once
	sfEngine *html.Engine
	sfAssets map[string]*sfAsset
)

type sfAsset struct {
	body    []byte
	ctype   string
	version string // content hash: /static/NAME?v=VERSION is immutable
}

// sfRouteSet holds "METHOD path" of every storefront route.
var sfRouteSet sync.Map

// StorefrontRoute reports whether rt is a storefront page or asset: HTML for
// browsers, not part of the JSON API (and so not in openapi.json).
func StorefrontRoute(rt Route) bool {
	_, ok := sfRouteSet.Load(rt.Method + " " + rt.Path)
	return ok
}

func (s *Server) routesStorefront() {
	sfOnce.Do(loadStorefront)
	first := len(s.routes)
	defer func() {
		for _, rt := range s.routes[first:] {
			sfRouteSet.Store(rt.Method+" "+rt.Path, true)
		}
	}()

	s.public(fiber.MethodGet, "/static/*", s.sfStatic)

	s.public(fiber.MethodGet, "/", s.sfHome)
	s.public(fiber.MethodGet, "/search", s.sfSearch)
	s.public(fiber.MethodGet, "/s/:tenant", s.sfStore)
	s.public(fiber.MethodGet, "/p/:id", s.sfProduct)
	s.public(fiber.MethodGet, "/compare", s.sfCompare)

	s.public(fiber.MethodGet, "/cart", s.sfCart)
	s.public(fiber.MethodPost, "/cart/add", s.sfCartAdd)
	s.public(fiber.MethodPost, "/cart/items/:id", s.sfCartUpdate)
	s.public(fiber.MethodPost, "/cart/items/:id/remove", s.sfCartRemove)

	s.signed(fiber.MethodGet, "/checkout", s.sfCheckoutPage)
	s.signed(fiber.MethodPost, "/checkout", s.sfCheckout)
	s.signed(fiber.MethodGet, "/orders", s.sfOrders)
	s.signed(fiber.MethodGet, "/orders/:id", s.sfOrder)
	s.signed(fiber.MethodPost, "/orders/:id/pay", s.sfPay)
	s.signed(fiber.MethodPost, "/orders/:id/cancel", s.sfCancelOrder)

	s.signed(fiber.MethodGet, "/account", s.sfAccount)
	s.signed(fiber.MethodPost, "/account/profile", s.sfProfile)
	s.signed(fiber.MethodPost, "/account/handoff", s.sfCreateHandoff)
	s.signed(fiber.MethodPost, "/account/sessions/:id/revoke", s.sfRevokeSession)
	s.signed(fiber.MethodPost, "/account/subscriptions/:id/seats", s.sfChangeSeats)
	s.signed(fiber.MethodPost, "/account/subscriptions/:id/cancel", s.sfCancelSubscription)

	s.public(fiber.MethodGet, "/handoff", s.sfHandoffPage)
	s.public(fiber.MethodPost, "/handoff", s.sfHandoff)
	s.public(fiber.MethodGet, "/login", s.sfLoginPage)
	s.public(fiber.MethodPost, "/login", s.sfLogin)
	s.public(fiber.MethodGet, "/register", s.sfRegisterPage)
	s.public(fiber.MethodPost, "/register", s.sfRegister)
	s.signed(fiber.MethodPost, "/logout", s.sfLogout)
}

// loadStorefront parses the embedded templates and indexes the static
// assets. They are compiled in, so a failure is a build-time bug.
func loadStorefront() {
	sub, err := fs.Sub(storefrontFS, "templates")
	if err != nil {
		panic("storefront: " + err.Error())
	}
	e := html.NewFileSystem(http.FS(sub), ".html")
	e.AddFuncMap(sfFuncs)
	if err := e.Load(); err != nil {
		panic("storefront: templates: " + err.Error())
	}
	sfEngine = e
	sfAssets = map[string]*sfAsset{}
	err = fs.WalkDir(storefrontFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := storefrontFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		sfAssets[strings.TrimPrefix(p, "static/")] = &sfAsset{body: b, ctype: ct, version: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		panic("storefront: static: " + err.Error())
	}
}

// sfStatic serves the embedded CSS and images. A request naming the
// content's version is cached for a year; others for an hour.
func (s *Server) sfStatic(c *fiber.Ctx) error {
	a, ok := sfAssets[c.Params("*")]
	if !ok {
		return fiber.ErrNotFound
	}
	etag := `"` + a.version + `"`
	c.Set(fiber.HeaderContentType, a.ctype)
	c.Set(fiber.HeaderETag, etag)
	if c.Query("v") == a.version {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	}
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(a.body)
}

// assetURL is an asset's versioned address.
func assetURL(name string) string {
	if a, ok := sfAssets[name]; ok {
		return "/static/" + name + "?v=" + a.version
	}
	return "/static/" + name
}

// ---- per-request page data ----

// base is what every page's layout needs; page views embed it.
type base struct {
	l         *i18n.Localizer
	c         *fiber.Ctx
	Lang      string
	Title     string
	User      *actor.Actor
	CSRF      string
	Currency  string
	Mobile    bool
	Path      string // the current path and query (a local "next" target)
	Q         string // the header search box
	CartCount int64
	Flash     string
	Err       string            // a page-level error, translated
	Errs      map[string]string // field errors, translated
	LangLinks []sfLink
	CurLinks  []sfLink
	Nav       string // the active navigation item
}

type sfLink struct {
	Label  string
	URL    string
	Active bool
}

// T translates a storefront message ("sf." + id) with key/value pairs.
func (b *base) T(id string, kv ...any) string { return b.Msg("sf."+id, kv...) }

// Msg translates any message id with key/value pairs.
func (b *base) Msg(id string, kv ...any) string {
	var data map[string]any
	if len(kv) > 1 {
		data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			data[k] = kv[i+1]
		}
	}
	return b.l.T(id, data)
}

// Channel names a client source in the page's language.
func (b *base) Channel(src string) string {
	switch src {
	case "pc", "mobile", "app", "applet":
		return b.T("channel." + src)
	}
	return src
}

// Status names an order or subscription status.
func (b *base) Status(st string) string {
	switch st {
	case mall.OrderPendingPayment, mall.OrderPaid, mall.OrderFulfilled, mall.OrderCompleted, mall.OrderCancelled,
		mall.SubTrialing, mall.SubActive, mall.SubPastDue:
		return b.T("status." + st)
	}
	return st
}

// Tier names a plan tier; Interval a billing interval; Kind a product kind.
func (b *base) Tier(t string) string {
	switch t {
	case mall.TierFree, mall.TierPaid, mall.TierAddon:
		return b.T("tier." + t)
	}
	return t
}

// Billing names how often a plan is billed ("Monthly").
func (b *base) Billing(i string) string {
	switch i {
	case mall.IntervalMonth, mall.IntervalYear:
		return b.T("billing." + i)
	}
	return i
}

func (b *base) Interval(i string) string {
	switch i {
	case mall.IntervalMonth, mall.IntervalYear:
		return b.T("interval." + i)
	}
	return i
}

func (b *base) Kind(k string) string {
	switch k {
	case mall.KindSaaS, mall.KindGoods:
		return b.T("kind." + k)
	}
	return k
}

// Date formats a time for the page.
func (b *base) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if b.Lang == "zh-Hans" {
		return t.Format("2006年1月2日 15:04") + " UTC"
	}
	return t.Format("Jan 2, 2006 15:04") + " UTC"
}

// DateP formats an optional time.
func (b *base) DateP(t *time.Time) string {
	if t == nil {
		return ""
	}
	return b.Date(*t)
}

// Price formats a price for shoppers; nothing to pay reads "Free".
func (b *base) Price(m mall.Money) string {
	if m.Amount == 0 {
		return b.T("card.free")
	}
	return money(m)
}

// LoginURL is the sign-in page that comes back here.
func (b *base) LoginURL() string { return "/login?next=" + url.QueryEscape(b.Path) }

// sfLang picks the page language: ?lang= (remembered in a cookie), the
// cookie, the account's preference, then Accept-Language.
func (s *Server) sfLang(c *fiber.Ctx) string {
	if lang, ok := c.Locals(localLang).(string); ok && lang != "" {
		return lang
	}
	var lang string
	if q := c.Query("lang"); q != "" {
		lang = s.I18n.Match(q)
		c.Cookie(&fiber.Cookie{Name: LangCookie, Value: lang, Path: "/", Expires: time.Now().Add(365 * 24 * time.Hour),
			HTTPOnly: true, Secure: c.Protocol() == "https", SameSite: fiber.CookieSameSiteLaxMode})
	} else if ck := c.Cookies(LangCookie); ck != "" {
		lang = s.I18n.Match(ck)
	} else {
		pref := ""
		if cur := current(c); cur != nil {
			pref = cur.Actor.Locale
		}
		lang = s.I18n.Match(pref, c.Get(fiber.HeaderAcceptLanguage))
	}
	c.Locals(localLang, lang)
	return lang
}

// sfCurrency picks the display currency: ?currency= (remembered), the
// cookie, then the language's usual one.
func sfCurrency(c *fiber.Ctx, lang string) string {
	if q := strings.ToUpper(strings.TrimSpace(c.Query("currency"))); q != "" && tenants.ValidCurrency(q) {
		c.Cookie(&fiber.Cookie{Name: CurrencyCookie, Value: q, Path: "/", Expires: time.Now().Add(365 * 24 * time.Hour),
			HTTPOnly: true, Secure: c.Protocol() == "https", SameSite: fiber.CookieSameSiteLaxMode})
		return q
	}
	if ck := strings.ToUpper(c.Cookies(CurrencyCookie)); ck != "" && tenants.ValidCurrency(ck) {
		return ck
	}
	if lang == "zh-Hans" {
		return "CNY"
	}
	return "USD"
}

func randToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// formToken is the token forms carry: the session's CSRF token when signed
// in, else the double-submit cookie's value (set when missing).
func (s *Server) formToken(c *fiber.Ctx) string {
	if cur := current(c); cur != nil {
		return cur.Session.CSRFToken
	}
	if v, ok := c.Locals("fcsrf").(string); ok {
		return v
	}
	tok := c.Cookies(FormCSRFCookie)
	if len(tok) < 20 || len(tok) > 64 {
		tok = randToken()
		c.Cookie(&fiber.Cookie{Name: FormCSRFCookie, Value: tok, Path: "/", HTTPOnly: true,
			Secure: c.Protocol() == "https", SameSite: fiber.CookieSameSiteLaxMode})
	}
	c.Locals("fcsrf", tok)
	return tok
}

// checkForm refuses an anonymous form post whose _csrf field does not match
// the double-submit cookie. (Signed-in cookie sessions are checked by the
// session middleware against the session's token.)
func (s *Server) checkForm(c *fiber.Ctx) error {
	if current(c) != nil {
		return nil
	}
	ck, got := c.Cookies(FormCSRFCookie), c.FormValue("_csrf")
	if ck == "" || got == "" || subtle.ConstantTimeCompare([]byte(ck), []byte(got)) != 1 {
		return &apperrCSRF
	}
	return nil
}

// page builds the common page data.
func (s *Server) page(c *fiber.Ctx, titleID string) *base {
	lang := s.sfLang(c)
	b := &base{l: s.I18n.Localizer(lang), c: c, Lang: lang, Mobile: actor.Source(c.UserContext()) == actor.SourceMobile}
	b.Currency = sfCurrency(c, lang)
	if titleID != "" {
		b.Title = b.T(titleID)
	}
	if cur := current(c); cur != nil {
		b.User = cur.Actor
	}
	b.CSRF = s.formToken(c)
	b.Path = c.Path()
	if qs := string(c.Request().URI().QueryString()); qs != "" {
		b.Path += "?" + qs
	}
	if s.Mall != nil {
		if cv, err := s.Mall.Cart(c.UserContext(), cartRef(c, false), b.Currency); err == nil {
			b.CartCount = int64(len(cv.Items))
		}
	}
	if f := c.Query("msg"); f != "" && sfFlashes[f] {
		b.Flash = b.T("flash." + f)
	}
	vals := queryValues(c)
	for _, l := range []struct{ code, label string }{{"en", "English"}, {"zh-Hans", "简体中文"}} {
		v := cloneValues(vals)
		v.Set("lang", l.code)
		v.Del("msg")
		b.LangLinks = append(b.LangLinks, sfLink{Label: l.label, URL: c.Path() + "?" + v.Encode(), Active: l.code == lang})
	}
	for _, cur := range storefrontCurrencies {
		v := cloneValues(vals)
		v.Set("currency", cur)
		v.Del("msg")
		v.Del("page")
		b.CurLinks = append(b.CurLinks, sfLink{Label: cur, URL: c.Path() + "?" + v.Encode(), Active: cur == b.Currency})
	}
	return b
}

// sfFlashes are the notices a redirect may ask for with ?msg=.
var sfFlashes = map[string]bool{
	"added": true, "updated": true, "removed": true, "paid": true, "pay_pending": true, "cancelled": true,
	"signed_in": true, "signed_out": true, "registered": true, "seats_changed": true, "sub_cancelled": true,
	"session_revoked": true, "profile_saved": true, "handoff": true, "ordered": true,
}

type baser interface{ pageBase() *base }

func (b *base) pageBase() *base { return b }

// render executes a page template and sends it.
func (s *Server) render(c *fiber.Ctx, status int, name string, v baser) error {
	// Execute the parsed template directly: the engine's Render rebinds the
	// template's functions on every call under the template set's write
	// lock, which serialises every page render of the process.
	tmpl := sfEngine.Templates.Lookup(name)
	if tmpl == nil {
		return apperr.Internal(fmt.Errorf("storefront: no template %s", name))
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return apperr.Internal(fmt.Errorf("storefront: render %s: %w", name, err))
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderVary, "Cookie, Accept-Language")
	return c.Status(status).Send(buf.Bytes())
}

// see303 redirects after a form post (the browser then GETs the target).
func see303(c *fiber.Ctx, to string) error {
	return c.Redirect(to, fiber.StatusSeeOther)
}

// ---- errors as pages ----

// wantsHTMLError says whether an error on this request is answered with an
// HTML page rather than the JSON error shape: storefront paths (anything
// outside /api/ and the health checks) when the client takes HTML.
func wantsHTMLError(c *fiber.Ctx) bool {
	p := c.Path()
	if strings.HasPrefix(p, "/api/") || p == "/api" || p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, "/console") {
		return false
	}
	return c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMETextHTML
}

type errorView struct {
	*base
	Status  int
	Heading string
	Text    string
	Code    string
}

// errorPage answers an error with a translated HTML page; an anonymous
// visitor of a page that needs an account is sent to sign in instead.
func (s *Server) errorPage(c *fiber.Ctx, status int, ae *apperr.Error) error {
	if status == fiber.StatusUnauthorized {
		next := c.OriginalURL()
		if c.Method() != fiber.MethodGet {
			next = "/"
			if ref, err := url.Parse(c.Get(fiber.HeaderReferer)); err == nil && ref.Host == c.Hostname() {
				next = safeNext(ref.RequestURI())
			}
		}
		if ae.Code == "session_expired" || c.Cookies(SessionCookie) != "" {
			clearCookies(c)
		}
		return see303(c, "/login?next="+url.QueryEscape(safeNext(next)))
	}
	// The page may be rendered after a failed handler: start clean.
	c.Response().ResetBody()
	b := s.page(c, "")
	v := &errorView{base: b, Status: status, Code: ae.Code}
	switch status {
	case fiber.StatusNotFound:
		v.Heading, v.Text = b.T("error.404.title"), b.T("error.404.text")
	case fiber.StatusForbidden:
		v.Heading, v.Text = b.T("error.403.title"), b.Msg(ae.MsgID(), argsKV(ae.Args)...)
	default:
		if status >= 500 {
			v.Heading, v.Text = b.T("error.500.title"), b.Msg("error.internal")
		} else {
			v.Heading, v.Text = b.T("error.400.title"), b.Msg(ae.MsgID(), argsKV(ae.Args)...)
		}
	}
	b.Title = v.Heading
	if err := s.render(c, status, "error", v); err != nil {
		s.log.Error("storefront: error page", "err", err)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(v.Heading)
	}
	return nil
}

func argsKV(m map[string]any) []any {
	kv := make([]any, 0, 2*len(m))
	for k, v := range m {
		kv = append(kv, k, v)
	}
	return kv
}

// fail renders err as a page from a storefront handler.
func (s *Server) fail(c *fiber.Ctx, err error) error {
	ae := asAppErr(err)
	if statusOf(ae.Kind) >= 500 {
		s.log.Error("storefront request failed", "request_id", c.Locals(localRequestID), "path", c.Path(), "err", err)
	}
	return s.errorPage(c, statusOf(ae.Kind), ae)
}

func asAppErr(err error) *apperr.Error {
	var ae *apperr.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		return fromFiber(fe)
	}
	return apperr.Internal(err)
}

// formErrors translates an error's field details for the form, and its
// message for the page.
func formErrors(b *base, err error) {
	ae := asAppErr(err)
	if len(ae.Fields) > 0 {
		b.Errs = make(map[string]string, len(ae.Fields))
		for name, f := range ae.Fields {
			b.Errs[name] = b.Msg("field."+f.Code, argsKV(f.Args)...)
		}
	}
	if statusOf(ae.Kind) >= 500 {
		b.Err = b.Msg("error.internal")
	} else {
		b.Err = b.Msg(ae.MsgID(), argsKV(ae.Args)...)
	}
}

// ---- helpers ----

// safeNext keeps a redirect target on this site: a local absolute path.
func safeNext(next string) string {
	if next == "" || len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	for _, r := range next {
		if unicode.IsControl(r) {
			return "/"
		}
	}
	return next
}

func queryValues(c *fiber.Ctx) url.Values {
	v, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return url.Values{}
	}
	return v
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// withQuery is path with the values encoded (no "?" when empty).
func withQuery(p string, v url.Values) string {
	if e := v.Encode(); e != "" {
		return p + "?" + e
	}
	return p
}

var currencySymbols = map[string]string{"USD": "$", "CNY": "¥", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}

// money formats an amount for shoppers: "$1,299.00", "¥599.00".
func money(m mall.Money) string {
	d := mall.MinorDigits(m.Currency)
	a := m.Amount
	neg := a < 0
	if neg {
		a = -a
	}
	pow := int64(1)
	for i := 0; i < d; i++ {
		pow *= 10
	}
	whole := strconv.FormatInt(a/pow, 10)
	var sb strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	s := sb.String()
	if d > 0 {
		s += fmt.Sprintf(".%0*d", d, a%pow)
	}
	if sym, ok := currencySymbols[m.Currency]; ok {
		s = sym + s
	} else {
		s = m.Currency + " " + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

// parseMajor reads a price typed in major units ("49.5") as minor units.
func parseMajor(v, cur string) (int64, bool) {
	v = strings.TrimSpace(strings.ReplaceAll(v, ",", ""))
	if v == "" || len(v) > 15 {
		return 0, false
	}
	d := mall.MinorDigits(cur)
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" {
		whole = "0"
	}
	if len(frac) > d {
		return 0, false
	}
	frac += strings.Repeat("0", d-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// formatMajor shows minor units as the major-unit text parseMajor reads.
func formatMajor(n int64, cur string) string {
	d := mall.MinorDigits(cur)
	if d == 0 {
		return strconv.FormatInt(n, 10)
	}
	pow := int64(1)
	for i := 0; i < d; i++ {
		pow *= 10
	}
	if n%pow == 0 {
		return strconv.FormatInt(n/pow, 10)
	}
	return fmt.Sprintf("%d.%0*d", n/pow, d, n%pow)
}

// initials are the letters on a product's generated tile.
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		switch {
		case unicode.Is(unicode.Han, r):
			if len(out) == 0 {
				return string(r)
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "•"
	}
	return string(out)
}

// tilePalette are the generated tiles' gradients: hand-picked pairs that
// carry white initials well.
var tilePalette = [][2]string{
	{"#6366f1", "#4338ca"}, {"#f97316", "#c2410c"}, {"#14b8a6", "#0f766e"}, {"#ec4899", "#be185d"},
	{"#0ea5e9", "#0369a1"}, {"#eab308", "#a16207"}, {"#22c55e", "#15803d"}, {"#f43f5e", "#be123c"},
	{"#8b5cf6", "#6d28d9"}, {"#06b6d4", "#0e7490"}, {"#84cc16", "#4d7c0f"}, {"#64748b", "#334155"},
}

// tileStyle is a generated tile's colours, stable per id; neighbouring ids
// get different colours.
func tileStyle(id int64) template.CSS {
	n := int64(len(tilePalette))
	c := tilePalette[((id*5)%n+n)%n]
	return template.CSS("background:linear-gradient(135deg," + c[0] + "," + c[1] + ")")
}

// storeTileStyle colours a store's badge from its slug.
func storeTileStyle(slug string) template.CSS {
	h := fnv.New32a()
	_, _ = h.Write([]byte(slug))
	return tileStyle(int64(h.Sum32()))
}

var sfFuncs = map[string]any{
	"money": money,
	"moneyp": func(m *mall.Money) string {
		if m == nil {
			return ""
		}
		return money(*m)
	},
	"initials":  initials,
	"tile":      tileStyle,
	"storeTile": storeTileStyle,
	"asset":     assetURL,
	"add":       func(a, b int) int { return a + b },
	"paras": func(s string) []string {
		var out []string
		for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
	"deref": func(p *bool) bool { return p != nil && *p },
	"derefI": func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	},
}

// signInCookies sets the session cookies of a storefront sign-in (as the
// JSON sign-in does).
func signInCookies(c *fiber.Ctx, in *auth.SignIn) {
	secure := c.Protocol() == "https"
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: in.Token, Path: "/", Expires: in.Session.ExpiresAt,
		HTTPOnly: true, Secure: secure, SameSite: fiber.CookieSameSiteLaxMode})
	c.Cookie(&fiber.Cookie{Name: CSRFCookie, Value: in.CSRFToken, Path: "/", Expires: in.Session.ExpiresAt,
		Secure: secure, SameSite: fiber.CookieSameSiteLaxMode})
}

// afterSignIn moves the guest cart into the account, forgets the guest
// cart cookie, and sends the browser on.
func (s *Server) afterSignIn(c *fiber.Ctx, in *auth.SignIn, next, msg string) error {
	signInCookies(c, in)
	if tok := c.Cookies(CartCookie); tok != "" {
		ctx := actor.With(c.UserContext(), &actor.Actor{UserID: in.User.ID, SessionID: in.Session.ID, Email: in.User.Email,
			Name: in.User.Name, Locale: in.User.Locale, ClientSource: actor.ClientSource(in.Session.ClientSource)})
		if err := s.Mall.MergeGuestCart(ctx, tok); err != nil {
			s.log.Warn("storefront: merge guest cart", "err", err)
		} else {
			c.Cookie(&fiber.Cookie{Name: CartCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1, HTTPOnly: true,
				SameSite: fiber.CookieSameSiteLaxMode})
		}
	}
	return see303(c, addMsg(safeNext(next), msg))
}

// addMsg appends ?msg= (a flash notice) to a local target.
func addMsg(target, msg string) string {
	if msg == "" {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	v := u.Query()
	v.Set("msg", msg)
	u.RawQuery = v.Encode()
	return u.RequestURI()
}
