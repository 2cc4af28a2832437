package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"saasmall/server/jobs"
	"saasmall/server/store"
	"saasmall/server/store/storetest"
)

func openTwo(t *testing.T) (*store.DB, *store.DB) {
	t.Helper()
	dsn := storetest.DSN(t)
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(context.Background(), store.Config{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs[i] = db
	}
	if err := dbs[0].Migrate(context.Background(), jobs.Migrations()); err != nil {
		t.Fatal(err)
	}
	return dbs[0], dbs[1]
}

// TestTwoProcessesNeverRunTheSameJob: two runners on two connections to one
// database (as two server processes) drain 300 queued jobs; each runs
// exactly once and never twice at the same time.
func TestTwoProcessesNeverRunTheSameJob(t *testing.T) {
	db1, db2 := openTwo(t)
	ctx := context.Background()
	const n = 300
	var mu sync.Mutex
	runs := map[int]int{}
	running := map[int]bool{}
	var overlap atomic.Int32
	handler := func(ctx context.Context, p []byte) error {
		var id int
		if err := json.Unmarshal(p, &id); err != nil {
			return err
		}
		mu.Lock()
		if running[id] {
			overlap.Add(1)
		}
		running[id] = true
		runs[id]++
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running[id] = false
		mu.Unlock()
		return nil
	}
	r1 := jobs.New(db1, jobs.Options{Poll: 5 * time.Millisecond})
	r2 := jobs.New(db2, jobs.Options{Poll: 5 * time.Millisecond})
	r1.Handle("work", handler)
	r2.Handle("work", handler)
	for i := 0; i < n; i++ {
		if err := r1.Enqueue(ctx, "work", i, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var ran [2]int
	for i, r := range []*jobs.Runner{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, err := r.RunDue(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				ran[i] += k
				if k == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if overlap.Load() != 0 {
		t.Fatalf("%d jobs ran twice at once", overlap.Load())
	}
	for i := 0; i < n; i++ {
		if runs[i] != 1 {
			t.Fatalf("job %d ran %d times", i, runs[i])
		}
	}
	t.Logf("runner 1 ran %d, runner 2 ran %d", ran[0], ran[1])
	var left int64
	db1.Reader().Model(&jobs.Job{}).Count(&left)
	if left != 0 {
		t.Fatalf("%d jobs left after success", left)
	}
}

// TestLeaseExpiryAndRetry: a failed job is retried with backoff; a job whose
// runner died is taken again once its lease runs out; periodic jobs come back.
func TestLeaseExpiryAndRetry(t *testing.T) {
	db1, db2 := openTwo(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); now = now.Add(d); clockMu.Unlock() }

	var attempts atomic.Int32
	flaky := func(ctx context.Context, _ []byte) error {
		if attempts.Add(1) == 1 {
			return errors.New("boom")
		}
		return nil
	}
	r1 := jobs.New(db1, jobs.Options{Now: clock, Lease: time.Minute})
	r1.Handle("flaky", flaky)
	if err := r1.Enqueue(ctx, "flaky", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if k, _ := r1.RunDue(ctx); k != 1 || attempts.Load() != 1 {
		t.Fatalf("first run: ran %d, attempts %d", k, attempts.Load())
	}
	if k, _ := r1.RunDue(ctx); k != 0 {
		t.Fatal("a failed job ran again before its backoff")
	}
	advance(5 * time.Second)
	if k, _ := r1.RunDue(ctx); k != 1 || attempts.Load() != 2 {
		t.Fatalf("retry: ran %d, attempts %d", k, attempts.Load())
	}

	// A job taken by a runner that then dies (its handler never returns in
	// time): the other runner takes it once the lease runs out.
	block := make(chan struct{})
	var took atomic.Int32
	dead := jobs.New(db1, jobs.Options{Now: clock, Lease: time.Minute})
	dead.Handle("slow", func(ctx context.Context, _ []byte) error { took.Add(1); <-block; return nil })
	if err := dead.Enqueue(ctx, "slow", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithCancel(ctx)
	go func() { _, _ = dead.RunDue(dctx) }()
	for took.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	alive := jobs.New(db2, jobs.Options{Now: clock, Lease: time.Minute})
	var rescued atomic.Int32
	alive.Handle("slow", func(ctx context.Context, _ []byte) error { rescued.Add(1); return nil })
	if k, _ := alive.RunDue(ctx); k != 0 {
		t.Fatal("a leased job was taken by another runner")
	}
	advance(61 * time.Second)
	if k, _ := alive.RunDue(ctx); k != 1 || rescued.Load() != 1 {
		t.Fatalf("expired lease: ran %d", k)
	}
	close(block)
	cancel()

	// Periodic: runs, then not again until its interval has passed.
	var ticks atomic.Int32
	p := jobs.New(db2, jobs.Options{Now: clock})
	p.Every("tick", time.Hour, func(context.Context, []byte) error { ticks.Add(1); return nil })
	p.RunDue(ctx)
	p.RunDue(ctx)
	if ticks.Load() != 1 {
		t.Fatalf("periodic ran %d times at once", ticks.Load())
	}
	advance(time.Hour + time.Second)
	p.RunDue(ctx)
	if ticks.Load() != 2 {
		t.Fatalf("periodic did not come back: %d", ticks.Load())
	}
}
