package server_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"saasmall/frontend"
	"saasmall/server"
	"saasmall/server/servertest"
	"saasmall/tenants"
)

// The staff console (frontend/, embedded and served at /console) in headless
// Chromium against a real server with the demo data: sign in as a tenant
// admin who works in two tenants, switch tenant, the dashboard's charts,
// the hand-off QR code, a product with two SKUs, a CSV import of 1,000
// products with 3 bad rows, a count sheet and a supplier's price list
// imported from CSV files, a permission granted in the role matrix that gives
// a member a new screen, and Chinese. Each step is saved as
// build/screenshots/console-NN-<step>.png.

func TestConsoleBrowser(t *testing.T) {
	requireChromium(t)
	if !frontend.Built() {
		if os.Getenv("CI") == "true" {
			t.Fatal("frontend/dist/index.html is missing: CI must build the console first (make console)")
		}
		t.Skip("the console is not built (frontend/dist/index.html is missing): run `make console`, then this test")
	}
	env := demoEnv(t)
	ctx := context.Background()
	// The job runner processes CSV imports.
	bg, stopBG := context.WithCancel(ctx)
	t.Cleanup(stopBG)
	env.Srv.StartBackground(bg)

	// The demo's CloudNine owner also administers GearHub: staff in two tenants.
	gearhub, err := env.Srv.Tenants.BySlug(ctx, "gearhub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Srv.Tenants.AddMember(tenants.WithTenant(ctx, gearhub), tenants.AddMemberInput{Email: "owner@cloudnine.test", Roles: []string{"admin"}}); err != nil {
		t.Fatal(err)
	}
	consoleOrders(t, env)
	env.Listen()

	shots := filepath.Join("..", "build", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// Screenshots of an earlier run would mix with this one's.
	old, _ := filepath.Glob(filepath.Join(shots, "console-*.png"))
	for _, f := range old {
		_ = os.Remove(f)
	}

	opts := append(chromiumOptions(t),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	tctx, cancel := context.WithTimeout(bctx, 4*time.Minute*(1+raceSlowdown/5))
	defer cancel()

	c := &consoleTab{t: t, ctx: tctx, dir: shots, base: env.Base}
	c.watch()
	c.do(chromedp.EmulateViewport(1440, 900))

	// /console redirects to /console/, which shows the sign-in page.
	resp, err := chromedp.Run(tctx, chromedp.NavigateResponse(env.Base+"/console"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("open /console: %v %v", resp, err)
	}
	if loc := c.location(); !strings.HasPrefix(loc, env.Base+"/console/") {
		t.Fatalf("/console went to %s, want /console/", loc)
	}
	c.waitVisible(`[data-testid=signin]`)
	c.shot("signin")

	// A wrong password: the server's message on the form.
	c.signIn("accountant@cloudnine.test", "not-the-password", false)
	c.waitText(`[data-testid=signin-error]`, "")
	c.shot("signin-error")

	// The accountant (finance + mall read) has no stock screen yet.
	c.signIn("accountant@cloudnine.test", server.DemoPassword, true)
	c.waitVisible(`[data-testid=nav-dashboard]`)
	if c.exists(`[data-testid=nav-stock]`) || c.exists(`[data-testid=nav-roles]`) {
		t.Fatal("the accountant sees the stock or roles screen before any grant")
	}
	c.shot("accountant-before")
	c.signOut()

	// The tenant admin, in CloudNine first.
	c.signIn("owner@cloudnine.test", server.DemoPassword, true)
	c.waitText(`[data-testid=tenant-current]`, "CloudNine")
	c.waitVisible(`[data-testid=nav-roles]`)

	// Switch to GearHub.
	c.click(`[data-testid=tenant-switcher] button`)
	c.click(`[data-testid=tenant-option-gearhub]`)
	c.waitTenant("GearHub")

	// The dashboard over the days of the seeded orders (the test clock's and
	// the real one's, whichever the orders carry).
	from, to := env.Clock.Now(), time.Now().UTC()
	if to.Before(from) {
		from, to = to, from
	}
	from, to = from.AddDate(0, 0, -7), to.AddDate(0, 0, 1)
	c.open(fmt.Sprintf("/console/#/dashboard?from=%s&to=%s&currency=USD", from.Format(time.DateOnly), to.Format(time.DateOnly)))
	if c.exists(`[data-testid=dash-unavailable]`) {
		t.Log("STEP NOT RUN: the dashboard API (GET /api/v1/t/{tenant}/analytics/dashboard) is not on this server yet")
	} else {
		c.waitVisible(`[data-testid=chart-by-day] canvas`)
		n := c.pollInt(`(() => {
			const drawn = c => { if (!c.width || !c.height) return false
				const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
				for (let i = 3; i < d.length; i += 4 * 13) if (d[i]) return true
				return false }
			const n = [...document.querySelectorAll('[data-testid^="chart-"] canvas')].filter(drawn).length
			return n >= 3 ? n : 0 })()`)
		if n < 3 {
			t.Fatalf("%d charts drawn, want 3", n)
		}
		if got := c.text(`[data-testid=kpi-orders]`); got == "0" || got == "" {
			t.Errorf("dashboard orders = %q, want the seeded orders", got)
		}
		c.waitText(`[data-testid=top-products]`, "K8 Mechanical Keyboard")
		c.shot("dashboard")
	}

	// Sign in on a phone: the hand-off QR code.
	c.click(`[data-testid=user-menu] button`)
	c.click(`[data-testid=menu-handoff]`)
	c.waitVisible(`[data-testid=handoff-qr]`)
	if src := c.attr(`[data-testid=handoff-qr]`, "src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("hand-off QR src = %.40q", src)
	}
	c.shot("handoff")
	c.press(kb.Escape)
	c.waitGone(`[data-testid=handoff-qr]`)

	// A product with two SKUs.
	c.click(`[data-testid=nav-products]`)
	c.waitVisible(`[data-testid=products-table]`)
	c.click(`[data-testid=products-new]`)
	c.waitVisible(`[data-testid=pe-save]`)
	c.fill(`pe-name`, "Desk Lamp LX 台灯")
	c.fill(`pe-category`, "Lighting")
	c.fill(`pe-sku-0-code`, "LAMP-LX-W")
	c.fill(`pe-sku-0-name`, "White")
	c.fill(`pe-sku-0-price-0`, "24.50")
	c.click(`[data-testid=pe-add-sku]`)
	c.fill(`pe-sku-1-code`, "LAMP-LX-B")
	c.fill(`pe-sku-1-name`, "Black")
	c.fill(`pe-sku-1-price-0`, "26")
	c.shot("product-form")
	c.click(`[data-testid=pe-save]`)
	c.waitGone(`[data-testid=pe-save]`)
	c.waitText(`[data-testid=products-table]`, "Desk Lamp LX")
	c.waitText(`[data-testid=products-table]`, "LAMP-LX-W, LAMP-LX-B")
	c.shot("product-created")
	lamp := consoleProduct(t, env, gearhub, "Desk Lamp LX")
	if len(lamp.SKUs) != 2 || lamp.SKUs[0].Prices[0].Amount != 2450 || lamp.SKUs[1].Prices[0].Amount != 2600 {
		t.Fatalf("created product: %+v", lamp.SKUs)
	}

	// CSV import: 1,000 products, 3 of them bad.
	if !consoleRouteExists(env, "POST", "/api/v1/t/:tenant/products/import") {
		t.Log("STEP NOT RUN: the CSV import API (POST /api/v1/t/{tenant}/products/import) is not on this server yet")
	} else {
		csvPath := filepath.Join(t.TempDir(), "products.csv")
		bad := writeImportCSV(t, csvPath, 1000)
		c.click(`[data-testid=products-import]`)
		c.waitVisible(`[data-testid=import-choose]`)
		c.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=import-file]`), []string{csvPath}))
		c.waitText(`[data-testid=import-file-name]`, "products.csv")
		c.click(`[data-testid=import-start]`)
		c.waitVisibleFor(`[data-testid=import-finished]`, 2*time.Minute)
		if got := c.text(`[data-testid=import-imported]`); got != "997" {
			t.Errorf("imported = %s, want 997", got)
		}
		if got := c.text(`[data-testid=import-failed]`); got != "3" {
			t.Errorf("failed = %s, want 3", got)
		}
		rows := c.eval(importErrorRowsJS)
		if want := strings.Join(bad, ","); rows != want {
			t.Errorf("error rows = %q, want %q", rows, want)
		}
		c.shot("import")
		c.press(kb.Escape)
		c.waitGone(`[data-testid=import-finished]`)
	}

	// Orders: the bank transfer placed on the app waits for the store; confirm it.
	c.click(`[data-testid=nav-orders]`)
	c.waitVisible(`[data-testid=orders-table]`)
	c.click(`[data-testid=order-transfer]`)
	c.waitVisible(`[data-testid=order-confirm-payment]`)
	c.waitText(`[data-testid=order-timeline]`, "Bank transfer awaiting confirmation")
	c.shot("order-detail")
	c.click(`[data-testid=order-confirm-payment]`)
	c.click(`.confirm-box .el-button--danger`)
	c.waitText(`[data-testid=order-status]`, "Paid")
	c.waitText(`[data-testid=order-timeline]`, "Paid")
	c.shot("order-paid")
	// Fulfilled, then the customer sends the keyboard back: a return into
	// the default warehouse (no quantity first: refused on the form).
	c.click(`[data-testid=order-fulfil]`)
	c.waitText(`[data-testid=order-status]`, "Fulfilled")
	c.click(`[data-testid=order-return]`)
	c.waitVisible(`[data-testid=return-qty-0]`)
	c.waitText(`[data-testid=return-warehouse]`, "MAIN")
	c.click(`[data-testid=return-save]`)
	c.waitText(`[data-testid=return-error]`, "Enter a quantity")
	c.fill(`return-qty-0`, "1")
	c.fill(`return-reason`, "Wrong switches")
	c.shot("order-return-form")
	c.click(`[data-testid=return-save]`)
	c.waitGone(`[data-testid=return-form] .el-dialog__body`)
	c.waitText(`[data-testid=order-returns]`, "Wrong switches")
	c.waitText(`[data-testid=order-timeline]`, "Goods returned")
	c.waitGone(`[data-testid=order-return]`) // nothing left to return
	c.shot("order-returned")
	c.press(kb.Escape)
	c.waitGone(`[data-testid=order-confirm-payment]`)

	// Stock per SKU and warehouse, with the demo's opening stock.
	c.click(`[data-testid=nav-stock]`)
	c.waitText(`[data-testid=stock-table]`, "K8-BRN")
	c.waitVisible(`[data-testid=stock-valuation]`)
	c.shot("stock")
	// The move history of a level: the demo's opening stock.
	c.click(`[data-testid=stock-history]`)
	c.waitText(`[data-testid=stock-moves]`, "opening stock")
	c.shot("stock-moves")
	c.press(kb.Escape)
	c.waitGone(`[data-testid=stock-moves] .el-table`)

	// Warehouses: add one (a bad country first), then close it.
	c.click(`[data-testid=nav-warehouses]`)
	c.waitText(`[data-testid=warehouse-table]`, "MAIN")
	c.click(`[data-testid=warehouse-new]`)
	c.fill(`warehouse-code`, "sh-01")
	c.fill(`warehouse-name`, "Shanghai Pudong 上海浦东")
	c.fill(`warehouse-country`, "ZZ")
	c.click(`[data-testid=warehouse-save]`)
	c.waitText(`[data-testid=warehouse-form] .el-form-item__error`, "country")
	c.shot("warehouse-form-error")
	c.fill(`warehouse-country`, "cn")
	c.click(`[data-testid=warehouse-save]`)
	c.waitGone(`[data-testid=warehouse-form] .el-form-item__error`)
	c.waitText(`[data-testid=warehouse-table]`, "SH-01")
	c.shot("warehouses")

	// Ship 3 keyboards from MAIN to the new warehouse, then receive them.
	c.click(`[data-testid=nav-transfers]`)
	c.waitVisible(`[data-testid=transfer-table]`)
	c.click(`[data-testid=transfer-new]`)
	c.pick(`transfer-to`, "", "SH-01")
	c.pick(`transfer-sku-0`, "K8", "K8-BRN")
	c.fill(`transfer-qty-0`, "3")
	c.shot("transfer-form")
	c.click(`[data-testid=transfer-save]`)
	c.waitGone(`[data-testid=transfer-form] .el-dialog__body`)
	c.waitText(`[data-testid=transfer-table]`, "In transit")
	c.shot("transfers")
	c.click(`[data-testid=transfer-receive]`)
	c.waitText(`[data-testid=transfer-table]`, "Received")

	// Count MAIN: one keyboard more than the books say, confirmed.
	c.click(`[data-testid=nav-counts]`)
	c.waitVisible(`[data-testid=count-table]`)
	c.click(`[data-testid=count-new]`)
	c.click(`[data-testid=count-create]`)
	c.waitVisible(`[data-testid=count-line-0]`)
	expected := c.eval(`document.querySelector('[data-testid=count-sheet] .el-table__row td:nth-child(3)').textContent.trim()`)
	n, err := strconv.Atoi(expected)
	if err != nil {
		t.Fatalf("count sheet's first expected number %q", expected)
	}
	c.fill(`count-line-0`, strconv.Itoa(n+1))
	c.click(`[data-testid=count-fill]`)
	c.click(`[data-testid=count-save]`)
	c.waitText(`[data-testid=count-sheet] .el-table__row`, "+1")
	c.shot("count-sheet")
	c.click(`[data-testid=count-confirm]`)
	c.click(`.confirm-box .el-button--danger`)
	c.waitGone(`[data-testid=count-confirm]`)
	c.press(kb.Escape)
	c.waitText(`[data-testid=count-table]`, "Confirmed")
	c.shot("counts")

	// A second sheet filled from a CSV: two counts entered, two rows
	// refused (an unknown code, a SKU twice); nothing is posted.
	c.click(`[data-testid=count-new]`)
	c.click(`[data-testid=count-create]`)
	c.waitVisible(`[data-testid=count-line-0]`)
	countsCSV := filepath.Join(t.TempDir(), "counts.csv")
	if err := os.WriteFile(countsCSV, []byte("sku_code,counted\nK8-BRN,41\nDOCK-7,17\nNOPE-1,3\nK8-BRN,40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.click(`[data-testid=count-import]`)
	c.waitVisible(`[data-testid=import-template]`)
	c.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=import-file]`), []string{countsCSV}))
	c.waitText(`[data-testid=import-file-name]`, "counts.csv")
	c.click(`[data-testid=import-start]`)
	c.waitVisibleFor(`[data-testid=import-finished]`, time.Minute)
	if got, failed := c.text(`[data-testid=import-imported]`), c.text(`[data-testid=import-failed]`); got != "2" || failed != "2" {
		t.Errorf("count import: imported %s, failed %s; want 2 and 2", got, failed)
	}
	if rows := c.eval(importErrorRowsJS); rows != "4,5" {
		t.Errorf("count import error rows = %q, want 4,5", rows)
	}
	c.waitText(`[data-testid=import-errors]`, "No SKU of your store has this code")
	c.shot("count-import")
	c.click(`[data-testid=import-dialog] .el-dialog__footer .el-button`)
	c.waitGone(`[data-testid=import-finished]`)
	// The sheet reloads with the imported counts, still open.
	c.poll(countInputJS("K8-BRN", "41"))
	c.poll(countInputJS("DOCK-7", "17"))
	c.waitVisible(`[data-testid=count-confirm]`)
	c.shot("count-import-sheet")
	c.press(kb.Escape)
	c.waitGone(`[data-testid=count-sheet] .el-table`)

	// Purchasing: a supplier with a price for K8-RED, a reorder rule above
	// its stock, replenishment drafts an order, which is approved, sent and
	// received.
	c.click(`[data-testid=nav-suppliers]`)
	c.waitVisible(`[data-testid=supplier-table]`)
	c.click(`[data-testid=supplier-new]`)
	c.fill(`supplier-code`, "acme")
	c.fill(`supplier-name`, "Acme Parts 艾克美")
	c.fill(`supplier-currency`, "CNY")
	c.click(`[data-testid=supplier-save]`)
	c.waitText(`[data-testid=supplier-table]`, "ACME")
	c.click(`[data-testid=supplier-prices]`)
	c.pick(`price-sku`, "K8", "K8-RED")
	c.fill(`price-cost`, "320.00")
	c.fill(`price-pack`, "10")
	c.click(`[data-testid=price-save]`)
	c.waitText(`[data-testid=supplier-price-list] .el-table`, "K8-RED")
	c.shot("supplier-prices")
	c.press(kb.Escape)
	c.waitGone(`[data-testid=supplier-price-list] .el-table`)
	// Acme's price list from a CSV: K8-RED replaced, K8-BRN added, a cost
	// with too many decimals and an unknown code refused.
	pricesCSV := filepath.Join(t.TempDir(), "acme-prices.csv")
	if err := os.WriteFile(pricesCSV, []byte("sku_code,supplier_code,cost,min_order_qty,pack_size\n"+
		"K8-RED,AC-K8R,310.00,10,10\nK8-BRN,AC-K8B,305.50,,\nDOCK-7,AC-D7,1.234,1,1\nNOPE-9,X,1,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.click(`[data-testid=supplier-import]`) // Acme's row comes first (by code)
	c.waitText(`[data-testid=import-dialog] .el-dialog__header`, "Acme Parts")
	c.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=import-file]`), []string{pricesCSV}))
	c.waitText(`[data-testid=import-file-name]`, "acme-prices.csv")
	c.click(`[data-testid=import-start]`)
	c.waitVisibleFor(`[data-testid=import-finished]`, time.Minute)
	if got, failed := c.text(`[data-testid=import-imported]`), c.text(`[data-testid=import-failed]`); got != "2" || failed != "2" {
		t.Errorf("price list import: imported %s, failed %s; want 2 and 2", got, failed)
	}
	if rows := c.eval(importErrorRowsJS); rows != "4,5" {
		t.Errorf("price list import error rows = %q, want 4,5", rows)
	}
	c.waitText(`[data-testid=import-errors]`, "at most 2 decimals")
	c.shot("supplier-import")
	c.click(`[data-testid=import-dialog] .el-dialog__footer .el-button`)
	c.waitGone(`[data-testid=import-finished]`)
	c.click(`[data-testid=supplier-prices]`)
	c.waitText(`[data-testid=supplier-price-list] .el-table`, "AC-K8B")
	c.waitText(`[data-testid=supplier-price-list] .el-table`, "305.50")
	c.waitText(`[data-testid=supplier-price-list] .el-table`, "310.00")
	c.shot("supplier-prices-imported")
	c.press(kb.Escape)
	c.waitGone(`[data-testid=supplier-price-list] .el-table`)
	c.click(`[data-testid=nav-purchasing]`)
	c.click(`#tab-rules`)
	c.click(`[data-testid=rule-new]`)
	c.pick(`rule-sku`, "K8", "K8-RED")
	c.pick(`rule-supplier`, "", "Acme")
	c.fill(`rule-min`, "100")
	c.fill(`rule-max`, "150")
	c.click(`[data-testid=rule-save]`)
	c.waitText(`[data-testid=rule-table]`, "K8-RED")
	c.shot("reorder-rules")
	c.click(`#tab-orders`)
	c.click(`[data-testid=replenish-run]`)
	c.waitText(`[data-testid=replenish-result]`, "projected")
	c.shot("replenishment")
	c.click(`[data-testid=replenish-result] .el-dialog__footer .el-button--primary`)
	c.waitText(`[data-testid=po-table]`, "Draft")
	c.waitVisible(`[data-testid=low-stock-bell]`) // the header says stock runs low
	// The buyer rounds the proposal to 200 before approving it.
	c.click(`[data-testid=po-edit]`)
	c.waitText(`[data-testid=po-form] .el-dialog__header`, "Edit draft")
	c.fill(`po-line-qty-0`, "200")
	c.shot("purchase-order-edit")
	c.click(`[data-testid=po-save]`)
	c.waitGone(`[data-testid=po-form] .el-dialog__footer`)
	c.waitText(`[data-testid=po-table]`, "Draft")
	c.click(`[data-testid=po-approve]`)
	c.waitText(`[data-testid=po-table]`, "Approved")
	c.click(`[data-testid=po-send]`)
	c.waitText(`[data-testid=po-table]`, "Sent")
	c.click(`[data-testid=po-receive]`)
	c.click(`[data-testid=receipt-save]`)
	c.waitText(`[data-testid=po-table]`, "Received")
	c.shot("purchase-orders")
	c.click(`[data-testid=po-new]`)
	c.waitVisible(`[data-testid=po-form] .el-dialog__footer`)
	c.shot("purchase-order-form")
	c.press(kb.Escape)
	c.waitGone(`[data-testid=po-form] .el-dialog__footer`)

	// Close the new warehouse (its stock stays).
	c.click(`[data-testid=nav-warehouses]`)
	c.waitText(`[data-testid=warehouse-table]`, "SH-01")
	c.click(`[data-testid=warehouse-table] .el-table__row:last-child .el-button--danger`)
	c.click(`.confirm-box .el-button--danger`)
	c.waitText(`[data-testid=warehouse-table] .el-table__row:last-child`, "Closed")

	// Back in CloudNine: give the accountant role warehouse read in the matrix.
	c.click(`[data-testid=tenant-switcher] button`)
	c.click(`[data-testid=tenant-option-cloudnine]`)
	c.waitTenant("CloudNine")
	c.click(`[data-testid=nav-roles]`)
	c.waitVisible(`[data-testid=role-row-accountant]`)
	if !c.has(`[data-testid="cell-owner-admin-write"] input:disabled`) {
		t.Error("the owner's row can be edited")
	}
	c.click(`[data-testid="cell-accountant-warehouse-read"]`)
	c.waitText(`[data-testid=roles-save]`, "1")
	c.shot("roles-matrix")
	c.click(`[data-testid=roles-save]`)
	c.poll(`document.querySelector('[data-testid=roles-save]').disabled`)
	if !c.has(`[data-testid="cell-accountant-warehouse-read"] input:checked`) {
		t.Error("after saving, the accountant's warehouse read is not ticked")
	}

	// Members, direct grants, and the audit log that recorded the change.
	c.click(`[data-testid=nav-members]`)
	c.waitText(`[data-testid=members-table]`, "accountant@cloudnine.test")
	c.shot("members")
	c.click(`[data-testid=nav-grants]`)
	c.waitVisible(`[data-testid=grants-table]`)
	c.shot("grants")
	c.click(`[data-testid=nav-audit]`)
	c.waitText(`[data-testid=audit-table]`, "role.update")
	c.shot("audit")
	c.signOut()

	// The accountant now has the stock screen.
	c.signIn("accountant@cloudnine.test", server.DemoPassword, true)
	c.waitVisible(`[data-testid=nav-stock]`)
	c.click(`[data-testid=nav-stock]`)
	c.waitVisible(`[data-testid=stock-table]`)
	c.shot("accountant-stock")

	// In Chinese.
	c.click(`[data-testid=lang-switcher] button`)
	c.click(`[data-testid=lang-zh-Hans]`)
	c.waitText(`[data-testid=nav-stock]`, "库存")
	c.waitText(`[data-testid=page-title]`, "库存")
	c.shot("accountant-stock-zh")
	c.click(`[data-testid=nav-orders]`)
	c.waitVisible(`[data-testid=orders-table]`)
	c.shot("orders-zh")

	c.assertNoPageErrors()
}

// consoleOrders places demo orders: goods at GearHub on two channels (one
// paid, one waiting for a bank transfer) and a SaaS plan at CloudNine.
func consoleOrders(t *testing.T, env *servertest.Env) {
	t.Helper()
	refresh(t, env)
	keyboard := demoProduct(t, env, "K8 Mechanical Keyboard")
	dock := demoProduct(t, env, "USB-C Dock")
	crm := demoProduct(t, env, "CloudNine CRM")
	for i, o := range []struct {
		source string
		sku    int64
		qty    int64
		pay    string
	}{
		{"mobile", keyboard.SKUs[0].ID, 2, "sandbox"},
		{"pc", dock.SKUs[0].ID, 1, "sandbox"},
		{"app", keyboard.SKUs[1].ID, 1, "offline"},
		{"applet", crm.SKUs[2].ID, 3, "sandbox"}, // Business (yearly): no trial
	} {
		c := env.Login("shopper@saasmall.test", server.DemoPassword, o.source)
		addToCart(t, c, o.sku, o.qty)
		r := checkout(c, fmt.Sprintf("console-%d", i), "USD").Want(t, 201)
		want := 200
		if o.pay == "offline" {
			want = 202 // a bank transfer: staff confirm it later
		}
		for _, id := range orderIDs(r) {
			c.Do("POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), map[string]any{"method": o.pay, "card_number": "4242424242424242"},
				"Idempotency-Key", fmt.Sprintf("console-pay-%d", id)).Want(t, want)
		}
	}
}

// consoleProduct finds a product of the tenant by name through the staff API's service.
func consoleProduct(t *testing.T, env *servertest.Env, ten *tenants.Tenant, name string) consoleProductView {
	t.Helper()
	owner := env.Login("owner@gearhub.test", server.DemoPassword, "pc")
	r := owner.Do("GET", "/api/v1/t/"+ten.Slug+"/products?q="+url.QueryEscape(name), nil).Want(t, 200)
	items, _ := r.JSON["items"].([]any)
	for _, it := range items {
		p := it.(map[string]any)
		if p["name"] != nil && strings.HasPrefix(p["name"].(string), name) {
			var v consoleProductView
			for _, s := range p["skus"].([]any) {
				sm := s.(map[string]any)
				var sku consoleSKU
				for _, pr := range sm["prices"].([]any) {
					sku.Prices = append(sku.Prices, consolePrice{Amount: n64(pr.(map[string]any)["amount"])})
				}
				v.SKUs = append(v.SKUs, sku)
			}
			return v
		}
	}
	t.Fatalf("no product %q in %s", name, r.Body)
	return consoleProductView{}
}

type consolePrice struct{ Amount int64 }
type consoleSKU struct{ Prices []consolePrice }
type consoleProductView struct{ SKUs []consoleSKU }

func consoleRouteExists(env *servertest.Env, method, path string) bool {
	for _, rt := range env.Srv.Web.Routes() {
		if rt.Method == method && rt.Path == path {
			return true
		}
	}
	return false
}

// importErrorRowsJS lists the rows of the import dialog's error table.
const importErrorRowsJS = `[...document.querySelectorAll('[data-testid=import-errors] tbody tr td:first-child')].map(td => td.textContent.trim()).join(',')`

// countInputJS is true when the open count sheet's line of SKU code shows
// want in its counted field.
func countInputJS(code, want string) string {
	return `(() => { const row = [...document.querySelectorAll('[data-testid=count-sheet] .el-table__row')].find((r) => r.textContent.includes(` +
		strconv.Quote(code) + `)); const i = row && row.querySelector('input'); return !!i && i.value === ` + strconv.Quote(want) + ` })()`
}

// writeImportCSV writes n goods products, one SKU each, in the CSV export's
// columns; three of them are bad. It returns the bad rows' numbers (the
// header is row 1).
func writeImportCSV(t *testing.T, path string, n int) []string {
	t.Helper()
	var b strings.Builder
	b.WriteString("product_key,kind,name,summary,category,status,attributes,sku_code,sku_name,prices,weight_grams,hs_code,origin_country,plan_tier,plan_interval,plan_per_seat,plan_trial_days,plan_features\n")
	var bad []string
	for i := 1; i <= n; i++ {
		kind, name, prices := "goods", fmt.Sprintf("Import widget %04d", i), "USD:1000;CNY:7000"
		switch i {
		case 100:
			prices = "USD:-5" // negative price
		case 500:
			name = "" // no name
		case 900:
			kind = "gadget" // no such kind
		}
		if i == 100 || i == 500 || i == 900 {
			bad = append(bad, strconv.Itoa(i+1))
		}
		fmt.Fprintf(&b, "imp-%04d,%s,%s,Imported in the browser test,Widgets,draft,Color=Blue,IMP-%04d,Standard,%s,250,847160,CN,,,,,\n",
			i, kind, name, i, prices)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return bad
}

// consoleTab drives one browser tab through the console.
type consoleTab struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	base string
	n    int

	mu       sync.Mutex
	problems []string // JS exceptions and CSP violations
}

// watch records uncaught exceptions and Content-Security-Policy violations;
// other console errors (a 403 the console expects, say) are only logged.
func (c *consoleTab) watch() {
	err := chromedp.Listen(c.ctx, func(ev any) {
		var msg string
		bad := false
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg, bad = "exception: "+e.ExceptionDetails.Text, true
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if e.Entry.Level != log.EntryLevelError {
				return
			}
			msg = "log: " + e.Entry.Text + " " + e.Entry.URL
			bad = strings.Contains(e.Entry.Text, "Content Security Policy")
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			msg = "console.error:"
			for _, a := range e.Args {
				msg += " " + string(a.Value) + a.Description
			}
			bad = strings.Contains(msg, "Content Security Policy") || strings.Contains(msg, "[Vue warn]")
		default:
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if bad {
			c.problems = append(c.problems, msg)
		} else {
			c.t.Log("browser:", msg)
		}
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *consoleTab) assertNoPageErrors() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.problems {
		c.t.Errorf("page error: %s", p)
	}
}

func (c *consoleTab) do(actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.fail("%v", err)
	}
}

// fail stops the test with a screenshot of where it stood.
func (c *consoleTab) fail(format string, args ...any) {
	c.t.Helper()
	if png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(c.dir, "console-failed.png"), png, 0o644)
	}
	c.assertNoPageErrors()
	c.t.Fatalf(format, args...)
}

