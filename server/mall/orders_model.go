package mall

import "time"

// Cart is one per account (UserID) or per guest browser (GuestHash).
type Cart struct {
	ID        int64   `gorm:"primaryKey"`
	UserID    *int64  `gorm:"uniqueIndex"`
	GuestHash *string `gorm:"size:64;uniqueIndex"`
	UpdatedAt time.Time
}

// CartItem is a SKU and quantity (seats for SaaS) in a cart.
type CartItem struct {
	ID       int64 `gorm:"primaryKey"`
	CartID   int64 `gorm:"not null;uniqueIndex:ux_cart_sku,priority:1"`
	SKUID    int64 `gorm:"column:sku_id;not null;uniqueIndex:ux_cart_sku,priority:2"`
	Quantity int64 `gorm:"not null"`
	AddedAt  time.Time
}

// Order states.
const (
	OrderPendingPayment = "pending_payment"
	OrderPaid           = "paid"
	OrderFulfilled      = "fulfilled"
	OrderCompleted      = "completed"
	OrderCancelled      = "cancelled"
)

// Order kinds: a checkout, a subscription renewal, or a mid-period change.
const (
	OrderKindCheckout  = "checkout"
	OrderKindRenewal   = "renewal"
	OrderKindProration = "proration"
)

// Order is one brand store's part of a checkout.
type Order struct {
	ID             int64      `gorm:"primaryKey" json:"id"`
	TenantID       int64      `gorm:"not null;index:ix_orders_tenant,priority:1" json:"-"`
	UserID         int64      `gorm:"not null;index" json:"-"`
	Number         string     `gorm:"size:32;not null;uniqueIndex" json:"number"`
	Kind           string     `gorm:"size:12;not null;default:'checkout'" json:"kind"`
	Status         string     `gorm:"size:20;not null;index:ix_orders_tenant,priority:2" json:"status"`
	Currency       string     `gorm:"size:3;not null" json:"currency"`
	Subtotal       int64      `gorm:"not null" json:"-"`
	Tax            int64      `gorm:"not null" json:"-"`
	Shipping       int64      `gorm:"not null" json:"-"`
	Total          int64      `gorm:"not null" json:"-"`
	TaxRateBP      int        `gorm:"not null" json:"tax_rate_bp"`
	ClientSource   string     `gorm:"size:10;not null" json:"client_source"`
	ShipName       string     `gorm:"size:120;not null;default:''" json:"-"`
	ShipLine1      string     `gorm:"size:200;not null;default:''" json:"-"`
	ShipCity       string     `gorm:"size:120;not null;default:''" json:"-"`
	ShipPostalCode string     `gorm:"size:20;not null;default:''" json:"-"`
	ShipCountry    string     `gorm:"size:2;not null;default:''" json:"-"`
	SubscriptionID *int64     `json:"subscription_id,omitempty"`
	ExpiresAt      *time.Time `gorm:"index" json:"expires_at,omitempty"`
	PaidAt         *time.Time `json:"paid_at,omitempty"`
	CancelledAt    *time.Time `json:"cancelled_at,omitempty"`
	CancelReason   string     `gorm:"size:40;not null;default:''" json:"cancel_reason,omitempty"`
	// SalesCounted: the paid order's units are in its products' sales
	// counts (added by the mall.count_sales job, not by the payment).
	SalesCounted bool      `gorm:"not null;default:false" json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// OrderLine is a SKU bought in an order, at the price read at checkout.
type OrderLine struct {
	ID        int64  `gorm:"primaryKey" json:"id"`
	OrderID   int64  `gorm:"not null;index" json:"-"`
	TenantID  int64  `gorm:"not null" json:"-"`
	ProductID int64  `gorm:"not null" json:"product_id"`
	SKUID     int64  `gorm:"column:sku_id;not null" json:"sku_id"`
	Kind      string `gorm:"size:10;not null" json:"kind"`
	Name      string `gorm:"size:400;not null" json:"name"`
	Quantity  int64  `gorm:"not null" json:"quantity"`
	UnitPrice int64  `gorm:"not null" json:"-"`
	Amount    int64  `gorm:"not null" json:"-"`
}

// Payment is an attempt to pay an order.
type Payment struct {
	ID        int64     `gorm:"primaryKey" json:"id"`
	TenantID  int64     `gorm:"not null;index" json:"-"`
	OrderID   int64     `gorm:"not null;index" json:"order_id"`
	Method    string    `gorm:"size:20;not null" json:"method"`
	Status    string    `gorm:"size:20;not null" json:"status"` // succeeded | failed | pending
	Amount    int64     `gorm:"not null" json:"amount"`
	Currency  string    `gorm:"size:3;not null" json:"currency"`
	Reference string    `gorm:"size:80;not null;default:''" json:"reference"`
	Error     string    `gorm:"size:80;not null;default:''" json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// IdempotencyKey remembers the first response to a request sent with an
// Idempotency-Key, per account, for at least 24 hours.
type IdempotencyKey struct {
	UserID      int64     `gorm:"primaryKey;autoIncrement:false"`
	Key         string    `gorm:"primaryKey;size:255"`
	Scope       string    `gorm:"size:40;not null"` // checkout | pay:<order id>
	RequestHash string    `gorm:"size:64;not null"`
	Status      int       `gorm:"not null"`
	Body        string    `gorm:"type:text;not null"`
	CreatedAt   time.Time `gorm:"index"`
}

// Subscription states.
const (
	SubTrialing  = "trialing"
	SubActive    = "active"
	SubPastDue   = "past_due"
	SubCancelled = "cancelled"
)

// Subscription is a shopper's plan of a SaaS product.
type Subscription struct {
	ID                int64      `gorm:"primaryKey" json:"id"`
	TenantID          int64      `gorm:"not null;index" json:"-"`
	UserID            int64      `gorm:"not null;index" json:"-"`
	ProductID         int64      `gorm:"not null" json:"product_id"`
	SKUID             int64      `gorm:"column:sku_id;not null" json:"sku_id"`
	Status            string     `gorm:"size:12;not null;index" json:"status"`
	Seats             int64      `gorm:"not null" json:"seats"`
	Currency          string     `gorm:"size:3;not null" json:"currency"`
	UnitAmount        int64      `gorm:"not null" json:"-"` // per seat (or flat) per period
	Interval          string     `gorm:"size:10;not null" json:"interval"`
	PerSeat           bool       `gorm:"not null" json:"per_seat"`
	PeriodStart       time.Time  `gorm:"not null" json:"current_period_start"`
	PeriodEnd         time.Time  `gorm:"not null;index" json:"current_period_end"`
	TrialEnd          *time.Time `json:"trial_end,omitempty"`
	CancelAtPeriodEnd bool       `gorm:"not null;default:false" json:"cancel_at_period_end"`
	CancelledAt       *time.Time `json:"cancelled_at,omitempty"`
	Credit            int64      `gorm:"not null;default:0" json:"-"` // owed back to the shopper, taken off the next renewal
	RenewalOrderID    *int64     `json:"renewal_order_id,omitempty"`
	PendingSeats      *int64     `json:"pending_seats,omitempty"`                               // applied when the proration order is paid
	PendingSKUID      *int64     `gorm:"column:pending_sku_id" json:"pending_sku_id,omitempty"` // plan switch applied when paid
	LicenseKey        string     `gorm:"size:40;not null;uniqueIndex" json:"license_key"`
	ClientSource      string     `gorm:"size:10;not null;default:'pc'" json:"client_source"` // the channel it was bought on; renewals record it
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}
