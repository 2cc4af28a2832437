// Package tenants owns tenants (the enterprises selling on the mall), their
// members, provisioning, and the one tenant scope every tenant-owned query
// goes through.
package tenants

import "time"

// Status of a tenant. Only active tenants sell and sign staff in.
type Status string

const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
)

// Tenant is an enterprise with a brand store on the mall.
type Tenant struct {
	ID              int64     `gorm:"primaryKey" json:"id"`
	Slug            string    `gorm:"size:40;not null;uniqueIndex" json:"slug"`
	Name            string    `gorm:"size:120;not null" json:"name"`
	Status          Status    `gorm:"size:20;not null" json:"status"`
	DefaultCurrency string    `gorm:"size:3;not null" json:"default_currency"`
	DefaultLocale   string    `gorm:"size:10;not null" json:"default_locale"`
	TaxRateBP       int       `gorm:"not null;default:0" json:"tax_rate_bp"` // basis points: 1300 = 13 %
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Domain is the tenant's Casbin domain.
func (t *Tenant) Domain() string { return DomainOf(t.ID) }

// Member links an account to a tenant; roles are held by the policies package.
type Member struct {
	ID        int64     `gorm:"primaryKey" json:"id"`
	TenantID  int64     `gorm:"not null;uniqueIndex:ux_member,priority:1" json:"-"`
	UserID    int64     `gorm:"not null;uniqueIndex:ux_member,priority:2;index" json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
}