func (c *consoleTab) open(path string) {
	c.t.Helper()
	c.do(chromedp.Navigate(c.base + path))
}

func (c *consoleTab) location() string {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.fail("%v", err)
	}
	return loc
}

func (c *consoleTab) eval(js string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.fail("eval %s: %v", js, err)
	}
	return v
}

func (c *consoleTab) has(css string) bool {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`!!document.querySelector(`+strconv.Quote(css)+`)`))
	if err != nil {
		c.fail("%v", err)
	}
	return v
}

func (c *consoleTab) exists(css string) bool { return c.has(css) }

// poll waits until the expression is truthy (10 s).
func (c *consoleTab) poll(expr string) {
	c.t.Helper()
	c.pollFor(expr, 10*time.Second)
}

func (c *consoleTab) pollFor(expr string, d time.Duration) {
	c.t.Helper()
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(d*raceSlowdown), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		c.fail("waiting for %s: %v", expr, err)
	}
}

func (c *consoleTab) pollInt(expr string) int {
	c.t.Helper()
	n, err := chromedp.Run(c.ctx, chromedp.Poll[int](expr, chromedp.WithPollingTimeout(raceSlowdown*10*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		c.fail("waiting for %s: %v", expr, err)
	}
	return n
}

// visibleJS is true when css matches an element that is shown.
func visibleJS(css string) string {
	return `(() => { const el = document.querySelector(` + strconv.Quote(css) + `); if (!el) return false;
		const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
		return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' })()`
}

func (c *consoleTab) waitVisible(css string) {
	c.t.Helper()
	c.waitVisibleFor(css, 10*time.Second)
}

func (c *consoleTab) waitVisibleFor(css string, d time.Duration) {
	c.t.Helper()
	c.pollFor(visibleJS(css), d)
}

func (c *consoleTab) waitGone(css string) {
	c.t.Helper()
	c.poll(`!` + visibleJS(css))
}

// waitText waits until the element's text contains want (any text when
// want is "").
func (c *consoleTab) waitText(css, want string) {
	c.t.Helper()
	js := `(() => { const el = document.querySelector(` + strconv.Quote(css) + `); return !!el && el.textContent.trim() !== '' && el.textContent.includes(` + strconv.Quote(want) + `) })()`
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(raceSlowdown*10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		c.fail("%s never said %q; it says %q (%v)", css, want, c.text(css), err)
	}
}

func (c *consoleTab) text(css string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`(() => { const el = document.querySelector(`+strconv.Quote(css)+`); return el ? el.textContent.trim() : '' })()`))
	if err != nil {
		c.t.Fatalf("text of %s: %v", css, err)
	}
	return v
}

