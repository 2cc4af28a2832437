package mall

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// Address is where goods are shipped.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// CheckoutInput is a checkout of the caller's whole cart.
type CheckoutInput struct {
	ShippingAddress *Address `json:"shipping_address"`
	Currency        string   `json:"currency"`
}

// LineView is an order line as shoppers and staff see it.
type LineView struct {
	ID        int64  `json:"id"`
	ProductID int64  `json:"product_id"`
	SKUID     int64  `json:"sku_id"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
	Amount    Money  `json:"amount"`
}

// OrderView is an order as shoppers and staff see it.
type OrderView struct {
	ID              int64      `json:"id"`
	Number          string     `json:"number"`
	Kind            string     `json:"kind"`
	Store           StoreRef   `json:"store"`
	Status          string     `json:"status"`
	Subtotal        Money      `json:"subtotal"`
	Tax             Money      `json:"tax"`
	Shipping        Money      `json:"shipping"`
	Total           Money      `json:"total"`
	TaxRateBP       int        `json:"tax_rate_bp"`
	ClientSource    string     `json:"client_source"`
	ShippingAddress *Address   `json:"shipping_address,omitempty"`
	Lines           []LineView `json:"lines"`
	SubscriptionID  *int64     `json:"subscription_id,omitempty"`
	PaymentPending  bool       `json:"payment_pending"` // a bank transfer awaits the store's confirmation
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	PaidAt          *time.Time `json:"paid_at,omitempty"`
	CancelledAt     *time.Time `json:"cancelled_at,omitempty"`
	CancelReason    string     `json:"cancel_reason,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
}

// CheckoutResult is the body of a successful checkout.
type CheckoutResult struct {
	Orders []OrderView `json:"orders"`
}

// Idempotency errors.
var (
	errKeyRequired = &apperr.Error{Kind: apperr.KindInvalid, Code: "idempotency_key_required"}
	errKeyReused   = &apperr.Error{Kind: apperr.KindUnprocessable, Code: "idempotency_key_reused"}
	errKeyTaken    = errors.New("idempotency key committed by a concurrent request")
)

// Replay is a stored response to a request with an Idempotency-Key.
type Replay struct {
	Status int
	Body   []byte
}

func checkKey(key string) error {
	if key == "" {
		return errKeyRequired
	}
	if len(key) > 255 || !utf8.ValidString(key) || strings.ContainsAny(key, "\r\n") {
		return &apperr.Error{Kind: apperr.KindInvalid, Code: "idempotency_key_invalid"}
	}
	return nil
}

func requestHash(scope string, v any) string {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(append([]byte(scope+"\n"), b...))
	return hex.EncodeToString(h[:])
}

// replayed returns the stored response for (user, key), nil when the key is
// new, or idempotency_key_reused when it was used for another request.
func (s *Service) replayed(ctx context.Context, userID int64, key, scope, hash string) (*Replay, error) {
	var k IdempotencyKey
	err := s.db.R(ctx).Where("user_id = ? AND key = ?", userID, key).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	if k.Scope != scope || k.RequestHash != hash {
		return nil, errKeyReused
	}
	return &Replay{Status: k.Status, Body: []byte(k.Body)}, nil
}

