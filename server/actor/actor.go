// Package actor carries who is making a request through a context.Context.
// It is a leaf package so every service can read the actor without importing
// the authentication package.
package actor

import "context"

// ClientSource is the channel a request came from.
type ClientSource string

const (
	SourcePC     ClientSource = "pc"
	SourceMobile ClientSource = "mobile"
	SourceApp    ClientSource = "app"
	SourceApplet ClientSource = "applet"
)

// Valid reports whether s is one of the four known channels.
func (s ClientSource) Valid() bool {
	switch s {
	case SourcePC, SourceMobile, SourceApp, SourceApplet:
		return true
	}
	return false
}

// Actor is the signed-in account behind a request.
type Actor struct {
	UserID           int64
	SessionID        int64
	Email            string
	Name             string
	Locale           string
	PlatformOperator bool
	ClientSource     ClientSource
}

type ctxKey struct{}
type sourceKey struct{}

// With returns a context carrying a.
func With(ctx context.Context, a *Actor) context.Context { return context.WithValue(ctx, ctxKey{}, a) }

// From returns the actor in ctx, or nil for anonymous requests.
func From(ctx context.Context) *Actor {
	a, _ := ctx.Value(ctxKey{}).(*Actor)
	return a
}

// UserID returns the actor's user id, or 0 when anonymous.
func UserID(ctx context.Context) int64 {
	if a := From(ctx); a != nil {
		return a.UserID
	}
	return 0
}

// WithSource records the request's client source.
func WithSource(ctx context.Context, s ClientSource) context.Context {
	return context.WithValue(ctx, sourceKey{}, s)
}

// Source returns the request's client source (pc when unknown).
func Source(ctx context.Context) ClientSource {
	if s, ok := ctx.Value(sourceKey{}).(ClientSource); ok && s.Valid() {
		return s
	}
	return SourcePC
}
