package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/argon2"

	"saasmall/server/apperr"
)

// Argon2id parameters: OWASP's minimum recommendation (19 MiB, 2 passes,
// 1 lane) costs ~30 ms here. Hashes carry their parameters (PHC string), so
// raising them later re-hashes on the next login.
type hashParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	keyLen  uint32
}

var defaultParams = hashParams{memory: 19 * 1024, time: 2, threads: 1, keyLen: 32}

const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

// hashing bounds how many argon2 computations run at once: each takes 19 MiB
// and a core, and a burst of logins must not take the whole server.
type hasher struct {
	params hashParams
	sem    chan struct{}
}

func newHasher(p hashParams) *hasher {
	n := runtime.GOMAXPROCS(0)
	if n < 2 {
		n = 2
	}
	return &hasher{params: p, sem: make(chan struct{}, n)}
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.sem }

// Hash returns the PHC-encoded argon2id hash of password.
func (h *hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, p.keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC-encoded hash, and whether
// the hash's parameters are weaker than the current ones (rehash advised).
func (h *hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false, errors.New("auth: unknown hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, errors.New("auth: unsupported argon2 version")
	}
	var p hashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return false, false, fmt.Errorf("auth: bad hash parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, false, err
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(want)))
	ok = subtle.ConstantTimeCompare(got, want) == 1
	rehash = p.memory < h.params.memory || p.time < h.params.time
	return ok, rehash, nil
}

// checkPassword validates a new password: 8 to 128 characters, not guessable
// (zxcvbn score ≥ 2, which refuses common passwords, dictionary words with
// simple substitutions, keyboard walks and the user's own email or name).
func checkPassword(f apperr.Fields, field, password string, userInputs ...string) {
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		f.Add(field, "required")
	case n < MinPasswordLen:
		f.Add(field, "too_short", "Min", MinPasswordLen)
	case n > MaxPasswordLen:
		f.Add(field, "too_long", "Max", MaxPasswordLen)
	case zxcvbn.PasswordStrength(password, userInputs).Score < 2:
		f.Add(field, "password_weak")
	}
}
