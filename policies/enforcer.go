package policies

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	gormadapter "github.com/casbin/gorm-adapter/v3"
	"gorm.io/gorm"

	"saasmall/server/apperr"
	"saasmall/tenants"
)

// How authorization stays in memory and current
//
// Each tenant has its own enforcer, loaded lazily from casbin_rule through the
// gorm adapter with a filter on the tenant's domain, and remembered with the
// tenant's policy_versions.version read just before loading. Enforcers are
// never modified once published: an edit writes rows in its own transaction,
// bumps the version, and after commit drops the tenant's enforcer, so the
// next Enforce loads a fresh one. Another process's edits are noticed by the
// watcher (StartWatcher), which polls the versions of the cached tenants every
// WatchInterval and drops the enforcers that are behind.
//
// Two details keep this exact:
//   - the version is read before the rules, so an enforcer is never labelled
//     newer than what it holds (at worst older, and then the watcher drops it);
//   - an edit also raises the tenant's floor to its new version for floorTTL:
//     a load that started before the edit committed finishes below the floor
//     and serves its one request without being cached.

// WatchInterval is how often the watcher polls policy_versions.
const WatchInterval = 250 * time.Millisecond

// floorTTL bounds how long an edit's version floor is kept. An edit made in a
// caller's transaction is invalidated before that transaction commits; if the
// caller rolls back, the floor is never reached and expires after floorTTL.
const floorTTL = 5 * time.Second

// idleTTL is how long an enforcer that serves no request stays in memory.
const idleTTL = 10 * time.Minute

// loaded is one tenant's enforcer, immutable once published.
//
// Because it never changes, its answers can be remembered: memo keeps, per
// user, which of the Objects × Actions questions have been asked and their
// answers, so a repeated question costs two atomic loads instead of a scan
// of the tenant's rules. The memo lives and dies with the enforcer, so it
// cannot outlive a policy change (unlike casbin.CachedEnforcer's cache).
type loaded struct {
	enf      *casbin.SyncedEnforcer
	version  int64
	lastUsed atomic.Int64 // unix seconds
	memo     sync.Map     // user id (int64) → *decisions
	memoLen  atomic.Int64
}

// decisions are one user's remembered answers, one bit per permission
// (see permBit). allowed is written before known.
type decisions struct {
	known, allowed atomic.Uint32
}

// maxMemoUsers bounds the memo of one enforcer; further users are answered
// by the enforcer every time.
const maxMemoUsers = 100_000

// permBit numbers the Objects × Actions pairs 0…17, or returns -1 for any
// other pair (answered, but not remembered).
func permBit(obj, act string) int {
	o := slices.Index(Objects, obj)
	a := slices.Index(Actions, act)
	if o < 0 || a < 0 {
		return -1
	}
	return o*len(Actions) + a
}

// enforce answers from the memo, or asks the enforcer and remembers.
func (l *loaded) enforce(tenantID, userID int64, obj, act string) (bool, error) {
	bit := permBit(obj, act)
	var d *decisions
	if bit >= 0 {
		mask := uint32(1) << bit
		if v, ok := l.memo.Load(userID); ok {
			d = v.(*decisions)
			if d.known.Load()&mask != 0 {
				return d.allowed.Load()&mask != 0, nil
			}
		}
	}
	ok, err := l.enf.Enforce(userSubject(userID), tenants.DomainOf(tenantID), obj, act)
	if err != nil || bit < 0 {
		return ok, err
	}
	if d == nil {
		if l.memoLen.Load() >= maxMemoUsers {
			return ok, nil
		}
		v, loaded := l.memo.LoadOrStore(userID, &decisions{})
		if !loaded {
			l.memoLen.Add(1)
		}
		d = v.(*decisions)
	}
	mask := uint32(1) << bit
	if ok {
		d.allowed.Or(mask)
	}
	d.known.Or(mask)
	return ok, nil
}

// slot holds one tenant's current enforcer.
type slot struct {
	cur   atomic.Pointer[loaded] // nil: load on the next Enforce
	build sync.Mutex             // one load at a time per tenant

	mu         sync.Mutex // guards floor, floorUntil and publishing to cur
	floor      int64
	floorUntil time.Time
}

func (s *Service) slot(tenantID int64) *slot {
	if v, ok := s.slots.Load(tenantID); ok {
		return v.(*slot)
	}
	v, _ := s.slots.LoadOrStore(tenantID, &slot{})
	return v.(*slot)
}

// Enforce reports whether userID may do act on obj in tenantID, from the
// tenant's in-memory enforcer (loaded on first use). Every request of a
// protected route calls it: it takes no lock on the hot path. An anonymous
// user (0) or no tenant (0) is never allowed. Errors: internal, only when the
// tenant's rules must be loaded and the database fails.
func (s *Service) Enforce(ctx context.Context, tenantID, userID int64, obj, act string) (bool, error) {
	if tenantID <= 0 || userID <= 0 {
		return false, nil
	}
	sl := s.slot(tenantID)
	l := sl.cur.Load()
	if l == nil {
		var err error
		if l, err = s.current(ctx, tenantID, sl); err != nil {
			return false, err
		}
	}
	if now := time.Now().Unix(); l.lastUsed.Load() != now {
		l.lastUsed.Store(now)
	}
	ok, err := l.enforce(tenantID, userID, obj, act)
	if err != nil {
		return false, apperr.Internal(fmt.Errorf("policies: enforce: %w", err))
	}
	return ok, nil
}

