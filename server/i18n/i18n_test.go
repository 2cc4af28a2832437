package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestEveryMessageInEveryLocale(t *testing.T) {
	en, err := IDs("en")
	if err != nil {
		t.Fatal(err)
	}
	zh, err := IDs("zh-Hans")
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]map[string]bool{"en": set(en), "zh-Hans": set(zh)}
	for _, id := range en {
		if !has["zh-Hans"][id] {
			t.Errorf("message %q is in en but not in zh-Hans", id)
		}
	}
	for _, id := range zh {
		if !has["en"][id] {
			t.Errorf("message %q is in zh-Hans but not in en", id)
		}
	}
}

// TestEveryCodeHasAMessage scans the Go sources for error and field codes
// and checks each has a message in both locales.
func TestEveryCodeHasAMessage(t *testing.T) {
	en, _ := IDs("en")
	known := set(en)
	patterns := map[string]*regexp.Regexp{
		"error.": regexp.MustCompile(`Code:\s*"([a-z_]+)"|apperr\.Conflict\("([a-z_]+)"\)|apperr\.New\([^,]+,\s*"([a-z_]+)"\)`),
		"field.": regexp.MustCompile(`\.Add\("[^"]*",\s*"([a-z_]+)"|\.Add\([a-zA-Z.]+,\s*"([a-z_]+)"|apperr\.Invalid\([^,]+,\s*"([a-z_]+)"|FieldError\{Code:\s*"([a-z_]+)"|` +
			// CSV import row problems: imports.Problem(row, column, code…), the product import's p.fail(row, column, field, code…).
			`imports\.Problem\([^,]+,\s*[^,]+,\s*"([a-z_]+)"|p\.fail\([^,]+,\s*[^,]+,\s*[^,]+,\s*"([a-z_]+)"`),
	}
	root := filepath.Join("..", "..")
	missing := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "frontend") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for prefix, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				for _, g := range m[1:] {
					if g != "" && !known[prefix+g] {
						missing[prefix+g+" ("+path+")"] = true
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ms []string
	for m := range missing {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	for _, m := range ms {
		t.Errorf("no message for %s", m)
	}
}

func TestMatch(t *testing.T) {
	b := New()
	for _, tc := range []struct {
		prefs []string
		want  string
	}{
		{[]string{"zh-CN"}, "zh-Hans"},
		{[]string{"", "", "zh-SG,en;q=0.5"}, "zh-Hans"},
		{[]string{"fr"}, "en"},
		{[]string{"", "zh-Hans", "en"}, "zh-Hans"},
		{[]string{"en", "zh-Hans"}, "en"},
		{nil, "en"},
	} {
		if got := b.Match(tc.prefs...); got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.prefs, got, tc.want)
		}
	}
	if got := b.Localizer("zh-Hans").T("error.rate_limited", map[string]any{"Seconds": 5}); got != "尝试次数过多，请在 5 秒后重试。" {
		t.Errorf("zh-Hans rate_limited = %q", got)
	}
}

func set(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}
