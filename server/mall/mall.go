// Package mall is what shoppers come for: the catalog of SaaS plans and
// goods across every brand store (with an in-memory read model for
// screening), compare, one cart per account on every channel, checkout that
// splits per store and never oversells, payments, and subscriptions.
package mall

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/mall/catalog"
	"saasmall/server/store"
	"saasmall/server/warehouse"
	"saasmall/tenants"
)

// Stock is what the mall needs of the warehouse.
type Stock interface {
	// Reserve holds stock for an order inside the caller's transaction, for
	// the tenant in ctx; it fails with an out_of_stock conflict naming SKUs.
	Reserve(ctx context.Context, orderRef string, lines []warehouse.ReserveLine, ttl time.Duration) error
	// ReserveNew is Reserve for an order created in the caller's
	// transaction, which the caller rolls back if it fails, shipping to
	// country (warehouses there are preferred); it returns the SKUs it left
	// with nothing available.
	ReserveNew(ctx context.Context, orderRef, country string, lines []warehouse.ReserveLine, ttl time.Duration) ([]int64, error)
	Release(ctx context.Context, orderRef string) error
	Commit(ctx context.Context, orderRef string) error
	Adjust(ctx context.Context, in warehouse.Adjustment) (warehouse.StockLevel, error)
	// Return books goods a customer sent back inside the caller's
	// transaction, for the tenant in ctx.
	Return(ctx context.Context, in warehouse.ReturnInput) (*warehouse.Returned, error)
	// AvailableAll is a platform read for the catalog read model.
	AvailableAll(ctx context.Context, skuIDs []int64) (map[int64]int64, error)
}

var _ Stock = (*warehouse.Service)(nil)

// availableAll reads availability in chunks the warehouse accepts.
func (s *Service) availableAll(ctx context.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	for start := 0; start < len(ids); start += warehouse.MaxSKUIDs {
		m, err := s.stock.AvailableAll(ctx, ids[start:min(start+warehouse.MaxSKUIDs, len(ids))])
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out, nil
}

// AdjustStock changes stock of a goods SKU of the tenant in ctx with a
// reason, and refreshes the product's availability in the read model.
// Staff with warehouse:write. Errors: as warehouse.Service.Adjust.
func (s *Service) AdjustStock(ctx context.Context, in warehouse.Adjustment) (warehouse.StockLevel, error) {
	var lvl warehouse.StockLevel
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		var err error
		if lvl, err = s.stock.Adjust(ctx, in); err != nil {
			return err
		}
		var k SKU
		if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Take(&k, in.SKUID).Error; err != nil {
			return err
		}
		return s.touch(ctx, k.TenantID, k.ProductID)
	})
	return lvl, storeErr(err)
}

// GoodsSKU reports whether skuID is a goods SKU of the tenant in ctx (the
// warehouse's check before it adjusts stock).
func (s *Service) GoodsSKU(ctx context.Context, skuID int64) (bool, error) {
	var k SKU
	err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Select("id", "product_id").Where("id = ?", skuID).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var kinds []string
	err = s.db.R(ctx).Model(&Product{}).Scopes(tenants.Scope(ctx)).Where("id = ?", k.ProductID).Pluck("kind", &kinds).Error
	return len(kinds) == 1 && kinds[0] == KindGoods, err
}

// SKUByCode returns the id of the SKU of the tenant in ctx whose code is
// code (exactly), and whether it is goods; id 0 when there is none. The
// warehouse's CSV imports find SKUs by code with it.
func (s *Service) SKUByCode(ctx context.Context, code string) (int64, bool, error) {
	var k SKU
	err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Select("id", "product_id").Where("code = ?", code).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var kinds []string
	err = s.db.R(ctx).Model(&Product{}).Scopes(tenants.Scope(ctx)).Where("id = ?", k.ProductID).Pluck("kind", &kinds).Error
	return k.ID, len(kinds) == 1 && kinds[0] == KindGoods, err
}

// Tenants is what the mall needs of the tenants service.
type Tenants interface {
	ByIDs(ctx context.Context, ids []int64) ([]tenants.Tenant, error)
	// Cached is ByIDs through the short-lived cache request routing uses.
	Cached(ctx context.Context, ids []int64) ([]tenants.Tenant, error)
}

// Config tunes the mall.
type Config struct {
	ReservationTTL time.Duration    // unpaid orders are cancelled after this (default 15 min)
	ShippingFee    int64            // flat goods shipping per store, in major units of the order currency (default 8)
	Now            func() time.Time // clock
	Log            *slog.Logger
}

// Service is the mall service.
type Service struct {
	db      *store.DB
	cfg     Config
	stock   Stock
	tenants Tenants
	Catalog *ReadModel

	inflight inflight     // idempotency keys being answered in this process
	recent   recentOrders // orders just placed, for their payment
}

