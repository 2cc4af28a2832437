// Package policies is saasmall's authorization: Casbin RBAC with domains,
// where a domain is a tenant ("t:<id>"), subjects are users ("u:<id>") and
// roles ("r:<name>"), objects are the modules (Objects) and actions are
// read, write and approve (Actions).
//
// Rules live in casbin_rule, roles in roles, and every tenant's edit count in
// policy_versions, all created by Migrations. Writes go through the caller's
// store transaction (so an edit and its audit entry commit together); reads
// for authorization come from one in-memory enforcer per tenant (see
// enforcer.go). Tenant admins edit only the tenant in their context: no
// method of the admin API takes a domain or tenant from its input.
package policies

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gormadapter "github.com/casbin/gorm-adapter/v3"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"saasmall/server/apperr"
	"saasmall/server/store"
	"saasmall/tenants"
)

// Auditor records changes in the audit log inside the change's transaction
// (implemented by server/audit.Log).
type Auditor interface {
	Record(ctx context.Context, tenantID int64, action, target string, before, after any) error
}

// Service manages roles, role assignments and direct grants, and answers
// authorization questions from memory.
type Service struct {
	db    *store.DB
	audit Auditor
	slots sync.Map // tenant id → *slot
}

// New returns the policies service. Both arguments are required.
func New(db *store.DB, auditor Auditor) (*Service, error) {
	if db == nil {
		return nil, errors.New("policies: nil database")
	}
	if auditor == nil {
		return nil, errors.New("policies: nil auditor")
	}
	return &Service{db: db, audit: auditor}, nil
}

// Permission allows one action on one module.
type Permission struct {
	Object string `json:"object"`
	Action string `json:"action"`
}

// Role is a named set of permissions of a tenant.
type Role struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Builtin     bool         `json:"builtin"` // installed from a template
	Permissions []Permission `json:"permissions"`
	Members     int          `json:"members"` // users holding the role
}

// RoleInput creates or updates a role. UpdateRole ignores Name.
type RoleInput struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
}

// Policy is a custom policy: a permission granted directly to one user of
// the tenant, besides their roles.
type Policy struct {
	Subject string `json:"subject"` // "user:<id>"; filled in by the service
	UserID  int64  `json:"user_id"`
	Object  string `json:"object"`
	Action  string `json:"action"`
}

// Field-error codes of this package's validation.
const (
	codeRequired      = "required"
	codeInvalidFormat = "invalid_format"
	codeInvalidChoice = "invalid_choice"
	codeTooLong       = "too_long"
	codeDuplicate     = "duplicate"
)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// maxDescription is the longest role description, in characters.
const maxDescription = 200

const (
	userPrefix    = "u:"
	rolePrefix    = "r:"
	subjectPrefix = "user:" // how API clients name a user subject
)

func userSubject(id int64) string { return userPrefix + strconv.FormatInt(id, 10) }
func roleSubject(name string) string {
	return rolePrefix + name
}

// tenantOf returns the id of the tenant in ctx, which every admin method acts
// on. Errors: tenants.ErrNoTenant when ctx has none.
func tenantOf(ctx context.Context) (int64, error) {
	t := tenants.From(ctx)
	if t == nil || t.ID <= 0 {
		return 0, tenants.ErrNoTenant
	}
	return t.ID, nil
}

// checkTenantArg guards the methods that take a tenant id from their caller:
// when ctx carries a tenant, it must be that tenant.
func checkTenantArg(ctx context.Context, tenantID int64) error {
	if tenantID <= 0 {
		return apperr.NotFound("tenant")
	}
	if t := tenants.From(ctx); t != nil && t.ID != tenantID {
		return apperr.Forbidden()
	}
	return nil
}

// edit runs fn in a transaction (joining ctx's) that first bumps the tenant's
// policy version — on PostgreSQL this also locks the tenant's version row,
// so edits of one tenant run one at a time and their checks (last owner,
// role in use) see each other — and after fn succeeds drops the tenant's
// cached enforcer.
func (s *Service) edit(ctx context.Context, tenantID int64, fn func(ctx context.Context) error) error {
	var version int64
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		w := s.db.W(ctx)
		if err := w.Exec(`INSERT INTO policy_versions (tenant_id, version) VALUES (?, 1)
			ON CONFLICT (tenant_id) DO UPDATE SET version = policy_versions.version + 1`, tenantID).Error; err != nil {
			return apperr.Internal(fmt.Errorf("policies: bump version: %w", err))
		}
		if err := w.Raw("SELECT version FROM policy_versions WHERE tenant_id = ?", tenantID).Scan(&version).Error; err != nil {
			return apperr.Internal(fmt.Errorf("policies: read version: %w", err))
		}
		return fn(ctx)
	})
	if err != nil {
		return err
	}
	s.invalidate(tenantID, version)
	return nil
}

