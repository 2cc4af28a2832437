package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/audit"
	"saasmall/server/store"
	"saasmall/server/store/storetest"
	"saasmall/tenants"
)

func setup(t *testing.T) (*store.DB, *audit.Log) {
	t.Helper()
	db := storetest.Open(t)
	if err := db.Migrate(context.Background(), append(store.Migrations(), audit.Migrations()...)); err != nil {
		t.Fatal(err)
	}
	return db, audit.New(db)
}

func inTenant(id int64) context.Context {
	return tenants.WithTenant(context.Background(), &tenants.Tenant{ID: id})
}

type role struct {
	Name  string   `json:"name"`
	Perms []string `json:"perms"`
}

func TestRecordOutsideTransaction(t *testing.T) {
	_, log := setup(t)
	err := log.Record(context.Background(), 1, "role.create", "x", nil, role{Name: "x"})
	if !errors.Is(err, audit.ErrNoTx) {
		t.Fatalf("Record outside a transaction = %v, want ErrNoTx", err)
	}
}

func TestRecordAndList(t *testing.T) {
	db, log := setup(t)
	alice := &actor.Actor{UserID: 7, Email: "alice@example.com"}
	bob := &actor.Actor{UserID: 8, Email: "bob@example.com"}
	writes := []struct {
		actor    *actor.Actor
		tenant   int64
		action   string
		target   string
		before   any
		after    any
		rollback bool
	}{
		{alice, 1, "role.create", "packer", nil, role{Name: "packer", Perms: []string{"warehouse:read"}}, false},
		{bob, 1, "member.roles", "user:9", []string{"viewer"}, []string{"owner", "viewer"}, false},
		{alice, 2, "role.create", "other", nil, role{Name: "other"}, false},
		{nil, 1, "policy.add", "user:9", nil, map[string]any{"object": "finance", "action": "read"}, false},
		{alice, 1, "role.delete", "packer", role{Name: "packer"}, nil, false},
		{alice, 1, "role.create", "ghost", nil, role{Name: "ghost"}, true}, // rolled back: never listed
	}
	errRollback := errors.New("roll back")
	for _, w := range writes {
		ctx := context.Background()
		if w.actor != nil {
			ctx = actor.With(ctx, w.actor)
		}
		err := db.Tx(ctx, func(ctx context.Context) error {
			if err := log.Record(ctx, w.tenant, w.action, w.target, w.before, w.after); err != nil {
				return err
			}
			if w.rollback {
				return errRollback
			}
			return nil
		})
		if err != nil && !(w.rollback && errors.Is(err, errRollback)) {
			t.Fatalf("Record %s: %v", w.action, err)
		}
	}

	tests := []struct {
		name      string
		tenant    int64
		q         audit.Query
		wantTotal int64
		want      []string // actions, newest first
	}{
		{"all of tenant 1", 1, audit.Query{}, 4, []string{"role.delete", "policy.add", "member.roles", "role.create"}},
		{"all of tenant 2", 2, audit.Query{}, 1, []string{"role.create"}},
		{"by action", 1, audit.Query{Action: "role.create"}, 1, []string{"role.create"}},
		{"by actor", 1, audit.Query{ActorUserID: 8}, 1, []string{"member.roles"}},
		{"actor and action", 1, audit.Query{ActorUserID: 7, Action: "member.roles"}, 0, []string{}},
		{"page 2 of 3 per page", 1, audit.Query{PageRequest: store.PageRequest{Page: 2, PerPage: 3}}, 4, []string{"role.create"}},
		{"first page of 2", 1, audit.Query{PageRequest: store.PageRequest{Page: 1, PerPage: 2}}, 4, []string{"role.delete", "policy.add"}},
		{"tenant without entries", 3, audit.Query{}, 0, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := log.List(inTenant(tc.tenant), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != tc.wantTotal {
				t.Errorf("total = %d, want %d", page.Total, tc.wantTotal)
			}
			got := []string{}
			for _, e := range page.Items {
				got = append(got, e.Action)
				if e.TenantID != tc.tenant {
					t.Errorf("entry %d of tenant %d listed for tenant %d", e.ID, e.TenantID, tc.tenant)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("actions = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("actions = %v, want %v", got, tc.want)
				}
			}
		})
	}

	t.Run("fields and JSON", func(t *testing.T) {
		page, err := log.List(inTenant(1), audit.Query{Action: "member.roles"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("List = %v, %v", page, err)
		}
		e := page.Items[0]
		if e.ActorUserID != 8 || e.ActorEmail != "bob@example.com" || e.Target != "user:9" {
			t.Errorf("entry = %+v", e)
		}
		if e.Before != `["viewer"]` || e.After != `["owner","viewer"]` {
			t.Errorf("before, after = %s, %s", e.Before, e.After)
		}
		if e.CreatedAt.IsZero() || e.CreatedAt.Location().String() != "UTC" {
			t.Errorf("created_at = %v, want UTC", e.CreatedAt)
		}
		var out map[string]any
		b, _ := json.Marshal(e)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if before, ok := out["before"].([]any); !ok || len(before) != 1 || before[0] != "viewer" {
			t.Errorf("JSON before = %#v in %s", out["before"], b)
		}
		for _, k := range []string{"id", "tenant_id", "actor_user_id", "actor_email", "action", "target", "after", "created_at"} {
			if _, ok := out[k]; !ok {
				t.Errorf("JSON lacks %q: %s", k, b)
			}
		}

		page, _ = log.List(inTenant(1), audit.Query{Action: "policy.add"})
		e = page.Items[0]
		if e.ActorUserID != 0 || e.ActorEmail != "" || e.Before != "" {
			t.Errorf("system entry = %+v", e)
		}
		b, _ = json.Marshal(e)
		out = nil
		_ = json.Unmarshal(b, &out)
		if v, ok := out["before"]; !ok || v != nil {
			t.Errorf("JSON before = %#v, want null", v)
		}
		if after, _ := out["after"].(map[string]any); after["object"] != "finance" {
			t.Errorf("JSON after = %#v", out["after"])
		}
	})

	t.Run("no tenant in context", func(t *testing.T) {
		_, err := log.List(context.Background(), audit.Query{})
		if err == nil {
			t.Fatal("List without a tenant succeeded")
		}
		if apperr.As(err).Code != tenants.ErrNoTenant.Code {
			t.Errorf("err = %v, want %s", err, tenants.ErrNoTenant.Code)
		}
	})
}

func TestRecordRejectsBadInput(t *testing.T) {
	db, log := setup(t)
	tests := []struct {
		name   string
		action string
		after  any
	}{
		{"empty action", "", nil},
		{"unencodable value", "role.create", func() {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Tx(context.Background(), func(ctx context.Context) error {
				return log.Record(ctx, 1, tc.action, "x", nil, tc.after)
			})
			if apperr.KindOf(err) != apperr.KindInternal || err == nil {
				t.Fatalf("err = %v, want an internal error", err)
			}
		})
	}
}
