package catalog

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/rivo/uniseg"
	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Text analysis. Documents and queries go through the same steps:
//
//  1. fold: Unicode case folding, then canonical decomposition with the
//     nonspacing marks removed (so "Café" and "cafe" are one word);
//  2. segment: Unicode word boundaries (UAX #29, github.com/rivo/uniseg);
//     inside a word, apostrophes are dropped ("men's" → "mens") and any other
//     non-letter, non-digit splits it, except a '.' between two digits
//     ("3.5" stays one token);
//  3. words of ASCII letters are stemmed with the Snowball English stemmer
//     ("running" → "run"); other words are kept folded;
//  4. runs of CJK ideographs and kana are indexed as character bigrams plus
//     single characters, so "项目管理" is found by "项目", "管理" and "管";
//     a query run of two or more characters asks for its bigrams, a
//     one-character run for the character.
//
// Tokens are cut to maxTokenBytes.

const (
	maxTokenBytes = 64   // longer tokens are cut (at a rune boundary)
	maxQueryBytes = 1024 // longer queries are cut before analysis
	maxQueryTerms = 16   // terms beyond this are ignored
)

// Field weights for the term frequency that relevance uses.
const (
	boostName    = 3.0
	boostAttr    = 1.5
	boostSummary = 1.0
	cjkUnigram   = 0.5 // a single character counts half inside a longer run
)

