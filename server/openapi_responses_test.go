package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"saasmall/server/auth"
	"saasmall/server/servertest"
)

// contract sends requests through servertest clients and checks each
// request and response against the OpenAPI document the server serves.
type contract struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	hits   map[string]map[int]int // "METHOD /path/{param}" → status → count
}

func newContract(t *testing.T, env *servertest.Env) *contract {
	t.Helper()
	r := env.Anon().Do("GET", "/api/v1/openapi.json", nil).Want(t, 200)
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("served openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served openapi.json is invalid: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	k := &contract{t: t, doc: doc, router: router, hits: map[string]map[int]int{},
		opts: &openapi3filter.Options{
			AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
			IncludeResponseStatus:             true,
			RejectWhenRequestBodyNotSpecified: true,
			MultiError:                        true,
		}}
	// Name the offending value, not the whole schema.
	k.opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return fmt.Sprintf("at /%s: %s", strings.Join(err.JSONPointer(), "/"), err.Reason)
	})
	// The GET above is checked too.
	k.check(env.Anon(), "GET", "/api/v1/openapi.json", "", nil, r, true)
	return k
}

func jsonBody(t *testing.T, body any) (string, []byte) {
	t.Helper()
	if body == nil {
		return "", nil
	}
	if s, ok := body.(string); ok {
		return "application/json", []byte(s)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return "application/json", b
}

// ok sends a request the document accepts and wants status. hdr are extra
// header name/value pairs (Idempotency-Key).
func (k *contract) ok(c *servertest.Client, method, path string, body any, status int, hdr ...string) *servertest.Resp {
	k.t.Helper()
	ct, b := jsonBody(k.t, body)
	return k.send(c, method, path, ct, b, status, true, hdr...)
}

// bad sends a request the document itself refuses (as the server does) and
// wants status; the error response is still checked against the document.
func (k *contract) bad(c *servertest.Client, method, path string, body any, status int, hdr ...string) *servertest.Resp {
	k.t.Helper()
	ct, b := jsonBody(k.t, body)
	return k.send(c, method, path, ct, b, status, false, hdr...)
}

func (k *contract) send(c *servertest.Client, method, path, ctype string, body []byte, status int, docValid bool, hdr ...string) *servertest.Resp {
	k.t.Helper()
	r := c.Raw(method, path, ctype, body, hdr...)
	if r.Status != status {
		k.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, status, r.Body)
	}
	k.check(c, method, path, ctype, body, r, docValid, hdr...)
	return r
}

func (k *contract) check(c *servertest.Client, method, path, ctype string, body []byte, r *servertest.Resp, docValid bool, hdr ...string) {
	k.t.Helper()
	ctx := context.Background()
	req := c.Request(method, path, ctype, body, hdr...) // what servertest sent, for the validator
	route, params, err := k.router.FindRoute(req)
	if err != nil {
		k.t.Errorf("%s %s: not in openapi.json: %v", method, path, err)
		return
	}
	op := route.Method + " " + route.Path
	if k.hits[op] == nil {
		k.hits[op] = map[int]int{}
	}
	k.hits[op][r.Status]++

	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: k.opts}
	err = openapi3filter.ValidateRequest(ctx, in)
	switch {
	case docValid && err != nil:
		k.t.Errorf("%s %s: request does not match openapi.json: %v", method, path, err)
	case !docValid && err == nil:
		k.t.Errorf("%s %s: openapi.json accepts a request the server refuses with %d %s", method, path, r.Status, r.Body)
	}

	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header, Options: k.opts}
	out.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		k.t.Errorf("%s %s: %d response does not match openapi.json: %v\nbody: %.600s", method, path, r.Status, err, r.Body)
	}
	// A response documented without content has no body.
	if rr := route.Operation.Responses.Status(r.Status); rr != nil && rr.Value != nil && len(rr.Value.Content) == 0 && len(r.Body) > 0 {
		k.t.Errorf("%s %s: %d is documented without a body, got %.200s", method, path, r.Status, r.Body)
	}
}

// covered fails unless every documented operation, but those excused,
// answered with a 2xx.
func (k *contract) covered(excused ...string) {
	k.t.Helper()
	var missing []string
	for path, item := range k.doc.Paths.Map() {
		for method := range item.Operations() {
			op := method + " " + path
			if slices.Contains(excused, op) {
				continue
			}
			ok := false
			for st := range k.hits[op] {
				ok = ok || (st >= 200 && st < 300)
			}
			if !ok {
				missing = append(missing, fmt.Sprintf("%s (saw %v)", op, k.hits[op]))
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		k.t.Errorf("no successful call of %s: extend the scenario", m)
	}
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("not a number: %v", v)
	}
	return int64(f)
}

func sub(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object in %v", key, m)
	}
	return v
}

