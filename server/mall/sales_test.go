package mall_test

import (
	"context"
	"testing"

	"saasmall/server/mall"
	"saasmall/server/store"
	"saasmall/server/store/storetest"
)

// TestSalesMigrationMovesTheCounts: the counts kept on products before
// move to product_sales, and nothing else of the products changes.
func TestSalesMigrationMovesTheCounts(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	all := append(store.Migrations(), mall.Migrations()...)
	var before []*store.Migration
	for _, m := range all {
		if m.ID == "202611251500_mall_product_sales" {
			break
		}
		before = append(before, m)
	}
	if len(before) == len(all) {
		t.Fatal("the product sales migration is not in mall.Migrations")
	}
	if err := db.Migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	w := db.Writer()
	// The column as released databases have it.
	if !w.Migrator().HasColumn("products", "sales_count") {
		if err := w.Exec("ALTER TABLE products ADD COLUMN sales_count bigint NOT NULL DEFAULT 0").Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"INSERT INTO products (tenant_id, kind, name, status, sales_count) VALUES (1, 'goods', 'Lamp', 'active', 7)",
		"INSERT INTO products (tenant_id, kind, name, status, sales_count) VALUES (2, 'saas', 'Ledger', 'active', 0)",
	} {
		if err := w.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx, all); err != nil {
		t.Fatal(err)
	}
	var got []mall.ProductSales
	if err := db.Reader().Order("product_id").Find(&got).Error; err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].TenantID != 1 || got[0].Units != 7 {
		t.Fatalf("product_sales after the migration: %+v", got)
	}
	var n int64
	db.Reader().Model(&mall.Product{}).Count(&n)
	if n != 2 {
		t.Fatalf("%d products after the migration", n)
	}
}
