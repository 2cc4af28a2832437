// Package jobs runs periodic and queued background work. Every job is a row;
// a process takes a due job by writing a lease on it inside a short write
// transaction (with FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
// writer), so two server processes never run the same job at once, and a job
// whose process died is taken again when its lease runs out.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/store"
)

// Job is a unit of background work.
type Job struct {
	ID         int64     `gorm:"primaryKey"`
	Name       string    `gorm:"size:120;uniqueIndex"` // periodic jobs: their kind; queued: a unique name
	Kind       string    `gorm:"size:80;not null"`
	Payload    string    `gorm:"type:text;not null;default:''"`
	RunAt      time.Time `gorm:"not null;index"`
	Every      int64     `gorm:"not null;default:0"` // periodic interval in ms; 0 = run once
	LeaseOwner string    `gorm:"size:80;not null;default:''"`
	LeaseUntil *time.Time
	Attempts   int    `gorm:"not null;default:0"`
	LastError  string `gorm:"type:text;not null;default:''"`
	Dead       bool   `gorm:"not null;default:false"`
	CreatedAt  time.Time
}

// Migrations are the jobs table.
func Migrations() []*store.Migration {
	return []*store.Migration{{
		ID:       "202611250002_jobs",
		Migrate:  func(tx *gorm.DB) error { return tx.AutoMigrate(&Job{}) },
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable(&Job{}) },
	}}
}

// Handler does one job. Returning an error retries it later with backoff.
type Handler func(ctx context.Context, payload []byte) error

// MaxAttempts is how often a queued job is tried before it is marked dead.
const MaxAttempts = 10

// Runner takes due jobs and runs their handlers.
type Runner struct {
	db       *store.DB
	log      *slog.Logger
	owner    string
	lease    time.Duration
	poll     time.Duration
	now      func() time.Time
	mu       sync.Mutex
	handlers map[string]Handler
	periodic map[string]time.Duration
	ensured  int // periodic jobs whose rows exist
	wake     chan struct{}
}

// Options configure a Runner.
type Options struct {
	Lease time.Duration    // how long a taken job is ours (default 2 min)
	Poll  time.Duration    // how often to look for due jobs (default 1 s)
	Now   func() time.Time // a clock for tests
	Log   *slog.Logger
}

// New returns a runner on db.
func New(db *store.DB, o Options) *Runner {
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	host, _ := os.Hostname()
	return &Runner{
		db: db, log: o.Log, lease: o.Lease, poll: o.Poll, now: o.Now,
		owner:    fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8]),
		handlers: map[string]Handler{}, periodic: map[string]time.Duration{},
		wake: make(chan struct{}, 1),
	}
}

// Handle registers the handler for queued jobs of kind.
func (r *Runner) Handle(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[kind] = h
}

// Every registers a periodic job run about every interval by one process.
func (r *Runner) Every(kind string, interval time.Duration, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[kind] = h
	r.periodic[kind] = interval
}

// Enqueue schedules a one-off job of kind at runAt (zero: now). It joins the
// transaction in ctx, so the job exists exactly when the change that asked for
// it commits.
func (r *Runner) Enqueue(ctx context.Context, kind string, payload any, runAt time.Time) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	if runAt.IsZero() {
		runAt = r.now()
	}
	j := Job{Name: kind + ":" + uuid.NewString(), Kind: kind, Payload: string(body), RunAt: runAt.UTC(), CreatedAt: r.now()}
	if err := r.db.W(ctx).Create(&j).Error; err != nil {
		return err
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

// ensurePeriodic creates the row of each periodic job once per process.
func (r *Runner) ensurePeriodic(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ensured == len(r.periodic) {
		return nil
	}
	for kind, every := range r.periodic {
		j := Job{Name: kind, Kind: kind, RunAt: r.now(), Every: every.Milliseconds(), CreatedAt: r.now()}
		err := r.db.W(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoUpdates: clause.Assignments(map[string]any{"every": j.Every})}).Create(&j).Error
		if err != nil {
			return err
		}
	}
	r.ensured = len(r.periodic)
	return nil
}