func internal(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return apperr.Internal(err)
}

// rules of the tenant's domain, read in ctx's transaction when there is one.
func (s *Service) pRules(ctx context.Context, dom string) ([]gormadapter.CasbinRule, error) {
	var rs []gormadapter.CasbinRule
	err := s.db.R(ctx).Where("ptype = ? AND v1 = ?", "p", dom).Order("id").Find(&rs).Error
	return rs, internal(err)
}

// userRoles returns the sorted role names of userID in dom.
func (s *Service) userRoles(ctx context.Context, dom string, userID int64) ([]string, error) {
	var subs []string
	if err := s.db.R(ctx).Model(&gormadapter.CasbinRule{}).
		Where("ptype = ? AND v0 = ? AND v2 = ?", "g", userSubject(userID), dom).
		Pluck("v1", &subs).Error; err != nil {
		return nil, internal(err)
	}
	return roleNames(subs), nil
}

// roleNames turns role subjects into sorted names.
func roleNames(subs []string) []string {
	out := make([]string, 0, len(subs))
	for _, sub := range subs {
		if name, ok := strings.CutPrefix(sub, rolePrefix); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// otherOwners counts the owners of dom other than userID.
func (s *Service) otherOwners(ctx context.Context, dom string, userID int64) (int64, error) {
	var n int64
	err := s.db.R(ctx).Model(&gormadapter.CasbinRule{}).
		Where("ptype = ? AND v1 = ? AND v2 = ? AND v0 <> ?", "g", roleSubject(Owner), dom, userSubject(userID)).
		Count(&n).Error
	return n, internal(err)
}

// InstallTemplates copies every default role the tenant does not have yet
// (roles rows with builtin=true and their permissions) into tenantID. Roles
// the tenant already has are left as they are, so it is safe to call again.
// Tenant provisioning calls it, inside its transaction when ctx carries one;
// when ctx carries a tenant it must be tenantID. Audited as "roles.install".
// Errors: not_found (tenantID ≤ 0), forbidden, internal.
func (s *Service) InstallTemplates(ctx context.Context, tenantID int64) error {
	if err := checkTenantArg(ctx, tenantID); err != nil {
		return err
	}
	dom := tenants.DomainOf(tenantID)
	return s.edit(ctx, tenantID, func(ctx context.Context) error {
		w := s.db.W(ctx)
		var have []string
		if err := w.Model(&roleRow{}).Where("tenant_id = ?", tenantID).Pluck("name", &have).Error; err != nil {
			return internal(err)
		}
		now := time.Now().UTC()
		var installed []string
		var rows []roleRow
		var rules []gormadapter.CasbinRule
		for _, t := range templates {
			if slices.Contains(have, t.Name) {
				continue
			}
			installed = append(installed, t.Name)
			rows = append(rows, roleRow{TenantID: tenantID, Name: t.Name, Description: t.Description, Builtin: true, CreatedAt: now, UpdatedAt: now})
			for _, p := range t.Permissions {
				rules = append(rules, pRule(roleSubject(t.Name), dom, p))
			}
		}
		if len(rows) == 0 {
			return nil
		}
		if err := w.Create(&rows).Error; err != nil {
			return internal(err)
		}
		// A rule left behind by a deleted role row is harmless to keep.
		if err := w.Clauses(clause.OnConflict{DoNothing: true}).Create(&rules).Error; err != nil {
			return internal(err)
		}
		return s.audit.Record(ctx, tenantID, "roles.install", dom, nil, installed)
	})
}

func pRule(sub, dom string, p Permission) gormadapter.CasbinRule {
	return gormadapter.CasbinRule{Ptype: "p", V0: sub, V1: dom, V2: p.Object, V3: p.Action}
}

func gRule(userID int64, role, dom string) gormadapter.CasbinRule {
	return gormadapter.CasbinRule{Ptype: "g", V0: userSubject(userID), V1: roleSubject(role), V2: dom}
}

// SetUserRoles replaces the roles userID holds in tenantID with roles (the
// order and duplicates do not matter; an empty list removes them all). The
// tenants service calls it when it adds a member or a tenant admin changes a
// member's roles; the caller checks that userID is a member. When ctx
// carries a tenant it must be tenantID. Audited as "member.roles" with the
// role lists before and after.
// Errors: invalid_input (fields user_id: required; roles: invalid_choice for
// a role the tenant does not have), conflict last_owner (it would leave the
// tenant without an owner), not_found (tenantID ≤ 0), forbidden, internal.
func (s *Service) SetUserRoles(ctx context.Context, tenantID, userID int64, roles []string) error {
	if err := checkTenantArg(ctx, tenantID); err != nil {
		return err
	}
	if userID <= 0 {
		return apperr.Invalid("user_id", codeRequired)
	}
	want := slices.Clone(roles)
	slices.Sort(want)
	want = slices.Compact(want)
	for _, r := range want {
		if !nameRE.MatchString(r) {
			return apperr.Invalid("roles", codeInvalidChoice, "Value", r)
		}
	}
	dom := tenants.DomainOf(tenantID)
	return s.edit(ctx, tenantID, func(ctx context.Context) error {
		w := s.db.W(ctx)
		if len(want) > 0 {
			var known []string
			if err := w.Model(&roleRow{}).Where("tenant_id = ? AND name IN ?", tenantID, want).Pluck("name", &known).Error; err != nil {
				return internal(err)
			}
			for _, r := range want {
				if !slices.Contains(known, r) {
					return apperr.Invalid("roles", codeInvalidChoice, "Value", r)
				}
			}
		}
		before, err := s.userRoles(ctx, dom, userID)
		if err != nil {
			return err
		}
		if slices.Equal(before, want) {
			return nil
		}
		if slices.Contains(before, Owner) && !slices.Contains(want, Owner) {
			if err := s.checkNotLastOwner(ctx, dom, userID); err != nil {
				return err
			}
		}
		if err := w.Where("ptype = ? AND v0 = ? AND v2 = ?", "g", userSubject(userID), dom).
			Delete(&gormadapter.CasbinRule{}).Error; err != nil {
			return internal(err)
		}
		if len(want) > 0 {
			rules := make([]gormadapter.CasbinRule, len(want))
			for i, r := range want {
				rules[i] = gRule(userID, r, dom)
			}
			if err := w.Create(&rules).Error; err != nil {
				return internal(err)
			}
		}
		return s.audit.Record(ctx, tenantID, "member.roles", "user:"+strconv.FormatInt(userID, 10), before, want)
	})
}

func (s *Service) checkNotLastOwner(ctx context.Context, dom string, userID int64) error {
	n, err := s.otherOwners(ctx, dom, userID)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.Conflict("last_owner")
	}
	return nil
}

// memberGrants is what RemoveUser audits.
type memberGrants struct {
	Roles       []string     `json:"roles"`
	Permissions []Permission `json:"permissions"`
}

// RemoveUser drops every role and direct grant of userID in tenantID. The
// tenants service calls it, in its transaction, when a member is removed;
// when ctx carries a tenant it must be tenantID. Audited as "member.remove"
// with the roles and grants before. Removing a user who holds nothing is a
// no-op. Errors: invalid_input (user_id: required), conflict last_owner
// (the user is the tenant's only owner), not_found (tenantID ≤ 0),
// forbidden, internal.
func (s *Service) RemoveUser(ctx context.Context, tenantID, userID int64) error {
	if err := checkTenantArg(ctx, tenantID); err != nil {
		return err
	}
	if userID <= 0 {
		return apperr.Invalid("user_id", codeRequired)
	}
	dom := tenants.DomainOf(tenantID)
	sub := userSubject(userID)
	return s.edit(ctx, tenantID, func(ctx context.Context) error {
		w := s.db.W(ctx)
		roles, err := s.userRoles(ctx, dom, userID)
		if err != nil {
			return err
		}
		var direct []gormadapter.CasbinRule
		if err := w.Where("ptype = ? AND v0 = ? AND v1 = ?", "p", sub, dom).Find(&direct).Error; err != nil {
			return internal(err)
		}
		if len(roles) == 0 && len(direct) == 0 {
			return nil
		}
		if slices.Contains(roles, Owner) {
			if err := s.checkNotLastOwner(ctx, dom, userID); err != nil {
				return err
			}
		}
		if err := w.Where("ptype = ? AND v0 = ? AND v2 = ?", "g", sub, dom).Delete(&gormadapter.CasbinRule{}).Error; err != nil {
			return internal(err)
		}
		if err := w.Where("ptype = ? AND v0 = ? AND v1 = ?", "p", sub, dom).Delete(&gormadapter.CasbinRule{}).Error; err != nil {
			return internal(err)
		}
		before := memberGrants{Roles: roles, Permissions: make([]Permission, 0, len(direct))}
		for _, r := range direct {
			before.Permissions = append(before.Permissions, Permission{Object: r.V2, Action: r.V3})
		}
		sortPermissions(before.Permissions)
		return s.audit.Record(ctx, tenantID, "member.remove", "user:"+strconv.FormatInt(userID, 10), before, nil)
	})
}

// UserRoles returns the sorted names of the roles userID holds in tenantID
// (empty, never nil, when none). Services and handlers call it; it reads the
// database (ctx's transaction when there is one).
// Errors: not_found (tenantID ≤ 0), internal.
func (s *Service) UserRoles(ctx context.Context, tenantID, userID int64) ([]string, error) {
	if tenantID <= 0 {
		return nil, apperr.NotFound("tenant")
	}
	return s.userRoles(ctx, tenants.DomainOf(tenantID), userID)
}

// RolesOfUsers returns the sorted role names of each of userIDs in tenantID;
// every requested id is a key, with an empty list when the user holds no
// role. Member lists call it. Errors: not_found (tenantID ≤ 0), internal.
func (s *Service) RolesOfUsers(ctx context.Context, tenantID int64, userIDs []int64) (map[int64][]string, error) {
	if tenantID <= 0 {
		return nil, apperr.NotFound("tenant")
	}
	out := make(map[int64][]string, len(userIDs))
	subs := make([]string, 0, len(userIDs))
	for _, id := range userIDs {
		if _, ok := out[id]; !ok {
			out[id] = []string{}
			subs = append(subs, userSubject(id))
		}
	}
	const chunk = 500
	for len(subs) > 0 {
		n := min(chunk, len(subs))
		var rs []gormadapter.CasbinRule
		if err := s.db.R(ctx).Where("ptype = ? AND v2 = ? AND v0 IN ?", "g", tenants.DomainOf(tenantID), subs[:n]).
			Find(&rs).Error; err != nil {
			return nil, internal(err)
		}
		for _, r := range rs {
			id, ok := parseID(r.V0, userPrefix)
			name, isRole := strings.CutPrefix(r.V1, rolePrefix)
			if ok && isRole {
				out[id] = append(out[id], name)
			}
		}
		subs = subs[n:]
	}
	for id := range out {
		slices.Sort(out[id])
	}
	return out, nil
}

// UserMemberships returns, for every tenant where userID holds a role, the
// sorted role names (GET /me). Errors: internal.
func (s *Service) UserMemberships(ctx context.Context, userID int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if userID <= 0 {
		return out, nil
	}
	var rs []gormadapter.CasbinRule
	if err := s.db.R(ctx).Where("ptype = ? AND v0 = ?", "g", userSubject(userID)).Find(&rs).Error; err != nil {
		return nil, internal(err)
	}
	for _, r := range rs {
		tid, ok := parseID(r.V2, "t:")
		name, isRole := strings.CutPrefix(r.V1, rolePrefix)
		if ok && isRole {
			out[tid] = append(out[tid], name)
		}
	}
	for id := range out {
		slices.Sort(out[id])
	}
	return out, nil
}

// parseID parses "<prefix><positive int>".
func parseID(s, prefix string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// validPermissions adds field errors for permissions not from Objects ×
// Actions or listed twice.
func validPermissions(f apperr.Fields, ps []Permission) {
	seen := map[Permission]bool{}
	for i, p := range ps {
		field := fmt.Sprintf("permissions[%d]", i)
		ok := true
		if !slices.Contains(Objects, p.Object) {
			f.Add(field+".object", codeInvalidChoice)
			ok = false
		}
		if !slices.Contains(Actions, p.Action) {
			f.Add(field+".action", codeInvalidChoice)
			ok = false
		}
		if ok && seen[p] {
			f.Add(field, codeDuplicate)
		}
		seen[p] = true
	}
}

func validDescription(f apperr.Fields, d string) {
	if utf8.RuneCountInString(d) > maxDescription {
		f.Add("description", codeTooLong, "Max", maxDescription)
	}
}

// ListRoles returns the roles of the tenant in ctx with their permissions
// and member counts, templates first. Tenant admins call it (admin read).
// Errors: no_tenant_in_context, internal.
func (s *Service) ListRoles(ctx context.Context) ([]Role, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var rows []roleRow
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Order("builtin DESC, id").Find(&rows).Error; err != nil {
		return nil, internal(err)
	}
	dom := tenants.DomainOf(tenantID)
	rules, err := s.pRules(ctx, dom)
	if err != nil {
		return nil, err
	}
	perms := map[string][]Permission{}
	for _, r := range rules {
		if name, ok := strings.CutPrefix(r.V0, rolePrefix); ok {
			perms[name] = append(perms[name], Permission{Object: r.V2, Action: r.V3})
		}
	}
	var counts []struct {
		V1 string
		N  int
	}
	if err := s.db.R(ctx).Model(&gormadapter.CasbinRule{}).Select("v1, COUNT(*) AS n").
		Where("ptype = ? AND v2 = ?", "g", dom).Group("v1").Scan(&counts).Error; err != nil {
		return nil, internal(err)
	}
	members := map[string]int{}
	for _, c := range counts {
		members[strings.TrimPrefix(c.V1, rolePrefix)] = c.N
	}
	out := make([]Role, len(rows))
	for i, r := range rows {
		out[i] = makeRole(r, perms[r.Name], members[r.Name])
	}
	return out, nil
}

func makeRole(r roleRow, perms []Permission, members int) Role {
	ps := make([]Permission, len(perms))
	copy(ps, perms)
	sortPermissions(ps)
	return Role{Name: r.Name, Description: r.Description, Builtin: r.Builtin, Permissions: ps, Members: members}
}

// role reads one role of the tenant in ctx with its permissions and members.
func (s *Service) role(ctx context.Context, tenantID int64, name string) (roleRow, Role, error) {
	var row roleRow
	if !nameRE.MatchString(name) {
		return row, Role{}, apperr.NotFound("role")
	}
	if err := s.db.R(ctx).Scopes(tenants.Scope(ctx)).Where("name = ?", name).Take(&row).Error; err != nil {
		return row, Role{}, store.Error(err, "role")
	}
	dom := tenants.DomainOf(tenantID)
	var rules []gormadapter.CasbinRule
	if err := s.db.R(ctx).Where("ptype = ? AND v0 = ? AND v1 = ?", "p", roleSubject(name), dom).Find(&rules).Error; err != nil {
		return row, Role{}, internal(err)
	}
	perms := make([]Permission, len(rules))
	for i, r := range rules {
		perms[i] = Permission{Object: r.V2, Action: r.V3}
	}
	var n int64
	if err := s.db.R(ctx).Model(&gormadapter.CasbinRule{}).
		Where("ptype = ? AND v1 = ? AND v2 = ?", "g", roleSubject(name), dom).Count(&n).Error; err != nil {
		return row, Role{}, internal(err)
	}
	return row, makeRole(row, perms, int(n)), nil
}

// replacePermissions sets the role's p rules in dom to perms.
func (s *Service) replacePermissions(ctx context.Context, dom, name string, perms []Permission) error {
	w := s.db.W(ctx)
	if err := w.Where("ptype = ? AND v0 = ? AND v1 = ?", "p", roleSubject(name), dom).
		Delete(&gormadapter.CasbinRule{}).Error; err != nil {
		return internal(err)
	}
	if len(perms) == 0 {
		return nil
	}
	rules := make([]gormadapter.CasbinRule, len(perms))
	for i, p := range perms {
		rules[i] = pRule(roleSubject(name), dom, p)
	}
	return internal(w.Create(&rules).Error)
}

// CreateRole creates a custom role in the tenant in ctx. Tenant admins call
// it (admin write). Audited as "role.create".
// Errors: invalid_input (name: required, invalid_format — ^[a-z][a-z0-9_]{1,39}$;
// description: too_long over 200 characters; permissions[i].object and
// permissions[i].action: invalid_choice; permissions[i]: duplicate),
// conflict role_exists, no_tenant_in_context, internal.
func (s *Service) CreateRole(ctx context.Context, in RoleInput) (Role, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return Role{}, err
	}
	f := apperr.Fields{}
	switch {
	case in.Name == "":
		f.Add("name", codeRequired)
	case !nameRE.MatchString(in.Name):
		f.Add("name", codeInvalidFormat)
	}
	validDescription(f, in.Description)
	validPermissions(f, in.Permissions)
	if err := f.Err(); err != nil {
		return Role{}, err
	}
	dom := tenants.DomainOf(tenantID)
	var out Role
	err = s.edit(ctx, tenantID, func(ctx context.Context) error {
		var n int64
		if err := s.db.W(ctx).Model(&roleRow{}).Scopes(tenants.Scope(ctx)).Where("name = ?", in.Name).Count(&n).Error; err != nil {
			return internal(err)
		}
		if n > 0 {
			return apperr.Conflict("role_exists")
		}
		now := time.Now().UTC()
		row := roleRow{TenantID: tenantID, Name: in.Name, Description: in.Description, CreatedAt: now, UpdatedAt: now}
		if err := s.db.W(ctx).Create(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return apperr.Conflict("role_exists")
			}
			return internal(err)
		}
		if err := s.replacePermissions(ctx, dom, in.Name, in.Permissions); err != nil {
			return err
		}
		out = makeRole(row, in.Permissions, 0)
		return s.audit.Record(ctx, tenantID, "role.create", in.Name, nil, out)
	})
	if err != nil {
		return Role{}, err
	}
	return out, nil
}

