package store

import (
	"context"
	"fmt"

	"github.com/go-gormigrate/gormigrate/v2"
)

// Migration is one versioned schema change. IDs are ordered strings
// ("202611250001_outbox"); a released migration is never edited, only
// followed by a new one.
type Migration = gormigrate.Migration

// Migrate applies every migration not yet applied, in order, each in its own
// transaction where the database allows it.
func (db *DB) Migrate(ctx context.Context, ms []*Migration) error {
	opts := *gormigrate.DefaultOptions
	opts.TableName = "schema_migrations"
	opts.UseTransaction = true
	m := gormigrate.New(db.writer.WithContext(ctx), &opts, ms)
	if err := m.Migrate(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Migrations are the store's own tables.
func Migrations() []*Migration {
	return []*Migration{{
		ID: "202611250001_outbox",
		Migrate: func(tx *gormDB) error {
			return tx.AutoMigrate(&OutboxEvent{})
		},
		Rollback: func(tx *gormDB) error { return tx.Migrator().DropTable(&OutboxEvent{}) },
	}}
}
