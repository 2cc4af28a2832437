// Package audit is the append-only audit log of administrative changes
// (roles, members, policies, tenants). An entry is written inside the
// transaction of the change it describes, so a change and its entry commit or
// roll back together; tenant admins read their tenant's entries.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Entry is one audited change. Before and After hold the JSON encoding of the
// changed thing's state around the change ("" when there is none: nothing
// before a creation, nothing after a deletion); in JSON they are emitted as
// raw JSON values or null.
type Entry struct {
	ID          int64     `gorm:"primaryKey" json:"id"`
	TenantID    int64     `gorm:"not null" json:"tenant_id"` // indexed (tenant_id, id) and (tenant_id, action, id)
	ActorUserID int64     `gorm:"not null;default:0" json:"actor_user_id"`
	ActorEmail  string    `gorm:"size:254;not null;default:''" json:"actor_email"`
	Action      string    `gorm:"size:80;not null" json:"action"`
	Target      string    `gorm:"size:255;not null;default:''" json:"target"`
	Before      string    `gorm:"type:text;not null;default:''" json:"before"`
	After       string    `gorm:"type:text;not null;default:''" json:"after"`
	CreatedAt   time.Time `gorm:"not null" json:"created_at"`
}

// TableName is the audit log's table.
func (Entry) TableName() string { return "audit_entries" }

// MarshalJSON emits Before and After as raw JSON (null when empty).
func (e Entry) MarshalJSON() ([]byte, error) {
	type plain Entry
	return json.Marshal(struct {
		plain
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	}{plain(e), rawJSON(e.Before), rawJSON(e.After)})
}

func rawJSON(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

// Migrations are the audit log's table.
func Migrations() []*store.Migration {
	// The schema as of this migration, frozen apart from Entry so later
	// changes to Entry need a new migration rather than editing this one.
	type auditEntry struct {
		ID          int64     `gorm:"primaryKey"`
		TenantID    int64     `gorm:"not null"`
		ActorUserID int64     `gorm:"not null;default:0"`
		ActorEmail  string    `gorm:"size:254;not null;default:''"`
		Action      string    `gorm:"size:80;not null"`
		Target      string    `gorm:"size:255;not null;default:''"`
		Before      string    `gorm:"type:text;not null;default:''"`
		After       string    `gorm:"type:text;not null;default:''"`
		CreatedAt   time.Time `gorm:"not null"`
	}
	const table = "audit_entries"
	return []*store.Migration{{
		ID: "202611250005_audit",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table(table).AutoMigrate(&auditEntry{}); err != nil {
				return err
			}
			// Newest-first lists of one tenant, optionally of one action.
			if err := tx.Exec("CREATE INDEX idx_audit_tenant ON " + table + " (tenant_id, id)").Error; err != nil {
				return err
			}
			return tx.Exec("CREATE INDEX idx_audit_tenant_action ON " + table + " (tenant_id, action, id)").Error
		},
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable(table) },
	}}
}

// ErrNoTx is returned by Record outside a transaction: an entry written apart
// from its change could describe a change that never committed.
var ErrNoTx = errors.New("audit: entries must be written inside the change's transaction")

// Log writes and lists audit entries.
type Log struct {
	db  *store.DB
	now func() time.Time
}

// New returns the audit log on db.
func New(db *store.DB) *Log {
	return &Log{db: db, now: func() time.Time { return time.Now().UTC() }}
}

// Limits of the text columns; longer values are cut at a rune boundary.
const (
	maxAction = 80
	maxTarget = 255
	maxEmail  = 254
)

// Record writes an entry for a change of tenantID (0 for platform-wide
// changes) inside ctx's transaction. The actor is actor.From(ctx); without
// one (the CLI, background jobs) the entry's actor is 0 and "". before and
// after are encoded as JSON; nil means "no state" and is stored as "".
//
// Any service may call it from inside the transaction of the change it
// records. It returns ErrNoTx when ctx carries no transaction, and an
// internal error when the value cannot be encoded or the row not written;
// the caller's transaction should then roll back.
func (l *Log) Record(ctx context.Context, tenantID int64, action, target string, before, after any) error {
	if !store.InTx(ctx) {
		return ErrNoTx
	}
	if action == "" {
		return apperr.Internal(errors.New("audit: empty action"))
	}
	b, err := encode(before)
	if err != nil {
		return apperr.Internal(fmt.Errorf("audit: encode before of %s: %w", action, err))
	}
	a, err := encode(after)
	if err != nil {
		return apperr.Internal(fmt.Errorf("audit: encode after of %s: %w", action, err))
	}
	e := Entry{
		TenantID:  tenantID,
		Action:    truncate(action, maxAction),
		Target:    truncate(target, maxTarget),
		Before:    b,
		After:     a,
		CreatedAt: l.now(),
	}
	if ac := actor.From(ctx); ac != nil {
		e.ActorUserID = ac.UserID
		e.ActorEmail = truncate(ac.Email, maxEmail)
	}
	if err := l.db.W(ctx).Create(&e).Error; err != nil {
		return apperr.Internal(fmt.Errorf("audit: record %s: %w", action, err))
	}
	return nil
}

func encode(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return "", nil
	}
	return string(b), nil
}

// truncate cuts s to at most n bytes without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// Query selects entries of a list: a page, optionally only one action
// (exact match, e.g. "role.create") and one actor.
type Query struct {
	store.PageRequest
	Action      string `query:"action" json:"action"`
	ActorUserID int64  `query:"actor" json:"actor"`
}

// List returns a page of the entries of the tenant in ctx, newest first.
// Tenant admins call it (the route checks admin read). Errors: an internal
// error when ctx carries no tenant (the tenant scope fails closed) or the
// database fails.
func (l *Log) List(ctx context.Context, q Query) (store.Page[Entry], error) {
	base := func() *gorm.DB {
		db := l.db.R(ctx).Model(&Entry{}).Scopes(tenants.Scope(ctx))
		if q.Action != "" {
			db = db.Where("action = ?", q.Action)
		}
		if q.ActorUserID != 0 {
			db = db.Where("actor_user_id = ?", q.ActorUserID)
		}
		return db
	}
	var total int64
	if err := base().Count(&total).Error; err != nil {
		return store.Page[Entry]{}, store.Error(err, "audit entry")
	}
	var items []Entry
	if total > 0 {
		if err := base().Order("id DESC").Scopes(q.PageRequest.Scope).Find(&items).Error; err != nil {
			return store.Page[Entry]{}, store.Error(err, "audit entry")
		}
		for i := range items {
			items[i].CreatedAt = items[i].CreatedAt.UTC()
		}
	}
	return store.NewPage(items, total, q.PageRequest), nil
}
