// Package warehouse owns a tenant's warehouses, the stock of each goods SKU
// in each warehouse (on hand and reserved), the reservations that checkouts
// hold against that stock, and the append-only ledger of every stock move.
//
// Stock rules (DESIGN.md "Stock"):
//   - stock_levels holds, per (warehouse, SKU), on_hand and reserved, with
//     CHECK constraints 0 ≤ reserved ≤ on_hand in both databases;
//   - every change of a stock level is a guarded UPDATE (the guard is in the
//     WHERE clause, so the check and the change are one statement) and writes
//     a stock_moves row in the same transaction; the sum of a level's moves is
//     the level;
//   - a checkout reserves inside the transaction that creates the order
//     (Reserve); reservations are released on cancel or expiry (Release) and
//     committed on fulfilment (Commit).
//
// Lock order: a transaction that changes several stock levels changes them
// in (sku_id, warehouse_id) order, and only then the SKUs' valuation rows
// (stock_values), in sku_id order, so concurrent checkouts, fulfilments and
// adjustments on PostgreSQL wait for each other's row locks instead of
// deadlocking.
package warehouse

import (
	"encoding/json"
	"time"
)

// Warehouse statuses: a closed warehouse keeps its stock and history but
// no checkout draws on it any more.
const (
	WarehouseActive = "active"
	WarehouseClosed = "closed"
)

// Warehouse is a place where a tenant keeps goods.
type Warehouse struct {
	ID         int64     `gorm:"primaryKey" json:"id"`
	TenantID   int64     `json:"-"`
	Code       string    `json:"code"`    // unique per tenant, e.g. "MAIN"
	Name       string    `json:"name"`    // shown to staff
	Country    string    `json:"country"` // ISO 3166-1 alpha-2, "" when not known yet
	Line1      string    `json:"line1"`
	City       string    `json:"city"`
	PostalCode string    `json:"postal_code"`
	Status     string    `gorm:"default:active" json:"status"` // active | closed
	IsDefault  bool      `json:"is_default"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// TableName is the warehouses table.
func (Warehouse) TableName() string { return "warehouses" }

// StockLevel is the stock of one SKU in one warehouse. Available is
// OnHand − Reserved: what a checkout may still reserve.
type StockLevel struct {
	TenantID    int64     `json:"-"`
	WarehouseID int64     `gorm:"primaryKey;autoIncrement:false" json:"warehouse_id"`
	SKUID       int64     `gorm:"column:sku_id;primaryKey;autoIncrement:false" json:"sku_id"`
	OnHand      int64     `json:"on_hand"`
	Reserved    int64     `json:"reserved"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TableName is the stock levels table.
func (StockLevel) TableName() string { return "stock_levels" }

// Available is OnHand − Reserved.
func (l StockLevel) Available() int64 { return l.OnHand - l.Reserved }

// MarshalJSON adds "available" (on_hand − reserved).
func (l StockLevel) MarshalJSON() ([]byte, error) {
	type plain StockLevel
	return json.Marshal(struct {
		plain
		Available int64 `json:"available"`
	}{plain(l), l.Available()})
}

// MoveKind says what a stock move did.
type MoveKind string

const (
	MoveAdjust      MoveKind = "adjust"       // staff corrected, received or wrote off goods: on_hand ± n
	MoveReceipt     MoveKind = "receipt"      // goods received against a purchase order: on_hand + n at cost
	MoveCount       MoveKind = "count"        // a confirmed stock count corrected on_hand ± n
	MoveTransferOut MoveKind = "transfer_out" // goods left for another warehouse: on_hand − n
	MoveTransferIn  MoveKind = "transfer_in"  // goods arrived from another warehouse: on_hand + n
	MoveReturn      MoveKind = "return"       // a customer sent goods back: on_hand + n
	MoveReserve     MoveKind = "reserve"      // a checkout held goods: reserved + n
	MoveRelease     MoveKind = "release"      // an order was cancelled or its hold expired: reserved − n
	MoveCommit      MoveKind = "commit"       // an order was fulfilled (sold and shipped): on_hand − n, reserved − n
)

// moveKinds are every kind, for the database's CHECK constraint.
var moveKinds = []MoveKind{MoveAdjust, MoveReceipt, MoveCount, MoveTransferOut, MoveTransferIn, MoveReturn, MoveReserve, MoveRelease, MoveCommit}

// StockMove is one entry of the append-only stock ledger (UPDATE and DELETE
// are refused by a trigger).
type StockMove struct {
	ID            int64    `gorm:"primaryKey" json:"id"`
	TenantID      int64    `json:"-"`
	WarehouseID   int64    `json:"warehouse_id"`
	SKUID         int64    `gorm:"column:sku_id" json:"sku_id"`
	Kind          MoveKind `json:"kind"`
	DeltaOnHand   int64    `json:"delta_on_hand"`
	DeltaReserved int64    `json:"delta_reserved"`
	Reason        string   `json:"reason"`
	Ref           string   `json:"ref"` // what caused it, e.g. "order:123"; "" for manual adjustments
	// UnitCost is the cost per unit the move was valued at, in minor units
	// of the tenant's currency: the receipt's cost coming in, the moving
	// average going out (0 for moves that change reserved only).
	UnitCost    int64     `json:"unit_cost"`
	ActorUserID int64     `json:"actor_user_id"`
	CreatedAt   time.Time `json:"created_at"`
}

// TableName is the stock ledger's table.
func (StockMove) TableName() string { return "stock_moves" }

// StockValue is the valuation of one SKU across the tenant's warehouses:
// the units on hand and their moving-average cost per unit, in minor units
// of the tenant's currency. Every receipt at a cost moves the average to
// (qty × avg + n × cost) / (qty + n), rounded half to even; every other
// move in or out is valued at the average and leaves it as it is.
type StockValue struct {
	TenantID  int64     `json:"-"`
	SKUID     int64     `gorm:"column:sku_id;primaryKey;autoIncrement:false" json:"sku_id"`
	Qty       int64     `json:"qty"`
	AvgCost   int64     `json:"avg_cost"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TableName is the valuation table.
func (StockValue) TableName() string { return "stock_values" }

// Value is Qty × AvgCost.
func (v StockValue) Value() int64 { return v.Qty * v.AvgCost }

// ReservationStatus is the state of a reservation.
type ReservationStatus string

const (
	ReservationHeld      ReservationStatus = "held"
	ReservationReleased  ReservationStatus = "released"
	ReservationCommitted ReservationStatus = "committed"
)

// Reservation holds Qty units of one SKU in one warehouse for an order until
// ExpiresAt. An order has one reservation per (SKU, warehouse) it draws on.
type Reservation struct {
	ID          int64             `gorm:"primaryKey" json:"id"`
	TenantID    int64             `json:"-"`
	OrderRef    string            `json:"order_ref"`
	SKUID       int64             `gorm:"column:sku_id" json:"sku_id"`
	WarehouseID int64             `json:"warehouse_id"`
	Qty         int64             `json:"qty"`
	Status      ReservationStatus `json:"status"`
	ExpiresAt   time.Time         `json:"expires_at"`
	CreatedAt   time.Time         `json:"created_at"`
}

// TableName is the reservations table.
func (Reservation) TableName() string { return "stock_reservations" }
