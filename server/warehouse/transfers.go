package warehouse

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Transfer states: goods leave the source when the transfer is created
// (in_transit) and reach the destination when it is received; a transfer
// still in transit can be cancelled, which puts the goods back at the
// source.
const (
	TransferInTransit = "in_transit"
	TransferReceived  = "received"
	TransferCancelled = "cancelled"
)

// Transfer moves goods from one warehouse of a tenant to another.
type Transfer struct {
	ID              int64          `gorm:"primaryKey" json:"id"`
	TenantID        int64          `json:"-"`
	FromWarehouseID int64          `json:"from_warehouse_id"`
	ToWarehouseID   int64          `json:"to_warehouse_id"`
	Status          string         `json:"status"`
	Note            string         `json:"note"`
	CreatedBy       int64          `json:"created_by"`
	CreatedAt       time.Time      `json:"created_at"`
	ReceivedAt      *time.Time     `json:"received_at,omitempty"`
	CancelledAt     *time.Time     `json:"cancelled_at,omitempty"`
	Lines           []TransferLine `gorm:"foreignKey:TransferID" json:"lines"`
}

// TableName is the transfers table.
func (Transfer) TableName() string { return "stock_transfers" }

// TransferLine is one SKU of a transfer, valued at the moving average when
// it left.
type TransferLine struct {
	ID         int64 `gorm:"primaryKey" json:"-"`
	TransferID int64 `json:"-"`
	TenantID   int64 `json:"-"`
	SKUID      int64 `gorm:"column:sku_id" json:"sku_id"`
	Qty        int64 `json:"qty"`
	UnitCost   int64 `json:"unit_cost"`
}

// TableName is the transfer lines table.
func (TransferLine) TableName() string { return "stock_transfer_lines" }

// TransferInput creates a transfer.
type TransferInput struct {
	FromWarehouseID int64         `json:"from_warehouse_id"`
	ToWarehouseID   int64         `json:"to_warehouse_id"`
	Lines           []ReserveLine `json:"lines"` // sku_id, qty
	Note            string        `json:"note"`
}

func transferMigration() *store.Migration {
	type transfer struct {
		ID              int64  `gorm:"primaryKey"`
		TenantID        int64  `gorm:"not null;index:ix_stock_transfers_tenant,priority:1"`
		FromWarehouseID int64  `gorm:"not null"`
		ToWarehouseID   int64  `gorm:"not null"`
		Status          string `gorm:"size:12;not null;index:ix_stock_transfers_tenant,priority:2;check:chk_stock_transfers_status,status IN ('in_transit','received','cancelled')"`
		Note            string `gorm:"size:500;not null;default:''"`
		CreatedBy       int64  `gorm:"not null;default:0"`
		CreatedAt       time.Time
		ReceivedAt      *time.Time
		CancelledAt     *time.Time
	}
	type transferLine struct {
		ID         int64 `gorm:"primaryKey"`
		TransferID int64 `gorm:"not null;index"`
		TenantID   int64 `gorm:"not null"`
		SKUID      int64 `gorm:"column:sku_id;not null;index"`
		Qty        int64 `gorm:"not null;check:chk_stock_transfer_lines_qty,qty > 0"`
		UnitCost   int64 `gorm:"not null;default:0"`
	}
	return &store.Migration{
		ID: "202611250052_stock_transfers",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("stock_transfers").AutoMigrate(&transfer{}); err != nil {
				return err
			}
			return tx.Table("stock_transfer_lines").AutoMigrate(&transferLine{})
		},
	}
}

func (in *TransferInput) validate() error {
	f := apperr.Fields{}
	in.Note = strings.TrimSpace(in.Note)
	if in.FromWarehouseID <= 0 {
		f.Add("from_warehouse_id", "required")
	}
	if in.ToWarehouseID <= 0 {
		f.Add("to_warehouse_id", "required")
	} else if in.ToWarehouseID == in.FromWarehouseID {
		f.Add("to_warehouse_id", "same_warehouse")
	}
	_ = checkSKULines(f, len(in.Lines), func(i int) (int64, int64) { return in.Lines[i].SKUID, in.Lines[i].Qty }, nil)
	if utf8.RuneCountInString(in.Note) > 500 {
		f.Add("note", "too_long", "Max", 500)
	}
	return f.Err()
}

