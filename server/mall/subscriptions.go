package mall

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// RenewalLead is how long before a period ends its renewal order is raised.
const RenewalLead = 3 * 24 * time.Hour

func addInterval(t time.Time, interval string) time.Time {
	if interval == IntervalYear {
		return t.AddDate(1, 0, 0)
	}
	return t.AddDate(0, 1, 0)
}

func licenseKey() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	k := numEnc.EncodeToString(b) // 24 characters
	return "SM-" + k[0:6] + "-" + k[6:12] + "-" + k[12:18] + "-" + k[18:24]
}

// days is the number of whole days in d, the unit of proration.
func days(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(d / (24 * time.Hour))
}

// prorate is amount × the share of the current period left, to the day,
// rounded half-even (the one place proration is rounded).
func (s *Service) prorate(sub *Subscription, amount int64) int64 {
	total := days(sub.PeriodEnd.Sub(sub.PeriodStart))
	left := days(sub.PeriodEnd.Sub(s.now()))
	if total == 0 {
		return 0
	}
	return MulDivHalfEven(amount, min(left, total), total)
}

// onPaidSubscriptions starts subscriptions for the SaaS lines of a paid
// checkout, renews for a paid renewal, and applies a paid mid-period change.
func (s *Service) onPaidSubscriptions(ctx context.Context, o *Order, lines []OrderLine) error {
	now := s.now()
	switch o.Kind {
	case OrderKindCheckout:
		for _, l := range lines {
			if l.Kind != KindSaaS {
				continue
			}
			pl, err := s.planOf(ctx, l.SKUID, o.Currency)
			if err != nil {
				return err
			}
			sub := Subscription{TenantID: o.TenantID, UserID: o.UserID, ProductID: l.ProductID, SKUID: l.SKUID, Status: SubActive,
				Seats: l.Quantity, Currency: o.Currency, UnitAmount: pl.amount, Interval: pl.interval, PerSeat: pl.perSeat,
				PeriodStart: now, PeriodEnd: addInterval(now, pl.interval), LicenseKey: licenseKey(), ClientSource: o.ClientSource,
				CreatedAt: now, UpdatedAt: now}
			if pl.trialDays > 0 && pl.tier != TierFree {
				end := now.AddDate(0, 0, pl.trialDays)
				sub.Status, sub.PeriodEnd, sub.TrialEnd = SubTrialing, end, &end
			}
			if err := s.db.CreateLater(ctx, &sub); err != nil {
				return err
			}
			if err := s.db.Emit(ctx, o.TenantID, "subscription.created", subEvent(&sub)); err != nil {
				return err
			}
		}
	case OrderKindRenewal, OrderKindProration:
		if o.SubscriptionID == nil {
			return nil
		}
		var sub Subscription
		if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Take(&sub, *o.SubscriptionID).Error; err != nil {
			return err
		}
		upd := map[string]any{"updated_at": now}
		topic := "subscription.renewed"
		if o.Kind == OrderKindRenewal {
			start := sub.PeriodEnd
			upd["period_start"], upd["period_end"] = start, addInterval(start, sub.Interval)
			upd["status"], upd["renewal_order_id"], upd["credit"] = SubActive, nil, 0
		} else {
			topic = "subscription.updated"
			if sub.PendingSeats != nil {
				upd["seats"], upd["pending_seats"] = *sub.PendingSeats, nil
			}
			if sub.PendingSKUID != nil {
				if err := s.applyPlan(ctx, &sub, *sub.PendingSKUID, upd); err != nil {
					return err
				}
				upd["pending_sku_id"] = nil
			}
		}
		if err := s.db.W(ctx).Model(&Subscription{}).Where("id = ?", sub.ID).Updates(upd).Error; err != nil {
			return err
		}
		if err := s.db.W(ctx).Take(&sub, sub.ID).Error; err != nil {
			return err
		}
		return s.db.Emit(ctx, o.TenantID, topic, subEvent(&sub))
	}
	return nil
}

// plan is what a subscription takes from its SKU.
type plan struct {
	tier, interval string
	perSeat        bool
	trialDays      int
	amount         int64 // list price per period in the order's currency
}

