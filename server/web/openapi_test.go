package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"saasmall/policies"
	"saasmall/server/i18n"
	"saasmall/server/mall"
)

const errorSchemaRef = "#/components/schemas/Error"

// loadOpenAPI parses and validates the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapiJSON)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openapiPath turns a Fiber path (/t/:tenant) into OpenAPI form (/t/{tenant}).
func openapiPath(p string) string { return fiberParam.ReplaceAllString(p, "{$1}") }

type docOp struct {
	method, path string
	op           *openapi3.Operation
}

func docOperations(doc *openapi3.T) []docOp {
	var out []docOp
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, docOp{method, path, op})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].path+" "+out[i].method < out[j].path+" "+out[j].method
	})
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if doc.Info == nil || doc.Info.Title != "saasmall" || doc.Info.Version != "0.1.0" {
		t.Errorf("info = %+v, want title saasmall, version 0.1.0", doc.Info)
	}
	if doc.Info != nil && !strings.Contains(strings.ToLower(doc.Info.Description), "sign") {
		t.Errorf("info.description says nothing about signing in: %q", doc.Info.Description)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers = %v, want [{url: /}]", doc.Servers)
	}
	for name, want := range map[string][2]string{
		"bearer": {"http", ""}, "cookie": {"apiKey", "saasmall_session"}, "csrf": {"apiKey", "X-CSRF-Token"},
	} {
		ss := doc.Components.SecuritySchemes[name]
		if ss == nil || ss.Value == nil || ss.Value.Type != want[0] || ss.Value.Name != want[1] {
			t.Errorf("security scheme %s missing or wrong: %+v", name, ss)
		}
	}
	if b := doc.Components.SecuritySchemes["bearer"]; b != nil && b.Value != nil && b.Value.Scheme != "bearer" {
		t.Errorf("bearer scheme = %q", b.Value.Scheme)
	}
}

// apiRoute says whether a route belongs to the JSON API the document
// describes: the storefront's HTML pages are not part of it.
func apiRoute(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz"
}

