package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"saasmall/server/apperr"
	"saasmall/server/mall"
	"saasmall/server/mall/catalog"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// CartCookie holds a guest's cart token.
const CartCookie = "saasmall_cart"

func (s *Server) routesMall() {
	s.public(fiber.MethodGet, "/api/v1/products", s.searchProducts)
	s.public(fiber.MethodGet, "/api/v1/products/:id", s.getProduct)
	s.public(fiber.MethodGet, "/api/v1/compare", s.compare)

	s.public(fiber.MethodGet, "/api/v1/cart", s.getCart)
	s.public(fiber.MethodPost, "/api/v1/cart/items", s.addCartItem)
	s.public(fiber.MethodPatch, "/api/v1/cart/items/:id", s.updateCartItem)
	s.public(fiber.MethodDelete, "/api/v1/cart/items/:id", s.deleteCartItem)

	s.signed(fiber.MethodPost, "/api/v1/checkout", s.checkout)
	s.signed(fiber.MethodGet, "/api/v1/orders", s.myOrders)
	s.signed(fiber.MethodGet, "/api/v1/orders/:id", s.myOrder)
	s.signed(fiber.MethodPost, "/api/v1/orders/:id/pay", s.payOrder)
	s.signed(fiber.MethodPost, "/api/v1/orders/:id/cancel", s.cancelOrder)
	s.signed(fiber.MethodGet, "/api/v1/subscriptions", s.mySubscriptions)
	s.signed(fiber.MethodPatch, "/api/v1/subscriptions/:id/seats", s.changeSeats)
	s.signed(fiber.MethodPost, "/api/v1/subscriptions/:id/plan", s.switchPlan)
	s.signed(fiber.MethodPost, "/api/v1/subscriptions/:id/cancel", s.cancelSubscription)

	s.tenant(fiber.MethodGet, "/products", "mall", "read", s.staffProducts)
	s.tenant(fiber.MethodPost, "/products", "mall", "write", s.createProduct)
	s.tenant(fiber.MethodGet, "/products/:id", "mall", "read", s.staffProduct)
	s.tenant(fiber.MethodPatch, "/products/:id", "mall", "write", s.updateProduct)
	s.tenant(fiber.MethodGet, "/orders", "mall", "read", s.tenantOrders)
	s.tenant(fiber.MethodGet, "/orders/:id", "mall", "read", s.tenantOrder)
	s.tenant(fiber.MethodPost, "/orders/:id/cancel", "mall", "write", s.staffCancelOrder)
	s.tenant(fiber.MethodPost, "/orders/:id/fulfil", "mall", "write", s.fulfilOrder)
	s.tenant(fiber.MethodPost, "/orders/:id/complete", "mall", "write", s.completeOrder)
	s.tenant(fiber.MethodPost, "/orders/:id/confirm-payment", "finance", "write", s.confirmPayment)
	s.tenant(fiber.MethodGet, "/orders/:id/returns", "mall", "read", s.orderReturns)
	s.tenant(fiber.MethodPost, "/orders/:id/returns", "warehouse", "write", s.recordReturn) // the goods come back into stock
	s.tenant(fiber.MethodGet, "/stock", "warehouse", "read", s.stockLevels)
	s.tenant(fiber.MethodGet, "/warehouses", "warehouse", "read", s.warehouses)
	s.tenant(fiber.MethodPost, "/warehouses", "warehouse", "write", s.createWarehouse)
	s.tenant(fiber.MethodGet, "/warehouses/:id", "warehouse", "read", stockByID(s, (*warehouse.Service).Warehouse))
	s.tenant(fiber.MethodPatch, "/warehouses/:id", "warehouse", "write", s.updateWarehouse)
	s.tenant(fiber.MethodPost, "/stock/adjustments", "warehouse", "write", s.adjustStock)
	s.tenant(fiber.MethodGet, "/stock/moves", "warehouse", "read", s.stockMoves)
	s.tenant(fiber.MethodGet, "/suppliers", "warehouse", "read", s.listSuppliers)
	s.tenant(fiber.MethodPost, "/suppliers", "warehouse", "write", s.createSupplier)
	s.tenant(fiber.MethodGet, "/suppliers/:id", "warehouse", "read", stockByID(s, (*warehouse.Service).Supplier))
	s.tenant(fiber.MethodPut, "/suppliers/:id", "warehouse", "write", s.updateSupplier)
	s.tenant(fiber.MethodGet, "/suppliers/:id/skus", "warehouse", "read", s.supplierSKUs)
	s.tenant(fiber.MethodPost, "/suppliers/:id/skus", "warehouse", "write", s.setSupplierSKU)
	s.tenant(fiber.MethodGet, "/purchase-orders", "warehouse", "read", s.listPurchaseOrders)
	s.tenant(fiber.MethodPost, "/purchase-orders", "warehouse", "write", s.createPurchaseOrder)
	s.tenant(fiber.MethodGet, "/purchase-orders/:id", "warehouse", "read", stockByID(s, (*warehouse.Service).PurchaseOrder))
	s.tenant(fiber.MethodPatch, "/purchase-orders/:id", "warehouse", "write", s.updatePurchaseOrder)
	s.tenant(fiber.MethodPost, "/purchase-orders/:id/approve", "warehouse", "approve", stockByID(s, (*warehouse.Service).ApprovePurchaseOrder))
	s.tenant(fiber.MethodPost, "/purchase-orders/:id/send", "warehouse", "write", stockByID(s, (*warehouse.Service).SendPurchaseOrder))
	s.tenant(fiber.MethodPost, "/purchase-orders/:id/cancel", "warehouse", "write", stockByID(s, (*warehouse.Service).CancelPurchaseOrder))
	s.tenant(fiber.MethodPost, "/purchase-orders/:id/close", "warehouse", "write", stockByID(s, (*warehouse.Service).ClosePurchaseOrder))
	s.tenant(fiber.MethodPost, "/purchase-orders/:id/receipts", "warehouse", "write", s.receiveGoods)
	s.tenant(fiber.MethodGet, "/reorder-rules", "warehouse", "read", s.listReorderRules)
	s.tenant(fiber.MethodPost, "/reorder-rules", "warehouse", "write", s.setReorderRule)
	s.tenant(fiber.MethodPost, "/replenishment/run", "warehouse", "write", s.runReplenishment)
	s.tenant(fiber.MethodGet, "/counts", "warehouse", "read", s.listCounts)
	s.tenant(fiber.MethodPost, "/counts", "warehouse", "write", s.createCount)
	s.tenant(fiber.MethodGet, "/counts/:id", "warehouse", "read", stockByID(s, (*warehouse.Service).Count))
	s.tenant(fiber.MethodPatch, "/counts/:id", "warehouse", "write", s.enterCounts)
	s.tenant(fiber.MethodPost, "/counts/:id/confirm", "warehouse", "approve", stockByID(s, (*warehouse.Service).ConfirmCount))
	s.tenant(fiber.MethodPost, "/counts/:id/cancel", "warehouse", "write", stockByID(s, (*warehouse.Service).CancelCount))
	s.tenant(fiber.MethodGet, "/transfers", "warehouse", "read", s.listTransfers)
	s.tenant(fiber.MethodPost, "/transfers", "warehouse", "write", s.createTransfer)
	s.tenant(fiber.MethodGet, "/transfers/:id", "warehouse", "read", stockByID(s, (*warehouse.Service).Transfer))
	s.tenant(fiber.MethodPost, "/transfers/:id/receive", "warehouse", "write", stockByID(s, (*warehouse.Service).ReceiveTransfer))
	s.tenant(fiber.MethodPost, "/transfers/:id/cancel", "warehouse", "write", stockByID(s, (*warehouse.Service).CancelTransfer))
	s.tenant(fiber.MethodGet, "/stock/valuation", "warehouse", "read", s.stockValuation)
}

