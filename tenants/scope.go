package tenants

import (
	"context"
	"strconv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/apperr"
)

type ctxKey struct{}

// WithTenant returns a context whose tenant-owned queries are scoped to t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// From returns the tenant in ctx, or nil.
func From(ctx context.Context) *Tenant {
	t, _ := ctx.Value(ctxKey{}).(*Tenant)
	return t
}

// ID returns the id of the tenant in ctx, or 0.
func ID(ctx context.Context) int64 {
	if t := From(ctx); t != nil {
		return t.ID
	}
	return 0
}

// ErrNoTenant is what a tenant-scoped query fails with when the context has
// no tenant: the scope fails closed rather than reading every tenant's rows.
var ErrNoTenant = &apperr.Error{Kind: apperr.KindInternal, Code: "no_tenant_in_context"}

// Scope is the one tenant scope every tenant-owned query uses:
//
//	db.R(ctx).Scopes(tenants.Scope(ctx)).Find(&rows)
//
// It restricts the statement's own table to the context's tenant and fails
// the query when there is none.
func Scope(ctx context.Context) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		t := From(ctx)
		if t == nil || t.ID == 0 {
			_ = db.AddError(ErrNoTenant)
			return db
		}
		return db.Where(clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: "tenant_id"}, Value: t.ID})
	}
}

// DomainOf is the Casbin domain of tenant id.
func DomainOf(id int64) string { return "t:" + strconv.FormatInt(id, 10) }
