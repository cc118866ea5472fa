package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const sample = "../../../pipelines/ci/testdata/results"

// The host command must stay light: a cold `go run ...@version` on a CI
// runner compiles every non-standard package listed here.
func TestDepsAreLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/paved-ci/paved/ci/cmd/paved-ci":   true,
		"github.com/paved-ci/paved/pipelines/ci":      true,
		"github.com/paved-ci/paved/pipelines/results": true,
		"github.com/paved-ci/paved/pipelines/spans":   true,
		"github.com/sethvargo/go-githubactions":       true,
	}
	deps := strings.Fields(string(out))
	if len(deps) < 3 {
		t.Fatalf("go list printed too little: %q", out)
	}
	for _, p := range deps {
		for _, heavy := range []string{"trivy", "aquasecurity", "cosign", "sigstore", "dagger", "go-containerregistry"} {
			if strings.Contains(p, heavy) {
				t.Errorf("paved-ci depends on %s (%s): keep engine, scanner and signer code out of the host command", p, heavy)
			}
		}
		if !allowed[p] {
			t.Errorf("unexpected dependency %s: paved-ci imports only pipelines/ci, pipelines/results, pipelines/spans, the standard library and go-githubactions", p)
		}
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func call(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestReportGitHub(t *testing.T) {
	tmp := t.TempDir()
	out, sum := filepath.Join(tmp, "out"), filepath.Join(tmp, "sum")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": sum}
	code, stdout, stderr := call(env, "report", "--results", sample)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	o, _ := os.ReadFile(out)
	if !strings.Contains(string(o), "\npassed\n") && !strings.Contains(string(o), "passed<<") {
		t.Errorf("no passed output:\n%s", o)
	}
	s, _ := os.ReadFile(sum)
	if !strings.Contains(string(s), "## paved: ✅ passed") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestReportFailedRunExitsOne(t *testing.T) {
	dir := copyDir(t, sample)
	b, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	b = bytes.Replace(b, []byte(`"name": "test", "status": "passed"`), []byte(`"name": "test", "status": "failed"`), 1)
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := call(nil, "report", "--results", dir)
	if code != exitRunFailed || !strings.Contains(stdout, "paved FAILED") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	if code, _, _ := call(nil, "report", "--results", dir, "--fail-on-failed=false"); code != exitOK {
		t.Errorf("--fail-on-failed=false: exit %d", code)
	}
}

func TestReportGitLab(t *testing.T) {
	proj := t.TempDir()
	code, stdout, stderr := call(map[string]string{"GITLAB_CI": "true"}, "report", "--results", sample, "--gitlab-dir", proj)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	env, err := os.ReadFile(filepath.Join(proj, "paved-reports", "paved.env"))
	if err != nil || !strings.Contains(string(env), "PAVED_PASSED=true\n") {
		t.Errorf("dotenv %v:\n%s", err, env)
	}
	for _, f := range []string{"junit.xml", "gl-container-scanning-report.json", "gl-sbom.cdx.json", "cobertura-coverage.xml"} {
		if _, err := os.Stat(filepath.Join(proj, "paved-reports", f)); err != nil {
			t.Error(err)
		}
	}
}

func TestBadInvocations(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, "usage: paved-ci report"},
		{nil, []string{"publish"}, `unknown command "publish"`},
		{nil, []string{"report", "--results", "/does/not/exist"}, "does not exist"},
		{nil, []string{"report", "--results", sample, "--provider", "circleci"}, `unknown provider "circleci"`},
		{map[string]string{"GITHUB_ACTIONS": "true", "GITLAB_CI": "true"}, []string{"report", "--results", sample}, "cannot tell the CI system apart"},
		{nil, []string{"report", "extra"}, `unexpected argument "extra"`},
		{nil, []string{"report", "--nope"}, "flag provided but not defined"},
	} {
		code, _, stderr := call(c.env, c.args...)
		if code != exitError || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, exitError, c.want)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := call(nil, "version"); code != exitOK || !strings.HasPrefix(out, "paved-ci ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out, _ := call(nil, "--help"); code != exitOK || !strings.Contains(out, "-results") {
		t.Errorf("help: %d %q", code, out)
	}
}