// searchQuery parses the shopper search parameters (also used by the
// storefront's /search page).
func searchQuery(c *fiber.Ctx) (catalog.Query, error) {
	f := apperr.Fields{}
	q := catalog.Query{Q: c.Query("q"), Kind: c.Query("kind"), Category: c.Query("category"), Store: c.Query("store"),
		Tier: c.Query("tier"), Currency: strings.ToUpper(c.Query("currency")), Sort: c.Query("sort")}
	if utf8.RuneCountInString(q.Q) > 500 {
		f.Add("q", "too_long", "Max", 500)
	}
	if v := c.Query("in_stock"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.Add("in_stock", "invalid_boolean")
		}
		q.InStock = b
	}
	if q.Kind != "" && q.Kind != mall.KindSaaS && q.Kind != mall.KindGoods {
		f.Add("kind", "invalid_choice", "Choices", "saas, goods")
	}
	if q.Tier != "" && q.Tier != mall.TierFree && q.Tier != mall.TierPaid && q.Tier != mall.TierAddon {
		f.Add("tier", "invalid_choice", "Choices", "free, paid, addon")
	}
	switch q.Sort {
	case "", catalog.SortRelevance, catalog.SortPriceAsc, catalog.SortPriceDesc, catalog.SortNewest, catalog.SortBestSelling:
	default:
		f.Add("sort", "invalid_choice", "Choices", "relevance, price_asc, price_desc, newest, best_selling")
	}
	if q.Currency != "" && !tenants.ValidCurrency(q.Currency) {
		f.Add("currency", "invalid_currency")
	}
	price := func(name string) *int64 {
		v := c.Query(name)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			f.Add(name, "invalid_number")
			return nil
		}
		return &n
	}
	q.MinPrice, q.MaxPrice = price("min_price"), price("max_price")
	if (q.MinPrice != nil || q.MaxPrice != nil) && q.Currency == "" {
		f.Add("currency", "required_with_price")
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		f.Add("max_price", "less_than_min")
	}
	q.Page, q.PerPage = 1, 24
	if v := c.Query("page"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 10_000 {
			f.Add("page", "out_of_range", "Min", 1, "Max", 10_000)
		} else {
			q.Page = n
		}
	}
	if v := c.Query("per_page"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 100 {
			f.Add("per_page", "out_of_range", "Min", 1, "Max", 100)
		} else {
			q.PerPage = n
		}
	}
	// Attribute filters: attr.<key>=value, repeatable.
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		key := string(k)
		if !strings.HasPrefix(key, "attr.") || len(key) <= 5 {
			return
		}
		if q.Attrs == nil {
			q.Attrs = map[string][]string{}
		}
		if _, ok := q.Attrs[key[5:]]; ok || len(q.Attrs) < 20 {
			if len(q.Attrs[key[5:]]) < 50 {
				q.Attrs[key[5:]] = append(q.Attrs[key[5:]], string(v))
			}
		}
	})
	return q, f.Err()
}

