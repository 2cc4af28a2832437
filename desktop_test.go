package main

// The desktop test builds the real desktop app (cgo, GTK, WebKit), runs it in
// a window under Xvfb in local and in remote mode, screenshots the window,
// checks that the console loaded and the picture is not blank, and quits the
// app with SIGTERM.
//
// It needs the GTK 3 and WebKit2GTK 4.0 dev packages, Xvfb, ImageMagick's
// import and xdotool (Debian: apt-get install libgtk-3-dev
// libwebkit2gtk-4.0-dev xvfb xauth imagemagick xdotool fonts-noto-cjk);
// without them it skips, unless CI=true, where it fails. -short skips it too
// (not in CI).
//
// With the console built and xdotool installed it also signs in as the demo
// tenant owner by typing into the window, so that the sign-in POST and the
// session's API calls go through the in-process handler and the proxy.
//
// A third run opens the settings page, checks that the bound methods answer
// and switches the running app from local to remote mode through the page.
//
// Screenshots: build/screenshots/desktop-app-{local,remote}.png (signed in),
// desktop-app-{local,remote}-signin.png, desktop-app-settings.png and
// desktop-app-settings-switched.png.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	desktopTags    = "desktop,production,webkit2_40"
	screenshotDir  = "build/screenshots"
	appReadyWait   = 90 * time.Second // the first start migrates and seeds SQLite
	renderWait     = 60 * time.Second
	quitWait       = 10 * time.Second
	menuBarHeight  = 40 // pixels above the webview in the screenshot (GTK menu bar)
	minColours     = 24 // distinct colours below the menu bar that make a page "not blank"
	minLumaStddev  = 4.0
	settleAfterPic = 2 * time.Second // after the first non-blank picture, for fonts and scripts
)