func (c *consoleTab) attr(css, name string) string {
	c.t.Helper()
	return c.eval(`(() => { const el = document.querySelector(` + strconv.Quote(css) + `); return el ? (el.getAttribute(` + strconv.Quote(name) + `) || '') : '' })()`)
}

// pick opens the select with data-testid testid, types query into it when
// it is searchable (a remote search shows options only then), and chooses
// the first shown option whose text contains text.
func (c *consoleTab) pick(testid, query, text string) {
	c.t.Helper()
	c.click(`[data-testid=` + testid + `]`)
	if query != "" {
		c.eval(`(() => { const el = document.querySelector('[data-testid=` + testid + `] input'); el.value = ` + strconv.Quote(query) + `;
			el.dispatchEvent(new Event('input', { bubbles: true })); return '' })()`)
	}
	c.poll(`(() => { const it = [...document.querySelectorAll('.el-select-dropdown__item')].find((e) => e.offsetParent && e.textContent.includes(` +
		strconv.Quote(text) + `)); if (it) it.click(); return !!it })()`)
}

// click waits until a user could click the element: it is shown, has
// stopped moving (menus and dialogs open with an animation), and nothing lies
// over its middle (a loading mask, a closing drawer's overlay); then clicks it.
func (c *consoleTab) click(css string) {
	c.t.Helper()
	c.waitVisible(css)
	q := strconv.Quote(css)
	c.poll(`(() => { const el = document.querySelector(` + q + `); if (!el) return false;
		const r = el.getBoundingClientRect(), k = [r.x, r.y, r.width, r.height].join(',');
		const seen = (window.__consoleRects = window.__consoleRects || {}), prev = seen[` + q + `];
		seen[` + q + `] = k;
		const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
		return prev === k && !!hit && (hit === el || el.contains(hit) || hit.contains(el)) })()`)
	c.do(chromedp.Click(chromedp.CSS(css)))
}

