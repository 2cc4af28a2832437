package tenants

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/auth"
	"saasmall/server/store"
)

// Migrations are the tenants tables.
func Migrations() []*store.Migration {
	return []*store.Migration{{
		ID:       "202611250006_tenants",
		Migrate:  func(tx *gorm.DB) error { return tx.AutoMigrate(&Tenant{}, &Member{}) },
		Rollback: func(tx *gorm.DB) error { return tx.Migrator().DropTable(&Member{}, &Tenant{}) },
	}}
}

// Accounts is what tenants needs of the account service.
type Accounts interface {
	EnsureAccount(ctx context.Context, email, password, name string) (int64, error)
	UserByEmail(ctx context.Context, email string) (*auth.User, error)
	Users(ctx context.Context, ids []int64) (map[int64]*auth.User, error)
}

// Roles is what tenants needs of the policies service.
type Roles interface {
	InstallTemplates(ctx context.Context, tenantID int64) error
	SetUserRoles(ctx context.Context, tenantID, userID int64, roles []string) error
	RemoveUser(ctx context.Context, tenantID, userID int64) error
	RolesOfUsers(ctx context.Context, tenantID int64, userIDs []int64) (map[int64][]string, error)
}

// Auditor records changes in the audit log.
type Auditor interface {
	Record(ctx context.Context, tenantID int64, action, target string, before, after any) error
}

// Service manages tenants and their members.
type Service struct {
	db       *store.DB
	accounts Accounts
	roles    Roles
	audit    Auditor
	hooks    []func(ctx context.Context, t *Tenant) error

	statusHooks []func(ctx context.Context, t *Tenant) error

	cacheMu sync.RWMutex
	bySlug  map[string]cachedTenant
	byID    map[int64]cachedTenant
}

type cachedTenant struct {
	t  *Tenant
	at time.Time
}

// cacheTTL bounds how long another process's status change takes to reach
// this one's tenant lookups.
const cacheTTL = 2 * time.Second

// New returns the tenants service.
func New(db *store.DB, accounts Accounts, roles Roles, audit Auditor) *Service {
	return &Service{db: db, accounts: accounts, roles: roles, audit: audit, bySlug: map[string]cachedTenant{}, byID: map[int64]cachedTenant{}}
}

// OnCreate registers a hook run inside the transaction that creates a tenant
// (e.g. the warehouse package creates the default warehouse).
func (s *Service) OnCreate(fn func(ctx context.Context, t *Tenant) error) {
	s.hooks = append(s.hooks, fn)
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

var reservedSlugs = map[string]bool{"api": true, "admin": true, "console": true, "static": true, "assets": true, "www": true, "mall": true, "platform": true}

// CreateInput provisions a tenant with its first administrator.
type CreateInput struct {
	Slug            string `json:"slug"`
	Name            string `json:"name"`
	DefaultCurrency string `json:"default_currency"`
	DefaultLocale   string `json:"default_locale"`
	TaxRateBP       *int   `json:"tax_rate_bp"`
	AdminEmail      string `json:"admin_email"`
	AdminPassword   string `json:"admin_password"`
	AdminName       string `json:"admin_name"`
}

func (in *CreateInput) validate() error {
	f := apperr.Fields{}
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	in.Name = strings.TrimSpace(in.Name)
	in.DefaultCurrency = strings.ToUpper(strings.TrimSpace(in.DefaultCurrency))
	switch {
	case in.Slug == "":
		f.Add("slug", "required")
	case len(in.Slug) < 2 || !slugRE.MatchString(in.Slug):
		f.Add("slug", "invalid_slug")
	case reservedSlugs[in.Slug]:
		f.Add("slug", "reserved")
	}
	switch {
	case in.Name == "":
		f.Add("name", "required")
	case utf8.RuneCountInString(in.Name) > 120:
		f.Add("name", "too_long", "Max", 120)
	}
	if in.DefaultCurrency == "" {
		in.DefaultCurrency = "USD"
	} else if !ValidCurrency(in.DefaultCurrency) {
		f.Add("default_currency", "invalid_currency")
	}
	switch in.DefaultLocale {
	case "":
		in.DefaultLocale = "en"
	case "en", "zh-Hans":
	default:
		f.Add("default_locale", "invalid_choice", "Choices", "en, zh-Hans")
	}
	if in.TaxRateBP != nil && (*in.TaxRateBP < 0 || *in.TaxRateBP > 10000) {
		f.Add("tax_rate_bp", "out_of_range", "Min", 0, "Max", 10000)
	}
	if in.AdminEmail == "" {
		f.Add("admin_email", "required")
	}
	return f.Err()
}

// ValidCurrency reports whether code is an ISO 4217 currency code.
func ValidCurrency(code string) bool {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return false
	}
	u, err := currency.ParseISO(code)
	return err == nil && u.String() == code
}