// CreateTransfer ships goods from one warehouse of the tenant in ctx to
// another: each line leaves the source at once (a transfer_out move valued
// at the moving average; the source must have that many available, so
// held reservations are never touched) and the transfer is in transit until
// received. The goods stay in the tenant's valuation while in transit.
// Emits transfer.shipped. Staff with warehouse write.
// Errors: invalid_input (from_warehouse_id, to_warehouse_id: required,
// not_found; to_warehouse_id: same_warehouse, warehouse_closed; lines:
// required, too_many; lines[i].sku_id: required, duplicate, not_found;
// lines[i].qty: out_of_range), conflict insufficient_stock (field
// lines[i].qty, with Available), no_tenant_in_context, internal.
func (s *Service) CreateTransfer(ctx context.Context, in TransferInput) (*Transfer, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
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
	var tr Transfer
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		from, err := s.warehouse(ctx, in.FromWarehouseID)
		if err != nil {
			return notFoundField("warehouse", "from_warehouse_id")
		}
		to, err := s.warehouse(ctx, in.ToWarehouseID)
		if err != nil {
			return notFoundField("warehouse", "to_warehouse_id")
		}
		if to.Status != WarehouseActive {
			return apperr.Invalid("to_warehouse_id", "warehouse_closed")
		}
		now := s.nowUTC()
		tr = Transfer{TenantID: t.ID, FromWarehouseID: from.ID, ToWarehouseID: to.ID, Status: TransferInTransit, Note: in.Note,
			CreatedBy: actor.UserID(ctx), CreatedAt: now}
		if err := s.db.W(ctx).Omit("Lines").Create(&tr).Error; err != nil {
			return internal(err, "create transfer")
		}
		ref := "transfer:" + store.Itoa(tr.ID)
		// Levels in SKU order (the lock order), then the valuation rows.
		lines := sortedLines(in.Lines)
		for _, l := range lines {
			if err := s.shift(ctx, t.ID, from.ID, l.SKUID, -l.Qty, MoveTransferOut, "transfer to "+to.Code, ref, now); err != nil {
				if apperr.As(err).Code == CodeInsufficientStock {
					return insufficientLine(err, in.Lines, l.SKUID)
				}
				return err
			}
		}
		for _, l := range lines {
			cost, err := s.avgCost(ctx, l.SKUID)
			if err != nil {
				return err
			}
			tr.Lines = append(tr.Lines, TransferLine{TransferID: tr.ID, TenantID: t.ID, SKUID: l.SKUID, Qty: l.Qty, UnitCost: cost})
		}
		if err := s.db.W(ctx).Create(&tr.Lines).Error; err != nil {
			return internal(err, "create transfer lines")
		}
		return s.db.Emit(ctx, t.ID, "transfer.shipped", &tr)
	})
	if err != nil {
		return nil, err
	}
	return &tr, nil
}

// ReceiveTransfer books a transfer in transit into its destination
// (transfer_in moves at the cost it left with). Emits transfer.received.
// Staff with warehouse write.
// Errors: not_found, conflict transfer_not_in_transit (received or
// cancelled already), no_tenant_in_context, internal.
func (s *Service) ReceiveTransfer(ctx context.Context, id int64) (*Transfer, error) {
	return s.endTransfer(ctx, id, TransferReceived)
}

// CancelTransfer puts the goods of a transfer in transit back where they
// came from (transfer_in moves at the source). Emits transfer.cancelled.
// Staff with warehouse write. Errors as ReceiveTransfer's.
func (s *Service) CancelTransfer(ctx context.Context, id int64) (*Transfer, error) {
	return s.endTransfer(ctx, id, TransferCancelled)
}

func (s *Service) endTransfer(ctx context.Context, id int64, to string) (*Transfer, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var tr *Transfer
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		now := s.nowUTC()
		upd := map[string]any{"status": to}
		if to == TransferReceived {
			upd["received_at"] = now
		} else {
			upd["cancelled_at"] = now
		}
		// The guard makes receive and cancel happen once, whoever is first.
		res := s.db.W(ctx).Model(&Transfer{}).Scopes(tenants.Scope(ctx)).Where("id = ? AND status = ?", id, TransferInTransit).Updates(upd)
		if res.Error != nil {
			return internal(res.Error, "end transfer")
		}
		if tr, err = s.Transfer(ctx, id); err != nil {
			return err
		}
		if res.RowsAffected != 1 {
			return apperr.Conflict("transfer_not_in_transit")
		}
		dest, reason := tr.ToWarehouseID, "transfer received"
		if to == TransferCancelled {
			dest, reason = tr.FromWarehouseID, "transfer cancelled"
		}
		ref := "transfer:" + store.Itoa(tr.ID)
		for _, l := range tr.Lines { // read in SKU order
			if err := s.shift(ctx, t.ID, dest, l.SKUID, l.Qty, MoveTransferIn, reason, ref, now); err != nil {
				return err
			}
		}
		return s.db.Emit(ctx, t.ID, "transfer."+to, tr)
	})
	if err != nil {
		return nil, err
	}
	return tr, nil
}

// Transfer returns one transfer of the tenant in ctx with its lines (in SKU
// order). Staff with warehouse read. Errors: not_found, internal.
func (s *Service) Transfer(ctx context.Context, id int64) (*Transfer, error) {
	return document(ctx, s, id, "transfer", (*Transfer).utc)
}

func (tr *Transfer) utc() {
	tr.CreatedAt = tr.CreatedAt.UTC()
	for _, p := range []*time.Time{tr.ReceivedAt, tr.CancelledAt} {
		if p != nil {
			*p = p.UTC()
		}
	}
}

