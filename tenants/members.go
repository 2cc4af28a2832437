package tenants

import (
	"context"
	"errors"
	"strconv"
	"time"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/store"
)

// MemberView is a member as tenant admins see it.
type MemberView struct {
	UserID    int64     `json:"user_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
}

func current(ctx context.Context) (*Tenant, error) {
	t := From(ctx)
	if t == nil {
		return nil, ErrNoTenant
	}
	return t, nil
}

// Members lists the members of the tenant in ctx with their roles, oldest
// first. Callers need admin:read. Errors: none beyond internal.
func (s *Service) Members(ctx context.Context, p store.PageRequest) (store.Page[MemberView], error) {
	var ms []Member
	var total int64
	q := s.db.R(ctx).Model(&Member{}).Scopes(Scope(ctx))
	if err := q.Count(&total).Error; err != nil {
		return store.Page[MemberView]{}, store.Error(err, "member")
	}
	if err := q.Scopes(p.Scope).Order("id").Find(&ms).Error; err != nil {
		return store.Page[MemberView]{}, store.Error(err, "member")
	}
	views, err := s.views(ctx, ms)
	if err != nil {
		return store.Page[MemberView]{}, err
	}
	return store.NewPage(views, total, p), nil
}

func (s *Service) views(ctx context.Context, ms []Member) ([]MemberView, error) {
	t, err := current(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := s.accounts.Users(ctx, ids)
	if err != nil {
		return nil, err
	}
	roles, err := s.roles.RolesOfUsers(ctx, t.ID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]MemberView, 0, len(ms))
	for _, m := range ms {
		v := MemberView{UserID: m.UserID, Roles: roles[m.UserID], CreatedAt: m.CreatedAt}
		if v.Roles == nil {
			v.Roles = []string{}
		}
		if u := users[m.UserID]; u != nil {
			v.Email, v.Name = u.Email, u.Name
		}
		out = append(out, v)
	}
	return out, nil
}

// Member returns one member of the tenant in ctx. Errors: not_found.
func (s *Service) Member(ctx context.Context, userID int64) (*MemberView, error) {
	var m Member
	if err := s.db.R(ctx).Scopes(Scope(ctx)).Where("user_id = ?", userID).Take(&m).Error; err != nil {
		return nil, store.Error(err, "member")
	}
	vs, err := s.views(ctx, []Member{m})
	if err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// AddMemberInput adds an existing account to the tenant with roles.
type AddMemberInput struct {
	Email string   `json:"email"`
	Roles []string `json:"roles"`
}

// AddMember makes an existing account a member of the tenant in ctx with the
// given roles. Callers need admin:write. Errors: invalid_input (unknown
// email or role), already_member.
func (s *Service) AddMember(ctx context.Context, in AddMemberInput) (*MemberView, error) {
	t, err := current(ctx)
	if err != nil {
		return nil, err
	}
	f := apperr.Fields{}
	if in.Email == "" {
		f.Add("email", "required")
	}
	if len(in.Roles) == 0 {
		f.Add("roles", "required")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	u, err := s.accounts.UserByEmail(ctx, in.Email)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, apperr.Invalid("email", "no_such_account")
	}
	if err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.addMember(ctx, t.ID, u.ID, in.Roles); err != nil {
			return err
		}
		return s.audit.Record(ctx, t.ID, "member.add", u.Email, nil, map[string]any{"user_id": u.ID, "roles": in.Roles})
	})
	if err != nil {
		return nil, err
	}
	return s.Member(ctx, u.ID)
}

// SetMemberRoles replaces a member's roles. Callers need admin:write.
// Errors: not_found, invalid_input, last_owner.
func (s *Service) SetMemberRoles(ctx context.Context, userID int64, roles []string) (*MemberView, error) {
	t, err := current(ctx)
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, apperr.Invalid("roles", "required")
	}
	if _, err := s.Member(ctx, userID); err != nil {
		return nil, err
	}
	if err := s.db.Tx(ctx, func(ctx context.Context) error {
		return s.roles.SetUserRoles(ctx, t.ID, userID, roles)
	}); err != nil {
		return nil, err
	}
	return s.Member(ctx, userID)
}

// RemoveMember removes a member and their roles and grants from the tenant in
// ctx. Callers need admin:write. Errors: not_found, last_owner.
func (s *Service) RemoveMember(ctx context.Context, userID int64) error {
	t, err := current(ctx)
	if err != nil {
		return err
	}
	before, err := s.Member(ctx, userID)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.roles.RemoveUser(ctx, t.ID, userID); err != nil {
			return err
		}
		if err := s.db.W(ctx).Scopes(Scope(ctx)).Where("user_id = ?", userID).Delete(&Member{}).Error; err != nil {
			return store.Error(err, "member")
		}
		return s.audit.Record(ctx, t.ID, "member.remove", strconv.FormatInt(userID, 10), before, nil)
	})
}

// Memberships is what GET /me shows of the caller's tenants.
type Membership struct {
	Tenant struct {
		ID   int64  `json:"id"`
		Slug string `json:"slug"`
		Name string `json:"name"`
	} `json:"tenant"`
	Roles []string `json:"roles"`
	// Permissions are the effective grants there (roles and direct grants),
	// filled in by the caller that holds the enforcer.
	Permissions []Grant `json:"permissions"`
}

// Grant is one permission: an action on a module.
type Grant struct {
	Object string `json:"object"`
	Action string `json:"action"`
}

// MembershipsOf lists the tenants the caller belongs to and their roles there.
func (s *Service) MembershipsOf(ctx context.Context, rolesByTenant map[int64][]string) ([]Membership, error) {
	a := actor.From(ctx)
	if a == nil {
		return nil, apperr.ErrUnauthorized
	}
	ids, err := s.MemberTenantIDs(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	ts, err := s.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Membership, 0, len(ts))
	for _, t := range ts {
		var m Membership
		m.Tenant.ID, m.Tenant.Slug, m.Tenant.Name = t.ID, t.Slug, t.Name
		m.Roles = rolesByTenant[t.ID]
		if m.Roles == nil {
			m.Roles = []string{}
		}
		m.Permissions = []Grant{}
		out = append(out, m)
	}
	return out, nil
}
