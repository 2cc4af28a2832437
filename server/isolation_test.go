package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"saasmall/policies"
	"saasmall/server/servertest"
	"saasmall/server/web"
	"saasmall/tenants"
)

// allowed reports whether a template role holds (obj, act).
func allowed(role, obj, act string) bool {
	for _, t := range policies.Templates() {
		if t.Name != role {
			continue
		}
		for _, p := range t.Permissions {
			if p.Object == obj && p.Action == act {
				return true
			}
		}
	}
	return false
}

// TestTenantIsolationMatrix walks every tenant-scoped route of the route
// table. For a member of tenant A in every role:
//   - addressing tenant B (its slug, or B's resources through A's slug) gets
//     403 or 404 and never any of B's data;
//   - a role without the route's permission gets 403;
//   - a role with it is let through (its answer is never 403).
//
// New routes are covered automatically; a route with a path parameter this
// test does not know fails it, so the test is extended with the route.
func TestTenantIsolationMatrix(t *testing.T) {
	env := servertest.New(t)
	a := env.Tenant("alpha", "owner@alpha.test")
	b := env.Tenant("bravo", "owner@bravo.test")
	bctx := tenants.WithTenant(context.Background(), b)
	// B's private things: a member, a custom role, a direct grant.
	bOwner := env.Login("owner@bravo.test", servertest.Password, "pc")
	bSecret := env.Member(b, "secret-member@bravo.test", "accountant")
	_ = bSecret
	bMember, err := env.Srv.Auth.UserByEmail(bctx, "secret-member@bravo.test")
	if err != nil {
		t.Fatal(err)
	}
	bOwner.Do("POST", "/api/v1/t/bravo/roles", map[string]any{"name": "bravo_secret_role", "description": "bravo-private-description",
		"permissions": []map[string]string{{"object": "finance", "action": "read"}}}).Want(t, 201)
	bOwner.Do("POST", "/api/v1/t/bravo/policies", map[string]any{"user_id": bMember.ID, "object": "docking", "action": "approve"}).Want(t, 201)
	leaks := []string{"bravo", "Bravo", "secret-member@bravo.test", "owner@bravo.test", "bravo_secret_role", "bravo-private-description"}

	// A member of A in every template role.
	clients := map[string]*servertest.Client{}
	for _, tpl := range policies.Templates() {
		email := tpl.Name + "@alpha.test"
		if tpl.Name == "owner" {
			clients["owner"] = env.Login("owner@alpha.test", servertest.Password, "pc")
			continue
		}
		clients[tpl.Name] = env.Member(a, email, tpl.Name)
	}

	// Path parameters: B's resources, and harmless unknown ones for A.
	bParams := map[string]string{"user": strconv.FormatInt(bMember.ID, 10), "name": "bravo_secret_role", "id": "1"}
	aParams := map[string]string{"user": "999999", "name": "no_such_role", "id": "999999"}
	fill := func(path, slug string, params map[string]string) string {
		parts := strings.Split(path, "/")
		for i, p := range parts {
			if !strings.HasPrefix(p, ":") {
				continue
			}
			name := strings.TrimSuffix(strings.TrimPrefix(p, ":"), "?")
			if name == "tenant" {
				parts[i] = slug
				continue
			}
			v, ok := params[name]
			if !ok {
				t.Fatalf("route %s has path parameter %q unknown to the isolation test: add it", path, name)
			}
			parts[i] = url.PathEscape(v)
		}
		return strings.Join(parts, "/")
	}
	query := fmt.Sprintf("?user_id=%d&object=docking&action=approve", bMember.ID)

	n := 0
	for _, rt := range env.Srv.Web.Routes() {
		if rt.Access.Kind != web.AccessTenant {
			continue
		}
		n++
		for role, c := range clients {
			// 1. Tenant B by its slug: not a member, so 404 whatever the role.
			r := c.Do(rt.Method, fill(rt.Path, "bravo", bParams)+query, map[string]any{})
			if r.Status != 404 && r.Status != 403 {
				t.Errorf("%s %s as A's %s addressing B: %d %s", rt.Method, rt.Path, role, r.Status, r.Body)
			}
			// 2. B's resources through A's slug.
			r2 := c.Do(rt.Method, fill(rt.Path, "alpha", bParams)+query, map[string]any{})
			for _, resp := range []*servertest.Resp{r, r2} {
				for _, leak := range leaks {
					if strings.Contains(string(resp.Body), leak) {
						t.Errorf("%s %s as A's %s leaks %q: %s", rt.Method, rt.Path, role, leak, resp.Body)
					}
				}
			}
			// (Only a route with an id of its own can be given B's; an
			// action on A as a whole, like running replenishment, may succeed.)
			if r2.Status < 400 && rt.Method != "GET" && strings.Count(rt.Path, ":") > 1 {
				t.Errorf("%s %s as A's %s changed something with B's ids: %d %s", rt.Method, rt.Path, role, r2.Status, r2.Body)
			}
			// 3. A's own routes: the declared permission decides.
			r3 := c.Do(rt.Method, fill(rt.Path, "alpha", aParams), map[string]any{})
			if allowed(role, rt.Access.Module, rt.Access.Action) {
				if r3.Status == 403 {
					t.Errorf("%s %s as A's %s (has %s:%s) got 403: %s", rt.Method, rt.Path, role, rt.Access.Module, rt.Access.Action, r3.Body)
				}
			} else if r3.Status != 403 || r3.Code() != "forbidden" {
				t.Errorf("%s %s as A's %s (lacks %s:%s) = %d %s, want 403 forbidden", rt.Method, rt.Path, role, rt.Access.Module, rt.Access.Action, r3.Status, r3.Body)
			}
		}
		// Anonymous: 401.
		if r := env.Anon().Do(rt.Method, fill(rt.Path, "alpha", aParams), map[string]any{}); r.Status != 401 {
			t.Errorf("%s %s anonymous = %d, want 401", rt.Method, rt.Path, r.Status)
		}
	}
	if n < 10 {
		t.Fatalf("only %d tenant routes walked", n)
	}
	// B is untouched: its member, role and grant are all still there.
	roles := bOwner.Do("GET", "/api/v1/t/bravo/members/"+bParams["user"], nil).Want(t, 200).JSON["roles"].([]any)
	if len(roles) != 1 || roles[0] != "accountant" {
		t.Fatalf("B's member roles changed: %v", roles)
	}
	if !strings.Contains(string(bOwner.Do("GET", "/api/v1/t/bravo/roles", nil).Body), "bravo_secret_role") {
		t.Fatal("B's custom role is gone")
	}
	if !strings.Contains(string(bOwner.Do("GET", "/api/v1/t/bravo/policies", nil).Body), `"approve"`) {
		t.Fatal("B's grant is gone")
	}
}

// TestUnknownTenant: an unknown slug is 404 tenant_not_found, in both languages.
func TestUnknownTenant(t *testing.T) {
	env := servertest.New(t)
	env.Tenant("alpha", "owner@alpha.test")
	c := env.Login("owner@alpha.test", servertest.Password, "pc")
	r := c.Do("GET", "/api/v1/t/nope/members", nil)
	if r.Status != 404 || r.Code() != "tenant_not_found" || r.Message() != "No such tenant." {
		t.Fatalf("unknown tenant: %s", r)
	}
	r = c.Do("GET", "/api/v1/t/nope/members?lang=zh-Hans", nil)
	if r.Status != 404 || r.Message() != "没有这个租户。" {
		t.Fatalf("unknown tenant zh: %s", r)
	}
}
