package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"saasmall/server"
	"saasmall/server/mall"
	"saasmall/server/servertest"
	"saasmall/tenants"
)

// The storefront through plain HTTP, as a browser without JavaScript uses
// it: GET pages, POST forms with the CSRF token scraped from the page.

const (
	desktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	iphoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)

// demoShop starts a listening server with the demo mall.
func demoShop(t *testing.T) *servertest.Env {
	t.Helper()
	env := servertest.New(t)
	ctx := context.Background()
	if _, err := server.SeedDemo(ctx, env.Srv); err != nil {
		t.Fatal(err)
	}
	if err := env.Srv.Mall.Catalog.Load(ctx); err != nil {
		t.Fatal(err)
	}
	// SeedDemo looks the demo stores up before creating them, and
	// tenants.Service caches that miss for up to two seconds.
	deadline := time.Now().Add(5 * time.Second)
	for _, slug := range []string{"cloudnine", "gearhub"} {
		for {
			if _, err := env.Srv.Tenants.BySlug(ctx, slug); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	env.Listen()
	return env
}

// shopper is a browser: a cookie jar, a User-Agent and a language.
type shopper struct {
	t    *testing.T
	base string
	c    *http.Client
	ua   string
	lang string
}

func newShopper(t *testing.T, env *servertest.Env, ua string) *shopper {
	jar, _ := cookiejar.New(nil)
	return &shopper{t: t, base: env.Base, ua: ua, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	loc    string
	body   string
	header http.Header
}

func (s *shopper) do(method, path string, form url.Values) *page {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", s.ua)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if s.lang != "" {
		req.Header.Set("Accept-Language", s.lang)
	}
	res, err := s.c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &page{status: res.StatusCode, loc: res.Header.Get("Location"), body: string(b), header: res.Header}
}

func (s *shopper) get(path string) *page { s.t.Helper(); return s.do("GET", path, nil) }

// follow GETs a page, following redirects.
func (s *shopper) follow(path string) *page {
	s.t.Helper()
	p := s.get(path)
	for i := 0; i < 5 && p.status >= 300 && p.status < 400; i++ {
		p = s.get(p.loc)
	}
	return p
}

// post submits a form with the _csrf token from the page at from.
func (s *shopper) post(from, action string, form url.Values) *page {
	s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if from != "" {
		form.Set("_csrf", csrfOf(s.t, s.follow(from).body))
	}
	return s.do("POST", action, form)
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no _csrf field in page:\n%s", clipBody(body))
	}
	return m[1]
}

func hidden(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s field in page:\n%s", name, clipBody(body))
	}
	return m[1]
}

func clipBody(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

func (p *page) want(t *testing.T, status int, contains ...string) *page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d (Location %q)\n%s", p.status, status, p.loc, clipBody(p.body))
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			t.Errorf("page does not contain %q\n%s", s, clipBody(p.body))
		}
	}
	return p
}

func (p *page) redirectsTo(t *testing.T, prefix string) string {
	t.Helper()
	if p.status != http.StatusSeeOther && p.status != http.StatusFound {
		t.Fatalf("status %d, want a redirect to %s\n%s", p.status, prefix, clipBody(p.body))
	}
	if !strings.HasPrefix(p.loc, prefix) {
		t.Fatalf("redirect to %q, want %s…", p.loc, prefix)
	}
	return p.loc
}

// productID finds a demo product by name in the catalog read model.
func productID(t *testing.T, env *servertest.Env, name string) (int64, *mall.ProductView) {
	t.Helper()
	for id := int64(1); id < 100; id++ {
		if v, err := env.Srv.Mall.Catalog.ProductView(id); err == nil && strings.HasPrefix(v.Name, name) {
			return id, v
		}
	}
	t.Fatalf("no product %q", name)
	return 0, nil
}