// planOf reads a plan SKU's terms from the read model (the checkout priced
// it from there), or from the database when the read model no longer shows
// it (archived meanwhile).
func (s *Service) planOf(ctx context.Context, skuID int64, currency string) (plan, error) {
	if k, ok := s.Catalog.SKU(skuID); ok && k.Kind == KindSaaS {
		if amount, ok := k.Prices[currency]; ok {
			return plan{tier: k.Tier, interval: k.Interval, perSeat: k.PerSeat, trialDays: k.TrialDays, amount: amount}, nil
		}
	}
	var k SKU
	if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Take(&k, skuID).Error; err != nil {
		return plan{}, err
	}
	var p Price
	if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Where("sku_id = ? AND currency = ?", k.ID, currency).Take(&p).Error; err != nil {
		return plan{}, err
	}
	return plan{tier: k.PlanTier, interval: k.PlanInterval, perSeat: k.PlanPerSeat, trialDays: k.PlanTrialDays, amount: p.Amount}, nil
}

func (s *Service) applyPlan(ctx context.Context, sub *Subscription, skuID int64, upd map[string]any) error {
	var k SKU
	if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Take(&k, skuID).Error; err != nil {
		return err
	}
	var p Price
	if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Where("sku_id = ? AND currency = ?", k.ID, sub.Currency).Take(&p).Error; err != nil {
		return err
	}
	upd["sku_id"], upd["unit_amount"], upd["per_seat"], upd["interval"] = k.ID, p.Amount, k.PlanPerSeat, k.PlanInterval
	if !k.PlanPerSeat {
		upd["seats"] = 1
	}
	return nil
}

func subEvent(sub *Subscription) map[string]any {
	return map[string]any{"id": sub.ID, "status": sub.Status, "seats": sub.Seats, "sku_id": sub.SKUID,
		"current_period_end": sub.PeriodEnd.Format(time.RFC3339)}
}

// SubscriptionView is a subscription as its shopper sees it.
type SubscriptionView struct {
	Subscription
	ProductName string   `json:"product_name"`
	PlanName    string   `json:"plan_name"`
	Store       StoreRef `json:"store"`
	Price       Money    `json:"price"` // per seat (or flat) per interval
	Credit      Money    `json:"credit"`
}

// MySubscriptions lists the caller's subscriptions. Signed-in shoppers.
func (s *Service) MySubscriptions(ctx context.Context) ([]SubscriptionView, error) {
	uid := actor.UserID(ctx)
	if uid == 0 {
		return nil, apperr.ErrUnauthorized
	}
	var subs []Subscription
	if err := s.db.R(ctx).Where("user_id = ?", uid).Order("id DESC").Limit(500).Find(&subs).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return s.subViews(ctx, subs)
}

func (s *Service) subViews(ctx context.Context, subs []Subscription) ([]SubscriptionView, error) {
	out := make([]SubscriptionView, 0, len(subs))
	tids := map[int64]bool{}
	for _, sub := range subs {
		tids[sub.TenantID] = true
	}
	var tl []int64
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
	for _, sub := range subs {
		v := SubscriptionView{Subscription: sub, Store: stores[sub.TenantID],
			Price: Money{Amount: sub.UnitAmount, Currency: sub.Currency}, Credit: Money{Amount: sub.Credit, Currency: sub.Currency}}
		var row struct{ ProductName, PlanName string }
		s.db.R(ctx).Table("skus").Select("products.name AS product_name, skus.name AS plan_name").
			Joins("JOIN products ON products.id = skus.product_id").Where("skus.id = ?", sub.SKUID).Scan(&row)
		v.ProductName, v.PlanName = row.ProductName, row.PlanName
		out = append(out, v)
	}
	return out, nil
}

// SubscriptionChange is the answer to a seat or plan change: the
// subscription, and the order to pay when the change costs money now.
type SubscriptionChange struct {
	Subscription SubscriptionView `json:"subscription"`
	Order        *OrderView       `json:"order,omitempty"`
}

func (s *Service) ownSub(ctx context.Context, id int64) (*Subscription, error) {
	var sub Subscription
	if err := s.db.W(ctx).Where("id = ? AND user_id = ?", id, actor.UserID(ctx)).Take(&sub).Error; err != nil {
		return nil, store.Error(err, "subscription")
	}
	if sub.Status == SubCancelled {
		return nil, apperr.Conflict("subscription_cancelled")
	}
	return &sub, nil
}

