package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aquasecurity/trivy/pkg/types"

	"github.com/paved-ci/paved/internal/schematest"
	"github.com/paved-ci/paved/pipelines/scan/report"
)

// testdata/trivy-*.json are real trivy v0.74.0 reports (see
// trivy_real_test.go, which regenerates and re-checks them).
func load(t testing.TB, name string) *types.Report {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseRejectsWhatIsNotTrivyJSON(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"empty", "  ", "empty"},
		{"not json", "Total: 3 (HIGH: 3)", "not a JSON object"},
		{"array", "[]", "not a JSON object"},
		{"sarif", `{"version":"2.1.0","runs":[]}`, "looks like a SARIF log"},
		{"cyclonedx", `{"bomFormat":"CycloneDX","specVersion":"1.6"}`, "looks like a CycloneDX SBOM"},
		{"gitlab", `{"version":"15.2.1","scan":{},"vulnerabilities":[]}`, "looks like a GitLab security report"},
		{"old schema", `{"SchemaVersion":1,"ArtifactName":"x"}`, "SchemaVersion 1"},
		{"schema not a number", `{"SchemaVersion":"2"}`, "want the number 2"},
		{"no artifact", `{"SchemaVersion":2}`, "ArtifactName and ArtifactType are both missing"},
		{"bad field type", `{"SchemaVersion":2,"ArtifactName":"x","Results":{}}`, "does not decode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := report.Parse([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse(%q) = %v, want error containing %q", c.doc, err, c.want)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	for _, s := range report.Severities {
		got, err := report.ParseSeverity(strings.ToLower(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := report.ParseSeverity("SEVERE"); err == nil || !strings.Contains(err.Error(), "CRITICAL") {
		t.Errorf("unknown severity error = %v, want the list of valid names", err)
	}
	if !(report.Critical > report.High && report.High > report.Medium && report.Medium > report.Low && report.Low > report.Unknown) {
		t.Error("severities are not ordered")
	}
}

func TestConvertRealReports(t *testing.T) {
	for _, name := range []string{"trivy-fs.json", "trivy-image.json"} {
		t.Run(name, func(t *testing.T) {
			r := load(t, name)
			out, err := report.Convert(context.Background(), r, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			vulns := 0
			ids := map[string]bool{}
			for _, res := range r.Results {
				vulns += len(res.Vulnerabilities)
				for _, v := range res.Vulnerabilities {
					ids[v.VulnerabilityID] = true
				}
			}
			if vulns == 0 {
				t.Fatal("golden report has no vulnerabilities")
			}

			// SARIF
			if err := schematest.Validate("sarif-2.1.0.json", out.SARIF); err != nil {
				t.Errorf("SARIF schema: %v", err)
			}
			var sarif struct {
				Runs []struct {
					Tool struct {
						Driver struct {
							Rules []struct{ ID string }
						}
					}
					Results []struct {
						RuleID    string
						RuleIndex int
					}
				}
			}
			must(t, json.Unmarshal(out.SARIF, &sarif))
			run := sarif.Runs[0]
			findings := report.Findings(r)
			if len(run.Results) != len(findings) {
				t.Errorf("SARIF results = %d, want one per finding (%d)", len(run.Results), len(findings))
			}
			for _, res := range run.Results {
				if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
					t.Errorf("result %s points at rule %d (%s)", res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
				}
			}
			seen := map[string]bool{}
			for _, rule := range run.Tool.Driver.Rules {
				if seen[rule.ID] {
					t.Errorf("rule %s listed twice", rule.ID)
				}
				seen[rule.ID] = true
			}

			// CycloneDX
			var bom struct {
				SpecVersion string `json:"specVersion"`
				Components  []struct {
					Name, Version, Purl string
				}
				Vulnerabilities []struct{ ID string }
			}
			must(t, json.Unmarshal(out.CycloneDX, &bom))
			schema := "cyclonedx/bom-" + bom.SpecVersion + ".schema.json"
			if err := schematest.Validate(schema, out.CycloneDX); err != nil {
				t.Errorf("CycloneDX (%s) schema: %v", schema, err)
			}
			if len(bom.Components) < report.PackageCount(r) {
				t.Errorf("SBOM has %d components for %d packages", len(bom.Components), report.PackageCount(r))
			}
			bomIDs := map[string]bool{}
			for _, v := range bom.Vulnerabilities {
				bomIDs[v.ID] = true
			}
			for id := range ids {
				if !bomIDs[id] {
					t.Errorf("SBOM lacks vulnerability %s", id)
				}
			}

			// GitLab
			if err := schematest.Validate("gitlab-container-scanning-report-format.json", out.GitLab); err != nil {
				t.Errorf("GitLab schema: %v", err)
			}
			var gl report.GitLabReport
			must(t, json.Unmarshal(out.GitLab, &gl))
			if len(gl.Vulnerabilities) != vulns {
				t.Errorf("GitLab vulnerabilities = %d, want %d", len(gl.Vulnerabilities), vulns)
			}
			glIDs := map[string]bool{}
			for _, v := range gl.Vulnerabilities {
				if glIDs[v.ID] {
					t.Errorf("GitLab id %s is not unique", v.ID)
				}
				glIDs[v.ID] = true
			}

			// Markdown: counts add up; the top row is the worst finding.
			md := string(out.Markdown)
			counts := report.Counts(findings)
			for _, s := range report.Severities {
				row := fmt.Sprintf("| %s | %d |", s, counts[s.String()])
				if !strings.Contains(md, row) {
					t.Errorf("summary lacks %q:\n%s", row, md)
				}
			}
			sorted := append([]report.Finding(nil), findings...)
			report.SortFindings(sorted)
			top := sorted[0]
			if !strings.Contains(md, top.ID) || (top.FixedVersion != "" && !strings.Contains(md, top.FixedVersion)) {
				t.Errorf("summary lacks the top finding %s fixed in %s:\n%s", top.ID, top.FixedVersion, md)
			}
		})
	}
}

func TestKnownFindingsInRealReports(t *testing.T) {
	fs := report.Findings(load(t, "trivy-fs.json"))
	report.SortFindings(fs)
	if fs[0].ID != "CVE-2021-44906" || fs[0].Severity != report.Critical || fs[0].FixedVersion != "1.2.6" {
		t.Errorf("worst finding = %+v, want minimist CVE-2021-44906 CRITICAL fixed in 1.2.6", fs[0])
	}
	md := string(report.Markdown(load(t, "trivy-fs.json"), 3))
	if !strings.Contains(md, "| CRITICAL | [CVE-2021-44906](") || !strings.Contains(md, "| minimist | 1.2.5 | 1.2.6 |") {
		t.Errorf("summary top row wrong:\n%s", md)
	}
	if strings.Count(md, "\n| HIGH | ")+strings.Count(md, "\n| CRITICAL | [") != 3 {
		t.Errorf("want exactly 3 top rows:\n%s", md)
	}
	img := load(t, "trivy-image.json")
	gl, err := report.GitLab(img, report.GitLabOptions{Image: "registry.example.com/app@sha256:abc"})
	must(t, err)
	var doc report.GitLabReport
	must(t, json.Unmarshal(gl, &doc))
	found := false
	for _, v := range doc.Vulnerabilities {
		if v.Identifiers[0].Value == "CVE-2025-26519" {
			found = true
			if v.Severity != "High" || v.Location.Dependency.Package.Name != "musl" || v.Location.OperatingSystem != "alpine 3.20.3" ||
				v.Location.Image != "registry.example.com/app@sha256:abc" || v.Solution != "Upgrade musl to 1.2.5-r9" || v.Identifiers[0].Type != "cve" {
				t.Errorf("musl finding = %+v", v)
			}
		}
	}
	if !found {
		t.Error("GitLab report lacks CVE-2025-26519")
	}
}

func TestCycloneDXNeedsPackages(t *testing.T) {
	r := load(t, "trivy-image.json")
	for i := range r.Results {
		r.Results[i].Packages = nil
	}
	if _, err := report.CycloneDX(context.Background(), r, ""); !errors.Is(err, report.ErrNoPackages) {
		t.Fatalf("CycloneDX without packages: %v, want ErrNoPackages", err)
	}
	out, err := report.Convert(context.Background(), r, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.CycloneDX != nil || !errors.Is(out.NoSBOM, report.ErrNoPackages) || out.SARIF == nil || out.GitLab == nil {
		t.Errorf("Convert without packages: sbom=%d bytes, NoSBOM=%v", len(out.CycloneDX), out.NoSBOM)
	}
}

func TestGitLabTruncatesLongTexts(t *testing.T) {
	r := load(t, "trivy-fs.json")
	for i := range r.Results {
		for j := range r.Results[i].Vulnerabilities {
			r.Results[i].Vulnerabilities[j].Title = strings.Repeat("é", 300) // 600 bytes
			r.Results[i].Vulnerabilities[j].References = append(r.Results[i].Vulnerabilities[j].References, "not a url")
		}
	}
	b, err := report.GitLab(r, report.GitLabOptions{})
	must(t, err)
	if err := schematest.Validate("gitlab-container-scanning-report-format.json", b); err != nil {
		t.Fatalf("GitLab schema after truncation: %v", err)
	}
	if strings.Contains(string(b), "not a url") {
		t.Error("a non-URL reference was written as a link")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