// Run takes and runs due jobs until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.ensurePeriodic(ctx); err != nil {
		return err
	}
	t := time.NewTicker(r.poll)
	defer t.Stop()
	for {
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("jobs: run due", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.wake:
		}
	}
}

// RunDue takes every job due now and runs it, returning how many ran. Tests
// call it directly with a fake clock.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	if err := r.ensurePeriodic(ctx); err != nil {
		return 0, err
	}
	ran := 0
	for ctx.Err() == nil {
		js, err := r.claim(ctx, 16)
		if err != nil || len(js) == 0 {
			return ran, err
		}
		for _, j := range js {
			r.runOne(ctx, j)
			ran++
		}
	}
	return ran, ctx.Err()
}

func (r *Runner) claim(ctx context.Context, limit int) ([]Job, error) {
	r.mu.Lock()
	kinds := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		kinds = append(kinds, k)
	}
	r.mu.Unlock()
	if len(kinds) == 0 {
		return nil, nil
	}
	now := r.now()
	var js []Job
	err := r.db.Tx(ctx, func(ctx context.Context) error {
		q := r.db.W(ctx).Where("dead = ? AND run_at <= ? AND kind IN ? AND (lease_until IS NULL OR lease_until < ?)", false, now, kinds, now).
			Order("run_at").Limit(limit)
		if r.db.Dialect == store.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		if err := q.Find(&js).Error; err != nil {
			return err
		}
		if len(js) == 0 {
			return nil
		}
		ids := make([]int64, len(js))
		for i := range js {
			ids[i] = js[i].ID
		}
		until := now.Add(r.lease)
		return r.db.W(ctx).Model(&Job{}).Where("id IN ?", ids).
			Updates(map[string]any{"lease_owner": r.owner, "lease_until": until, "attempts": gorm.Expr("attempts + 1")}).Error
	})
	return js, err
}

func (r *Runner) runOne(ctx context.Context, j Job) {
	r.mu.Lock()
	h := r.handlers[j.Kind]
	r.mu.Unlock()
	jctx, cancel := context.WithTimeout(ctx, r.lease)
	err := safeRun(jctx, h, []byte(j.Payload))
	cancel()
	now := r.now()
	q := r.db.W(ctx).Model(&Job{}).Where("id = ? AND lease_owner = ?", j.ID, r.owner)
	var uerr error
	switch {
	case err == nil && j.Every > 0:
		uerr = q.Updates(map[string]any{"run_at": now.Add(time.Duration(j.Every) * time.Millisecond), "lease_owner": "", "lease_until": nil, "attempts": 0, "last_error": ""}).Error
	case err == nil:
		uerr = r.db.W(ctx).Where("id = ? AND lease_owner = ?", j.ID, r.owner).Delete(&Job{}).Error
	default:
		r.log.Warn("jobs: job failed", "kind", j.Kind, "id", j.ID, "attempt", j.Attempts+1, "err", err)
		back := time.Duration(1<<min(j.Attempts, 10)) * time.Second
		upd := map[string]any{"run_at": now.Add(back), "lease_owner": "", "lease_until": nil, "last_error": err.Error()}
		if j.Every == 0 && j.Attempts+1 >= MaxAttempts {
			upd["dead"] = true
		}
		uerr = q.Updates(upd).Error
	}
	if uerr != nil && !errors.Is(uerr, context.Canceled) {
		r.log.Error("jobs: record outcome", "kind", j.Kind, "id", j.ID, "err", uerr)
	}
}

func safeRun(ctx context.Context, h Handler, payload []byte) (err error) {
	if h == nil {
		return errors.New("jobs: no handler")
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: panic: %v", p)
		}
	}()
	return h(ctx, payload)
}
