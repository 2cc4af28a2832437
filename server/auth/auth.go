// Package auth owns platform-wide accounts and sessions: register, sign in
// once on any channel, sessions with idle and absolute expiry, hand-off of a
// signed-in session to another channel by a one-time code, and login rate
// limits.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"saasmall/server/actor"
	"saasmall/server/apperr"
	"saasmall/server/cache"
	"saasmall/server/store"
)

// Config tunes sessions and limits. Zero values take the defaults.
type Config struct {
	IdleTTL     time.Duration // a session unused this long ends (default 14 days)
	AbsoluteTTL time.Duration // a session ends this long after sign-in (default 60 days)
	HandoffTTL  time.Duration // a hand-off code lives this long (default 2 min)
	// Login limits: an account may fail AccountBurst times, then once per
	// AccountEvery; an IP may try IPBurst times, then once per IPEvery.
	AccountBurst int
	AccountEvery time.Duration
	IPBurst      int
	IPEvery      time.Duration
	Now          func() time.Time
}

func (c *Config) defaults() {
	if c.IdleTTL <= 0 {
		c.IdleTTL = 14 * 24 * time.Hour
	}
	if c.AbsoluteTTL <= 0 {
		c.AbsoluteTTL = 60 * 24 * time.Hour
	}
	if c.HandoffTTL <= 0 {
		c.HandoffTTL = 2 * time.Minute
	}
	if c.AccountBurst <= 0 {
		c.AccountBurst = 5
	}
	if c.AccountEvery <= 0 {
		c.AccountEvery = time.Minute
	}
	if c.IPBurst <= 0 {
		c.IPBurst = 30
	}
	if c.IPEvery <= 0 {
		c.IPEvery = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = func() time.Time { return time.Now().UTC() }
	}
}

// touchEvery is how stale last_seen may get before a request refreshes it, so
// that reads do not each cost a write.
const touchEvery = time.Minute

// Service is the auth service.
type Service struct {
	db        *store.DB
	cfg       Config
	hash      *hasher
	byAccount *limiter
	byIP      *limiter
	dummy     string                         // a hash to verify against for unknown emails (same timing)
	sessions  *cache.TTL[string, sessionRow] // by token digest
}

// New returns the auth service.
func New(db *store.DB, cfg Config) *Service {
	cfg.defaults()
	s := &Service{db: db, cfg: cfg, hash: newHasher(defaultParams),
		byAccount: newLimiter(cfg.AccountEvery, cfg.AccountBurst, cfg.Now),
		byIP:      newLimiter(cfg.IPEvery, cfg.IPBurst, cfg.Now),
		sessions:  cache.NewTTL[string, sessionRow](sessionsTTL, 100_000),
	}
	s.dummy, _ = s.hash.Hash(context.Background(), "not-a-real-password")
	return s
}

// Meta describes the device a session is created for.
type Meta struct {
	Source    actor.ClientSource
	UserAgent string
	IP        string
}