func TestStorefrontPagesRenderInBothLanguages(t *testing.T) {
	t.Parallel()
	env := demoShop(t)
	crm, _ := productID(t, env, "CloudNine CRM")
	kb, _ := productID(t, env, "K8 Mechanical Keyboard")
	en := newShopper(t, env, desktopUA)
	en.lang = "en-US,en;q=0.9"

	en.get("/").want(t, 200, `<html lang="en">`, "New arrivals", "Best sellers", "CloudNine CRM", "K8 Mechanical Keyboard",
		"CloudNine Software", "/s/gearhub", `href="/static/shop.css?v=`, "Free plan", "In stock", "from")
	en.get("/search?kind=goods").want(t, 200, "Filters", "K8 Mechanical Keyboard", "USB-C Dock", `name="attr.Connection"`,
		`name="ids" value="`+strconv.FormatInt(kb, 10)+`" form="cmp"`, `action="/compare"`, "3 products")
	if p := en.get("/search?kind=goods"); strings.Contains(p.body, "CloudNine CRM") {
		t.Error("goods search lists a SaaS product")
	}
	en.get("/search?q=keyboard").want(t, 200, "K8 Mechanical Keyboard", "1 product")
	en.get("/search?attr.Connection=USB-C&kind=goods&sort=price_asc").want(t, 200, "USB-C Dock", "K8 Mechanical Keyboard", "2 products")
	en.get("/search?min=50&max=100&currency=USD&kind=goods").want(t, 200, "K8 Mechanical Keyboard", "1 product")
	en.get("/search?min=abc").want(t, 200, "Must be a positive whole number.")
	en.get("/s/cloudnine").want(t, 200, "CloudNine Software", "Brand store", "CloudNine Helpdesk", "3 products on sale in this store")
	if p := en.get("/s/cloudnine?tier=paid").want(t, 200, "3 products on sale in this store", "2 products"); strings.Contains(p.body, "K8 Mechanical") {
		t.Error("a brand store lists another store's product")
	}
	en.get(fmt.Sprintf("/p/%d", crm)).want(t, 200, "CloudNine CRM", "Choose a plan", "Team", "$12.00", "/ seat / month",
		"14-day free trial", "Unlimited contacts", "Specifications", "Deployment", "Add to cart", "/compare?ids=")
	en.get(fmt.Sprintf("/p/%d?currency=CNY", crm)).want(t, 200, "¥85.00")
	en.get(fmt.Sprintf("/p/%d", kb)).want(t, 200, "Brown switches", "In stock", "Quantity")

	zh := newShopper(t, env, desktopUA)
	zh.get("/?lang=zh-Hans").want(t, 200, `<html lang="zh-Hans">`, "新品上架", "热销榜", "品牌店", "¥")
	// The choice is remembered.
	zh.get("/search").want(t, 200, `<html lang="zh-Hans">`, "筛选", "全部商品")
	zh.get(fmt.Sprintf("/p/%d", crm)).want(t, 200, "选择套餐", "加入购物车", "免费试用 14 天")
	zh.get("/cart").want(t, 200, "购物车是空的")
	zh.get("/login").want(t, 200, "登录", "邮箱")
	// Accept-Language alone picks the language too.
	ac := newShopper(t, env, desktopUA)
	ac.lang = "zh-CN,zh;q=0.9"
	ac.get("/").want(t, 200, `<html lang="zh-Hans">`)

	// Unknown and suspended stores, unknown products: translated 404 pages.
	en.get("/s/nope").want(t, 404, "Page not found")
	zh.get("/s/nope").want(t, 404, "页面不存在")
	en.get("/p/999999").want(t, 404, "Page not found")
	en.get("/p/abc").want(t, 404, "Page not found")
	en.get("/no/such/page").want(t, 404, "Page not found")
	if _, err := env.Srv.Tenants.SetStatus(context.Background(), "gearhub", tenants.StatusInput{Status: tenants.StatusSuspended}); err != nil {
		t.Fatal(err)
	}
	en.get("/s/gearhub").want(t, 404, "Page not found")
	// The JSON API keeps its error shape.
	api := en.get("/api/v1/products/999999")
	if api.status != 404 || !strings.Contains(api.header.Get("Content-Type"), "json") {
		t.Errorf("API 404 = %d %s", api.status, api.header.Get("Content-Type"))
	}
}

