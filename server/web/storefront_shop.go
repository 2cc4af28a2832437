package web

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/apperr"
	"saasmall/server/mall"
	"saasmall/server/store"
)

// ---- cart ----

type cartLineVM struct {
	mall.CartLine
	Unit   string
	Total  string
	Err    string
	MaxQty int64
	Trial  int // days of free trial (SaaS)
}

type cartView struct {
	*base
	Cart     *mall.CartView
	Lines    []cartLineVM
	Subtotal string
	HasGoods bool
	Missing  bool // some line has no price in the currency
}

func (s *Server) cartLines(b *base, cv *mall.CartView) ([]cartLineVM, bool, bool) {
	var out []cartLineVM
	goods, missing := false, false
	for _, l := range cv.Items {
		vm := cartLineVM{CartLine: l, MaxQty: 999}
		if k, ok := s.Mall.Catalog.SKU(l.SKUID); ok {
			vm.MaxQty = k.MaxQuantity()
			if k.Kind == mall.KindSaaS {
				vm.Trial = k.TrialDays
			}
		}
		if l.UnitPrice != nil {
			vm.Unit, vm.Total = money(*l.UnitPrice), money(*l.Amount)
		} else {
			missing = true
			vm.Err = b.Msg("field.no_price_in_currency", "Currency", cv.Currency)
		}
		if !l.Available {
			vm.Err = b.Msg("field.unavailable")
		}
		if m, ok := b.Errs["items."+strconv.FormatInt(l.ID, 10)]; ok {
			vm.Err = m
		}
		goods = goods || l.Kind == mall.KindGoods
		out = append(out, vm)
	}
	return out, goods, missing
}

func (s *Server) sfCart(c *fiber.Ctx) error { return s.cartPage(c, fiber.StatusOK, nil, 0) }

func (s *Server) cartPage(c *fiber.Ctx, status int, lineErr error, lineID int64) error {
	b := s.page(c, "cart.title")
	b.Nav = "cart"
	if lineErr != nil {
		formErrors(b, lineErr)
		if m, ok := b.Errs["quantity"]; ok && lineID != 0 {
			b.Errs["items."+strconv.FormatInt(lineID, 10)] = m
		}
	}
	cv, err := s.Mall.Cart(c.UserContext(), cartRef(c, false), b.Currency)
	if err != nil {
		return s.fail(c, err)
	}
	v := &cartView{base: b, Cart: cv, Subtotal: money(cv.Subtotal)}
	v.Lines, v.HasGoods, v.Missing = s.cartLines(b, cv)
	return s.render(c, status, "cart", v)
}