// SignIn is a new session: its token is shown once and never stored.
type SignIn struct {
	Token     string    `json:"token"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
	Session   *Session  `json:"session"`
	User      *User     `json:"user"`
}

// RegisterInput is a new account.
type RegisterInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Locale   string `json:"locale"`
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.IndexByte(s, '@')+1:], ".")
}

func (in *RegisterInput) validate() error {
	f := apperr.Fields{}
	in.Email = normEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Email == "":
		f.Add("email", "required")
	case !validEmail(in.Email):
		f.Add("email", "invalid_email")
	}
	switch {
	case in.Name == "":
		f.Add("name", "required")
	case utf8.RuneCountInString(in.Name) > 120:
		f.Add("name", "too_long", "Max", 120)
	}
	checkPassword(f, "password", in.Password, in.Email, in.Name)
	if in.Locale != "" && in.Locale != "en" && in.Locale != "zh-Hans" {
		f.Add("locale", "invalid_choice", "Choices", "en, zh-Hans")
	}
	return f.Err()
}

// CreateUser creates an account without signing it in (provisioning, CLI,
// demo seed). Errors: invalid_input, email_taken.
func (s *Service) CreateUser(ctx context.Context, in RegisterInput, operator bool) (*User, error) {
	u, err := s.prepareUser(ctx, in, operator)
	if err != nil {
		return nil, err
	}
	return u, s.insertUser(ctx, u)
}

// prepareUser validates a new account and hashes its password. Hashing
// takes tens of milliseconds: callers do it before their write transaction,
// never inside it, so the single SQLite writer is not held meanwhile.
func (s *Service) prepareUser(ctx context.Context, in RegisterInput, operator bool) (*User, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	h, err := s.hash.Hash(ctx, in.Password)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	now := s.cfg.Now()
	return &User{Email: in.Email, Name: in.Name, Locale: in.Locale, PasswordHash: h, PlatformOperator: operator, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}, nil
}

func (s *Service) insertUser(ctx context.Context, u *User) error {
	if err := s.db.W(ctx).Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return &apperr.Error{Kind: apperr.KindConflict, Code: "email_taken", Fields: map[string]apperr.FieldError{"email": {Code: "email_taken"}}}
		}
		return apperr.Internal(err)
	}
	return nil
}

// Register creates an account and signs it in on the caller's channel.
// Anyone may call it. Errors: invalid_input, email_taken.
func (s *Service) Register(ctx context.Context, in RegisterInput, m Meta) (*SignIn, error) {
	u, err := s.prepareUser(ctx, in, false)
	if err != nil {
		return nil, err
	}
	var out *SignIn
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if err := s.insertUser(ctx, u); err != nil {
			return err
		}
		out, err = s.newSession(ctx, u, m, "register")
		return err
	})
	return out, err
}

// EnsureAccount returns the id of the account with email, creating it with
// password and name when there is none (tenant provisioning).
func (s *Service) EnsureAccount(ctx context.Context, email, password, name string) (int64, error) {
	var u User
	err := s.db.R(ctx).Where("email = ?", normEmail(email)).Take(&u).Error
	if err == nil {
		return u.ID, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, apperr.Internal(err)
	}
	nu, err := s.CreateUser(ctx, RegisterInput{Email: email, Password: password, Name: name}, false)
	if err != nil {
		return 0, err
	}
	return nu.ID, nil
}

// UserByEmail finds an account (member invitations). Errors: not_found.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.db.R(ctx).Where("email = ?", normEmail(email)).Take(&u).Error; err != nil {
		return nil, store.Error(err, "user")
	}
	return &u, nil
}

// Users returns the accounts with the given ids.
func (s *Service) Users(ctx context.Context, ids []int64) (map[int64]*User, error) {
	var us []*User
	if len(ids) > 0 {
		if err := s.db.R(ctx).Where("id IN ?", ids).Find(&us).Error; err != nil {
			return nil, apperr.Internal(err)
		}
	}
	m := make(map[int64]*User, len(us))
	for _, u := range us {
		m[u.ID] = u
	}
	return m, nil
}

var (
	errInvalidCredentials = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "invalid_credentials"}
	errSessionExpired     = &apperr.Error{Kind: apperr.KindUnauthenticated, Code: "session_expired"}
	errHandoffInvalid     = &apperr.Error{Kind: apperr.KindNotFound, Code: "handoff_invalid"}
	errHandoffExpired     = &apperr.Error{Kind: apperr.KindGone, Code: "handoff_expired"}
	errHandoffUsed        = &apperr.Error{Kind: apperr.KindGone, Code: "handoff_used"}
)

// Sentinel errors callers may test with errors.Is.
var (
	ErrInvalidCredentials = errInvalidCredentials
	ErrSessionExpired     = errSessionExpired
	ErrHandoffInvalid     = errHandoffInvalid
	ErrHandoffExpired     = errHandoffExpired
	ErrHandoffUsed        = errHandoffUsed
)

func rateLimited(d time.Duration) error {
	if d < time.Second {
		d = time.Second
	}
	return &apperr.Error{Kind: apperr.KindRateLimited, Code: "rate_limited", RetryAfter: d,
		Args: map[string]any{"Seconds": int((d + time.Second - 1) / time.Second)}}
}

// LoginInput is an email and password.
type LoginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Login signs an account in on the caller's channel with a new session.
// Anyone may call it. Errors: invalid_input, invalid_credentials,
// rate_limited (per account and per IP, with a retry delay).
func (s *Service) Login(ctx context.Context, in LoginInput, m Meta) (*SignIn, error) {
	f := apperr.Fields{}
	email := normEmail(in.Email)
	if email == "" {
		f.Add("email", "required")
	}
	if in.Password == "" {
		f.Add("password", "required")
	} else if utf8.RuneCountInString(in.Password) > MaxPasswordLen {
		f.Add("password", "too_long", "Max", MaxPasswordLen)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	ipKey, acctKey := "ip:"+m.IP, "acct:"+email
	if d := max(s.byIP.wait(ipKey), s.byAccount.wait(acctKey)); d > 0 {
		return nil, rateLimited(d)
	}
	s.byIP.take(ipKey)

	var u User
	err := s.db.R(ctx).Where("email = ?", email).Take(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.Internal(err)
	}
	hash := u.PasswordHash
	if u.ID == 0 {
		hash = s.dummy
	}
	ok, rehash, verr := s.hash.Verify(ctx, in.Password, hash)
	if verr != nil {
		return nil, apperr.Internal(verr)
	}
	if !ok || u.ID == 0 {
		s.byAccount.take(acctKey)
		return nil, errInvalidCredentials
	}
	s.byAccount.reset(acctKey)
	newHash := ""
	if rehash {
		newHash, _ = s.hash.Hash(ctx, in.Password) // before the transaction, as above
	}
	var out *SignIn
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		if newHash != "" {
			s.db.W(ctx).Model(&User{}).Where("id = ?", u.ID).Update("password_hash", newHash)
		}
		var err error
		out, err = s.newSession(ctx, &u, m, "password")
		return err
	})
	return out, err
}

// token returns n random bytes, base64url-encoded.
func token(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // the OS RNG never fails on Linux ≥ 3.17
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (s *Service) newSession(ctx context.Context, u *User, m Meta, via string) (*SignIn, error) {
	now := s.cfg.Now()
	tok := "sm_" + token(32) // 256 bits
	src := m.Source
	if !src.Valid() {
		src = actor.SourcePC
	}
	ua := m.UserAgent
	if len(ua) > 300 {
		ua = ua[:300]
	}
	sess := &Session{UserID: u.ID, TokenHash: digest(tok), CSRFToken: token(24), ClientSource: string(src),
		UserAgent: ua, IP: m.IP, Via: via, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.AbsoluteTTL)}
	if err := s.db.W(ctx).Create(sess).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return &SignIn{Token: tok, CSRFToken: sess.CSRFToken, ExpiresAt: s.expiry(sess), Session: sess, User: u}, nil
}

// expiry is when a session ends if unused from now on.
func (s *Service) expiry(sess *Session) time.Time {
	idle := sess.LastSeenAt.Add(s.cfg.IdleTTL)
	if idle.Before(sess.ExpiresAt) {
		return idle
	}
	return sess.ExpiresAt
}

// Current is an authenticated request's session and actor.
type Current struct {
	Actor   *actor.Actor
	Session *Session
}

// Authenticate resolves a session token to its actor. It refreshes the
// session's last-seen time at most once a minute. Errors: unauthenticated
// (unknown or revoked token), session_expired.
func (s *Service) Authenticate(ctx context.Context, tok string) (*Current, error) {
	if !strings.HasPrefix(tok, "sm_") || len(tok) > 100 {
		return nil, apperr.ErrUnauthorized
	}
	key := digest(tok)
	// The generation is taken before the session is read (from the cache
	// or the database): a revocation after it makes both puts below no-ops.
	gen := s.sessions.Generation()
	row, ok := s.sessions.Get(key)
	if !ok {
		err := s.db.R(ctx).Table("sessions").
			Select("sessions.*, users.email, users.name, users.locale, users.platform_operator").
			Joins("JOIN users ON users.id = sessions.user_id").
			Where("sessions.token_hash = ?", key).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, apperr.ErrUnauthorized
		}
		if err != nil {
			return nil, apperr.Internal(err)
		}
		s.sessions.Put(key, row, gen)
	}
	sess := row.Session
	now := s.cfg.Now()
	if sess.RevokedAt != nil {
		return nil, apperr.ErrUnauthorized
	}
	if !now.Before(s.expiry(&sess)) {
		return nil, errSessionExpired
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		sess.LastSeenAt = now
		if err := s.db.W(ctx).Model(&Session{}).Where("id = ?", sess.ID).Update("last_seen_at", now).Error; err != nil {
			return nil, apperr.Internal(err)
		}
		row.Session = sess
		s.sessions.Put(key, row, gen)
	}
	a := &actor.Actor{UserID: sess.UserID, SessionID: sess.ID, Email: row.Email, Name: row.Name, Locale: row.Locale,
		PlatformOperator: row.PlatformOperator, ClientSource: actor.ClientSource(sess.ClientSource)}
	return &Current{Actor: a, Session: &sess}, nil
}

// sessionRow is a session with what requests need of its account.
type sessionRow struct {
	Session
	Email            string
	Name             string
	Locale           string
	PlatformOperator bool
}

// sessionsTTL is how long a session read is reused. Every request
// authenticates, so the read is kept briefly: a revocation or profile
// change made through this process is seen at once (ForgetAll), one made
// by another process (PostgreSQL scale-out) within sessionsTTL.
const sessionsTTL = 2 * time.Second

// CheckCSRF reports whether got is the session's CSRF token.
func CheckCSRF(sess *Session, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) == 1
}

// Logout revokes the caller's session. Errors: unauthenticated.
func (s *Service) Logout(ctx context.Context) error {
	a := actor.From(ctx)
	if a == nil {
		return apperr.ErrUnauthorized
	}
	return s.revoke(ctx, a.UserID, a.SessionID)
}

func (s *Service) revoke(ctx context.Context, userID, sessionID int64) error {
	defer s.sessions.ForgetAll()
	now := s.cfg.Now()
	res := s.db.W(ctx).Model(&Session{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", sessionID, userID).Update("revoked_at", now)
	if res.Error != nil {
		return apperr.Internal(res.Error)
	}
	if res.RowsAffected == 0 {
		return apperr.NotFound("session")
	}
	return nil
}

// SessionView is a session as its owner sees it.
type SessionView struct {
	Session
	Current bool `json:"current"`
}

// Sessions lists the caller's live sessions, newest first. Errors: unauthenticated.
func (s *Service) Sessions(ctx context.Context) ([]SessionView, error) {
	a := actor.From(ctx)
	if a == nil {
		return nil, apperr.ErrUnauthorized
	}
	now := s.cfg.Now()
	var ss []Session
	if err := s.db.R(ctx).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ? AND last_seen_at > ?",
		a.UserID, now, now.Add(-s.cfg.IdleTTL)).Order("last_seen_at DESC, id DESC").Limit(200).Find(&ss).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := make([]SessionView, len(ss))
	for i := range ss {
		out[i] = SessionView{Session: ss[i], Current: ss[i].ID == a.SessionID}
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions (possibly the current one).
// Errors: unauthenticated, not_found (no such live session of the caller).
func (s *Service) RevokeSession(ctx context.Context, id int64) error {
	a := actor.From(ctx)
	if a == nil {
		return apperr.ErrUnauthorized
	}
	return s.revoke(ctx, a.UserID, id)
}

// ChangePasswordInput is a password change.
type ChangePasswordInput struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// ChangePassword sets a new password, revokes every session of the account
// and signs the caller's channel in again. Errors: unauthenticated,
// invalid_input (current_password wrong, new_password weak).
func (s *Service) ChangePassword(ctx context.Context, in ChangePasswordInput, m Meta) (*SignIn, error) {
	a := actor.From(ctx)
	if a == nil {
		return nil, apperr.ErrUnauthorized
	}
	var u User
	if err := s.db.R(ctx).Take(&u, a.UserID).Error; err != nil {
		return nil, store.Error(err, "user")
	}
	f := apperr.Fields{}
	if in.CurrentPassword == "" {
		f.Add("current_password", "required")
	} else if ok, _, err := s.hash.Verify(ctx, in.CurrentPassword, u.PasswordHash); err != nil {
		return nil, apperr.Internal(err)
	} else if !ok {
		f.Add("current_password", "wrong_password")
	}
	checkPassword(f, "new_password", in.NewPassword, u.Email, u.Name)
	if err := f.Err(); err != nil {
		return nil, err
	}
	h, err := s.hash.Hash(ctx, in.NewPassword)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	var out *SignIn
	defer s.sessions.ForgetAll()
	err = s.db.Tx(ctx, func(ctx context.Context) error {
		now := s.cfg.Now()
		if err := s.db.W(ctx).Model(&User{}).Where("id = ?", u.ID).
			Updates(map[string]any{"password_hash": h, "password_changed_at": now, "updated_at": now}).Error; err != nil {
			return apperr.Internal(err)
		}
		if err := s.db.W(ctx).Model(&Session{}).Where("user_id = ? AND revoked_at IS NULL", u.ID).Update("revoked_at", now).Error; err != nil {
			return apperr.Internal(err)
		}
		var err error
		out, err = s.newSession(ctx, &u, m, "password")
		return err
	})
	return out, err
}

// ProfileInput changes the caller's name or language.
type ProfileInput struct {
	Name   *string `json:"name"`
	Locale *string `json:"locale"`
}

// UpdateProfile changes the caller's name and preferred language.
// Errors: unauthenticated, invalid_input.
func (s *Service) UpdateProfile(ctx context.Context, in ProfileInput) (*User, error) {
	a := actor.From(ctx)
	if a == nil {
		return nil, apperr.ErrUnauthorized
	}
	f := apperr.Fields{}
	upd := map[string]any{"updated_at": s.cfg.Now()}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		switch {
		case n == "":
			f.Add("name", "required")
		case utf8.RuneCountInString(n) > 120:
			f.Add("name", "too_long", "Max", 120)
		}
		upd["name"] = n
	}
	if in.Locale != nil {
		if l := *in.Locale; l != "" && l != "en" && l != "zh-Hans" {
			f.Add("locale", "invalid_choice", "Choices", "en, zh-Hans")
		}
		upd["locale"] = *in.Locale
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	err := s.db.W(ctx).Model(&User{}).Where("id = ?", a.UserID).Updates(upd).Error
	s.sessions.ForgetAll()
	if err != nil {
		return nil, apperr.Internal(err)
	}
	var u User
	if err := s.db.W(ctx).Take(&u, a.UserID).Error; err != nil {
		return nil, store.Error(err, "user")
	}
	return &u, nil
}

// Handoff is a one-time code for signing another channel in.
type Handoff struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

var codeEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// CreateHandoff issues a single-use code, valid for two minutes, that signs
// another channel in as the caller. Errors: unauthenticated.
func (s *Service) CreateHandoff(ctx context.Context) (*Handoff, error) {
	a := actor.From(ctx)
	if a == nil {
		return nil, apperr.ErrUnauthorized
	}
	b := make([]byte, 20) // 160 bits
	if _, err := rand.Read(b); err != nil {
		return nil, apperr.Internal(err)
	}
	code := codeEnc.EncodeToString(b)
	now := s.cfg.Now()
	h := HandoffCode{CodeHash: digest(code), UserID: a.UserID, SessionID: a.SessionID, ExpiresAt: now.Add(s.cfg.HandoffTTL), CreatedAt: now}
	if err := s.db.W(ctx).Create(&h).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return &Handoff{Code: code, ExpiresAt: h.ExpiresAt}, nil
}

// RedeemHandoff signs the caller's channel in with a hand-off code. Anyone
// may call it; attempts count against the IP's login budget. Errors:
// invalid_input, handoff_invalid, handoff_expired, handoff_used, rate_limited.
func (s *Service) RedeemHandoff(ctx context.Context, code string, m Meta) (*SignIn, error) {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	if code == "" {
		return nil, apperr.Invalid("code", "required")
	}
	ipKey := "ip:" + m.IP
	if d := s.byIP.wait(ipKey); d > 0 {
		return nil, rateLimited(d)
	}
	var out *SignIn
	err := s.db.Tx(ctx, func(ctx context.Context) error {
		var h HandoffCode
		if err := s.db.W(ctx).Where("code_hash = ?", digest(code)).Take(&h).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				s.byIP.take(ipKey)
				return errHandoffInvalid
			}
			return apperr.Internal(err)
		}
		now := s.cfg.Now()
		if h.UsedAt != nil {
			return errHandoffUsed
		}
		if !now.Before(h.ExpiresAt) {
			return errHandoffExpired
		}
		res := s.db.W(ctx).Model(&HandoffCode{}).Where("id = ? AND used_at IS NULL", h.ID).Update("used_at", now)
		if res.Error != nil {
			return apperr.Internal(res.Error)
		}
		if res.RowsAffected != 1 {
			return errHandoffUsed
		}
		var src Session
		if err := s.db.W(ctx).Take(&src, h.SessionID).Error; err != nil {
			return store.Error(err, "session")
		}
		if src.RevokedAt != nil || !now.Before(s.expiry(&src)) {
			return errHandoffInvalid
		}
		var u User
		if err := s.db.W(ctx).Take(&u, h.UserID).Error; err != nil {
			return store.Error(err, "user")
		}
		var err error
		out, err = s.newSession(ctx, &u, m, "handoff")
		return err
	})
	return out, err
}

// Cleanup deletes sessions and hand-off codes that ended more than a day ago
// (the session clean-up job). It returns how many rows went.
func (s *Service) Cleanup(ctx context.Context) (int64, error) {
	now := s.cfg.Now()
	cut := now.Add(-24 * time.Hour)
	r1 := s.db.W(ctx).Where("expires_at < ? OR last_seen_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)",
		cut, cut.Add(-s.cfg.IdleTTL), cut).Delete(&Session{})
	if r1.Error != nil {
		return 0, r1.Error
	}
	r2 := s.db.W(ctx).Where("expires_at < ?", cut).Delete(&HandoffCode{})
	return r1.RowsAffected + r2.RowsAffected, r2.Error
}
