package server_test

import (
	"fmt"
	"strings"
	"testing"

	"saasmall/server/servertest"
)

// TestPolicyEditsTakeEffectAndAreAudited: a tenant admin's edits change the
// very next request, never touch another tenant, and land in the audit log.
func TestPolicyEditsTakeEffectAndAreAudited(t *testing.T) {
	env := servertest.New(t)
	a := env.Tenant("alpha", "owner@alpha.test")
	b := env.Tenant("bravo", "owner@bravo.test")
	admin := env.Member(a, "admin@alpha.test", "admin")
	viewer := env.Member(a, "viewer@alpha.test", "viewer")
	bViewer := env.Member(b, "viewer@alpha.test", "viewer") // the same person is also B's viewer
	_ = bViewer
	vid := viewer.Do("GET", "/api/v1/me", nil).Want(t, 200).JSON["user"].(map[string]any)["id"].(float64)

	// A viewer may not read members.
	viewer.Do("GET", "/api/v1/t/alpha/members", nil).Want(t, 403)

	// Grant admin:read directly: the next request passes, in A only.
	admin.Do("POST", "/api/v1/t/alpha/policies", map[string]any{"user_id": vid, "object": "admin", "action": "read"}).Want(t, 201)
	viewer.Do("GET", "/api/v1/t/alpha/members", nil).Want(t, 200)
	viewer.Do("GET", "/api/v1/t/bravo/members", nil).Want(t, 403)

	// Revoke it: the next request is refused again.
	admin.Do("DELETE", fmt.Sprintf("/api/v1/t/alpha/policies?user_id=%d&object=admin&action=read", int64(vid)), nil).Want(t, 204)
	viewer.Do("GET", "/api/v1/t/alpha/members", nil).Want(t, 403)

	// A custom role with admin:read, assigned to the viewer.
	admin.Do("POST", "/api/v1/t/alpha/roles", map[string]any{"name": "auditor", "description": "reads the audit log",
		"permissions": []map[string]string{{"object": "admin", "action": "read"}}}).Want(t, 201)
	admin.Do("PUT", fmt.Sprintf("/api/v1/t/alpha/members/%d/roles", int64(vid)), map[string]any{"roles": []string{"viewer", "auditor"}}).Want(t, 200)
	viewer.Do("GET", "/api/v1/t/alpha/audit", nil).Want(t, 200)
	viewer.Do("GET", "/api/v1/t/bravo/audit", nil).Want(t, 403)
	// Editing the role away takes effect at once.
	admin.Do("PUT", "/api/v1/t/alpha/roles/auditor", map[string]any{"description": "nothing now",
		"permissions": []map[string]string{{"object": "mall", "action": "read"}}}).Want(t, 200)
	viewer.Do("GET", "/api/v1/t/alpha/audit", nil).Want(t, 403)
	// A role in use cannot be deleted; the owner role is protected; the last owner stays.
	if r := admin.Do("DELETE", "/api/v1/t/alpha/roles/auditor", nil); r.Status != 409 || r.Code() != "role_in_use" {
		t.Fatalf("delete role in use: %s", r)
	}
	if r := admin.Do("PUT", "/api/v1/t/alpha/roles/owner", map[string]any{"permissions": []map[string]string{{"object": "mall", "action": "read"}}}); r.Status != 409 || r.Code() != "role_protected" {
		t.Fatalf("edit owner role: %s", r)
	}
	owner := env.Login("owner@alpha.test", servertest.Password, "pc")
	oid := owner.Do("GET", "/api/v1/me", nil).JSON["user"].(map[string]any)["id"].(float64)
	if r := admin.Do("PUT", fmt.Sprintf("/api/v1/t/alpha/members/%d/roles", int64(oid)), map[string]any{"roles": []string{"viewer"}}); r.Status != 409 || r.Code() != "last_owner" {
		t.Fatalf("demote last owner: %s", r)
	}
	// Bad role input: field errors.
	r := admin.Do("POST", "/api/v1/t/alpha/roles", map[string]any{"name": "Bad Name!", "permissions": []map[string]string{{"object": "spaceship", "action": "fly"}}})
	if r.Status != 400 || r.Field("name") == "" || r.Field("permissions[0].object") == "" {
		t.Fatalf("bad role: %s", r)
	}

	// The audit log of A has every change with who and before/after; B's has none of them.
	log := admin.Do("GET", "/api/v1/t/alpha/audit?per_page=100", nil).Want(t, 200)
	body := string(log.Body)
	for _, action := range []string{"policy.add", "policy.delete", "role.create", "role.update", "member.roles"} {
		if !strings.Contains(body, `"action":"`+action+`"`) {
			t.Errorf("audit log lacks %s: %s", action, body)
		}
	}
	items := log.JSON["items"].([]any)
	var upd map[string]any
	for _, it := range items {
		if m := it.(map[string]any); m["action"] == "role.update" {
			upd = m
			break
		}
	}
	if upd == nil || upd["actor_email"] != "admin@alpha.test" || upd["before"] == nil || upd["after"] == nil {
		t.Fatalf("role.update entry lacks actor or before/after: %v", upd)
	}
	bOwner := env.Login("owner@bravo.test", servertest.Password, "pc")
	if strings.Contains(string(bOwner.Do("GET", "/api/v1/t/bravo/audit?per_page=100", nil).Want(t, 200).Body), "auditor") {
		t.Fatal("B's audit log shows A's changes")
	}
	// Filter by action.
	f := admin.Do("GET", "/api/v1/t/alpha/audit?action=role.create", nil).Want(t, 200)
	if f.JSON["total"].(float64) != 1 {
		t.Fatalf("audit filter: %s", f.Body)
	}
}