func TestStorefrontCompare(t *testing.T) {
	t.Parallel()
	env := demoShop(t)
	crm, _ := productID(t, env, "CloudNine CRM")
	hd, _ := productID(t, env, "CloudNine Helpdesk")
	bk, _ := productID(t, env, "Nightly Backup")
	b := newShopper(t, env, desktopUA)
	// The search page's checkboxes send repeated ids.
	p := b.get(fmt.Sprintf("/compare?ids=%d&ids=%d&ids=%d", crm, hd, bk)).want(t, 200, "Compare products", "CloudNine CRM",
		"CloudNine Helpdesk", "Nightly Backup", `class="differ"`, "Deployment", "Lowest per seat per month", "Only differences")
	if !strings.Contains(p.body, "Remove from comparison") {
		t.Error("no remove link with three products")
	}
	b.get(fmt.Sprintf("/compare?ids=%d,%d&diff=1", crm, hd)).want(t, 200, "Support")
	b.get(fmt.Sprintf("/compare?ids=%d", crm)).want(t, 400, "These products cannot be compared", "Choose 2 to 4 products to compare.")
	b.get("/compare?ids=x").want(t, 400, "These products cannot be compared")
	b.get(fmt.Sprintf("/compare?ids=%d,%d&lang=zh-Hans", crm, hd)).want(t, 200, "商品对比", "只看差异")
}

func TestStorefrontStaticAssets(t *testing.T) {
	t.Parallel()
	env := demoShop(t)
	b := newShopper(t, env, desktopUA)
	home := b.get("/").want(t, 200)
	m := regexp.MustCompile(`href="(/static/shop\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(home.body)
	if m == nil {
		t.Fatal("no versioned stylesheet link")
	}
	css := b.get(m[1]).want(t, 200, ".tabbar", "@media (max-width: 720px)")
	if ct := css.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := css.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned Cache-Control = %q", cc)
	}
	plain := b.get("/static/shop.css").want(t, 200)
	if cc := plain.header.Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("Cache-Control = %q", cc)
	}
	req, _ := http.NewRequest("GET", env.Base+"/static/shop.css", nil)
	req.Header.Set("If-None-Match", css.header.Get("ETag"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 304 {
		t.Errorf("conditional GET = %d, want 304", res.StatusCode)
	}
	b.get("/static/nope.css").want(t, 404)
	b.get("/static/favicon.svg").want(t, 200, "<svg")
	// No page refers to anything off the site.
	for _, path := range []string{"/", "/search", "/login", "/cart"} {
		if strings.Contains(b.get(path).body, "://") && regexp.MustCompile(`(src|href)="https?://`).MatchString(b.get(path).body) {
			t.Errorf("%s refers to an external asset", path)
		}
	}
}

func TestStorefrontCSRF(t *testing.T) {
	t.Parallel()
	env := demoShop(t)
	kb, v := productID(t, env, "K8 Mechanical Keyboard")
	sku := strconv.FormatInt(v.SKUs[0].ID, 10)
	b := newShopper(t, env, desktopUA)
	b.get(fmt.Sprintf("/p/%d", kb)).want(t, 200)
	// Anonymous form without the token, or with another one: refused.
	b.do("POST", "/cart/add", url.Values{"sku_id": {sku}, "quantity": {"1"}}).want(t, 403, "Not allowed")
	b.do("POST", "/cart/add", url.Values{"sku_id": {sku}, "quantity": {"1"}, "_csrf": {"forged-token-forged-token"}}).want(t, 403)
	b.do("POST", "/login", url.Values{"email": {"shopper@saasmall.test"}, "password": {server.DemoPassword}}).want(t, 403)
	// A fresh browser (no cookie) with a token from elsewhere: refused.
	other := newShopper(t, env, desktopUA)
	tok := csrfOf(t, b.get("/login").body)
	other.do("POST", "/login", url.Values{"email": {"shopper@saasmall.test"}, "password": {server.DemoPassword}, "_csrf": {tok}}).want(t, 403)
	// Signed in: the session's token is required on every form.
	b.post("/login", "/login", url.Values{"email": {"shopper@saasmall.test"}, "password": {server.DemoPassword}, "next": {"/"}}).
		redirectsTo(t, "/?msg=signed_in")
	b.do("POST", "/cart/add", url.Values{"sku_id": {sku}, "quantity": {"1"}}).want(t, 403, "The form has expired")
	b.do("POST", "/checkout", url.Values{"currency": {"USD"}, "idempotency_key": {"k1"}}).want(t, 403)
	b.do("POST", "/logout", nil).want(t, 403)
	// The cart is still empty.
	b.get("/cart").want(t, 200, "Your cart is empty")
}