func (s *Server) searchProducts(c *fiber.Ctx) error {
	q, err := searchQuery(c)
	if err != nil {
		return err
	}
	// The answer depends on the query string only (not on the caller or
	// the language), so each catalog snapshot keeps the pages it has
	// answered.
	buf := s.Mall.Catalog.Index().SearchPage(c.Context().QueryArgs().QueryString(), q, func(res catalog.Result) []byte {
		return searchJSON(res, q)
	})
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(buf)
}

// searchJSON encodes a search answer: the cards are encoded once per
// product, and the page is spliced together.
func searchJSON(res catalog.Result, q catalog.Query) []byte {
	buf := make([]byte, 0, 1024+len(res.Items)*600)
	buf = append(buf, `{"items":[`...)
	for i, d := range res.Items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, d.Card...)
	}
	buf = append(buf, `],"total":`...)
	buf = strconv.AppendInt(buf, int64(res.Total), 10)
	buf = append(buf, `,"page":`...)
	buf = strconv.AppendInt(buf, int64(q.Page), 10)
	buf = append(buf, `,"per_page":`...)
	buf = strconv.AppendInt(buf, int64(q.PerPage), 10)
	buf = append(buf, `,"facets":`...)
	buf = res.AppendFacetsJSON(buf)
	return append(buf, '}')
}

func (s *Server) getProduct(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.Mall.Catalog.Product(id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(b)
}

// parseIDs reads a comma-separated list of at most max ids from field.
func parseIDs(field, v string, max int) ([]int64, error) {
	var ids []int64
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return nil, apperr.Invalid(field, "invalid_id")
		}
		if len(ids) == max {
			return nil, apperr.Invalid(field, "too_many", "Max", max)
		}
		ids = append(ids, n)
	}
	return ids, nil
}

func (s *Server) compare(c *fiber.Ctx) error {
	ids, err := parseIDs("ids", c.Query("ids"), 10)
	if err != nil {
		return err
	}
	cmp, err := s.Mall.Compare(ids, c.Query("currency"))
	if err != nil {
		return err
	}
	return c.JSON(cmp)
}

// cartRef is the caller's cart: the account's, else the guest cookie's,
// which is created when create is set.
func cartRef(c *fiber.Ctx, create bool) mall.CartRef {
	if current(c) != nil {
		return mall.CartRef{}
	}
	tok := c.Cookies(CartCookie)
	if !mall.ValidGuestToken(tok) && create {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		tok = base64.RawURLEncoding.EncodeToString(b)
		c.Cookie(&fiber.Cookie{Name: CartCookie, Value: tok, Path: "/", Expires: time.Now().Add(60 * 24 * time.Hour),
			HTTPOnly: true, Secure: c.Protocol() == "https", SameSite: fiber.CookieSameSiteLaxMode})
	}
	return mall.CartRef{GuestToken: tok}
}

