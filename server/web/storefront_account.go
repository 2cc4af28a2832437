package web

import (
	"encoding/base64"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"saasmall/server/apperr"
	"saasmall/server/auth"
	"saasmall/server/mall"
)

// ---- sign in, register, sign out ----

type authView struct {
	*base
	Next   string
	Email  string
	Name   string
	Cart   int64
	Locale string
}

func (s *Server) authPage(c *fiber.Ctx, status int, name, title string, ferr error) error {
	b := s.page(c, title)
	b.Nav = "account"
	if ferr != nil {
		formErrors(b, ferr)
	}
	v := &authView{base: b, Next: safeNext(c.FormValue("next", c.Query("next"))), Email: c.FormValue("email"), Name: c.FormValue("name"), Locale: b.Lang}
	if v.Next == "/login" || v.Next == "/register" {
		v.Next = "/"
	}
	if current(c) == nil {
		v.Cart = b.CartCount
	}
	if ae := asAppErr(ferr); ferr != nil && ae.Code == "rate_limited" {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((ae.RetryAfter+time.Second-1)/time.Second)))
	}
	return s.render(c, status, name, v)
}

func (s *Server) sfLoginPage(c *fiber.Ctx) error {
	if current(c) != nil {
		return see303(c, safeNext(c.Query("next")))
	}
	return s.authPage(c, fiber.StatusOK, "login", "login.title", nil)
}

func (s *Server) sfLogin(c *fiber.Ctx) error {
	if err := s.checkForm(c); err != nil {
		return s.fail(c, err)
	}
	out, err := s.Auth.Login(c.UserContext(), auth.LoginInput{Email: c.FormValue("email"), Password: c.FormValue("password")}, meta(c))
	if err != nil {
		return s.authPage(c, statusOf(asAppErr(err).Kind), "login", "login.title", err)
	}
	return s.afterSignIn(c, out, c.FormValue("next"), "signed_in")
}

func (s *Server) sfRegisterPage(c *fiber.Ctx) error {
	if current(c) != nil {
		return see303(c, safeNext(c.Query("next")))
	}
	return s.authPage(c, fiber.StatusOK, "register", "register.title", nil)
}

func (s *Server) sfRegister(c *fiber.Ctx) error {
	if err := s.checkForm(c); err != nil {
		return s.fail(c, err)
	}
	in := auth.RegisterInput{Email: c.FormValue("email"), Password: c.FormValue("password"), Name: c.FormValue("name"),
		Locale: s.sfLang(c)}
	out, err := s.Auth.Register(c.UserContext(), in, meta(c))
	if err != nil {
		return s.authPage(c, statusOf(asAppErr(err).Kind), "register", "register.title", err)
	}
	return s.afterSignIn(c, out, c.FormValue("next"), "registered")
}

func (s *Server) sfLogout(c *fiber.Ctx) error {
	if err := s.Auth.Logout(c.UserContext()); err != nil && asAppErr(err).Kind != apperr.KindNotFound {
		return s.fail(c, err)
	}
	clearCookies(c)
	return see303(c, "/?msg=signed_out")
}

// ---- hand-off: sign another device in ----

type handoffPageView struct {
	*base
	Code string
}

func (s *Server) sfHandoffPage(c *fiber.Ctx) error {
	b := s.page(c, "handoff.title")
	b.Nav = "account"
	code := c.Query("code")
	if len(code) > 100 {
		code = ""
	}
	return s.render(c, fiber.StatusOK, "handoff", &handoffPageView{base: b, Code: code})
}

func (s *Server) sfHandoff(c *fiber.Ctx) error {
	if err := s.checkForm(c); err != nil {
		return s.fail(c, err)
	}
	code := c.FormValue("code")
	out, err := s.Auth.RedeemHandoff(c.UserContext(), code, meta(c))
	if err != nil {
		b := s.page(c, "handoff.title")
		b.Nav = "account"
		formErrors(b, err)
		if m, ok := b.Errs["code"]; ok {
			b.Err = m
		}
		if len(code) > 100 {
			code = ""
		}
		return s.render(c, statusOf(asAppErr(err).Kind), "handoff", &handoffPageView{base: b, Code: code})
	}
	return s.afterSignIn(c, out, "/account", "handoff")
}

// ---- account ----

type sessionVM struct {
	auth.SessionView
	Device string
}

type subVM struct {
	mall.SubscriptionView
	PriceText string
	CanSeats  bool
	CanCancel bool
}

type handoffVM struct {
	URL     string
	QR      template.URL
	Code    string
	Expires string
}

type accountView struct {
	*base
	Name     string
	Email    string
	Locale   string
	Langs    []optionVM
	Sessions []sessionVM
	Subs     []subVM
	Handoff  *handoffVM
}

// device names a browser from its User-Agent: "Chrome · iPhone".
func device(ua string) string {
	u := strings.ToLower(ua)
	browser := ""
	switch {
	case ua == "":
		return "—"
	case strings.Contains(u, "micromessenger"):
		browser = "WeChat"
	case strings.Contains(u, "edg/"):
		browser = "Edge"
	case strings.Contains(u, "firefox/"), strings.Contains(u, "fxios/"):
		browser = "Firefox"
	case strings.Contains(u, "chrome/"), strings.Contains(u, "crios/"), strings.Contains(u, "chromium/"):
		browser = "Chrome"
	case strings.Contains(u, "safari/"):
		browser = "Safari"
	case strings.Contains(u, "go-http-client"), strings.Contains(u, "curl/"):
		browser = "API client"
	}
	os := ""
	switch {
	case strings.Contains(u, "iphone"):
		os = "iPhone"
	case strings.Contains(u, "ipad"):
		os = "iPad"
	case strings.Contains(u, "android"):
		os = "Android"
	case strings.Contains(u, "windows"):
		os = "Windows"
	case strings.Contains(u, "mac os x"), strings.Contains(u, "macintosh"):
		os = "macOS"
	case strings.Contains(u, "linux"):
		os = "Linux"
	}
	switch {
	case browser != "" && os != "":
		return browser + " · " + os
	case browser != "":
		return browser
	case os != "":
		return os
	}
	if len(ua) > 40 {
		return ua[:40] + "…"
	}
	return ua
}

