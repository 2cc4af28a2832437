package mall

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Payment methods.
const (
	MethodSandbox = "sandbox"
	MethodOffline = "offline"
)

// DeclinedCard is the sandbox card number that is always declined.
const DeclinedCard = "4000000000000002"

// PayInput pays an order.
type PayInput struct {
	Method     string `json:"method"`
	CardNumber string `json:"card_number,omitempty"`
}

// PayResult is the answer to a payment.
type PayResult struct {
	Order   OrderView `json:"order"`
	Payment Payment   `json:"payment"`
}

// PaymentProvider charges an order. Providers must be idempotent on ref.
type PaymentProvider interface {
	// Charge returns the provider's reference, or a declined error.
	Charge(ctx context.Context, ref string, amount Money, in PayInput) (status, reference string, err error)
}

type sandbox struct{}

var errDeclined = &apperr.Error{Kind: apperr.KindPaymentRequired, Code: "payment_declined"}

func (sandbox) Charge(_ context.Context, ref string, _ Money, in PayInput) (string, string, error) {
	if strings.ReplaceAll(in.CardNumber, " ", "") == DeclinedCard {
		return "failed", "", errDeclined
	}
	return "succeeded", "sbx_" + ref, nil
}

type offline struct{}

func (offline) Charge(_ context.Context, ref string, _ Money, _ PayInput) (string, string, error) {
	return "pending", "BANK-" + strings.ToUpper(strings.TrimPrefix(ref, "order:")), nil
}

func provider(method string) (PaymentProvider, bool) {
	switch method {
	case MethodSandbox:
		return sandbox{}, true
	case MethodOffline:
		return offline{}, true
	}
	return nil, false
}

// ownOrder loads one of the caller's orders: a shopper's orders span brand
// stores, so they are scoped by account, not by tenant. Errors: not_found.
func (s *Service) ownOrder(ctx context.Context, id int64) (*Order, error) {
	var o Order
	if err := s.db.R(ctx).Where("id = ? AND user_id = ?", id, actor.UserID(ctx)).Take(&o).Error; err != nil {
		return nil, store.Error(err, "order")
	}
	return &o, nil
}

func (s *Service) tenantCtx(ctx context.Context, tenantID int64) (context.Context, *tenants.Tenant, error) {
	ts, err := s.tenants.Cached(ctx, []int64{tenantID})
	if err != nil || len(ts) == 0 {
		return nil, nil, apperr.Internal(errors.New("order's tenant not found"))
	}
	return tenants.WithTenant(ctx, &ts[0]), &ts[0], nil
}

