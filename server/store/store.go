// Package store opens the database (SQLite by default, PostgreSQL to scale
// out), runs versioned migrations, carries transactions through a
// context.Context so nested service calls reuse them, and owns the
// transactional outbox.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"saasmall/server/apperr"
)

// Dialect names the database family.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Durability chooses SQLite's synchronous mode.
type Durability string

const (
	DurabilityNormal Durability = "normal" // WAL + synchronous=NORMAL: a power cut may lose the last commits, never corrupts
	DurabilityFull   Durability = "full"   // synchronous=FULL: every commit is on disk before it returns
)

// Config says which database to open.
type Config struct {
	// DSN is "sqlite:PATH", a bare path, "file:PATH" or "postgres://…".
	DSN        string
	Durability Durability
	// Readers is the size of the SQLite reader pool (default 2×GOMAXPROCS, min 4).
	Readers int
	Logger  *slog.Logger
}

// DB is the opened database: one writer handle and one reader handle. On
// PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	writer  *gorm.DB
	reader  *gorm.DB
	path    string     // SQLite file path
	group   *committer // SQLite: shares one commit among concurrent transactions
	// SQLite: copies the WAL back into the database off the writer's path
	checkpoints *checkpointer
}

// Open opens the database named by cfg.DSN.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	gcfg := &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	dsn := strings.TrimSpace(cfg.DSN)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		g, err := gorm.Open(postgres.New(postgres.Config{DSN: dsn}), gcfg)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		sqlDB, err := g.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		if err := sqlDB.PingContext(ctx); err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("store: ping postgres: %w", err)
		}
		return &DB{Dialect: Postgres, writer: g, reader: g}, nil
	}

	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	sync := "NORMAL"
	if cfg.Durability == DurabilityFull {
		sync = "FULL"
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(" + sync + ")&_pragma=temp_store(MEMORY)"
	// One writer connection whose transactions begin IMMEDIATE: a deferred
	// transaction that upgrades to a write would skip busy_timeout and fail
	// with SQLITE_BUSY under load.
	// The writer never checkpoints: a checkpoint's fsyncs would stall every
	// write behind it. The checkpointer does it on its own connection.
	// (No PrepareStmt: the driver prepares every statement again anyway,
	// and gorm's statement cache holds its lock while it waits for the one
	// connection, which deadlocks against an open transaction.)
	// Each handle gets its own copy of the config: gorm keeps a handle's
	// callbacks in it (the writer counts its writes with one).
	wcfg, rcfg := *gcfg, *gcfg
	// The writer keeps 64 MiB of pages (SQLite's default is 2 MiB): the
	// indexes every order touches stay in memory instead of being read
	// again from the file on each insert.
	w, err := gorm.Open(sqlite.Open(base+"&_txlock=immediate&_pragma=wal_autocheckpoint(0)&_pragma=cache_size(-65536)"), &wcfg)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite writer: %w", err)
	}
	wdb, _ := w.DB()
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("store: ping sqlite: %w", err)
	}
	r, err := gorm.Open(sqlite.Open(base+"&_pragma=query_only(1)"), &rcfg)
	if err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("store: open sqlite readers: %w", err)
	}
	n := cfg.Readers
	if n <= 0 {
		n = 8
	}
	rdb, _ := r.DB()
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	group, err := newCommitter(w)
	if err != nil {
		_ = wdb.Close()
		return nil, err
	}
	cp, err := newCheckpointer(base, *gcfg)
	if err != nil {
		group.close()
		_ = wdb.Close()
		_ = rdb.Close()
		return nil, err
	}
	return &DB{Dialect: SQLite, writer: w, reader: r, path: path, group: group, checkpoints: cp}, nil
}

// Close closes both handles.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
	var errs []error
	if db.checkpoints != nil {
		errs = append(errs, db.checkpoints.close())
	}
	if s, err := db.writer.DB(); err == nil {
		errs = append(errs, s.Close())
	}
	if db.reader != db.writer {
		if s, err := db.reader.DB(); err == nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers (used by /readyz).
func (db *DB) Ping(ctx context.Context) error {
	s, err := db.reader.DB()
	if err != nil {
		return err
	}
	return s.PingContext(ctx)
}

type txKey struct{}

// Tx runs fn in a write transaction carried by the context passed to fn.
// When ctx already carries a transaction, fn joins it: a service method owns
// its transaction, and nested service calls reuse the caller's. On SQLite,
// transactions that arrive together share one commit (see group.go); fn
// then runs on the committer's goroutine and must not wait for other
// requests.
func (db *DB) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.tx(ctx, false, fn)
}

// TxRepeatable is Tx for a fn that may run more than once: each run must
// start again from fn's inputs, keeping nothing from an earlier run (copy
// what it changes), and have no effect outside the transaction. On SQLite
// such transactions share their commit without a savepoint each (see
// group.go); the checkout and payment paths use it.
func (db *DB) TxRepeatable(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.tx(ctx, true, fn)
}

func (db *DB) tx(ctx context.Context, repeatable bool, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	if db.group != nil {
		return db.group.run(ctx, repeatable, fn)
	}
	return db.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// GroupStats reports how SQLite's transactions shared their commits (zero
// on PostgreSQL).
func (db *DB) GroupStats() GroupStats {
	if db.group == nil {
		return GroupStats{}
	}
	c := db.group
	return GroupStats{Commits: c.commits.Load(), Members: c.members.Load(), Reruns: c.reruns.Load()}
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*gorm.DB)
	return ok
}

// W returns the handle for writes: the context's transaction, else the writer.
func (db *DB) W(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return db.writer.WithContext(ctx)
}

// R returns the handle for reads: the context's transaction (so a
// transaction reads its own writes), else the reader pool.
func (db *DB) R(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return db.reader.WithContext(ctx)
}

// Writer returns the raw writer handle (migrations, adapters).
func (db *DB) Writer() *gorm.DB { return db.writer }

// Reader returns the raw reader handle.
func (db *DB) Reader() *gorm.DB { return db.reader }

// Backup writes a consistent online copy of the database to path
// (VACUUM INTO on SQLite). PostgreSQL deployments use pg_dump.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.Dialect != SQLite {
		return errors.New("store: backup: use pg_dump for PostgreSQL")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("store: backup: %s already exists", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
	}
	return db.writer.WithContext(ctx).Exec("VACUUM INTO ?", path).Error
}

// Error maps driver errors to application errors: duplicate keys become
// conflicts, missing rows not-found, everything else internal.
func Error(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return apperr.NotFound(what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		e := apperr.Conflict("already_exists")
		e.Args = map[string]any{"What": what}
		e.Err = err
		return e
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		e := apperr.Conflict("still_referenced")
		e.Args = map[string]any{"What": what}
		e.Err = err
		return e
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.Internal(err)
}