func TestStorefrontSignedPagesSendToLogin(t *testing.T) {
	t.Parallel()
	env := demoShop(t)
	b := newShopper(t, env, desktopUA)
	for _, path := range []string{"/orders", "/checkout", "/account", "/orders/1"} {
		b.get(path).redirectsTo(t, "/login?next="+url.QueryEscape(path))
	}
	// After signing in the shopper lands where they were going.
	b.post("/login?next=%2Forders", "/login", url.Values{"email": {"shopper@saasmall.test"}, "password": {server.DemoPassword}, "next": {"/orders"}}).
		redirectsTo(t, "/orders")
	b.get("/orders").want(t, 200, "You have no orders yet")
	// next must stay on this site.
	b2 := newShopper(t, env, desktopUA)
	b2.post("/login", "/login", url.Values{"email": {"shopper@saasmall.test"}, "password": {server.DemoPassword}, "next": {"//evil.example/x"}}).
		redirectsTo(t, "/?msg=signed_in")
	b3 := newShopper(t, env, desktopUA)
	b3.post("/login", "/login", url.Values{"email": {"shopper@saasmall.test"}, "password": {"wrong-password"}, "next": {"/"}}).
		want(t, 401, "Wrong email or password.", `value="shopper@saasmall.test"`)
}

// TestStorefrontShopping is the whole purchase without JavaScript: a guest
// fills a cart, signs in (the cart follows), checks out with errors shown
// next to the fields, double-submits, pays (declined, then accepted), and the
// order shows the channel it was placed on.
func TestStorefrontShopping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ua, channel string
	}{{"desktop", desktopUA, "pc"}, {"phone", iphoneUA, "mobile"}} {
		t.Run(tc.name, func(t *testing.T) {
			env := demoShop(t)
			kb, kv := productID(t, env, "K8 Mechanical Keyboard")
			crm, cv := productID(t, env, "CloudNine CRM")
			b := newShopper(t, env, tc.ua)
			b.lang = "en"

			// A guest adds goods and a per-seat plan.
			prod := fmt.Sprintf("/p/%d", kb)
			b.post(prod, "/cart/add", url.Values{"product_id": {strconv.FormatInt(kb, 10)}, "sku_id": {strconv.FormatInt(kv.SKUs[0].ID, 10)},
				"quantity": {"2"}}).redirectsTo(t, "/cart?msg=added")
			team := cv.SKUs[1] // Team: per seat, 14-day trial
			b.post(fmt.Sprintf("/p/%d", crm), "/cart/add", url.Values{"product_id": {strconv.FormatInt(crm, 10)},
				"sku_id": {strconv.FormatInt(team.ID, 10)}, "quantity": {"3"}}).redirectsTo(t, "/cart")
			// A quantity out of range is shown on the product page.
			b.post(prod, "/cart/add", url.Values{"product_id": {strconv.FormatInt(kb, 10)}, "sku_id": {strconv.FormatInt(kv.SKUs[0].ID, 10)},
				"quantity": {"5000"}}).want(t, 400, "Must be between 1 and 999.", "K8 Mechanical Keyboard")
			b.get("/cart?msg=added").want(t, 200, "Added to your cart.")
			cart := b.get("/cart?currency=USD").want(t, 200, "K8 Mechanical Keyboard", "Brown switches", "CloudNine CRM",
				"$178.00", "Sign in to check out")
			line := regexp.MustCompile(`action="/cart/items/(\d+)"`).FindStringSubmatch(cart.body)
			if line == nil {
				t.Fatal("no quantity form")
			}
			b.post("/cart", "/cart/items/"+line[1], url.Values{"quantity": {"1"}}).redirectsTo(t, "/cart?msg=updated")
			b.get("/cart").want(t, 200, "$89.00")

			// Checkout needs an account: sign in, and the cart comes along.
			b.get("/checkout").redirectsTo(t, "/login?next=%2Fcheckout")
			b.get("/login?next=%2Fcheckout").want(t, 200, "The items in your cart move to your account")
			b.post("/login?next=%2Fcheckout", "/login", url.Values{"email": {"shopper@saasmall.test"}, "password": {server.DemoPassword},
				"next": {"/checkout"}}).redirectsTo(t, "/checkout")
			co := b.get("/checkout").want(t, 200, "Shipping address", "K8 Mechanical Keyboard", "CloudNine CRM", "Place order")
			key := hidden(t, co.body, "idempotency_key")
			if key2 := hidden(t, b.get("/checkout").body, "idempotency_key"); key2 == key {
				t.Error("the same idempotency key for two rendered forms")
			}

			// Missing address fields: errors next to the fields.
			if hidden(t, co.body, "ship") != "1" {
				t.Fatal("no address marker")
			}
			form := url.Values{"_csrf": {csrfOf(t, co.body)}, "idempotency_key": {key}, "currency": {"USD"}, "ship": {"1"}, "name": {"Sam Shopper"},
				"line1": {""}, "city": {"Shanghai"}, "postal_code": {"200000"}, "country": {"China"}}
			bad := b.do("POST", "/checkout", form).want(t, 400, "This field is required.", "Enter a two-letter country code", `value="Sam Shopper"`)
			key = hidden(t, bad.body, "idempotency_key")
			form.Set("idempotency_key", key)
			form.Set("line1", "1 Century Ave")
			form.Set("country", "cn")
			loc := b.do("POST", "/checkout", form).redirectsTo(t, "/orders")
			// A double submit of the same form replays: no second set of orders.
			if again := b.do("POST", "/checkout", form).redirectsTo(t, "/orders"); again != loc {
				t.Errorf("double submit went to %s, first to %s", again, loc)
			}
			orders := b.get("/orders").want(t, 200, "CloudNine Software", "GearHub")
			if n := strings.Count(orders.body, `class="order-row"`); n != 2 {
				t.Fatalf("%d orders after a double submit, want 2 (one per store)", n)
			}
			// The goods order: find it and pay.
			m := regexp.MustCompile(`href="/orders/(\d+)"[^>]*>\s*<span class="order-no"><b>[^<]+</b>`).FindAllStringSubmatch(orders.body, -1)
			var goodsOrder string
			for _, x := range m {
				if p := b.get("/orders/" + x[1]); strings.Contains(p.body, "K8 Mechanical Keyboard") {
					goodsOrder = "/orders/" + x[1]
				}
			}
			if goodsOrder == "" {
				t.Fatal("no goods order")
			}
			op := b.get(goodsOrder).want(t, 200, "Awaiting payment", "Pay for this order", "Card number", "Bank transfer", "1 Century Ave")
			channelLabel := map[string]string{"pc": "PC", "mobile": "Mobile"}[tc.channel]
			if !strings.Contains(op.body, "Ordered on: "+channelLabel) || !strings.Contains(op.body, `data-channel="`+tc.channel+`"`) {
				t.Errorf("order page does not show channel %s", tc.channel)
			}
			declined := b.do("POST", goodsOrder+"/pay", url.Values{"_csrf": {csrfOf(t, op.body)}, "idempotency_key": {hidden(t, op.body, "idempotency_key")},
				"method": {"sandbox"}, "card_number": {mall.DeclinedCard}})
			declined.want(t, 402, "The payment was declined.", "Pay for this order")
			b.do("POST", goodsOrder+"/pay", url.Values{"_csrf": {csrfOf(t, declined.body)}, "idempotency_key": {hidden(t, declined.body, "idempotency_key")},
				"method": {"sandbox"}, "card_number": {"4242 4242 4242 4242"}}).redirectsTo(t, goodsOrder+"?msg=paid")
			b.get(goodsOrder+"?msg=paid").want(t, 200, "Payment received", "Paid", "Ordered on: "+channelLabel)

			// The API agrees on the channel.
			var api struct {
				ClientSource string `json:"client_source"`
			}
			r := b.get("/api/v1" + goodsOrder)
			if err := json.Unmarshal([]byte(r.body), &api); err != nil || api.ClientSource != tc.channel {
				t.Errorf("API order client_source = %q (%v), want %s", api.ClientSource, err, tc.channel)
			}

			// The subscription appears on the account page with its forms.
			acct := b.get("/account").want(t, 200, "Subscriptions", "CloudNine CRM", "Change seats", "Signed-in devices", "This device")
			if !strings.Contains(acct.body, map[string]string{"pc": "Chrome · Linux", "mobile": "Safari · iPhone"}[tc.channel]) {
				t.Errorf("account page does not name the device")
			}
		})
	}
}

