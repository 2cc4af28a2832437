package policies

import (
	"time"

	gormadapter "github.com/casbin/gorm-adapter/v3"
	"gorm.io/gorm"

	"saasmall/server/store"
)

// roleRow is a role of a tenant. Its permissions are the casbin_rule rows
// "p, r:<name>, t:<tenant>, <object>, <action>".
type roleRow struct {
	ID          int64     `gorm:"primaryKey"`
	TenantID    int64     `gorm:"not null"`
	Name        string    `gorm:"size:40;not null"`
	Description string    `gorm:"size:200;not null;default:''"`
	Builtin     bool      `gorm:"not null;default:false"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (roleRow) TableName() string { return "roles" }

// versionRow counts the policy edits of a tenant. Every edit bumps it in the
// edit's transaction; enforcers remember the version they were loaded at.
type versionRow struct {
	TenantID int64 `gorm:"primaryKey;autoIncrement:false"`
	Version  int64 `gorm:"not null;default:0"`
}

func (versionRow) TableName() string { return "policy_versions" }

// casbinTable is gormadapter.CasbinRule's table.
const casbinTable = "casbin_rule"

// Migrations create casbin_rule (owned by these migrations: the adapter is
// never allowed to migrate it), roles and policy_versions.
func Migrations() []*store.Migration {
	// The schema as of this migration, frozen apart from the live types.
	type role struct {
		ID          int64     `gorm:"primaryKey"`
		TenantID    int64     `gorm:"not null;uniqueIndex:ux_roles_tenant_name,priority:1"`
		Name        string    `gorm:"size:40;not null;uniqueIndex:ux_roles_tenant_name,priority:2"`
		Description string    `gorm:"size:200;not null;default:''"`
		Builtin     bool      `gorm:"not null;default:false"`
		CreatedAt   time.Time `gorm:"not null"`
		UpdatedAt   time.Time `gorm:"not null"`
	}
	type policyVersion struct {
		TenantID int64 `gorm:"primaryKey;autoIncrement:false"`
		Version  int64 `gorm:"not null;default:0"`
	}
	return []*store.Migration{{
		ID: "202611250004_policies",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(&gormadapter.CasbinRule{}); err != nil {
				return err
			}
			for _, stmt := range []string{
				// The index the adapter would create, so a rule exists once.
				"CREATE UNIQUE INDEX idx_casbin_rule ON casbin_rule (ptype,v0,v1,v2,v3,v4,v5)",
				// Loading a domain: p rules by v1, g rules by v2.
				"CREATE INDEX idx_casbin_rule_v1 ON casbin_rule (v1,ptype)",
				"CREATE INDEX idx_casbin_rule_v2 ON casbin_rule (v2,ptype)",
			} {
				if err := tx.Exec(stmt).Error; err != nil {
					return err
				}
			}
			if err := tx.Table("roles").AutoMigrate(&role{}); err != nil {
				return err
			}
			return tx.Table("policy_versions").AutoMigrate(&policyVersion{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable("policy_versions", "roles", casbinTable)
		},
	}}
}