// TestOpenAPIResponses drives a realistic scenario through every route —
// successes and errors — and checks each request and response against the
// served OpenAPI document, so the handlers and the document cannot drift.
func TestOpenAPIResponses(t *testing.T) {
	// A small body limit, so that the oversize request below fits in one
	// write and the 413 is read back before the server closes the connection.
	env := servertest.New(t, func(c *serverConfig) { c.BodyLimit = 1 << 10 })
	k := newContract(t, env)
	anon := env.Anon()

	// Health.
	k.ok(anon, "GET", "/healthz", nil, 200)
	k.ok(anon, "GET", "/readyz", nil, 200)

	// Register on the APP, with field and conflict errors.
	app := &servertest.Client{Env: env, Source: "app"}
	reg := k.ok(app, "POST", "/api/v1/auth/register", map[string]any{
		"email": "ada@example.com", "password": servertest.Password, "name": "Ada", "locale": "en"}, 201)
	app.Token = reg.JSON["token"].(string)
	adaID := num(t, sub(t, reg.JSON, "user")["id"])
	k.ok(anon, "POST", "/api/v1/auth/register", map[string]any{
		"email": "ada@example.com", "password": servertest.Password, "name": "Ada again"}, 409)
	k.ok(anon, "POST", "/api/v1/auth/register", map[string]any{
		"email": "weak@example.com", "password": "password1", "name": "Weak"}, 400)
	k.bad(anon, "POST", "/api/v1/auth/register", map[string]any{
		"email": "x@example.com", "password": servertest.Password, "name": "X", "admin": true}, 400)
	k.bad(anon, "POST", "/api/v1/auth/register", `{"email": "a@b.co",`, 400)
	k.bad(anon, "POST", "/api/v1/auth/register", map[string]any{}, 400)

	// Sign in once on the desktop with a bearer token; errors.
	pc := &servertest.Client{Env: env, Source: "pc"}
	login := k.ok(pc, "POST", "/api/v1/auth/login", map[string]any{"email": "ada@example.com", "password": servertest.Password}, 200)
	pc.Token = login.JSON["token"].(string)
	k.ok(anon, "POST", "/api/v1/auth/login", map[string]any{"email": "ada@example.com", "password": "wrong-password-123"}, 401)
	k.bad(anon, "POST", "/api/v1/auth/login", map[string]any{}, 400)
	k.bad(anon, "POST", "/api/v1/auth/login", nil, 400)

	// The account is limited after repeated failures, with Retry-After.
	env.Register("limited@example.com", "Limited")
	for i := 0; i < 5; i++ {
		k.ok(anon, "POST", "/api/v1/auth/login", map[string]any{"email": "limited@example.com", "password": "wrong-password-123"}, 401)
	}
	k.ok(anon, "POST", "/api/v1/auth/login", map[string]any{"email": "limited@example.com", "password": servertest.Password}, 429)

	// Me, on each channel.
	me := k.ok(pc, "GET", "/api/v1/me", nil, 200)
	if me.JSON["client_source"] != "pc" {
		t.Errorf("me.client_source = %v, want pc", me.JSON["client_source"])
	}
	k.ok(app, "GET", "/api/v1/me", nil, 200)
	k.ok(anon, "GET", "/api/v1/me", nil, 401)
	k.ok(&servertest.Client{Env: env, Token: "sm_not-a-real-token"}, "GET", "/api/v1/me", nil, 401)
	k.ok(pc, "PATCH", "/api/v1/me", map[string]any{"name": "Ada Lovelace", "locale": "zh-Hans"}, 200)
	k.ok(pc, "PATCH", "/api/v1/me", map[string]any{"locale": ""}, 200)
	k.bad(pc, "PATCH", "/api/v1/me", map[string]any{"locale": "fr"}, 400)
	k.bad(pc, "PATCH", "/api/v1/me", map[string]any{"name": ""}, 400)
	k.bad(pc, "PATCH", "/api/v1/me", map[string]any{"email": "new@example.com"}, 400)

	// The web console signs in with cookies and must send the CSRF token.
	web := &servertest.Client{Env: env, UA: "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"}
	wl := k.ok(web, "POST", "/api/v1/auth/login", map[string]any{"email": "ada@example.com", "password": servertest.Password}, 200)
	for _, ck := range (&http.Response{Header: wl.Header}).Cookies() {
		if ck.Name == "saasmall_session" {
			web.Cookies = append(web.Cookies, ck)
		}
	}
	if len(web.Cookies) != 1 {
		t.Fatalf("login set no session cookie: %v", wl.Header.Values("Set-Cookie"))
	}
	k.ok(web, "GET", "/api/v1/me", nil, 200)
	k.ok(web, "POST", "/api/v1/auth/handoff", nil, 403) // no X-CSRF-Token
	web.CSRF = wl.JSON["csrf_token"].(string)

	// Hand the web session to a phone: sign in once, every channel follows.
	h := k.ok(web, "POST", "/api/v1/auth/handoff", nil, 201)
	phone := &servertest.Client{Env: env, Source: "mobile"}
	rd := k.ok(phone, "POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": h.JSON["code"]}, 200)
	phone.Token = rd.JSON["token"].(string)
	phoneSession := num(t, sub(t, rd.JSON, "session")["id"])
	k.ok(anon, "POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": h.JSON["code"]}, 410)
	k.ok(anon, "POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": "AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH"}, 404)
	k.bad(anon, "POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": ""}, 400)
	h2 := k.ok(pc, "POST", "/api/v1/auth/handoff", nil, 201)
	env.Clock.Advance(3 * time.Minute)
	k.ok(&servertest.Client{Env: env, Source: "applet"}, "POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": h2.JSON["code"]}, 410)
	k.ok(anon, "POST", "/api/v1/auth/handoff", nil, 401)
	k.ok(phone, "GET", "/api/v1/me", nil, 200)

	// Sessions: list, revoke the phone's, errors.
	ss := k.ok(pc, "GET", "/api/v1/auth/sessions", nil, 200)
	if items, _ := ss.JSON["items"].([]any); len(items) < 4 {
		t.Errorf("sessions: %d items, want at least 4 (app, pc, web, phone)", len(items))
	}
	k.ok(anon, "GET", "/api/v1/auth/sessions", nil, 401)
	noCSRF := *web
	noCSRF.CSRF = ""
	k.ok(&noCSRF, "DELETE", fmt.Sprintf("/api/v1/auth/sessions/%d", phoneSession), nil, 403)
	k.ok(pc, "DELETE", fmt.Sprintf("/api/v1/auth/sessions/%d", phoneSession), nil, 204)
	k.ok(phone, "GET", "/api/v1/me", nil, 401)
	k.ok(pc, "DELETE", fmt.Sprintf("/api/v1/auth/sessions/%d", phoneSession), nil, 404)
	k.bad(pc, "DELETE", "/api/v1/auth/sessions/abc", nil, 400)

	// Password change: errors, then success revokes every session.
	k.ok(pc, "PUT", "/api/v1/me/password", map[string]any{"current_password": "nope-nope-nope", "new_password": "password1"}, 400)
	k.bad(pc, "PUT", "/api/v1/me/password", map[string]any{"current_password": servertest.Password}, 400)
	k.ok(anon, "PUT", "/api/v1/me/password", map[string]any{"current_password": "x", "new_password": "another-Secret-Walrus-7"}, 401)
	cp := k.ok(pc, "PUT", "/api/v1/me/password", map[string]any{"current_password": servertest.Password, "new_password": "another-Secret-Walrus-7"}, 200)
	k.ok(app, "GET", "/api/v1/me", nil, 401)
	k.ok(web, "GET", "/api/v1/me", nil, 401)
	pc.Token = cp.JSON["token"].(string)

	// A platform operator provisions tenants.
	if _, err := env.Srv.Auth.CreateUser(ctxBG, auth.RegisterInput{Email: "op@saasmall.test", Password: servertest.Password, Name: "Op"}, true); err != nil {
		t.Fatal(err)
	}
	op := env.Login("op@saasmall.test", servertest.Password, "pc")
	createTenant := func(body map[string]any) {
		t.Helper()
		k.ok(op, "POST", "/api/v1/tenants", body, 201)
	}
	createTenant(map[string]any{"slug": "alpha", "name": "Alpha Inc", "default_currency": "CNY",
		"default_locale": "zh-Hans", "tax_rate_bp": 1300, "admin_email": "owner@alpha.test", "admin_password": servertest.Password,
		"admin_name": "Alpha Owner"})
	createTenant(map[string]any{"slug": "bravo", "name": "Bravo", "admin_email": "owner@bravo.test",
		"admin_password": servertest.Password})
	k.ok(op, "POST", "/api/v1/tenants", map[string]any{"slug": "alpha", "name": "Alpha 2", "admin_email": "owner@alpha.test"}, 409)
	k.ok(op, "POST", "/api/v1/tenants", map[string]any{"slug": "api", "name": "Reserved", "admin_email": "owner@alpha.test"}, 400)
	k.bad(op, "POST", "/api/v1/tenants", map[string]any{"slug": "-Bad Slug-", "name": "", "default_locale": "fr", "tax_rate_bp": 20000}, 400)
	k.ok(pc, "POST", "/api/v1/tenants", map[string]any{"slug": "delta", "name": "Delta", "admin_email": "x@y.io"}, 403)
	k.ok(anon, "POST", "/api/v1/tenants", map[string]any{"slug": "delta", "name": "Delta", "admin_email": "x@y.io"}, 401)
	k.ok(op, "GET", "/api/v1/tenants", nil, 200)
	tp := k.ok(op, "GET", "/api/v1/tenants?page=2&per_page=1", nil, 200)
	if tp.JSON["total"] != float64(2) || len(tp.JSON["items"].([]any)) != 1 {
		t.Errorf("tenants page 2: %s", tp.Body)
	}
	k.bad(op, "GET", "/api/v1/tenants?per_page=1000", nil, 400)
	k.ok(pc, "GET", "/api/v1/tenants", nil, 403)

	// The tenant's owner manages members.
	owner := env.Login("owner@alpha.test", servertest.Password, "pc")
	ownerID := num(t, sub(t, k.ok(owner, "GET", "/api/v1/me", nil, 200).JSON, "user")["id"])
	T := "/api/v1/t/alpha"
	k.ok(owner, "GET", T+"/members", nil, 200)
	k.ok(owner, "GET", T+"/members?page=1&per_page=5&lang=zh-Hans", nil, 200)
	k.bad(owner, "GET", T+"/members?page=0", nil, 400)
	k.ok(owner, "POST", T+"/members", map[string]any{"email": "ada@example.com", "roles": []string{"viewer"}}, 201)
	k.ok(owner, "POST", T+"/members", map[string]any{"email": "ada@example.com", "roles": []string{"viewer"}}, 409)
	k.ok(owner, "POST", T+"/members", map[string]any{"email": "ghost@nowhere.io", "roles": []string{"viewer"}}, 400)
	k.ok(owner, "POST", T+"/members", map[string]any{"email": "op@saasmall.test", "roles": []string{"emperor"}}, 400)
	k.bad(owner, "POST", T+"/members", map[string]any{"email": "op@saasmall.test", "roles": []string{}}, 400)
	k.ok(owner, "GET", fmt.Sprintf("%s/members/%d", T, adaID), nil, 200)
	k.ok(owner, "GET", T+"/members/999999", nil, 404)
	k.bad(owner, "GET", T+"/members/abc", nil, 400)
	k.ok(owner, "PUT", fmt.Sprintf("%s/members/%d/roles", T, adaID), map[string]any{"roles": []string{"viewer", "accountant"}}, 200)
	k.ok(owner, "PUT", fmt.Sprintf("%s/members/%d/roles", T, ownerID), map[string]any{"roles": []string{"viewer"}}, 409)
	k.ok(owner, "PUT", T+"/members/999999/roles", map[string]any{"roles": []string{"viewer"}}, 404)
	k.bad(owner, "PUT", fmt.Sprintf("%s/members/%d/roles", T, adaID), map[string]any{}, 400)

	// Access: a viewer lacks admin:read, a non-member sees no tenant.
	k.ok(pc, "GET", T+"/members", nil, 403)
	k.ok(pc, "GET", "/api/v1/me", nil, 200) // now with a membership
	k.ok(op, "GET", T+"/members", nil, 404)
	k.ok(owner, "GET", "/api/v1/t/nope/members", nil, 404)
	k.ok(anon, "GET", T+"/members", nil, 401)

	// Roles.
	k.ok(owner, "GET", T+"/roles", nil, 200)
	k.ok(owner, "POST", T+"/roles", map[string]any{"name": "auditor", "description": "reads the audit log",
		"permissions": []map[string]string{{"object": "admin", "action": "read"}}}, 201)
	k.ok(owner, "POST", T+"/roles", map[string]any{"name": "bare"}, 201)
	k.ok(owner, "POST", T+"/roles", map[string]any{"name": "auditor"}, 409)
	k.bad(owner, "POST", T+"/roles", map[string]any{"name": "Bad Name!", "permissions": []map[string]string{{"object": "spaceship", "action": "fly"}}}, 400)
	k.ok(owner, "PUT", T+"/roles/auditor", map[string]any{"description": "reads members and the audit log",
		"permissions": []map[string]string{{"object": "admin", "action": "read"}, {"object": "mall", "action": "read"}}}, 200)
	k.ok(owner, "PUT", T+"/roles/owner", map[string]any{"permissions": []map[string]string{{"object": "mall", "action": "read"}}}, 409)
	k.ok(owner, "PUT", T+"/roles/no_such_role", map[string]any{"description": "x"}, 404)
	k.bad(owner, "PUT", T+"/roles/auditor", map[string]any{"permissions": []map[string]string{{"object": "mall", "action": "fly"}}}, 400)
	k.ok(owner, "PUT", fmt.Sprintf("%s/members/%d/roles", T, adaID), map[string]any{"roles": []string{"viewer", "auditor"}}, 200)
	k.ok(pc, "GET", T+"/members", nil, 200) // the role takes effect at once
	k.ok(owner, "DELETE", T+"/roles/auditor", nil, 409)
	k.ok(owner, "DELETE", T+"/roles/owner", nil, 409)
	k.ok(owner, "DELETE", T+"/roles/no_such_role", nil, 404)
	k.ok(owner, "DELETE", T+"/roles/bare", nil, 204)
	k.ok(pc, "DELETE", T+"/roles/viewer", nil, 403) // auditor reads, does not write

	// Direct grants.
	k.ok(owner, "GET", T+"/policies", nil, 200)
	k.ok(owner, "POST", T+"/policies", map[string]any{"user_id": adaID, "object": "finance", "action": "approve"}, 201)
	k.ok(owner, "POST", T+"/policies", map[string]any{"user_id": adaID, "object": "finance", "action": "approve"}, 409)
	opID := num(t, sub(t, k.ok(op, "GET", "/api/v1/me", nil, 200).JSON, "user")["id"])
	k.ok(owner, "POST", T+"/policies", map[string]any{"user_id": opID, "object": "mall", "action": "read"}, 400)
	k.bad(owner, "POST", T+"/policies", map[string]any{"user_id": adaID, "object": "spaceship", "action": "read"}, 400)
	k.bad(owner, "POST", T+"/policies", map[string]any{"subject": fmt.Sprintf("user:%d", adaID), "object": "mall", "action": "read"}, 400)
	lp := k.ok(owner, "GET", T+"/policies", nil, 200)
	if items, _ := lp.JSON["items"].([]any); len(items) != 1 {
		t.Errorf("policies: %s", lp.Body)
	}
	grant := fmt.Sprintf("%s/policies?user_id=%d&object=finance&action=approve", T, adaID)
	k.ok(owner, "DELETE", grant, nil, 204)
	k.ok(owner, "DELETE", grant, nil, 404)
	k.bad(owner, "DELETE", T+"/policies?user_id=abc&object=finance&action=approve", nil, 400)
	k.bad(owner, "DELETE", fmt.Sprintf("%s/policies?user_id=%d&object=spaceship&action=approve", T, adaID), nil, 400)
	k.ok(owner, "DELETE", fmt.Sprintf("%s/policies?user_id=%d&object=finance&action=approve", T, opID), nil, 400)

	// The audit log.
	al := k.ok(owner, "GET", T+"/audit", nil, 200)
	if al.JSON["total"].(float64) < 5 {
		t.Errorf("audit log has too few entries: %s", al.Body)
	}
	k.ok(owner, "GET", fmt.Sprintf("%s/audit?action=role.create&actor=%d&page=1&per_page=5", T, ownerID), nil, 200)
	k.ok(pc, "GET", T+"/audit?per_page=100", nil, 200) // the auditor role reads it
	k.bad(owner, "GET", T+"/audit?actor=abc", nil, 400)
	k.bad(owner, "GET", T+"/audit?actor=0", nil, 400)
	k.ok(env.Login("owner@bravo.test", servertest.Password, "pc"), "GET", T+"/audit", nil, 404)

	// Members leave; the last owner stays.
	k.ok(owner, "DELETE", fmt.Sprintf("%s/members/%d", T, ownerID), nil, 409)
	k.ok(owner, "DELETE", fmt.Sprintf("%s/members/%d", T, adaID), nil, 204)
	k.ok(owner, "DELETE", fmt.Sprintf("%s/members/%d", T, adaID), nil, 404)
	k.bad(owner, "DELETE", T+"/members/abc", nil, 400)
	k.ok(pc, "GET", T+"/members", nil, 404)

	// The mall. Staff stock the store through the API: a goods product
	// (created as a draft, then published) and a SaaS product with plans.
	refresh := func() {
		t.Helper()
		// The shopper read model applies catalog changes on a timer in
		// production; here at once.
		if err := env.Srv.Mall.Catalog.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	skuIDs := func(r *servertest.Resp) []int64 {
		t.Helper()
		var ids []int64
		for _, s := range r.JSON["skus"].([]any) {
			ids = append(ids, num(t, s.(map[string]any)["id"]))
		}
		return ids
	}
	usd := func(amount int64) []map[string]any { return []map[string]any{{"amount": amount, "currency": "USD"}} }
	desk := k.ok(owner, "POST", T+"/products", map[string]any{
		"kind": "goods", "name": "Walnut Desk", "summary": "A solid walnut desk", "description": "Hand-finished.",
		"category": "Furniture", "image_url": "https://img.example.com/desk.jpg",
		"attributes": []map[string]string{{"key": "Material", "value": "Walnut"}},
		"skus": []map[string]any{
			{"code": "DESK-S", "name": "Small", "prices": []map[string]any{{"amount": 19900, "currency": "USD"}, {"amount": 139900, "currency": "cny"}},
				"weight_grams": 20000, "hs_code": "9403.30", "origin_country": "cn"},
			{"code": "DESK-L", "name": "Large", "prices": usd(29900), "weight_grams": 30000},
		}}, 201)
	if desk.JSON["status"] != "draft" {
		t.Errorf("a new product is a draft: %s", desk.Body)
	}
	deskID := num(t, desk.JSON["id"])
	deskS, deskL := skuIDs(desk)[0], skuIDs(desk)[1]
	ledger := k.ok(owner, "POST", T+"/products", map[string]any{
		"kind": "saas", "name": "Ledger Cloud", "summary": "Bookkeeping for teams", "category": "Software", "status": "active",
		"attributes": []map[string]string{{"key": "OS", "value": "Linux"}},
		"skus": []map[string]any{
			{"code": "LEDGER-FREE", "name": "Free", "prices": usd(0),
				"plan": map[string]any{"tier": "free", "interval": "month", "features": []string{"Invoices"}}},
			{"code": "LEDGER-TEAM", "name": "Team", "prices": usd(1000),
				"plan": map[string]any{"tier": "paid", "interval": "month", "per_seat": true, "features": []string{"Invoices", "Payroll"}}},
			{"code": "LEDGER-BIZ", "name": "Business", "prices": usd(24000),
				"plan": map[string]any{"tier": "paid", "interval": "year", "per_seat": true, "trial_days": 0,
					"features": []string{"Invoices", "Payroll", "Audit trail"}}},
		}}, 201)
	ledgerID := num(t, ledger.JSON["id"])
	free, team, biz := skuIDs(ledger)[0], skuIDs(ledger)[1], skuIDs(ledger)[2]
	k.ok(owner, "POST", T+"/products", map[string]any{"kind": "saas", "name": "No plan", "skus": []map[string]any{
		{"code": "NP-1", "name": "Basic", "prices": usd(100)}}}, 400) // skus[0].plan required
	k.ok(owner, "POST", T+"/products", map[string]any{"kind": "goods", "name": "Copy", "skus": []map[string]any{
		{"code": "DESK-S", "name": "Copy", "prices": usd(100)}}}, 400) // sku_code_taken
	k.bad(owner, "POST", T+"/products", map[string]any{"kind": "boat", "name": "", "skus": []any{}}, 400)
	k.ok(pc, "POST", T+"/products", map[string]any{"kind": "goods", "name": "X", "skus": []map[string]any{
		{"code": "X-1", "name": "X", "prices": usd(100)}}}, 404) // not a member
	product := fmt.Sprintf("%s/products/%d", T, deskID)
	pub := k.ok(owner, "PATCH", product, map[string]any{"status": "active", "summary": "A solid walnut desk, oiled",
		"attributes": []map[string]string{{"key": "Material", "value": "Walnut"}, {"key": "Assembly", "value": "None"}}}, 200)
	if pub.JSON["status"] != "active" {
		t.Errorf("publish: %s", pub.Body)
	}
	k.ok(owner, "PATCH", product, map[string]any{"image_url": "ftp://img.example.com/desk.jpg"}, 400)
	k.bad(owner, "PATCH", product, map[string]any{"kind": "saas"}, 400)
	k.ok(owner, "PATCH", T+"/products/999999", map[string]any{"name": "Ghost"}, 404)
	k.ok(owner, "GET", T+"/products", nil, 200)
	if r := k.ok(owner, "GET", T+"/products?kind=goods&status=active&q=walnut&page=1&per_page=5", nil, 200); r.JSON["total"] != float64(1) {
		t.Errorf("staff product search: %s", r.Body)
	}
	k.bad(owner, "GET", T+"/products?status=gone", nil, 400)
	k.ok(owner, "GET", product, nil, 200)
	k.ok(owner, "GET", T+"/products/999999", nil, 404)
	k.bad(owner, "GET", T+"/products/abc", nil, 400)

	// Warehouses and stock.
	whs := k.ok(owner, "GET", T+"/warehouses", nil, 200)
	wh := num(t, whs.JSON["items"].([]any)[0].(map[string]any)["id"])
	k.ok(owner, "POST", T+"/stock/adjustments", map[string]any{"sku_id": deskS, "delta": 5, "reason": "initial count"}, 201)
	lvl := k.ok(owner, "POST", T+"/stock/adjustments", map[string]any{"sku_id": deskL, "warehouse_id": wh, "delta": 1, "reason": "received"}, 201)
	if lvl.JSON["available"] != float64(1) {
		t.Errorf("stock level: %s", lvl.Body)
	}
	k.ok(owner, "POST", T+"/stock/adjustments", map[string]any{"sku_id": deskS, "delta": -100, "reason": "write-off"}, 409)
	k.ok(owner, "POST", T+"/stock/adjustments", map[string]any{"sku_id": team, "delta": 1, "reason": "plans have no stock"}, 404)
	k.bad(owner, "POST", T+"/stock/adjustments", map[string]any{"sku_id": deskS, "delta": 0, "reason": "nothing"}, 400)
	k.bad(owner, "POST", T+"/stock/adjustments", map[string]any{"sku_id": deskS, "delta": 1}, 400)
	k.ok(owner, "GET", T+"/stock", nil, 200)
	if r := k.ok(owner, "GET", fmt.Sprintf("%s/stock?sku_ids=%d,%d&warehouse_id=%d&per_page=10", T, deskS, deskL, wh), nil, 200); r.JSON["total"] != float64(2) {
		t.Errorf("stock levels: %s", r.Body)
	}
	k.ok(owner, "GET", T+"/stock?warehouse_id=999999", nil, 404)
	k.bad(owner, "GET", T+"/stock?sku_ids=abc", nil, 400)
	k.ok(owner, "POST", T+"/stock/adjustments", map[string]any{"sku_id": deskS, "delta": 5, "reason": "received", "unit_cost": 1250}, 201)
	k.ok(owner, "POST", T+"/stock/adjustments", map[string]any{"sku_id": deskS, "delta": -1, "reason": "x", "unit_cost": 1}, 400)
	if r := k.ok(owner, "GET", fmt.Sprintf("%s/stock/moves?sku_id=%d&kind=adjust&per_page=5", T, deskS), nil, 200); r.JSON["total"] != float64(2) {
		t.Errorf("moves: %s", r.Body)
	}
	k.ok(owner, "GET", fmt.Sprintf("%s/stock/moves?warehouse_id=%d", T, wh), nil, 200)
	k.bad(owner, "GET", T+"/stock/moves?kind=steal", nil, 400)
	k.bad(owner, "GET", T+"/stock/moves?sku_id=-1", nil, 400)
	k.ok(owner, "GET", T+"/stock/moves?warehouse_id=999999", nil, 404)
	if r := k.ok(owner, "GET", T+"/stock/valuation", nil, 200); r.JSON["total_value"] != float64(10*625) {
		t.Errorf("valuation (10 units: 5 uncosted, 5 at 12.50, so 6.25 each): %s", r.Body)
	}
	k.bad(owner, "GET", T+"/stock/valuation?page=0", nil, 400)
	second := k.ok(owner, "POST", T+"/warehouses", map[string]any{"code": "sh-02", "name": "Shanghai", "country": "CN",
		"line1": "88 Century Ave", "city": "Shanghai", "postal_code": "200120"}, 201)
	if second.JSON["code"] != "SH-02" || second.JSON["status"] != "active" {
		t.Errorf("created warehouse: %s", second.Body)
	}
	wh2 := fmt.Sprintf("%s/warehouses/%d", T, num(t, second.JSON["id"]))
	k.ok(owner, "POST", T+"/warehouses", map[string]any{"code": "SH-02", "name": "Again", "country": "CN"}, 409)
	k.bad(owner, "POST", T+"/warehouses", map[string]any{"code": "", "name": "x", "country": "ZZ"}, 400)
	k.ok(owner, "GET", wh2, nil, 200)
	k.ok(owner, "GET", T+"/warehouses/999999", nil, 404)
	if r := k.ok(owner, "PATCH", wh2, map[string]any{"status": "closed", "city": "Pudong"}, 200); r.JSON["status"] != "closed" || r.JSON["city"] != "Pudong" {
		t.Errorf("closed warehouse: %s", r.Body)
	}
	k.ok(owner, "PATCH", fmt.Sprintf("%s/warehouses/%d", T, wh), map[string]any{"status": "closed"}, 409)
	k.bad(owner, "PATCH", wh2, map[string]any{}, 400)
	k.bad(owner, "PATCH", wh2, map[string]any{"status": "open"}, 400)
	k.ok(owner, "PATCH", T+"/warehouses/999999", map[string]any{"name": "x"}, 404)
	// A transfer to the second warehouse, received; another, cancelled.
	wh2id := num(t, second.JSON["id"])
	k.ok(owner, "PATCH", wh2, map[string]any{"status": "active"}, 200)
	tr := k.ok(owner, "POST", T+"/transfers", map[string]any{"from_warehouse_id": wh, "to_warehouse_id": wh2id,
		"lines": []map[string]any{{"sku_id": deskS, "qty": 2}}, "note": "rebalance"}, 201)
	trURL := fmt.Sprintf("%s/transfers/%d", T, num(t, tr.JSON["id"]))
	k.ok(owner, "GET", trURL, nil, 200)
	k.ok(owner, "POST", trURL+"/receive", nil, 200)
	k.ok(owner, "POST", trURL+"/receive", nil, 409)
	k.ok(owner, "POST", trURL+"/cancel", nil, 409)
	tr2 := k.ok(owner, "POST", T+"/transfers", map[string]any{"from_warehouse_id": wh2id, "to_warehouse_id": wh,
		"lines": []map[string]any{{"sku_id": deskS, "qty": 1}}}, 201)
	k.ok(owner, "POST", fmt.Sprintf("%s/transfers/%d/cancel", T, num(t, tr2.JSON["id"])), nil, 200)
	k.ok(owner, "POST", T+"/transfers", map[string]any{"from_warehouse_id": wh, "to_warehouse_id": wh2id,
		"lines": []map[string]any{{"sku_id": deskS, "qty": 999}}}, 409)
	k.ok(owner, "POST", T+"/transfers", map[string]any{"from_warehouse_id": wh, "to_warehouse_id": wh,
		"lines": []map[string]any{{"sku_id": deskS, "qty": 1}}}, 400)
	k.bad(owner, "POST", T+"/transfers", map[string]any{"from_warehouse_id": wh, "lines": []map[string]any{}}, 400)
	k.ok(owner, "POST", T+"/transfers", map[string]any{"from_warehouse_id": 999999, "to_warehouse_id": wh,
		"lines": []map[string]any{{"sku_id": deskS, "qty": 1}}}, 404)
	if r := k.ok(owner, "GET", T+"/transfers?status=received", nil, 200); r.JSON["total"] != float64(1) {
		t.Errorf("received transfers: %s", r.Body)
	}
	k.bad(owner, "GET", T+"/transfers?status=lost", nil, 400)
	k.ok(owner, "GET", T+"/transfers/999999", nil, 404)
	k.ok(owner, "POST", T+"/transfers/999999/receive", nil, 404)
	// A count sheet of the main warehouse: counted, confirmed once.
	cnt := k.ok(owner, "POST", T+"/counts", map[string]any{"warehouse_id": wh, "note": "cycle count"}, 201)
	cntURL := fmt.Sprintf("%s/counts/%d", T, num(t, cnt.JSON["id"]))
	k.ok(owner, "GET", cntURL, nil, 200)
	k.ok(owner, "POST", cntURL+"/confirm", nil, 400) // nothing counted yet
	var entries []map[string]any
	for _, l := range cnt.JSON["lines"].([]any) {
		m := l.(map[string]any)
		entries = append(entries, map[string]any{"sku_id": m["sku_id"], "counted": m["expected"]})
	}
	k.ok(owner, "PATCH", cntURL, map[string]any{"lines": entries}, 200)
	k.ok(owner, "PATCH", cntURL, map[string]any{"lines": []map[string]any{{"sku_id": 999999, "counted": 1}}}, 400)
	k.bad(owner, "PATCH", cntURL, map[string]any{"lines": []map[string]any{{"sku_id": deskS, "counted": -1}}}, 400)
	if r := k.ok(owner, "POST", cntURL+"/confirm", nil, 200); r.JSON["status"] != "confirmed" {
		t.Errorf("confirmed count: %s", r.Body)
	}
	k.ok(owner, "POST", cntURL+"/confirm", nil, 409)
	k.ok(owner, "POST", cntURL+"/cancel", nil, 409)
	cnt2 := k.ok(owner, "POST", T+"/counts", map[string]any{"warehouse_id": wh, "sku_ids": []int64{deskS}}, 201)
	k.ok(owner, "POST", fmt.Sprintf("%s/counts/%d/cancel", T, num(t, cnt2.JSON["id"])), nil, 200)
	k.ok(owner, "POST", T+"/counts", map[string]any{"warehouse_id": 999999}, 404)
	k.bad(owner, "POST", T+"/counts", map[string]any{"note": "no warehouse"}, 400)
	k.ok(owner, "POST", T+"/counts", map[string]any{"warehouse_id": wh, "sku_ids": []int64{deskS, deskS}}, 400)
	if r := k.ok(owner, "GET", fmt.Sprintf("%s/counts?status=confirmed&warehouse_id=%d", T, wh), nil, 200); r.JSON["total"] != float64(1) {
		t.Errorf("confirmed counts: %s", r.Body)
	}
	k.bad(owner, "GET", T+"/counts?status=lost", nil, 400)
	k.ok(owner, "GET", T+"/counts/999999", nil, 404)
	// Counts from a CSV, into an open sheet; not into a confirmed one.
	cnt3 := k.ok(owner, "POST", T+"/counts", map[string]any{"warehouse_id": wh, "note": "from a file"}, 201)
	cnt3URL := fmt.Sprintf("%s/counts/%d", T, num(t, cnt3.JSON["id"]))
	ci := k.send(owner, "POST", cnt3URL+"/import", "text/csv", []byte("sku_code,counted\nDESK-S,4\nNOPE,1\n"), 202, true)
	ci2 := k.ok(owner, "POST", cnt3URL+"/import", map[string]any{"csv": "sku_code,counted\nDESK-S,4\n"}, 202)
	k.send(owner, "POST", cnt3URL+"/import", "text/csv", []byte("sku,qty\nDESK-S,1\n"), 400, true)
	k.bad(owner, "POST", cnt3URL+"/import", map[string]any{"csv": "sku_code,counted\n", "sheet": 1}, 400)
	k.send(owner, "POST", cntURL+"/import", "text/csv", []byte("sku_code,counted\nDESK-S,4\n"), 409, true)
	k.send(owner, "POST", T+"/counts/999999/import", "text/csv", []byte("sku_code,counted\nDESK-S,4\n"), 404, true)
	for _, r := range []*servertest.Resp{ci, ci2} {
		if _, err := env.Srv.Imports.RunImport(ctxBG, num(t, r.JSON["id"]), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if r := k.ok(owner, "GET", fmt.Sprintf("%s/imports/%d", T, num(t, ci.JSON["id"])), nil, 200); r.JSON["kind"] != "stock_counts" ||
		r.JSON["imported"] != float64(1) || len(r.JSON["errors"].([]any)) != 1 {
		t.Errorf("count import: %s", r.Body)
	}
	k.ok(owner, "POST", cnt3URL+"/cancel", nil, 200)
	// A supplier and what it sells.
	sup := k.ok(owner, "POST", T+"/suppliers", map[string]any{"code": "acme", "name": "Acme Parts", "email": "sales@acme.test",
		"currency": "usd", "lead_time_days": 14, "payment_terms": "NET30"}, 201)
	supURL := fmt.Sprintf("%s/suppliers/%d", T, num(t, sup.JSON["id"]))
	k.ok(owner, "POST", T+"/suppliers", map[string]any{"code": "ACME", "name": "Again", "currency": "USD"}, 409)
	k.ok(owner, "POST", T+"/suppliers", map[string]any{"code": "x y", "name": "Bad", "currency": "USD", "email": "nope"}, 400)
	k.bad(owner, "POST", T+"/suppliers", map[string]any{"code": "B", "name": "", "currency": "USD", "lead_time_days": 999}, 400)
	k.ok(owner, "GET", supURL, nil, 200)
	k.ok(owner, "PUT", supURL, map[string]any{"name": "Acme Parts Ltd", "currency": "EUR", "lead_time_days": 10, "active": true}, 200)
	k.ok(owner, "PUT", T+"/suppliers/999999", map[string]any{"name": "x", "currency": "EUR"}, 404)
	k.ok(owner, "POST", supURL+"/skus", map[string]any{"sku_id": deskS, "supplier_code": "AC-1", "unit_cost": 420, "min_order_qty": 50, "pack_size": 12}, 200)
	k.ok(owner, "POST", supURL+"/skus", map[string]any{"sku_id": team, "unit_cost": 1}, 400) // a plan has no stock
	k.bad(owner, "POST", supURL+"/skus", map[string]any{"sku_id": deskS, "unit_cost": -1}, 400)
	if r := k.ok(owner, "GET", supURL+"/skus", nil, 200); len(r.JSON["items"].([]any)) != 1 {
		t.Errorf("supplier skus: %s", r.Body)
	}
	if r := k.ok(owner, "GET", T+"/suppliers?q=acme&active=true", nil, 200); r.JSON["total"] != float64(1) {
		t.Errorf("suppliers: %s", r.Body)
	}
	k.bad(owner, "GET", T+"/suppliers?active=maybe", nil, 400)
	k.ok(owner, "GET", T+"/suppliers/999999/skus", nil, 404)
	// Its price list from a CSV (the same terms for DESK-S, in its EUR).
	plHeader := "sku_code,supplier_code,cost,min_order_qty,pack_size\n"
	pl := k.send(owner, "POST", supURL+"/skus/import", "text/csv", []byte(plHeader+"DESK-S,AC-1,4.20,50,12\nDESK-S,AC-1,4.2O,50,12\n"), 202, true)
	pl2 := k.ok(owner, "POST", supURL+"/skus/import", map[string]any{"csv": plHeader + "DESK-S,AC-1,4.2,50,12\n"}, 202)
	k.send(owner, "POST", supURL+"/skus/import", "text/csv", []byte("sku_code,price\nDESK-S,4.20\n"), 400, true)
	k.bad(owner, "POST", supURL+"/skus/import", map[string]any{"csv": 42}, 400)
	k.send(owner, "POST", T+"/suppliers/999999/skus/import", "text/csv", []byte(plHeader+"DESK-S,AC-1,4.20,50,12\n"), 404, true)
	for _, r := range []*servertest.Resp{pl, pl2} {
		if _, err := env.Srv.Imports.RunImport(ctxBG, num(t, r.JSON["id"]), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if r := k.ok(owner, "GET", fmt.Sprintf("%s/imports/%d?lang=zh-Hans", T, num(t, pl.JSON["id"])), nil, 200); r.JSON["kind"] != "supplier_skus" ||
		r.JSON["imported"] != float64(1) || len(r.JSON["errors"].([]any)) != 2 { // row 3: duplicate_row, invalid_amount
		t.Errorf("price list import: %s", r.Body)
	}
	// A purchase order from it: drafted, approved, sent, received in two
	// goes (short, then over), closed; another cancelled.
	po := k.ok(owner, "POST", T+"/purchase-orders", map[string]any{"supplier_id": num(t, sup.JSON["id"]), "exchange_rate": "7.2",
		"lines": []map[string]any{{"sku_id": deskS, "qty": 10}}}, 201)
	poURL := fmt.Sprintf("%s/purchase-orders/%d", T, num(t, po.JSON["id"]))
	k.ok(owner, "POST", T+"/purchase-orders", map[string]any{"supplier_id": num(t, sup.JSON["id"]), "lines": []map[string]any{{"sku_id": deskS, "qty": 1}}}, 400)
	k.bad(owner, "POST", T+"/purchase-orders", map[string]any{"supplier_id": num(t, sup.JSON["id"]), "lines": []map[string]any{}}, 400)
	k.ok(owner, "POST", T+"/purchase-orders", map[string]any{"supplier_id": 999999, "lines": []map[string]any{{"sku_id": deskS, "qty": 1}}}, 404)
	k.ok(owner, "GET", poURL, nil, 200)
	// The draft is adjusted before approval: 12 at the supplier's price.
	if r := k.ok(owner, "PATCH", poURL, map[string]any{"note": "rush", "lines": []map[string]any{{"sku_id": deskS, "qty": 12}}}, 200); r.JSON["note"] != "rush" ||
		len(r.JSON["lines"].([]any)) != 1 || r.JSON["lines"].([]any)[0].(map[string]any)["qty"] != float64(12) {
		t.Errorf("draft changed: %s", r.Body)
	}
	k.ok(owner, "PATCH", poURL, map[string]any{"exchange_rate": "nope"}, 400)
	k.bad(owner, "PATCH", poURL, map[string]any{}, 400)
	k.ok(owner, "PATCH", T+"/purchase-orders/999999", map[string]any{"note": "x"}, 404)
	k.ok(owner, "PATCH", poURL, map[string]any{"lines": []map[string]any{{"sku_id": deskS, "qty": 10}}}, 200)
	k.ok(owner, "POST", poURL+"/send", nil, 409)
	k.ok(owner, "POST", poURL+"/approve", nil, 200)
	k.ok(owner, "PATCH", poURL, map[string]any{"note": "too late"}, 409)
	k.ok(owner, "POST", poURL+"/send", nil, 200)
	if r := k.ok(owner, "POST", poURL+"/receipts", map[string]any{"lines": []map[string]any{{"sku_id": deskS, "qty": 4}}}, 201); r.JSON["order"].(map[string]any)["status"] != "partially_received" {
		t.Errorf("partial receipt: %s", r.Body)
	}
	k.ok(owner, "POST", poURL+"/receipts", map[string]any{"lines": []map[string]any{{"sku_id": deskL, "qty": 1}}}, 400)
	k.bad(owner, "POST", poURL+"/receipts", map[string]any{"lines": []map[string]any{{"sku_id": deskS, "qty": 0}}}, 400)
	k.ok(owner, "POST", poURL+"/cancel", nil, 409)
	k.ok(owner, "POST", poURL+"/receipts", map[string]any{"lines": []map[string]any{{"sku_id": deskS, "qty": 7}}}, 201)
	k.ok(owner, "POST", poURL+"/close", nil, 200)
	k.ok(owner, "POST", poURL+"/receipts", map[string]any{"lines": []map[string]any{{"sku_id": deskS, "qty": 1}}}, 409)
	po2 := k.ok(owner, "POST", T+"/purchase-orders", map[string]any{"supplier_id": num(t, sup.JSON["id"]), "exchange_rate": "7",
		"lines": []map[string]any{{"sku_id": deskS, "qty": 1, "unit_cost": 99}}}, 201)
	k.ok(owner, "POST", fmt.Sprintf("%s/purchase-orders/%d/cancel", T, num(t, po2.JSON["id"])), nil, 200)
	if r := k.ok(owner, "GET", fmt.Sprintf("%s/purchase-orders?status=closed&supplier_id=%d", T, num(t, sup.JSON["id"])), nil, 200); r.JSON["total"] != float64(1) {
		t.Errorf("closed orders: %s", r.Body)
	}
	k.bad(owner, "GET", T+"/purchase-orders?status=lost", nil, 400)
	k.ok(owner, "GET", T+"/purchase-orders/999999", nil, 404)
	k.ok(owner, "POST", T+"/purchase-orders/999999/approve", nil, 404)
	// A reorder rule far above the stock: replenishment drafts an order
	// with its reason; a second run proposes nothing new.
	k.ok(owner, "POST", T+"/reorder-rules", map[string]any{"sku_id": deskS, "min_qty": 1000, "max_qty": 1200, "order_multiple": 10,
		"preferred_supplier_id": num(t, sup.JSON["id"])}, 200)
	k.ok(owner, "POST", T+"/reorder-rules", map[string]any{"sku_id": deskS, "min_qty": 10, "max_qty": 5}, 400)
	k.ok(owner, "POST", T+"/reorder-rules", map[string]any{"sku_id": deskS, "min_qty": 1, "max_qty": 5, "warehouse_id": 999999}, 404)
	k.bad(owner, "POST", T+"/reorder-rules", map[string]any{"sku_id": deskS, "min_qty": -1, "max_qty": 5}, 400)
	k.ok(owner, "GET", T+"/reorder-rules", nil, 200)
	if r := k.ok(owner, "POST", T+"/replenishment/run", nil, 200); len(r.JSON["purchase_orders"].([]any)) != 1 {
		t.Errorf("replenishment: %s", r.Body)
	}
	if r := k.ok(owner, "POST", T+"/replenishment/run", nil, 200); len(r.JSON["purchase_orders"].([]any)) != 0 {
		t.Errorf("second replenishment: %s", r.Body)
	}
	refresh()

	// Shoppers screen, read and compare products.
	if r := k.ok(anon, "GET", "/api/v1/products", nil, 200); r.JSON["total"] != float64(2) {
		t.Errorf("search everything: %s", r.Body)
	}
	sr := k.ok(anon, "GET", "/api/v1/products?q=walnut&kind=goods&category=Furniture&store=alpha&in_stock=true&currency=usd"+
		"&min_price=100&max_price=100000&sort=price_asc&page=1&per_page=10&attr.Material=Walnut", nil, 200)
	if sr.JSON["total"] != float64(1) || sub(t, sr.JSON, "facets")["attr:Material"] == nil {
		t.Errorf("search with every filter: %s", sr.Body)
	}
	k.ok(anon, "GET", "/api/v1/products?tier=paid&sort=best_selling&lang=zh-Hans", nil, 200)
	k.ok(anon, "GET", "/api/v1/products?min_price=100", nil, 400) // currency required_with_price
	k.bad(anon, "GET", "/api/v1/products?sort=cheapest", nil, 400)
	k.bad(anon, "GET", "/api/v1/products?per_page=1000", nil, 400)
	k.bad(anon, "GET", "/api/v1/products?kind=boat", nil, 400)
	if r := k.ok(anon, "GET", fmt.Sprintf("/api/v1/products/%d", deskID), nil, 200); r.JSON["in_stock"] != true {
		t.Errorf("product detail: %s", r.Body)
	}
	k.ok(anon, "GET", fmt.Sprintf("/api/v1/products/%d", ledgerID), nil, 200)
	k.ok(anon, "GET", "/api/v1/products/999999", nil, 404)
	k.bad(anon, "GET", "/api/v1/products/abc", nil, 400)
	k.ok(anon, "GET", fmt.Sprintf("/api/v1/compare?ids=%d,%d&currency=USD", deskID, ledgerID), nil, 200)
	k.ok(anon, "GET", fmt.Sprintf("/api/v1/compare?ids=%d,999999", deskID), nil, 400)
	k.bad(anon, "GET", fmt.Sprintf("/api/v1/compare?ids=%d", deskID), nil, 400)

	// A guest fills a cart kept in the saasmall_cart cookie.
	guest := &servertest.Client{Env: env}
	k.ok(guest, "GET", "/api/v1/cart", nil, 200)
	ga := k.ok(guest, "POST", "/api/v1/cart/items", map[string]any{"sku_id": deskS, "quantity": 1}, 201)
	for _, ck := range (&http.Response{Header: ga.Header}).Cookies() {
		if ck.Name == "saasmall_cart" {
			guest.Cookies = append(guest.Cookies, ck)
		}
	}
	if len(guest.Cookies) != 1 {
		t.Fatalf("adding to a guest cart set no cart cookie: %v", ga.Header.Values("Set-Cookie"))
	}
	gc := k.ok(guest, "GET", "/api/v1/cart?currency=CNY", nil, 200)
	if gc.JSON["count"] != float64(1) {
		t.Errorf("guest cart: %s", gc.Body)
	}
	gline := fmt.Sprintf("/api/v1/cart/items/%d", num(t, gc.JSON["items"].([]any)[0].(map[string]any)["id"]))
	k.ok(guest, "PATCH", gline+"?currency=USD", map[string]any{"quantity": 3}, 200)
	k.bad(guest, "PATCH", gline, map[string]any{"quantity": 0}, 400)
	k.ok(guest, "PATCH", "/api/v1/cart/items/999999", map[string]any{"quantity": 1}, 404)
	k.ok(guest, "POST", "/api/v1/cart/items", map[string]any{"sku_id": 999999, "quantity": 1}, 400) // unknown_sku
	k.bad(guest, "POST", "/api/v1/cart/items", map[string]any{"sku_id": deskS}, 400)
	k.ok(guest, "DELETE", gline, nil, 200)
	k.ok(guest, "DELETE", gline, nil, 404)
	k.bad(guest, "DELETE", "/api/v1/cart/items/abc", nil, 400)
	// A malformed cart cookie is replaced by a fresh guest cart.
	k.ok(&servertest.Client{Env: env, Cookies: []*http.Cookie{{Name: "saasmall_cart", Value: "short"}}},
		"POST", "/api/v1/cart/items", map[string]any{"sku_id": deskS, "quantity": 1}, 201)

	// A signed-in shopper checks out with an Idempotency-Key.
	addr := map[string]any{"name": "Ada Lovelace", "line1": "1 Analytical St", "city": "London", "postal_code": "N1 9GU", "country": "gb"}
	add := func(sku, qty int64) {
		t.Helper()
		k.ok(pc, "POST", "/api/v1/cart/items", map[string]any{"sku_id": sku, "quantity": qty}, 201)
	}
	checkout := func(key string, body map[string]any, status int) *servertest.Resp {
		t.Helper()
		return k.ok(pc, "POST", "/api/v1/checkout", body, status, "Idempotency-Key", key)
	}
	firstOrder := func(r *servertest.Resp) map[string]any {
		t.Helper()
		return r.JSON["orders"].([]any)[0].(map[string]any)
	}
	add(deskS, 1)
	add(team, 3)
	k.ok(pc, "GET", "/api/v1/cart?currency=CNY", nil, 200) // the plan has no CNY price: unit_price null
	co := map[string]any{"shipping_address": addr, "currency": "USD"}
	c1 := checkout("co-1", co, 201)
	orderA := num(t, firstOrder(c1)["id"])
	numberA := firstOrder(c1)["number"].(string)
	if firstOrder(c1)["status"] != "pending_payment" {
		t.Errorf("checkout: %s", c1.Body)
	}
	if r := checkout("co-1", co, 201); num(t, firstOrder(r)["id"]) != orderA {
		t.Errorf("a retry with the same key placed another order: %s", r.Body)
	}
	checkout("co-1", map[string]any{"shipping_address": addr, "currency": "CNY"}, 422)
	checkout("co-2", co, 409) // cart_empty
	k.bad(pc, "POST", "/api/v1/checkout", co, 400)
	k.ok(anon, "POST", "/api/v1/checkout", co, 401, "Idempotency-Key", "co-anon")

	add(deskL, 2)
	if r := checkout("co-3", co, 409); r.Field(fmt.Sprintf("sku:%d", deskL)) != "out_of_stock" {
		t.Errorf("out of stock: %s", r.Body)
	}
	pcCart := k.ok(pc, "GET", "/api/v1/cart", nil, 200)
	k.ok(pc, "PATCH", fmt.Sprintf("/api/v1/cart/items/%d", num(t, pcCart.JSON["items"].([]any)[0].(map[string]any)["id"])),
		map[string]any{"quantity": 1}, 200)
	orderB := num(t, firstOrder(checkout("co-4", co, 201))["id"])

	add(deskS, 1)
	checkout("co-5", map[string]any{"currency": "USD"}, 400) // goods need a shipping address
	orderC := num(t, firstOrder(checkout("co-6", map[string]any{"shipping_address": addr, "currency": "usd"}, 201))["id"])

	add(free, 1)
	if r := checkout("co-7", map[string]any{"shipping_address": nil, "currency": "USD"}, 201); firstOrder(r)["status"] != "paid" {
		t.Errorf("a free plan is paid at once: %s", r.Body)
	}

	// Payments: a declined card, a card, a bank transfer.
	pay := func(order int64, key string, body map[string]any, status int) *servertest.Resp {
		t.Helper()
		return k.ok(pc, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", order), body, status, "Idempotency-Key", key)
	}
	declined := map[string]any{"method": "sandbox", "card_number": "4000 0000 0000 0002"}
	card := map[string]any{"method": "sandbox", "card_number": "4242424242424242"}
	pay(orderA, "pay-a-1", declined, 402)
	pay(orderA, "pay-a-1", declined, 402) // the decline is replayed
	if r := pay(orderA, "pay-a-2", card, 200); sub(t, r.JSON, "order")["status"] != "paid" || sub(t, r.JSON, "payment")["status"] != "succeeded" {
		t.Errorf("pay: %s", r.Body)
	}
	pay(orderA, "pay-a-2", card, 200)
	pay(orderA, "pay-a-2", map[string]any{"method": "offline"}, 422)
	pay(orderA, "pay-a-3", card, 409) // already_paid
	pay(999999, "pay-x-1", card, 404)
	k.bad(pc, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", orderB), card, 400)
	k.bad(pc, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", orderB), map[string]any{"method": "cash"}, 400, "Idempotency-Key", "pay-x-2")
	if r := pay(orderB, "pay-b-1", map[string]any{"method": "offline"}, 202); sub(t, r.JSON, "payment")["status"] != "pending" ||
		sub(t, r.JSON, "order")["status"] != "pending_payment" {
		t.Errorf("offline payment: %s", r.Body)
	}

	// Staff confirm the transfer, fulfil, complete and cancel.
	staffOrder := func(id int64, action string) string { return fmt.Sprintf("%s/orders/%d/%s", T, id, action) }
	if r := k.ok(owner, "POST", staffOrder(orderB, "confirm-payment"), nil, 200); r.JSON["status"] != "paid" {
		t.Errorf("confirm payment: %s", r.Body)
	}
	k.ok(owner, "POST", staffOrder(orderB, "confirm-payment"), nil, 409) // already_paid
	k.ok(owner, "POST", staffOrder(orderC, "confirm-payment"), nil, 409) // no_pending_transfer
	k.ok(owner, "POST", staffOrder(orderA, "fulfil"), nil, 200)
	k.ok(owner, "POST", staffOrder(orderC, "fulfil"), nil, 409) // order_not_paid
	if r := k.ok(owner, "POST", staffOrder(orderA, "complete"), nil, 200); r.JSON["status"] != "completed" {
		t.Errorf("complete: %s", r.Body)
	}
	k.ok(owner, "POST", staffOrder(orderA, "complete"), nil, 409) // order_not_fulfilled
	k.ok(owner, "POST", staffOrder(orderB, "cancel"), nil, 200)   // paid, not fulfilled: refund due
	k.ok(owner, "POST", staffOrder(orderB, "cancel"), nil, 409)
	k.ok(owner, "POST", staffOrder(999999, "fulfil"), nil, 404)
	k.bad(owner, "POST", T+"/orders/abc/complete", nil, 400)
	k.ok(owner, "GET", T+"/orders", nil, 200)
	if r := k.ok(owner, "GET", T+"/orders?status=completed&client_source=pc&number="+numberA, nil, 200); r.JSON["total"] != float64(1) {
		t.Errorf("staff order search: %s", r.Body)
	}
	k.ok(owner, "GET", fmt.Sprintf("%s/orders/%d", T, orderA), nil, 200)
	k.ok(owner, "GET", T+"/orders/999999", nil, 404)
	k.bad(owner, "GET", T+"/orders?status=shipped", nil, 400)

	// The customer sends the desk of order A (completed) back; the plan
	// line cannot be returned; order C (unpaid) takes no returns.
	var deskLine, teamLine int64
	for _, l := range k.ok(owner, "GET", fmt.Sprintf("%s/orders/%d", T, orderA), nil, 200).JSON["lines"].([]any) {
		m := l.(map[string]any)
		if m["kind"] == "goods" {
			deskLine = num(t, m["id"])
		} else {
			teamLine = num(t, m["id"])
		}
	}
	returns := fmt.Sprintf("%s/orders/%d/returns", T, orderA)
	back := func(line, qty int64) map[string]any {
		return map[string]any{"reason": "Damaged in transit", "lines": []map[string]any{{"line_id": line, "quantity": qty}}}
	}
	if r := k.ok(owner, "GET", returns, nil, 200); len(r.JSON["items"].([]any)) != 0 {
		t.Errorf("returns before any: %s", r.Body)
	}
	if r := k.ok(owner, "POST", returns, back(teamLine, 1), 400); r.Field("lines[0].line_id") != "not_goods" {
		t.Errorf("return of a plan line: %s", r.Body)
	}
	k.ok(owner, "POST", returns, map[string]any{"warehouse_id": 999999, "reason": "x", "lines": []map[string]any{{"line_id": deskLine, "quantity": 1}}}, 404)
	k.ok(owner, "POST", fmt.Sprintf("%s/orders/%d/returns", T, orderC), back(deskLine, 1), 409) // order_not_returnable
	k.ok(owner, "POST", T+"/orders/999999/returns", back(deskLine, 1), 404)
	ret := k.ok(owner, "POST", returns, back(deskLine, 1), 201)
	if sub(t, ret.JSON, "refund_due")["currency"] != "USD" || num(t, sub(t, ret.JSON, "subtotal")["amount"]) <= 0 || len(ret.JSON["lines"].([]any)) != 1 {
		t.Errorf("return: %s", ret.Body)
	}
	if r := k.ok(owner, "POST", returns, back(deskLine, 1), 400); r.Field("lines[0].quantity") != "fully_returned" {
		t.Errorf("a second return of the one desk: %s", r.Body)
	}
	k.bad(owner, "POST", returns, back(deskLine, 0), 400)
	k.bad(owner, "POST", returns, map[string]any{"reason": "", "lines": []map[string]any{{"line_id": deskLine, "quantity": 1}}}, 400)
	k.bad(owner, "POST", returns, map[string]any{"reason": "x", "lines": []map[string]any{{"line_id": deskLine, "quantity": 1, "sku_id": 1}}}, 400)
	if r := k.ok(owner, "GET", returns, nil, 200); len(r.JSON["items"].([]any)) != 1 {
		t.Errorf("returns: %s", r.Body)
	}
	for _, l := range k.ok(owner, "GET", fmt.Sprintf("%s/orders/%d", T, orderA), nil, 200).JSON["lines"].([]any) {
		if m := l.(map[string]any); num(t, m["id"]) == deskLine && m["quantity_returned"] != float64(1) {
			t.Errorf("staff order line after the return: %v", m)
		}
	}
	k.ok(owner, "GET", T+"/orders/999999/returns", nil, 404)
	k.bad(owner, "GET", T+"/orders/abc/returns", nil, 400)

	// The console: the dashboard, and products out and in as CSV.
	dash := k.ok(owner, "GET", T+"/analytics/dashboard?currency=usd", nil, 200)
	if st := sub(t, dash.JSON, "store"); st["orders"] == float64(0) || sub(t, dash.JSON, "mall")["orders"] == float64(0) {
		t.Errorf("dashboard without the scenario's orders: %.400s", dash.Body)
	}
	k.ok(owner, "GET", T+"/analytics/dashboard?from=2026-10-01&to=2026-11-25&lang=zh-Hans", nil, 200)
	k.ok(owner, "GET", T+"/analytics/dashboard?from=2026-11-25&to=2026-11-01", nil, 400)
	k.ok(owner, "GET", T+"/analytics/dashboard?from=2024-01-01&to=2026-11-25", nil, 400)
	k.bad(owner, "GET", T+"/analytics/dashboard?from=yesterday", nil, 400)
	k.ok(op, "GET", T+"/analytics/dashboard", nil, 404)
	if exp := k.ok(owner, "GET", T+"/products/export", nil, 200); !strings.Contains(string(exp.Body), "DESK-S") {
		t.Errorf("export: %.300s", exp.Body)
	}
	csvHeader := "product_key,kind,name,summary,category,status,attributes,sku_code,sku_name,prices,weight_grams,hs_code," +
		"origin_country,plan_tier,plan_interval,plan_per_seat,plan_trial_days,plan_features\n"
	imp := k.send(owner, "POST", T+"/products/import", "text/csv", []byte(csvHeader+
		"lamp,goods,Imported lamp,,Lighting,draft,Color=Red,IMP-1,Standard,USD:1500;CNY:9900,800,,,,,,,\n"+
		"bad,goods,,,,,,IMP-2,Bad,QQQ:1,,,,,,,,\n"), 202, true)
	k.ok(owner, "POST", T+"/products/import", map[string]any{"csv": csvHeader + "x,saas,Imported plan,,,,,IMP-3,Team,USD:900,,,,paid,month,true,0,Reports\n"}, 202)
	k.send(owner, "POST", T+"/products/import", "text/csv", []byte("name,colour\nLamp,red\n"), 400, true)
	k.bad(owner, "POST", T+"/products/import", map[string]any{"csv": csvHeader, "dry_run": true}, 400)
	impID := num(t, imp.JSON["id"])
	if _, err := env.Srv.Imports.RunImport(ctxBG, impID, time.Minute); err != nil {
		t.Fatal(err)
	}
	if r := k.ok(owner, "GET", fmt.Sprintf("%s/imports/%d", T, impID), nil, 200); r.JSON["status"] != "done" || r.JSON["imported"] != float64(1) ||
		len(r.JSON["errors"].([]any)) != 2 {
		t.Errorf("import: %s", r.Body)
	}
	k.ok(owner, "GET", T+"/imports/999999", nil, 404)
	k.bad(owner, "GET", T+"/imports/abc", nil, 400)

	// The shopper cancels an unpaid order and reads their orders.
	k.ok(pc, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", orderC), nil, 200)
	k.ok(pc, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", orderC), nil, 409)
	pay(orderC, "pay-c-1", card, 409) // order_cancelled
	k.ok(owner, "POST", staffOrder(orderC, "cancel"), nil, 409)
	if r := k.ok(pc, "GET", "/api/v1/orders", nil, 200); r.JSON["total"] != float64(4) {
		t.Errorf("my orders: %s", r.Body)
	}
	k.ok(pc, "GET", "/api/v1/orders?status=paid&client_source=pc&page=1&per_page=5", nil, 200)
	k.ok(pc, "GET", fmt.Sprintf("/api/v1/orders/%d", orderA), nil, 200)
	k.ok(pc, "GET", "/api/v1/orders/999999", nil, 404)
	k.bad(pc, "GET", "/api/v1/orders?status=shipped", nil, 400)
	k.bad(pc, "GET", "/api/v1/orders/abc", nil, 400)
	k.ok(anon, "GET", "/api/v1/orders", nil, 401)
	k.ok(owner, "GET", fmt.Sprintf("/api/v1/orders/%d", orderA), nil, 404) // not the owner's order

	// Subscriptions: fewer seats, more seats (a proration order), a plan
	// switch, cancel.
	var teamSub, freeSub int64
	for _, it := range k.ok(pc, "GET", "/api/v1/subscriptions", nil, 200).JSON["items"].([]any) {
		m := it.(map[string]any)
		switch num(t, m["sku_id"]) {
		case team:
			teamSub = num(t, m["id"])
		case free:
			freeSub = num(t, m["id"])
		}
	}
	if teamSub == 0 || freeSub == 0 {
		t.Fatal("the checkouts started no subscriptions")
	}
	subPath := func(id int64, what string) string { return fmt.Sprintf("/api/v1/subscriptions/%d/%s", id, what) }
	if r := k.ok(pc, "PATCH", subPath(teamSub, "seats"), map[string]any{"seats": 2}, 200); r.JSON["order"] != nil {
		t.Errorf("fewer seats cost nothing: %s", r.Body)
	}
	more := k.ok(pc, "PATCH", subPath(teamSub, "seats"), map[string]any{"seats": 4}, 200)
	if more.JSON["order"] == nil {
		t.Fatalf("more seats need an order: %s", more.Body)
	}
	pay(num(t, sub(t, more.JSON, "order")["id"]), "pay-seats", card, 200)
	k.ok(pc, "POST", subPath(teamSub, "plan"), map[string]any{"sku_id": deskS}, 400) // not_a_plan_of_product
	k.ok(pc, "POST", subPath(teamSub, "plan"), map[string]any{"sku_id": team}, 400)  // same_plan
	k.bad(pc, "PATCH", subPath(teamSub, "seats"), map[string]any{"seats": 0}, 400)
	k.ok(pc, "PATCH", subPath(freeSub, "seats"), map[string]any{"seats": 2}, 409) // not_per_seat
	k.ok(pc, "PATCH", subPath(999999, "seats"), map[string]any{"seats": 2}, 404)
	if r := k.ok(pc, "POST", subPath(teamSub, "plan"), map[string]any{"sku_id": biz}, 200); r.JSON["order"] == nil {
		t.Errorf("an upgrade needs an order: %s", r.Body)
	}
	k.ok(pc, "PATCH", subPath(teamSub, "seats"), map[string]any{"seats": 5}, 409) // change_pending
	if r := k.ok(pc, "POST", subPath(teamSub, "cancel"), nil, 200); sub(t, r.JSON, "subscription")["cancel_at_period_end"] != true {
		t.Errorf("cancel: %s", r.Body)
	}
	k.ok(pc, "POST", subPath(999999, "cancel"), nil, 404)
	k.bad(pc, "POST", "/api/v1/subscriptions/abc/cancel", nil, 400)
	k.ok(pc, "GET", "/api/v1/subscriptions", nil, 200)
	k.ok(anon, "GET", "/api/v1/subscriptions", nil, 401)

	// A platform operator suspends the store: it leaves the mall.
	if r := k.ok(op, "PATCH", "/api/v1/tenants/alpha", map[string]any{"status": "suspended"}, 200); r.JSON["status"] != "suspended" {
		t.Errorf("suspend: %s", r.Body)
	}
	refresh()
	if r := k.ok(anon, "GET", "/api/v1/products?store=alpha", nil, 200); r.JSON["total"] != float64(0) {
		t.Errorf("a suspended store's products are still listed: %s", r.Body)
	}
	k.ok(anon, "GET", fmt.Sprintf("/api/v1/products/%d", deskID), nil, 404)
	k.ok(op, "PATCH", "/api/v1/tenants/alpha", map[string]any{"status": "active"}, 200)
	refresh()
	k.ok(anon, "GET", fmt.Sprintf("/api/v1/products/%d", deskID), nil, 200)
	k.bad(op, "PATCH", "/api/v1/tenants/alpha", map[string]any{"status": "closed"}, 400)
	k.ok(op, "PATCH", "/api/v1/tenants/nope", map[string]any{"status": "active"}, 404)
	k.ok(pc, "PATCH", "/api/v1/tenants/alpha", map[string]any{"status": "suspended"}, 403)
	k.ok(anon, "PATCH", "/api/v1/tenants/alpha", map[string]any{"status": "suspended"}, 401)

	// Sign out.
	k.ok(pc, "POST", "/api/v1/auth/logout", nil, 204)
	k.ok(pc, "POST", "/api/v1/auth/logout", nil, 401)
	k.ok(pc, "GET", "/api/v1/me", nil, 401)

	// Over a real socket (app.Test cannot show it): a body over the limit.
	env.Listen()
	k.ok(anon, "POST", "/api/v1/auth/login", map[string]any{"email": strings.Repeat("a", 1500) + "@example.com", "password": "x"}, 413)

	// Not ready once the database is gone.
	if err := env.Srv.DB.Close(); err != nil {
		t.Fatal(err)
	}
	k.ok(anon, "GET", "/readyz", nil, 503)

	k.covered()
}
