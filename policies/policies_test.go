package policies_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"saasmall/policies"
	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/audit"
	"saasmall/server/store"
	"saasmall/server/store/storetest"
	"saasmall/tenants"
)

// Users of the fixture: in tenant 1, ownerA owns, one user per template;
// in tenant 2, ownerB owns and viewerB views.
const (
	ownerA  int64 = 100
	ownerB  int64 = 200
	viewerB int64 = 201
	nobody  int64 = 999
)

// roleUser is the tenant-1 user holding exactly one template role.
var roleUser = map[string]int64{
	"admin": 101, "store_manager": 102, "warehouse_clerk": 103, "logistics_clerk": 104,
	"accountant": 105, "integrator": 106, "viewer": 107, "owner": ownerA,
}

func migrate(t *testing.T, db *store.DB) {
	t.Helper()
	ms := append(append(store.Migrations(), policies.Migrations()...), audit.Migrations()...)
	if err := db.Migrate(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
}

type fixture struct {
	db  *store.DB
	svc *policies.Service
	log *audit.Log
}

// setup migrates a fresh database and provisions tenants 1 and 2 the way
// the tenants service does: templates, then members with roles, each in
// one transaction.
func setup(t *testing.T) *fixture {
	t.Helper()
	db := storetest.Open(t)
	migrate(t, db)
	return provision(t, db)
}

func provision(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	log := audit.New(db)
	svc, err := policies.New(db, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	members := map[int64]map[int64][]string{1: {}, 2: {ownerB: {"owner"}, viewerB: {"viewer"}}}
	for role, uid := range roleUser {
		members[1][uid] = []string{role}
	}
	for _, tid := range []int64{1, 2} {
		err := db.Tx(ctx, func(ctx context.Context) error {
			if err := svc.InstallTemplates(ctx, tid); err != nil {
				return err
			}
			for uid, roles := range members[tid] {
				if err := svc.SetUserRoles(ctx, tid, uid, roles); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("provision tenant %d: %v", tid, err)
		}
	}
	return &fixture{db: db, svc: svc, log: log}
}

// admin is a tenant admin's request context in tenant id.
func admin(id int64) context.Context {
	ctx := actor.With(context.Background(), &actor.Actor{UserID: ownerA, Email: "owner@example.com"})
	return tenants.WithTenant(ctx, &tenants.Tenant{ID: id})
}

func (f *fixture) allowed(t testing.TB, tenantID, userID int64, obj, act string) bool {
	t.Helper()
	ok, err := f.svc.Enforce(context.Background(), tenantID, userID, obj, act)
	if err != nil {
		t.Fatalf("Enforce(%d, %d, %s, %s): %v", tenantID, userID, obj, act, err)
	}
	return ok
}

// grants lists every "object:action" userID may do in tenantID.
func (f *fixture) grants(t testing.TB, tenantID, userID int64) string {
	t.Helper()
	var out []string
	for _, o := range policies.Objects {
		for _, a := range policies.Actions {
			if f.allowed(t, tenantID, userID, o, a) {
				out = append(out, o+":"+a)
			}
		}
	}
	return strings.Join(out, " ")
}

// expand turns "mall:rwa finance:r" into the grants format.
func expand(spec string) string {
	letters := map[byte]string{'r': "read", 'w': "write", 'a': "approve"}
	set := map[string]bool{}
	for _, f := range strings.Fields(spec) {
		obj, acts, _ := strings.Cut(f, ":")
		for i := range len(acts) {
			set[obj+":"+letters[acts[i]]] = true
		}
	}
	var out []string
	for _, o := range policies.Objects {
		for _, a := range policies.Actions {
			if set[o+":"+a] {
				out = append(out, o+":"+a)
			}
		}
	}
	return strings.Join(out, " ")
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return apperr.As(err).Code
}

func fields(err error) map[string]string {
	out := map[string]string{}
	var e *apperr.Error
	if errors.As(err, &e) {
		for k, v := range e.Fields {
			out[k] = v.Code
		}
	}
	return out
}

const everything = "mall:rwa docking:rwa warehouse:rwa logistics:rwa finance:rwa admin:rwa"

func TestTemplatesEnforce(t *testing.T) {
	f := setup(t)
	tests := []struct {
		name   string
		tenant int64
		user   int64
		want   string
	}{
		{"owner", 1, ownerA, everything},
		{"admin", 1, roleUser["admin"], everything},
		{"store_manager", 1, roleUser["store_manager"], "mall:rwa warehouse:r logistics:r finance:r docking:r"},
		{"warehouse_clerk", 1, roleUser["warehouse_clerk"], "warehouse:rw mall:r logistics:r"},
		{"logistics_clerk", 1, roleUser["logistics_clerk"], "logistics:rw warehouse:r mall:r"},
		{"accountant", 1, roleUser["accountant"], "finance:rwa mall:r"},
		{"integrator", 1, roleUser["integrator"], "docking:rw mall:r warehouse:r finance:r"},
		{"viewer", 1, roleUser["viewer"], "mall:r docking:r warehouse:r logistics:r finance:r"},
		{"user without roles", 1, nobody, ""},
		{"anonymous", 1, 0, ""},
		{"no tenant", 0, ownerA, ""},
		{"tenant 1 owner in tenant 2", 2, ownerA, ""},
		{"tenant 2 owner in tenant 1", 1, ownerB, ""},
		{"tenant 2 owner", 2, ownerB, everything},
		{"tenant 2 viewer", 2, viewerB, "mall:r docking:r warehouse:r logistics:r finance:r"},
		{"tenant without policies", 3, ownerA, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := f.grants(t, tc.tenant, tc.user), expand(tc.want); got != want {
				t.Errorf("grants = %q\nwant     %q", got, want)
			}
		})
	}
	t.Run("unknown object or action", func(t *testing.T) {
		for _, oa := range [][2]string{{"mall", "delete"}, {"orders", "read"}, {"", ""}, {"*", "*"}} {
			if f.allowed(t, 1, ownerA, oa[0], oa[1]) {
				t.Errorf("owner allowed %v", oa)
			}
		}
	})
}

func TestTemplates(t *testing.T) {
	ts := policies.Templates()
	var names []string
	for _, tp := range ts {
		names = append(names, tp.Name)
		if tp.Description == "" {
			t.Errorf("%s has no description", tp.Name)
		}
		if len(tp.Permissions) == 0 {
			t.Errorf("%s has no permissions", tp.Name)
		}
		for _, p := range tp.Permissions {
			if !slices.Contains(policies.Objects, p.Object) || !slices.Contains(policies.Actions, p.Action) {
				t.Errorf("%s: bad permission %+v", tp.Name, p)
			}
		}
	}
	want := []string{"owner", "admin", "store_manager", "warehouse_clerk", "logistics_clerk", "accountant", "integrator", "viewer"}
	if !slices.Equal(names, want) {
		t.Errorf("templates = %v, want %v", names, want)
	}

	f := setup(t)
	roles, err := f.svc.ListRoles(admin(1))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range roles {
		if r.Name != ts[i].Name || !r.Builtin || r.Description != ts[i].Description || !slices.Equal(r.Permissions, ts[i].Permissions) {
			t.Errorf("role %d = %+v, want template %+v", i, r, ts[i])
		}
		if r.Members != 1 {
			t.Errorf("%s has %d members, want 1", r.Name, r.Members)
		}
	}

	// Installing again keeps the tenant's edits and adds nothing.
	if _, err := f.svc.UpdateRole(admin(1), "viewer", policies.RoleInput{Description: "edited"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.InstallTemplates(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	again, _ := f.svc.ListRoles(admin(1))
	if len(again) != len(roles) {
		t.Fatalf("%d roles after reinstall, want %d", len(again), len(roles))
	}
	if v := again[len(again)-1]; v.Name != "viewer" || v.Description != "edited" || len(v.Permissions) != 0 {
		t.Errorf("viewer after reinstall = %+v", v)
	}
}

func TestEditTakesEffectOnNextEnforce(t *testing.T) {
	f := setup(t)
	ctx := admin(1)
	viewer := roleUser["viewer"]
	clerk := roleUser["warehouse_clerk"]
	steps := []struct {
		name   string
		edit   func() error
		user   int64
		obj    string
		act    string
		before bool
		after  bool
	}{
		{"add direct grant", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{UserID: viewer, Object: "finance", Action: "approve"})
			return err
		}, viewer, "finance", "approve", false, true},
		{"delete direct grant", func() error {
			return f.svc.DeletePolicy(ctx, policies.Policy{Subject: fmt.Sprintf("user:%d", viewer), Object: "finance", Action: "approve"})
		}, viewer, "finance", "approve", true, false},
		{"narrow a role", func() error {
			_, err := f.svc.UpdateRole(ctx, "viewer", policies.RoleInput{Permissions: []policies.Permission{{Object: "mall", Action: "read"}}})
			return err
		}, viewer, "finance", "read", true, false},
		{"widen a role", func() error {
			_, err := f.svc.UpdateRole(ctx, "warehouse_clerk", policies.RoleInput{Permissions: []policies.Permission{
				{Object: "warehouse", Action: "read"}, {Object: "warehouse", Action: "write"}, {Object: "warehouse", Action: "approve"}}})
			return err
		}, clerk, "warehouse", "approve", false, true},
		{"assign a custom role", func() error {
			if _, err := f.svc.CreateRole(ctx, policies.RoleInput{Name: "auditor", Permissions: []policies.Permission{{Object: "admin", Action: "read"}}}); err != nil {
				return err
			}
			return f.svc.SetUserRoles(context.Background(), 1, viewer, []string{"viewer", "auditor"})
		}, viewer, "admin", "read", false, true},
		{"take a role away", func() error {
			return f.svc.SetUserRoles(ctx, 1, viewer, []string{"viewer"})
		}, viewer, "admin", "read", true, false},
		{"remove a member", func() error {
			return f.svc.RemoveUser(ctx, 1, clerk)
		}, clerk, "warehouse", "read", true, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := f.allowed(t, 1, st.user, st.obj, st.act); got != st.before {
				t.Fatalf("before: allowed = %v, want %v", got, st.before)
			}
			if err := st.edit(); err != nil {
				t.Fatal(err)
			}
			if got := f.allowed(t, 1, st.user, st.obj, st.act); got != st.after {
				t.Fatalf("after: allowed = %v, want %v", got, st.after)
			}
		})
	}
}

// snapshot is everything observable about a tenant.
func (f *fixture) snapshot(t *testing.T, tenantID int64) string {
	t.Helper()
	ctx := admin(tenantID)
	roles, err := f.svc.ListRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pols, err := f.svc.ListPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_ = json.NewEncoder(&b).Encode(roles)
	_ = json.NewEncoder(&b).Encode(pols)
	for _, u := range []int64{ownerA, ownerB, viewerB, nobody, roleUser["viewer"]} {
		fmt.Fprintf(&b, "%d: %s\n", u, f.grants(t, tenantID, u))
	}
	return b.String()
}

func TestTenantIsolation(t *testing.T) {
	f := setup(t)
	ctx := admin(1)
	before := f.snapshot(t, 2)
	edits := []struct {
		name     string
		edit     func() error
		wantCode string // "" when the edit succeeds in tenant 1
	}{
		{"create role", func() error {
			_, err := f.svc.CreateRole(ctx, policies.RoleInput{Name: "packer", Permissions: []policies.Permission{{Object: "warehouse", Action: "write"}}})
			return err
		}, ""},
		{"update role of the same name", func() error {
			_, err := f.svc.UpdateRole(ctx, "viewer", policies.RoleInput{Permissions: []policies.Permission{{Object: "admin", Action: "approve"}}})
			return err
		}, ""},
		{"grant a tenant 2 user in tenant 1", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{UserID: viewerB, Object: "admin", Action: "write"})
			return err
		}, ""},
		{"give a tenant 2 user a tenant 1 role", func() error {
			return f.svc.SetUserRoles(ctx, 1, ownerB, []string{"admin"})
		}, ""},
		{"delete role of the same name", func() error {
			return f.svc.DeleteRole(ctx, "integrator")
		}, "role_in_use"},
		{"set roles in tenant 2 from tenant 1's context", func() error {
			return f.svc.SetUserRoles(ctx, 2, viewerB, []string{"owner"})
		}, "forbidden"},
		{"remove a tenant 2 user from tenant 1's context", func() error {
			return f.svc.RemoveUser(ctx, 2, ownerB)
		}, "forbidden"},
		{"install templates into tenant 2 from tenant 1's context", func() error {
			return f.svc.InstallTemplates(ctx, 2)
		}, "forbidden"},
		{"role names cannot smuggle a domain", func() error {
			_, err := f.svc.UpdateRole(ctx, "r:owner, t:2", policies.RoleInput{})
			return err
		}, "not_found"},
		{"policy subjects cannot smuggle a domain", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{Subject: "user:201, t:2", Object: "admin", Action: "write"})
			return err
		}, "invalid_input"},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			if got := code(e.edit()); got != e.wantCode {
				t.Fatalf("code = %q, want %q", got, e.wantCode)
			}
			if after := f.snapshot(t, 2); after != before {
				t.Fatalf("tenant 2 changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
	if got, want := f.grants(t, 1, ownerB), expand(everything); got != want {
		t.Errorf("tenant 2 owner in tenant 1 = %q, want %q (admin role)", got, want)
	}
	if got := f.grants(t, 1, viewerB); got != "admin:write" {
		t.Errorf("tenant 2 viewer in tenant 1 = %q, want admin:write", got)
	}
	if got := f.grants(t, 1, roleUser["viewer"]); got != "admin:approve" {
		t.Errorf("tenant 1 viewer = %q, want admin:approve", got)
	}
}

func TestMemberships(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if err := f.svc.SetUserRoles(ctx, 2, ownerA, []string{"viewer", "accountant", "viewer"}); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.UserMemberships(ctx, ownerA)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][]string{1: {"owner"}, 2: {"accountant", "viewer"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("UserMemberships = %v, want %v", got, want)
	}
	if got, _ := f.svc.UserMemberships(ctx, nobody); len(got) != 0 {
		t.Errorf("UserMemberships(nobody) = %v", got)
	}
	roles, err := f.svc.UserRoles(ctx, 2, ownerA)
	if err != nil || !slices.Equal(roles, []string{"accountant", "viewer"}) {
		t.Errorf("UserRoles = %v, %v", roles, err)
	}
	if roles, _ := f.svc.UserRoles(ctx, 2, nobody); roles == nil || len(roles) != 0 {
		t.Errorf("UserRoles(nobody) = %#v, want empty", roles)
	}
	byUser, err := f.svc.RolesOfUsers(ctx, 2, []int64{ownerA, ownerB, nobody, ownerB})
	if err != nil {
		t.Fatal(err)
	}
	wantBy := map[int64][]string{ownerA: {"accountant", "viewer"}, ownerB: {"owner"}, nobody: {}}
	if fmt.Sprint(byUser) != fmt.Sprint(wantBy) || byUser[nobody] == nil {
		t.Errorf("RolesOfUsers = %#v, want %v", byUser, wantBy)
	}
}

// entries returns tenant 1's audit entries of action, newest first.
func (f *fixture) entries(t *testing.T, action string) []audit.Entry {
	t.Helper()
	page, err := f.log.List(admin(1), audit.Query{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func TestAudit(t *testing.T) {
	f := setup(t)
	ctx := admin(1)
	viewer := roleUser["viewer"]
	tests := []struct {
		name       string
		edit       func() error
		action     string
		target     string
		wantBefore string
		wantAfter  string
	}{
		{"create role", func() error {
			_, err := f.svc.CreateRole(ctx, policies.RoleInput{Name: "packer", Description: "Packs", Permissions: []policies.Permission{
				{Object: "warehouse", Action: "write"}, {Object: "mall", Action: "read"}}})
			return err
		}, "role.create", "packer", ``,
			`{"name":"packer","description":"Packs","builtin":false,"permissions":[{"object":"mall","action":"read"},{"object":"warehouse","action":"write"}],"members":0}`},
		{"update role", func() error {
			_, err := f.svc.UpdateRole(ctx, "packer", policies.RoleInput{Description: "Packs parcels", Permissions: []policies.Permission{{Object: "warehouse", Action: "read"}}})
			return err
		}, "role.update", "packer",
			`{"name":"packer","description":"Packs","builtin":false,"permissions":[{"object":"mall","action":"read"},{"object":"warehouse","action":"write"}],"members":0}`,
			`{"name":"packer","description":"Packs parcels","builtin":false,"permissions":[{"object":"warehouse","action":"read"}],"members":0}`},
		{"member roles", func() error {
			return f.svc.SetUserRoles(ctx, 1, viewer, []string{"viewer", "packer"})
		}, "member.roles", fmt.Sprintf("user:%d", viewer), `["viewer"]`, `["packer","viewer"]`},
		{"add policy", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{UserID: viewer, Object: "finance", Action: "write"})
			return err
		}, "policy.add", fmt.Sprintf("user:%d", viewer), ``,
			fmt.Sprintf(`{"subject":"user:%d","user_id":%d,"object":"finance","action":"write"}`, viewer, viewer)},
		{"delete policy", func() error {
			return f.svc.DeletePolicy(ctx, policies.Policy{UserID: viewer, Object: "finance", Action: "write"})
		}, "policy.delete", fmt.Sprintf("user:%d", viewer),
			fmt.Sprintf(`{"subject":"user:%d","user_id":%d,"object":"finance","action":"write"}`, viewer, viewer), ``},
		{"remove member", func() error {
			if _, err := f.svc.AddPolicy(ctx, policies.Policy{UserID: viewer, Object: "admin", Action: "read"}); err != nil {
				return err
			}
			return f.svc.RemoveUser(ctx, 1, viewer)
		}, "member.remove", fmt.Sprintf("user:%d", viewer),
			`{"roles":["packer","viewer"],"permissions":[{"object":"admin","action":"read"}]}`, ``},
		{"delete role", func() error {
			return f.svc.DeleteRole(ctx, "packer")
		}, "role.delete", "packer",
			`{"name":"packer","description":"Packs parcels","builtin":false,"permissions":[{"object":"warehouse","action":"read"}],"members":0}`, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(f.entries(t, tc.action))
			if err := tc.edit(); err != nil {
				t.Fatal(err)
			}
			es := f.entries(t, tc.action)
			if len(es) != n+1 {
				t.Fatalf("%d %s entries, want %d", len(es), tc.action, n+1)
			}
			e := es[0]
			if e.Target != tc.target || e.Before != tc.wantBefore || e.After != tc.wantAfter {
				t.Errorf("entry target %q\nbefore %s\nafter  %s\nwant target %q\nbefore %s\nafter  %s",
					e.Target, e.Before, e.After, tc.target, tc.wantBefore, tc.wantAfter)
			}
			if e.ActorUserID != ownerA || e.ActorEmail != "owner@example.com" || e.TenantID != 1 {
				t.Errorf("entry actor %d %q tenant %d", e.ActorUserID, e.ActorEmail, e.TenantID)
			}
		})
	}

	t.Run("failed edits leave no entry and no change", func(t *testing.T) {
		total := func() int64 {
			p, err := f.log.List(admin(1), audit.Query{})
			if err != nil {
				t.Fatal(err)
			}
			return p.Total
		}
		n := total()
		snap := f.snapshot(t, 1)
		if err := f.svc.DeleteRole(ctx, "owner"); code(err) != "role_protected" {
			t.Fatalf("err = %v", err)
		}
		if err := f.svc.SetUserRoles(ctx, 1, ownerA, []string{"viewer"}); code(err) != "last_owner" {
			t.Fatalf("err = %v", err)
		}
		if got := total(); got != n {
			t.Errorf("%d entries, want %d", got, n)
		}
		if got := f.snapshot(t, 1); got != snap {
			t.Errorf("tenant changed by failed edits")
		}
	})

	t.Run("an audit failure rolls the edit back", func(t *testing.T) {
		failing, err := policies.New(f.db, failingAuditor{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = failing.AddPolicy(ctx, policies.Policy{UserID: nobody, Object: "mall", Action: "read"})
		if err == nil {
			t.Fatal("AddPolicy succeeded with a failing auditor")
		}
		if f.allowed(t, 1, nobody, "mall", "read") {
			t.Error("the grant was committed without its audit entry")
		}
		if ps, _ := f.svc.ListPolicies(ctx); len(ps) != 0 {
			t.Errorf("policies = %v", ps)
		}
	})
}

type failingAuditor struct{}

func (failingAuditor) Record(context.Context, int64, string, string, any, any) error {
	return errors.New("audit log unavailable")
}

func TestLastOwner(t *testing.T) {
	second := roleUser["admin"]
	steps := []struct {
		name string
		run  func(f *fixture) error
		want string
	}{
		{"sole owner cannot drop the role", func(f *fixture) error {
			return f.svc.SetUserRoles(admin(1), 1, ownerA, []string{"admin"})
		}, "last_owner"},
		{"sole owner cannot drop every role", func(f *fixture) error {
			return f.svc.SetUserRoles(admin(1), 1, ownerA, nil)
		}, "last_owner"},
		{"sole owner cannot be removed", func(f *fixture) error {
			return f.svc.RemoveUser(admin(1), 1, ownerA)
		}, "last_owner"},
		{"sole owner may keep owner and add roles", func(f *fixture) error {
			return f.svc.SetUserRoles(admin(1), 1, ownerA, []string{"owner", "viewer"})
		}, ""},
		{"a second owner is added", func(f *fixture) error {
			return f.svc.SetUserRoles(admin(1), 1, second, []string{"owner"})
		}, ""},
		{"now the first may step down", func(f *fixture) error {
			return f.svc.SetUserRoles(admin(1), 1, ownerA, []string{"viewer"})
		}, ""},
		{"and the second is the last", func(f *fixture) error {
			return f.svc.RemoveUser(admin(1), 1, second)
		}, "last_owner"},
		{"another tenant's owner does not count", func(f *fixture) error {
			if err := f.svc.SetUserRoles(context.Background(), 2, second, []string{"owner"}); err != nil {
				return err
			}
			return f.svc.SetUserRoles(admin(1), 1, second, []string{"admin"})
		}, "last_owner"},
	}
	f := setup(t)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := code(st.run(f)); got != st.want {
				t.Fatalf("code = %q, want %q", got, st.want)
			}
		})
	}
	if got, _ := f.svc.UserRoles(context.Background(), 1, second); !slices.Equal(got, []string{"owner"}) {
		t.Errorf("second owner's roles = %v", got)
	}
}

func TestValidation(t *testing.T) {
	f := setup(t)
	ctx := admin(1)
	perm := func(o, a string) policies.Permission { return policies.Permission{Object: o, Action: a} }
	tests := []struct {
		name       string
		run        func() error
		wantCode   string
		wantFields map[string]string
	}{
		{"create: empty name", func() error {
			_, err := f.svc.CreateRole(ctx, policies.RoleInput{})
			return err
		}, "invalid_input", map[string]string{"name": "required"}},
		{"create: bad names and permissions", func() error {
			_, err := f.svc.CreateRole(ctx, policies.RoleInput{Name: "Packer!", Description: strings.Repeat("é", 201), Permissions: []policies.Permission{
				perm("mall", "read"), perm("mall", "read"), perm("orders", "read"), perm("mall", "delete"), perm("", "")}})
			return err
		}, "invalid_input", map[string]string{
			"name": "invalid_format", "description": "too_long", "permissions[1]": "duplicate",
			"permissions[2].object": "invalid_choice", "permissions[3].action": "invalid_choice",
			"permissions[4].object": "invalid_choice", "permissions[4].action": "invalid_choice"}},
		{"create: one-letter name", func() error {
			_, err := f.svc.CreateRole(ctx, policies.RoleInput{Name: "a"})
			return err
		}, "invalid_input", map[string]string{"name": "invalid_format"}},
		{"create: name of 41 characters", func() error {
			_, err := f.svc.CreateRole(ctx, policies.RoleInput{Name: "a" + strings.Repeat("b", 40)})
			return err
		}, "invalid_input", map[string]string{"name": "invalid_format"}},
		{"create: existing name", func() error {
			_, err := f.svc.CreateRole(ctx, policies.RoleInput{Name: "viewer"})
			return err
		}, "role_exists", nil},
		{"create: 200-character description and 40-character name", func() error {
			_, err := f.svc.CreateRole(ctx, policies.RoleInput{Name: "a" + strings.Repeat("b", 39), Description: strings.Repeat("é", 200)})
			return err
		}, "", nil},
		{"update: owner", func() error {
			_, err := f.svc.UpdateRole(ctx, "owner", policies.RoleInput{})
			return err
		}, "role_protected", nil},
		{"update: missing role", func() error {
			_, err := f.svc.UpdateRole(ctx, "ghost", policies.RoleInput{})
			return err
		}, "not_found", nil},
		{"update: bad permission", func() error {
			_, err := f.svc.UpdateRole(ctx, "viewer", policies.RoleInput{Permissions: []policies.Permission{perm("mall", "read"), perm("admin", "own")}})
			return err
		}, "invalid_input", map[string]string{"permissions[1].action": "invalid_choice"}},
		{"delete: owner", func() error { return f.svc.DeleteRole(ctx, "owner") }, "role_protected", nil},
		{"delete: role in use", func() error { return f.svc.DeleteRole(ctx, "viewer") }, "role_in_use", nil},
		{"delete: missing role", func() error { return f.svc.DeleteRole(ctx, "ghost") }, "not_found", nil},
		{"set roles: unknown role", func() error {
			return f.svc.SetUserRoles(ctx, 1, nobody, []string{"viewer", "ghost"})
		}, "invalid_input", map[string]string{"roles": "invalid_choice"}},
		{"set roles: malformed role", func() error {
			return f.svc.SetUserRoles(ctx, 1, nobody, []string{"r:owner"})
		}, "invalid_input", map[string]string{"roles": "invalid_choice"}},
		{"set roles: no user", func() error {
			return f.svc.SetUserRoles(ctx, 1, 0, []string{"viewer"})
		}, "invalid_input", map[string]string{"user_id": "required"}},
		{"add policy: bad input", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{Object: "shop", Action: "buy"})
			return err
		}, "invalid_input", map[string]string{"user_id": "required", "object": "invalid_choice", "action": "invalid_choice"}},
		{"add policy: negative user", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{UserID: -4, Object: "mall", Action: "read"})
			return err
		}, "invalid_input", map[string]string{"user_id": "required"}},
		{"add policy: subject and user disagree", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{Subject: "user:5", UserID: 6, Object: "mall", Action: "read"})
			return err
		}, "invalid_input", map[string]string{"subject": "invalid_format"}},
		{"add policy: ok", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{Subject: "user:5", Object: "mall", Action: "read"})
			return err
		}, "", nil},
		{"add policy: duplicate", func() error {
			_, err := f.svc.AddPolicy(ctx, policies.Policy{UserID: 5, Object: "mall", Action: "read"})
			return err
		}, "policy_exists", nil},
		{"delete policy: missing", func() error {
			return f.svc.DeletePolicy(ctx, policies.Policy{UserID: 5, Object: "mall", Action: "write"})
		}, "not_found", nil},
		{"no tenant in context", func() error {
			_, err := f.svc.ListRoles(context.Background())
			return err
		}, tenants.ErrNoTenant.Code, nil},
		{"no tenant in context: create", func() error {
			_, err := f.svc.CreateRole(context.Background(), policies.RoleInput{Name: "packer"})
			return err
		}, tenants.ErrNoTenant.Code, nil},
		{"no tenant in context: add policy", func() error {
			_, err := f.svc.AddPolicy(context.Background(), policies.Policy{UserID: 5, Object: "mall", Action: "read"})
			return err
		}, tenants.ErrNoTenant.Code, nil},
		{"set roles: no tenant", func() error {
			return f.svc.SetUserRoles(context.Background(), 0, 5, nil)
		}, "not_found", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if got := code(err); got != tc.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.wantCode)
			}
			if tc.wantFields != nil && fmt.Sprint(fields(err)) != fmt.Sprint(tc.wantFields) {
				t.Errorf("fields = %v\nwant     %v", fields(err), tc.wantFields)
			}
		})
	}
	pols, err := f.svc.ListPolicies(ctx)
	if err != nil || len(pols) != 1 || pols[0] != (policies.Policy{Subject: "user:5", UserID: 5, Object: "mall", Action: "read"}) {
		t.Errorf("ListPolicies = %v, %v", pols, err)
	}
}