// changeOrder raises a proration order of amount (before tax) for sub.
func (s *Service) changeOrder(ctx context.Context, sub *Subscription, amount int64, name string) (*Order, []OrderLine, error) {
	ts, err := s.tenants.ByIDs(ctx, []int64{sub.TenantID})
	if err != nil || len(ts) == 0 {
		return nil, nil, apperr.Internal(errors.New("tenant missing"))
	}
	t := ts[0]
	now := s.now()
	exp := now.Add(s.cfg.ReservationTTL)
	o := &Order{TenantID: sub.TenantID, UserID: sub.UserID, Number: s.orderNumber(), Kind: OrderKindProration, Status: OrderPendingPayment,
		Currency: sub.Currency, Subtotal: amount, TaxRateBP: t.TaxRateBP, ClientSource: string(actor.Source(ctx)),
		SubscriptionID: &sub.ID, ExpiresAt: &exp, CreatedAt: now, UpdatedAt: now}
	o.Tax = MulDivHalfEven(amount, int64(t.TaxRateBP), 10_000)
	o.Total = o.Subtotal + o.Tax
	if err := s.db.W(ctx).Create(o).Error; err != nil {
		return nil, nil, err
	}
	l := []OrderLine{{OrderID: o.ID, TenantID: o.TenantID, ProductID: sub.ProductID, SKUID: sub.SKUID, Kind: KindSaaS, Name: name, Quantity: 1, UnitPrice: amount, Amount: amount}}
	if err := s.db.W(ctx).Create(&l).Error; err != nil {
		return nil, nil, err
	}
	return o, l, s.db.Emit(ctx, o.TenantID, "order.created", orderEvent(o))
}

func (s *Service) changeResult(ctx context.Context, id int64, o *Order, lines []OrderLine) (*SubscriptionChange, error) {
	var sub Subscription
	if err := s.db.R(ctx).Take(&sub, id).Error; err != nil {
		return nil, store.Error(err, "subscription")
	}
	vs, err := s.subViews(ctx, []Subscription{sub})
	if err != nil {
		return nil, err
	}
	out := &SubscriptionChange{Subscription: vs[0]}
	if o != nil {
		v := s.orderView(o, lines, vs[0].Store)
		out.Order = &v
	}
	return out, nil
}

// ChangeSeats sets the seats of one of the caller's per-seat subscriptions.
// More seats cost the price of the extra seats for the rest of the period,
// prorated to the day: an order to pay, after which the seats apply (during
// a trial they apply at once, free). Fewer seats apply at once and the
// unused part is credited to the next renewal. Errors: not_found,
// subscription_cancelled, not_per_seat, invalid_input, change_pending.
func (s *Service) ChangeSeats(ctx context.Context, id, seats int64) (*SubscriptionChange, error) {
	if seats < 1 || seats > 10_000 {
		return nil, apperr.Invalid("seats", "out_of_range", "Min", 1, "Max", 10_000)
	}
	var o *Order
	var lines []OrderLine
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		sub, err := s.ownSub(ctx, id)
		if err != nil {
			return err
		}
		if !sub.PerSeat {
			return apperr.Conflict("not_per_seat")
		}
		if sub.PendingSeats != nil || sub.PendingSKUID != nil {
			return apperr.Conflict("change_pending")
		}
		delta := seats - sub.Seats
		upd := map[string]any{"updated_at": s.now()}
		switch {
		case delta == 0:
			return nil
		case sub.Status == SubTrialing || delta < 0:
			upd["seats"] = seats
			if delta < 0 && sub.Status != SubTrialing {
				upd["credit"] = sub.Credit + s.prorate(sub, sub.UnitAmount*(-delta))
			}
		default:
			amount := s.prorate(sub, sub.UnitAmount*delta)
			if amount == 0 {
				upd["seats"] = seats
				break
			}
			o, lines, err = s.changeOrder(ctx, sub, amount, "+"+itoa(delta)+" seats")
			if err != nil {
				return err
			}
			upd["pending_seats"] = seats
		}
		if err := s.db.W(ctx).Model(&Subscription{}).Where("id = ?", sub.ID).Updates(upd).Error; err != nil {
			return err
		}
		return s.db.Emit(ctx, sub.TenantID, "subscription.seats_changed", map[string]any{"id": sub.ID, "from": sub.Seats, "to": seats})
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return s.changeResult(ctx, id, o, lines)
}

