package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"saasmall/server/store"
	"saasmall/server/store/storetest"
)

func migrated(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.Open(t)
	if err := db.Migrate(context.Background(), store.Migrations()); err != nil {
		t.Fatal(err)
	}
	// Migrating twice is a no-op.
	if err := db.Migrate(context.Background(), store.Migrations()); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Reader().Model(&store.OutboxEvent{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOutboxCommitsWithTheChange(t *testing.T) {
	db := migrated(t)
	ctx := context.Background()
	if err := db.Emit(ctx, 1, "x.happened", map[string]int{"n": 1}); !errors.Is(err, store.ErrNoTx) {
		t.Fatalf("Emit outside a transaction: %v, want ErrNoTx", err)
	}
	boom := errors.New("boom")
	err := db.Tx(ctx, func(ctx context.Context) error {
		if err := db.Emit(ctx, 1, "x.happened", map[string]int{"n": 1}); err != nil {
			return err
		}
		// A nested service call joins the same transaction…
		return db.Tx(ctx, func(ctx context.Context) error {
			if !store.InTx(ctx) {
				t.Error("nested call has no transaction")
			}
			if err := db.Emit(ctx, 1, "x.nested", nil); err != nil {
				return err
			}
			return boom // …so its failure rolls the outer change back too.
		})
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	if n := count(t, db); n != 0 {
		t.Fatalf("%d events survived a rollback", n)
	}
	if err := db.Tx(ctx, func(ctx context.Context) error { return db.Emit(ctx, 7, "order.created", map[string]int{"id": 3}) }); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 1 {
		t.Fatalf("%d events after commit, want 1", n)
	}

	// The relay hands pending events to the sink once; failures are retried later.
	var got []string
	fail := true
	sink := store.SinkFunc(func(_ context.Context, ev store.OutboxEvent) error {
		if fail {
			return errors.New("receiver down")
		}
		got = append(got, ev.Topic)
		return nil
	})
	if n, err := db.RelayOutbox(ctx, sink, 10); err != nil || n != 0 {
		t.Fatalf("relay while failing: %d %v", n, err)
	}
	fail = false
	if n, _ := db.RelayOutbox(ctx, sink, 10); n != 0 {
		t.Fatal("failed event retried before its backoff")
	}
	db.Writer().Model(&store.OutboxEvent{}).Where("1=1").Update("next_attempt", "2000-01-01 00:00:00")
	if n, err := db.RelayOutbox(ctx, sink, 10); err != nil || n != 1 || len(got) != 1 || got[0] != "order.created" {
		t.Fatalf("relay: %d %v %v", n, err, got)
	}
	if n, _ := db.RelayOutbox(ctx, sink, 10); n != 0 {
		t.Fatal("relayed event delivered again")
	}
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	if storetest.PostgresDSN() != "" {
		t.Skip("backup is SQLite's VACUUM INTO; PostgreSQL deployments use pg_dump")
	}
	db := migrated(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := db.Tx(ctx, func(ctx context.Context) error { return db.Emit(ctx, 1, "t", i) }); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "copy", "backup.db")
	if err := db.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, path); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	cp, err := store.Open(ctx, store.Config{DSN: "sqlite:" + path})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if n := count(t, cp); n != 5 {
		t.Fatalf("backup has %d events, want 5", n)
	}
}

func TestSQLitePragmas(t *testing.T) {
	if storetest.PostgresDSN() != "" {
		t.Skip("SQLite only")
	}
	db := storetest.Open(t)
	for _, h := range []struct {
		name string
		q    string
		want string
	}{
		{"journal_mode", "PRAGMA journal_mode", "wal"},
		{"foreign_keys", "PRAGMA foreign_keys", "1"},
		{"synchronous", "PRAGMA synchronous", "1"}, // NORMAL
		{"busy_timeout", "PRAGMA busy_timeout", "10000"},
	} {
		var got string
		if err := db.Reader().Raw(h.q).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != h.want {
			t.Errorf("reader %s = %q, want %q", h.name, got, h.want)
		}
		if err := db.Writer().Raw(h.q).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != h.want {
			t.Errorf("writer %s = %q, want %q", h.name, got, h.want)
		}
	}
	var qo string
	db.Reader().Raw("PRAGMA query_only").Scan(&qo)
	if qo != "1" {
		t.Errorf("reader query_only = %q", qo)
	}
}

// TestCheckpointsOffTheWriter: the writer never checkpoints (its commits
// must not stall on a checkpoint's fsyncs); the checkpointer copies the WAL
// into the database file in the background.
func TestCheckpointsOffTheWriter(t *testing.T) {
	if storetest.PostgresDSN() != "" {
		t.Skip("SQLite only")
	}
	path := filepath.Join(t.TempDir(), "cp.db")
	db, err := store.Open(context.Background(), store.Config{DSN: "sqlite:" + path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var auto int
	if err := db.Writer().Raw("PRAGMA wal_autocheckpoint").Scan(&auto).Error; err != nil || auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	if err := db.Migrate(context.Background(), store.Migrations()); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before := size()
	for i := range 50 {
		if err := db.Tx(context.Background(), func(ctx context.Context) error {
			return db.Emit(ctx, 1, "cp.test", map[string]string{"pad": strings.Repeat("x", 2000), "i": fmt.Sprint(i)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for size() < before+50*2000 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d): the WAL was never checkpointed", size(), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
