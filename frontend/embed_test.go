package frontend

import (
	"io/fs"
	"strings"
	"testing"
)

func TestDistHasIndex(t *testing.T) {
	b, err := fs.ReadFile(Dist(), "index.html")
	if err != nil {
		t.Fatalf("read index.html from Dist(): %v", err)
	}
	if !strings.Contains(string(b), "<html") {
		t.Fatalf("index.html does not look like HTML: %q", b[:min(len(b), 80)])
	}
}
