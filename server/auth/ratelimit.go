package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a set of token buckets keyed by string (an account or an IP),
// swept of idle keys so it cannot grow without bound. It is per process: with
// N servers an attacker gets N times the budget, which stays small.
type limiter struct {
	mu      sync.Mutex
	every   time.Duration
	burst   int
	buckets map[string]*bucket
	now     func() time.Time
	swept   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(every time.Duration, burst int, now func() time.Time) *limiter {
	return &limiter{every: every, burst: burst, buckets: map[string]*bucket{}, now: now}
}

func (l *limiter) get(key string) *bucket {
	now := l.now()
	if now.Sub(l.swept) > time.Minute || len(l.buckets) > 100_000 {
		for k, b := range l.buckets {
			// Idle long enough to be full again: forgetting it changes nothing.
			if now.Sub(b.seen) > l.every*time.Duration(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b
}

// wait returns how long until key has a token (0: now), without taking one.
func (l *limiter) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key)
	r := b.l.ReserveN(l.now(), 1)
	d := r.DelayFrom(l.now())
	r.CancelAt(l.now())
	return d
}

// take uses one token of key.
func (l *limiter) take(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.get(key).l.AllowN(l.now(), 1)
}

// reset forgets key (after a successful login).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, key)
}