func TestStorefrontRegisterAndHandoff(t *testing.T) {
	t.Parallel()
	env := demoShop(t)
	desk := newShopper(t, env, desktopUA)
	desk.post("/register", "/register", url.Values{"email": {"bad"}, "name": {""}, "password": {"x"}, "next": {"/"}}).
		want(t, 400, "Enter a valid email address.", "This field is required.")
	desk.post("/register", "/register", url.Values{"email": {"new@shop.test"}, "name": {"New Shopper"}, "password": {servertest.Password},
		"next": {"/account"}}).redirectsTo(t, "/account?msg=registered")
	desk.get("/account?msg=registered").want(t, 200, "Welcome! Your account is ready.", "New Shopper", "Show sign-in QR code")

	// The desktop shows a QR code; the phone opens its link.
	acct := desk.follow("/account")
	qr := desk.do("POST", "/account/handoff", url.Values{"_csrf": {csrfOf(t, acct.body)}}).
		want(t, 200, `src="data:image/png;base64,`, "Scan this code")
	m := regexp.MustCompile(`data-testid="handoff-link">([^<]+)<`).FindStringSubmatch(qr.body)
	if m == nil {
		t.Fatal("no hand-off link")
	}
	link, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil || link.Path != "/handoff" || link.Query().Get("code") == "" {
		t.Fatalf("hand-off link %q", m[1])
	}
	phone := newShopper(t, env, iphoneUA)
	// Opening the link (or a link preview) does not use the code up.
	phone.get(link.RequestURI()).want(t, 200, "Sign me in")
	confirm := phone.get(link.RequestURI()).want(t, 200, "Sign me in")
	phone.do("POST", "/handoff", url.Values{"_csrf": {csrfOf(t, confirm.body)}, "code": {link.Query().Get("code")}}).
		redirectsTo(t, "/account?msg=handoff")
	phone.get("/account").want(t, 200, "New Shopper", "signed in by QR code")
	// Used once only.
	other := newShopper(t, env, iphoneUA)
	c2 := other.get(link.RequestURI())
	other.do("POST", "/handoff", url.Values{"_csrf": {csrfOf(t, c2.body)}, "code": {link.Query().Get("code")}}).
		want(t, 410, "That sign-in code has already been used.")

	// The desktop sees the phone's session and signs it out.
	sess := desk.get("/account").want(t, 200, "mobile")
	rm := regexp.MustCompile(`action="/account/sessions/(\d+)/revoke"`).FindAllStringSubmatch(sess.body, -1)
	if len(rm) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(rm))
	}
	phoneSession := rm[0][1] // newest first
	desk.do("POST", "/account/sessions/"+phoneSession+"/revoke", url.Values{"_csrf": {csrfOf(t, sess.body)}}).
		redirectsTo(t, "/account?msg=session_revoked")
	phone.get("/account").redirectsTo(t, "/login")
	// Sign out of the desktop.
	desk.do("POST", "/logout", url.Values{"_csrf": {csrfOf(t, desk.get("/account").body)}}).redirectsTo(t, "/?msg=signed_out")
	desk.get("/account").redirectsTo(t, "/login")
}