// UpdateRole replaces the description and permissions of the role name of
// the tenant in ctx (in.Name is ignored: roles are not renamed). Tenant
// admins call it (admin write). Audited as "role.update".
// Errors: invalid_input (description, permissions[i]… as for CreateRole),
// not_found (role), conflict role_protected (the owner role),
// no_tenant_in_context, internal.
func (s *Service) UpdateRole(ctx context.Context, name string, in RoleInput) (Role, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return Role{}, err
	}
	f := apperr.Fields{}
	validDescription(f, in.Description)
	validPermissions(f, in.Permissions)
	if err := f.Err(); err != nil {
		return Role{}, err
	}
	dom := tenants.DomainOf(tenantID)
	var out Role
	err = s.edit(ctx, tenantID, func(ctx context.Context) error {
		row, before, err := s.role(ctx, tenantID, name)
		if err != nil {
			return err
		}
		if name == Owner {
			return apperr.Conflict("role_protected")
		}
		row.Description = in.Description
		row.UpdatedAt = time.Now().UTC()
		if err := s.db.W(ctx).Model(&row).Scopes(tenants.Scope(ctx)).
			Updates(map[string]any{"description": row.Description, "updated_at": row.UpdatedAt}).Error; err != nil {
			return internal(err)
		}
		if err := s.replacePermissions(ctx, dom, name, in.Permissions); err != nil {
			return err
		}
		out = makeRole(row, in.Permissions, before.Members)
		return s.audit.Record(ctx, tenantID, "role.update", name, before, out)
	})
	if err != nil {
		return Role{}, err
	}
	return out, nil
}