func (s *Server) sfAccount(c *fiber.Ctx) error { return s.accountPage(c, fiber.StatusOK, nil, nil) }

func (s *Server) accountPage(c *fiber.Ctx, status int, ferr error, h *handoffVM) error {
	ctx := c.UserContext()
	b := s.page(c, "account.title")
	b.Nav = "account"
	if ferr != nil {
		formErrors(b, ferr)
	}
	a := current(c).Actor
	v := &accountView{base: b, Name: a.Name, Email: a.Email, Locale: a.Locale, Handoff: h}
	for _, l := range []struct{ code, label string }{{"", b.T("account.lang_auto")}, {"en", "English"}, {"zh-Hans", "简体中文"}} {
		v.Langs = append(v.Langs, optionVM{Value: l.code, Label: l.label, Selected: l.code == a.Locale})
	}
	ss, err := s.Auth.Sessions(ctx)
	if err != nil {
		return s.fail(c, err)
	}
	for _, x := range ss {
		v.Sessions = append(v.Sessions, sessionVM{SessionView: x, Device: device(x.UserAgent)})
	}
	subs, err := s.Mall.MySubscriptions(ctx)
	if err != nil {
		return s.fail(c, err)
	}
	for _, x := range subs {
		live := x.Status != mall.SubCancelled && !x.CancelAtPeriodEnd
		v.Subs = append(v.Subs, subVM{SubscriptionView: x, PriceText: money(x.Price),
			CanSeats: live && x.PerSeat && x.PendingSeats == nil && x.PendingSKUID == nil, CanCancel: live})
	}
	return s.render(c, status, "account", v)
}

func (s *Server) sfProfile(c *fiber.Ctx) error {
	name, locale := c.FormValue("name"), c.FormValue("locale")
	if _, err := s.Auth.UpdateProfile(c.UserContext(), auth.ProfileInput{Name: &name, Locale: &locale}); err != nil {
		if asAppErr(err).Kind == apperr.KindInvalid {
			return s.accountPage(c, fiber.StatusBadRequest, err, nil)
		}
		return s.fail(c, err)
	}
	// The page language follows the new preference.
	c.Cookie(&fiber.Cookie{Name: LangCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1, HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode})
	to := "/account?msg=profile_saved"
	if locale != "" {
		to += "&lang=" + locale
	}
	return see303(c, to)
}

func (s *Server) sfCreateHandoff(c *fiber.Ctx) error {
	h, err := s.Auth.CreateHandoff(c.UserContext())
	if err != nil {
		return s.fail(c, err)
	}
	base := s.cfg.BaseURL // the public address, as for the API's hand-off
	if base == "" {
		base = c.BaseURL()
	}
	link := strings.TrimRight(base, "/") + "/handoff?code=" + h.Code
	png, err := qrcode.Encode(link, qrcode.Medium, 320)
	if err != nil {
		return s.fail(c, apperr.Internal(err))
	}
	c.Path("/account")
	b64 := base64.StdEncoding.EncodeToString(png)
	hv := &handoffVM{URL: link, Code: h.Code, QR: template.URL("data:image/png;base64," + b64)}
	hv.Expires = h.ExpiresAt.UTC().Format("15:04:05") + " UTC"
	return s.accountPage(c, fiber.StatusOK, nil, hv)
}

func (s *Server) sfRevokeSession(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return s.fail(c, apperr.NotFound("session"))
	}
	if err := s.Auth.RevokeSession(c.UserContext(), id); err != nil {
		return s.fail(c, err)
	}
	if id == current(c).Session.ID {
		clearCookies(c)
		return see303(c, "/?msg=signed_out")
	}
	return see303(c, "/account?msg=session_revoked")
}

func (s *Server) sfChangeSeats(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return s.fail(c, apperr.NotFound("subscription"))
	}
	r, err := s.Mall.ChangeSeats(c.UserContext(), id, formInt(c, "seats"))
	if err != nil {
		switch asAppErr(err).Kind {
		case apperr.KindInvalid, apperr.KindConflict:
			c.Path("/account")
			return s.accountPage(c, statusOf(asAppErr(err).Kind), err, nil)
		}
		return s.fail(c, err)
	}
	if r.Order != nil && r.Order.Status == mall.OrderPendingPayment {
		return see303(c, "/orders/"+strconv.FormatInt(r.Order.ID, 10)+"?msg=seats_changed")
	}
	return see303(c, "/account?msg=seats_changed")
}

func (s *Server) sfCancelSubscription(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return s.fail(c, apperr.NotFound("subscription"))
	}
	if _, err := s.Mall.CancelSubscription(c.UserContext(), id); err != nil {
		if asAppErr(err).Kind == apperr.KindConflict {
			c.Path("/account")
			return s.accountPage(c, fiber.StatusConflict, err, nil)
		}
		return s.fail(c, err)
	}
	return see303(c, "/account?msg=sub_cancelled")
}