func formInt(c *fiber.Ctx, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(c.FormValue(name)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func (s *Server) sfCartAdd(c *fiber.Ctx) error {
	if err := s.checkForm(c); err != nil {
		return s.fail(c, err)
	}
	skuID, qty := formInt(c, "sku_id"), formInt(c, "quantity")
	if qty == 0 {
		qty = 1
	}
	// A flat plan is bought once, whatever the seats box says.
	if k, ok := s.Mall.Catalog.SKU(skuID); ok && k.Kind == mall.KindSaaS && !k.PerSeat {
		qty = 1
	}
	_, err := s.Mall.AddItem(c.UserContext(), cartRef(c, true), mall.AddItemInput{SKUID: skuID, Quantity: qty}, "")
	if err != nil {
		status := statusOf(asAppErr(err).Kind)
		if status >= 500 {
			return s.fail(c, err)
		}
		if pid := formInt(c, "product_id"); pid > 0 {
			c.Path("/p/" + strconv.FormatInt(pid, 10))
			return s.productPage(c, pid, status, err, skuID, qty)
		}
		c.Path("/cart")
		return s.cartPage(c, status, err, 0)
	}
	return see303(c, "/cart?msg=added")
}

func (s *Server) sfCartUpdate(c *fiber.Ctx) error {
	if err := s.checkForm(c); err != nil {
		return s.fail(c, err)
	}
	id, err := pathID(c, "id")
	if err != nil {
		return s.fail(c, apperr.NotFound("cart item"))
	}
	qty := formInt(c, "quantity")
	if qty == 0 && c.FormValue("quantity") == "0" {
		if _, err := s.Mall.RemoveItem(c.UserContext(), cartRef(c, false), id, ""); err != nil {
			return s.fail(c, err)
		}
		return see303(c, "/cart?msg=removed")
	}
	if _, err := s.Mall.SetItemQuantity(c.UserContext(), cartRef(c, false), id, qty, ""); err != nil {
		if asAppErr(err).Kind == apperr.KindInvalid {
			c.Path("/cart")
			return s.cartPage(c, fiber.StatusBadRequest, err, id)
		}
		return s.fail(c, err)
	}
	return see303(c, "/cart?msg=updated")
}

func (s *Server) sfCartRemove(c *fiber.Ctx) error {
	if err := s.checkForm(c); err != nil {
		return s.fail(c, err)
	}
	id, err := pathID(c, "id")
	if err != nil {
		return s.fail(c, apperr.NotFound("cart item"))
	}
	if _, err := s.Mall.RemoveItem(c.UserContext(), cartRef(c, false), id, ""); err != nil {
		return s.fail(c, err)
	}
	return see303(c, "/cart?msg=removed")
}

// ---- checkout ----

type checkoutView struct {
	*base
	Cart       *mall.CartView
	Lines      []cartLineVM
	Subtotal   string
	HasGoods   bool
	Missing    bool
	Key        string
	Addr       mall.Address
	Currencies []optionVM
}

func (s *Server) sfCheckoutPage(c *fiber.Ctx) error {
	return s.checkoutPage(c, fiber.StatusOK, nil, mall.Address{Name: current(c).Actor.Name})
}

func (s *Server) checkoutPage(c *fiber.Ctx, status int, cerr error, addr mall.Address) error {
	b := s.page(c, "checkout.title")
	b.Nav = "cart"
	if cerr != nil {
		formErrors(b, cerr)
	}
	cv, err := s.Mall.Cart(c.UserContext(), cartRef(c, false), b.Currency)
	if err != nil {
		return s.fail(c, err)
	}
	v := &checkoutView{base: b, Cart: cv, Subtotal: money(cv.Subtotal), Key: "co-" + randToken(), Addr: addr}
	v.Lines, v.HasGoods, v.Missing = s.cartLines(b, cv)
	for _, cur := range storefrontCurrencies {
		v.Currencies = append(v.Currencies, optionVM{Value: cur, Label: cur, Selected: cur == b.Currency})
	}
	return s.render(c, status, "checkout", v)
}

func (s *Server) sfCheckout(c *fiber.Ctx) error {
	ctx := c.UserContext()
	in := mall.CheckoutInput{Currency: strings.ToUpper(strings.TrimSpace(c.FormValue("currency")))}
	addr := mall.Address{Name: c.FormValue("name"), Line1: c.FormValue("line1"), City: c.FormValue("city"),
		PostalCode: c.FormValue("postal_code"), Country: strings.ToUpper(strings.TrimSpace(c.FormValue("country")))}
	// The form has address fields when the cart held goods; the address is
	// sent as the form has it, so a double submit is the same request.
	if c.FormValue("ship") == "1" {
		in.ShippingAddress = &addr
	}
	if in.Currency != "" {
		// Show the form again in the currency the shopper chose.
		c.Request().URI().QueryArgs().Set("currency", in.Currency)
	}
	r, err := s.Mall.Checkout(ctx, c.FormValue("idempotency_key"), in)
	if err != nil {
		ae := asAppErr(err)
		switch ae.Kind {
		case apperr.KindInvalid, apperr.KindConflict, apperr.KindUnprocessable:
			return s.checkoutPage(c, statusOf(ae.Kind), err, addr)
		}
		return s.fail(c, err)
	}
	var res mall.CheckoutResult
	if err := json.Unmarshal(r.Body, &res); err != nil || len(res.Orders) == 0 {
		return see303(c, "/orders?msg=ordered")
	}
	if len(res.Orders) == 1 {
		return see303(c, "/orders/"+strconv.FormatInt(res.Orders[0].ID, 10)+"?msg=ordered")
	}
	return see303(c, "/orders?msg=ordered")
}

// ---- orders ----

type orderRowVM struct {
	mall.OrderView
	TotalText string
	Items     int
}

type ordersView struct {
	*base
	Orders  []orderRowVM
	Total   int64
	PrevURL string
	NextURL string
	Page    int
	Pages   int
}

func (s *Server) sfOrders(c *fiber.Ctx) error {
	b := s.page(c, "orders.title")
	b.Nav = "orders"
	page := 1
	if n, err := strconv.Atoi(c.Query("page")); err == nil && n > 0 && n <= 10_000 {
		page = n
	}
	res, err := s.Mall.MyOrders(c.UserContext(), mall.OrderQuery{PageRequest: store.PageRequest{Page: page, PerPage: 20}})
	if err != nil {
		return s.fail(c, err)
	}
	v := &ordersView{base: b, Total: res.Total, Page: res.Page}
	for _, o := range res.Items {
		v.Orders = append(v.Orders, orderRowVM{OrderView: o, TotalText: money(o.Total), Items: len(o.Lines)})
	}
	v.Pages = int((res.Total + int64(res.PerPage) - 1) / int64(res.PerPage))
	if page > 1 {
		v.PrevURL = "/orders?page=" + strconv.Itoa(page-1)
	}
	if page < v.Pages {
		v.NextURL = "/orders?page=" + strconv.Itoa(page+1)
	}
	return s.render(c, fiber.StatusOK, "orders", v)
}

type orderLineVM struct {
	mall.LineView
	Unit  string
	Total string
}

type orderView struct {
	*base
	O          *mall.OrderView
	Lines      []orderLineVM
	Subtotal   string
	Tax        string
	TaxRate    string
	Shipping   string
	TotalText  string
	CanPay     bool
	CanCancel  bool
	Key        string
	Method     string
	CardNumber string
}

func (s *Server) sfOrder(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return s.fail(c, apperr.NotFound("order"))
	}
	return s.orderPage(c, id, fiber.StatusOK, nil)
}

func (s *Server) orderPage(c *fiber.Ctx, id int64, status int, payErr error) error {
	o, err := s.Mall.MyOrder(c.UserContext(), id)
	if err != nil {
		return s.fail(c, err)
	}
	b := s.page(c, "")
	b.Title = b.T("order.title", "Number", o.Number)
	b.Nav = "orders"
	if payErr != nil {
		formErrors(b, payErr)
	}
	v := &orderView{base: b, O: o, Subtotal: money(o.Subtotal), Tax: money(o.Tax), Shipping: money(o.Shipping), TotalText: money(o.Total),
		TaxRate: strconv.FormatFloat(float64(o.TaxRateBP)/100, 'f', -1, 64), Key: "pay-" + randToken(), Method: mall.MethodSandbox}
	if payErr != nil {
		v.Method = c.FormValue("method", mall.MethodSandbox)
		v.CardNumber = c.FormValue("card_number")
	}
	for _, l := range o.Lines {
		v.Lines = append(v.Lines, orderLineVM{LineView: l, Unit: money(l.UnitPrice), Total: money(l.Amount)})
	}
	v.CanPay = o.Status == mall.OrderPendingPayment && !o.PaymentPending
	v.CanCancel = o.Status == mall.OrderPendingPayment
	return s.render(c, status, "order", v)
}

func (s *Server) sfPay(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return s.fail(c, apperr.NotFound("order"))
	}
	in := mall.PayInput{Method: c.FormValue("method"), CardNumber: strings.TrimSpace(c.FormValue("card_number"))}
	if in.Method != mall.MethodSandbox {
		in.CardNumber = ""
	}
	r, err := s.Mall.Pay(c.UserContext(), c.FormValue("idempotency_key"), id, in)
	if err != nil {
		ae := asAppErr(err)
		if ae.Kind == apperr.KindNotFound || statusOf(ae.Kind) >= 500 {
			return s.fail(c, err)
		}
		c.Path("/orders/" + strconv.FormatInt(id, 10))
		return s.orderPage(c, id, statusOf(ae.Kind), err)
	}
	msg := "paid"
	if r.Status == fiber.StatusAccepted {
		msg = "pay_pending"
	}
	return see303(c, "/orders/"+strconv.FormatInt(id, 10)+"?msg="+msg)
}

func (s *Server) sfCancelOrder(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return s.fail(c, apperr.NotFound("order"))
	}
	if _, err := s.Mall.CancelOrder(c.UserContext(), id); err != nil {
		ae := asAppErr(err)
		if ae.Kind == apperr.KindConflict {
			c.Path("/orders/" + strconv.FormatInt(id, 10))
			return s.orderPage(c, id, fiber.StatusConflict, err)
		}
		return s.fail(c, err)
	}
	return see303(c, "/orders/"+strconv.FormatInt(id, 10)+"?msg=cancelled")
}