func TestDesktopApp(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	need := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if ci {
			t.Fatalf("CI=true, so the desktop test must run: %s", msg)
		}
		t.Skipf("desktop test skipped: %s", msg)
	}
	const install = "on Debian: apt-get install libgtk-3-dev libwebkit2gtk-4.0-dev xvfb xauth imagemagick xdotool fonts-noto-cjk"
	if runtime.GOOS != "linux" {
		need("it runs on Linux only (Xvfb)")
	}
	if testing.Short() && !ci {
		t.Skip("desktop test skipped in -short mode")
	}
	if err := exec.Command("pkg-config", "--exists", "gtk+-3.0", "webkit2gtk-4.0").Run(); err != nil {
		need("the GTK 3 / WebKit2GTK 4.0 dev packages are missing (pkg-config gtk+-3.0 webkit2gtk-4.0: %v); %s", err, install)
	}
	for _, tool := range []string{"Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			need("%s is missing; %s", tool, install)
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		if goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go"); !fileExists(goBin) {
			need("the go command is needed to build the app (not in PATH)")
		}
	}
	// xdotool types the sign-in into the window; without it the test stops at
	// the console's sign-in page.
	_, xdotoolErr := exec.LookPath("xdotool")
	if xdotoolErr != nil {
		if ci {
			t.Fatal("CI=true but xdotool is missing (apt-get install xdotool): the desktop test signs in through the window")
		}
		t.Log("xdotool is missing: the test checks the sign-in page only (apt-get install xdotool to sign in too)")
	}
	consoleBuilt := fileExists("frontend/dist/index.html")
	if !consoleBuilt {
		if ci {
			t.Fatal("CI=true but frontend/dist/index.html is missing: run `make console` before `make test`")
		}
		t.Log("the console is not built (frontend/dist/index.html missing): the window will show the server's " +
			"'Console not built' page; run `make console` first for the real console")
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}

	tmp := t.TempDir()
	desktopBin := filepath.Join(tmp, "saasmall-desktop")
	cliBin := filepath.Join(tmp, "saasmall")
	start := time.Now()
	var wg sync.WaitGroup
	var desktopErr, cliErr error
	wg.Add(2)
	go func() { // the same flags as `make desktop`, so the build cache serves both
		defer wg.Done()
		desktopErr = goBuild(goBin, []string{"CGO_ENABLED=1"}, "-tags", desktopTags, "-trimpath", "-ldflags", "-s -w", "-o", desktopBin, ".")
	}()
	go func() {
		defer wg.Done()
		cliErr = goBuild(goBin, []string{"CGO_ENABLED=0"}, "-trimpath", "-o", cliBin, "./cmd/saasmall")
	}()
	wg.Wait()
	if desktopErr != nil {
		t.Fatalf("build the desktop app: %v", desktopErr)
	}
	if cliErr != nil {
		t.Fatalf("build the CLI: %v", cliErr)
	}
	t.Logf("built the desktop app and the CLI in %s", time.Since(start).Round(100*time.Millisecond))

	display := startXvfb(t)
	wantConsole := http.StatusOK // GET /console/
	if !consoleBuilt {
		wantConsole = http.StatusServiceUnavailable // the server's "Console not built" page
	}

	t.Run("local", func(t *testing.T) {
		t0 := time.Now()
		port := freePort(t)
		dirs := newUserDirs(t, fmt.Sprintf(`{"mode":"local","listen_addr":"127.0.0.1:%d"}`, port))
		app := startApp(t, desktopBin, display, dirs, nil)
		base := fmt.Sprintf("http://127.0.0.1:%d", port)

		// The in-process server answers on the optional network port.
		waitHTTP(t, app, base+"/healthz", http.StatusOK)
		if code, ctype := get(t, base+"/console/"); code != wantConsole || !strings.HasPrefix(ctype, "text/html") {
			t.Fatalf("GET /console/ on the network port: %d %s, want %d text/html", code, ctype, wantConsole)
		}
		// The window loaded the console through the in-process handler (no port).
		app.waitLog(t, webviewLine("/console/", wantConsole), renderWait)
		if consoleBuilt {
			app.waitLog(t, regexp.MustCompile(`msg=webview method=GET path=/console/assets/[^ ]+\.js status=200`), renderWait)
		}
		shot := filepath.Join(screenshotDir, "desktop-app-local.png")
		if consoleBuilt && xdotoolErr == nil {
			checkScreenshot(t, display, app, filepath.Join(screenshotDir, "desktop-app-local-signin.png"))
			email, password := demoOwner(t, app.log.String())
			signIn(t, display, app, email, password)
			app.waitLog(t, webviewAPI("GET", "/api/v1/me", 200), renderWait)
		}
		checkScreenshot(t, display, app, shot)
		if !fileExists(filepath.Join(dirs.data, "saasmall", "saasmall.db")) {
			t.Error("local mode: no database in the user's data folder")
		}
		app.quit(t)
		t.Logf("local mode: %s", time.Since(t0).Round(100*time.Millisecond))
	})

	t.Run("remote", func(t *testing.T) {
		t0 := time.Now()
		remotePort := freePort(t)
		remote := startProcess(t, "remote server", cliBin, []string{"serve",
			"--addr", fmt.Sprintf("127.0.0.1:%d", remotePort),
			"--db", "sqlite:" + filepath.Join(t.TempDir(), "remote.db"),
			"--demo", "--log-level", "debug"}, os.Environ())
		remoteURL := fmt.Sprintf("http://127.0.0.1:%d", remotePort)
		waitHTTP(t, remote, remoteURL+"/healthz", http.StatusOK)

		dirs := newUserDirs(t, fmt.Sprintf(`{"mode":"remote","remote_url":%q}`, remoteURL))
		app := startApp(t, desktopBin, display, dirs, nil)
		app.waitLog(t, webviewLine("/console/", wantConsole), renderWait)
		// The remote server saw the window's requests (through the proxy).
		remote.waitLog(t, regexp.MustCompile(`"path":"/console/","status":`+strconv.Itoa(wantConsole)), 10*time.Second)
		if consoleBuilt {
			remote.waitLog(t, regexp.MustCompile(`"path":"/console/assets/[^"]+\.js","status":200`), renderWait)
		}
		shot := filepath.Join(screenshotDir, "desktop-app-remote.png")
		if consoleBuilt && xdotoolErr == nil {
			checkScreenshot(t, display, app, filepath.Join(screenshotDir, "desktop-app-remote-signin.png"))
			email, password := demoOwner(t, remote.log.String())
			signIn(t, display, app, email, password)
			// The sign-in and the session's first call reached the remote server.
			remote.waitLog(t, regexp.MustCompile(`"method":"POST","path":"/api/v1/auth/login","status":200`), renderWait)
			remote.waitLog(t, regexp.MustCompile(`"method":"GET","path":"/api/v1/me","status":200`), renderWait)
		}
		checkScreenshot(t, display, app, shot)
		if fileExists(filepath.Join(dirs.data, "saasmall", "saasmall.db")) {
			t.Error("remote mode opened a local database")
		}
		app.quit(t)
		remote.stop(t)
		t.Logf("remote mode: %s", time.Since(t0).Round(100*time.Millisecond))
	})

	t.Run("settings page", func(t *testing.T) {
		// The settings page calls the bound methods (GetSettings, then
		// SaveSettings, typed into the window), and saving switches the running
		// app from local to remote mode.
		t0 := time.Now()
		dirs := newUserDirs(t, `{"mode":"local"}`)
		app := startApp(t, desktopBin, display, dirs, []string{"SAASMALL_DESKTOP_START=/desktop/settings"})
		app.waitLog(t, webviewLine("/desktop/settings.js", http.StatusOK), renderWait)
		app.waitLog(t, regexp.MustCompile(`msg="desktop: bound call" method=GetSettings`), renderWait)
		checkScreenshot(t, display, app, filepath.Join(screenshotDir, "desktop-app-settings.png"))
		if xdotoolErr != nil {
			t.Log("xdotool is missing: not switching modes through the settings page")
			app.quit(t)
			return
		}

		remotePort := freePort(t)
		remote := startProcess(t, "remote server", cliBin, []string{"serve",
			"--addr", fmt.Sprintf("127.0.0.1:%d", remotePort),
			"--db", "sqlite:" + filepath.Join(t.TempDir(), "remote.db"), "--log-level", "debug"}, os.Environ())
		remoteURL := fmt.Sprintf("http://127.0.0.1:%d", remotePort)
		waitHTTP(t, remote, remoteURL+"/healthz", http.StatusOK)

		// The page focuses the selected mode: Down selects "remote", Tab moves
		// to its URL field, Return submits.
		xdotool(t, display, "search", "--sync", "--onlyvisible", "--name", "^saasmall$", "windowfocus", "--sync")
		xdotool(t, display, "key", "Down")
		time.Sleep(300 * time.Millisecond)
		xdotool(t, display, "key", "Tab")
		xdotool(t, display, "key", "ctrl+a")
		xdotool(t, display, "type", "--delay", "15", remoteURL)
		xdotool(t, display, "key", "Return")

		app.waitLog(t, regexp.MustCompile(`msg="desktop: settings applied" mode=remote remote_url=`+regexp.QuoteMeta(remoteURL)), renderWait)
		remote.waitLog(t, regexp.MustCompile(`"path":"/console/","status":`+strconv.Itoa(wantConsole)), renderWait)
		saved, err := os.ReadFile(filepath.Join(dirs.config, "saasmall", "desktop.json"))
		if err != nil || !strings.Contains(string(saved), `"mode": "remote"`) || !strings.Contains(string(saved), remoteURL) {
			t.Errorf("settings file after saving: %q, %v", saved, err)
		}
		checkScreenshot(t, display, app, filepath.Join(screenshotDir, "desktop-app-settings-switched.png"))
		app.quit(t)
		remote.stop(t)
		t.Logf("settings page: %s", time.Since(t0).Round(100*time.Millisecond))
	})
}