// TestStorefrontSoftwareOnly: a cart of plans needs no address; a bank
// transfer leaves the order waiting; a trial is free at checkout; seats and
// cancellation are changed from the account page.
func TestStorefrontSoftwareOnly(t *testing.T) {
	t.Parallel()
	env := demoShop(t)
	hd, hv := productID(t, env, "CloudNine Helpdesk")
	crm, cv := productID(t, env, "CloudNine CRM")
	b := newShopper(t, env, desktopUA)
	b.post("/register", "/register", url.Values{"email": {"plans@shop.test"}, "name": {"Plan Buyer"}, "password": {servertest.Password},
		"next": {"/"}}).redirectsTo(t, "/?msg=registered")

	add := func(pid, sku int64, qty string) {
		t.Helper()
		b.post(fmt.Sprintf("/p/%d", pid), "/cart/add", url.Values{"product_id": {strconv.FormatInt(pid, 10)},
			"sku_id": {strconv.FormatInt(sku, 10)}, "quantity": {qty}}).redirectsTo(t, "/cart?msg=added")
	}
	checkout := func() string {
		t.Helper()
		co := b.get("/checkout?currency=CNY").want(t, 200, "no shipping address is needed")
		if strings.Contains(co.body, `name="ship"`) {
			t.Error("address fields for a cart of plans")
		}
		return b.do("POST", "/checkout", url.Values{"_csrf": {csrfOf(t, co.body)}, "idempotency_key": {hidden(t, co.body, "idempotency_key")},
			"currency": {hidden(t, co.body, "currency")}}).redirectsTo(t, "/orders/")
	}

	// Two agent seats, paid by bank transfer: the order waits.
	add(hd, hv.SKUs[0].ID, "2")
	order := strings.Split(checkout(), "?")[0]
	op := b.get(order).want(t, 200, "¥270.00", "Awaiting payment")
	b.do("POST", order+"/pay", url.Values{"_csrf": {csrfOf(t, op.body)}, "idempotency_key": {hidden(t, op.body, "idempotency_key")},
		"method": {"offline"}}).redirectsTo(t, order+"?msg=pay_pending")
	b.get(order+"?msg=pay_pending").want(t, 200, "waiting for your bank transfer", "Awaiting payment")
	// Cancelled instead.
	b.post(order, order+"/cancel", nil).redirectsTo(t, order+"?msg=cancelled")
	b.get(order).want(t, 200, "Cancelled", "nothing was charged")

	// A plan with a trial costs nothing today and starts at once.
	add(crm, cv.SKUs[1].ID, "2")
	trial := strings.Split(checkout(), "?")[0]
	b.get(trial).want(t, 200, "Paid", "¥0.00")
	acct := b.get("/account").want(t, 200, "CloudNine CRM", "Trial", "Change seats")
	sub := regexp.MustCompile(`action="/account/subscriptions/(\d+)/seats"`).FindStringSubmatch(acct.body)
	if sub == nil {
		t.Fatal("no seats form")
	}
	b.do("POST", "/account/subscriptions/"+sub[1]+"/seats", url.Values{"_csrf": {csrfOf(t, acct.body)}, "seats": {"0"}}).
		want(t, 400, "Must be between")
	to := b.do("POST", "/account/subscriptions/"+sub[1]+"/seats", url.Values{"_csrf": {csrfOf(t, acct.body)}, "seats": {"4"}})
	if to.status != http.StatusSeeOther || !strings.Contains(to.loc, "msg=seats_changed") {
		t.Fatalf("seat change = %d %s\n%s", to.status, to.loc, clipBody(to.body))
	}
	b.post("/account", "/account/subscriptions/"+sub[1]+"/cancel", nil).redirectsTo(t, "/account?msg=sub_cancelled")
	b.get("/account?msg=sub_cancelled").want(t, 200, "The subscription ends at the end of its period.", "Ends")
}

