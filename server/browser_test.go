package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"saasmall/server"
	"saasmall/server/mall"
	"saasmall/server/servertest"
)

// The storefront in a real browser (headless Chromium through chromedp), at
// a desktop and a phone viewport: search, filter, compare, add to cart, sign
// in, check out, pay, and the order shows the channel it was placed on. Each
// step is saved as a full-page screenshot under build/screenshots/.

const chromiumPath = "/usr/bin/chromium"

const browserIPhoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"

type viewport struct {
	name          string
	width, height int64
	phone         bool
	channel       string
}

// requireChromium skips a browser test where Chromium is missing (failing
// instead under CI=true) and in -short mode.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (apt-get install chromium): browser tests must run in CI", chromiumPath)
		}
		t.Skipf("%s is missing: apt-get install chromium to run the browser tests", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
}

// chromiumOptions are the flags every browser test starts Chromium with:
// headless, as root, with a fresh profile and none of its background
// networking (this machine's network is closed).
func chromiumOptions(t *testing.T) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	}
}

// demoEnv starts a test server with the demo mall seeded and loaded.
func demoEnv(t *testing.T) *servertest.Env {
	t.Helper()
	env := servertest.New(t)
	ctx := context.Background()
	if _, err := server.SeedDemo(ctx, env.Srv); err != nil {
		t.Fatal(err)
	}
	if err := env.Srv.Mall.Catalog.Load(ctx); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestBrowserShopping(t *testing.T) {
	requireChromium(t)
	env := demoEnv(t)
	env.Listen()

	shots := filepath.Join("..", "build", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, vp := range []viewport{
		{name: "desktop", width: 1366, height: 900, channel: "pc"},
		{name: "phone", width: 390, height: 844, phone: true, channel: "mobile"},
	} {
		t.Run(vp.name, func(t *testing.T) { shopInBrowser(t, env, vp, shots) })
	}
}

// demoProduct finds a demo product by name.
func demoProduct(t *testing.T, env *servertest.Env, name string) *mall.ProductView {
	t.Helper()
	for id := int64(1); id < 100; id++ {
		if v, err := env.Srv.Mall.Catalog.ProductView(id); err == nil && strings.HasPrefix(v.Name, name) {
			return v
		}
	}
	t.Fatalf("no demo product %q", name)
	return nil
}

type tab struct {
	t    *testing.T
	ctx  context.Context
	vp   viewport
	dir  string
	base string
	n    int
}

func shopInBrowser(t *testing.T, env *servertest.Env, vp viewport, dir string) {
	opts := append(chromiumOptions(t), chromedp.WindowSize(int(vp.width), int(vp.height)))
	if vp.phone {
		opts = append(opts, chromedp.UserAgent(browserIPhoneUA))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute*(1+raceSlowdown/5))
	defer cancel()

	b := &tab{t: t, ctx: ctx, vp: vp, dir: dir, base: env.Base}
	if err := chromedp.Do(ctx, b.emulate(vp.height)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}

	crm := demoProduct(t, env, "CloudNine CRM")
	helpdesk := demoProduct(t, env, "CloudNine Helpdesk")
	keyboard := demoProduct(t, env, "K8 Mechanical Keyboard")

	// The mall.
	b.open("/?lang=en&currency=USD")
	b.wantText("h1", "Software plans")
	b.shot("home")

	// Search from the header box.
	b.do(chromedp.SendKeys(chromedp.CSS(`.header-search input[name="q"]`), "CloudNine"))
	b.press(`.header-search button`, "/search")
	b.wantText(".results-count", "3 products")
	b.shot("search")

	// Filter: plan tier "Paid" (radio), applied with the form's button. On the
	// phone the filters are folded away first.
	if vp.phone {
		b.click(`.filters > summary`)
	}
	b.click(`#filters input[name="tier"][value="paid"]`)
	b.press(`#filters button[type="submit"]`, "tier=paid")
	b.wantText(".results-count", "2 products")
	b.shot("filter")

	// Compare the two results.
	for _, id := range []int64{crm.ID, helpdesk.ID} {
		b.click(fmt.Sprintf(`.card[data-product="%d"] input[name="ids"]`, id))
	}
	b.press(`#cmp button[type="submit"]`, "/compare")
	b.wantText("table.compare", "CloudNine Helpdesk")
	if n := b.count(`table.compare tr.differ`); n == 0 {
		t.Error("the comparison highlights no differing row")
	}
	b.shot("compare")

	// The CRM's product page: the Team plan, 3 seats, into the cart.
	b.press(fmt.Sprintf(`th.cmp-product a.btn[href="/p/%d"]`, crm.ID), fmt.Sprintf("/p/%d", crm.ID))
	b.click(fmt.Sprintf(`input[name="sku_id"][value="%d"]`, crm.SKUs[1].ID))
	b.setValue(`.buy-form input[name="quantity"]`, "3")
	b.shot("product")
	b.press(`.buy-form button[type="submit"]`, "/cart")

	// And a keyboard, so the checkout needs a shipping address.
	b.open(fmt.Sprintf("/p/%d", keyboard.ID))
	b.press(`.buy-form button[type="submit"]`, "/cart")
	b.wantText(".flash", "Added to your cart")
	b.wantText(".cart-lines", "K8 Mechanical Keyboard")
	b.wantText(".cart-lines", "CloudNine CRM")
	b.shot("cart")

	// Sign in; the guest cart moves into the account and checkout follows.
	if vp.phone {
		b.press(`.mobile-checkout a.btn`, "/login")
	} else {
		b.press(`.summary a.btn-primary`, "/login")
	}
	b.do(chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "shopper@saasmall.test"))
	b.do(chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), server.DemoPassword))
	b.shot("login")
	b.press(`.auth-card button[type="submit"]`, "/checkout")
	b.wantText(".summary", "K8 Mechanical Keyboard")

	// Check out: a wrong country code is shown next to its field first.
	b.setValue(`input[name="line1"]`, "1 Century Avenue")
	b.setValue(`input[name="city"]`, "Shanghai")
	b.setValue(`input[name="postal_code"]`, "200120")
	b.setValue(`input[name="country"]`, "C")
	b.press(`.checkout-layout button[type="submit"]`, "/checkout")
	b.wantText(".field-err", "two-letter country code")
	b.shot("checkout-error")
	b.setValue(`input[name="country"]`, "CN")
	b.shot("checkout")
	b.press(`.checkout-layout button[type="submit"]`, "/orders")
	b.wantText(".order-list", "GearHub")
	b.shot("orders")

	// Pay the goods order with the sandbox card.
	b.press(`a.order-row[data-store="gearhub"]`, "/orders/")
	b.wantText("[data-testid=order-status]", "Awaiting payment")
	b.setValue(`input[name="card_number"]`, "4242 4242 4242 4242")
	b.shot("order")
	b.press(`.pay-form button[type="submit"]`, "msg=paid")
	b.wantText("[data-testid=order-status]", "Paid")
	got := b.attr(`[data-testid=order-channel]`, "data-channel")
	if got != vp.channel {
		t.Errorf("order channel = %q, want %q", got, vp.channel)
	}
	b.wantText("[data-testid=order-channel]", "Ordered on: "+map[string]string{"pc": "PC", "mobile": "Mobile"}[vp.channel])
	b.shot("paid")

	// The same order page in Chinese.
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	b.open(strings.TrimPrefix(strings.Split(loc, "?")[0], b.base) + "?lang=zh-Hans")
	b.wantText("[data-testid=order-channel]", "下单渠道")
	b.shot("paid-zh")

	// The account page: subscriptions, devices, hand-off QR code.
	b.open("/account?lang=en")
	b.press(`#handoff button[type="submit"]`, "/account/handoff")
	b.waitVisible(`[data-testid=handoff-qr]`)
	b.shot("account-handoff")

	// What the phone sees when it opens the QR code's link: a confirm
	// button (opening the link does not use the code up).
	link := b.attr(`[data-testid=handoff-link]`, "href")
	b.open(strings.TrimPrefix(link, b.base))
	b.wantText("main", "Sign me in")
	b.shot("handoff-confirm")

	// The mall in Chinese, and a translated 404 page.
	b.open("/?lang=zh-Hans")
	b.wantText("h1", "软件套餐")
	b.shot("home-zh")
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+"/s/no-such-store"))
	if err != nil || resp.Status != 404 {
		t.Fatalf("unknown store: %v %v", resp, err)
	}
	b.wantText("h1", "页面不存在")
	b.shot("not-found-zh")
}

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", b.vp.name, err)
	}
}