// Create provisions a tenant: the tenant row, its role templates, its first
// member (owner) — creating that account when it does not exist — and every
// OnCreate hook, in one transaction. Platform operators and the CLI call it.
// Errors: forbidden, invalid_input, slug_taken.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Tenant, error) {
	if a := actor.From(ctx); a != nil && !a.PlatformOperator {
		return nil, apperr.Forbidden()
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var t *Tenant
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		now := time.Now().UTC()
		t = &Tenant{Slug: in.Slug, Name: in.Name, Status: StatusActive, DefaultCurrency: in.DefaultCurrency,
			DefaultLocale: in.DefaultLocale, CreatedAt: now, UpdatedAt: now}
		if in.TaxRateBP != nil {
			t.TaxRateBP = *in.TaxRateBP
		}
		if err := s.db.W(ctx).Create(t).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return &apperr.Error{Kind: apperr.KindConflict, Code: "slug_taken", Fields: map[string]apperr.FieldError{"slug": {Code: "slug_taken"}}}
			}
			return apperr.Internal(err)
		}
		if err := s.roles.InstallTemplates(ctx, t.ID); err != nil {
			return err
		}
		uid, err := s.accounts.EnsureAccount(ctx, in.AdminEmail, in.AdminPassword, firstNonEmpty(in.AdminName, in.Name+" admin"))
		if err != nil {
			return prefixFields(err, "admin_")
		}
		if err := s.addMember(ctx, t.ID, uid, []string{"owner"}); err != nil {
			return err
		}
		for _, h := range s.hooks {
			if err := h(WithTenant(ctx, t), t); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, t.ID, "tenant.create", t.Slug, nil, t)
	})
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	delete(s.bySlug, t.Slug) // a cached "not found" must not outlive the tenant's birth
	s.cacheMu.Unlock()
	return t, nil
}

func firstNonEmpty(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

// prefixFields renames field errors of an account error (email → admin_email).
func prefixFields(err error, prefix string) error {
	var e *apperr.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	c := *e
	c.Fields = map[string]apperr.FieldError{}
	for k, v := range e.Fields {
		c.Fields[prefix+k] = v
	}
	return &c
}

func (s *Service) addMember(ctx context.Context, tenantID, userID int64, roles []string) error {
	m := Member{TenantID: tenantID, UserID: userID, CreatedAt: time.Now().UTC()}
	if err := s.db.W(ctx).Create(&m).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return apperr.Conflict("already_member")
		}
		return apperr.Internal(err)
	}
	return s.roles.SetUserRoles(ctx, tenantID, userID, roles)
}

// BySlug returns an active or suspended tenant by slug, from a short-lived
// cache (request routing calls it on every tenant-scoped request).
// Errors: tenant_not_found.
func (s *Service) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	now := time.Now()
	s.cacheMu.RLock()
	c, ok := s.bySlug[slug]
	s.cacheMu.RUnlock()
	if ok && now.Sub(c.at) < cacheTTL {
		if c.t == nil {
			return nil, errTenantNotFound
		}
		return c.t, nil
	}
	var t Tenant
	err := s.db.R(ctx).Where("slug = ?", slug).Take(&t).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.Internal(err)
	}
	var tp *Tenant
	if err == nil {
		tp = &t
	}
	s.cacheMu.Lock()
	if len(s.bySlug) > 10_000 {
		s.bySlug = map[string]cachedTenant{}
	}
	s.bySlug[strings.Clone(slug)] = cachedTenant{t: tp, at: now}
	s.cacheMu.Unlock()
	if tp == nil {
		return nil, errTenantNotFound
	}
	return tp, nil
}

var errTenantNotFound = &apperr.Error{Kind: apperr.KindNotFound, Code: "tenant_not_found"}

// ErrTenantNotFound is returned for unknown tenants.
var ErrTenantNotFound = errTenantNotFound

// ByIDs returns tenants by id.
func (s *Service) ByIDs(ctx context.Context, ids []int64) ([]Tenant, error) {
	var ts []Tenant
	if len(ids) == 0 {
		return ts, nil
	}
	if err := s.db.R(ctx).Where("id IN ?", ids).Order("name").Find(&ts).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return ts, nil
}