// DeleteRole deletes the role name of the tenant in ctx and its permissions.
// Tenant admins call it (admin write). Audited as "role.delete".
// Errors: not_found (role), conflict role_protected (the owner role),
// conflict role_in_use (members still hold it), no_tenant_in_context, internal.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	dom := tenants.DomainOf(tenantID)
	return s.edit(ctx, tenantID, func(ctx context.Context) error {
		row, before, err := s.role(ctx, tenantID, name)
		if err != nil {
			return err
		}
		if name == Owner {
			return apperr.Conflict("role_protected")
		}
		if before.Members > 0 {
			e := apperr.Conflict("role_in_use")
			e.Args = map[string]any{"Members": before.Members}
			return e
		}
		if err := s.replacePermissions(ctx, dom, name, nil); err != nil {
			return err
		}
		if err := s.db.W(ctx).Scopes(tenants.Scope(ctx)).Delete(&roleRow{}, row.ID).Error; err != nil {
			return internal(err)
		}
		return s.audit.Record(ctx, tenantID, "role.delete", name, before, nil)
	})
}

// ListPolicies returns the custom policies (direct grants to users) of the
// tenant in ctx, by user, module and action. Tenant admins call it (admin
// read). Errors: no_tenant_in_context, internal.
func (s *Service) ListPolicies(ctx context.Context) ([]Policy, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	rules, err := s.pRules(ctx, tenants.DomainOf(tenantID))
	if err != nil {
		return nil, err
	}
	out := []Policy{}
	for _, r := range rules {
		if id, ok := parseID(r.V0, userPrefix); ok {
			out = append(out, makePolicy(id, Permission{Object: r.V2, Action: r.V3}))
		}
	}
	slices.SortFunc(out, func(a, b Policy) int {
		if c := cmp.Compare(a.UserID, b.UserID); c != 0 {
			return c
		}
		return comparePermissions(Permission{a.Object, a.Action}, Permission{b.Object, b.Action})
	})
	return out, nil
}

