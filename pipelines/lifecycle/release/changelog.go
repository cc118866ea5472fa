package release

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/paved-ci/paved/pipelines/gitmeta"
)

const changelogTitle = "# Changelog\n"

func (p *Plan) section(now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s (%s)\n", p.Next, now.UTC().Format("2006-01-02"))
	group := func(title string, keep func(Commit) bool) {
		var lines []string
		for _, c := range p.Commits {
			if keep(c) {
				lines = append(lines, "- "+entry(c))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n### %s\n\n%s\n", title, strings.Join(lines, "\n"))
		}
	}
	group("Breaking changes", func(c Commit) bool { return c.Breaking })
	group("Features", func(c Commit) bool { return !c.Breaking && c.Type == "feat" })
	group("Fixes", func(c Commit) bool { return !c.Breaking && c.Type == "fix" })
	group("Performance", func(c Commit) bool { return !c.Breaking && c.Type == "perf" })
	if len(p.API.Changes) > 0 {
		b.WriteString("\n### API\n\n")
		for _, c := range p.API.Changes {
			fmt.Fprintf(&b, "- %s `%s`: %s\n", c.Level, c.What, c.Why)
		}
	}
	if len(p.API.NewDeprecations) > 0 {
		b.WriteString("\n### Deprecated\n\n")
		for _, d := range p.API.NewDeprecations {
			fmt.Fprintf(&b, "- `%s`: %s\n", d.What, d.Advice)
		}
	}
	if len(p.Migration) > 0 {
		fmt.Fprintf(&b, "\n### Migration\n\n%s\n", strings.Join(p.Migration, "\n\n"))
	}
	if !strings.Contains(b.String(), "\n### ") {
		b.WriteString("\nNo notable changes.\n")
	}
	return b.String()
}

func entry(c Commit) string {
	s := c.Subject
	if c.Scope != "" {
		s = "**" + c.Scope + ":** " + s
	}
	if c.BreakingNote != "" {
		s += " — " + strings.ReplaceAll(c.BreakingNote, "\n", " ")
	}
	return fmt.Sprintf("%s (%s)", s, c.Hash[:min(7, len(c.Hash))])
}

// Prepend puts section on top of an existing changelog body.
func Prepend(old, section string) string {
	rest := strings.TrimPrefix(old, changelogTitle)
	rest = strings.TrimLeft(rest, "\n")
	out := changelogTitle + "\n" + section
	if rest != "" {
		out += "\n" + rest
	}
	return out
}

// Section is one version's entry of a changelog.
type Section struct {
	Version gitmeta.Semver
	Body    string // including the "## " heading
}

var heading = regexp.MustCompile(`(?m)^## (v\d+\.\d+\.\d+\S*)`)

// Sections splits a changelog into its version sections, newest first as written.
func Sections(changelog string) []Section {
	idx := heading.FindAllStringSubmatchIndex(changelog, -1)
	var out []Section
	for i, m := range idx {
		end := len(changelog)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		v, ok := gitmeta.ParseSemver(changelog[m[2]:m[3]])
		if !ok {
			continue
		}
		out = append(out, Section{Version: v, Body: strings.TrimSpace(changelog[m[0]:end]) + "\n"})
	}
	return out
}

// Between returns the sections after from up to and including to, newest first.
func Between(changelog string, from, to gitmeta.Semver) []Section {
	var out []Section
	for _, s := range Sections(changelog) {
		if gitmeta.Compare(s.Version, from) > 0 && gitmeta.Compare(s.Version, to) <= 0 {
			out = append(out, s)
		}
	}
	return out
}

// Migration returns the "### Migration" part of a section, or "".
func (s Section) Migration() string {
	_, after, ok := strings.Cut(s.Body, "\n### Migration\n")
	if !ok {
		return ""
	}
	if i := strings.Index(after, "\n### "); i >= 0 {
		after = after[:i]
	}
	return strings.TrimSpace(after)
}
