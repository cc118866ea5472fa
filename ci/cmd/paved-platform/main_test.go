package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/internal/gittest"
	"github.com/paved-ci/paved/pipelines/results"
)

func call(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// The tool stays engine-free and light.
func TestDepsAreLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list printed too little: %q", out)
	}
	for _, p := range deps {
		for _, heavy := range []string{"trivy", "aquasecurity", "cosign", "sigstore", "dagger", "go-containerregistry"} {
			if strings.Contains(p, heavy) {
				t.Errorf("paved-platform depends on %s: keep engine, scanner and signer code out", p)
			}
		}
	}
}

func TestAPICheckOnPaved(t *testing.T) {
	out, stderr, code := call(t, "api", "--check", "--repo", "../../..")
	if code != 0 {
		t.Fatalf("api --check on paved: %d\n%s%s", code, out, stderr)
	}
	// A module whose api.json is stale fails with the fix command.
	identity(t)
	r := gittest.New(t)
	os.WriteFile(filepath.Join(r.Dir, "dagger.json"), []byte(`{"name": "demo"}`), 0o644)
	os.WriteFile(filepath.Join(r.Dir, "main.go"), []byte("package main\n\ntype Demo struct{}\n\nfunc (Demo) Hi() string { return \"hi\" }\n"), 0o644)
	_, stderr, code = call(t, "api", "--check", "--repo", r.Dir)
	if code != 1 || !strings.Contains(stderr, "stale or missing: api.json") || !strings.Contains(stderr, "paved-platform api --write") {
		t.Fatalf("stale: %d %s", code, stderr)
	}
	if out, stderr, code = call(t, "api", "--write", "--repo", r.Dir); code != 0 || !strings.Contains(out, "wrote api.json") {
		t.Fatalf("write: %d %s %s", code, out, stderr)
	}
	if _, stderr, code = call(t, "api", "--check", "--repo", r.Dir); code != 0 {
		t.Fatalf("check after write: %s", stderr)
	}
	// Release: dry run first, then for real.
	r.Git("add", "-A")
	r.Git("commit", "-q", "-m", "feat: hello")
	out, stderr, code = call(t, "release", "--repo", r.Dir, "--module", "root", "--dry-run")
	if code != 0 || !strings.Contains(out, "next:     v0.1.0") || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: %d %s %s", code, out, stderr)
	}
	if tags := r.Git("tag"); tags != "" {
		t.Fatalf("dry run tagged %s", tags)
	}
	out, stderr, code = call(t, "release", "--repo", r.Dir, "--module", "root")
	if code != 0 || r.Git("tag") != "v0.1.0" {
		t.Fatalf("release: %d %s %s", code, out, stderr)
	}
	_, stderr, code = call(t, "release", "--repo", r.Dir, "--module", "root")
	if code != 1 || !strings.Contains(stderr, "nothing to release") {
		t.Fatalf("second release: %d %s", code, stderr)
	}
}

func TestReportAndUpgradeCommands(t *testing.T) {
	recs := t.TempDir()
	run := results.New(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	run.Repo, run.PavedVersion = "acme/api", "v0.1.0"
	run.Add(results.Stage{Name: "build", Status: results.Passed, Duration: 5e9})
	run.Write(filepath.Join(recs, "a"))
	os.WriteFile(filepath.Join(recs, "broken.json"), []byte("{"), 0o644)
	outDir := t.TempDir()
	out, stderr, code := call(t, "report", "--records", recs, "--out", outDir)
	if code != 0 || !strings.Contains(out, "1 records read, 1 skipped") {
		t.Fatalf("report: %d %s %s", code, out, stderr)
	}
	for _, f := range []string{"report.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
			t.Error(err)
		}
	}
	_, stderr, code = call(t, "upgrade", "--app", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "--paved-repo is required") {
		t.Fatalf("upgrade without clone: %d %s", code, stderr)
	}
	_, stderr, code = call(t, "nope")
	if code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("unknown: %d %s", code, stderr)
	}
	_, stderr, code = call(t, "release", "--module", "x", "extra")
	if code != 1 || !strings.Contains(stderr, "every input is a flag") {
		t.Fatalf("extra args: %d %s", code, stderr)
	}
}

// identity lets the release commit and tag where git has no user configured (CI).
func identity(t *testing.T) {
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "paved test", "GIT_AUTHOR_EMAIL": "test@paved.invalid", "GIT_COMMITTER_NAME": "paved test", "GIT_COMMITTER_EMAIL": "test@paved.invalid"} {
		t.Setenv(k, v)
	}
}
