package warehouse

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// ReorderRule keeps one SKU stocked in one warehouse: when its projected
// stock falls below Min, replenishment drafts a purchase order up to Max.
type ReorderRule struct {
	ID                  int64     `gorm:"primaryKey" json:"id"`
	TenantID            int64     `json:"-"`
	SKUID               int64     `gorm:"column:sku_id" json:"sku_id"`
	WarehouseID         int64     `json:"warehouse_id"`
	MinQty              int64     `json:"min_qty"`
	MaxQty              int64     `json:"max_qty"`
	OrderMultiple       int64     `json:"order_multiple"`
	PreferredSupplierID *int64    `json:"preferred_supplier_id"`
	Active              bool      `json:"active"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// TableName is the reorder rules table.
func (ReorderRule) TableName() string { return "reorder_rules" }

// ReorderRuleInput creates or replaces the rule of (SKU, warehouse).
type ReorderRuleInput struct {
	SKUID               int64  `json:"sku_id"`
	WarehouseID         int64  `json:"warehouse_id"` // 0: the default warehouse
	MinQty              int64  `json:"min_qty"`
	MaxQty              int64  `json:"max_qty"`
	OrderMultiple       int64  `json:"order_multiple"` // 0: 1
	PreferredSupplierID *int64 `json:"preferred_supplier_id"`
	Active              *bool  `json:"active"`
}

// Proposal is one line replenishment proposed (or could not), and why.
type Proposal struct {
	RuleID      int64  `json:"rule_id"`
	SKUID       int64  `json:"sku_id"`
	WarehouseID int64  `json:"warehouse_id"`
	OnHand      int64  `json:"on_hand"`
	Reserved    int64  `json:"reserved"`
	Incoming    int64  `json:"incoming"`   // still to come on open purchase orders
	InTransit   int64  `json:"in_transit"` // on transfers to the warehouse
	Projected   int64  `json:"projected"`
	MinQty      int64  `json:"min_qty"`
	MaxQty      int64  `json:"max_qty"`
	Qty         int64  `json:"qty"` // ordered; 0 when skipped
	SupplierID  int64  `json:"supplier_id,omitempty"`
	OrderID     int64  `json:"purchase_order_id,omitempty"`
	Skipped     string `json:"skipped,omitempty"` // no_supplier, needs_exchange_rate
	Reason      string `json:"reason"`
}

// ReplenishmentRun is what one run of replenishment did for a tenant.
type ReplenishmentRun struct {
	Proposals []Proposal `json:"proposals"`
	Orders    []int64    `json:"purchase_orders"` // drafted
}

func reorderMigration() *store.Migration {
	type reorderRule struct {
		ID                  int64 `gorm:"primaryKey"`
		TenantID            int64 `gorm:"not null;index"`
		SKUID               int64 `gorm:"column:sku_id;not null;uniqueIndex:ux_reorder_rules,priority:2"`
		WarehouseID         int64 `gorm:"not null;uniqueIndex:ux_reorder_rules,priority:1"`
		MinQty              int64 `gorm:"not null;check:chk_reorder_rules_min,min_qty >= 0"`
		MaxQty              int64 `gorm:"not null;check:chk_reorder_rules_max,max_qty >= min_qty"`
		OrderMultiple       int64 `gorm:"not null;default:1;check:chk_reorder_rules_multiple,order_multiple >= 1"`
		PreferredSupplierID *int64
		Active              bool `gorm:"not null;default:true"`
		UpdatedAt           time.Time
	}
	return &store.Migration{
		ID:      "202611250056_reorder_rules",
		Migrate: func(tx *gorm.DB) error { return tx.Table("reorder_rules").AutoMigrate(&reorderRule{}) },
	}
}

// SetReorderRule creates or replaces the reorder rule of a SKU in a
// warehouse of the tenant in ctx. Staff with warehouse write.
// Errors: invalid_input (sku_id: required, not_found; warehouse_id:
// not_found; min_qty: out_of_range; max_qty: less_than_min;
// order_multiple: out_of_range; preferred_supplier_id: not_found),
// internal.
func (s *Service) SetReorderRule(ctx context.Context, in ReorderRuleInput) (*ReorderRule, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if in.OrderMultiple == 0 {
		in.OrderMultiple = 1
	}
	f := apperr.Fields{}
	if in.SKUID <= 0 {
		f.Add("sku_id", "required")
	} else if goods, err := s.skus.GoodsSKU(ctx, in.SKUID); err != nil {
		return nil, internal(err, "check sku")
	} else if !goods {
		f.Add("sku_id", "not_found")
	}
	if in.MinQty < 0 || in.MinQty > MaxDelta {
		f.Add("min_qty", "out_of_range", "Min", 0, "Max", MaxDelta)
	}
	if in.MaxQty < in.MinQty || in.MaxQty > MaxDelta || in.MaxQty == 0 {
		f.Add("max_qty", "less_than_min")
	}
	if in.OrderMultiple < 1 || in.OrderMultiple > MaxDelta {
		f.Add("order_multiple", "out_of_range", "Min", 1, "Max", MaxDelta)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var rule ReorderRule
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		w, err := s.warehouse(ctx, in.WarehouseID)
		if err != nil {
			return err
		}
		if in.PreferredSupplierID != nil {
			if _, err := s.Supplier(ctx, *in.PreferredSupplierID); err != nil {
				return notFoundField("supplier", "preferred_supplier_id")
			}
		}
		rule = ReorderRule{TenantID: t.ID, SKUID: in.SKUID, WarehouseID: w.ID, MinQty: in.MinQty, MaxQty: in.MaxQty,
			OrderMultiple: in.OrderMultiple, PreferredSupplierID: in.PreferredSupplierID, Active: in.Active == nil || *in.Active, UpdatedAt: s.nowUTC()}
		err = s.db.W(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "warehouse_id"}, {Name: "sku_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"min_qty", "max_qty", "order_multiple", "preferred_supplier_id", "active", "updated_at"}),
		}).Select("*").Omit("ID").Create(&rule).Error
		if err != nil {
			return internal(err, "set reorder rule")
		}
		return s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("warehouse_id = ? AND sku_id = ?", w.ID, in.SKUID).Take(&rule).Error
	})
	if err != nil {
		return nil, internal(err, "set reorder rule")
	}
	rule.UpdatedAt = rule.UpdatedAt.UTC()
	return &rule, nil
}

// ReorderRules returns a page of the tenant's reorder rules by warehouse
// and SKU. Staff with warehouse read.
func (s *Service) ReorderRules(ctx context.Context, p store.PageRequest) (store.Page[ReorderRule], error) {
	if _, err := tenantOf(ctx); err != nil {
		return store.Page[ReorderRule]{}, err
	}
	base := func() *gorm.DB { return s.db.R(ctx).Model(&ReorderRule{}).Scopes(tenants.Scope(ctx)) }
	return listPage(base, "warehouse_id, sku_id", p, false, "reorder rules", func(r *ReorderRule) { r.UpdatedAt = r.UpdatedAt.UTC() })
}

// Replenish checks every active reorder rule of the tenant in ctx: the
// projected stock (on hand − reserved + still to come on open purchase
// orders, drafts included + in transit to the warehouse) below the minimum
// orders up to the maximum, rounded up to the rule's multiple, then to the
// supplier's minimum order and pack size, from the preferred supplier (else
// the cheapest that sells the SKU). Lines go into one draft purchase order
// per supplier and warehouse (source replenishment), each with its reason;
// because drafts count as incoming, running it again proposes nothing new.
// Emits stock.low for each SKU it orders. The replenishment job runs it for
// every tenant; staff with warehouse write run it now through the API.
func (s *Service) Replenish(ctx context.Context) (*ReplenishmentRun, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	run := &ReplenishmentRun{Proposals: []Proposal{}, Orders: []int64{}}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		var rules []ReorderRule
		if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("active").Order("warehouse_id, sku_id").Find(&rules).Error; err != nil {
			return internal(err, "read rules")
		}
		if len(rules) == 0 {
			return nil
		}
		type key struct{ supplier, warehouse int64 }
		groups := map[key][]POLineInput{}
		var order []key
		for _, r := range rules {
			p, err := s.project(ctx, r)
			if err != nil {
				return err
			}
			if p.Projected >= r.MinQty {
				continue
			}
			sup, terms, err := s.supplierFor(ctx, r)
			if err != nil {
				return err
			}
			if sup == nil {
				p.Skipped = "no_supplier"
				p.Reason = fmt.Sprintf("projected %d < minimum %d, but no supplier sells this SKU", p.Projected, r.MinQty)
				run.Proposals = append(run.Proposals, p)
				continue
			}
			need := r.MaxQty - p.Projected
			qty := roundUp(need, r.OrderMultiple)
			why := fmt.Sprintf("projected %d (on hand %d − reserved %d + incoming %d + in transit %d) < minimum %d: up to maximum %d needs %d",
				p.Projected, p.OnHand, p.Reserved, p.Incoming, p.InTransit, r.MinQty, r.MaxQty, need)
			if qty != need {
				why += fmt.Sprintf(", in multiples of %d: %d", r.OrderMultiple, qty)
			}
			if qty < terms.MinOrderQty {
				qty = terms.MinOrderQty
				why += fmt.Sprintf(", supplier minimum %d", qty)
			}
			if q := roundUp(qty, terms.PackSize); q != qty {
				qty = q
				why += fmt.Sprintf(", packs of %d: %d", terms.PackSize, qty)
			}
			p.Qty, p.SupplierID, p.Reason = qty, sup.ID, why
			k := key{sup.ID, r.WarehouseID}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], POLineInput{SKUID: r.SKUID, Qty: qty, Reason: why})
			run.Proposals = append(run.Proposals, p)
		}
		for _, k := range order {
			rate, ok, err := s.lastRate(ctx, k.supplier, t.DefaultCurrency)
			if err != nil {
				return err
			}
			if !ok {
				for i := range run.Proposals {
					if pr := &run.Proposals[i]; pr.SupplierID == k.supplier && pr.WarehouseID == k.warehouse && pr.Skipped == "" {
						pr.Skipped, pr.Qty = "needs_exchange_rate", 0
						pr.Reason += "; not drafted: the supplier's currency needs an exchange rate (order from it once by hand)"
					}
				}
				continue
			}
			po, err := s.createPO(ctx, POInput{SupplierID: k.supplier, WarehouseID: k.warehouse, ExchangeRate: rate,
				Note: "Proposed by replenishment", Lines: groups[k]}, "replenishment")
			if err != nil {
				return err
			}
			run.Orders = append(run.Orders, po.ID)
			for i := range run.Proposals {
				if pr := &run.Proposals[i]; pr.SupplierID == k.supplier && pr.WarehouseID == k.warehouse && pr.Skipped == "" {
					pr.OrderID = po.ID
					if err := s.db.Emit(ctx, t.ID, "stock.low", pr); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

func roundUp(n, multiple int64) int64 {
	if multiple <= 1 || n%multiple == 0 {
		return n
	}
	return (n/multiple + 1) * multiple
}

// project computes a rule's projected stock.
func (s *Service) project(ctx context.Context, r ReorderRule) (Proposal, error) {
	p := Proposal{RuleID: r.ID, SKUID: r.SKUID, WarehouseID: r.WarehouseID, MinQty: r.MinQty, MaxQty: r.MaxQty}
	lvl, err := s.level(ctx, r.WarehouseID, r.SKUID)
	if err != nil {
		return p, err
	}
	p.OnHand, p.Reserved = lvl.OnHand, lvl.Reserved
	db := s.db.R(ctx)
	if err := db.Table("purchase_order_lines l").Joins("JOIN purchase_orders o ON o.id = l.po_id").
		Where("o.tenant_id = ? AND o.warehouse_id = ? AND l.sku_id = ? AND o.status IN ?", r.TenantID, r.WarehouseID, r.SKUID,
			[]string{POStatusDraft, POStatusApproved, POStatusSent, POStatusPartiallyReceived}).
		Select("COALESCE(SUM(CASE WHEN l.qty > l.received THEN l.qty - l.received ELSE 0 END), 0)").Scan(&p.Incoming).Error; err != nil {
		return p, internal(err, "incoming")
	}
	if err := db.Table("stock_transfer_lines l").Joins("JOIN stock_transfers t ON t.id = l.transfer_id").
		Where("t.tenant_id = ? AND t.to_warehouse_id = ? AND l.sku_id = ? AND t.status = ?", r.TenantID, r.WarehouseID, r.SKUID, TransferInTransit).
		Select("COALESCE(SUM(l.qty), 0)").Scan(&p.InTransit).Error; err != nil {
		return p, internal(err, "in transit")
	}
	p.Projected = p.OnHand - p.Reserved + p.Incoming + p.InTransit
	return p, nil
}

// supplierFor picks the rule's preferred supplier when it is active and
// sells the SKU, else the active supplier selling it cheapest (lowest id
// among equals).
func (s *Service) supplierFor(ctx context.Context, r ReorderRule) (*Supplier, *SupplierSKU, error) {
	var terms []SupplierSKU
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("sku_id = ?", r.SKUID).Find(&terms).Error; err != nil {
		return nil, nil, internal(err, "read supplier prices")
	}
	sort.Slice(terms, func(i, j int) bool {
		pi := r.PreferredSupplierID != nil && terms[i].SupplierID == *r.PreferredSupplierID
		pj := r.PreferredSupplierID != nil && terms[j].SupplierID == *r.PreferredSupplierID
		if pi != pj {
			return pi
		}
		if terms[i].UnitCost != terms[j].UnitCost {
			return terms[i].UnitCost < terms[j].UnitCost
		}
		return terms[i].SupplierID < terms[j].SupplierID
	})
	for i := range terms {
		sp, err := s.Supplier(ctx, terms[i].SupplierID)
		if err != nil {
			return nil, nil, err
		}
		if sp.Active {
			return sp, &terms[i], nil
		}
	}
	return nil, nil, nil
}

// lastRate is the exchange rate for a new order from a supplier: "1" in
// the tenant's currency, else the rate of its latest order.
func (s *Service) lastRate(ctx context.Context, supplierID int64, tenantCurrency string) (string, bool, error) {
	sp, err := s.Supplier(ctx, supplierID)
	if err != nil {
		return "", false, err
	}
	if sp.Currency == tenantCurrency {
		return "1", true, nil
	}
	var rates []string
	if err := s.db.R(ctx).Model(&PurchaseOrder{}).Scopes(tenants.Scope(ctx)).Where("supplier_id = ? AND currency = ?", supplierID, sp.Currency).
		Order("id DESC").Limit(1).Pluck("exchange_rate", &rates).Error; err != nil {
		return "", false, internal(err, "read last rate")
	}
	if len(rates) == 0 {
		return "", false, nil
	}
	return rates[0], true, nil
}

// TenantsWithRules lists the tenants that have active reorder rules (the
// replenishment job's work list).
func (s *Service) TenantsWithRules(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.db.R(ctx).Model(&ReorderRule{}).Where("active").Distinct("tenant_id").Order("tenant_id").Pluck("tenant_id", &ids).Error
	return ids, err
}
