package ci

import (
	"fmt"
	"strings"

	"github.com/paved-ci/paved/pipelines/results"
)

// maxListed caps per-section lists (failing tests, missing files) so a
// summary stays readable; the rest is counted.
const maxListed = 20

// Markdown renders the GitHub step summary: stages with status and
// duration, findings by severity, the published image and signature.
func Markdown(b *Bundle) string {
	r := b.Run
	var w strings.Builder
	if r.Passed() {
		w.WriteString("## paved: ✅ passed\n\n")
	} else {
		w.WriteString("## paved: ❌ failed\n\n")
	}
	var facts []string
	if r.Version != "" {
		facts = append(facts, "version "+code(r.Version))
	}
	if r.Commit != "" {
		facts = append(facts, "commit "+code(short(r.Commit)))
	}
	facts = append(facts, "total "+Duration(Total(r)))
	if r.PavedVersion != "" {
		facts = append(facts, "paved "+code(r.PavedVersion))
	}
	w.WriteString(strings.Join(facts, " · ") + "\n\n")

	if b.Partial() {
		w.WriteString("> [!WARNING]\n> Partial results: some reports listed in results.json are missing, so this summary is incomplete.\n")
		for i, m := range b.Missing {
			if i == maxListed {
				fmt.Fprintf(&w, "> - … and %d more\n", len(b.Missing)-maxListed)
				break
			}
			fmt.Fprintf(&w, "> - %s %s: %s\n", m.Kind, code(m.Path), cell(m.Reason))
		}
		w.WriteString("\n")
	}

	w.WriteString("| Stage | Status | Duration | Note |\n|---|---|---:|---|\n")
	if len(r.Stages) == 0 {
		w.WriteString("| _(none recorded)_ | | | |\n")
	}
	for i, s := range r.Stages {
		note := s.Reason
		if mandatedSkip(r, i) {
			note = strings.TrimSpace("**mandated stage skipped** " + note)
		} else {
			note = cell(note)
		}
		icon := statusIcon(s.Status)
		if mandatedSkip(r, i) {
			icon = "⚠️"
		}
		fmt.Fprintf(&w, "| %s | %s %s | %s | %s |\n", cell(s.Name), icon, statusWord(s.Status), Duration(s.Duration), note)
	}
	w.WriteString("\n")

	if len(r.Findings) > 0 {
		w.WriteString("### Findings\n\n| Severity | Count |\n|---|---:|\n")
		for _, s := range Severities(r.Findings) {
			fmt.Fprintf(&w, "| %s | %d |\n", cell(s.Name), s.Count)
		}
		w.WriteString("\n")
	}

	if img := r.Image; img != nil && (img.Ref != "" || img.Digest != "") {
		w.WriteString("### Image\n\n| | |\n|---|---|\n")
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(&w, "| %s | %s |\n", k, v)
			}
		}
		row("Reference", code(img.Ref))
		row("Digest", code(img.Digest))
		row("Tags", codes(img.Tags))
		row("Platforms", cell(strings.Join(img.Platforms, ", ")))
		if img.Signature != "" {
			row("Signature", code(img.Signature))
		} else if !img.Ephemeral {
			row("Signature", "⚠️ not signed")
		}
		if img.Ephemeral {
			row("Note", "ephemeral image (not a release)")
		}
		w.WriteString("\n")
	}

	if tests, err := b.Tests(); err != nil {
		fmt.Fprintf(&w, "### Tests\n\n⚠️ JUnit report unreadable: %s\n\n", cell(err.Error()))
	} else if tests != nil && len(tests.Failures) > 0 {
		fmt.Fprintf(&w, "### Failing tests (%d of %d)\n\n", len(tests.Failures), tests.Tests)
		for i, f := range tests.Failures {
			if i == maxListed {
				fmt.Fprintf(&w, "- … and %d more (see the JUnit report)\n", len(tests.Failures)-maxListed)
				break
			}
			loc := ""
			if f.File != "" && f.Line > 0 {
				loc = fmt.Sprintf(" (%s)", code(fmt.Sprintf("%s:%d", f.File, f.Line)))
			}
			fmt.Fprintf(&w, "- %s%s: %s\n", code(f.Title()), loc, cell(f.Message))
		}
		w.WriteString("\n")
	}

	if len(r.Files) > 0 {
		w.WriteString("<details><summary>Reports</summary>\n\n")
		for _, k := range sortedKeys(r.Files) {
			fmt.Fprintf(&w, "- %s: %s\n", cell(k), code(r.Files[k]))
		}
		w.WriteString("\n</details>\n")
	}
	return w.String()
}

func statusIcon(s results.Status) string {
	switch s {
	case results.Passed:
		return "✅"
	case results.Failed:
		return "❌"
	case results.Skipped:
		return "⏭️"
	}
	return "❔"
}

// cell makes text safe inside a Markdown table cell: one line, no pipe
// breaking the row, no raw HTML.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// code renders an inline code span that survives backticks in s.
func code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.Join(strings.Fields(s), " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	// A pipe still splits a table row inside a code span.
	return fence + pad + strings.ReplaceAll(s, "|", `\|`) + pad + fence
}

func codes(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
