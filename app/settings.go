package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The desktop app's modes.
const (
	// ModeLocal runs the saasmall server inside the app on SQLite in the
	// user's data folder; the window talks to it without a port.
	ModeLocal = "local"
	// ModeRemote sends the window's requests to a saasmall server (RemoteURL)
	// through a reverse proxy, so staff of a hosted tenant sign in to it.
	ModeRemote = "remote"
)

// HealthTimeout bounds the check that a remote server answers /healthz.
const HealthTimeout = 5 * time.Second

// healthTimeout is HealthTimeout; tests shorten it.
var healthTimeout = HealthTimeout

// Settings are the desktop app's persisted choices, kept as JSON in
// SettingsPath(). The console's settings page reads and writes them through
// the bound methods GetSettings and SaveSettings.
type Settings struct {
	// Mode is "local" (default) or "remote".
	Mode string `json:"mode"`
	// RemoteURL is the saasmall server of remote mode, e.g.
	// https://mall.example.com (http or https, no path). Kept when the mode is
	// local, so that switching back does not retype it.
	RemoteURL string `json:"remote_url,omitempty"`
	// ListenAddr, in local mode, also serves the in-process server on this
	// address (e.g. 0.0.0.0:8080) so that shoppers on the network reach the
	// storefront. Empty (the default): no port is opened.
	ListenAddr string `json:"listen_addr,omitempty"`
}

// DefaultSettings are used when no settings file exists: local mode, no port.
func DefaultSettings() Settings { return Settings{Mode: ModeLocal} }

// SettingsPath is where the settings live:
// os.UserConfigDir()/saasmall/desktop.json ($XDG_CONFIG_HOME or ~/.config on
// Linux, ~/Library/Application Support on macOS, %AppData% on Windows).
func SettingsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "saasmall", "desktop.json"), nil
}

// LoadSettings reads the settings file at path. A missing file gives
// DefaultSettings and no error; an unreadable or invalid one gives
// DefaultSettings and the error (the caller logs it and leaves the file alone).
func LoadSettings(path string) (Settings, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return DefaultSettings(), err
	}
	var s Settings
	if err := json.Unmarshal(b, &s); err != nil {
		return DefaultSettings(), fmt.Errorf("%s: %w", path, err)
	}
	s = s.normalized()
	if err := s.check(); err != nil {
		return DefaultSettings(), fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// WriteSettings stores s at path atomically (a temporary file renamed over
// the old one), creating the folder with mode 0700.
func WriteSettings(path string, s Settings) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s.normalized(), "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".desktop-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// normalized trims the fields, defaults the mode and drops a trailing slash
// from the remote URL.
func (s Settings) normalized() Settings {
	s.Mode = strings.ToLower(strings.TrimSpace(s.Mode))
	if s.Mode == "" {
		s.Mode = ModeLocal
	}
	s.RemoteURL = strings.TrimRight(strings.TrimSpace(s.RemoteURL), "/")
	s.ListenAddr = strings.TrimSpace(s.ListenAddr)
	return s
}

// effective is what the running handler depends on: the remote URL only in
// remote mode, the listen address only in local mode.
func (s Settings) effective() Settings {
	s = s.normalized()
	if s.Mode == ModeRemote {
		s.ListenAddr = ""
	} else {
		s.RemoteURL = ""
	}
	return s
}

// FieldError is a validation error on one settings field; the settings page
// shows Message beside Field.
type FieldError struct {
	Field   string `json:"field"` // "mode", "remote_url" or "listen_addr"
	Message string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// check validates the fields' syntax (no network access).
func (s Settings) check() error {
	switch s.Mode {
	case ModeLocal:
	case ModeRemote:
		if s.RemoteURL == "" {
			return &FieldError{"remote_url", "remote mode needs the URL of a saasmall server, e.g. https://mall.example.com"}
		}
	default:
		return &FieldError{"mode", fmt.Sprintf("unknown mode %q: use local or remote", s.Mode)}
	}
	if s.RemoteURL != "" {
		if _, err := parseRemoteURL(s.RemoteURL); err != nil {
			return err
		}
	}
	if s.ListenAddr != "" {
		if err := checkListenAddr(s.ListenAddr); err != nil {
			return err
		}
	}
	return nil
}

// parseRemoteURL accepts http(s)://host[:port] with no path, query or
// fragment: the console calls the server's /api/v1 and /console at its root.
func parseRemoteURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &FieldError{"remote_url", "not a URL: " + err.Error()}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &FieldError{"remote_url", "the URL must start with https:// or http://"}
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, &FieldError{"remote_url", "the URL has no host name"}
	}
	if u.User != nil {
		return nil, &FieldError{"remote_url", "the URL must not contain a user name or password"}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, &FieldError{"remote_url", "give the server's address only, without a path (e.g. https://mall.example.com)"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, &FieldError{"remote_url", "the port must be between 1 and 65535"}
		}
	}
	u.Path = ""
	return u, nil
}

// checkListenAddr accepts host:port with a port from 1 to 65535; the host may
// be empty (all interfaces), an IP address or a name.
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return &FieldError{"listen_addr", "use host:port, e.g. 0.0.0.0:8080 (all networks) or 127.0.0.1:8080 (this computer only)"}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return &FieldError{"listen_addr", "the port must be a number between 1 and 65535"}
	}
	if strings.ContainsAny(host, " /?#@") {
		return &FieldError{"listen_addr", "not a host name or IP address: " + host}
	}
	return nil
}

// checkRemote asks the server at base for /healthz and wants 200 within
// HealthTimeout.
func checkRemote(ctx context.Context, client *http.Client, base string) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/healthz", nil)
	if err != nil {
		return &FieldError{"remote_url", err.Error()}
	}
	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return &FieldError{"remote_url", fmt.Sprintf("no answer from %s/healthz within %s", base, healthTimeout)}
		}
		return &FieldError{"remote_url", fmt.Sprintf("cannot reach %s: %v", base, unwrapURLError(err))}
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return &FieldError{"remote_url", fmt.Sprintf("%s/healthz answered HTTP %d: is this a saasmall server?", base, res.StatusCode)}
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