// webviewAPI matches the app's debug line for a request of the window.
func webviewAPI(method, path string, status int) *regexp.Regexp {
	return regexp.MustCompile(`msg=webview method=` + method + ` path=` + regexp.QuoteMeta(path) + ` status=` + strconv.Itoa(status) + `\b`)
}

// demoOwner finds a tenant owner's demo sign-in in a server's output: the
// desktop app logs `msg="demo sign-in" role=owner ... email=E password=P`,
// the CLI prints a table and "password for all: P".
func demoOwner(t *testing.T, out string) (email, password string) {
	t.Helper()
	if m := regexp.MustCompile(`msg="demo sign-in" role=owner tenant=\S+ email=(\S+) password=(\S+)`).FindStringSubmatch(out); m != nil {
		return m[1], m[2]
	}
	pw := regexp.MustCompile(`password for all: ([^)\s]+)`).FindStringSubmatch(out)
	em := regexp.MustCompile(`(?m)^\s*owner\s+\S+\s+(\S+@\S+)`).FindStringSubmatch(out)
	if pw == nil || em == nil {
		t.Fatalf("no demo owner sign-in in the server's output")
	}
	return em[1], pw[1]
}

// signIn types email, Tab, password, Return into the window (the console's
// sign-in page focuses its email field) and waits for the sign-in request.
func signIn(t *testing.T, display string, app *process, email, password string) {
	t.Helper()
	// Give the window the keyboard (there is no window manager to do it).
	xdotool(t, display, "search", "--sync", "--onlyvisible", "--name", "^saasmall$", "windowfocus", "--sync")
	xdotool(t, display, "type", "--delay", "15", email)
	xdotool(t, display, "key", "Tab")
	xdotool(t, display, "type", "--delay", "15", password)
	xdotool(t, display, "key", "Return")
	app.waitLog(t, webviewAPI("POST", "/api/v1/auth/login", 200), renderWait)
}

