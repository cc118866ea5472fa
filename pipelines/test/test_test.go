package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paved-ci/paved/internal/schematest"
	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/images"
)

// fixture is a Go module with a passing, a skipping, a failing (with a
// subtest) and a non-compiling package.
var fixture = map[string]string{
	"go.mod":          "module example.com/fx\n\ngo 1.26\n",
	"ok/ok.go":        "package ok\n\nfunc Add(a, b int) int { return a + b }\n\nfunc unused() int { return 42 }\n",
	"ok/ok_test.go":   "package ok\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) { if Add(1, 2) != 3 { t.Fatal(\"bad\") } }\n\nfunc TestLater(t *testing.T) { t.Skip(\"needs a database\") }\n",
	"bad/bad.go":      "package bad\n\nfunc Two() int { return 3 }\n",
	"bad/bad_test.go": "package bad\n\nimport \"testing\"\n\nfunc TestTwo(t *testing.T) {\n\tt.Run(\"sub\", func(t *testing.T) {\n\t\tif Two() != 2 {\n\t\t\tt.Errorf(\"Two() = %d, want 2\", Two())\n\t\t}\n\t})\n}\n",
	"nobuild/x.go":    "package nobuild\n\nfunc F() int { return \"not an int\" }\n",
}

type goTestRun struct {
	json, profile []byte
	dir           string
}

var (
	runOnce sync.Once
	run     goTestRun
	runErr  error
)

// realRun runs the host's go test -json on the fixture once per process.
func realRun(t *testing.T) goTestRun {
	t.Helper()
	runOnce.Do(func() {
		dir, err := os.MkdirTemp("", "paved-gotest-")
		if err != nil {
			runErr = err
			return
		}
		for name, body := range fixture {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(body), 0o644)
		}
		args, _ := Args(Options{})
		prof := filepath.Join(dir, "coverage.out")
		for i, a := range args {
			args[i] = strings.Replace(a, outDir+"/coverage.out", prof, 1)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-trimpath", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
		out, _ := cmd.Output() // exits 1: failures are the point
		run.json, run.dir = out, dir
		run.profile, runErr = os.ReadFile(prof)
	})
	if runErr != nil {
		t.Fatal(runErr)
	}
	t.Cleanup(func() {})
	return run
}

func TestReportFromARealGoTestRun(t *testing.T) {
	r := realRun(t)
	rep, err := ParseJSON(r.json)
	if err != nil {
		t.Fatal(err)
	}
	tests, failed, skipped := rep.Counts()
	if tests != 4 || failed != 2 || skipped != 1 {
		t.Errorf("tests=%d failed=%d skipped=%d, want 4/2/1", tests, failed, skipped)
	}
	failing := strings.Join(rep.Failing(), "\n")
	for _, want := range []string{"TestTwo (example.com/fx/bad)", "TestTwo/sub (example.com/fx/bad)", "example.com/fx/nobuild (package failed"} {
		if !strings.Contains(failing, want) {
			t.Errorf("failing list lacks %q:\n%s", want, failing)
		}
	}
	if !strings.Contains(rep.BuildFailures["example.com/fx/nobuild"], "cannot use") {
		t.Errorf("compile error text lost: %q", rep.BuildFailures["example.com/fx/nobuild"])
	}
	res := &Result{Report: rep, ExitCode: 1}
	err = res.Check()
	if err == nil || !strings.Contains(err.Error(), "3 failing") || !strings.Contains(err.Error(), "TestTwo/sub") {
		t.Errorf("Check: %v", err)
	}
}

func TestJUnitValidatesAgainstTheSchema(t *testing.T) {
	rep, err := ParseJSON(realRun(t).json)
	if err != nil {
		t.Fatal(err)
	}
	x, err := rep.JUnit()
	if err != nil {
		t.Fatal(err)
	}
	s := string(x)
	for _, want := range []string{`<testcase name="TestTwo/sub" classname="example.com/fx/bad"`, `<failure message="test failed" type="go.test">`, "Two() = 3, want 2", `<skipped message="ok_test.go:`, `name="[build]"`} {
		if !strings.Contains(s, want) {
			t.Errorf("junit lacks %q", want)
		}
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (apt-get install libxml2-utils): schema check not run")
	}
	schematest.Need(t)
	dir, err := schematest.Dir()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "junit.xml")
	os.WriteFile(f, x, 0o644)
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join(dir, "junit.xsd"), f).CombinedOutput()
	if err != nil {
		t.Errorf("junit.xml does not validate against junit.xsd: %v\n%s", err, out)
	}
}