// TransferQuery selects transfers, newest first.
type TransferQuery struct {
	Status string
	store.PageRequest
}

// Transfers returns a page of the tenant's transfers, newest first, with
// their lines. Staff with warehouse read.
// Errors: invalid_input (status: invalid_choice), internal.
func (s *Service) Transfers(ctx context.Context, q TransferQuery) (store.Page[Transfer], error) {
	if _, err := tenantOf(ctx); err != nil {
		return store.Page[Transfer]{}, err
	}
	switch q.Status {
	case "", TransferInTransit, TransferReceived, TransferCancelled:
	default:
		return store.Page[Transfer]{}, apperr.Invalid("status", "invalid_choice", "Choices", "in_transit, received, cancelled")
	}
	base := func() *gorm.DB {
		db := s.db.R(ctx).Model(&Transfer{}).Scopes(tenants.Scope(ctx))
		if q.Status != "" {
			db = db.Where("status = ?", q.Status)
		}
		return db
	}
	return listPage(base, "id DESC", q.PageRequest, true, "transfers", (*Transfer).utc)
}

// shift changes on_hand of one level by delta with a move of kind (a
// removal never takes on_hand below reserved), creating the level for an
// addition. It does not touch the valuation: the goods stay the tenant's.
func (s *Service) shift(ctx context.Context, tenantID, warehouseID, sku, delta int64, kind MoveKind, reason, ref string, now time.Time) error {
	tx := s.db.W(ctx)
	if delta > 0 {
		if err := s.ensureLevel(ctx, tenantID, warehouseID, sku, now); err != nil {
			return err
		}
	}
	res := tx.Model(&StockLevel{}).Scopes(tenants.Scope(ctx)).
		Where("warehouse_id = ? AND sku_id = ? AND on_hand - reserved + ? >= 0", warehouseID, sku, delta).
		Updates(map[string]any{"on_hand": gorm.Expr("on_hand + ?", delta), "updated_at": now})
	if res.Error != nil {
		return internal(res.Error, "move stock")
	}
	if res.RowsAffected != 1 {
		return s.insufficient(ctx, warehouseID, sku)
	}
	cost, err := s.avgCost(ctx, sku)
	if err != nil {
		return err
	}
	mv := StockMove{TenantID: tenantID, WarehouseID: warehouseID, SKUID: sku, Kind: kind, DeltaOnHand: delta, Reason: reason,
		Ref: ref, UnitCost: cost, ActorUserID: actor.UserID(ctx), CreatedAt: now}
	if err := tx.Create(&mv).Error; err != nil {
		return internal(err, "write stock move")
	}
	return nil
}

// avgCost is a SKU's moving-average cost (0 before its first costed receipt).
func (s *Service) avgCost(ctx context.Context, sku int64) (int64, error) {
	var cost []int64
	if err := s.db.R(ctx).Model(&StockValue{}).Scopes(tenants.Scope(ctx)).Where("sku_id = ?", sku).Pluck("avg_cost", &cost).Error; err != nil {
		return 0, internal(err, "read cost")
	}
	if len(cost) == 0 {
		return 0, nil
	}
	return cost[0], nil
}

// insufficient is the conflict for a removal the level cannot cover.
func (s *Service) insufficient(ctx context.Context, warehouseID, sku int64) error {
	var avail int64
	if cur, err := s.level(ctx, warehouseID, sku); err == nil {
		avail = cur.Available()
	}
	e := apperr.Conflict(CodeInsufficientStock)
	e.Args = map[string]any{"SKUID": sku, "Available": avail}
	e.Fields = map[string]apperr.FieldError{"delta": {Code: CodeInsufficientStock, Args: map[string]any{"Available": avail}}}
	return e
}

// insufficientLine names the input line of sku in an insufficient_stock
// conflict.
func insufficientLine(err error, lines []ReserveLine, sku int64) error {
	e := *apperr.As(err)
	avail := e.Args["Available"]
	for i, l := range lines {
		if l.SKUID == sku {
			e.Fields = map[string]apperr.FieldError{fmt.Sprintf("lines[%d].qty", i): {Code: CodeInsufficientStock, Args: map[string]any{"Available": avail}}}
		}
	}
	return &e
}

// sortedLines returns lines in SKU order (the lock order).
func sortedLines(lines []ReserveLine) []ReserveLine {
	out := slices.Clone(lines)
	slices.SortFunc(out, func(a, b ReserveLine) int { return cmp.Compare(a.SKUID, b.SKUID) })
	return out
}

// ensureLevel makes sure the level exists; a concurrent first change of
// the same level waits for ours and then inserts nothing.
func (s *Service) ensureLevel(ctx context.Context, tenantID, warehouseID, sku int64, now time.Time) error {
	row := StockLevel{TenantID: tenantID, WarehouseID: warehouseID, SKUID: sku, UpdatedAt: now}
	if err := s.db.W(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return internal(err, "create stock level")
	}
	return nil
}