// SwitchPlan moves one of the caller's subscriptions to another plan of the
// same product. The unused part of the old plan is credited and the new plan
// charged for the rest of the period, both prorated to the day; a positive
// difference is an order to pay, after which the plan switches.
// Errors: not_found, subscription_cancelled, invalid_input (sku_id),
// change_pending.
func (s *Service) SwitchPlan(ctx context.Context, id, skuID int64) (*SubscriptionChange, error) {
	var o *Order
	var lines []OrderLine
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		sub, err := s.ownSub(ctx, id)
		if err != nil {
			return err
		}
		if sub.PendingSeats != nil || sub.PendingSKUID != nil {
			return apperr.Conflict("change_pending")
		}
		k, ok := s.Catalog.SKU(skuID)
		if !ok || k.ProductID != sub.ProductID || k.Kind != KindSaaS {
			return apperr.Invalid("sku_id", "not_a_plan_of_product")
		}
		if k.ID == sub.SKUID {
			return apperr.Invalid("sku_id", "same_plan")
		}
		price, ok := k.Prices[sub.Currency]
		if !ok {
			return apperr.Invalid("sku_id", "no_price_in_currency", "Currency", sub.Currency)
		}
		newSeats := sub.Seats
		if !k.PerSeat {
			newSeats = 1
		}
		upd := map[string]any{"updated_at": s.now()}
		net := s.prorate(sub, price*newSeats) - s.prorate(sub, sub.UnitAmount*sub.Seats)
		if sub.Status == SubTrialing {
			net = 0
		}
		if net > 0 {
			if o, lines, err = s.changeOrder(ctx, sub, net, "switch to "+k.Name); err != nil {
				return err
			}
			upd["pending_sku_id"] = k.ID
		} else {
			tctx, _, err := s.tenantCtx(ctx, sub.TenantID)
			if err != nil {
				return err
			}
			if err := s.applyPlan(tctx, sub, k.ID, upd); err != nil {
				return err
			}
			upd["credit"] = sub.Credit - net
		}
		if err := s.db.W(ctx).Model(&Subscription{}).Where("id = ?", sub.ID).Updates(upd).Error; err != nil {
			return err
		}
		return s.db.Emit(ctx, sub.TenantID, "subscription.plan_changed", map[string]any{"id": sub.ID, "from": sub.SKUID, "to": k.ID})
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return s.changeResult(ctx, id, o, lines)
}

// CancelSubscription ends one of the caller's subscriptions at the end of
// its current period (it stays usable until then). Errors: not_found,
// subscription_cancelled.
func (s *Service) CancelSubscription(ctx context.Context, id int64) (*SubscriptionChange, error) {
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		sub, err := s.ownSub(ctx, id)
		if err != nil {
			return err
		}
		if err := s.db.W(ctx).Model(&Subscription{}).Where("id = ?", sub.ID).
			Updates(map[string]any{"cancel_at_period_end": true, "updated_at": s.now()}).Error; err != nil {
			return err
		}
		// An unpaid renewal for a period that will not come is cancelled.
		if sub.RenewalOrderID != nil {
			var o Order
			if err := s.db.W(ctx).Take(&o, *sub.RenewalOrderID).Error; err == nil && o.Status == OrderPendingPayment {
				tctx, _, err := s.tenantCtx(ctx, o.TenantID)
				if err != nil {
					return err
				}
				if err := s.cancel(tctx, &o, "subscription_cancelled", false); err != nil {
					return err
				}
			}
		}
		return s.db.Emit(ctx, sub.TenantID, "subscription.cancel_scheduled", map[string]any{"id": sub.ID, "at": sub.PeriodEnd.Format(time.RFC3339)})
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return s.changeResult(ctx, id, nil, nil)
}