func (b *tab) open(path string) {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("%s: open %s: %v", b.vp.name, path, err)
	}
	if resp.Status >= 400 {
		b.t.Fatalf("%s: open %s: HTTP %d", b.vp.name, path, resp.Status)
	}
}

// scrollTo brings an element to the middle of the screen, as a shopper
// scrolls to what they tap (clear of the phone's bottom bar).
func (b *tab) scrollTo(css string) {
	b.t.Helper()
	js := `(function(el){ if (!el) return false; el.scrollIntoView({block: "center"}); return true; })(document.querySelector(` + strconv.Quote(css) + `))`
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
	if err != nil || !ok {
		b.t.Fatalf("%s: no element %s (%v)", b.vp.name, css, err)
	}
}

// click clicks an element that does not load a page.
func (b *tab) click(css string) {
	b.t.Helper()
	b.scrollTo(css)
	b.do(chromedp.Click(chromedp.CSS(css)))
}

// press clicks something that loads a page and checks where it landed.
func (b *tab) press(css, wantURL string) {
	b.t.Helper()
	b.scrollTo(css)
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		b.t.Fatalf("%s: click %s: %v", b.vp.name, css, err)
	}
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	if !strings.Contains(loc, wantURL) {
		body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
		b.t.Fatalf("%s: the browser is at %s, want %s\n%s", b.vp.name, loc, wantURL, body)
	}
}

