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
	ev := OutboxEvent{EventID: "evt_" + uuid.NewString(), Topic: topic, Payload: string(body), CreatedAt: now, NextAttempt: now, Pending: true}
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
	done := 0
	for _, ev := range evs {
		derr := sink.Deliver(ctx, ev)
		upd := map[string]any{"attempts": ev.Attempts + 1}
		if derr == nil {
			t := time.Now().UTC()
			upd["relayed_at"] = &t
			upd["pending"] = false
			upd["last_error"] = ""
			done++
		} else {
			back := time.Duration(1<<min(ev.Attempts, 12)) * time.Second
			upd["next_attempt"] = time.Now().UTC().Add(back)
			upd["last_error"] = derr.Error()
		}
		if err := db.W(ctx).Model(&OutboxEvent{}).Where("id = ?", ev.ID).Updates(upd).Error; err != nil {
			return done, err
		}
	}
	return done, nil
}
