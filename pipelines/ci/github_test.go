package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/results"
)

const failingJUnit = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1" errors="1">
	<testsuite name="example.com/hello/internal/greet" tests="3" failures="1" errors="1">
		<testcase classname="example.com/hello/internal/greet" name="TestHello" time="0.000"></testcase>
		<testcase classname="example.com/hello/internal/greet" name="TestBye" time="0.000">
			<failure message="Failed" type="">=== RUN   TestBye
    greet_test.go:14: Bye(&#34;x&#34;) = &#34;bye x&#34;, want &#34;Bye x&#34;
--- FAIL: TestBye (0.00s)
</failure>
		</testcase>
		<testcase classname="example.com/hello/internal/greet" name="TestPanics" time="0.000">
			<error message="panic: boom">goroutine 7 [running]</error>
		</testcase>
	</testsuite>
</testsuites>
`

// failedRun is the sample with a failing test stage and no image.
func failedRun(t *testing.T) string {
	dir := sample(t, func(r *results.Run) {
		r.Stages = []results.Stage{
			{Name: "build", Status: results.Passed, Duration: 41e9},
			{Name: "test", Status: results.Failed, Duration: 3e9, Reason: "2 of 3 tests failed"},
			{Name: "scan", Status: results.Skipped, Reason: "not run: an earlier stage failed", Mandated: true},
			{Name: "publish", Status: results.Skipped, Reason: "not run: an earlier stage failed"},
		}
		r.Image = nil
	})
	writeFile(t, filepath.Join(dir, "junit.xml"), failingJUnit)
	return dir
}

// checkout makes a source tree the reports point into.
func checkout(t *testing.T) *Source {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module example.com/hello\n\ngo 1.26\n")
	writeFile(t, filepath.Join(root, "internal/greet/greet_test.go"), "package greet\n")
	return &Source{Root: root}
}

type ghRun struct {
	stdout, stderr bytes.Buffer
	output, sum    string
	env            map[string]string
}

func runGitHub(t *testing.T, dir string, src *Source, extra map[string]string) *ghRun {
	t.Helper()
	tmp := t.TempDir()
	g := &ghRun{output: filepath.Join(tmp, "output"), sum: filepath.Join(tmp, "summary")}
	// Earlier steps' content must survive: the files are appended to.
	writeFile(t, g.output, "earlier=1\n")
	g.env = map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": g.output, "GITHUB_STEP_SUMMARY": g.sum}
	for k, v := range extra {
		g.env[k] = v
	}
	err := WriteGitHub(load(t, dir), GitHubOptions{Getenv: env(g.env), Stdout: &g.stdout, Stderr: &g.stderr, Source: src, MaskEnv: DefaultMaskEnv})
	if err != nil {
		t.Fatalf("WriteGitHub: %v\nstderr: %s", err, g.stderr.String())
	}
	return g
}

func TestGitHubOutputsRoundTrip(t *testing.T) {
	tricky := "ghcr.io/acme/app@sha256:abc\n_GitHubActionsFileCommandDelimeter_\nname<<EOF\nEOF\n"
	dir := sample(t, func(r *results.Run) {
		r.Image.Ref = tricky
		r.Image.Tags = []string{"1.0", "a=b", "ghadelimiter_x"}
	})
	g := runGitHub(t, dir, nil, nil)
	b, err := os.ReadFile(g.output)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseFileCommands(string(b))
	if err != nil {
		t.Fatalf("runner would reject GITHUB_OUTPUT: %v\n%s", err, b)
	}
	want := map[string]string{
		"earlier": "1",
		"digest":  "sha256:9b2f6c3a1d4e5f60718293a4b5c6d7e8f9012345678901234567890abcdef012",
		"image":   tricky,
		"tags":    "1.0,a=b,ghadelimiter_x",
		"sbom":    "sbom.cdx.json",
		"passed":  "true",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("outputs %v, want exactly %v", got, want)
	}
}

func TestGitHubOutputsFailedRun(t *testing.T) {
	g := runGitHub(t, failedRun(t), nil, nil)
	b, _ := os.ReadFile(g.output)
	got, err := parseFileCommands(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if got["passed"] != "false" || got["digest"] != "" || got["image"] != "" {
		t.Errorf("failed run outputs: %v", got)
	}
	if _, ok := got["digest"]; !ok {
		t.Error("digest output missing: workflow expressions need it defined")
	}
}

func TestGitHubSummary(t *testing.T) {
	g := runGitHub(t, sample(t, nil), nil, nil)
	b, err := os.ReadFile(g.sum)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{
		"## paved: ✅ passed",
		"| build | ✅ passed | 41.2s |",
		"| sign | ✅ passed | 2.3s |",
		"| MEDIUM | 3 |",
		"| Reference | `ghcr.io/acme/hello-go@sha256:9b2f6c3a",
		"| Tags | `1.4.0`, `1.4`, `latest` |",
		"| Signature | `ghcr.io/acme/hello-go:sha256-9b2f",
		"total 1m12s",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	// Severity rows are ordered most severe first.
	if strings.Index(md, "| CRITICAL |") > strings.Index(md, "| LOW |") {
		t.Error("severities out of order")
	}
}