// RenewSubscriptions is the renewal job: it raises each period's renewal
// order RenewalLead before the period ends (paid at once when nothing is
// due), ends subscriptions cancelled at period end, and marks unpaid ones
// past due when their period ends. It returns how many subscriptions it
// touched.
func (s *Service) RenewSubscriptions(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	// End those cancelled at period end.
	var ending []Subscription
	if err := s.db.R(ctx).Where("cancel_at_period_end = ? AND status <> ? AND period_end <= ?", true, SubCancelled, now).Limit(500).Find(&ending).Error; err != nil {
		return 0, err
	}
	for _, sub := range ending {
		err := s.db.Tx(ctx, func(ctx context.Context) error {
			res := s.db.W(ctx).Model(&Subscription{}).Where("id = ? AND status <> ?", sub.ID, SubCancelled).
				Updates(map[string]any{"status": SubCancelled, "cancelled_at": now, "updated_at": now})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			sub.Status = SubCancelled
			return s.db.Emit(ctx, sub.TenantID, "subscription.cancelled", subEvent(&sub))
		})
		if err != nil {
			return n, err
		}
		n++
	}
	// Raise renewal orders.
	var due []Subscription
	if err := s.db.R(ctx).Where("status IN ? AND cancel_at_period_end = ? AND renewal_order_id IS NULL AND period_end <= ?",
		[]string{SubTrialing, SubActive}, false, now.Add(RenewalLead)).Limit(500).Find(&due).Error; err != nil {
		return n, err
	}
	for i := range due {
		sub := &due[i]
		err := s.db.Tx(ctx, func(ctx context.Context) error {
			tctx, t, err := s.tenantCtx(ctx, sub.TenantID)
			if err != nil {
				return err
			}
			amount := max(sub.UnitAmount*sub.Seats-sub.Credit, 0)
			exp := sub.PeriodEnd.Add(7 * 24 * time.Hour) // grace period
			o := &Order{TenantID: sub.TenantID, UserID: sub.UserID, Number: s.orderNumber(), Kind: OrderKindRenewal, Status: OrderPendingPayment,
				Currency: sub.Currency, Subtotal: amount, TaxRateBP: t.TaxRateBP, ClientSource: sub.ClientSource, SubscriptionID: &sub.ID,
				ExpiresAt: &exp, CreatedAt: now, UpdatedAt: now}
			o.Tax = MulDivHalfEven(amount, int64(t.TaxRateBP), 10_000)
			o.Total = o.Subtotal + o.Tax
			if err := s.db.W(ctx).Create(o).Error; err != nil {
				return err
			}
			var name string
			s.db.W(ctx).Model(&SKU{}).Where("id = ?", sub.SKUID).Pluck("name", &name)
			lines := []OrderLine{{OrderID: o.ID, TenantID: o.TenantID, ProductID: sub.ProductID, SKUID: sub.SKUID, Kind: KindSaaS,
				Name: strings.TrimSpace(name + " renewal"), Quantity: sub.Seats, UnitPrice: sub.UnitAmount, Amount: sub.UnitAmount * sub.Seats}}
			if sub.Credit > 0 {
				lines = append(lines, OrderLine{OrderID: o.ID, TenantID: o.TenantID, ProductID: sub.ProductID, SKUID: sub.SKUID, Kind: KindSaaS,
					Name: "credit", Quantity: 1, UnitPrice: -min(sub.Credit, sub.UnitAmount*sub.Seats), Amount: -min(sub.Credit, sub.UnitAmount*sub.Seats)})
			}
			if err := s.db.W(ctx).Create(&lines).Error; err != nil {
				return err
			}
			if err := s.db.W(ctx).Model(&Subscription{}).Where("id = ?", sub.ID).Updates(map[string]any{"renewal_order_id": o.ID, "updated_at": now}).Error; err != nil {
				return err
			}
			if err := s.db.Emit(ctx, o.TenantID, "order.created", orderEvent(o)); err != nil {
				return err
			}
			if o.Total == 0 {
				return s.markPaid(tctx, o, lines, "free", "")
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n++
	}
	// Past due: the period ended with its renewal unpaid.
	res := s.db.W(ctx).Model(&Subscription{}).Where("status IN ? AND renewal_order_id IS NOT NULL AND period_end <= ?",
		[]string{SubTrialing, SubActive}, now).Updates(map[string]any{"status": SubPastDue, "updated_at": now})
	if res.Error != nil {
		return n, res.Error
	}
	return n + int(res.RowsAffected), nil
}

// onOrderCancelled ends the subscription whose renewal was never paid.
func (s *Service) onOrderCancelled(ctx context.Context, o *Order) error {
	if o.Kind == OrderKindRenewal && o.SubscriptionID != nil {
		now := s.now()
		return s.db.W(ctx).Model(&Subscription{}).Where("id = ? AND status <> ?", *o.SubscriptionID, SubCancelled).
			Updates(map[string]any{"status": SubCancelled, "cancelled_at": now, "renewal_order_id": nil, "updated_at": now}).Error
	}
	if o.Kind == OrderKindProration && o.SubscriptionID != nil {
		return s.db.W(ctx).Model(&Subscription{}).Where("id = ?", *o.SubscriptionID).
			Updates(map[string]any{"pending_seats": nil, "pending_sku_id": nil}).Error
	}
	return nil
}
