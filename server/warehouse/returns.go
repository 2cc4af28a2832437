package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/tenants"
)

// ReturnInput books goods a customer sent back into a warehouse of the
// tenant: one line per SKU.
type ReturnInput struct {
	WarehouseID int64         `json:"warehouse_id"` // 0: the tenant's default warehouse
	Reason      string        `json:"reason"`       // why the goods came back, written on each move
	Ref         string        `json:"ref"`          // what they came back against, e.g. "order:123"
	Lines       []ReserveLine `json:"lines"`
}

// Returned is what Return posted: the warehouse the goods went into and
// one "return" move per SKU, in SKU order.
type Returned struct {
	Warehouse Warehouse   `json:"warehouse"`
	Moves     []StockMove `json:"moves"`
}

func (in *ReturnInput) validate() error {
	f := apperr.Fields{}
	in.Reason, in.Ref = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Ref)
	if in.WarehouseID < 0 {
		f.Add("warehouse_id", "invalid_id")
	}
	switch {
	case in.Reason == "":
		f.Add("reason", "required")
	case utf8.RuneCountInString(in.Reason) > MaxReasonLen:
		f.Add("reason", "too_long", "Max", MaxReasonLen)
	}
	switch {
	case in.Ref == "":
		f.Add("ref", "required")
	case len(in.Ref) > MaxOrderRefLen:
		f.Add("ref", "too_long", "Max", MaxOrderRefLen)
	}
	_ = checkSKULines(f, len(in.Lines), func(i int) (int64, int64) { return in.Lines[i].SKUID, in.Lines[i].Qty }, nil)
	return f.Err()
}

// Return books goods a customer sent back into in.WarehouseID (0: the
// default warehouse) of the tenant in ctx: per line, on_hand += qty and a
// "return" move with in.Reason, in.Ref and the actor from ctx, valued at the
// SKU's current moving-average cost (the goods come back into the
// valuation, whose average stays as it is). Levels are changed in SKU
// order, then the valuation rows (the package's lock order). It joins ctx's
// transaction, so a caller that fails after it leaves nothing written, and
// emits no event of its own (the caller's event says why the goods came
// back). The mall calls it when staff with warehouse write record a return
// of an order.
// Errors: invalid_input (warehouse_id: invalid_id, warehouse_closed;
// reason: required, too_long over MaxReasonLen characters; ref: required,
// too_long over MaxOrderRefLen bytes; lines: required, too_many;
// lines[i].sku_id: required, duplicate, not_found — not a goods SKU of this
// tenant; lines[i].qty: out_of_range), not_found with field warehouse_id
// (not a warehouse of this tenant), no_tenant_in_context, internal.
func (s *Service) Return(ctx context.Context, in ReturnInput) (*Returned, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if s.skus == nil {
		return nil, apperr.Internal(errors.New("warehouse: no SKUChecker configured"))
	}
	f := apperr.Fields{}
	for i, l := range in.Lines {
		goods, err := s.skus.GoodsSKU(ctx, l.SKUID)
		if err != nil {
			return nil, internal(err, "check sku")
		}
		if !goods {
			f.Add(fmt.Sprintf("lines[%d].sku_id", i), "not_found")
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	out := &Returned{}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		w, err := s.warehouse(ctx, in.WarehouseID)
		if err != nil {
			return err
		}
		if w.Status != WarehouseActive {
			return apperr.Invalid("warehouse_id", "warehouse_closed")
		}
		w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
		out.Warehouse = w
		now := s.nowUTC()
		tx := s.db.W(ctx)
		lines := sortedLines(in.Lines)
		for _, l := range lines {
			if err := s.ensureLevel(ctx, t.ID, w.ID, l.SKUID, now); err != nil {
				return err
			}
			res := tx.Model(&StockLevel{}).Scopes(tenants.Scope(ctx)).Where("warehouse_id = ? AND sku_id = ?", w.ID, l.SKUID).
				Updates(map[string]any{"on_hand": gorm.Expr("on_hand + ?", l.Qty), "updated_at": now})
			if res.Error != nil {
				return internal(res.Error, "return stock")
			}
			if res.RowsAffected != 1 {
				return apperr.Internal(fmt.Errorf("warehouse: no stock level of sku %d in warehouse %d to return into", l.SKUID, w.ID))
			}
		}
		uid := actor.UserID(ctx)
		out.Moves = make([]StockMove, 0, len(lines))
		for _, l := range lines {
			unit, err := s.revalue(ctx, t.ID, l.SKUID, l.Qty, nil)
			if err != nil {
				return err
			}
			out.Moves = append(out.Moves, StockMove{TenantID: t.ID, WarehouseID: w.ID, SKUID: l.SKUID, Kind: MoveReturn, DeltaOnHand: l.Qty,
				Reason: in.Reason, Ref: in.Ref, UnitCost: unit, ActorUserID: uid, CreatedAt: now})
		}
		if err := tx.Create(&out.Moves).Error; err != nil {
			return internal(err, "write stock moves")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
