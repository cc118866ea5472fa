package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/results"
)

func terminal(t *testing.T, dir string) string {
	t.Helper()
	var w bytes.Buffer
	if err := Terminal(&w, load(t, dir)); err != nil {
		t.Fatal(err)
	}
	return w.String()
}

func TestTerminalPassed(t *testing.T) {
	out := terminal(t, sample(t, nil))
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "paved PASSED: 5 passed, 0 failed, 0 skipped in 1m12s · version 1.4.0 · commit 3f2c1a9e8b7d") {
		t.Errorf("headline: %q", lines[0])
	}
	for _, want := range []string{
		"  build    ✓ passed  41.2s",
		"  Image      ghcr.io/acme/hello-go@sha256:9b2f",
		"  Digest     sha256:9b2f",
		"  Tags       1.4.0, 1.4, latest",
		"  Findings   CRITICAL 0 · HIGH 0 · MEDIUM 3 · LOW 7",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Next:") {
		t.Errorf("a passed run has next steps:\n%s", out)
	}
	// Readable in five seconds: short, and no line wider than a terminal.
	if len(lines) > 20 {
		t.Errorf("%d lines", len(lines))
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 120 {
			t.Errorf("line of %d runes: %s", n, l)
		}
	}
}

func TestTerminalFailedSaysWhatToDo(t *testing.T) {
	out := terminal(t, failedRun(t))
	for _, want := range []string{
		"paved FAILED: 1 passed, 1 failed, 2 skipped",
		"  test     ✗ failed   3.0s   2 of 3 tests failed\n",
		"  scan     - skipped  -      not run: an earlier stage failed\n",
		"  Image     none published",
		"Next:",
		"  - test failed: 2 of 3 tests failed → run the failing tests locally",
		"  - failing test example.com/hello/internal/greet.TestBye (greet_test.go:14): Bye(\"x\") = \"bye x\", want \"Bye x\"",
		"  - failing test example.com/hello/internal/greet.TestPanics: panic: boom",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	// scan did not run because test failed: not a skip to remove.
	if strings.Contains(out, "MANDATED") || strings.Contains(out, "mandated stage") {
		t.Errorf("a stage not run after a failure is flagged as a mandated skip:\n%s", out)
	}
}

func TestTerminalMandatedSkip(t *testing.T) {
	dir := sample(t, func(r *results.Run) {
		r.Stages[2] = results.Stage{Name: "scan", Status: results.Skipped, Reason: "skipped by request", Mandated: true}
	})
	out := terminal(t, dir)
	for _, want := range []string{
		"  scan     - skipped  -      MANDATED STAGE SKIPPED: skipped by request\n",
		"  - mandated stage scan was skipped (skipped by request): remove it from --skip before releasing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if md := Markdown(load(t, dir)); !strings.Contains(md, "| scan | ⚠️ skipped | - | **mandated stage skipped** skipped by request |") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestTerminalPartial(t *testing.T) {
	dir := sample(t, nil)
	if err := os.Remove(filepath.Join(dir, "sbom.cdx.json")); err != nil {
		t.Fatal(err)
	}
	out := terminal(t, dir)
	if !strings.Contains(out, "WARNING: partial results, 1 listed report(s) missing:\n  - sbom report sbom.cdx.json: listed in results.json but not in the directory") ||
		!strings.Contains(out, "re-export the results directory") {
		t.Errorf("partial not explicit:\n%s", out)
	}
}

func TestTerminalNoStages(t *testing.T) {
	dir := sample(t, func(r *results.Run) { r.Stages = nil; r.Image = nil; r.Findings = nil; r.Files = nil })
	out := terminal(t, dir)
	if !strings.Contains(out, "(none recorded)") {
		t.Errorf("empty run not explicit:\n%s", out)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "-", 850 * time.Millisecond: "850ms", 12340 * time.Millisecond: "12.3s",
		125 * time.Second: "2m05s", 3*time.Hour + 7*time.Minute: "3h07m",
	} {
		if got := Duration(d); got != want {
			t.Errorf("%v: %s, want %s", d, got, want)
		}
	}
}

func TestSeverities(t *testing.T) {
	got := Severities(map[string]int{"low": 1, "NEGLIGIBLE": 2, "CRITICAL": 3, "UNKNOWN": 4, "HIGH": 5})
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "CRITICAL,HIGH,LOW,UNKNOWN,NEGLIGIBLE" {
		t.Errorf("order %v", names)
	}
}

// The scan hint never tells a user to loosen --severity: a run may only
// make the gate stricter, so that advice would fail the next run.
func TestScanHintDoesNotSuggestLooserSeverity(t *testing.T) {
	h := hints["scan"]
	if strings.Contains(h, "raise --severity") || !strings.Contains(h, "exceptions.yaml") {
		t.Errorf("scan hint: %s", h)
	}
}