func TestCoverageMatchesGoToolCover(t *testing.T) {
	r := realRun(t)
	c, err := ParseProfile(r.profile)
	if err != nil {
		t.Fatal(err)
	}
	cover := exec.Command("go", "tool", "cover", "-func="+filepath.Join(r.dir, "coverage.out"))
	cover.Dir = r.dir // it resolves the profile's packages in their module
	out, err := cover.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool cover cannot read the profile: %v %s", err, out)
	}
	m := regexp.MustCompile(`total:\s+\(statements\)\s+([0-9.]+)%`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no total in go tool cover output:\n%s", out)
	}
	want, _ := strconv.ParseFloat(string(m[1]), 64)
	if got := c.Percent(); got < want-0.05 || got > want+0.05 {
		t.Errorf("coverage %.1f%%, go tool cover says %.1f%%", got, want)
	}
	if c.Statements == 0 || c.Covered == 0 || c.Covered == c.Statements {
		t.Errorf("fixture should be partly covered: %+v", c)
	}
}

func TestBadInputs(t *testing.T) {
	if _, err := ParseProfile([]byte("a.go:1.1,2.2 1 1\n")); err == nil || !strings.Contains(err.Error(), "mode line") {
		t.Errorf("profile without mode: %v", err)
	}
	if _, err := ParseProfile([]byte("mode: set\na.go:1.1,2.2 x 1\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad profile line: %v", err)
	}
	if _, err := ParseJSON(nil); err == nil || !strings.Contains(err.Error(), "printed nothing") {
		t.Errorf("empty output: %v", err)
	}
	rep, err := ParseJSON([]byte("go: cannot find main module\n"))
	if err != nil || len(rep.Failing()) != 1 || !strings.Contains(rep.Failing()[0], "cannot find main module") {
		t.Errorf("non-JSON output: %v %v", rep, err)
	}
	if _, err := Args(Options{Packages: []string{"-v"}}); err == nil || !strings.Contains(err.Error(), `"-v" looks like a flag`) {
		t.Errorf("flag as package: %v", err)
	}
}

func TestQueryGoTestSharesToolchainAndWritesReports(t *testing.T) {
	r := realRun(t)
	client, conn := daggertest.New(t,
		daggertest.On("exitCode", 1),
		daggertest.On("exists", true),
		func(l daggertest.Leaf) (any, bool) {
			if l.Name() == "contents" && strings.Contains(l.Arg(-2, "path"), "coverage.out") {
				return string(r.profile), true
			}
			return nil, false
		},
		daggertest.OnPath(string(r.json), "file", "contents"),
	)
	res, err := Go(t.Context(), client, client.Directory(), Options{Race: true})
	if err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t,
		`container{from(address:"`+images.MustDefault().Ref(images.Go)+`")`,
		`cacheVolume(key:\"paved-go-build\")", path:"/root/.cache/go-build")`,
		`withEnvVariable(name:"GOFLAGS", value:"-trimpath -buildvcs=false")`,
		`withEnvVariable(name:"CGO_ENABLED", value:"1")`,
		`withExec(args:["go","test","-json","-coverprofile=/paved-out/coverage.out","-race","-covermode=atomic","./..."], expect:ANY, redirectStdout:"/paved-out/test.json")`,
	)
	// the source is mounted scoped (here: a go.work tree, whole but without .git)
	conn.AssertQueried(t, `withMountedDirectory(path:"/src", source:"id`, `directory.withDirectory(exclude:[\".git\"], path:\".\"`)
	if res.Passed() {
		t.Error("a run with failing tests passed")
	}
	if err := res.Check(); err == nil || !strings.Contains(err.Error(), "TestTwo/sub (example.com/fx/bad)") {
		t.Errorf("stage error does not name the failing test: %v", err)
	}
	if res.Coverage.Statements == 0 {
		t.Error("coverage not read")
	}
	// junit.xml is made in Go and handed back as a file (lazy until used)
	if _, err := res.JUnit.ID(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `directory{withNewFile(contents:"<?xml`, `path:"junit.xml"`)
}

// A folder outside the source is refused; CleanDir alone would turn ../x
// into x and test the wrong module.
func TestArgsRefuseDirOutsideTheSource(t *testing.T) {
	for _, d := range []string{"../x", "..", "/abs", "a/../../b"} {
		if _, err := Args(Options{Dir: d}); err == nil || !strings.Contains(err.Error(), "not a folder inside the source") {
			t.Errorf("dir %q: %v", d, err)
		}
	}
	if _, err := Args(Options{Dir: "./svc/"}); err != nil {
		t.Errorf("dir ./svc/: %v", err)
	}
}

// A block listed twice (profiles of several packages merged, -coverpkg)
// counts once, covered when either run covered it.
func TestCoverageCountsADuplicateBlockOnce(t *testing.T) {
	c, err := ParseProfile([]byte("mode: set\na.go:1.1,2.2 3 0\nb.go:1.1,2.2 2 0\na.go:1.1,2.2 3 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Statements != 5 || c.Covered != 3 {
		t.Errorf("%+v, want 5 statements, 3 covered", c)
	}
}