// TestWatcher runs a second Service on its own connections to the same
// database, as another server process would.
func TestWatcher(t *testing.T) {
	dsn := storetest.DSN(t)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), store.Config{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	db1 := open()
	migrate(t, db1)
	f1 := provision(t, db1)

	db2 := open()
	other, err := policies.New(db2, audit.New(db2))
	if err != nil {
		t.Fatal(err)
	}
	stop := other.StartWatcher(context.Background())
	defer stop()
	f2 := &fixture{db: db2, svc: other}

	viewer := roleUser["viewer"]
	edits := []struct {
		name string
		edit func() error
		want bool
	}{
		{"grant", func() error {
			_, err := f1.svc.AddPolicy(admin(1), policies.Policy{UserID: viewer, Object: "admin", Action: "write"})
			return err
		}, true},
		{"revoke", func() error {
			return f1.svc.DeletePolicy(admin(1), policies.Policy{UserID: viewer, Object: "admin", Action: "write"})
		}, false},
		{"role edit", func() error {
			_, err := f1.svc.UpdateRole(admin(1), "viewer", policies.RoleInput{Permissions: []policies.Permission{{Object: "admin", Action: "write"}}})
			return err
		}, true},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			// A third process without a watcher.
			unwatched, err := policies.New(db2, audit.New(db2))
			if err != nil {
				t.Fatal(err)
			}
			f3 := &fixture{db: db2, svc: unwatched}
			// Every process has the tenant's enforcer in memory.
			was := f2.allowed(t, 1, viewer, "admin", "write")
			if was == e.want || f3.allowed(t, 1, viewer, "admin", "write") != was {
				t.Fatalf("before the edit: allowed = %v", was)
			}
			start := time.Now()
			if err := e.edit(); err != nil {
				t.Fatal(err)
			}
			if f1.allowed(t, 1, viewer, "admin", "write") != e.want {
				t.Fatal("the editing process does not see its own edit")
			}
			for f2.allowed(t, 1, viewer, "admin", "write") != e.want {
				if time.Since(start) > time.Second {
					t.Fatal("the other process did not see the edit within 1 s")
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("seen by the other process after %v", time.Since(start).Round(time.Millisecond))
			// Without a watcher the other process keeps its enforcer: the
			// hot path never reads the database.
			if f3.allowed(t, 1, viewer, "admin", "write") != was {
				t.Error("a process without a watcher reloaded its enforcer")
			}
			// Tenant 2 is untouched everywhere.
			if f2.allowed(t, 2, viewerB, "admin", "write") || !f2.allowed(t, 2, viewerB, "mall", "read") {
				t.Error("tenant 2 changed")
			}
		})
	}
}

