package mall

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// Customer returns of goods. A return is recorded against a fulfilled or
// completed order: some units of its goods lines come back into a warehouse
// (warehouse "return" moves, ref "order:<id>"), and the refund due is
// raised for finance in the "goods.returned" event. Returns live in their
// own tables (order_returns, order_return_lines), never on order_lines,
// which the checkout writes.
//
// The refund due of a return is its goods (unit price × quantity, summed)
// plus their share of the order's tax: tax(returned so far, this return
// included) − tax(returned before), where tax(x) = x × order tax / order
// subtotal rounded half to even (MulDivHalfEven). Taken cumulatively, the
// returns of a whole order refund exactly its tax. Shipping is not refunded.

// CodeOrderNotReturnable is the conflict for a return of an order that is
// not fulfilled or completed.
const CodeOrderNotReturnable = "order_not_returnable"

// Limits of a return.
const (
	MaxReturnLines     = 500
	MaxReturnReasonLen = warehouse.MaxReasonLen // characters
)

// OrderReturn is goods a customer sent back against an order.
type OrderReturn struct {
	ID          int64
	TenantID    int64
	OrderID     int64
	WarehouseID int64
	Reason      string
	Currency    string
	Subtotal    int64 // goods returned, at their order prices
	Tax         int64 // their share of the order's tax
	ActorUserID int64
	CreatedAt   time.Time
}

// TableName is the returns table.
func (OrderReturn) TableName() string { return "order_returns" }

// OrderReturnLine is the units of one order line a return took back.
type OrderReturnLine struct {
	ID          int64
	TenantID    int64
	ReturnID    int64
	OrderID     int64
	OrderLineID int64
	SKUID       int64 `gorm:"column:sku_id"`
	Quantity    int64
	UnitPrice   int64
	Amount      int64
}

// TableName is the return lines table.
func (OrderReturnLine) TableName() string { return "order_return_lines" }

