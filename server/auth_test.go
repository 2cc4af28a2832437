package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"saasmall/server"
	"saasmall/server/servertest"
)

// TestSignInOnceAcrossChannels: login on pc, hand-off to mobile, both
// sessions listed with their channel, revoking one ends it.
func TestSignInOnceAcrossChannels(t *testing.T) {
	env := servertest.New(t)
	env.Register("ada@example.com", "Ada")

	pc := env.Login("ada@example.com", servertest.Password, "pc")
	me := pc.Do("GET", "/api/v1/me", nil).Want(t, 200)
	if got := me.JSON["client_source"]; got != "pc" {
		t.Fatalf("me.client_source = %v, want pc", got)
	}

	h := pc.Do("POST", "/api/v1/auth/handoff", nil).Want(t, 201)
	code, _ := h.JSON["code"].(string)
	if len(code) < 20 {
		t.Fatalf("hand-off code %q too short", code)
	}
	if qr, _ := h.JSON["qr_png"].(string); len(qr) < 100 || qr[:22] != "data:image/png;base64," {
		t.Fatalf("hand-off has no QR code PNG: %.40q", qr)
	}

	phone := &servertest.Client{Env: env, Source: "mobile"}
	r := phone.Do("POST", "/api/v1/auth/handoff/redeem", map[string]string{"code": code}).Want(t, 200)
	phone.Token, _ = r.JSON["token"].(string)
	if phone.Token == "" || phone.Token == pc.Token {
		t.Fatalf("redeem gave token %q (pc has %q)", phone.Token, pc.Token)
	}
	if got := phone.Do("GET", "/api/v1/me", nil).Want(t, 200).JSON["client_source"]; got != "mobile" {
		t.Fatalf("phone me.client_source = %v, want mobile", got)
	}

	list := pc.Do("GET", "/api/v1/auth/sessions", nil).Want(t, 200)
	items, _ := list.JSON["items"].([]any)
	channels := map[string]float64{}
	for _, it := range items {
		m := it.(map[string]any)
		channels[m["client_source"].(string)] = m["id"].(float64)
	}
	// Register made an "app" session, login a "pc" one, the hand-off a "mobile" one.
	for _, ch := range []string{"app", "pc", "mobile"} {
		if _, ok := channels[ch]; !ok {
			t.Fatalf("sessions %v lack channel %s", channels, ch)
		}
	}

	// The pc session revokes the phone's: the phone is signed out at once.
	pc.Do("DELETE", fmt.Sprintf("/api/v1/auth/sessions/%d", int64(channels["mobile"])), nil).Want(t, 204)
	if r := phone.Do("GET", "/api/v1/me", nil); r.Status != 401 || r.Code() != "unauthenticated" {
		t.Fatalf("revoked phone session: %s", r)
	}
	pc.Do("GET", "/api/v1/me", nil).Want(t, 200)
	// Revoking it again, or another user's session, is not found.
	pc.Do("DELETE", fmt.Sprintf("/api/v1/auth/sessions/%d", int64(channels["mobile"])), nil).Want(t, 404)
	other := env.Register("bob@example.com", "Bob")
	if r := other.Do("DELETE", fmt.Sprintf("/api/v1/auth/sessions/%d", int64(channels["pc"])), nil); r.Status != 404 {
		t.Fatalf("revoking another account's session: %s", r)
	}
	pc.Do("GET", "/api/v1/me", nil).Want(t, 200)

	// Logout ends the session.
	pc.Do("POST", "/api/v1/auth/logout", nil).Want(t, 204)
	pc.Do("GET", "/api/v1/me", nil).Want(t, 401)
}

