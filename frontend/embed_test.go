package frontend

import (
	"io/fs"
	"os"
	"strings"
	"testing"
)

// TestDistHasIndex checks the embedded build. A fresh clone has none until
// `make console` runs: the test then skips, except in CI, where the console
// must have been built before the Go tests (make test depends on it).
func TestDistHasIndex(t *testing.T) {
	if !Built() {
		if os.Getenv("CI") == "true" {
			t.Fatal("frontend/dist/index.html is missing: CI must build the console first (make console)")
		}
		t.Skip("frontend/dist is not built: run `make console` to embed the console")
	}
	b, err := fs.ReadFile(Dist(), "index.html")
	if err != nil {
		t.Fatalf("read index.html from Dist(): %v", err)
	}
	s := string(b)
	if !strings.Contains(s, "<html") {
		t.Fatalf("index.html does not look like HTML: %q", b[:min(len(b), 80)])
	}
	// base: './' in vite.config.ts: assets are addressed relative to the page,
	// so one build serves under /console/ and at the root of the Wails window.
	if strings.Contains(s, `src="/assets/`) || strings.Contains(s, `href="/assets/`) {
		t.Errorf("index.html addresses its assets from the root; want relative ./assets/ (vite base './')")
	}
}

func TestDistKeepsPlaceholder(t *testing.T) {
	// The one committed file of dist/, which keeps `go:embed all:dist` compiling.
	if _, err := fs.Stat(Dist(), ".gitkeep"); err != nil && !Built() {
		t.Fatalf("dist/.gitkeep is missing and the console is not built: go:embed all:dist has nothing to embed")
	}
}
