package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestSettingsPath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME applies on Linux")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	got, err := SettingsPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "saasmall", "desktop.json"); got != want {
		t.Fatalf("SettingsPath() = %q, want %q", got, want)
	}
}

func TestSettingsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "saasmall", "desktop.json")

	got, err := LoadSettings(path)
	if err != nil || got != DefaultSettings() {
		t.Fatalf("missing file: got %+v, %v; want defaults, no error", got, err)
	}

	want := Settings{Mode: ModeRemote, RemoteURL: "https://mall.example.com", ListenAddr: "0.0.0.0:8080"}
	if err := WriteSettings(path, Settings{Mode: " Remote ", RemoteURL: "https://mall.example.com/", ListenAddr: "0.0.0.0:8080"}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode = %v, want 0600", st.Mode().Perm())
	}
	if got, err = LoadSettings(path); err != nil || got != want {
		t.Fatalf("round trip: got %+v, %v; want %+v", got, err, want)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".desktop-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	for name, body := range map[string]string{
		"not JSON":     "{mode:",
		"unknown mode": `{"mode":"cloud"}`,
		"bad URL":      `{"mode":"remote","remote_url":"ftp://x"}`,
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadSettings(path)
		if err == nil || got != DefaultSettings() {
			t.Errorf("%s: got %+v, %v; want defaults and an error", name, got, err)
		}
	}
}

func TestSettingsCheck(t *testing.T) {
	cases := []struct {
		s     Settings
		field string // "" = valid
	}{
		{Settings{}, ""},
		{Settings{Mode: "local", ListenAddr: "0.0.0.0:8080"}, ""},
		{Settings{Mode: "local", ListenAddr: ":8080"}, ""},
		{Settings{Mode: "local", ListenAddr: "[::1]:8080"}, ""},
		{Settings{Mode: "local", ListenAddr: "localhost:80"}, ""},
		{Settings{Mode: "local", ListenAddr: "8080"}, "listen_addr"},
		{Settings{Mode: "local", ListenAddr: "0.0.0.0:0"}, "listen_addr"},
		{Settings{Mode: "local", ListenAddr: "0.0.0.0:70000"}, "listen_addr"},
		{Settings{Mode: "local", ListenAddr: "0.0.0.0:http"}, "listen_addr"},
		{Settings{Mode: "remote", RemoteURL: "https://mall.example.com"}, ""},
		{Settings{Mode: "remote", RemoteURL: "http://127.0.0.1:8080/"}, ""},
		{Settings{Mode: "remote"}, "remote_url"},
		{Settings{Mode: "remote", RemoteURL: "mall.example.com"}, "remote_url"},
		{Settings{Mode: "remote", RemoteURL: "ftp://mall.example.com"}, "remote_url"},
		{Settings{Mode: "remote", RemoteURL: "https://mall.example.com/shop"}, "remote_url"},
		{Settings{Mode: "remote", RemoteURL: "https://mall.example.com/?a=1"}, "remote_url"},
		{Settings{Mode: "remote", RemoteURL: "https://u:p@mall.example.com"}, "remote_url"},
		{Settings{Mode: "remote", RemoteURL: "https://:443"}, "remote_url"},
		{Settings{Mode: "remote", RemoteURL: "https://mall.example.com:99999"}, "remote_url"},
		{Settings{Mode: "desktop"}, "mode"},
	}
	for _, c := range cases {
		err := c.s.normalized().check()
		var fe *FieldError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", c.s, err)
		case c.field != "" && !errors.As(err, &fe):
			t.Errorf("%+v: got %v, want a FieldError on %s", c.s, err, c.field)
		case c.field != "" && fe.Field != c.field:
			t.Errorf("%+v: error on %q (%v), want %q", c.s, fe.Field, err, c.field)
		}
	}
}

func TestCheckRemote(t *testing.T) {
	old := healthTimeout
	healthTimeout = 300 * time.Millisecond
	t.Cleanup(func() { healthTimeout = old })

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	good := httptest.NewServer(mux)
	defer good.Close()
	notSaasmall := httptest.NewServer(http.NotFoundHandler())
	defer notSaasmall.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	closed := freeAddr(t)

	cases := []struct {
		url  string
		want string // "" = ok, else a substring of the error
	}{
		{good.URL, ""},
		{notSaasmall.URL, "HTTP 404"},
		{slow.URL, "no answer"},
		{"http://" + closed, "cannot reach"},
	}
	for _, c := range cases {
		err := checkRemote(context.Background(), &http.Client{}, c.url)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.url, err)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "remote_url" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a remote_url error containing %q", c.url, err, c.want)
		}
	}
}

// freeAddr returns a loopback address nothing listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
