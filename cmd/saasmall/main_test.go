package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "saasmall")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCLI drives the static binary: migrate, tenant create (flags and
// SAASMALL_* variables), bad input, backup, and serve --demo with a graceful
// SIGTERM.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := build(t)
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "mall.db")

	if out, err := run(t, bin, nil, "migrate", "--db", db); err != nil || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	// Flags from the environment.
	env := []string{"SAASMALL_DB=" + db, "SAASMALL_SLUG=acme", "SAASMALL_NAME=Acme", "SAASMALL_ADMIN_EMAIL=boss@acme.test", "SAASMALL_ADMIN_PASSWORD=Acme-Boss-Pass-9"}
	if out, err := run(t, bin, env, "tenant", "create"); err != nil || !strings.Contains(out, "tenant acme") {
		t.Fatalf("tenant create: %v\n%s", err, out)
	}
	// Bad input: a clear message and exit 1.
	out, err := run(t, bin, nil, "tenant", "create", "--db", db, "--slug", "Bad Slug", "--name", "", "--admin-email", "x@y.io")
	if err == nil || !strings.Contains(out, "slug: invalid_slug") || !strings.Contains(out, "name: required") {
		t.Fatalf("bad tenant create: %v\n%s", err, out)
	}
	if out, err := run(t, bin, nil, "tenant", "create", "--db", db, "--slug", "acme", "--name", "Again", "--admin-email", "boss@acme.test"); err == nil || !strings.Contains(out, "slug_taken") {
		t.Fatalf("duplicate tenant: %v\n%s", err, out)
	}
	backup := filepath.Join(dir, "backup.db")
	if out, err := run(t, bin, nil, "backup", "--db", db, backup); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if out, err := run(t, bin, nil, "migrate", "--db", "sqlite:"+backup); err != nil {
		t.Fatalf("backup does not open: %v\n%s", err, out)
	}

	// serve --demo on the backup copy: the demo seeds, the sign-ins print,
	// the acme tenant from before is there, and SIGTERM stops it cleanly.
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--db", "sqlite:"+backup, "--demo", "--log-level", "warn")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var printed strings.Builder
	deadline := time.After(60 * time.Second)
	for !strings.Contains(printed.String(), "shipping@gearhub.test") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited:\n%s", printed.String())
			}
			printed.WriteString(l + "\n")
		case <-deadline:
			t.Fatalf("no demo sign-ins printed:\n%s", printed.String())
		}
	}
	for _, want := range []string{"operator@saasmall.test", "owner@cloudnine.test", "clerk@gearhub.test", "saasmall-demo-2026"} {
		if !strings.Contains(printed.String(), want) {
			t.Errorf("serve output lacks %q:\n%s", want, printed.String())
		}
	}
	base := "http://" + addr
	var ready bool
	for i := 0; i < 100 && !ready; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil {
			ready = res.StatusCode == 200
			res.Body.Close()
		}
		if !ready {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !ready {
		t.Fatal("/readyz never 200")
	}
	res, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"email":"boss@acme.test","password":"Acme-Boss-Pass-9"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"slug":"acme"`) || !strings.Contains(string(body), `"owner"`) {
		t.Fatalf("me: %s", body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve did not exit cleanly on SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15 s of SIGTERM")
	}
}