func makePolicy(userID int64, p Permission) Policy {
	return Policy{Subject: subjectPrefix + strconv.FormatInt(userID, 10), UserID: userID, Object: p.Object, Action: p.Action}
}

// validPolicy checks a policy from a client: the user is UserID, or, when
// that is 0, the id in Subject ("user:<id>"); a Subject that names another
// user is invalid.
func validPolicy(in Policy) (int64, Permission, error) {
	f := apperr.Fields{}
	id := in.UserID
	if in.Subject != "" {
		sid, ok := parseID(in.Subject, subjectPrefix)
		switch {
		case !ok:
			f.Add("subject", codeInvalidFormat)
		case id == 0:
			id = sid
		case id != sid:
			f.Add("subject", codeInvalidFormat)
		}
	}
	if id <= 0 {
		f.Add("user_id", codeRequired)
	}
	if !slices.Contains(Objects, in.Object) {
		f.Add("object", codeInvalidChoice)
	}
	if !slices.Contains(Actions, in.Action) {
		f.Add("action", codeInvalidChoice)
	}
	return id, Permission{Object: in.Object, Action: in.Action}, f.Err()
}

// AddPolicy grants a permission directly to a user in the tenant in ctx.
// Tenant admins call it (admin write); the caller checks that the user is a
// member. Audited as "policy.add".
// Errors: invalid_input (user_id: required; subject: invalid_format;
// object, action: invalid_choice), conflict policy_exists,
// no_tenant_in_context, internal.
func (s *Service) AddPolicy(ctx context.Context, in Policy) (Policy, error) {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return Policy{}, err
	}
	userID, perm, err := validPolicy(in)
	if err != nil {
		return Policy{}, err
	}
	out := makePolicy(userID, perm)
	rule := pRule(userSubject(userID), tenants.DomainOf(tenantID), perm)
	err = s.edit(ctx, tenantID, func(ctx context.Context) error {
		var n int64
		if err := s.db.W(ctx).Model(&gormadapter.CasbinRule{}).
			Where("ptype = ? AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ?", rule.Ptype, rule.V0, rule.V1, rule.V2, rule.V3).
			Count(&n).Error; err != nil {
			return internal(err)
		}
		if n > 0 {
			return apperr.Conflict("policy_exists")
		}
		if err := s.db.W(ctx).Create(&rule).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return apperr.Conflict("policy_exists")
			}
			return internal(err)
		}
		return s.audit.Record(ctx, tenantID, "policy.add", out.Subject, nil, out)
	})
	if err != nil {
		return Policy{}, err
	}
	return out, nil
}

// DeletePolicy revokes a direct grant in the tenant in ctx. Tenant admins
// call it (admin write). Audited as "policy.delete".
// Errors: invalid_input (as for AddPolicy), not_found (policy),
// no_tenant_in_context, internal.
func (s *Service) DeletePolicy(ctx context.Context, in Policy) error {
	tenantID, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	userID, perm, err := validPolicy(in)
	if err != nil {
		return err
	}
	before := makePolicy(userID, perm)
	rule := pRule(userSubject(userID), tenants.DomainOf(tenantID), perm)
	return s.edit(ctx, tenantID, func(ctx context.Context) error {
		res := s.db.W(ctx).
			Where("ptype = ? AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ?", rule.Ptype, rule.V0, rule.V1, rule.V2, rule.V3).
			Delete(&gormadapter.CasbinRule{})
		if res.Error != nil {
			return internal(res.Error)
		}
		if res.RowsAffected == 0 {
			return apperr.NotFound("policy")
		}
		return s.audit.Record(ctx, tenantID, "policy.delete", before.Subject, before, nil)
	})
}
