// Package cache keeps values read from the database for a short time.
package cache

import (
	"sync"
	"time"
)

// TTL is a map of values kept for a fixed time. Forgetting a key (after a
// change to what it holds commits) also refuses the puts of every read
// that began before: a reader takes Generation before it reads and passes
// it to Put, so a value read before a change is never kept after it.
type TTL[K comparable, V any] struct {
	ttl time.Duration
	max int // entries; past it the map starts again

	mu  sync.Mutex
	gen uint64
	m   map[K]entry[V]
}

type entry[V any] struct {
	v     V
	until time.Time
}

// NewTTL returns a cache keeping each value for ttl, at most max of them.
func NewTTL[K comparable, V any](ttl time.Duration, max int) *TTL[K, V] {
	return &TTL[K, V]{ttl: ttl, max: max}
}

// Get returns the value kept for k, if it is still fresh.
func (c *TTL[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || time.Now().After(e.until) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Generation is taken before reading a value to Put.
func (c *TTL[K, V]) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Put keeps v for k, unless something was forgotten since gen.
func (c *TTL[K, V]) Put(k K, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= c.max {
		c.m = map[K]entry[V]{} // bounded: start again rather than grow
	}
	c.m[k] = entry[V]{v: v, until: time.Now().Add(c.ttl)}
}

// Forget drops k.
func (c *TTL[K, V]) Forget(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, k)
}

// ForgetAll drops every value.
func (c *TTL[K, V]) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}