// commands returns the workflow commands (::name props::msg) in out.
func commands(out string, name string) []string {
	var cmds []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "::"+name+" ") || strings.HasPrefix(l, "::"+name+"::") {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

func TestGitHubAnnotations(t *testing.T) {
	src := checkout(t)
	writeFile(t, filepath.Join(src.Root, "go.mod"), "module example.com/hello\n\ngo 1.26\n\nrequire golang.org/x/net v0.31.0\n")
	g := runGitHub(t, failedRun(t), src, nil)
	errs := commands(g.stdout.String(), "error")
	if len(errs) != 2 {
		t.Fatalf("error annotations = %d, want 2:\n%s", len(errs), g.stdout.String())
	}
	want := "::error file=internal/greet/greet_test.go,line=14,title=test failed%3A example.com/hello/internal/greet.TestBye::=== RUN   TestBye%0A    greet_test.go:14: Bye(\"x\") = \"bye x\", want \"Bye x\"%0A--- FAIL: TestBye (0.00s)"
	if !strings.HasPrefix(errs[0], want) {
		t.Errorf("test annotation\n got %s\nwant %s…", errs[0], want)
	}
	// An <error> without a location is still annotated, without a file.
	if !strings.HasPrefix(errs[1], "::error title=test failed%3A example.com/hello/internal/greet.TestPanics::panic: boom%0Agoroutine 7 [running]") {
		t.Errorf("error annotation: %s", errs[1])
	}
	// SARIF: the go.mod finding is a file of the checkout; the image
	// finding is not and stays out of annotations.
	warns := commands(g.stdout.String(), "warning")
	if len(warns) != 1 || !strings.HasPrefix(warns[0], "::warning file=go.mod,line=7,title=finding CVE-2024-45338::Package: golang.org/x/net") {
		t.Errorf("finding annotations: %q", warns)
	}
}

func TestGitHubMasksSecretsFirst(t *testing.T) {
	key := "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VudGluZWwta2V5LWxpbmU=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
	g := runGitHub(t, failedRun(t), nil, map[string]string{
		"COSIGN_KEY": key, "REGISTRY_PASSWORD": "sentinel-registry-token", "UNRELATED": "visible",
	})
	lines := strings.Split(g.stdout.String(), "\n")
	masks := commands(g.stdout.String(), "add-mask")
	if len(masks) != 4 {
		t.Fatalf("masks = %q, want 4 (3 key lines + token)", masks)
	}
	for i := range masks {
		if !strings.HasPrefix(lines[i], "::add-mask::") {
			t.Fatalf("line %d is %q: masks must come before any other output", i, lines[i])
		}
	}
	if !strings.Contains(g.stdout.String(), "::add-mask::c2VudGluZWwta2V5LWxpbmU=") {
		t.Error("key body line not masked")
	}
	if strings.Contains(g.stdout.String(), "visible") {
		t.Error("unrelated variable masked")
	}
}

func TestGitHubWithoutFileVariables(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := WriteGitHub(load(t, sample(t, nil)), GitHubOptions{Getenv: env(map[string]string{"GITHUB_ACTIONS": "true"}), Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("unset GITHUB_OUTPUT must not fail: %v", err)
	}
	for _, want := range []string{"GITHUB_OUTPUT is not set", "digest=sha256:9b2f", "GITHUB_STEP_SUMMARY is not set", "| build | ✅ passed"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "paved PASSED") {
		t.Errorf("no log summary:\n%s", stdout.String())
	}
}

func TestGitHubUnwritableOutputIsAnError(t *testing.T) {
	dir := t.TempDir() // a directory cannot be opened for append
	var stdout, stderr bytes.Buffer
	err := WriteGitHub(load(t, sample(t, nil)), GitHubOptions{
		Getenv: env(map[string]string{"GITHUB_OUTPUT": dir, "GITHUB_STEP_SUMMARY": dir}),
		Stdout: &stdout, Stderr: &stderr,
	})
	if err == nil || !strings.Contains(err.Error(), "unable to write command") {
		t.Fatalf("err = %v, want the file error (not a panic)", err)
	}
}

func TestMarkdownCellsStayInTheirRow(t *testing.T) {
	dir := sample(t, func(r *results.Run) {
		r.Stages[0].Status = results.Failed
		r.Stages[0].Reason = "exit 1 | see <log>\nsecond line"
	})
	md := Markdown(load(t, dir))
	if !strings.Contains(md, `| build | ❌ failed | 41.2s | exit 1 \| see &lt;log&gt; second line |`) {
		t.Errorf("reason not escaped into one cell:\n%s", md)
	}
	if code("a`b") != "``a`b``" || code("`x") != "`` `x ``" {
		t.Errorf("code spans: %s %s", code("a`b"), code("`x"))
	}
}

func TestLimitSummary(t *testing.T) {
	big := strings.Repeat("é", summaryLimit) // 2 bytes a rune
	got := limitSummary(big)
	if len(got) > summaryLimit || !strings.HasSuffix(got, "limit; see the uploaded results directory._\n") {
		t.Fatalf("len %d", len(got))
	}
	if !strings.HasPrefix(got, "éé") || strings.ContainsRune(got, '\uFFFD') {
		t.Error("cut inside a rune")
	}
}
