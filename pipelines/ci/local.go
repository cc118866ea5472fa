package ci

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/paved-ci/paved/pipelines/results"
)

// hints say what to do next when a stage fails, by stage name. Stages not
// listed get the generic advice.
var hints = map[string]string{
	"build":   "reproduce locally: dagger call -m github.com/paved-ci/paved check --source=.",
	"test":    "run the failing tests locally (go test ./... or your test command); the JUnit report lists them",
	"scan":    "upgrade the packages listed in the scan report, or record an exception with owner, reason and expiry in .paved/exceptions.yaml; --severity only makes the gate stricter, a looser threshold is the platform policy's",
	"sign":    "check the signing inputs: --sign-key/--sign-password secrets, or id-token: write / SIGSTORE_ID_TOKEN for keyless",
	"publish": "check --image, --registry-username and the registry password secret, and that the token may push",
}

// Terminal writes the local summary: readable in five seconds, plain text
// (no colour codes, so it reads the same in a CI log and a pipe).
func Terminal(out io.Writer, b *Bundle) error {
	var buf bytes.Buffer
	writeTerminal(&buf, b)
	// tabwriter pads every cell but the last; drop the trailing blanks.
	lines := strings.Split(buf.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(out, strings.Join(lines, "\n"))
	return err
}

func writeTerminal(w *bytes.Buffer, b *Bundle) {
	r := b.Run
	counts := map[results.Status]int{}
	for _, s := range r.Stages {
		counts[s.Status]++
	}
	verdict := "PASSED"
	if !r.Passed() {
		verdict = "FAILED"
	}
	head := fmt.Sprintf("paved %s: %d passed, %d failed, %d skipped in %s", verdict,
		counts[results.Passed], counts[results.Failed], counts[results.Skipped], Duration(Total(r)))
	if r.Version != "" {
		head += " · version " + r.Version
	}
	if r.Commit != "" {
		head += " · commit " + short(r.Commit)
	}
	fmt.Fprintln(w, head)
	if b.Partial() {
		fmt.Fprintf(w, "WARNING: partial results, %d listed report(s) missing:\n", len(b.Missing))
		for _, m := range b.Missing {
			fmt.Fprintf(w, "  - %s\n", m)
		}
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STAGE\tSTATUS\tTIME\tNOTE")
	if len(r.Stages) == 0 {
		fmt.Fprintln(tw, "  (none recorded)\t\t\t")
	}
	for i, s := range r.Stages {
		note := oneLine(s.Reason)
		if mandatedSkip(r, i) {
			note = strings.TrimSpace("MANDATED STAGE SKIPPED: " + note)
		}
		fmt.Fprintf(tw, "  %s\t%s %s\t%s\t%s\n", oneLine(s.Name), statusMark(s.Status), statusWord(s.Status), Duration(s.Duration), note)
	}
	tw.Flush()
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if img := r.Image; img != nil && (img.Ref != "" || img.Digest != "") {
		fmt.Fprintf(tw, "  Image\t%s\n", img.Ref)
		fmt.Fprintf(tw, "  Digest\t%s\n", img.Digest)
		if len(img.Tags) > 0 {
			fmt.Fprintf(tw, "  Tags\t%s\n", strings.Join(img.Tags, ", "))
		}
		switch {
		case img.Signature != "":
			fmt.Fprintf(tw, "  Signature\t%s\n", img.Signature)
		case !img.Ephemeral:
			fmt.Fprintf(tw, "  Signature\tNOT SIGNED\n")
		}
	} else {
		fmt.Fprintf(tw, "  Image\tnone published\n")
	}
	if len(r.Findings) > 0 {
		var parts []string
		for _, s := range Severities(r.Findings) {
			parts = append(parts, fmt.Sprintf("%s %d", s.Name, s.Count))
		}
		fmt.Fprintf(tw, "  Findings\t%s\n", strings.Join(parts, " · "))
	}
	tw.Flush()

	next := nextSteps(b)
	if len(next) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Next:")
		for _, n := range next {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

// nextSteps says what to do about each failed stage, the failing tests,
// skipped mandated stages and missing reports.
func nextSteps(b *Bundle) []string {
	var out []string
	for _, s := range Failed(b.Run) {
		h := hints[s.Name]
		if h == "" {
			h = "see the stage log above"
		}
		line := fmt.Sprintf("%s failed", s.Name)
		if s.Reason != "" {
			line += ": " + oneLine(s.Reason)
		}
		out = append(out, line+" → "+h)
	}
	if tests, err := b.Tests(); err != nil {
		out = append(out, "JUnit report unreadable: "+oneLine(err.Error()))
	} else if tests != nil {
		for i, f := range tests.Failures {
			if i == 5 {
				out = append(out, fmt.Sprintf("… %d more failing tests in %s", len(tests.Failures)-5, b.Run.Files["junit"]))
				break
			}
			loc := ""
			if f.File != "" && f.Line > 0 {
				loc = fmt.Sprintf(" (%s:%d)", f.File, f.Line)
			}
			out = append(out, fmt.Sprintf("failing test %s%s: %s", f.Title(), loc, oneLine(f.Message)))
		}
	}
	for _, s := range skippedMandated(b.Run) {
		out = append(out, fmt.Sprintf("mandated stage %s was skipped (%s): remove it from --skip before releasing", s.Name, oneLine(s.Reason)))
	}
	if b.Partial() {
		out = append(out, "re-export the results directory: dagger call ... results export --path="+b.Dir)
	}
	return out
}

func statusMark(s results.Status) string {
	switch s {
	case results.Passed:
		return "✓"
	case results.Failed:
		return "✗"
	case results.Skipped:
		return "-"
	}
	return "?"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
