package golden

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/builder/golang"
	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/publish"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/scan"
)

const gitOut = "commit=0123456789abcdef0123456789abcdef01234567\ntime=1767225600\nbranch=main\nexact=\ntags=v0.1.0 \ndescribe=v0.1.0-2-g0123456\ndirty=false\nshallow=false\nremote=https://github.com/paved-ci/paved\n"

var (
	helloOnce sync.Once
	helloJSON []byte
)

// helloTestJSON is a real `go test -json` run of examples/hello-go.
func helloTestJSON(t *testing.T) string {
	helloOnce.Do(func() {
		cmd := exec.Command("go", "test", "-json", "./...")
		cmd.Dir = filepath.Join("..", "..", "examples", "hello-go")
		cmd.Env = append(os.Environ(), "GOFLAGS=-trimpath", "CGO_ENABLED=0")
		helloJSON, _ = cmd.Output()
	})
	if !strings.Contains(string(helloJSON), `"Action":"pass"`) {
		t.Fatalf("go test on examples/hello-go did not pass:\n%s", helloJSON)
	}
	return string(helloJSON)
}

// trivyImageReport is a real trivy v0.74.0 report of a fixture image (made
// by pipelines/scan/report's tests): 3 HIGH and 1 MEDIUM findings.
func trivyImageReport(t *testing.T) string {
	b, err := os.ReadFile("../scan/report/testdata/trivy-image.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exceptionsFor writes .paved/exceptions.yaml content that suppresses
// every HIGH or CRITICAL vulnerability in a trivy report, for 30 days.
func exceptionsFor(t *testing.T, trivy string) string {
	var rep struct {
		Results []struct {
			Vulnerabilities []struct{ VulnerabilityID, PkgName, Severity string }
		}
	}
	if err := json.Unmarshal([]byte(trivy), &rep); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("exceptions:\n")
	exp := time.Now().AddDate(0, 0, 30).Format("2006-01-02")
	n := 0
	for _, r := range rep.Results {
		for _, v := range r.Vulnerabilities {
			if v.Severity == "HIGH" || v.Severity == "CRITICAL" {
				fmt.Fprintf(&b, "  - id: %s\n    package: %s\n    reason: not reachable from the service\n    owner: team@example.com\n    expires: %s\n", v.VulnerabilityID, v.PkgName, exp)
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("the fixture report has no HIGH finding to except")
	}
	return b.String()
}

// answers answer a check of hello-go. With exceptions, the source holds a
// .paved/exceptions.yaml that lets the scan gate pass.
func answers(t *testing.T, exceptions ...bool) []daggertest.Answer {
	js := helloTestJSON(t)
	trivy := trivyImageReport(t)
	except := len(exceptions) > 0 && exceptions[0]
	return []daggertest.Answer{
		func(l daggertest.Leaf) (any, bool) {
			if l.Name() != "exists" {
				return nil, false
			}
			p := strings.Trim(l.Arg(-1, "path"), `"`)
			switch {
			case p == ".paved/exceptions.yaml":
				return except, true
			case strings.HasSuffix(p, "Dockerfile"), strings.HasPrefix(p, ".paved/"), strings.HasPrefix(p, ".trivyignore"):
				return false, true
			}
			return true, true
		},
		func(l daggertest.Leaf) (any, bool) {
			if l.Name() == "contents" && strings.Contains(l.Arg(-2, "path"), "exceptions.yaml") {
				return exceptionsFor(t, trivy), true
			}
			if l.Name() == "contents" && strings.Contains(l.Arg(-2, "path"), "trivy.json") {
				return trivy, true
			}
			return nil, false
		},
		daggertest.On("exitCode", 0),
		// a clean work tree, as gitOut says
		daggertest.On("isEmpty", true),
		func(l daggertest.Leaf) (any, bool) {
			if l.Name() != "stdout" {
				return nil, false
			}
			if strings.Contains(l.Query, "safe.directory") {
				return gitOut, true
			}
			return "", true
		},
		func(l daggertest.Leaf) (any, bool) {
			if l.Name() == "platform" {
				return strings.Trim(l.LastArg("platform"), `"`), true
			}
			return nil, false
		},
		func(l daggertest.Leaf) (any, bool) {
			if l.Name() != "contents" {
				return nil, false
			}
			switch p := l.Arg(-2, "path"); {
			case strings.Contains(p, "coverage.out"):
				return "mode: set\nx.go:1.1,2.2 1 1\n", true
			case strings.Contains(p, "test.json"):
				return js, true
			}
			return nil, false
		},
	}
}

// TestQueryCheckRunsStagesInOrderAndAssemblesResults checks the queries and
// the results record of a check on examples/hello-go; nothing runs.
func TestQueryCheckRunsStagesInOrderAndAssemblesResults(t *testing.T) {
	client, conn := daggertest.New(t, answers(t, true)...)
	out, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range out.State.Results.Stages {
		names = append(names, s.Name+":"+string(s.Status))
	}
	if got := strings.Join(names, " "); got != "build:passed lint:skipped test:passed scan:passed" {
		t.Errorf("stages %s", got)
	}
	if len(out.State.Variants) != 2 {
		t.Errorf("%d variants", len(out.State.Variants))
	}
	if got := strings.Join(out.State.Results.Scanned, ","); got != "image,image-linux-arm64" || !strings.Contains(Summary(out.State.Results), "scanned: image, image-linux-arm64") {
		t.Errorf("scanned %q:\n%s", got, Summary(out.State.Results))
	}
	if n := strings.Count(conn.All(), `["trivy","image","--input"`); n != 2 {
		t.Errorf("trivy ran %d image scans, want one per platform", n)
	}
	if out.State.Results.Version != "0.1.0-2-g0123456" {
		t.Errorf("version %q", out.State.Results.Version)
	}
	if _, err := out.Results.ID(t.Context()); err != nil {
		t.Fatal(err)
	}
	q := conn.AssertQueried(t, `withNewFile(contents:"{`, `path:"results.json"`)
	for _, f := range []string{`path:"junit.xml"`, `path:"coverage.out"`, `path:"test.json"`, `path:"trivy.json"`, `path:"sbom.cdx.json"`, `path:"trivy.sarif"`, `path:"gl-container-scanning-report.json"`,
		// every platform variant is scanned; the second one's reports are named by platform
		`path:"trivy-image-linux-arm64.json"`, `path:"trivy-image-linux-arm64.sarif"`, `path:"scan-summary-image-linux-arm64.md"`} {
		if !strings.Contains(q, f) {
			t.Errorf("results directory lacks %s", f)
		}
	}
	// the tests start alongside the build (test.Stage is a pipeline.Starter):
	// both execs are queried; the record above keeps the slice's order
	all := conn.All()
	if !strings.Contains(all, `"go","build"`) || !strings.Contains(all, `"go","test"`) {
		t.Error("the build or the test exec was not queried")
	}
}

func TestQueryCheckWithFailingTestsRecordsAndReportsThem(t *testing.T) {
	// as go test -json writes it: test2json events carrying the text lines
	failing := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestX"}
{"Action":"output","Package":"p","Test":"TestX","Output":"=== RUN   TestX\n"}
{"Action":"output","Package":"p","Test":"TestX","Output":"    x_test.go:3: boom\n"}
{"Action":"output","Package":"p","Test":"TestX","Output":"--- FAIL: TestX (0.10s)\n"}
{"Action":"fail","Package":"p","Test":"TestX","Elapsed":0.1}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.200s\n"}
{"Action":"fail","Package":"p","Elapsed":0.2}
`
	as := append([]daggertest.Answer{daggertest.On("exitCode", 1), func(l daggertest.Leaf) (any, bool) {
		if l.Name() == "contents" && strings.Contains(l.Arg(-2, "path"), "test.json") {
			return failing, true
		}
		return nil, false
	}}, answers(t)...)
	client, _ := daggertest.New(t, as...)
	_, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), Options{})
	if err == nil || !strings.Contains(err.Error(), "stage test") || !strings.Contains(err.Error(), "TestX (p)") {
		t.Fatalf("err = %v", err)
	}
	client, _ = daggertest.New(t, as...)
	out, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), Options{ContinueOnFailure: true})
	if err != nil {
		t.Fatalf("continue-on-failure returned %v", err)
	}
	if out.Err == nil || out.State.Results.Passed() {
		t.Error("failure not recorded")
	}
	if s := Summary(out.State.Results); !strings.Contains(s, "test   failed") || !strings.Contains(s, "result: FAILED") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestValidateAndOverrides(t *testing.T) {
	stages, err := CheckStages(golang.Builder{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pipeline.Names(stages), ","); got != "build,lint,test,scan" {
		t.Errorf("check stages %s", got)
	}
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Skip: []string{"scna"}}, `skip "scna": no such stage (stages: build, lint, test, scan)`},
		{Options{Skip: []string{"build"}}, "cannot be skipped"},
	} {
		if err := Validate(c.opts, stages); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.opts, err)
		}
	}
	in, err := OverrideInfo(GitOverride{Commit: "ABCDEF1234", CommitTime: "2026-01-02T03:04:05Z", Version: "v2.0.0"})
	if err != nil || in.Commit != "abcdef1234" || in.Version() != "2.0.0" || in.SourceDateEpoch() != "1767323045" {
		t.Errorf("%+v %v", in, err)
	}
	for _, o := range []GitOverride{{Commit: "xyz", CommitTime: "1"}, {Commit: "abcdef1"}, {Commit: "abcdef1", CommitTime: "yesterday"}} {
		if _, err := OverrideInfo(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	client, _ := daggertest.New(t)
	if _, err := Git(t.Context(), client, client.Directory(), images.MustDefault(), GitOverride{CommitTime: "1"}); err == nil {
		t.Error("commit-time without commit accepted")
	}
}

func TestResultsJSONRoundTrips(t *testing.T) {
	client, _ := daggertest.New(t, answers(t, true)...)
	out, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), Options{App: builder.Options{Lint: true}, Skip: []string{"lint"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out.State.Results)
	r, err := results.Decode(b, "results.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.Stages[1].Status != results.Skipped || r.Stages[1].Reason != "skipped by request" || r.Files["junit"] != "junit.xml" {
		t.Errorf("%+v", r)
	}
	// the exceptions that let the gate pass are recorded, for the platform report
	if len(r.Exceptions) == 0 || r.Exceptions[0].Owner != "team@example.com" || r.Exceptions[0].Expires.IsZero() ||
		!strings.HasPrefix(r.Exceptions[0].Where, ".paved/exceptions.yaml:") {
		t.Errorf("exceptions recorded: %+v", r.Exceptions)
	}
}

func TestAppNameIsTheAppFolderInAMonorepo(t *testing.T) {
	for dir, want := range map[string]string{
		"":                  "",
		".":                 "",
		"examples/hello-go": "hello-go",
		"services/api/":     "api",
		"./ci/testapps/x":   "x",
	} {
		o := Options{}
		o.App.Dir = dir
		if got := appName(o); got != want {
			t.Errorf("appName(%q) = %q, want %q", dir, got, want)
		}
	}
}

// ship's bad input is refused from the arguments alone, before a client
// connects: check's arguments and the publish target, tags and hosts.
func TestValidateShipArgs(t *testing.T) {
	ok := ShipOptions{Publish: publish.ShipOptions{Repos: []string{"ghcr.io/acme/app"}}}
	if err := ValidateShipArgs(ok); err != nil {
		t.Fatalf("valid ship arguments: %v", err)
	}
	cases := map[string]ShipOptions{
		"platform":          {Options: Options{App: builder.Options{Platforms: []string{"linux/sparc"}}}},
		"severity":          {Options: Options{Scan: scan.Stage{Threshold: "BOGUS"}}},
		"insecure-registry": {Publish: publish.ShipOptions{Insecure: []string{"http://registry.internal"}}},
		"repository":        {Publish: publish.ShipOptions{Repos: []string{"ghcr.io/acme/App:1.0"}}},
	}
	for want, o := range cases {
		if err := ValidateShipArgs(o); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it named", want, err)
		}
	}
}