func (s *Server) getCart(c *fiber.Ctx) error {
	v, err := s.Mall.Cart(c.UserContext(), cartRef(c, false), c.Query("currency"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) addCartItem(c *fiber.Ctx) error {
	var in mall.AddItemInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	v, err := s.Mall.AddItem(c.UserContext(), cartRef(c, true), in, c.Query("currency"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) updateCartItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Quantity int64 `json:"quantity"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	v, err := s.Mall.SetItemQuantity(c.UserContext(), cartRef(c, false), id, in.Quantity, c.Query("currency"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) deleteCartItem(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Mall.RemoveItem(c.UserContext(), cartRef(c, false), id, c.Query("currency"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func replay(c *fiber.Ctx, r *mall.Replay) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(r.Status).Send(r.Body)
}

func (s *Server) checkout(c *fiber.Ctx) error {
	var in mall.CheckoutInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Mall.Checkout(c.UserContext(), c.Get("Idempotency-Key"), in)
	if err != nil {
		return err
	}
	return replay(c, r)
}

func orderQuery(c *fiber.Ctx) (mall.OrderQuery, error) {
	p, err := pageReq(c)
	return mall.OrderQuery{PageRequest: p, Status: c.Query("status"), Source: c.Query("client_source"), Number: c.Query("number"),
		From: c.Query("from"), To: c.Query("to")}, err
}

func (s *Server) myOrders(c *fiber.Ctx) error {
	q, err := orderQuery(c)
	if err != nil {
		return err
	}
	page, err := s.Mall.MyOrders(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) myOrder(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	o, err := s.Mall.MyOrder(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) payOrder(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in mall.PayInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Mall.Pay(c.UserContext(), c.Get("Idempotency-Key"), id, in)
	if err != nil {
		return err
	}
	return replay(c, r)
}

func (s *Server) cancelOrder(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	o, err := s.Mall.CancelOrder(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) mySubscriptions(c *fiber.Ctx) error {
	subs, err := s.Mall.MySubscriptions(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": subs})
}

func (s *Server) changeSeats(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Seats int64 `json:"seats"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Mall.ChangeSeats(c.UserContext(), id, in.Seats)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) switchPlan(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		SKUID int64 `json:"sku_id"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Mall.SwitchPlan(c.UserContext(), id, in.SKUID)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) cancelSubscription(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.Mall.CancelSubscription(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) staffProducts(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	page, err := s.Mall.StaffProducts(c.UserContext(), mall.ProductQuery{PageRequest: p, Q: c.Query("q"), Status: c.Query("status"), Kind: c.Query("kind")})
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) createProduct(c *fiber.Ctx) error {
	var in mall.ProductInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Mall.CreateProduct(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) staffProduct(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.Mall.StaffProduct(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) updateProduct(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in mall.ProductPatch
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Mall.UpdateProduct(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) tenantOrders(c *fiber.Ctx) error {
	q, err := orderQuery(c)
	if err != nil {
		return err
	}
	page, err := s.Mall.TenantOrders(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) tenantOrder(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	o, err := s.Mall.StaffOrder(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) staffCancelOrder(c *fiber.Ctx) error {
	return s.orderAction(c, s.Mall.StaffCancelOrder)
}
func (s *Server) fulfilOrder(c *fiber.Ctx) error   { return s.orderAction(c, s.Mall.FulfilOrder) }
func (s *Server) completeOrder(c *fiber.Ctx) error { return s.orderAction(c, s.Mall.CompleteOrder) }
func (s *Server) confirmPayment(c *fiber.Ctx) error {
	return s.orderAction(c, s.Mall.ConfirmOfflinePayment)
}

func (s *Server) orderAction(c *fiber.Ctx, fn func(ctx contextT, id int64) (*mall.OrderView, error)) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	o, err := fn(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

type contextT = context.Context

func (s *Server) stockLevels(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	q := warehouse.StockQuery{PageRequest: p}
	if v := c.Query("sku_ids"); v != "" {
		ids, err := parseIDs("sku_ids", v, warehouse.MaxSKUIDs)
		if err != nil {
			return err
		}
		q.SKUIDs = ids
	}
	if q.WarehouseID, err = queryID(c, "warehouse_id"); err != nil {
		return err
	}
	page, err := s.Stock.Stock(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) warehouses(c *fiber.Ctx) error {
	ws, err := s.Stock.Warehouses(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ws})
}

// queryID reads an optional positive id from the query string.
func queryID(c *fiber.Ctx, name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.Invalid(name, "invalid_id")
	}
	return n, nil
}

func (s *Server) stockMoves(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	q := warehouse.MoveQuery{PageRequest: p, Kind: warehouse.MoveKind(c.Query("kind"))}
	if q.SKUID, err = queryID(c, "sku_id"); err != nil {
		return err
	}
	if q.WarehouseID, err = queryID(c, "warehouse_id"); err != nil {
		return err
	}
	page, err := s.Stock.Moves(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) stockValuation(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	page, total, err := s.Stock.Valuation(c.UserContext(), p)
	if err != nil {
		return err
	}
	type item struct {
		warehouse.StockValue
		Value int64 `json:"value"`
	}
	items := make([]item, len(page.Items))
	for i, v := range page.Items {
		items[i] = item{v, v.Value()}
	}
	cur := ""
	if t := tenants.From(c.UserContext()); t != nil {
		cur = t.DefaultCurrency
	}
	return c.JSON(fiber.Map{"items": items, "total": page.Total, "page": page.Page, "per_page": page.PerPage,
		"currency": cur, "total_value": total})
}

func (s *Server) listSuppliers(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	active := false
	switch c.Query("active") {
	case "", "false":
	case "true":
		active = true
	default:
		return apperr.Invalid("active", "invalid_choice", "Choices", "true, false")
	}
	page, err := s.Stock.Suppliers(c.UserContext(), c.Query("q"), active, p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) createSupplier(c *fiber.Ctx) error {
	var in warehouse.SupplierInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	sp, err := s.Stock.CreateSupplier(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sp)
}

func (s *Server) updateSupplier(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in warehouse.SupplierInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	sp, err := s.Stock.UpdateSupplier(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(sp)
}

func (s *Server) supplierSKUs(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rows, err := s.Stock.SupplierSKUs(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": rows})
}

func (s *Server) setSupplierSKU(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in warehouse.SupplierSKUInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	row, err := s.Stock.SetSupplierSKU(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(row)
}

func (s *Server) listPurchaseOrders(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	q := warehouse.POQuery{Status: c.Query("status"), PageRequest: p}
	if q.SupplierID, err = queryID(c, "supplier_id"); err != nil {
		return err
	}
	page, err := s.Stock.PurchaseOrders(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) createPurchaseOrder(c *fiber.Ctx) error {
	var in warehouse.POInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	po, err := s.Stock.CreatePurchaseOrder(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(po)
}

func (s *Server) updatePurchaseOrder(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in warehouse.POPatch
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	po, err := s.Stock.UpdatePurchaseOrder(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(po)
}

func (s *Server) receiveGoods(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Lines []warehouse.ReceiptLine `json:"lines"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Stock.ReceiveGoods(c.UserContext(), id, in.Lines)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) listReorderRules(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	page, err := s.Stock.ReorderRules(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) setReorderRule(c *fiber.Ctx) error {
	var in warehouse.ReorderRuleInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Stock.SetReorderRule(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) runReplenishment(c *fiber.Ctx) error {
	run, err := s.Stock.Replenish(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(run)
}

func (s *Server) listCounts(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	q := warehouse.CountQuery{Status: c.Query("status"), PageRequest: p}
	if q.WarehouseID, err = queryID(c, "warehouse_id"); err != nil {
		return err
	}
	page, err := s.Stock.Counts(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) createCount(c *fiber.Ctx) error {
	var in warehouse.CountInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	cnt, err := s.Stock.CreateCount(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cnt)
}

func (s *Server) enterCounts(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Lines []warehouse.CountEntry `json:"lines"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	cnt, err := s.Stock.EnterCounts(c.UserContext(), id, in.Lines)
	if err != nil {
		return err
	}
	return c.JSON(cnt)
}

// stockByID answers a request on one warehouse document (:id) with what fn
// returns for it.
func stockByID[T any](s *Server, fn func(*warehouse.Service, contextT, int64) (T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		v, err := fn(s.Stock, c.UserContext(), id)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

func (s *Server) listTransfers(c *fiber.Ctx) error {
	p, err := pageReq(c)
	if err != nil {
		return err
	}
	page, err := s.Stock.Transfers(c.UserContext(), warehouse.TransferQuery{Status: c.Query("status"), PageRequest: p})
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) createTransfer(c *fiber.Ctx) error {
	var in warehouse.TransferInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	tr, err := s.Stock.CreateTransfer(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(tr)
}

func (s *Server) createWarehouse(c *fiber.Ctx) error {
	var in warehouse.WarehouseInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	w, err := s.Stock.CreateWarehouse(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(w)
}

func (s *Server) updateWarehouse(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in warehouse.WarehousePatch
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	w, err := s.Stock.UpdateWarehouse(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(w)
}

func (s *Server) adjustStock(c *fiber.Ctx) error {
	var in warehouse.Adjustment
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	lvl, err := s.Mall.AdjustStock(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(lvl)
}
