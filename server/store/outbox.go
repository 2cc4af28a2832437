package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

type gormDB = gorm.DB

// OutboxEvent is a domain event written in the same transaction as the
// change it describes. The docking hub delivers them; until then a relay job
// marks them relayed.
type OutboxEvent struct {
	ID          int64     `gorm:"primaryKey"`
	EventID     string    `gorm:"size:40;not null;uniqueIndex"` // stable id for receivers to de-duplicate (webhook-id)
	TenantID    *int64    `gorm:"index"`
	Topic       string    `gorm:"size:80;not null"`
	Payload     string    `gorm:"type:text;not null"`
	CreatedAt   time.Time `gorm:"not null"`
	RelayedAt   *time.Time
	Attempts    int `gorm:"not null;default:0"`
	LastError   string
	NextAttempt time.Time `gorm:"not null;index:idx_outbox_pending,priority:2"`
	Pending     bool      `gorm:"not null;default:true;index:idx_outbox_pending,priority:1"`
}

// ErrNoTx is returned by Emit outside a transaction: an event written apart
// from its change could describe a change that never committed.
var ErrNoTx = errors.New("store: outbox event must be written inside the change's transaction")

// Emit writes a domain event into the outbox inside ctx's transaction.
// tenantID may be 0 for platform events.
func (db *DB) Emit(ctx context.Context, tenantID int64, topic string, payload any) error {
	if !InTx(ctx) {
		return ErrNoTx
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	// Version 7 ids grow with time, so the unique index on them takes each
	// new event at its right-hand end instead of at a random page.
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	ev := OutboxEvent{EventID: "evt_" + id.String(), Topic: topic, Payload: string(body), CreatedAt: now, NextAttempt: now, Pending: true}
	if tenantID != 0 {
		ev.TenantID = &tenantID
	}
	return db.CreateLater(ctx, &ev)
}

// Sink receives outbox events. It must be idempotent: delivery is at least once.
type Sink interface {
	Deliver(ctx context.Context, ev OutboxEvent) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, ev OutboxEvent) error

func (f SinkFunc) Deliver(ctx context.Context, ev OutboxEvent) error { return f(ctx, ev) }

// RelayOutbox hands up to limit pending events to sink, oldest first, and
// records the outcome. Failed events are retried with exponential backoff.
// The caller holds the relay job's lease, so no two processes relay at once.
func (db *DB) RelayOutbox(ctx context.Context, sink Sink, limit int) (int, error) {
	var evs []OutboxEvent
	now := time.Now().UTC()
	if err := db.R(ctx).Where("pending = ? AND next_attempt <= ?", true, now).
		Order("id").Limit(limit).Find(&evs).Error; err != nil {
		return 0, err
	}
	if len(evs) == 0 {
		return 0, nil
	}
	// Deliver, then record the outcomes in one transaction: one UPDATE for
	// every delivered event, one per failure (each has its own backoff).
	var delivered []int64
	type failure struct {
		ev  OutboxEvent
		err error
	}
	var failed []failure
	for _, ev := range evs {
		if err := sink.Deliver(ctx, ev); err != nil {
			failed = append(failed, failure{ev, err})
		} else {
			delivered = append(delivered, ev.ID)
		}
	}
	err := db.Tx(ctx, func(ctx context.Context) error {
		if len(delivered) > 0 {
			t := time.Now().UTC()
			if err := db.W(ctx).Model(&OutboxEvent{}).Where("id IN ?", delivered).Updates(map[string]any{
				"attempts": gorm.Expr("attempts + 1"), "relayed_at": &t, "pending": false, "last_error": ""}).Error; err != nil {
				return err
			}
		}
		for _, f := range failed {
			back := time.Duration(1<<min(f.ev.Attempts, 12)) * time.Second
			if err := db.W(ctx).Model(&OutboxEvent{}).Where("id = ?", f.ev.ID).Updates(map[string]any{
				"attempts": f.ev.Attempts + 1, "next_attempt": time.Now().UTC().Add(back), "last_error": f.err.Error()}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(delivered), nil
}