// TestOpenAPICoversRoutes checks both directions: every registered API route
// is documented, and every documented operation is a registered route.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s := New(Deps{I18n: i18n.New()}, Config{})
	routes := map[string]Route{}
	for _, rt := range s.Routes() {
		if apiRoute(rt.Path) {
			routes[rt.Method+" "+openapiPath(rt.Path)] = rt
		}
	}
	for k := range routes {
		method, path, _ := strings.Cut(k, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	ops := docOperations(doc)
	for _, o := range ops {
		if _, ok := routes[o.method+" "+o.path]; !ok {
			t.Errorf("openapi.json documents %s %s, which is not a registered route", o.method, o.path)
		}
	}
	if len(ops) != len(routes) {
		t.Errorf("openapi.json has %d operations, the server %d routes", len(ops), len(routes))
	}
}

// TestOpenAPIOperations checks what every operation must say, against the
// route table's declared access.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	s := New(Deps{I18n: i18n.New()}, Config{})
	access := map[string]Access{}
	for _, rt := range s.Routes() {
		access[rt.Method+" "+openapiPath(rt.Path)] = rt.Access
	}
	tags := []string{"auth", "me", "tenants", "members", "roles", "policies", "audit",
		"catalog", "cart", "orders", "subscriptions", "products", "tenant-orders", "stock", "purchasing", "imports", "health"}
	ids := map[string]string{}
	for _, o := range docOperations(doc) {
		k := o.method + " " + o.path
		a, ok := access[k]
		if !ok {
			continue // reported by TestOpenAPICoversRoutes
		}
		if o.op.OperationID == "" || o.op.Summary == "" {
			t.Errorf("%s: needs an operationId and a summary", k)
		}
		if prev, dup := ids[o.op.OperationID]; dup {
			t.Errorf("%s: operationId %q also used by %s", k, o.op.OperationID, prev)
		}
		ids[o.op.OperationID] = k
		if len(o.op.Tags) != 1 || !slices.Contains(tags, o.op.Tags[0]) {
			t.Errorf("%s: tags %v, want one of %v", k, o.op.Tags, tags)
		}

		// Security follows the declared access.
		unsafe := o.method != http.MethodGet && o.method != http.MethodHead
		switch {
		case o.op.Security == nil:
			t.Errorf("%s: no security (public routes say security: [])", k)
		case a.Kind == AccessPublic:
			if len(*o.op.Security) != 0 {
				t.Errorf("%s: public route with security %v", k, *o.op.Security)
			}
		default:
			var bearer, cookie bool
			for _, req := range *o.op.Security {
				if _, ok := req["bearer"]; ok && len(req) == 1 {
					bearer = true
				}
				if _, ok := req["cookie"]; ok {
					cookie = true
					if _, csrf := req["csrf"]; unsafe && !csrf {
						t.Errorf("%s: unsafe method allows the cookie without csrf", k)
					}
				}
			}
			if !bearer || !cookie {
				t.Errorf("%s: signed-in route must accept bearer and cookie, has %v", k, *o.op.Security)
			}
		}

		// Responses: a success, and every error in the shared Error shape.
		var success bool
		statuses := map[int]bool{}
		for code, rr := range o.op.Responses.Map() {
			n, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q: use explicit status codes", k, code)
				continue
			}
			statuses[n] = true
			if n >= 200 && n < 300 {
				success = true
				continue
			}
			mt := rr.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil || mt.Schema.Ref != errorSchemaRef {
				t.Errorf("%s: response %d is not the Error schema", k, n)
			}
		}
		if !success {
			t.Errorf("%s: no 2xx response", k)
		}
		want := []int{500}
		if a.Kind != AccessPublic {
			want = append(want, 401)
		}
		if a.Kind == AccessTenant || a.Kind == AccessPlatform || (a.Kind == AccessSigned && unsafe) {
			want = append(want, 403)
		}
		if a.Kind == AccessTenant {
			want = append(want, 404)
		}
		if o.op.RequestBody != nil {
			want = append(want, 400, 413)
		}
		for _, n := range want {
			if !statuses[n] {
				t.Errorf("%s: response %d not documented", k, n)
			}
		}

		// Bodies are bound strictly: unknown fields are refused.
		if rb := o.op.RequestBody; rb != nil {
			mt := rb.Value.Content.Get("application/json")
			if !rb.Value.Required || mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
				t.Errorf("%s: request body must be required application/json with a schema", k)
			} else if ap := mt.Schema.Value.AdditionalProperties.Has; ap == nil || *ap {
				t.Errorf("%s: request body schema must say additionalProperties: false", k)
			}
		}

		// Idempotency-Key on the routes that order or charge.
		if k == "POST /api/v1/checkout" || k == "POST /api/v1/orders/{id}/pay" {
			if p := o.op.Parameters.GetByInAndName("header", "Idempotency-Key"); p == nil || !p.Required {
				t.Errorf("%s: Idempotency-Key header not documented as required", k)
			}
		}

		// Channel header on the account routes.
		if tag := o.op.Tags; len(tag) == 1 && (tag[0] == "auth" || tag[0] == "me") {
			p := o.op.Parameters.GetByInAndName("header", "X-Client-Source")
			if p == nil {
				t.Errorf("%s: auth route does not document X-Client-Source", k)
			} else if got := enumOf(p.Schema); !slices.Equal(got, []string{"pc", "mobile", "app", "applet"}) {
				t.Errorf("%s: X-Client-Source enum %v", k, got)
			}
		}
	}
}

func enumOf(s *openapi3.SchemaRef) []string {
	var out []string
	if s == nil || s.Value == nil {
		return nil
	}
	for _, v := range s.Value.Enum {
		str, _ := v.(string)
		out = append(out, str)
	}
	return out
}

// TestOpenAPIEnumsMatchCode ties the document's enums to the code's lists.
func TestOpenAPIEnumsMatchCode(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, want := range map[string][]string{
		"Object":        policies.Objects,
		"Action":        policies.Actions,
		"ClientSource":  {"pc", "mobile", "app", "applet"},
		"Locale":        i18nLocales(),
		"Kind":          {mall.KindSaaS, mall.KindGoods},
		"Tier":          {mall.TierFree, mall.TierPaid, mall.TierAddon},
		"Interval":      {mall.IntervalMonth, mall.IntervalYear},
		"ProductStatus": {mall.StatusDraft, mall.StatusActive, mall.StatusArchived},
		"OrderStatus":   {mall.OrderPendingPayment, mall.OrderPaid, mall.OrderFulfilled, mall.OrderCompleted, mall.OrderCancelled},
	} {
		if got := enumOf(doc.Components.Schemas[name]); !slices.Equal(got, want) {
			t.Errorf("schema %s enum = %v, want %v", name, got, want)
		}
	}
}

func i18nLocales() []string {
	var out []string
	for _, tag := range i18n.Supported {
		out = append(out, tag.String())
	}
	return out
}

// TestOpenAPIServed: the document is served as JSON, byte for byte.
func TestOpenAPIServed(t *testing.T) {
	s := New(Deps{I18n: i18n.New()}, Config{})
	res, err := s.App().Test(httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json = %d %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	if !bytes.Equal(body, openapiJSON) {
		t.Error("served document differs from the embedded openapi.json")
	}
	onDisk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, openapiJSON) {
		t.Error("embedded document differs from openapi.json on disk")
	}
}
