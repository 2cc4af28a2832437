package web

import (
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/i18n"
	"saasmall/server/mall"
)

// TestStorefrontMessagesExist checks that every message a template or a
// storefront handler asks for is in both locales, including the families
// built at run time (statuses, channels, tiers…).
func TestStorefrontMessagesExist(t *testing.T) {
	used := map[string]bool{}
	tmplRE := regexp.MustCompile(`\bT "([a-z0-9_.]+)"`)
	err := fs.WalkDir(storefrontFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := storefrontFS.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range tmplRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	goRE := regexp.MustCompile(`\bb\.T\("([a-z0-9_.]+)"`)
	files, _ := filepath.Glob("storefront*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	families := map[string][]string{
		"channel.":       {"pc", "mobile", "app", "applet"},
		"status.":        {mall.OrderPendingPayment, mall.OrderPaid, mall.OrderFulfilled, mall.OrderCompleted, mall.OrderCancelled, mall.SubTrialing, mall.SubActive, mall.SubPastDue},
		"tier.":          {mall.TierFree, mall.TierPaid, mall.TierAddon},
		"interval.":      {mall.IntervalMonth, mall.IntervalYear},
		"billing.":       {mall.IntervalMonth, mall.IntervalYear},
		"kind.":          {mall.KindSaaS, mall.KindGoods},
		"facet.":         {"kind", "category", "store", "tier"},
		"sort.":          {"relevance", "newest", "best_selling", "price_asc", "price_desc"},
		"compare.group.": {"price", "product", "attribute", "plan", "feature"},
		"order.next.":    {mall.OrderPendingPayment, mall.OrderPaid, mall.OrderFulfilled, mall.OrderCompleted, mall.OrderCancelled},
	}
	for prefix, vals := range families {
		delete(used, prefix)
		for _, v := range vals {
			used[prefix+v] = true
		}
	}
	delete(used, "flash.")
	for f := range sfFlashes {
		used["flash."+f] = true
	}
	if len(used) < 100 {
		t.Fatalf("found only %d message ids: the scan is broken", len(used))
	}
	for _, lang := range []string{"en", "zh-Hans"} {
		ids, err := i18n.IDs(lang)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, id := range ids {
			have[id] = true
		}
		for id := range used {
			if !have["sf."+id] {
				t.Errorf("%s: no message sf.%s", lang, id)
			}
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "/",
		"/orders":                       "/orders",
		"/search?q=a&kind=saas":         "/search?q=a&kind=saas",
		"//evil.example/x":              "/",
		"/\\evil.example":               "/",
		"https://evil.example/":         "/",
		"javascript:alert(1)":           "/",
		"orders":                        "/",
		"/a\r\nSet-Cookie: x=1":         "/",
		"/%2F%2Fevil.example":           "/%2F%2Fevil.example",
		"/p/1#x":                        "/p/1#x",
		"/" + strings.Repeat("a", 3000): "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMoneyAndPrices(t *testing.T) {
	for _, tc := range []struct {
		m    mall.Money
		want string
	}{
		{mall.Money{Amount: 0, Currency: "USD"}, "$0.00"},
		{mall.Money{Amount: 1250, Currency: "USD"}, "$12.50"},
		{mall.Money{Amount: 199900, Currency: "CNY"}, "¥1,999.00"},
		{mall.Money{Amount: 123456789, Currency: "USD"}, "$1,234,567.89"},
		{mall.Money{Amount: 500, Currency: "JPY"}, "¥500"},
		{mall.Money{Amount: -250, Currency: "EUR"}, "-€2.50"},
		{mall.Money{Amount: 1000, Currency: "CHF"}, "CHF 10.00"},
	} {
		if got := money(tc.m); got != tc.want {
			t.Errorf("money(%v) = %q, want %q", tc.m, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in, cur string
		want    int64
		ok      bool
	}{
		{"50", "USD", 5000, true}, {"49.5", "USD", 4950, true}, {"49.99", "USD", 4999, true}, {"1,000", "CNY", 100000, true},
		{".5", "USD", 50, true}, {"500", "JPY", 500, true}, {"49.999", "USD", 0, false}, {"-1", "USD", 0, false},
		{"abc", "USD", 0, false}, {"", "USD", 0, false}, {"1e9", "USD", 0, false}, {"99999999999999999", "USD", 0, false},
	} {
		got, ok := parseMajor(tc.in, tc.cur)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseMajor(%q, %s) = %d, %v; want %d, %v", tc.in, tc.cur, got, ok, tc.want, tc.ok)
		}
		if ok {
			if back, _ := parseMajor(formatMajor(got, tc.cur), tc.cur); back != got {
				t.Errorf("formatMajor(%d) does not read back", got)
			}
		}
	}
}

func TestTiles(t *testing.T) {
	for in, want := range map[string]string{
		"CloudNine CRM":             "CC",
		"K8 Mechanical Keyboard":    "KM",
		"降噪耳机":                      "降",
		"Quiet Pro Headphones 降噪耳机": "QP",
		"  ":                        "•",
		"usb-c dock":                "UD",
	} {
		if got := initials(in); got != want {
			t.Errorf("initials(%q) = %q, want %q", in, got, want)
		}
	}
	if a, b := tileStyle(7), tileStyle(7); a != b || a == tileStyle(8) {
		t.Error("tile colours are not stable per id, or neighbours share one")
	}
	if !strings.HasPrefix(string(tileStyle(-3)), "background:") {
		t.Error("negative id")
	}
}

func TestDeviceNames(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1": "Safari · iPhone",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0":                   "Edge · Windows",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36":                                   "Chrome · Linux",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 MicroMessenger/8.0":             "WeChat · Android",
		"Go-http-client/1.1": "API client",
		"":                   "—",
	} {
		if got := device(ua); got != want {
			t.Errorf("device(%q) = %q, want %q", ua, got, want)
		}
	}
}

// TestErrorsAsPages: outside the API a browser gets an HTML error page; the
// API and the health checks keep the JSON error shape.
func TestErrorsAsPages(t *testing.T) {
	s := New(Deps{I18n: i18n.New()}, Config{})
	for _, tc := range []struct {
		path, accept string
		html         bool
	}{
		{"/no/such/page", "text/html,application/xhtml+xml,*/*;q=0.8", true},
		{"/no/such/page", "", true},
		{"/no/such/page", "application/json", false},
		{"/api/v1/nothing", "text/html", false},
		{"/console/nothing", "text/html", false},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		res, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		ct := res.Header.Get("Content-Type")
		if res.StatusCode != 404 || strings.HasPrefix(ct, "text/html") != tc.html {
			t.Errorf("GET %s (Accept %q) = %d %s, want 404 html=%v", tc.path, tc.accept, res.StatusCode, ct, tc.html)
		}
	}
}

func TestStorefrontRoutesAreMarked(t *testing.T) {
	s := New(Deps{I18n: i18n.New()}, Config{})
	n := 0
	for _, rt := range s.Routes() {
		if !StorefrontRoute(rt) {
			continue
		}
		n++
		if strings.HasPrefix(rt.Path, "/api/") {
			t.Errorf("storefront route %s %s is under /api/", rt.Method, rt.Path)
		}
		if rt.Method != fiber.MethodGet && rt.Method != fiber.MethodPost {
			t.Errorf("storefront route %s %s: forms only GET and POST", rt.Method, rt.Path)
		}
	}
	if n < 20 {
		t.Errorf("%d storefront routes, want the whole storefront", n)
	}
	for _, rt := range s.Routes() {
		if strings.HasPrefix(rt.Path, "/api/") && StorefrontRoute(rt) {
			t.Errorf("API route %s %s marked as storefront", rt.Method, rt.Path)
		}
	}
}
