package cache

import (
	"testing"
	"time"
)

func TestTTL(t *testing.T) {
	c := NewTTL[string, int](50*time.Millisecond, 3)
	gen := c.Generation()
	c.Put("a", 1, gen)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("get a = %v %v", v, ok)
	}
	// A read begun before a change is not kept after it.
	stale := c.Generation()
	c.Forget("b")
	c.Put("b", 2, stale)
	if _, ok := c.Get("b"); ok {
		t.Fatal("a value read before Forget was kept")
	}
	c.ForgetAll()
	if _, ok := c.Get("a"); ok {
		t.Fatal("ForgetAll kept a")
	}
	// Bounded, and values expire.
	gen = c.Generation()
	for i, k := range []string{"x", "y", "z", "w"} {
		c.Put(k, i, gen)
	}
	if _, ok := c.Get("x"); ok {
		t.Fatal("the cache grew past its bound")
	}
	time.Sleep(60 * time.Millisecond)
	if _, ok := c.Get("w"); ok {
		t.Fatal("an expired value was returned")
	}
}
