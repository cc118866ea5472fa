package ci

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paved-ci/paved/pipelines/results"
)

// Output is one named value a CI job hands to later steps or jobs.
type Output struct {
	Name, Value string
}

// GitHubOutputs are the step outputs of the report step, in a fixed order.
// Values are empty (not absent) when the run published nothing, so a
// workflow expression like steps.paved.outputs.digest is always defined.
func GitHubOutputs(b *Bundle) []Output {
	img := b.Run.Image
	if img == nil {
		img = &results.Image{}
	}
	sbom := ""
	if rel, ok := b.Run.Files["sbom"]; ok {
		if _, present := b.File("sbom"); present {
			sbom = rel
		}
	}
	return []Output{
		{"digest", img.Digest},
		{"image", img.Ref},
		{"tags", strings.Join(img.Tags, ",")},
		{"sbom", sbom},
		{"passed", strconv.FormatBool(b.Run.Passed())},
	}
}

// GitLabVariables are the dotenv report variables, in a fixed order.
// sbom is the path of the CycloneDX report as written for GitLab ("" if
// none was).
func GitLabVariables(b *Bundle, sbom string) []Output {
	img := b.Run.Image
	if img == nil {
		img = &results.Image{}
	}
	return []Output{
		{"IMAGE_DIGEST", img.Digest},
		{"IMAGE_REF", img.Ref},
		{"IMAGE_TAGS", strings.Join(img.Tags, ",")},
		{"IMAGE_PLATFORMS", strings.Join(img.Platforms, ",")},
		{"IMAGE_SIGNATURE", img.Signature},
		{"PAVED_PASSED", strconv.FormatBool(b.Run.Passed())},
		{"PAVED_VERSION", b.Run.Version},
		{"PAVED_COMMIT", b.Run.Commit},
		{"PAVED_SBOM", sbom},
	}
}

// severityOrder ranks trivy's severities; unknown names sort after these.
var severityOrder = map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "UNKNOWN": 4}

// Severity is one line of the findings table.
type Severity struct {
	Name  string
	Count int
}

// Severities returns findings by severity, most severe first, including
// zero counts the record lists (a zero CRITICAL is worth showing).
func Severities(f map[string]int) []Severity {
	out := make([]Severity, 0, len(f))
	for k, v := range f {
		out = append(out, Severity{strings.ToUpper(k), v})
	}
	sort.Slice(out, func(i, j int) bool {
		ri, iok := severityOrder[out[i].Name]
		rj, jok := severityOrder[out[j].Name]
		if !iok {
			ri = len(severityOrder)
		}
		if !jok {
			rj = len(severityOrder)
		}
		if ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Duration formats a stage time for people: 850ms, 12.3s, 2m05s.
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// Total is the sum of the stage durations.
func Total(r *results.Run) time.Duration {
	var t time.Duration
	for _, s := range r.Stages {
		t += s.Duration
	}
	return t
}

// Failed returns the stages that failed, in order.
func Failed(r *results.Run) []results.Stage {
	var out []results.Stage
	for _, s := range r.Stages {
		if s.Status == results.Failed {
			out = append(out, s)
		}
	}
	return out
}

// skippedMandated returns mandated stages that were skipped by a request
// or rule, not because an earlier stage failed: a run can pass without
// them, so the summary must make it stand out.
func skippedMandated(r *results.Run) []results.Stage {
	var out []results.Stage
	for i, s := range r.Stages {
		if mandatedSkip(r, i) {
			out = append(out, s)
		}
	}
	return out
}

func mandatedSkip(r *results.Run, i int) bool {
	s := r.Stages[i]
	if !s.Mandated || s.Status != results.Skipped {
		return false
	}
	for _, before := range r.Stages[:i] {
		if before.Status == results.Failed {
			return false
		}
	}
	return true
}

func statusWord(s results.Status) string {
	switch s {
	case results.Passed, results.Failed, results.Skipped:
		return string(s)
	case "":
		return "unknown"
	}
	return string(s)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