// TestConcurrentEnforceAndEdits runs Enforce from many goroutines while
// another edits, under -race: every edit is visible to the editor's next
// Enforce, and tenant 2 never moves.
func TestConcurrentEnforceAndEdits(t *testing.T) {
	f := setup(t)
	ctx := admin(1)
	viewer := roleUser["viewer"]
	var stop atomic.Bool
	var wg sync.WaitGroup
	var calls atomic.Int64
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				obj := policies.Objects[(g+i)%len(policies.Objects)]
				act := policies.Actions[i%len(policies.Actions)]
				if _, err := f.svc.Enforce(context.Background(), 1, viewer, obj, act); err != nil {
					errs <- err
					return
				}
				ok, err := f.svc.Enforce(context.Background(), 2, viewerB, obj, act)
				if err != nil {
					errs <- err
					return
				}
				if want := obj != "admin" && act == "read"; ok != want {
					errs <- fmt.Errorf("tenant 2 viewer %s:%s = %v, want %v", obj, act, ok, want)
					return
				}
				calls.Add(2)
				runtime.Gosched() // let the editor run on small machines
			}
		}()
	}
	for i := range 30 {
		grant := policies.Policy{UserID: viewer, Object: "finance", Action: "approve"}
		if _, err := f.svc.AddPolicy(ctx, grant); err != nil {
			t.Fatal(err)
		}
		if !f.allowed(t, 1, viewer, "finance", "approve") {
			t.Fatalf("round %d: grant not in effect on the next Enforce", i)
		}
		if err := f.svc.DeletePolicy(ctx, grant); err != nil {
			t.Fatal(err)
		}
		if f.allowed(t, 1, viewer, "finance", "approve") {
			t.Fatalf("round %d: revoke not in effect on the next Enforce", i)
		}
		roles := []string{"viewer"}
		if i%2 == 0 {
			roles = append(roles, "integrator")
		}
		if err := f.svc.SetUserRoles(ctx, 1, viewer, roles); err != nil {
			t.Fatal(err)
		}
		if got := f.allowed(t, 1, viewer, "docking", "write"); got != (i%2 == 0) {
			t.Fatalf("round %d: docking:write = %v after roles %v", i, got, roles)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d concurrent Enforce calls during 90 edits", calls.Load())
}

func BenchmarkEnforce(b *testing.B) {
	db := storetest.Open(b)
	ms := append(append(store.Migrations(), policies.Migrations()...), audit.Migrations()...)
	if err := db.Migrate(context.Background(), ms); err != nil {
		b.Fatal(err)
	}
	svc, _ := policies.New(db, audit.New(db))
	ctx := context.Background()
	for tid := int64(1); tid <= 20; tid++ {
		if err := svc.InstallTemplates(ctx, tid); err != nil {
			b.Fatal(err)
		}
		for u := int64(1); u <= 50; u++ {
			role := policies.Templates()[u%8].Name
			if err := svc.SetUserRoles(ctx, tid, tid*1000+u, []string{role}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			tid := int64(i%20 + 1)
			if _, err := svc.Enforce(ctx, tid, tid*1000+int64(i%50+1), policies.Objects[i%6], policies.Actions[i%3]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestCallerTransaction edits inside a caller's transaction, as the tenants
// service does: the edit counts only once the caller commits, and a request
// served meanwhile never caches the old rules past the commit.
func TestCallerTransaction(t *testing.T) {
	f := setup(t)
	grant := policies.Policy{UserID: nobody, Object: "mall", Action: "read"}
	errAbort := errors.New("abort")
	tests := []struct {
		name   string
		commit bool
	}{
		{"rolled back", false},
		{"committed", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if f.allowed(t, 1, nobody, "mall", "read") {
				t.Fatal("allowed before the edit")
			}
			err := f.db.Tx(admin(1), func(ctx context.Context) error {
				if _, err := f.svc.AddPolicy(ctx, grant); err != nil {
					return err
				}
				// A request served before the caller commits sees the
				// committed rules only.
				if f.allowed(t, 1, nobody, "mall", "read") {
					t.Error("uncommitted grant in effect")
				}
				if !tc.commit {
					return errAbort
				}
				return nil
			})
			if tc.commit != (err == nil) {
				t.Fatalf("Tx = %v", err)
			}
			if got := f.allowed(t, 1, nobody, "mall", "read"); got != tc.commit {
				t.Fatalf("after the caller's transaction: allowed = %v, want %v", got, tc.commit)
			}
		})
	}
}

// TestLastOwnerConcurrent demotes two owners at once, many times: exactly
// one demotion wins each time, so a tenant never loses its last owner.
func TestLastOwnerConcurrent(t *testing.T) {
	f := setup(t)
	second := roleUser["admin"]
	for round := range 10 {
		if err := f.svc.SetUserRoles(context.Background(), 1, second, []string{"owner"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetUserRoles(context.Background(), 1, ownerA, []string{"owner"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, uid := range []int64{ownerA, second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f.svc.SetUserRoles(admin(1), 1, uid, []string{"viewer"})
			}()
		}
		wg.Wait()
		codes := []string{code(errs[0]), code(errs[1])}
		slices.Sort(codes)
		if !slices.Equal(codes, []string{"", "last_owner"}) {
			t.Fatalf("round %d: codes = %q, want one success and one last_owner", round, codes)
		}
		byUser, err := f.svc.RolesOfUsers(context.Background(), 1, []int64{ownerA, second})
		if err != nil {
			t.Fatal(err)
		}
		owners := 0
		for _, roles := range byUser {
			if slices.Contains(roles, "owner") {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("round %d: %d owners: %v", round, owners, byUser)
		}
	}
}
