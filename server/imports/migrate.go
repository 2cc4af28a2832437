package imports

import (
	"time"

	"gorm.io/gorm"

	"saasmall/server/store"
)

// Migrations are the imports table's. The first is the product imports
// table as the mall made it (moved here unchanged, with its id); the
// second makes it the table of every kind of import.
func Migrations() []*store.Migration {
	// The schema as of this migration, frozen apart from the model.
	type productImport struct {
		ID         int64     `gorm:"primaryKey"`
		TenantID   int64     `gorm:"not null;index:ix_product_imports_tenant"`
		Status     string    `gorm:"size:10;not null"`
		Total      int       `gorm:"not null"`
		Processed  int       `gorm:"not null;default:0"`
		Imported   int       `gorm:"not null;default:0"`
		Errors     string    `gorm:"type:text;not null;default:'[]'"`
		Source     string    `gorm:"type:text;not null;default:''"`
		CreatedBy  int64     `gorm:"not null"`
		CreatedAt  time.Time `gorm:"not null"`
		FinishedAt *time.Time
	}
	return []*store.Migration{{
		ID:       "202611250030_mall_product_imports",
		Migrate:  func(tx *gorm.DB) error { return tx.Table("product_imports").AutoMigrate(&productImport{}) },
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable("product_imports") },
	}, {
		// product_imports becomes imports, with the kind of each (the rows
		// there are product imports) and its target (the count sheet or
		// supplier; 0 for products). Both databases rename a table and add
		// a column with a default in place, keeping the rows and their ids.
		ID: "202611250060_imports_kinds",
		Migrate: func(tx *gorm.DB) error {
			for _, q := range []string{
				"ALTER TABLE product_imports RENAME TO imports",
				"ALTER TABLE imports ADD COLUMN kind varchar(20) NOT NULL DEFAULT 'products'",
				"ALTER TABLE imports ADD COLUMN target_id bigint NOT NULL DEFAULT 0",
				"DROP INDEX ix_product_imports_tenant",
				"CREATE INDEX ix_imports_tenant ON imports (tenant_id, id)",
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, q := range []string{
				"DROP INDEX ix_imports_tenant",
				"DELETE FROM imports WHERE kind <> 'products'",
				"ALTER TABLE imports DROP COLUMN target_id",
				"ALTER TABLE imports DROP COLUMN kind",
				"ALTER TABLE imports RENAME TO product_imports",
				"CREATE INDEX ix_product_imports_tenant ON product_imports (tenant_id)",
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}}
}