func returnsMigration() *store.Migration {
	// The schema as of this migration, frozen apart from the models.
	type orderReturn struct {
		ID          int64     `gorm:"primaryKey"`
		TenantID    int64     `gorm:"not null;index:ix_order_returns_order,priority:1"`
		OrderID     int64     `gorm:"not null;index:ix_order_returns_order,priority:2"`
		WarehouseID int64     `gorm:"not null"`
		Reason      string    `gorm:"size:200;not null"`
		Currency    string    `gorm:"size:3;not null"`
		Subtotal    int64     `gorm:"not null;check:chk_order_returns_subtotal,subtotal >= 0"`
		Tax         int64     `gorm:"not null"`
		ActorUserID int64     `gorm:"not null;default:0"`
		CreatedAt   time.Time `gorm:"not null"`
	}
	type orderReturnLine struct {
		ID          int64 `gorm:"primaryKey"`
		TenantID    int64 `gorm:"not null;index:ix_order_return_lines_order,priority:1"`
		ReturnID    int64 `gorm:"not null;index"`
		OrderID     int64 `gorm:"not null;index:ix_order_return_lines_order,priority:2"`
		OrderLineID int64 `gorm:"not null"`
		SKUID       int64 `gorm:"column:sku_id;not null"`
		Quantity    int64 `gorm:"not null;check:chk_order_return_lines_qty,quantity > 0"`
		UnitPrice   int64 `gorm:"not null"`
		Amount      int64 `gorm:"not null"`
	}
	return &store.Migration{
		ID: "202611260900_mall_order_returns",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("order_returns").AutoMigrate(&orderReturn{}); err != nil {
				return err
			}
			return tx.Table("order_return_lines").AutoMigrate(&orderReturnLine{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable("order_return_lines", "order_returns")
		},
	}
}

// ReturnInput records a return of goods of an order.
type ReturnInput struct {
	WarehouseID int64             `json:"warehouse_id"` // where the goods go back; 0: the default warehouse
	Reason      string            `json:"reason"`
	Lines       []ReturnLineInput `json:"lines"`
}

// ReturnLineInput is the units of one goods line of the order coming back.
type ReturnLineInput struct {
	LineID   int64 `json:"line_id"`
	Quantity int64 `json:"quantity"`
}

// ReturnView is a return as staff see it.
type ReturnView struct {
	ID          int64            `json:"id"`
	OrderID     int64            `json:"order_id"`
	WarehouseID int64            `json:"warehouse_id"`
	Reason      string           `json:"reason"`
	Lines       []ReturnLineView `json:"lines"`
	Subtotal    Money            `json:"subtotal"`   // the goods at their order prices
	Tax         Money            `json:"tax"`        // their share of the order's tax
	RefundDue   Money            `json:"refund_due"` // subtotal + tax
	ActorUserID int64            `json:"actor_user_id"`
	CreatedAt   time.Time        `json:"created_at"`
}

// ReturnLineView is one line of a return.
type ReturnLineView struct {
	LineID    int64  `json:"line_id"`
	SKUID     int64  `json:"sku_id"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
	Amount    Money  `json:"amount"`
}

// ReturnList is an order's returns, oldest first.
type ReturnList struct {
	Items []ReturnView `json:"items"`
}

// GoodsReturnedEvent is the payload of the outbox event "goods.returned":
// finance refunds RefundDue.
type GoodsReturnedEvent struct {
	ReturnID    int64            `json:"return_id"`
	OrderID     int64            `json:"order_id"`
	OrderNumber string           `json:"order_number"`
	WarehouseID int64            `json:"warehouse_id"`
	Reason      string           `json:"reason"`
	Lines       []ReturnLineView `json:"lines"`
	Subtotal    Money            `json:"subtotal"`
	Tax         Money            `json:"tax"`
	RefundDue   Money            `json:"refund_due"`
	ActorUserID int64            `json:"actor_user_id"`
	CreatedAt   time.Time        `json:"created_at"`
}

func (in *ReturnInput) validate() error {
	f := apperr.Fields{}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.WarehouseID < 0 {
		f.Add("warehouse_id", "invalid_id")
	}
	switch {
	case in.Reason == "":
		f.Add("reason", "required")
	case utf8.RuneCountInString(in.Reason) > MaxReturnReasonLen:
		f.Add("reason", "too_long", "Max", MaxReturnReasonLen)
	}
	switch {
	case len(in.Lines) == 0:
		f.Add("lines", "required")
	case len(in.Lines) > MaxReturnLines:
		f.Add("lines", "too_many", "Max", MaxReturnLines)
	}
	seen := make(map[int64]bool, len(in.Lines))
	for i, l := range in.Lines {
		p := fmt.Sprintf("lines[%d]", i)
		switch {
		case l.LineID <= 0:
			f.Add(p+".line_id", "required")
		case seen[l.LineID]:
			f.Add(p+".line_id", "duplicate")
		}
		seen[l.LineID] = true
		if l.Quantity <= 0 {
			f.Add(p+".quantity", "must_be_positive")
		}
	}
	return f.Err()
}

// returnable reports whether an order in status may take returns.
func returnable(status string) bool { return status == OrderFulfilled || status == OrderCompleted }

// RecordReturn records that a customer sent back goods of order id of the
// tenant in ctx: the return and its lines, "return" stock moves into
// in.WarehouseID (ref "order:<id>", valued at the moving average), the
// read model's availability, and the event "goods.returned" with the refund
// due, all in one transaction: on any error nothing is written. The order
// row is locked (FOR UPDATE on PostgreSQL; SQLite's one writer serializes)
// before what is still returnable is computed, so concurrent returns never
// take back more than a line sold. Staff with warehouse:write (the goods
// come back into stock).
// Errors: invalid_input (warehouse_id: invalid_id, warehouse_closed;
// reason: required, too_long; lines: required, too_many; lines[i].line_id:
// required, duplicate, not_in_order, not_goods; lines[i].quantity:
// must_be_positive, fully_returned, out_of_range with Min 1 and Max the
// units still returnable), not_found (the order: missing or another
// tenant's; or, with field warehouse_id, the warehouse), conflict
// order_not_returnable (not fulfilled or completed), no_tenant_in_context,
// internal.
func (s *Service) RecordReturn(ctx context.Context, orderID int64, in ReturnInput) (*ReturnView, error) {
	t := tenants.From(ctx)
	if t == nil || t.ID == 0 {
		return nil, tenants.ErrNoTenant
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var view *ReturnView
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		var o Order
		q := s.db.W(ctx).Scopes(tenants.Scope(ctx))
		if s.db.Dialect == store.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Where("id = ?", orderID).Take(&o).Error; err != nil {
			return store.Error(err, "order")
		}
		if !returnable(o.Status) {
			e := apperr.Conflict(CodeOrderNotReturnable)
			e.Args = map[string]any{"Status": o.Status}
			return e
		}
		lines, err := s.lines(ctx, o.ID)
		if err != nil {
			return err
		}
		byID := make(map[int64]OrderLine, len(lines))
		for _, l := range lines {
			byID[l.ID] = l
		}
		done, err := s.returned(ctx, o.ID)
		if err != nil {
			return err
		}
		f := apperr.Fields{}
		for i, r := range in.Lines {
			p := fmt.Sprintf("lines[%d]", i)
			l, ok := byID[r.LineID]
			switch {
			case !ok:
				f.Add(p+".line_id", "not_in_order")
				continue
			case l.Kind != KindGoods:
				f.Add(p+".line_id", "not_goods")
				continue
			}
			switch left := l.Quantity - done[l.ID].qty; {
			case left <= 0:
				f.Add(p+".quantity", "fully_returned")
			case r.Quantity > left:
				f.Add(p+".quantity", "out_of_range", "Min", 1, "Max", left)
			}
		}
		if err := f.Err(); err != nil {
			return err
		}

		// The goods go back into stock first: the warehouse resolves the
		// default warehouse and refuses a closed one.
		perSKU := map[int64]int64{}
		var skus []int64
		for _, r := range in.Lines {
			sku := byID[r.LineID].SKUID
			if _, ok := perSKU[sku]; !ok {
				skus = append(skus, sku)
			}
			perSKU[sku] += r.Quantity
		}
		back := make([]warehouse.ReserveLine, len(skus))
		for i, sku := range skus {
			back[i] = warehouse.ReserveLine{SKUID: sku, Qty: perSKU[sku]}
		}
		got, err := s.stock.Return(ctx, warehouse.ReturnInput{WarehouseID: in.WarehouseID, Reason: in.Reason, Ref: orderRef(o.ID), Lines: back})
		if err != nil {
			return err
		}

		var before int64 // goods returned before, at their order prices
		for _, d := range done {
			before += d.amount
		}
		ret := OrderReturn{TenantID: o.TenantID, OrderID: o.ID, WarehouseID: got.Warehouse.ID, Reason: in.Reason, Currency: o.Currency,
			ActorUserID: actor.UserID(ctx), CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
		rls := make([]OrderReturnLine, len(in.Lines))
		for i, r := range in.Lines {
			l := byID[r.LineID]
			rls[i] = OrderReturnLine{TenantID: o.TenantID, OrderID: o.ID, OrderLineID: l.ID, SKUID: l.SKUID, Quantity: r.Quantity,
				UnitPrice: l.UnitPrice, Amount: l.UnitPrice * r.Quantity}
			ret.Subtotal += rls[i].Amount
		}
		ret.Tax = taxShare(&o, before+ret.Subtotal) - taxShare(&o, before)
		if err := s.db.W(ctx).Create(&ret).Error; err != nil {
			return err
		}
		for i := range rls {
			rls[i].ReturnID = ret.ID
		}
		if err := s.db.W(ctx).Create(&rls).Error; err != nil {
			return err
		}
		// Shoppers see the goods in stock again.
		touched := map[int64]bool{}
		for _, r := range in.Lines {
			if p := byID[r.LineID].ProductID; !touched[p] {
				touched[p] = true
				if err := s.touch(ctx, o.TenantID, p); err != nil {
					return err
				}
			}
		}
		v := returnView(&ret, rls, byID)
		view = &v
		return s.db.Emit(ctx, o.TenantID, "goods.returned", GoodsReturnedEvent{ReturnID: v.ID, OrderID: o.ID, OrderNumber: o.Number,
			WarehouseID: v.WarehouseID, Reason: v.Reason, Lines: v.Lines, Subtotal: v.Subtotal, Tax: v.Tax, RefundDue: v.RefundDue,
			ActorUserID: v.ActorUserID, CreatedAt: v.CreatedAt})
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return view, nil
}

// taxShare is goods' share of o's tax: amount × tax / subtotal, rounded
// half to even.
func taxShare(o *Order, amount int64) int64 {
	if o.Subtotal <= 0 || o.Tax == 0 {
		return 0
	}
	return MulDivHalfEven(amount, o.Tax, o.Subtotal)
}

type returnedSum struct {
	qty, amount int64
}

// returned sums, per order line, what the returns of order orderID of the
// tenant in ctx took back (one query).
func (s *Service) returned(ctx context.Context, orderID int64) (map[int64]returnedSum, error) {
	var rows []struct {
		OrderLineID int64
		Qty         int64
		Amount      int64
	}
	if err := s.db.R(ctx).Model(&OrderReturnLine{}).Scopes(tenants.Scope(ctx)).Where("order_id = ?", orderID).
		Select("order_line_id, CAST(SUM(quantity) AS BIGINT) AS qty, CAST(SUM(amount) AS BIGINT) AS amount").
		Group("order_line_id").Scan(&rows).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := make(map[int64]returnedSum, len(rows))
	for _, r := range rows {
		out[r.OrderLineID] = returnedSum{qty: r.Qty, amount: r.Amount}
	}
	return out, nil
}

func returnView(r *OrderReturn, rls []OrderReturnLine, lines map[int64]OrderLine) ReturnView {
	m := func(a int64) Money { return Money{Amount: a, Currency: r.Currency} }
	v := ReturnView{ID: r.ID, OrderID: r.OrderID, WarehouseID: r.WarehouseID, Reason: r.Reason, Lines: make([]ReturnLineView, len(rls)),
		Subtotal: m(r.Subtotal), Tax: m(r.Tax), RefundDue: m(r.Subtotal + r.Tax), ActorUserID: r.ActorUserID, CreatedAt: r.CreatedAt.UTC()}
	for i, l := range rls {
		v.Lines[i] = ReturnLineView{LineID: l.OrderLineID, SKUID: l.SKUID, Name: lines[l.OrderLineID].Name, Quantity: l.Quantity,
			UnitPrice: m(l.UnitPrice), Amount: m(l.Amount)}
	}
	return v
}

// OrderReturns lists the returns of order id of the tenant in ctx, oldest
// first. Staff with mall:read.
// Errors: not_found (the order), no_tenant_in_context, internal.
func (s *Service) OrderReturns(ctx context.Context, id int64) (*ReturnList, error) {
	if t := tenants.From(ctx); t == nil || t.ID == 0 {
		return nil, tenants.ErrNoTenant
	}
	var o Order
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Select("id").Where("id = ?", id).Take(&o).Error; err != nil {
		return nil, store.Error(err, "order")
	}
	var rs []OrderReturn
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("order_id = ?", id).Order("id").Find(&rs).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := &ReturnList{Items: make([]ReturnView, 0, len(rs))}
	if len(rs) == 0 {
		return out, nil
	}
	var rls []OrderReturnLine
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("order_id = ?", id).Order("return_id, id").Find(&rls).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	lines, err := s.lines(ctx, id)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	byID := make(map[int64]OrderLine, len(lines))
	for _, l := range lines {
		byID[l.ID] = l
	}
	byReturn := map[int64][]OrderReturnLine{}
	for _, l := range rls {
		byReturn[l.ReturnID] = append(byReturn[l.ReturnID], l)
	}
	for i := range rs {
		out.Items = append(out.Items, returnView(&rs[i], byReturn[rs[i].ID], byID))
	}
	return out, nil
}

// StaffOrderView is an order as its store's staff see it: each line with
// the units returned so far.
type StaffOrderView struct {
	OrderView
	Lines []StaffLineView `json:"lines"`
}

// StaffLineView is an order line with the units customers sent back.
type StaffLineView struct {
	LineView
	QuantityReturned int64 `json:"quantity_returned"`
}

// StaffOrder returns an order of the tenant in ctx with the units returned
// per line (one more query than TenantOrder). Staff with mall:read.
// Errors: not_found, internal.
func (s *Service) StaffOrder(ctx context.Context, id int64) (*StaffOrderView, error) {
	o, err := s.TenantOrder(ctx, id)
	if err != nil {
		return nil, err
	}
	done, err := s.returned(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &StaffOrderView{OrderView: *o, Lines: make([]StaffLineView, len(o.Lines))}
	for i, l := range o.Lines {
		v.Lines[i] = StaffLineView{LineView: l, QuantityReturned: done[l.ID].qty}
	}
	return v, nil
}
