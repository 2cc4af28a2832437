package web_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"saasmall/policies"
	"saasmall/server/i18n"
	"saasmall/server/web"
)

// newServer builds the web layer without services: routes are registered
// without touching them.
func newServer(t *testing.T) *web.Server {
	t.Helper()
	return web.New(web.Deps{I18n: i18n.New()}, web.Config{})
}

func routeKey(method, path string) string { return method + " " + path }

// TestEveryRouteDeclaresAccess walks Fiber's own route table: every route
// must be in the declared table with an access kind, and a tenant route
// must name a real module and action.
func TestEveryRouteDeclaresAccess(t *testing.T) {
	s := newServer(t)
	declared := map[string]web.Route{}
	for _, rt := range s.Routes() {
		k := routeKey(rt.Method, rt.Path)
		if _, dup := declared[k]; dup {
			t.Errorf("route %s declared twice", k)
		}
		declared[k] = rt
		switch rt.Access.Kind {
		case web.AccessPublic, web.AccessSigned, web.AccessPlatform:
			if rt.Access.Module != "" || rt.Access.Action != "" {
				t.Errorf("%s: only tenant routes name a module and action, got %q %q", k, rt.Access.Module, rt.Access.Action)
			}
		case web.AccessTenant:
			if !slices.Contains(policies.Objects, rt.Access.Module) {
				t.Errorf("%s: tenant route with module %q, want one of %v", k, rt.Access.Module, policies.Objects)
			}
			if !slices.Contains(policies.Actions, rt.Access.Action) {
				t.Errorf("%s: tenant route with action %q, want one of %v", k, rt.Access.Action, policies.Actions)
			}
		default:
			t.Errorf("%s: no declared access (kind %d)", k, rt.Access.Kind)
		}
	}
	if len(declared) == 0 {
		t.Fatal("no routes declared")
	}

	registered := map[string]bool{}
	for _, fr := range s.App().GetRoutes(true) {
		k := routeKey(fr.Method, fr.Path)
		registered[k] = true
		if fr.Method == fiber.MethodHead {
			// Fiber adds HEAD for every GET.
			if _, ok := declared[routeKey(fiber.MethodGet, fr.Path)]; ok {
				continue
			}
		}
		if _, ok := declared[k]; !ok {
			t.Errorf("Fiber route %s is not in the declared route table (register it with s.public/signed/platform/tenant)", k)
		}
	}
	for k := range declared {
		if !registered[k] {
			t.Errorf("declared route %s is not registered with Fiber", k)
		}
	}
}

// TestTenantRoutesAreUnderTenantPrefix: every tenant route is under
// /api/v1/t/:tenant/, and every route there is a tenant route.
func TestTenantRoutesAreUnderTenantPrefix(t *testing.T) {
	const prefix = "/api/v1/t/:tenant/"
	n := 0
	for _, rt := range newServer(t).Routes() {
		under := strings.HasPrefix(rt.Path, prefix)
		switch {
		case rt.Access.Kind == web.AccessTenant && !under:
			t.Errorf("tenant route %s %s is not under %s", rt.Method, rt.Path, prefix)
		case rt.Access.Kind != web.AccessTenant && (under || strings.HasPrefix(rt.Path, "/api/v1/t/")):
			t.Errorf("route %s %s is under the tenant prefix but does not declare tenant access", rt.Method, rt.Path)
		case rt.Access.Kind == web.AccessTenant:
			n++
			if strings.Count(rt.Path, ":tenant") != 1 {
				t.Errorf("tenant route %s %s names :tenant more than once", rt.Method, rt.Path)
			}
		}
	}
	if n == 0 {
		t.Fatal("no tenant routes")
	}
}
