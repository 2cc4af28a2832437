package warehouse

import (
	"context"

	"gorm.io/gorm"

	"saasmall/server/store"
	"saasmall/tenants"
)

// linesBySKU preloads a document's lines in SKU order.
func linesBySKU(db *gorm.DB) *gorm.DB { return db.Order("sku_id") }

// listPage counts the rows base selects and reads one page of them in
// order (with their Lines when withLines), passing each to fix (nil: none).
// what names the rows in errors.
func listPage[T any](base func() *gorm.DB, order string, p store.PageRequest, withLines bool, what string, fix func(*T)) (store.Page[T], error) {
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return store.Page[T]{}, internal(err, "count "+what)
	}
	items := []T{}
	if total > 0 {
		q := base()
		if withLines {
			q = q.Preload("Lines", linesBySKU)
		}
		if err := q.Order(order).Scopes(p.Scope).Find(&items).Error; err != nil {
			return store.Page[T]{}, internal(err, "list "+what)
		}
		if fix != nil {
			for i := range items {
				fix(&items[i])
			}
		}
	}
	return store.NewPage(items, total, p), nil
}

// document returns one document (count sheet, transfer, purchase order) of
// the tenant in ctx with its lines in SKU order, its times in UTC.
// Errors: not_found (what), no_tenant_in_context, internal.
func document[T any](ctx context.Context, s *Service, id int64, what string, utc func(*T)) (*T, error) {
	if _, err := tenantOf(ctx); err != nil {
		return nil, err
	}
	var d T
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Preload("Lines", linesBySKU).Where("id = ?", id).Take(&d).Error; err != nil {
		return nil, store.Error(err, what)
	}
	utc(&d)
	return &d, nil
}
