package warehouse

import (
	"strings"
	"time"

	"gorm.io/gorm"

	"saasmall/server/store"
)

// Migrations are the warehouse tables. The server runs them after the
// tenants migrations.
func Migrations() []*store.Migration {
	// The schema as of this migration, frozen apart from the models so later
	// changes to the models need a new migration rather than editing this one.
	type warehouse struct {
		ID        int64     `gorm:"primaryKey"`
		TenantID  int64     `gorm:"not null;uniqueIndex:ux_warehouses_code,priority:1"`
		Code      string    `gorm:"size:32;not null;uniqueIndex:ux_warehouses_code,priority:2"`
		Name      string    `gorm:"size:120;not null"`
		Country   string    `gorm:"size:2;not null;default:''"`
		IsDefault bool      `gorm:"not null;default:false"`
		CreatedAt time.Time `gorm:"not null"`
	}
	type stockLevel struct {
		TenantID    int64     `gorm:"not null;index:ix_stock_levels_tenant_sku,priority:1"`
		WarehouseID int64     `gorm:"primaryKey;autoIncrement:false"`
		SKUID       int64     `gorm:"column:sku_id;primaryKey;autoIncrement:false;index:ix_stock_levels_tenant_sku,priority:2;index:ix_stock_levels_sku"`
		OnHand      int64     `gorm:"not null;default:0;check:chk_stock_on_hand,on_hand >= 0"`
		Reserved    int64     `gorm:"not null;default:0;check:chk_stock_reserved,reserved >= 0 AND reserved <= on_hand"`
		UpdatedAt   time.Time `gorm:"not null"`
	}
	type stockMove struct {
		ID            int64     `gorm:"primaryKey"`
		TenantID      int64     `gorm:"not null;index:ix_stock_moves_level,priority:1"`
		WarehouseID   int64     `gorm:"not null;index:ix_stock_moves_level,priority:2"`
		SKUID         int64     `gorm:"column:sku_id;not null;index:ix_stock_moves_level,priority:3"`
		Kind          string    `gorm:"size:10;not null;check:chk_stock_moves_kind,kind IN ('adjust','reserve','release','commit')"`
		DeltaOnHand   int64     `gorm:"not null;default:0"`
		DeltaReserved int64     `gorm:"not null;default:0"`
		Reason        string    `gorm:"size:200;not null;default:''"`
		Ref           string    `gorm:"size:100;not null;default:''"`
		ActorUserID   int64     `gorm:"not null;default:0"`
		CreatedAt     time.Time `gorm:"not null"`
	}
	type reservation struct {
		ID          int64     `gorm:"primaryKey"`
		TenantID    int64     `gorm:"not null;index:ix_stock_reservations_order,priority:1"`
		OrderRef    string    `gorm:"size:100;not null;index:ix_stock_reservations_order,priority:2"`
		SKUID       int64     `gorm:"column:sku_id;not null"`
		WarehouseID int64     `gorm:"not null"`
		Qty         int64     `gorm:"not null;check:chk_stock_reservations_qty,qty > 0"`
		Status      string    `gorm:"size:10;not null;index:ix_stock_reservations_expiry,priority:1;check:chk_stock_reservations_status,status IN ('held','released','committed')"`
		ExpiresAt   time.Time `gorm:"not null;index:ix_stock_reservations_expiry,priority:2"`
		CreatedAt   time.Time `gorm:"not null"`
	}
	const (
		tWarehouses   = "warehouses"
		tLevels       = "stock_levels"
		tMoves        = "stock_moves"
		tReservations = "stock_reservations"
	)
	return []*store.Migration{{
		ID: "202611250010_warehouse",
		Migrate: func(tx *gorm.DB) error {
			steps := []func() error{
				func() error { return tx.Table(tWarehouses).AutoMigrate(&warehouse{}) },
				func() error { return tx.Table(tLevels).AutoMigrate(&stockLevel{}) },
				func() error { return tx.Table(tMoves).AutoMigrate(&stockMove{}) },
				func() error { return tx.Table(tReservations).AutoMigrate(&reservation{}) },
				// At most one default warehouse per tenant.
				func() error {
					return tx.Exec("CREATE UNIQUE INDEX ux_warehouses_default ON " + tWarehouses + " (tenant_id) WHERE is_default").Error
				},
			}
			// The ledger is append-only: the database refuses UPDATE and DELETE.
			if tx.Dialector.Name() == "postgres" {
				steps = append(steps,
					func() error {
						return tx.Exec(`CREATE FUNCTION stock_moves_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'stock_moves is append-only'; END $$`).Error
					},
					func() error {
						return tx.Exec("CREATE TRIGGER stock_moves_append_only BEFORE UPDATE OR DELETE ON " + tMoves +
							" FOR EACH ROW EXECUTE FUNCTION stock_moves_append_only()").Error
					})
			} else {
				steps = append(steps,
					func() error {
						return tx.Exec("CREATE TRIGGER stock_moves_no_update BEFORE UPDATE ON " + tMoves +
							" BEGIN SELECT RAISE(ABORT, 'stock_moves is append-only'); END").Error
					},
					func() error {
						return tx.Exec("CREATE TRIGGER stock_moves_no_delete BEFORE DELETE ON " + tMoves +
							" BEGIN SELECT RAISE(ABORT, 'stock_moves is append-only'); END").Error
					})
			}
			for _, step := range steps {
				if err := step(); err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Migrator().DropTable(tReservations, tMoves, tLevels, tWarehouses); err != nil {
				return err
			}
			if tx.Dialector.Name() == "postgres" {
				return tx.Exec("DROP FUNCTION IF EXISTS stock_moves_append_only()").Error
			}
			return nil
		},
	}, {
		// Warehouses get an address and can be closed.
		ID: "202611250050_warehouse_addresses",
		Migrate: func(tx *gorm.DB) error {
			type warehouse struct {
				Line1      string    `gorm:"size:200;not null;default:''"`
				City       string    `gorm:"size:120;not null;default:''"`
				PostalCode string    `gorm:"size:20;not null;default:''"`
				Status     string    `gorm:"size:10;not null;default:'active'"`
				UpdatedAt  time.Time `gorm:"not null;default:'1970-01-01 00:00:00'"`
			}
			m := tx.Table(tWarehouses).Migrator()
			for _, col := range []string{"Line1", "City", "PostalCode", "Status", "UpdatedAt"} {
				if err := m.AddColumn(&warehouse{}, col); err != nil {
					return err
				}
			}
			return tx.Exec("UPDATE " + tWarehouses + " SET updated_at = created_at").Error
		},
	}, {
		// The ledger gets every kind of move and a unit cost; each SKU a
		// moving-average valuation.
		ID:      "202611250051_stock_costs",
		Migrate: migrateStockCosts,
	}, transferMigration(), countMigration(), supplierMigration(), purchaseMigration(), reorderMigration()}
}

// migrateStockCosts widens stock_moves' kind CHECK and adds unit_cost (on
// SQLite, which cannot alter a CHECK, by rebuilding the append-only table
// with its index and triggers), and creates stock_values from the levels.
func migrateStockCosts(tx *gorm.DB) error {
	kinds := make([]string, len(moveKinds))
	for i, k := range moveKinds {
		kinds[i] = "'" + string(k) + "'"
	}
	check := "kind IN (" + strings.Join(kinds, ",") + ")"
	var steps []string
	if tx.Dialector.Name() == "postgres" {
		steps = []string{
			"ALTER TABLE stock_moves DROP CONSTRAINT chk_stock_moves_kind",
			"ALTER TABLE stock_moves ADD CONSTRAINT chk_stock_moves_kind CHECK (" + check + ")",
			"ALTER TABLE stock_moves ALTER COLUMN kind TYPE varchar(12)",
			"ALTER TABLE stock_moves ADD COLUMN unit_cost bigint NOT NULL DEFAULT 0",
		}
	} else {
		steps = []string{
			`CREATE TABLE stock_moves_v2 (
				id integer PRIMARY KEY AUTOINCREMENT,
				tenant_id integer NOT NULL,
				warehouse_id integer NOT NULL,
				sku_id integer NOT NULL,
				kind varchar(12) NOT NULL CONSTRAINT chk_stock_moves_kind CHECK (` + check + `),
				delta_on_hand integer NOT NULL DEFAULT 0,
				delta_reserved integer NOT NULL DEFAULT 0,
				reason varchar(200) NOT NULL DEFAULT '',
				ref varchar(100) NOT NULL DEFAULT '',
				unit_cost integer NOT NULL DEFAULT 0,
				actor_user_id integer NOT NULL DEFAULT 0,
				created_at datetime NOT NULL)`,
			`INSERT INTO stock_moves_v2 (id, tenant_id, warehouse_id, sku_id, kind, delta_on_hand, delta_reserved, reason, ref, actor_user_id, created_at)
				SELECT id, tenant_id, warehouse_id, sku_id, kind, delta_on_hand, delta_reserved, reason, ref, actor_user_id, created_at FROM stock_moves`,
			"DROP TABLE stock_moves", // its triggers and index go with it
			"ALTER TABLE stock_moves_v2 RENAME TO stock_moves",
			"CREATE INDEX ix_stock_moves_level ON stock_moves (tenant_id, warehouse_id, sku_id)",
			"CREATE TRIGGER stock_moves_no_update BEFORE UPDATE ON stock_moves BEGIN SELECT RAISE(ABORT, 'stock_moves is append-only'); END",
			"CREATE TRIGGER stock_moves_no_delete BEFORE DELETE ON stock_moves BEGIN SELECT RAISE(ABORT, 'stock_moves is append-only'); END",
		}
	}
	for _, q := range steps {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	type stockValue struct {
		TenantID  int64     `gorm:"not null;index"`
		SKUID     int64     `gorm:"column:sku_id;primaryKey;autoIncrement:false"`
		Qty       int64     `gorm:"not null;default:0;check:chk_stock_values_qty,qty >= 0"`
		AvgCost   int64     `gorm:"not null;default:0;check:chk_stock_values_cost,avg_cost >= 0"`
		UpdatedAt time.Time `gorm:"not null"`
	}
	if err := tx.Table("stock_values").AutoMigrate(&stockValue{}); err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO stock_values (tenant_id, sku_id, qty, avg_cost, updated_at)
		SELECT MIN(tenant_id), sku_id, SUM(on_hand), 0, MAX(updated_at) FROM stock_levels GROUP BY sku_id`).Error
}