func (b *tab) setValue(css, v string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(css), v))
}

func (b *tab) waitVisible(css string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(css)))
}

func (b *tab) wantText(css, want string) {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("%s: text of %s: %v", b.vp.name, css, err)
	}
	if !strings.Contains(got, want) {
		b.t.Fatalf("%s: %s says %q, want %q", b.vp.name, css, got, want)
	}
}

func (b *tab) attr(css, name string) string {
	b.t.Helper()
	attrs, err := chromedp.Run(b.ctx, chromedp.Attributes(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("%s: attributes of %s: %v", b.vp.name, css, err)
	}
	return attrs[name]
}

func (b *tab) count(css string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(css)+`).length`))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// emulate sets the viewport (a phone: mobile, touch, twice the pixels).
func (b *tab) emulate(height int64) chromedp.Action[chromedp.Void] {
	if b.vp.phone {
		return chromedp.EmulateViewport(b.vp.width, height, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(b.vp.width, height)
}

// shot saves a full-page screenshot as build/screenshots/<viewport>-NN-<step>.png.
// The viewport is stretched to the page's height for the picture, so fixed
// bars (the phone's tab bar) sit at the bottom of the page as on a screen.
func (b *tab) shot(step string) {
	b.t.Helper()
	b.n++
	h, err := chromedp.Run(b.ctx, chromedp.Evaluate[int64](`Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight))`))
	if err != nil {
		b.t.Fatal(err)
	}
	b.do(b.emulate(max(h, b.vp.height)))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	b.do(b.emulate(b.vp.height))
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.vp.name, step, err)
	}
	name := filepath.Join(b.dir, fmt.Sprintf("%s-%02d-%s.png", b.vp.name, b.n, step))
	if err := os.WriteFile(name, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