// idempotent runs fn (which must do its writes in ctx's transaction and
// return the response) once per (account, key). fn may run more than once
// (store.TxRepeatable), so it must not change what it is given. before,
// when not nil, runs first, outside the transaction, once the key is known
// to be new: it does the request's reads, so that the one writer only
// writes. The key row is
// written with the response at the end of fn's transaction, so a crash
// loses both or neither; of two concurrent requests with one key, only one
// can commit it (primary key), and the other is rolled back and replays the
// first's response. committed, when not nil, runs once this request's
// own answer is committed (not for a replay), before a duplicate of the
// key can see it.
func (s *Service) idempotent(ctx context.Context, key, scope string, in any, before func(ctx context.Context) error,
	fn func(ctx context.Context) (int, any, error), committed func()) (*Replay, error) {
	uid := actor.UserID(ctx)
	if uid == 0 {
		return nil, apperr.ErrUnauthorized
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	hash := requestHash(scope, in)
	// A request with a key another one (same account) is answering in this
	// process waits for it and replays its answer, rather than doing the
	// work again only to lose the race for the key row.
	done, err := s.inflight.enter(ctx, uid, key)
	if err != nil {
		return nil, err
	}
	defer done()
	if r, err := s.replayed(ctx, uid, key, scope, hash); r != nil || err != nil {
		return r, err
	}
	if before != nil {
		if err := before(ctx); err != nil {
			return nil, err
		}
	}
	var out *Replay
	err = s.db.TxRepeatable(ctx, func(ctx context.Context) error {
		status, body, err := fn(ctx)
		if err != nil {
			return err
		}
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		row := IdempotencyKey{UserID: uid, Key: key, Scope: scope, RequestHash: hash, Status: status, Body: string(b), CreatedAt: s.now()}
		if err := s.db.CreateLater(ctx, &row); err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return errKeyTaken
			}
			return err
		}
		out = &Replay{Status: status, Body: b}
		return nil
	})
	if errors.Is(err, errKeyTaken) {
		// Another request with this key got there first: answer as it did,
		// once its commit (perhaps a moment away) is visible.
		for range 20 {
			if r, rerr := s.replayed(ctx, uid, key, scope, hash); r != nil || rerr != nil {
				return r, rerr
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		return nil, apperr.Conflict("idempotency_in_flight")
	}
	if err != nil {
		return nil, storeErr(err)
	}
	if committed != nil {
		committed() // before the key is released: no duplicate sees the answer first
	}
	return out, nil
}

// inflight tracks the idempotency keys being answered, so that concurrent
// duplicates queue behind the first instead of racing it.
type inflight struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// enter waits until no other request of this process holds (user, key),
// then holds it until done is called.
func (f *inflight) enter(ctx context.Context, uid int64, key string) (done func(), err error) {
	k := strconv.FormatInt(uid, 10) + "\x00" + key
	for {
		f.mu.Lock()
		if f.m == nil {
			f.m = map[string]chan struct{}{}
		}
		ch, busy := f.m[k]
		if !busy {
			ch = make(chan struct{})
			f.m[k] = ch
			f.mu.Unlock()
			return func() {
				f.mu.Lock()
				delete(f.m, k)
				f.mu.Unlock()
				close(ch)
			}, nil
		}
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.Internal(err)
}

var numEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

func (s *Service) orderNumber() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "SM" + s.now().Format("060102") + "-" + numEnc.EncodeToString(b)
}

func (a *Address) normalize() {
	a.Name, a.Line1, a.City = strings.TrimSpace(a.Name), strings.TrimSpace(a.Line1), strings.TrimSpace(a.City)
	a.PostalCode, a.Country = strings.TrimSpace(a.PostalCode), strings.ToUpper(strings.TrimSpace(a.Country))
}

func (a *Address) validate(f apperr.Fields) {
	p := "shipping_address."
	checkLen(f, p+"name", a.Name, 1, 120)
	checkLen(f, p+"line1", a.Line1, 1, 200)
	checkLen(f, p+"city", a.City, 1, 120)
	checkLen(f, p+"postal_code", a.PostalCode, 1, 20)
	if !countryRE.MatchString(a.Country) {
		f.Add(p+"country", "invalid_country")
	}
}

type draftOrder struct {
	tenant *tenants.Tenant
	order  Order
	lines  []OrderLine
	goods  []warehouse.ReserveLine
}

// Checkout turns the caller's cart into one order per brand store, reserving
// goods in the same transaction with guarded updates so no concurrency can
// oversell. Prices are read from the catalog now, never from the client.
// Orders with nothing to pay (free plans, trials) are paid at once.
// Signed-in shoppers; key is the Idempotency-Key. Errors: unauthenticated,
// idempotency_key_required, idempotency_key_reused (422), invalid_input
// (address, currency), cart_empty, cart_invalid (field per cart line),
// out_of_stock (409, naming SKUs).
func (s *Service) Checkout(ctx context.Context, key string, in CheckoutInput) (*Replay, error) {
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.ShippingAddress != nil {
		in.ShippingAddress.normalize()
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f := apperr.Fields{}
	if in.Currency == "" {
		f.Add("currency", "required")
	} else if !tenants.ValidCurrency(in.Currency) {
		f.Add("currency", "invalid_currency")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var (
		drafts []*draftOrder
		items  []CartItem
	)
	prepare := func(ctx context.Context) (err error) {
		drafts, items, err = s.draft(ctx, in)
		return err
	}
	var placed []*draftOrder // the last run's orders
	return s.idempotent(ctx, key, "checkout", in, prepare, func(ctx context.Context) (int, any, error) {
		views, run, err := s.place(ctx, drafts, items)
		if err != nil {
			return 0, nil, err
		}
		placed = run
		return 201, CheckoutResult{Orders: views}, nil
	}, func() {
		// Committed: keep the orders for their payment.
		orders, lines := make([]Order, len(placed)), make([][]OrderLine, len(placed))
		for i, d := range placed {
			orders[i], lines[i] = d.order, d.lines
		}
		s.recent.put(orders, lines)
	})
}

// draft reads the caller's cart (outside the write transaction: place
// checks that it did not change) and prices it per store.
func (s *Service) draft(ctx context.Context, in CheckoutInput) ([]*draftOrder, []CartItem, error) {
	uid := actor.UserID(ctx)
	var items []CartItem
	err := s.db.R(ctx).Model(&CartItem{}).Select("cart_items.*").Joins("JOIN carts ON carts.id = cart_items.cart_id").
		Where("carts.user_id = ?", uid).Order("cart_items.id").Find(&items).Error
	if err != nil {
		return nil, nil, err
	}
	if len(items) == 0 {
		return nil, nil, apperr.Conflict("cart_empty")
	}
	bad := apperr.Fields{}
	byTenant := map[int64]*draftOrder{}
	var tenantIDs []int64
	hasGoods := false
	now := s.now()
	for _, it := range items {
		field := "items." + strconv.FormatInt(it.ID, 10)
		k, ok := s.Catalog.SKU(it.SKUID)
		if !ok {
			bad.Add(field, "unavailable")
			continue
		}
		price, ok := k.Prices[in.Currency]
		if !ok {
			bad.Add(field, "no_price_in_currency", "Currency", in.Currency)
			continue
		}
		if it.Quantity < 1 || it.Quantity > k.MaxQuantity() {
			bad.Add(field, "out_of_range", "Min", 1, "Max", k.MaxQuantity())
			continue
		}
		d := byTenant[k.TenantID]
		if d == nil {
			d = &draftOrder{order: Order{TenantID: k.TenantID, UserID: uid, Kind: OrderKindCheckout, Status: OrderPendingPayment,
				Currency: in.Currency, ClientSource: string(actor.Source(ctx)), CreatedAt: now, UpdatedAt: now}}
			byTenant[k.TenantID] = d
			tenantIDs = append(tenantIDs, k.TenantID)
		}
		unit := price
		if k.Kind == KindSaaS && k.TrialDays > 0 {
			unit = 0 // the trial is free; the first period is charged when it ends
		}
		name := k.ProductName + " — " + k.Name
		d.lines = append(d.lines, OrderLine{TenantID: k.TenantID, ProductID: k.ProductID, SKUID: k.ID, Kind: k.Kind, Name: name,
			Quantity: it.Quantity, UnitPrice: unit, Amount: unit * it.Quantity})
		d.order.Subtotal += unit * it.Quantity
		if k.Kind == KindGoods {
			hasGoods = true
			d.goods = append(d.goods, warehouse.ReserveLine{SKUID: k.ID, Qty: it.Quantity})
		}
	}
	if err := bad.Err(); err != nil {
		e := apperr.As(err)
		return nil, nil, &apperr.Error{Kind: apperr.KindConflict, Code: "cart_invalid", Fields: e.Fields}
	}
	if hasGoods {
		f := apperr.Fields{}
		if in.ShippingAddress == nil {
			f.Add("shipping_address", "required")
		} else {
			in.ShippingAddress.validate(f)
		}
		if err := f.Err(); err != nil {
			return nil, nil, err
		}
	}
	ts, err := s.tenants.Cached(ctx, tenantIDs)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*draftOrder, 0, len(ts))
	for i := range ts {
		t := &ts[i]
		d := byTenant[t.ID]
		if d == nil || t.Status != tenants.StatusActive {
			return nil, nil, &apperr.Error{Kind: apperr.KindConflict, Code: "cart_invalid"}
		}
		d.tenant = t
		o := &d.order
		o.TaxRateBP = t.TaxRateBP
		o.Tax = MulDivHalfEven(o.Subtotal, int64(t.TaxRateBP), 10_000)
		if len(d.goods) > 0 {
			o.Shipping = MajorUnits(s.cfg.ShippingFee, o.Currency)
			a := in.ShippingAddress
			o.ShipName, o.ShipLine1, o.ShipCity, o.ShipPostalCode, o.ShipCountry = a.Name, a.Line1, a.City, a.PostalCode, a.Country
		}
		o.Total = o.Subtotal + o.Tax + o.Shipping
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].tenant.Slug < out[j].tenant.Slug })
	return out, items, nil
}