func TestAuthErrorsHaveTheirOwnCodes(t *testing.T) {
	env := servertest.New(t, func(c *server.Config) { c.Auth.IPBurst = 100 })
	alice := env.Register("alice@example.com", "Alice")

	// Wrong password, and an unknown account, look the same.
	anon := env.Anon()
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		r := anon.Do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "wrong-password-123"})
		if r.Status != 401 || r.Code() != "invalid_credentials" {
			t.Fatalf("wrong password for %s: %s", email, r)
		}
	}

	// Expired hand-off code.
	h := alice.Do("POST", "/api/v1/auth/handoff", nil).Want(t, 201)
	env.Clock.Advance(2*time.Minute + time.Second)
	if r := anon.Do("POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": h.JSON["code"]}); r.Status != 410 || r.Code() != "handoff_expired" {
		t.Fatalf("expired hand-off: %s", r)
	}
	// Reused hand-off code.
	h = alice.Do("POST", "/api/v1/auth/handoff", nil).Want(t, 201)
	anon.Do("POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": h.JSON["code"]}).Want(t, 200)
	if r := anon.Do("POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": h.JSON["code"]}); r.Status != 410 || r.Code() != "handoff_used" {
		t.Fatalf("reused hand-off: %s", r)
	}
	// Unknown code.
	if r := anon.Do("POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": "AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH"}); r.Status != 404 || r.Code() != "handoff_invalid" {
		t.Fatalf("unknown hand-off: %s", r)
	}

	// Rate limit per account: after 5 failures the account is limited, even
	// with the right password, with a Retry-After.
	for i := 0; i < 5; i++ {
		anon.Do("POST", "/api/v1/auth/login", map[string]string{"email": "alice@example.com", "password": "wrong-password-123"}).Want(t, 401)
	}
	r := anon.Do("POST", "/api/v1/auth/login", map[string]string{"email": "alice@example.com", "password": servertest.Password})
	if r.Status != 429 || r.Code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("limited login: %s (Retry-After %q)", r, r.Header.Get("Retry-After"))
	}
	zh := &servertest.Client{Env: env, Lang: "zh-CN"}
	if r := zh.Do("POST", "/api/v1/auth/login", map[string]string{"email": "alice@example.com", "password": servertest.Password}); r.Code() != "rate_limited" || r.Message() == "" || r.Message()[0] < 0x80 {
		t.Fatalf("limited login in Chinese: %s", r)
	}
	// Time heals.
	env.Clock.Advance(2 * time.Minute)
	env.Login("alice@example.com", servertest.Password, "pc")

	// Rate limit per IP: one address trying many accounts.
	ipc := &servertest.Client{Env: env, IP: "198.51.100.7"}
	limited := false
	for i := 0; i < 120 && !limited; i++ {
		r := ipc.Do("POST", "/api/v1/auth/login", map[string]string{"email": fmt.Sprintf("u%d@example.com", i), "password": "wrong-password-123"})
		limited = r.Status == http.StatusTooManyRequests && r.Code() == "rate_limited"
	}
	if !limited {
		t.Fatal("120 logins from one IP were never rate limited")
	}
}

func TestSessionExpiryAndPasswordChange(t *testing.T) {
	env := servertest.New(t)
	a := env.Register("carol@example.com", "Carol")
	b := env.Login("carol@example.com", servertest.Password, "applet")

	// Changing the password revokes every session and returns a new one.
	r := a.Do("PUT", "/api/v1/me/password", map[string]string{"current_password": servertest.Password, "new_password": "another-Secret-Walrus-7"}).Want(t, 200)
	b.Do("GET", "/api/v1/me", nil).Want(t, 401)
	a.Do("GET", "/api/v1/me", nil).Want(t, 401)
	a.Token, _ = r.JSON["token"].(string)
	a.Do("GET", "/api/v1/me", nil).Want(t, 200)
	if r := a.Do("PUT", "/api/v1/me/password", map[string]string{"current_password": "nope-nope-nope", "new_password": "password"}); r.Status != 400 || r.Field("current_password") != "wrong_password" || r.Field("new_password") != "password_weak" {
		t.Fatalf("bad password change: %s", r)
	}

	// Idle expiry: 14 days unused.
	env.Clock.Advance(15 * 24 * time.Hour)
	if r := a.Do("GET", "/api/v1/me", nil); r.Status != 401 || r.Code() != "session_expired" {
		t.Fatalf("idle session: %s", r)
	}
	// Absolute expiry: used daily, still ends after 60 days.
	c := env.Login("carol@example.com", "another-Secret-Walrus-7", "pc")
	for d := 0; d < 59; d++ {
		env.Clock.Advance(24 * time.Hour)
		c.Do("GET", "/api/v1/me", nil).Want(t, 200)
	}
	env.Clock.Advance(25 * time.Hour)
	if r := c.Do("GET", "/api/v1/me", nil); r.Status != 401 || r.Code() != "session_expired" {
		t.Fatalf("absolute expiry: %s", r)
	}
}

