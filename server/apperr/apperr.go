// Package apperr is the one error vocabulary of saasmall. Services return
// *Error values; server/web maps their Kind to an HTTP status once and
// translates their message ids into the request's language.
package apperr

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Kind says what went wrong in terms a transport can map to a status.
type Kind int

const (
	KindInternal         Kind = iota // a bug or an unavailable dependency
	KindInvalid                      // bad input, with field details
	KindUnauthenticated              // no or expired credentials
	KindForbidden                    // signed in but not allowed
	KindNotFound                     // missing, or belonging to another tenant
	KindConflict                     // state does not allow it (duplicate, out of stock)
	KindUnprocessable                // well-formed but semantically refused (idempotency key reuse)
	KindRateLimited                  // too many attempts
	KindTooLarge                     // body over the limit
	KindGone                         // existed, but no longer usable (spent or expired codes)
	KindUnavailable                  // a dependency is down; try again
	KindTimeout                      // the client was too slow
	KindPaymentRequired              // a payment was declined
	KindMethodNotAllowed             // the path exists, not with this method
)

// FieldError is one problem with one input field.
type FieldError struct {
	Code string         // machine code, e.g. "required"; also the message id "field.<code>"
	Args map[string]any // template data for the message
}

// Error is a typed application error. Code is the stable machine code
// clients switch on (e.g. "invalid_credentials"); MessageID names the
// go-i18n message (defaults to "error."+Code).
type Error struct {
	Kind       Kind
	Code       string
	MessageID  string
	Args       map[string]any
	Fields     map[string]FieldError
	RetryAfter time.Duration
	Err        error // the cause, never shown to clients
}

func (e *Error) Error() string {
	s := e.Code
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k+":"+e.Fields[k].Code)
		}
		sort.Strings(keys)
		s += fmt.Sprintf(" %v", keys)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error by Code, so errors.Is(err, apperr.ErrNotFound) works
// for any not_found error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// MsgID returns the i18n message id.
func (e *Error) MsgID() string {
	if e.MessageID != "" {
		return e.MessageID
	}
	return "error." + e.Code
}

// New builds an error of a kind with a code.
func New(kind Kind, code string) *Error { return &Error{Kind: kind, Code: code} }

// Sentinels for errors.Is.
var (
	ErrNotFound     = New(KindNotFound, "not_found")
	ErrForbidden    = New(KindForbidden, "forbidden")
	ErrUnauthorized = New(KindUnauthenticated, "unauthenticated")
	ErrInvalid      = New(KindInvalid, "invalid")
	ErrConflict     = New(KindConflict, "conflict")
	ErrInternal     = New(KindInternal, "internal")
)

// NotFound says the named thing does not exist (or is not visible to the caller).
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Code: "not_found", Args: map[string]any{"What": what}}
}

// Conflict builds a conflict with a specific code.
func Conflict(code string) *Error { return &Error{Kind: KindConflict, Code: code} }

// Forbidden builds a forbidden error.
func Forbidden() *Error { return &Error{Kind: KindForbidden, Code: "forbidden"} }

// Internal wraps an unexpected error.
func Internal(err error) *Error { return &Error{Kind: KindInternal, Code: "internal", Err: err} }

// Fields collects field errors; Err returns nil when there are none, so a
// validator reads as a list of checks followed by `return v.Err()`.
type Fields map[string]FieldError

// Add records a problem with field (the first one per field wins).
func (f Fields) Add(field, code string, args ...any) {
	if _, ok := f[field]; ok {
		return
	}
	fe := FieldError{Code: code}
	if len(args) > 0 {
		fe.Args = map[string]any{}
		for i := 0; i+1 < len(args); i += 2 {
			fe.Args[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	f[field] = fe
}

// Err returns an invalid_input error carrying the fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Code: "invalid_input", Fields: map[string]FieldError(f)}
}

// Invalid is a one-field invalid_input error.
func Invalid(field, code string, args ...any) error {
	f := Fields{}
	f.Add(field, code, args...)
	return f.Err()
}

// As extracts the *Error from err's chain; unknown errors become internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// KindOf returns the kind of err (KindInternal for foreign errors).
func KindOf(err error) Kind { return As(err).Kind }