func (d *draftOrder) clone() *draftOrder {
	c := *d
	c.lines, c.goods = slices.Clone(d.lines), slices.Clone(d.goods)
	return &c
}

// place writes the drafted orders, reserves their goods and empties the cart,
// all in ctx's transaction. It returns the orders' views and this run's
// copies of the drafts, as written.
func (s *Service) place(ctx context.Context, drafts []*draftOrder, items []CartItem) ([]OrderView, []*draftOrder, error) {
	// Empty the cart first: the rows deleted must be the ones drafted, or
	// the shopper changed the cart (or checked it out elsewhere) meanwhile.
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	var gone []CartItem
	if err := s.db.W(ctx).Clauses(clause.Returning{}).Where("id IN ?", ids).Delete(&gone).Error; err != nil {
		return nil, nil, err
	}
	if !sameItems(items, gone) {
		return nil, nil, apperr.Conflict("cart_changed")
	}
	views := make([]OrderView, 0, len(drafts))
	run := make([]*draftOrder, 0, len(drafts))
	for _, d := range drafts {
		d := d.clone() // this run's copy: a run may be repeated
		run = append(run, d)
		o := &d.order
		o.Number = s.orderNumber()
		exp := s.now().Add(s.cfg.ReservationTTL)
		o.ExpiresAt = &exp
		created := orderEvent(o)
		free := o.Total == 0 // nothing to pay (free plans, trials): paid at once
		if free {
			now := s.now()
			o.Status, o.PaidAt, o.ExpiresAt = OrderPaid, &now, nil
		}
		// The order and its lines go in with the group's other orders
		// (one INSERT each per commit on SQLite); they have their ids now.
		if err := s.db.CreateLater(ctx, o); err != nil {
			return nil, nil, err
		}
		created["id"] = o.ID
		for i := range d.lines {
			d.lines[i].OrderID = o.ID
		}
		if err := s.db.CreateLater(ctx, &d.lines); err != nil {
			return nil, nil, err
		}
		tctx := tenants.WithTenant(ctx, d.tenant)
		if len(d.goods) > 0 {
			soldOut, err := s.stock.ReserveNew(tctx, orderRef(o.ID), o.ShipCountry, d.goods, s.cfg.ReservationTTL)
			if err != nil {
				return nil, nil, err
			}
			if err := s.touchSoldOut(tctx, d, soldOut); err != nil {
				return nil, nil, err
			}
		}
		if err := s.db.Emit(ctx, o.TenantID, "order.created", created); err != nil {
			return nil, nil, err
		}
		if free {
			if err := s.afterPaid(tctx, o, d.lines, "free", ""); err != nil {
				return nil, nil, err
			}
		}
		views = append(views, s.orderView(o, d.lines, StoreRef{Slug: d.tenant.Slug, Name: d.tenant.Name}))
	}
	return views, run, nil
}