// fill types into the input of an Element Plus field by its data-testid (on
// the <input> itself, or on the component's root).
func (c *consoleTab) fill(testid, value string) {
	c.t.Helper()
	sel := fmt.Sprintf(`input[data-testid=%q], [data-testid=%q] input`, testid, testid)
	c.waitVisible(sel)
	js := `(() => { const el = document.querySelector(` + strconv.Quote(sel) + `);
		el.focus(); el.value = ` + strconv.Quote(value) + `;
		el.dispatchEvent(new Event('input', { bubbles: true }));
		el.dispatchEvent(new Event('change', { bubbles: true }));
		el.blur(); return el.value })()`
	c.eval(js)
}

func (c *consoleTab) press(key string) {
	c.t.Helper()
	c.do(chromedp.KeyEvent(key))
}

// waitTenant waits until the console has switched to the tenant (its name
// in the header, its permissions loaded).
func (c *consoleTab) waitTenant(name string) {
	c.t.Helper()
	c.waitText(`[data-testid=tenant-current]`, name)
	c.poll(`!document.querySelector('[data-testid=tenant-switcher] .is-loading')`)
}

func (c *consoleTab) signIn(email, password string, ok bool) {
	c.t.Helper()
	c.waitVisible(`[data-testid=signin-submit]`)
	c.fill("signin-email", email)
	c.fill("signin-password", password)
	c.click(`[data-testid=signin-submit]`)
	if ok {
		c.waitVisible(`[data-testid=nav]`)
	}
}

func (c *consoleTab) signOut() {
	c.t.Helper()
	c.click(`[data-testid=user-menu] button`)
	c.click(`[data-testid=menu-logout]`)
	c.waitVisible(`[data-testid=signin]`)
}

// shot saves a screenshot as build/screenshots/console-NN-<step>.png.
func (c *consoleTab) shot(step string) {
	c.t.Helper()
	c.n++
	// Let transitions (dialogs, drawers, messages) finish.
	c.do(chromedp.Sleep(350 * time.Millisecond))
	png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		c.fail("screenshot %s: %v", step, err)
	}
	name := filepath.Join(c.dir, fmt.Sprintf("console-%02d-%s.png", c.n, step))
	if err := os.WriteFile(name, png, fs.FileMode(0o644)); err != nil {
		c.t.Fatal(err)
	}
}
