package mall

import (
	"time"
)

// Product kinds.
const (
	KindSaaS  = "saas"
	KindGoods = "goods"
)

// Product statuses. Only active products of active tenants are visible to shoppers.
const (
	StatusDraft    = "draft"
	StatusActive   = "active"
	StatusArchived = "archived"
)

// Plan tiers and billing intervals.
const (
	TierFree  = "free"
	TierPaid  = "paid"
	TierAddon = "addon"

	IntervalMonth = "month"
	IntervalYear  = "year"
)

// Attribute is a key/value used for screening and comparison ("OS" = "Linux").
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Money is an amount in integer minor units of an ISO 4217 currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Product is something a brand store sells: a SaaS service or goods.
type Product struct {
	ID          int64     `gorm:"primaryKey" json:"id"`
	TenantID    int64     `gorm:"not null;index:ix_products_tenant_status,priority:1" json:"-"`
	Kind        string    `gorm:"size:10;not null" json:"kind"`
	Name        string    `gorm:"size:200;not null" json:"name"`
	Summary     string    `gorm:"size:500;not null;default:''" json:"summary"`
	Description string    `gorm:"type:text;not null;default:''" json:"description"`
	Category    string    `gorm:"size:80;not null;default:''" json:"category"`
	ImageURL    string    `gorm:"size:500;not null;default:''" json:"image_url"`
	Status      string    `gorm:"size:10;not null;index:ix_products_tenant_status,priority:2" json:"status"`
	Attributes  string    `gorm:"type:text;not null;default:'[]'" json:"-"` // JSON []Attribute, in display order
	SalesCount  int64     `gorm:"-" json:"sales_count"`                     // from product_sales (ProductSales)
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ProductSales is a product's units sold (paid), counted by CountSales. It
// is a narrow table of its own: adding to a count rewrites a few bytes
// instead of the product's whole row, and a burst of sales touches
// hundreds of products at once.
type ProductSales struct {
	ProductID int64 `gorm:"primaryKey;autoIncrement:false"`
	TenantID  int64 `gorm:"not null"`
	Units     int64 `gorm:"not null;default:0"`
}

func (ProductSales) TableName() string { return "product_sales" }

// SKU is the thing that is bought: a variant of goods, or a SaaS plan.
type SKU struct {
	ID        int64  `gorm:"primaryKey" json:"id"`
	TenantID  int64  `gorm:"not null;uniqueIndex:ux_sku_code,priority:1" json:"-"`
	ProductID int64  `gorm:"not null;index" json:"product_id"`
	Code      string `gorm:"size:64;not null;uniqueIndex:ux_sku_code,priority:2" json:"code"`
	Name      string `gorm:"size:200;not null" json:"name"`
	Position  int    `gorm:"not null;default:0" json:"-"`
	Active    bool   `gorm:"not null;default:true" json:"active"`
	// Goods.
	WeightGrams   int    `gorm:"not null;default:0" json:"weight_grams,omitempty"`
	HSCode        string `gorm:"size:12;not null;default:''" json:"hs_code,omitempty"`
	OriginCountry string `gorm:"size:2;not null;default:''" json:"origin_country,omitempty"`
	// SaaS plan.
	PlanTier      string `gorm:"size:10;not null;default:''" json:"-"`
	PlanInterval  string `gorm:"size:10;not null;default:''" json:"-"`
	PlanPerSeat   bool   `gorm:"not null;default:false" json:"-"`
	PlanTrialDays int    `gorm:"not null;default:0" json:"-"`
	PlanFeatures  string `gorm:"type:text;not null;default:'[]'" json:"-"` // JSON []string
}

// Price is a SKU's price in one currency.
type Price struct {
	SKUID    int64  `gorm:"column:sku_id;primaryKey;autoIncrement:false" json:"-"`
	Currency string `gorm:"primaryKey;size:3" json:"currency"`
	TenantID int64  `gorm:"not null;index" json:"-"`
	Amount   int64  `gorm:"not null" json:"amount"`
}

// TableName keeps the table name plural and explicit.
func (Price) TableName() string { return "sku_prices" }

// CatalogChange is one row per catalog write, in the same transaction: each
// process's read model applies the changes after the last id it has seen.
// ProductID 0 means "every product of the tenant" (a tenant status change).
type CatalogChange struct {
	ID        int64 `gorm:"primaryKey"`
	TenantID  int64 `gorm:"not null"`
	ProductID int64 `gorm:"not null"`
	// SalesOnly marks a change that only moves the product's sales count
	// (a payment): read models fold those in every SalesEvery instead of
	// rebuilding a product on every sale.
	SalesOnly bool `gorm:"not null;default:false"`
	At        time.Time
}
