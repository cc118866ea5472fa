package readmecheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// Pages lists the Markdown pages readmecheck checks, relative to root and
// slash-separated: the README, every .md file under docs/, and every
// README.md under examples/ and ci/ (outside testdata and node_modules).
func Pages(root string) ([]string, error) {
	out := []string{"README.md"}
	walk := func(dir string, keep func(name string) bool) error {
		return filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == filepath.Join(root, dir) && os.IsNotExist(err) {
					return filepath.SkipDir
				}
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case "testdata", "node_modules", ".venv", ".git":
					return filepath.SkipDir
				}
				return nil
			}
			if keep(d.Name()) {
				rel, _ := filepath.Rel(root, p)
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
	}
	if err := walk("docs", func(n string) bool { return strings.HasSuffix(n, ".md") }); err != nil {
		return nil, err
	}
	for _, dir := range []string{"examples", "ci"} {
		if err := walk(dir, func(n string) bool { return n == "README.md" }); err != nil {
			return nil, err
		}
	}
	sort.Strings(out[1:])
	return out, nil
}

// Link is one link of a Markdown page.
type Link struct {
	File   string // the page, relative to the repository root
	Line   int
	Target string // as written: path, path#anchor or #anchor
}

var (
	inlineLink = regexp.MustCompile(`\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	refDef     = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?`)
	heading    = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	htmlAnchor = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	scheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	linkText   = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTag    = regexp.MustCompile(`<[^>]+>`)
)

// fenced reports, per line, whether it belongs to a fenced code block
// (the fence lines included). A fence closes only with the character it
// opened with, at least as long, so a ```` block may hold ``` lines.
func fenced(lines []string) []bool {
	out := make([]bool, len(lines))
	open := ""
	for i, l := range lines {
		s := strings.TrimSpace(l)
		run := ""
		for _, c := range []string{"`", "~"} {
			if strings.HasPrefix(s, c+c+c) {
				run = s[:len(s)-len(strings.TrimLeft(s, c))]
			}
		}
		switch {
		case open == "" && run != "":
			open = run
			out[i] = true
		case open != "":
			out[i] = true
			if run != "" && run[0] == open[0] && len(run) >= len(open) && strings.Trim(s, run[:1]) == "" {
				open = ""
			}
		}
	}
	return out
}

// stripCodeSpans blanks `code spans`, whose brackets are not links.
func stripCodeSpans(l string) string {
	b := []byte(l)
	for i := 0; i < len(b); {
		if b[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(b) && b[i+n] == '`' {
			n++
		}
		end := -1
		for j := i + n; j < len(b); {
			if b[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(b) && b[j+m] == '`' {
				m++
			}
			if m == n {
				end = j + m
				break
			}
			j += m
		}
		if end < 0 {
			i += n
			continue
		}
		for k := i; k < end; k++ {
			b[k] = ' '
		}
		i = end
	}
	return string(b)
}

func splitLines(text []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// Links finds the links of a Markdown page: inline links and images
// `[text](target)` and reference definitions `[id]: target`, outside code
// blocks and code spans.
func Links(file string, text []byte) []Link {
	lines := splitLines(text)
	code := fenced(lines)
	var out []Link
	for i, l := range lines {
		if code[i] {
			continue
		}
		l = stripCodeSpans(l)
		for _, m := range inlineLink.FindAllStringSubmatch(l, -1) {
			out = append(out, Link{File: file, Line: i + 1, Target: m[1]})
		}
		if m := refDef.FindStringSubmatch(l); m != nil {
			out = append(out, Link{File: file, Line: i + 1, Target: m[1]})
		}
	}
	return out
}

// Slug is the anchor GitHub gives a heading: its text in lower case,
// without punctuation but for '-' and '_', spaces turned into '-'.
func Slug(h string) string {
	h = linkText.ReplaceAllString(h, "$1") // a link's text
	h = htmlTag.ReplaceAllString(h, "")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.Is(unicode.Pc, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Anchors returns the anchors of a Markdown page: one per heading outside
// code blocks (a repeated one gets -1, -2, … as on GitHub) and each
// <a id="…"> or <a name="…">.
func Anchors(text []byte) map[string]bool {
	lines := splitLines(text)
	code := fenced(lines)
	out := map[string]bool{}
	seen := map[string]int{}
	for i, l := range lines {
		if code[i] {
			continue
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(l, -1) {
			out[m[1]] = true
		}
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := Slug(strings.TrimSpace(m[2]))
		a := s
		if n := seen[s]; n > 0 {
			a = fmt.Sprintf("%s-%d", s, n)
		}
		seen[s]++
		out[a] = true
	}
	return out
}

var lineAnchor = regexp.MustCompile(`^L\d+(-L\d+)?$`)

// Resolve returns a relative link's target file, relative to root and
// slash-separated, and its anchor; ok is false for a link that leaves the
// repository (a URL, mailto:, //host).
func Resolve(l Link) (file, anchor string, ok bool) {
	t := l.Target
	if t == "" || scheme.MatchString(t) || strings.HasPrefix(t, "//") {
		return "", "", false
	}
	t, anchor, _ = strings.Cut(t, "#")
	t, _, _ = strings.Cut(t, "?")
	switch {
	case t == "":
		file = filepath.ToSlash(l.File)
	case strings.HasPrefix(t, "/"):
		file = path.Clean(strings.TrimPrefix(t, "/"))
	default:
		file = path.Join(path.Dir(filepath.ToSlash(l.File)), t)
	}
	return file, anchor, true
}

// CheckLink verifies a relative link: its file or folder exists in the
// repository under root and, with an #anchor into a Markdown file, that
// file has a heading of that anchor. Links that leave the repository are
// not checked.
func CheckLink(root string, l Link) error {
	where := fmt.Sprintf("%s:%d", l.File, l.Line)
	file, anchor, ok := Resolve(l)
	if !ok {
		return nil
	}
	if file == ".." || strings.HasPrefix(file, "../") {
		return fmt.Errorf("%s: link %q points outside the repository", where, l.Target)
	}
	st, err := os.Stat(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil {
		return fmt.Errorf("%s: link %q: no file %s", where, l.Target, file)
	}
	if anchor == "" {
		return nil
	}
	if st.IsDir() || !strings.HasSuffix(file, ".md") {
		if !st.IsDir() && lineAnchor.MatchString(anchor) {
			return nil // a line of a source file
		}
		return fmt.Errorf("%s: link %q: anchor #%s into %s, which is not a Markdown page", where, l.Target, anchor, file)
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil {
		return fmt.Errorf("%s: %v", where, err)
	}
	if !Anchors(b)[anchor] {
		return fmt.Errorf("%s: link %q: %s has no heading with anchor #%s", where, l.Target, file, anchor)
	}
	return nil
}