// sameItems reports whether got holds exactly the cart lines of want.
func sameItems(want, got []CartItem) bool {
	if len(want) != len(got) {
		return false
	}
	m := make(map[int64]CartItem, len(got))
	for _, g := range got {
		m[g.ID] = g
	}
	for _, w := range want {
		g, ok := m[w.ID]
		if !ok || g.SKUID != w.SKUID || g.Quantity != w.Quantity {
			return false
		}
	}
	return true
}

// touchSoldOut marks the products whose SKUs in soldOut have nothing left
// to sell, so that the read model's in-stock flags follow.
func (s *Service) touchSoldOut(ctx context.Context, d *draftOrder, soldOut []int64) error {
	if len(soldOut) == 0 {
		return nil
	}
	seen := map[int64]bool{}
	for _, l := range d.lines {
		if l.Kind == KindGoods && slices.Contains(soldOut, l.SKUID) && !seen[l.ProductID] {
			seen[l.ProductID] = true
			if err := s.touch(ctx, l.TenantID, l.ProductID); err != nil {
				return err
			}
		}
	}
	return nil
}

func orderRef(id int64) string { return "order:" + strconv.FormatInt(id, 10) }

func orderEvent(o *Order) map[string]any {
	return map[string]any{"id": o.ID, "number": o.Number, "status": o.Status, "kind": o.Kind,
		"total": Money{Amount: o.Total, Currency: o.Currency}, "client_source": o.ClientSource}
}

func (s *Service) orderView(o *Order, lines []OrderLine, st StoreRef) OrderView {
	m := func(a int64) Money { return Money{Amount: a, Currency: o.Currency} }
	v := OrderView{ID: o.ID, Number: o.Number, Kind: o.Kind, Store: st, Status: o.Status, Subtotal: m(o.Subtotal), Tax: m(o.Tax),
		Shipping: m(o.Shipping), Total: m(o.Total), TaxRateBP: o.TaxRateBP, ClientSource: o.ClientSource, Lines: make([]LineView, len(lines)),
		SubscriptionID: o.SubscriptionID, ExpiresAt: o.ExpiresAt, PaidAt: o.PaidAt, CancelledAt: o.CancelledAt, CancelReason: o.CancelReason, CreatedAt: o.CreatedAt}
	if o.Status != OrderPendingPayment {
		v.ExpiresAt = nil
	}
	if o.ShipCountry != "" {
		v.ShippingAddress = &Address{Name: o.ShipName, Line1: o.ShipLine1, City: o.ShipCity, PostalCode: o.ShipPostalCode, Country: o.ShipCountry}
	}
	for i, l := range lines {
		v.Lines[i] = LineView{ID: l.ID, ProductID: l.ProductID, SKUID: l.SKUID, Kind: l.Kind, Name: l.Name, Quantity: l.Quantity,
			UnitPrice: m(l.UnitPrice), Amount: m(l.Amount)}
	}
	return v
}
