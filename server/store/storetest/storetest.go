// Package storetest opens a fresh, migrated database for a test: SQLite in a
// temporary directory by default, or a fresh schema on the PostgreSQL server
// named by SAASMALL_TEST_POSTGRES, so one suite runs on both databases.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"saasmall/server/store"
)

// PostgresDSN returns the test PostgreSQL server's DSN, or "" when the
// PostgreSQL suite is not requested.
func PostgresDSN() string { return os.Getenv("SAASMALL_TEST_POSTGRES") }

// DSN returns a DSN for a fresh, empty database for t (dropped when t ends).
func DSN(t testing.TB) string {
	t.Helper()
	pg := PostgresDSN()
	if pg == "" {
		return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := gorm.Open(postgres.Open(pg), &gorm.Config{})
	if err != nil {
		t.Fatalf("storetest: connect %s: %v", pg, err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if s, err := admin.DB(); err == nil {
			_ = s.Close()
		}
	})
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns an opened database (not migrated) for t, closed when t ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DSN: DSN(t)})
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
