package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/internal/schematest"
	"github.com/paved-ci/paved/pipelines/results"
)

func TestDotenvRoundTrip(t *testing.T) {
	in := []Output{
		{"PLAIN", "ghcr.io/acme/app@sha256:abc"},
		{"DOLLAR", "pa$$word$HOME${CI}$"},
		{"EQUALS", "a=b==c"},
		{"QUOTES", `"quoted"'single'`},
		{"HASH", "#not-a-comment"},
		{"UNICODE", "ünïcødé-✓"},
		{"EMPTY", ""},
		{"BACKSLASH", `C:\path\n`},
	}
	b, errs := EncodeDotenv(in)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	// Variables present in the job must not leak into the values.
	got, err := parseGitLabDotenv(string(b), map[string]string{"HOME": "/root", "CI": "true"})
	if err != nil {
		t.Fatalf("GitLab would reject the report: %v\n%s", err, b)
	}
	for _, v := range in {
		if got[v.Name] != v.Value {
			t.Errorf("%s: got %q, want %q", v.Name, got[v.Name], v.Value)
		}
	}
}

func TestDotenvRefusesWhatGitLabCannotCarry(t *testing.T) {
	b, errs := EncodeDotenv([]Output{
		{"OK", "1"},
		{"NEWLINE", "a\nb"},
		{"SPACE", "a b"},
		{"TRAIL", "a "},
		{"bad-name", "x"},
		{"BIN", "\xff"},
		{"LAST", "2"},
	})
	if len(errs) != 5 {
		t.Fatalf("errs = %v, want 5", errs)
	}
	for _, e := range errs {
		if !strings.Contains(e.Error(), "left out") {
			t.Errorf("unclear error: %v", e)
		}
	}
	got, err := parseGitLabDotenv(string(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["OK"] != "1" || got["LAST"] != "2" {
		t.Errorf("kept %v", got)
	}
}

func TestDotenvSizeLimit(t *testing.T) {
	var vars []Output
	for i := 0; i < 10; i++ {
		vars = append(vars, Output{"V" + strings.Repeat("X", i), strings.Repeat("a", 1000)})
	}
	b, errs := EncodeDotenv(vars)
	if len(b) > dotenvLimit || len(errs) == 0 {
		t.Errorf("size %d, errs %v", len(b), errs)
	}
}

func TestWriteGitLab(t *testing.T) {
	schematest.Need(t)
	proj := t.TempDir()
	stale := filepath.Join(proj, "paved-reports", "junit.xml")
	writeFile(t, stale, "<stale/>")
	dir := sample(t, func(r *results.Run) { r.Image.Tags = []string{"1.4.0", "we$ird"} })
	var stdout, stderr bytes.Buffer
	warns, err := WriteGitLab(load(t, dir), GitLabOptions{Dir: proj, Stdout: &stdout, Stderr: &stderr})
	if err != nil || len(warns) > 0 {
		t.Fatalf("err %v warns %v", err, warns)
	}
	for report, src := range map[string]string{
		"junit": "junit.xml", "container_scanning": "gl-container-scanning-report.json",
		"cyclonedx": "sbom.cdx.json", "coverage_report": "coverage.cobertura.xml",
	} {
		got, err := os.ReadFile(filepath.Join(proj, GitLabReportPath(report)))
		if err != nil {
			t.Errorf("%s: %v", report, err)
			continue
		}
		want, _ := os.ReadFile(filepath.Join(dir, src))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", report, src)
		}
	}
	cs, _ := os.ReadFile(filepath.Join(proj, GitLabReportPath("container_scanning")))
	if err := schematest.Validate("gitlab-container-scanning-report-format.json", cs); err != nil {
		t.Errorf("container scanning report: %v", err)
	}
	bom, _ := os.ReadFile(filepath.Join(proj, GitLabReportPath("cyclonedx")))
	if err := schematest.Validate("cyclonedx/bom-1.6.schema.json", bom); err != nil {
		t.Errorf("cyclonedx report: %v", err)
	}
	envb, _ := os.ReadFile(filepath.Join(proj, GitLabReportPath("dotenv")))
	vars, err := parseGitLabDotenv(string(envb), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"IMAGE_DIGEST":    "sha256:9b2f6c3a1d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef012",
		"IMAGE_REF":       "ghcr.io/acme/hello-go@sha256:9b2f6c3a1d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef012",
		"IMAGE_TAGS":      "1.4.0,we$ird",
		"IMAGE_PLATFORMS": "linux/amd64,linux/arm64",
		"PAVED_PASSED":    "true",
		"PAVED_VERSION":   "1.4.0",
		"PAVED_SBOM":      "paved-reports/gl-sbom.cdx.json",
	}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s = %q, want %q", k, vars[k], v)
		}
	}
	if !strings.Contains(stdout.String(), "paved PASSED") {
		t.Errorf("no summary in the job log:\n%s", stdout.String())
	}
}

func TestWriteGitLabLeavesOutWrongFormats(t *testing.T) {
	dir := sample(t, func(r *results.Run) {
		delete(r.Files, "cobertura")
		r.Files["coverage"] = "cover.out"
	})
	writeFile(t, filepath.Join(dir, "cover.out"), "mode: set\nexample.com/hello/main.go:5.13,7.2 1 1\n")
	writeFile(t, filepath.Join(dir, "sbom.cdx.json"), `{"spdxVersion":"SPDX-2.3"}`)
	proj := t.TempDir()
	var stdout, stderr bytes.Buffer
	warns, err := WriteGitLab(load(t, dir), GitLabOptions{Dir: proj, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 || !strings.Contains(stderr.String(), "coverage_report report not passed to GitLab: coverage file cover.out") ||
		!strings.Contains(stderr.String(), "cyclonedx report not passed") {
		t.Errorf("warnings %q", warns)
	}
	for _, r := range []string{"coverage_report", "cyclonedx"} {
		if _, err := os.Stat(filepath.Join(proj, GitLabReportPath(r))); !os.IsNotExist(err) {
			t.Errorf("%s written anyway", r)
		}
	}
	vars, _ := parseGitLabDotenv(string(must(os.ReadFile(filepath.Join(proj, GitLabReportPath("dotenv"))))), nil)
	if vars["PAVED_SBOM"] != "" {
		t.Errorf("PAVED_SBOM points at a report that was not written: %q", vars["PAVED_SBOM"])
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The sample reports stand for what the scan stage writes; keep them valid
// against the public schemas so the pass-through tests mean something.
func TestSampleReportsMatchSchemas(t *testing.T) {
	schematest.Need(t)
	for file, schema := range map[string]string{
		"scan.sarif":                        "sarif-2.1.0.json",
		"sbom.cdx.json":                     "cyclonedx/bom-1.6.schema.json",
		"gl-container-scanning-report.json": "gitlab-container-scanning-report-format.json",
	} {
		b := must(os.ReadFile(filepath.Join("testdata/results", file)))
		if err := schematest.Validate(schema, b); err != nil {
			t.Errorf("%s: %#v", file, err)
		}
	}
}