// New returns the mall service with its catalog read model (call
// Catalog.Load before serving shoppers).
func New(db *store.DB, stock Stock, ts Tenants, cfg Config) *Service {
	if cfg.ReservationTTL <= 0 {
		cfg.ReservationTTL = 15 * time.Minute
	}
	if cfg.ShippingFee <= 0 {
		cfg.ShippingFee = 8
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Service{db: db, cfg: cfg, stock: stock, tenants: ts}
	s.Catalog = newReadModel(s, catalog.NewMemory())
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// Migrations are the mall's tables.
func Migrations() []*store.Migration {
	return []*store.Migration{{
		ID: "202611250020_mall_catalog",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(&Product{}, &SKU{}, &Price{}, &CatalogChange{}); err != nil {
				return err
			}
			if tx.Dialector.Name() == "postgres" {
				return tx.Exec(`CREATE INDEX IF NOT EXISTS ix_products_fts ON products USING GIN (to_tsvector('simple', name || ' ' || summary || ' ' || attributes))`).Error
			}
			for _, q := range []string{
				`CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5(name, summary, attributes, content='products', content_rowid='id', tokenize='trigram')`,
				`CREATE TRIGGER IF NOT EXISTS products_fts_ai AFTER INSERT ON products BEGIN
					INSERT INTO products_fts(rowid, name, summary, attributes) VALUES (new.id, new.name, new.summary, new.attributes); END`,
				`CREATE TRIGGER IF NOT EXISTS products_fts_ad AFTER DELETE ON products BEGIN
					INSERT INTO products_fts(products_fts, rowid, name, summary, attributes) VALUES ('delete', old.id, old.name, old.summary, old.attributes); END`,
				`CREATE TRIGGER IF NOT EXISTS products_fts_au AFTER UPDATE OF name, summary, attributes ON products BEGIN
					INSERT INTO products_fts(products_fts, rowid, name, summary, attributes) VALUES ('delete', old.id, old.name, old.summary, old.attributes);
					INSERT INTO products_fts(rowid, name, summary, attributes) VALUES (new.id, new.name, new.summary, new.attributes); END`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}, {
		ID: "202611250021_mall_orders",
		Migrate: func(tx *gorm.DB) error {
			return tx.AutoMigrate(&Cart{}, &CartItem{}, &Order{}, &OrderLine{}, &Payment{}, &IdempotencyKey{}, &Subscription{})
		},
	}, {
		// Sales counts move from the payment to a job: orders paid before
		// are counted already.
		ID: "202611250045_mall_sales_counted",
		Migrate: func(tx *gorm.DB) error {
			if !tx.Migrator().HasColumn(&Order{}, "sales_counted") {
				if err := tx.Migrator().AddColumn(&Order{}, "SalesCounted"); err != nil {
					return err
				}
			}
			for _, q := range []string{
				`UPDATE orders SET sales_counted = true WHERE paid_at IS NOT NULL`,
				`CREATE INDEX IF NOT EXISTS ix_orders_sales_pending ON orders (id) WHERE paid_at IS NOT NULL AND NOT sales_counted`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}, {
		// Sales counts move from products.sales_count (left in place,
		// unused) to their own narrow table.
		ID: "202611251500_mall_product_sales",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(&ProductSales{}); err != nil {
				return err
			}
			if !tx.Migrator().HasColumn("products", "sales_count") {
				return nil
			}
			return tx.Exec(`INSERT INTO product_sales (product_id, tenant_id, units)
				SELECT id, tenant_id, sales_count FROM products WHERE sales_count > 0`).Error
		},
	}, returnsMigration()}
}

// CountSales adds the units of up to limit paid orders not yet counted to
// their products' sales counts (for the best-selling order), in one
// transaction, and returns how many orders it counted. A periodic job
// calls it, so that a payment writes nothing to the (hot, shared) product
// rows.
func (s *Service) CountSales(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		var ids []int64
		if err := s.db.W(ctx).Model(&Order{}).Where("paid_at IS NOT NULL AND NOT sales_counted").Order("id").Limit(limit).
			Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		var sold []struct {
			TenantID  int64
			ProductID int64
			Units     int64
		}
		if err := s.db.W(ctx).Model(&OrderLine{}).Select("tenant_id, product_id, SUM(quantity) AS units").
			Where("order_id IN ?", ids).Group("tenant_id, product_id").Order("product_id").Scan(&sold).Error; err != nil {
			return err
		}
		// One upsert of the products' counts and one INSERT of their
		// catalog changes: a burst of sales must not hold the one writer
		// for long.
		now := s.now()
		counts := make([]ProductSales, len(sold))
		changes := make([]CatalogChange, len(sold))
		for i, p := range sold {
			counts[i] = ProductSales{ProductID: p.ProductID, TenantID: p.TenantID, Units: p.Units}
			changes[i] = CatalogChange{TenantID: p.TenantID, ProductID: p.ProductID, SalesOnly: true, At: now}
		}
		add := clause.OnConflict{Columns: []clause.Column{{Name: "product_id"}},
			DoUpdates: clause.Assignments(map[string]any{"units": gorm.Expr("product_sales.units + excluded.units")})}
		if err := s.db.W(ctx).Clauses(add).CreateInBatches(&counts, 300).Error; err != nil {
			return err
		}
		if err := s.db.W(ctx).CreateInBatches(&changes, 300).Error; err != nil {
			return err
		}
		n = len(ids)
		return s.db.W(ctx).Model(&Order{}).Where("id IN ?", ids).UpdateColumn("sales_counted", true).Error
	})
	return n, err
}

// Prune deletes catalog changes every process has long applied and
// idempotency records older than 48 hours (they are kept at least 24).
func (s *Service) Prune(ctx context.Context) error {
	now := s.now()
	if err := s.db.W(ctx).Where("at < ?", now.Add(-time.Hour)).Delete(&CatalogChange{}).Error; err != nil {
		return err
	}
	return s.db.W(ctx).Where("created_at < ?", now.Add(-48*time.Hour)).Delete(&IdempotencyKey{}).Error
}

// TenantChanged makes every process's read model re-check a tenant's
// products (its status changed), inside the caller's transaction.
func (s *Service) TenantChanged(ctx context.Context, tenantID int64) error {
	return s.touch(ctx, tenantID, 0)
}