var foldPool = sync.Pool{New: func() any {
	return transform.Chain(cases.Fold(), norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// fold case-folds s and strips diacritics. Pure ASCII takes a fast path.
func fold(s string) string {
	ascii, lower := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			lower = false
		}
	}
	if ascii {
		if lower {
			return s
		}
		b := []byte(s)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	s = strings.ToValidUTF8(s, " ")
	t := foldPool.Get().(transform.Transformer)
	out, _, err := transform.String(t, s)
	foldPool.Put(t)
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}

// isCJK reports whether r is written without spaces between words
// (Han ideographs, Hiragana, Katakana).
func isCJK(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) || unicode.IsNumber(r)
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' || r == '\u02BC' }

// token is one unit that segment emits: a word, or a run of CJK characters.
type token struct {
	text string
	cjk  bool
}

// segmenter splits folded text into tokens; its buffers are reused.
type segmenter struct {
	word        []byte
	run         []byte
	forceUniseg bool // tests: no ASCII fast path
}

// segment calls emit for each token of the folded string s, in order.
// emit returns false to stop.
func (sg *segmenter) segment(s string, emit func(token) bool) {
	sg.word, sg.run = sg.word[:0], sg.run[:0]
	stop := false
	flushWord := func() {
		if len(sg.word) > 0 && !stop {
			if !emit(token{text: cut(string(sg.word))}) {
				stop = true
			}
		}
		sg.word = sg.word[:0]
	}
	flushRun := func() {
		if len(sg.run) > 0 && !stop {
			if !emit(token{text: string(sg.run), cjk: true}) {
				stop = true
			}
		}
		sg.run = sg.run[:0]
	}
	// piece processes one word segment rune by rune.
	piece := func(seg string) {
		var prev rune
		for i, r := range seg {
			switch {
			case isCJK(r):
				flushWord()
				sg.run = utf8.AppendRune(sg.run, r)
			case isWordRune(r):
				flushRun()
				sg.word = utf8.AppendRune(sg.word, r)
			case isApostrophe(r):
				// joins two letters or two digits ("men's" → "mens"), as
				// UAX #29 does; elsewhere it separates
				next, _ := utf8.DecodeRuneInString(seg[i+utf8.RuneLen(r):])
				if !(unicode.IsLetter(prev) && unicode.IsLetter(next) || isDigit(prev) && isDigit(next)) {
					flushWord()
					flushRun()
				}
			case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r):
				// format characters (soft hyphen, ZWJ) inside a word vanish
			case r == '.' && isDigit(prev) && i+1 < len(seg) && isDigit(rune(seg[i+1])):
				sg.word = append(sg.word, '.')
			default:
				flushWord()
				flushRun()
			}
			prev = r
		}
		flushWord()
	}
	if isASCIIString(s) && !sg.forceUniseg {
		// For ASCII text, UAX #29 plus the splitting rules above comes down
		// to this scan (a test checks they agree).
		piece(s)
		return
	}
	state := -1
	for len(s) > 0 && !stop {
		var seg string
		seg, s, state = uniseg.FirstWordInString(s, state)
		piece(seg)
	}
	flushRun()
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// cut shortens s to at most maxTokenBytes at a rune boundary.
func cut(s string) string {
	if len(s) <= maxTokenBytes {
		return s
	}
	i := maxTokenBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// stem returns the index term of a folded word.
func stem(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c < 'a' || c > 'z' {
			return w
		}
	}
	if len(w) <= 2 {
		return w
	}
	return english.Stem(w, false)
}

// stemmer memoizes stem; one per goroutine.
type stemmer map[string]string

func (st stemmer) stem(w string) string {
	if s, ok := st[w]; ok {
		return s
	}
	s := stem(w)
	if len(st) < 1<<18 {
		st[w] = s
	}
	return s
}

// analysis is what the index keeps of a document's text.
type analysis struct {
	terms []termTF // unique terms (stems, CJK grams) with weighted frequency
	words []wordStem
	dl    float32 // token count, for length normalisation
}

type termTF struct {
	term string
	tf   float32
}

// wordStem is a folded word (prefix search) and its stem.
type wordStem struct {
	word, stem string
}

type analyzer struct {
	seg   segmenter
	st    stemmer
	tf    map[string]float32
	words map[string]string
}

func newAnalyzer() *analyzer {
	return &analyzer{st: stemmer{}, tf: map[string]float32{}, words: map[string]string{}}
}

func (a *analyzer) field(text string, boost float32, dl *float32) {
	if text == "" {
		return
	}
	a.seg.segment(fold(text), func(t token) bool {
		if t.cjk {
			rs := []rune(t.text)
			*dl += float32(len(rs))
			for i, r := range rs {
				a.tf[string(r)] += boost * cjkUnigram
				if i+1 < len(rs) {
					a.tf[string(rs[i:i+2])] += boost
				}
			}
			if len(rs) == 1 {
				a.tf[t.text] += boost * (1 - cjkUnigram)
			}
			return true
		}
		*dl++
		s, ok := a.words[t.text]
		if !ok {
			s = a.st.stem(t.text)
			a.words[t.text] = s
		}
		a.tf[s] += boost
		return true
	})
}

// analyze turns a document's searchable text into an analysis.
func (a *analyzer) analyze(d *Doc) *analysis {
	clear(a.tf)
	clear(a.words)
	var dl float32
	a.field(d.Name, boostName, &dl)
	a.field(d.Summary, boostSummary, &dl)
	for _, at := range d.Attributes {
		a.field(at.Key, boostAttr, &dl)
		a.field(at.Value, boostAttr, &dl)
	}
	an := &analysis{dl: dl, terms: make([]termTF, 0, len(a.tf)), words: make([]wordStem, 0, len(a.words))}
	for t, f := range a.tf {
		an.terms = append(an.terms, termTF{t, f})
	}
	for w, s := range a.words {
		an.words = append(an.words, wordStem{w, s})
	}
	return an
}

// sameText reports whether a and b have the same searchable text, so an
// analysis can be reused.
func sameText(a, b *Doc) bool {
	if a.Name != b.Name || a.Summary != b.Summary || len(a.Attributes) != len(b.Attributes) {
		return false
	}
	for i := range a.Attributes {
		if a.Attributes[i] != b.Attributes[i] {
			return false
		}
	}
	return true
}

// qterm is one analyzed query term.
type qterm struct {
	term   string // exact index term (stem or CJK gram)
	prefix string // when set, folded words starting with it match too
}

// parseQuery analyzes a shopper's query. words maps known folded words to
// their stems (a cache; may be nil). All terms must match; the last word
// also matches as a prefix. English stop words are dropped unless they are
// the last word or all there is.
func parseQuery(q string, words func(string) (string, bool)) []qterm {
	if len(q) > maxQueryBytes {
		q = cut2(q, maxQueryBytes)
	}
	var sg segmenter
	var toks []token
	sg.segment(fold(q), func(t token) bool {
		toks = append(toks, t)
		return len(toks) < 4*maxQueryTerms
	})
	if len(toks) == 0 {
		return nil
	}
	out := make([]qterm, 0, len(toks))
	add := func(t qterm) {
		for i := range out {
			if out[i].term == t.term && out[i].prefix == t.prefix {
				return
			}
		}
		if len(out) < maxQueryTerms {
			out = append(out, t)
		}
	}
	nonStop := 0
	for _, t := range toks {
		if t.cjk || !english.IsStopWord(t.text) {
			nonStop++
		}
	}
	for i, t := range toks {
		last := i == len(toks)-1
		if t.cjk {
			rs := []rune(t.text)
			if len(rs) == 1 {
				add(qterm{term: t.text})
			}
			for j := 0; j+1 < len(rs); j++ {
				add(qterm{term: string(rs[j : j+2])})
			}
			continue
		}
		if !last && nonStop > 0 && english.IsStopWord(t.text) {
			continue
		}
		s, ok := "", false
		if words != nil {
			s, ok = words(t.text)
		}
		if !ok {
			s = stem(t.text)
		}
		qt := qterm{term: s}
		if last {
			qt.prefix = t.text
		}
		add(qt)
	}
	// The prefix term goes last (callers rely on it only by flag).
	return out
}

// cut2 shortens s to at most n bytes at a rune boundary.
func cut2(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
