// Package i18n holds the one go-i18n bundle of the process (English and
// Simplified Chinese) and hands out a localizer per request.
package i18n

import (
	"embed"
	"log/slog"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var files embed.FS

// Supported lists the locales saasmall speaks, the default first.
var Supported = []language.Tag{language.English, language.SimplifiedChinese}

// Bundle is the process's message catalogue.
type Bundle struct {
	b       *goi18n.Bundle
	matcher language.Matcher
}

// New loads the embedded catalogues.
func New() *Bundle {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, f := range []string{"locales/active.en.toml", "locales/active.zh-Hans.toml"} {
		if _, err := b.LoadMessageFileFS(files, f); err != nil {
			panic("i18n: " + f + ": " + err.Error()) // embedded files: a build-time bug
		}
	}
	return &Bundle{b: b, matcher: language.NewMatcher(Supported)}
}

// Match returns the supported locale ("en" or "zh-Hans") best matching the
// preferences, tried in order (each may be a tag or an Accept-Language value).
func (b *Bundle) Match(prefs ...string) string {
	for _, p := range prefs {
		if strings.TrimSpace(p) == "" {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(tags) == 0 {
			continue
		}
		_, idx, conf := b.matcher.Match(tags...)
		if conf == language.No {
			continue
		}
		return Supported[idx].String()
	}
	return "en"
}

// Localizer translates for one locale.
type Localizer struct {
	Lang string
	l    *goi18n.Localizer
}

// Localizer returns a localizer for lang (as returned by Match).
func (b *Bundle) Localizer(lang string) *Localizer {
	return &Localizer{Lang: lang, l: goi18n.NewLocalizer(b.b, lang)}
}

// T translates id with data. A missing message is logged and its id returned,
// never a panic on a request path.
func (l *Localizer) T(id string, data map[string]any) string {
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		slog.Warn("i18n: missing message", "id", id, "lang", l.Lang, "err", err)
		if s == "" {
			return id
		}
	}
	return s
}

// IDs returns the message ids of the embedded catalogue for lang (tests use it
// to check every id exists in every locale).
func IDs(lang string) ([]string, error) {
	raw, err := files.ReadFile("locales/active." + lang + ".toml")
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := toml.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for k := range m {
		ids = append(ids, k)
	}
	return ids, nil
}