// Cached returns the tenants with the given ids, ordered by name, from the
// cache BySlug uses (a status change reaches it at once in this process,
// within cacheTTL in others). Unknown ids are left out.
func (s *Service) Cached(ctx context.Context, ids []int64) ([]Tenant, error) {
	now := time.Now()
	out := make([]Tenant, 0, len(ids))
	var miss []int64
	s.cacheMu.RLock()
	for _, id := range ids {
		if c, ok := s.byID[id]; ok && now.Sub(c.at) < cacheTTL {
			out = append(out, *c.t)
		} else {
			miss = append(miss, id)
		}
	}
	s.cacheMu.RUnlock()
	if len(miss) > 0 {
		var ts []Tenant
		if err := s.db.R(ctx).Where("id IN ?", miss).Find(&ts).Error; err != nil {
			return nil, apperr.Internal(err)
		}
		s.cacheMu.Lock()
		if len(s.byID) > 10_000 {
			s.byID = map[int64]cachedTenant{}
		}
		for i := range ts {
			t := ts[i]
			s.byID[t.ID] = cachedTenant{t: &t, at: now}
			out = append(out, t)
		}
		s.cacheMu.Unlock()
	}
	slices.SortFunc(out, func(a, b Tenant) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// List returns every tenant, paginated (platform operators).
// Errors: forbidden.
func (s *Service) List(ctx context.Context, p store.PageRequest) (store.Page[Tenant], error) {
	if a := actor.From(ctx); a == nil || !a.PlatformOperator {
		return store.Page[Tenant]{}, apperr.Forbidden()
	}
	var ts []Tenant
	var total int64
	q := s.db.R(ctx).Model(&Tenant{})
	if err := q.Count(&total).Error; err != nil {
		return store.Page[Tenant]{}, apperr.Internal(err)
	}
	if err := q.Scopes(p.Scope).Order("id").Find(&ts).Error; err != nil {
		return store.Page[Tenant]{}, apperr.Internal(err)
	}
	return store.NewPage(ts, total, p), nil
}

// IsMember reports whether userID is a member of tenantID.
func (s *Service) IsMember(ctx context.Context, tenantID, userID int64) (bool, error) {
	var n int64
	if err := s.db.R(ctx).Model(&Member{}).Where("tenant_id = ? AND user_id = ?", tenantID, userID).Count(&n).Error; err != nil {
		return false, apperr.Internal(err)
	}
	return n > 0, nil
}

// MemberTenantIDs returns the ids of the tenants userID is a member of.
func (s *Service) MemberTenantIDs(ctx context.Context, userID int64) ([]int64, error) {
	var ids []int64
	if err := s.db.R(ctx).Model(&Member{}).Where("user_id = ?", userID).Order("tenant_id").Pluck("tenant_id", &ids).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return ids, nil
}

// StatusInput changes a tenant's status.
type StatusInput struct {
	Status Status `json:"status"`
}

// OnStatusChange registers a hook run inside the transaction that changes a
// tenant's status (the mall hides a suspended tenant's store).
func (s *Service) OnStatusChange(fn func(ctx context.Context, t *Tenant) error) {
	s.statusHooks = append(s.statusHooks, fn)
}

// SetStatus suspends or re-activates a tenant. Platform operators.
// Errors: forbidden, tenant_not_found, invalid_input.
func (s *Service) SetStatus(ctx context.Context, slug string, in StatusInput) (*Tenant, error) {
	if a := actor.From(ctx); a != nil && !a.PlatformOperator {
		return nil, apperr.Forbidden()
	}
	if in.Status != StatusActive && in.Status != StatusSuspended {
		return nil, apperr.Invalid("status", "invalid_choice", "Choices", "active, suspended")
	}
	var t Tenant
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.db.W(ctx).Where("slug = ?", slug).Take(&t).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errTenantNotFound
			}
			return apperr.Internal(err)
		}
		before := t
		t.Status, t.UpdatedAt = in.Status, time.Now().UTC()
		if err := s.db.W(ctx).Model(&Tenant{}).Where("id = ?", t.ID).Updates(map[string]any{"status": t.Status, "updated_at": t.UpdatedAt}).Error; err != nil {
			return apperr.Internal(err)
		}
		for _, h := range s.statusHooks {
			if err := h(ctx, &t); err != nil {
				return err
			}
		}
		if err := s.db.Emit(ctx, t.ID, "tenant."+string(t.Status), map[string]any{"slug": t.Slug}); err != nil {
			return err
		}
		return s.audit.Record(ctx, t.ID, "tenant.status", t.Slug, before, t)
	})
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	delete(s.bySlug, slug)
	delete(s.byID, t.ID)
	s.cacheMu.Unlock()
	return &t, nil
}
