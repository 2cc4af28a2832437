package server_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"saasmall/server/servertest"
	"saasmall/server/store/storetest"
)

// TestConcurrentWriters: 50 clients write as fast as they can for 60 s over
// real HTTP (profile edits, hand-off codes and their redemption, role
// edits with audit entries, member role changes). No SQLITE_BUSY — nor any
// other 5xx — may reach a client. SAASMALL_SOAK_SECONDS overrides the
// duration; -short runs 5 s.
func TestConcurrentWriters(t *testing.T) {
	dur := 60 * time.Second
	if testing.Short() || storetest.PostgresDSN() != "" {
		dur = 5 * time.Second
	}
	if v := os.Getenv("SAASMALL_SOAK_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		dur = time.Duration(n) * time.Second
	}
	env := servertest.New(t, servertest.WithRealClock())
	env.Listen()
	ten := env.Tenant("alpha", "owner@alpha.test")
	const writers = 50
	clients := make([]*servertest.Client, writers)
	for i := range clients {
		clients[i] = env.Member(ten, fmt.Sprintf("w%d@alpha.test", i), "admin")
	}

	var ops, bad atomic.Int64
	var mu sync.Mutex
	var failures []string
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uid := c.Do("GET", "/api/v1/me", nil).JSON["user"].(map[string]any)["id"].(float64)
			for k := 0; time.Now().Before(deadline); k++ {
				var r *servertest.Resp
				switch k % 5 {
				case 0:
					r = c.Do("PATCH", "/api/v1/me", map[string]any{"name": fmt.Sprintf("Writer %d/%d", i, k)})
				case 1:
					h := c.Do("POST", "/api/v1/auth/handoff", nil)
					r = h
					if h.Status == 201 {
						other := &servertest.Client{Env: env, Source: "applet"}
						r = other.Do("POST", "/api/v1/auth/handoff/redeem", map[string]any{"code": h.JSON["code"]})
						if tok, _ := r.JSON["token"].(string); tok != "" {
							other.Token = tok
							other.Do("POST", "/api/v1/auth/logout", nil)
						}
					}
				case 2:
					r = c.Do("POST", "/api/v1/t/alpha/roles", map[string]any{"name": fmt.Sprintf("r_%d_%d", i, k), "description": "soak",
						"permissions": []map[string]string{{"object": "mall", "action": "read"}}})
				case 3:
					r = c.Do("DELETE", fmt.Sprintf("/api/v1/t/alpha/roles/r_%d_%d", i, k-1), nil)
				case 4:
					r = c.Do("PUT", fmt.Sprintf("/api/v1/t/alpha/members/%d/roles", int64(uid)), map[string]any{"roles": []string{"admin", "viewer"}})
				}
				ops.Add(1)
				if r.Status >= 500 || strings.Contains(string(r.Body), "SQLITE_BUSY") || strings.Contains(string(r.Body), "database is locked") {
					bad.Add(1)
					mu.Lock()
					if len(failures) < 10 {
						failures = append(failures, r.String())
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d writers, %s: %d requests (%.0f/s), %d failed", writers, dur, ops.Load(), float64(ops.Load())/dur.Seconds(), bad.Load())
	if bad.Load() > 0 {
		t.Fatalf("%d requests failed, e.g.:\n%s", bad.Load(), strings.Join(failures, "\n"))
	}
	if ops.Load() < writers*5 {
		t.Fatalf("only %d requests in %s", ops.Load(), dur)
	}
}
