package app

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// DataDir returns the folder where the desktop app keeps its local data
// (the SQLite database in "local" mode), creating it with mode 0700:
//
//	Linux:   $XDG_DATA_HOME/saasmall, else ~/.local/share/saasmall
//	macOS:   ~/Library/Application Support/saasmall
//	Windows: %AppData%\saasmall
func DataDir() (string, error) {
	base, err := userDataBase(runtime.GOOS, os.Getenv, os.UserHomeDir, os.UserConfigDir)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "saasmall")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

func userDataBase(goos string, getenv func(string) string, home, config func() (string, error)) (string, error) {
	switch goos {
	case "windows", "darwin", "ios", "plan9":
		return config()
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		if !filepath.IsAbs(d) {
			return "", errors.New("app: XDG_DATA_HOME is not an absolute path")
		}
		return d, nil
	}
	h, err := home()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, ".local", "share"), nil
}
