package server_test

import (
	"strings"
	"testing"

	"saasmall/server/servertest"
)

func rowCounts(t *testing.T, env *servertest.Env) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"users", "sessions", "tenants", "members", "casbin_rule", "roles", "audit_entries", "handoff_codes", "outbox_events",
		"products", "skus", "sku_prices", "carts", "cart_items", "orders", "order_lines", "payments", "idempotency_keys", "subscriptions",
		"stock_levels", "stock_moves", "stock_reservations", "catalog_changes"} {
		var n int64
		if err := env.Srv.DB.Reader().Table(tbl).Count(&n).Error; err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

// TestBadInput: malformed JSON, missing fields, oversize bodies, wrong types,
// unknown fields and unknown tenants each get a 4xx with a code (and field
// errors where a field is at fault), in English and in Chinese, and write
// nothing.
func TestBadInput(t *testing.T) {
	env := servertest.New(t, func(c *serverConfig) { c.BodyLimit = 64 << 10 })
	env.Listen() // over a real socket: Fiber's app.Test cannot show the 413 path
	env.Tenant("alpha", "owner@alpha.test")
	owner := env.Login("owner@alpha.test", servertest.Password, "pc")
	op, err := env.Srv.Auth.CreateUser(ctxBG, authRegister("op@saasmall.test", "Op"), true)
	if err != nil {
		t.Fatal(err)
	}
	_ = op
	operator := env.Login("op@saasmall.test", servertest.Password, "pc")
	before := rowCounts(t, env)

	big := `{"email":"` + strings.Repeat("a", 70<<10) + `@x.io","password":"x","name":"y"}`
	cases := []struct {
		name        string
		c           *servertest.Client
		method      string
		path        string
		ctype, body string
		status      int
		code        string
		fields      []string
	}{
		{"malformed json", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{"email": "a@b.co",`, 400, "malformed_json", nil},
		{"not json", env.Anon(), "POST", "/api/v1/auth/register", "text/plain", `email=a@b.co`, 400, "unsupported_media_type", nil},
		{"empty body", env.Anon(), "POST", "/api/v1/auth/register", "application/json", ``, 400, "empty_body", nil},
		{"json array", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `[1,2]`, 400, "malformed_json", nil},
		{"trailing data", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{"email":"a@b.co"} {}`, 400, "malformed_json", nil},
		{"missing fields", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{}`, 400, "invalid_input", []string{"email", "password", "name"}},
		{"bad email weak password", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{"email":"not-an-email","password":"password1","name":"N"}`, 400, "invalid_input", []string{"email", "password"}},
		{"short password", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{"email":"x@y.io","password":"Ab1!","name":"N"}`, 400, "invalid_input", []string{"password"}},
		{"long password", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{"email":"x@y.io","password":"` + strings.Repeat("Zq9!", 40) + `","name":"N"}`, 400, "invalid_input", []string{"password"}},
		{"wrong type", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{"email":42,"password":"x","name":"y"}`, 400, "invalid_input", []string{"email"}},
		{"unknown field", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{"email":"x@y.io","password":"Zebra-Cactus-77","name":"y","admin":true}`, 400, "invalid_input", []string{"admin"}},
		{"oversize body", env.Anon(), "POST", "/api/v1/auth/register", "application/json", big, 413, "body_too_large", nil},
		{"duplicate email", env.Anon(), "POST", "/api/v1/auth/register", "application/json", `{"email":"OWNER@alpha.test","password":"Zebra-Cactus-77","name":"y"}`, 409, "email_taken", []string{"email"}},
		{"login missing fields", env.Anon(), "POST", "/api/v1/auth/login", "application/json", `{}`, 400, "invalid_input", []string{"email", "password"}},
		{"redeem missing code", env.Anon(), "POST", "/api/v1/auth/handoff/redeem", "application/json", `{}`, 400, "invalid_input", []string{"code"}},
		{"unknown tenant", owner, "POST", "/api/v1/t/nope/members", "application/json", `{"email":"a@b.co","roles":["viewer"]}`, 404, "tenant_not_found", nil},
		{"add member unknown account", owner, "POST", "/api/v1/t/alpha/members", "application/json", `{"email":"ghost@nowhere.io","roles":["viewer"]}`, 400, "invalid_input", []string{"email"}},
		{"add member no roles", owner, "POST", "/api/v1/t/alpha/members", "application/json", `{"email":"op@saasmall.test","roles":[]}`, 400, "invalid_input", []string{"roles"}},
		{"add member unknown role", owner, "POST", "/api/v1/t/alpha/members", "application/json", `{"email":"op@saasmall.test","roles":["emperor"]}`, 400, "invalid_input", []string{"roles"}},
		{"bad member id", owner, "PUT", "/api/v1/t/alpha/members/abc/roles", "application/json", `{"roles":["viewer"]}`, 400, "invalid_input", []string{"user"}},
		{"bad page", owner, "GET", "/api/v1/t/alpha/members?page=0&per_page=1000", "", ``, 400, "invalid_input", []string{"page", "per_page"}},
		{"tenant bad fields", operator, "POST", "/api/v1/tenants", "application/json", `{"slug":"-Bad Slug-","name":"","default_currency":"XYZ","default_locale":"fr","tax_rate_bp":20000}`, 400, "invalid_input", []string{"slug", "name", "default_currency", "default_locale", "tax_rate_bp", "admin_email"}},
		{"tenant slug taken", operator, "POST", "/api/v1/tenants", "application/json", `{"slug":"alpha","name":"A2","admin_email":"owner@alpha.test"}`, 409, "slug_taken", []string{"slug"}},
		{"tenant reserved slug", operator, "POST", "/api/v1/tenants", "application/json", `{"slug":"api","name":"A2","admin_email":"owner@alpha.test"}`, 400, "invalid_input", []string{"slug"}},
		{"tenant new admin weak password", operator, "POST", "/api/v1/tenants", "application/json", `{"slug":"gamma","name":"G","admin_email":"new@gamma.test","admin_password":"123"}`, 400, "invalid_input", []string{"admin_password"}},
		{"tenant by non-operator", owner, "POST", "/api/v1/tenants", "application/json", `{"slug":"delta","name":"D","admin_email":"x@y.io"}`, 403, "forbidden", nil},
		{"unknown route", env.Anon(), "GET", "/api/v1/nothing-here", "", ``, 404, "route_not_found", nil},
	}
	for _, tc := range cases {
		for _, lang := range []string{"en", "zh-Hans"} {
			c := *tc.c
			c.Lang = lang
			r := c.Raw(tc.method, tc.path, tc.ctype, []byte(tc.body))
			if r.Status != tc.status || r.Code() != tc.code {
				t.Errorf("%s [%s]: got %d %s, want %d %s", tc.name, lang, r.Status, r.Body, tc.status, tc.code)
				continue
			}
			msg := r.Message()
			if msg == "" || strings.HasPrefix(msg, "error.") {
				t.Errorf("%s [%s]: untranslated message %q", tc.name, lang, msg)
			}
			if hasHan(msg) != (lang == "zh-Hans") {
				t.Errorf("%s [%s]: message in the wrong language: %q", tc.name, lang, msg)
			}
			for _, f := range tc.fields {
				if r.Field(f) == "" {
					t.Errorf("%s [%s]: no field error for %q: %s", tc.name, lang, f, r.Body)
				}
			}
		}
	}
	after := rowCounts(t, env)
	for k, v := range before {
		// Failed logins may not write; nothing above may create a row.
		if after[k] != v {
			t.Errorf("table %s: %d rows before, %d after bad input", k, v, after[k])
		}
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}