func TestStorefrontPagination(t *testing.T) {
	t.Parallel()
	env := demoShop(t)
	ten := env.Tenant("bulkstore", "owner@bulkstore.test")
	ctx := tenants.WithTenant(context.Background(), ten)
	for i := 1; i <= 30; i++ {
		_, err := env.Srv.Mall.CreateProduct(ctx, mall.ProductInput{Kind: mall.KindSaaS, Name: fmt.Sprintf("Bulk Tool %02d", i),
			Category: "Tools", Status: mall.StatusActive, Summary: "A tool.",
			SKUs: []mall.SKUInput{{Code: fmt.Sprintf("BT-%02d", i), Name: "Pro", Prices: []mall.PriceInput{{Amount: int64(100 * i), Currency: "USD"}},
				Plan: &mall.PlanInput{Tier: mall.TierPaid, Interval: mall.IntervalMonth}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Srv.Mall.Catalog.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := newShopper(t, env, desktopUA)
	p1 := b.get("/s/bulkstore?sort=price_asc&currency=USD").want(t, 200, "30 products", "Bulk Tool 01", `rel="next"`, `aria-current="page">1<`)
	if strings.Contains(p1.body, "Bulk Tool 30") {
		t.Error("page 1 shows the 30th product")
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p1.body)
	if next == nil {
		t.Fatal("no next link")
	}
	p2 := b.get(strings.ReplaceAll(next[1], "&amp;", "&")).want(t, 200, "Bulk Tool 30", `rel="prev"`, `aria-current="page">2<`)
	if strings.Contains(p2.body, "Bulk Tool 01<") {
		t.Error("page 2 shows the first product")
	}
	// A price range in major units of the chosen currency.
	b.get("/s/bulkstore?min=5&max=10&currency=USD").want(t, 200, "6 products")
}