// Pay pays one of the caller's orders with the sandbox provider (declined
// for card 4000000000000002) or offline by bank transfer (pending until
// staff confirm it). Paying is idempotent per Idempotency-Key; paying a
// paid order again is already_paid. Errors: not_found, invalid_input,
// already_paid, order_cancelled, order_expired, payment_declined (402),
// idempotency_key_required, idempotency_key_reused.
func (s *Service) Pay(ctx context.Context, key string, orderID int64, in PayInput) (*Replay, error) {
	in.Method = strings.TrimSpace(in.Method)
	prov, ok := provider(in.Method)
	if !ok {
		return nil, apperr.Invalid("method", "invalid_choice", "Choices", "sandbox, offline")
	}
	if len(in.CardNumber) > 32 {
		return nil, apperr.Invalid("card_number", "too_long", "Max", 32)
	}
	var (
		read   *Order
		lines  []OrderLine
		t      *tenants.Tenant
		status string
		ref    string
		cerr   error
		kept   bool
	)
	// Reads first, outside the write transaction: the order (its state is
	// checked again by markPaid's guarded UPDATE), its lines (they never
	// change) and its store.
	prepare := func(ctx context.Context) error {
		var err error
		if s.db.Dialect == store.SQLite {
			read, lines, kept = s.recent.take(orderID, actor.UserID(ctx))
		}
		if !kept {
			if read, err = s.ownOrder(ctx, orderID); err != nil {
				return err
			}
		}
		if err := s.payable(read); err != nil {
			return err
		}
		if _, t, err = s.tenantCtx(ctx, read.TenantID); err != nil {
			return err
		}
		if !kept {
			if lines, err = s.lines(ctx, read.ID); err != nil {
				return err
			}
		}
		// The charge is made before the write transaction, which must not
		// wait on a payment provider.
		status, ref, cerr = prov.Charge(ctx, orderRef(read.ID), Money{Amount: read.Total, Currency: read.Currency}, in)
		return nil
	}
	r, err := s.idempotent(ctx, key, "pay:"+itoa(orderID), in, prepare, func(ctx context.Context) (int, any, error) {
		tctx := tenants.WithTenant(ctx, t) // the transaction, with the order's tenant
		o := new(Order)
		*o = *read // this run's copy: a run may be repeated
		p := Payment{TenantID: o.TenantID, OrderID: o.ID, Method: in.Method, Status: status, Amount: o.Total, Currency: o.Currency,
			Reference: ref, CreatedAt: s.now()}
		if cerr != nil {
			p.Error = apperr.As(cerr).Code
		}
		if err := s.db.CreateLater(ctx, &p); err != nil {
			return 0, nil, err
		}
		code := 200
		switch status {
		case "succeeded":
			if err := s.markPaid(tctx, o, lines, in.Method, ref); err != nil {
				return 0, nil, err
			}
		case "pending":
			// A bank transfer takes days: hold the stock for a week.
			exp := s.now().Add(7 * 24 * time.Hour)
			o.ExpiresAt = &exp
			res := s.db.W(ctx).Model(&Order{}).Where("id = ? AND status = ?", o.ID, OrderPendingPayment).Update("expires_at", exp)
			if res.Error != nil {
				return 0, nil, res.Error
			}
			if res.RowsAffected != 1 {
				return 0, nil, s.whyNotPending(ctx, o.ID)
			}
			code = 202
		default:
			if err := s.db.Emit(ctx, o.TenantID, "payment.failed", map[string]any{"order_id": o.ID, "method": in.Method}); err != nil {
				return 0, nil, err
			}
			// The failed attempt is kept (and replayed for this key).
			return 402, map[string]string{"code": apperr.As(cerr).Code}, nil
		}
		view := s.orderView(o, lines, StoreRef{Slug: t.Slug, Name: t.Name})
		view.PaymentPending = status == "pending"
		return code, PayResult{Order: view, Payment: p}, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	if r.Status == 402 {
		return nil, errDeclined
	}
	return r, nil
}

func itoa(n int64) string { return store.Itoa(n) }

func (s *Service) lines(ctx context.Context, orderID int64) ([]OrderLine, error) {
	var ls []OrderLine
	err := s.db.R(ctx).Where("order_id = ?", orderID).Order("id").Find(&ls).Error
	return ls, err
}

// pendingPayment says why o is not awaiting payment, or nil if it is.
func pendingPayment(o *Order) error {
	switch o.Status {
	case OrderPendingPayment:
		return nil
	case OrderCancelled:
		return apperr.Conflict("order_cancelled")
	default:
		return apperr.Conflict("already_paid")
	}
}

// payable checks that o can still be paid.
func (s *Service) payable(o *Order) error {
	if err := pendingPayment(o); err != nil {
		return err
	}
	if o.ExpiresAt != nil && !s.now().Before(*o.ExpiresAt) {
		return apperr.Conflict("order_expired")
	}
	return nil
}

// whyNotPending says, inside ctx's transaction, why a guarded UPDATE of a
// pending order found it in another state.
func (s *Service) whyNotPending(ctx context.Context, id int64) error {
	var o Order
	if err := s.db.W(ctx).Select("id", "status", "expires_at").Where("id = ?", id).Take(&o).Error; err != nil {
		return store.Error(err, "order")
	}
	if err := s.payable(&o); err != nil {
		return err
	}
	return apperr.Conflict("already_paid")
}

// markPaid moves an order to paid inside ctx's transaction (tenant in ctx):
// starts or renews subscriptions and emits order.paid. (The sales counts
// follow from the mall.count_sales job.)
func (s *Service) markPaid(ctx context.Context, o *Order, lines []OrderLine, method, ref string) error {
	s.recent.forget(o.ID)
	now := s.now()
	res := s.db.W(ctx).Model(&Order{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status = ?", o.ID, OrderPendingPayment).
		Updates(map[string]any{"status": OrderPaid, "paid_at": now, "expires_at": nil, "updated_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return s.whyNotPending(ctx, o.ID)
	}
	o.Status, o.PaidAt, o.ExpiresAt = OrderPaid, &now, nil
	return s.afterPaid(ctx, o, lines, method, ref)
}

// afterPaid does what follows an order's payment (o is paid already):
// its subscriptions start and order.paid is raised.
func (s *Service) afterPaid(ctx context.Context, o *Order, lines []OrderLine, method, ref string) error {
	if err := s.onPaidSubscriptions(ctx, o, lines); err != nil {
		return err
	}
	ev := orderEvent(o)
	ev["method"], ev["reference"] = method, ref
	return s.db.Emit(ctx, o.TenantID, "order.paid", ev)
}

// cancel moves a pending (or, for staff, paid) order to cancelled, releasing
// its stock, inside ctx's transaction with the tenant in ctx.
func (s *Service) cancel(ctx context.Context, o *Order, reason string, allowPaid bool) error {
	s.recent.forget(o.ID)
	from := []string{OrderPendingPayment}
	if allowPaid {
		from = append(from, OrderPaid)
	}
	now := s.now()
	res := s.db.W(ctx).Model(&Order{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status IN ?", o.ID, from).
		Updates(map[string]any{"status": OrderCancelled, "cancelled_at": now, "cancel_reason": reason, "expires_at": nil, "updated_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return apperr.Conflict("order_not_cancellable")
	}
	refundDue := o.Status == OrderPaid
	o.Status, o.CancelledAt, o.CancelReason, o.ExpiresAt = OrderCancelled, &now, reason, nil
	if err := s.stock.Release(ctx, orderRef(o.ID)); err != nil {
		return err
	}
	if err := s.onOrderCancelled(ctx, o); err != nil {
		return err
	}
	lines, err := s.lines(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l.Kind == KindGoods {
			if err := s.touch(ctx, o.TenantID, l.ProductID); err != nil {
				return err
			}
		}
	}
	ev := orderEvent(o)
	ev["reason"], ev["refund_due"] = reason, refundDue
	return s.db.Emit(ctx, o.TenantID, "order.cancelled", ev)
}

// CancelOrder cancels one of the caller's unpaid orders and releases its
// stock. Errors: not_found, order_not_cancellable.
func (s *Service) CancelOrder(ctx context.Context, id int64) (*OrderView, error) {
	var view *OrderView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		o, err := s.ownOrder(ctx, id)
		if err != nil {
			return err
		}
		tctx, t, err := s.tenantCtx(ctx, o.TenantID)
		if err != nil {
			return err
		}
		if err := s.cancel(tctx, o, "shopper", false); err != nil {
			return err
		}
		lines, err := s.lines(ctx, o.ID)
		if err != nil {
			return err
		}
		v := s.orderView(o, lines, StoreRef{Slug: t.Slug, Name: t.Name})
		view = &v
		return nil
	})
	return view, storeErr(err)
}

// ExpireOrders cancels unpaid orders whose reservation ran out (the
// reservation expiry job); it returns how many it cancelled.
func (s *Service) ExpireOrders(ctx context.Context, limit int) (int, error) {
	var os []Order
	if err := s.db.R(ctx).Where("status = ? AND expires_at < ?", OrderPendingPayment, s.now()).Order("expires_at").Limit(limit).Find(&os).Error; err != nil {
		return 0, err
	}
	n := 0
	for i := range os {
		o := &os[i]
		err := s.db.Tx(ctx, func(ctx context.Context) error {
			tctx, _, err := s.tenantCtx(ctx, o.TenantID)
			if err != nil {
				return err
			}
			return s.cancel(tctx, o, "expired", false)
		})
		switch {
		case err == nil:
			n++
		case errors.Is(err, apperr.Conflict("order_not_cancellable")):
			// Paid or cancelled meanwhile.
		default:
			return n, err
		}
	}
	return n, nil
}

// OrderQuery filters order lists.
type OrderQuery struct {
	store.PageRequest
	Status string `query:"status"`
	Source string `query:"client_source"`
	Number string `query:"number"`
	From   string `query:"from"` // YYYY-MM-DD, UTC, inclusive
	To     string `query:"to"`   // YYYY-MM-DD, UTC, inclusive
}

func (q *OrderQuery) validate() error {
	f := apperr.Fields{}
	switch q.Status {
	case "", OrderPendingPayment, OrderPaid, OrderFulfilled, OrderCompleted, OrderCancelled:
	default:
		f.Add("status", "invalid_choice", "Choices", "pending_payment, paid, fulfilled, completed, cancelled")
	}
	if q.Source != "" && !actor.ClientSource(q.Source).Valid() {
		f.Add("client_source", "invalid_choice", "Choices", "pc, mobile, app, applet")
	}
	if len(q.Number) > 32 {
		f.Add("number", "too_long", "Max", 32)
	}
	for _, d := range []struct{ field, v string }{{"from", q.From}, {"to", q.To}} {
		if _, err := time.Parse(time.DateOnly, d.v); d.v != "" && err != nil {
			f.Add(d.field, "invalid_date")
		}
	}
	return f.Err()
}

func (s *Service) listOrders(ctx context.Context, db *gorm.DB, q OrderQuery) (store.Page[OrderView], error) {
	if err := q.validate(); err != nil {
		return store.Page[OrderView]{}, err
	}
	if q.Status != "" {
		db = db.Where("status = ?", q.Status)
	}
	if q.Source != "" {
		db = db.Where("client_source = ?", q.Source)
	}
	if q.Number != "" {
		db = db.Where("number = ?", strings.ToUpper(strings.TrimSpace(q.Number)))
	}
	if t, err := time.Parse(time.DateOnly, q.From); err == nil {
		db = db.Where("created_at >= ?", t)
	}
	if t, err := time.Parse(time.DateOnly, q.To); err == nil {
		db = db.Where("created_at < ?", t.AddDate(0, 0, 1))
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return store.Page[OrderView]{}, apperr.Internal(err)
	}
	var os []Order
	if err := db.Scopes(q.PageRequest.Scope).Order("id DESC").Find(&os).Error; err != nil {
		return store.Page[OrderView]{}, apperr.Internal(err)
	}
	views, err := s.orderViews(ctx, os)
	if err != nil {
		return store.Page[OrderView]{}, err
	}
	return store.NewPage(views, total, q.PageRequest), nil
}

func (s *Service) orderViews(ctx context.Context, os []Order) ([]OrderView, error) {
	ids := make([]int64, len(os))
	tids := map[int64]bool{}
	for i, o := range os {
		ids[i] = o.ID
		tids[o.TenantID] = true
	}
	var ls []OrderLine
	if len(ids) > 0 {
		if err := s.db.R(ctx).Where("order_id IN ?", ids).Order("id").Find(&ls).Error; err != nil {
			return nil, apperr.Internal(err)
		}
	}
	byOrder := map[int64][]OrderLine{}
	for _, l := range ls {
		byOrder[l.OrderID] = append(byOrder[l.OrderID], l)
	}
	var pending []int64
	if len(ids) > 0 {
		if err := s.db.R(ctx).Model(&Payment{}).Where("order_id IN ? AND status = ?", ids, "pending").Pluck("order_id", &pending).Error; err != nil {
			return nil, apperr.Internal(err)
		}
	}
	tl := make([]int64, 0, len(tids))
	for id := range tids {
		tl = append(tl, id)
	}
	ts, err := s.tenants.ByIDs(ctx, tl)
	if err != nil {
		return nil, err
	}
	stores := map[int64]StoreRef{}
	for _, t := range ts {
		stores[t.ID] = StoreRef{Slug: t.Slug, Name: t.Name}
	}
	out := make([]OrderView, len(os))
	for i := range os {
		out[i] = s.orderView(&os[i], byOrder[os[i].ID], stores[os[i].TenantID])
		out[i].PaymentPending = os[i].Status == OrderPendingPayment && slices.Contains(pending, os[i].ID)
	}
	return out, nil
}

// MyOrders lists the caller's orders across every store, newest first.
// Signed-in shoppers. Errors: invalid_input.
func (s *Service) MyOrders(ctx context.Context, q OrderQuery) (store.Page[OrderView], error) {
	uid := actor.UserID(ctx)
	if uid == 0 {
		return store.Page[OrderView]{}, apperr.ErrUnauthorized
	}
	return s.listOrders(ctx, s.db.R(ctx).Model(&Order{}).Where("user_id = ?", uid), q)
}

// MyOrder returns one of the caller's orders. Errors: not_found.
func (s *Service) MyOrder(ctx context.Context, id int64) (*OrderView, error) {
	var o Order
	if err := s.db.R(ctx).Where("id = ? AND user_id = ?", id, actor.UserID(ctx)).Take(&o).Error; err != nil {
		return nil, store.Error(err, "order")
	}
	vs, err := s.orderViews(ctx, []Order{o})
	if err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// TenantOrders lists the orders of the tenant in ctx. Staff with mall:read.
func (s *Service) TenantOrders(ctx context.Context, q OrderQuery) (store.Page[OrderView], error) {
	return s.listOrders(ctx, s.db.R(ctx).Model(&Order{}).Scopes(tenants.Scope(ctx)), q)
}

// TenantOrder returns an order of the tenant in ctx. Errors: not_found.
func (s *Service) TenantOrder(ctx context.Context, id int64) (*OrderView, error) {
	var o Order
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Take(&o, id).Error; err != nil {
		return nil, store.Error(err, "order")
	}
	vs, err := s.orderViews(ctx, []Order{o})
	if err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// staffTransition runs fn on an order of the tenant in ctx in a transaction.
func (s *Service) staffTransition(ctx context.Context, id int64, fn func(ctx context.Context, o *Order) error) (*OrderView, error) {
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		var o Order
		if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Take(&o, id).Error; err != nil {
			return store.Error(err, "order")
		}
		return fn(ctx, &o)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return s.TenantOrder(ctx, id)
}

// StaffCancelOrder cancels an unpaid or paid (not yet fulfilled) order of
// the tenant in ctx; a paid one is flagged refund_due in its event. Staff
// with mall:write. Errors: not_found, order_not_cancellable.
func (s *Service) StaffCancelOrder(ctx context.Context, id int64) (*OrderView, error) {
	return s.staffTransition(ctx, id, func(ctx context.Context, o *Order) error { return s.cancel(ctx, o, "staff", true) })
}

// ConfirmOfflinePayment records that a bank transfer for an order arrived.
// Staff with finance:write. Errors: not_found, already_paid,
// order_cancelled, no_pending_transfer.
func (s *Service) ConfirmOfflinePayment(ctx context.Context, id int64) (*OrderView, error) {
	return s.staffTransition(ctx, id, func(ctx context.Context, o *Order) error {
		if err := pendingPayment(o); err != nil {
			return err
		}
		res := s.db.W(ctx).Model(&Payment{}).Where("order_id = ? AND method = ? AND status = ?", o.ID, MethodOffline, "pending").
			Update("status", "succeeded")
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.Conflict("no_pending_transfer")
		}
		lines, err := s.lines(ctx, o.ID)
		if err != nil {
			return err
		}
		return s.markPaid(ctx, o, lines, MethodOffline, "confirmed")
	})
}

// FulfilOrder marks a paid order shipped or provisioned, taking its goods
// out of stock. Staff with mall:write. Errors: not_found, order_not_paid.
func (s *Service) FulfilOrder(ctx context.Context, id int64) (*OrderView, error) {
	return s.staffTransition(ctx, id, func(ctx context.Context, o *Order) error {
		res := s.db.W(ctx).Model(&Order{}).Where("id = ? AND status = ?", o.ID, OrderPaid).Updates(map[string]any{"status": OrderFulfilled, "updated_at": s.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return apperr.Conflict("order_not_paid")
		}
		if err := s.stock.Commit(ctx, orderRef(o.ID)); err != nil {
			return err
		}
		o.Status = OrderFulfilled
		return s.db.Emit(ctx, o.TenantID, "order.fulfilled", orderEvent(o))
	})
}

// CompleteOrder closes a fulfilled order. Staff with mall:write.
// Errors: not_found, order_not_fulfilled.
func (s *Service) CompleteOrder(ctx context.Context, id int64) (*OrderView, error) {
	return s.staffTransition(ctx, id, func(ctx context.Context, o *Order) error {
		res := s.db.W(ctx).Model(&Order{}).Where("id = ? AND status = ?", o.ID, OrderFulfilled).Updates(map[string]any{"status": OrderCompleted, "updated_at": s.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return apperr.Conflict("order_not_fulfilled")
		}
		o.Status = OrderCompleted
		return s.db.Emit(ctx, o.TenantID, "order.completed", orderEvent(o))
	})
}