// current returns the tenant's enforcer, loading it when there is none.
func (s *Service) current(ctx context.Context, tenantID int64, sl *slot) (*loaded, error) {
	sl.build.Lock()
	defer sl.build.Unlock()
	if l := sl.cur.Load(); l != nil {
		return l, nil
	}
	l, err := s.load(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	sl.mu.Lock()
	if l.version >= sl.floor || time.Now().After(sl.floorUntil) {
		sl.cur.Store(l)
	}
	sl.mu.Unlock()
	return l, nil
}

// load reads the tenant's committed rules into a new enforcer.
func (s *Service) load(ctx context.Context, tenantID int64) (*loaded, error) {
	// The reader pool, never ctx's transaction: an enforcer is shared, so it
	// must hold committed rules only.
	rdb := s.db.Reader().WithContext(ctx)
	var version int64
	if err := rdb.Raw("SELECT version FROM policy_versions WHERE tenant_id = ?", tenantID).Scan(&version).Error; err != nil {
		return nil, apperr.Internal(fmt.Errorf("policies: read version: %w", err))
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	adb := rdb.Session(&gorm.Session{})
	gormadapter.TurnOffAutoMigrate(adb)
	a, err := gormadapter.NewFilteredAdapterByDB(adb, "", casbinTable)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	e, err := casbin.NewSyncedEnforcer(m, a)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	dom := tenants.DomainOf(tenantID)
	if err := e.LoadFilteredPolicy([]gormadapter.Filter{
		{Ptype: []string{"p"}, V1: []string{dom}},
		{Ptype: []string{"g"}, V2: []string{dom}},
	}); err != nil {
		return nil, apperr.Internal(fmt.Errorf("policies: load %s: %w", dom, err))
	}
	l := &loaded{enf: e, version: version}
	l.lastUsed.Store(time.Now().Unix())
	return l, nil
}

// invalidate drops the tenant's enforcer after an edit that brought its
// policies to version, and keeps loads older than version from being cached.
func (s *Service) invalidate(tenantID, version int64) {
	sl := s.slot(tenantID)
	sl.mu.Lock()
	if version > sl.floor {
		sl.floor = version
	}
	sl.floorUntil = time.Now().Add(floorTTL)
	sl.cur.Store(nil)
	sl.mu.Unlock()
}

// drop removes l if it is still the tenant's enforcer.
func (sl *slot) drop(l *loaded) {
	sl.mu.Lock()
	sl.cur.CompareAndSwap(l, nil)
	sl.mu.Unlock()
}

// StartWatcher starts a goroutine that keeps this process's enforcers in step
// with edits made by other processes on the same database: every
// WatchInterval (250 ms) it reads policy_versions for the tenants whose
// enforcers are in memory and drops those that are behind, so the next
// Enforce reloads them. Enforcers idle for 10 minutes are dropped too.
// Edits made through this Service take effect on the next Enforce without
// the watcher; a server with more than one process must run it.
//
// The server calls it once at start. The watcher ends when ctx is done or
// stop is called; stop waits for it to end.
func (s *Service) StartWatcher(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(WatchInterval)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := s.poll(ctx)
			switch {
			case err != nil && ctx.Err() == nil && !failing:
				failing = true
				slog.Warn("policies: watcher cannot read policy versions", "err", err)
			case err == nil && failing:
				failing = false
				slog.Info("policies: watcher reads policy versions again")
			}
		}
	}()
	return func() { cancel(); <-done }
}

// poll drops every cached enforcer whose tenant's version has moved on, and
// those idle for longer than idleTTL.
func (s *Service) poll(ctx context.Context) error {
	type cached struct {
		sl *slot
		l  *loaded
	}
	byTenant := map[int64]cached{}
	var ids []int64
	idleBefore := time.Now().Add(-idleTTL).Unix()
	s.slots.Range(func(k, v any) bool {
		sl := v.(*slot)
		if l := sl.cur.Load(); l != nil {
			if l.lastUsed.Load() < idleBefore {
				sl.drop(l)
				return true
			}
			byTenant[k.(int64)] = cached{sl, l}
			ids = append(ids, k.(int64))
		}
		return true
	})
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		var rows []versionRow
		if err := s.db.Reader().WithContext(ctx).Where("tenant_id IN ?", ids[:n]).Find(&rows).Error; err != nil {
			return err
		}
		current := make(map[int64]int64, len(rows))
		for _, r := range rows {
			current[r.TenantID] = r.Version
		}
		for _, id := range ids[:n] {
			if c := byTenant[id]; c.l.version != current[id] {
				c.sl.drop(c.l)
			}
		}
		ids = ids[n:]
	}
	return nil
}
