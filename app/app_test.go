package app

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
)

func TestUserDataBase(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	config := func() (string, error) { return "/cfg", nil }
	noenv := func(string) string { return "" }
	cases := []struct {
		goos   string
		getenv func(string) string
		want   string
		err    bool
	}{
		{"linux", noenv, filepath.Join("/home/u", ".local", "share"), false},
		{"linux", func(k string) string {
			if k == "XDG_DATA_HOME" {
				return "/xdg"
			}
			return ""
		}, "/xdg", false},
		{"linux", func(string) string { return "relative" }, "", true},
		{"darwin", noenv, "/cfg", false},
		{"windows", noenv, "/cfg", false},
	}
	for _, c := range cases {
		got, err := userDataBase(c.goos, c.getenv, home, config)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s: got %q, %v; want %q (err %v)", c.goos, got, err, c.want, c.err)
		}
	}
	failing := func() (string, error) { return "", errors.New("no home") }
	if _, err := userDataBase("linux", noenv, failing, config); err == nil {
		t.Error("want an error without a home folder")
	}
}

func TestDataDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the XDG layout applies on Linux")
	}
	tmp := t.TempDir()
	t.Setenv("XDG_DATA_HOME", tmp)
	got, err := DataDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(tmp, "saasmall"); got != want {
		t.Fatalf("DataDir() = %q, want %q", got, want)
	}
}