// TestSessionChangesTakeEffectAtOnce: sessions are cached briefly, so a
// logout, a revoked session and a profile change must reach the cache.
func TestSessionChangesTakeEffectAtOnce(t *testing.T) {
	env := servertest.New(t)
	a := env.Register("erin@example.com", "Erin")
	b := env.Login("erin@example.com", servertest.Password, "applet")
	c := env.Login("erin@example.com", servertest.Password, "pc")
	for _, cl := range []*servertest.Client{a, b, c} {
		cl.Do("GET", "/api/v1/me", nil).Want(t, 200) // now cached
	}
	// A profile change shows on the next request.
	a.Do("PATCH", "/api/v1/me", map[string]string{"name": "Erin Two"}).Want(t, 200)
	if got := b.Do("GET", "/api/v1/me", nil).Want(t, 200).JSON["user"].(map[string]any)["name"]; got != "Erin Two" {
		t.Fatalf("name after the change = %v", got)
	}
	// Revoking another session ends it at once.
	var bID float64
	items, _ := a.Do("GET", "/api/v1/auth/sessions", nil).Want(t, 200).JSON["items"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["client_source"] == "applet" {
			bID, _ = m["id"].(float64)
		}
	}
	if bID == 0 {
		t.Fatal("the applet session is not listed")
	}
	a.Do("DELETE", fmt.Sprintf("/api/v1/auth/sessions/%d", int64(bID)), nil).Want(t, 204)
	b.Do("GET", "/api/v1/me", nil).Want(t, 401)
	// Logging out ends the session at once; the others stay.
	c.Do("POST", "/api/v1/auth/logout", nil).Want(t, 204)
	c.Do("GET", "/api/v1/me", nil).Want(t, 401)
	a.Do("GET", "/api/v1/me", nil).Want(t, 200)
}

func TestCookieSessionNeedsCSRF(t *testing.T) {
	env := servertest.New(t)
	env.Register("dan@example.com", "Dan")
	web := &servertest.Client{Env: env, UA: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"}
	r := web.Do("POST", "/api/v1/auth/login", map[string]string{"email": "dan@example.com", "password": servertest.Password}).Want(t, 200)
	resp := &http.Response{Header: r.Header}
	var csrf string
	for _, ck := range resp.Cookies() {
		switch ck.Name {
		case "saasmall_session":
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Fatalf("session cookie not HttpOnly+Lax: %+v", ck)
			}
			web.Cookies = append(web.Cookies, ck)
		case "saasmall_csrf":
			csrf = ck.Value
		}
	}
	if len(web.Cookies) != 1 || csrf == "" {
		t.Fatalf("cookies: %v", r.Header.Values("Set-Cookie"))
	}
	// The UA says phone: the session is a mobile one.
	if got := web.Do("GET", "/api/v1/me", nil).Want(t, 200).JSON["client_source"]; got != "mobile" {
		t.Fatalf("client source from UA = %v", got)
	}
	// Unsafe request with the cookie but without the token: refused.
	if r := web.Do("POST", "/api/v1/auth/handoff", nil); r.Status != 403 || r.Code() != "csrf_failed" {
		t.Fatalf("no csrf: %s", r)
	}
	web.CSRF = "wrong"
	web.Do("POST", "/api/v1/auth/handoff", nil).Want(t, 403)
	web.CSRF = csrf
	web.Do("POST", "/api/v1/auth/handoff", nil).Want(t, 201)
}