// xdotool runs xdotool on the display.
func xdotool(t *testing.T, display string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func webviewLine(path string, status int) *regexp.Regexp {
	return regexp.MustCompile(`msg=webview method=GET path=` + regexp.QuoteMeta(path) + ` status=` + strconv.Itoa(status) + `\b`)
}

func goBuild(goBin string, env []string, args ...string) error {
	cmd := exec.Command(goBin, append([]string{"build"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// startXvfb starts Xvfb on a free display (it picks one and reports it on a
// pipe: -displayfd) and returns ":N".
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	_ = w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb did not report a display (%q): %s", n, stderr.String())
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatalf("Xvfb did not start within 20 s: %s", stderr.String())
	}
	return ""
}

// userDirs are the app's HOME and XDG folders, all temporary.
type userDirs struct{ home, config, data, cache, runtime string }

func newUserDirs(t *testing.T, settings string) userDirs {
	t.Helper()
	root := t.TempDir()
	d := userDirs{
		home:    filepath.Join(root, "home"),
		config:  filepath.Join(root, "config"),
		data:    filepath.Join(root, "data"),
		cache:   filepath.Join(root, "cache"),
		runtime: filepath.Join(root, "runtime"),
	}
	for _, dir := range []string{d.home, filepath.Join(d.config, "saasmall"), d.data, d.cache, d.runtime} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(d.config, "saasmall", "desktop.json"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// process is a started program whose output is kept for log checks.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	err  error // set when done is closed
}

func startProcess(t *testing.T, name, bin string, args, env []string) *process {
	t.Helper()
	p := &process{name: name, log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			out := p.log.String()
			if i := crashStart(out); i >= 0 { // a Go or C crash: its first lines say where
				t.Logf("--- %s crashed:\n%s", p.name, headLines(out[i:], 40))
			}
			t.Logf("--- %s output (last 60 lines):\n%s", p.name, p.log.tail(60))
		}
	})
	return p
}

func startApp(t *testing.T, bin, display string, d userDirs, extraEnv []string) *process {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "DISPLAY", k == "WAYLAND_DISPLAY", k == "HOME", k == "DBUS_SESSION_BUS_ADDRESS",
			strings.HasPrefix(k, "XDG_"), strings.HasPrefix(k, "SAASMALL_"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"DISPLAY="+display, "GDK_BACKEND=x11", "NO_AT_BRIDGE=1",
		"HOME="+d.home, "XDG_CONFIG_HOME="+d.config, "XDG_DATA_HOME="+d.data,
		"XDG_CACHE_HOME="+d.cache, "XDG_RUNTIME_DIR="+d.runtime,
		"SAASMALL_LOG_LEVEL=debug")
	env = append(env, extraEnv...)
	return startProcess(t, "desktop app", bin, nil, env)
}

// waitLog waits until the process's output matches re.
func (p *process) waitLog(t *testing.T, re *regexp.Regexp, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !re.MatchString(p.log.String()) {
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before its output matched %s", p.name, p.err, re)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no output matching %s within %s", p.name, re, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quit sends SIGTERM and wants exit status 0 within quitWait.
func (p *process) quit(t *testing.T) {
	t.Helper()
	t0 := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(quitWait):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s did not quit within %s of SIGTERM", p.name, quitWait)
	}
	if p.err != nil {
		t.Fatalf("%s quit with %v after SIGTERM, want exit status 0", p.name, p.err)
	}
	t.Logf("%s quit cleanly in %s", p.name, time.Since(t0).Round(10*time.Millisecond))
}

// stop ends a helper process (SIGTERM, then kill).
func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(quitWait):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitHTTP polls url until it answers want, while p runs.
func waitHTTP(t *testing.T, p *process, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(appReadyWait)
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited (%v) before %s answered", p.name, p.err, url)
		default:
		}
		res, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == want {
				return
			}
			last = res.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within %s (last: %s)", url, want, appReadyWait, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("Content-Type")
}

// checkScreenshot takes screenshots of the whole Xvfb screen until the
// window's page (below the menu bar) is not blank, lets it settle, and saves
// the final one at path.
func checkScreenshot(t *testing.T, display string, app *process, path string) {
	t.Helper()
	deadline := time.Now().Add(renderWait)
	tmp := filepath.Join(t.TempDir(), "shot.png")
	var last pictureStats
	for {
		select {
		case <-app.done:
			t.Fatalf("the app exited (%v) before its window rendered", app.err)
		default:
		}
		stats, err := screenshot(display, tmp)
		if err != nil {
			t.Fatal(err)
		}
		last = stats
		if stats.notBlank() {
			break
		}
		if time.Now().After(deadline) {
			_ = copyFile(tmp, path)
			t.Fatalf("the window stayed blank for %s (%s); last screenshot: %s", renderWait, stats, path)
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(settleAfterPic)
	stats, err := screenshot(display, tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := copyFile(tmp, path); err != nil {
		t.Fatal(err)
	}
	if !stats.notBlank() {
		t.Fatalf("the window went blank after rendering (%s, before: %s); screenshot: %s", stats, last, path)
	}
	t.Logf("screenshot %s: %s", path, stats)
}

type pictureStats struct {
	width, height int
	colours       int
	lumaStddev    float64
}

func (s pictureStats) notBlank() bool {
	return s.colours >= minColours && s.lumaStddev >= minLumaStddev
}

func (s pictureStats) String() string {
	return fmt.Sprintf("%dx%d, %d colours and luma stddev %.1f below the menu bar", s.width, s.height, s.colours, s.lumaStddev)
}

func screenshot(display, path string) (pictureStats, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "import", "-display", display, "-window", "root", "png:"+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		return pictureStats{}, fmt.Errorf("import -window root: %v: %s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		return pictureStats{}, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return pictureStats{}, fmt.Errorf("decode %s: %w", path, err)
	}
	return measure(img), nil
}

// measure counts distinct colours and the spread of luminance in the part of
// the picture below the menu bar (the webview).
func measure(img image.Image) pictureStats {
	b := img.Bounds()
	s := pictureStats{width: b.Dx(), height: b.Dy()}
	colours := map[uint32]struct{}{}
	var n, sum, sumSq float64
	for y := b.Min.Y + menuBarHeight; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r8, g8, b8 := r>>8, g>>8, bl>>8
			colours[r8<<16|g8<<8|b8] = struct{}{}
			l := 0.2126*float64(r8) + 0.7152*float64(g8) + 0.0722*float64(b8)
			n++
			sum += l
			sumSq += l * l
		}
	}
	s.colours = len(colours)
	if n > 0 {
		mean := sum / n
		s.lumaStddev = math.Sqrt(math.Max(0, sumSq/n-mean*mean))
	}
	return s
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// syncBuffer is a bytes.Buffer safe for a writing process and a reading test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// crashStart is the offset of the first crash report in out, or -1.
func crashStart(out string) int {
	first := -1
	for _, marker := range []string{"panic: ", "fatal error: ", "SIGSEGV", "SIGABRT", "unexpected signal"} {
		if i := strings.Index(out, marker); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	if first > 0 {
		if nl := strings.LastIndexByte(out[:first], '\n'); nl >= 0 {
			first = nl + 1
		}
	}
	return first
}

func headLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
