package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/pipeline"
)

// The head start compiles every platform before git is known, with the
// same containers Go links on, and signals as soon as the native platform
// is compiled: the arm64 compile here answers only after the signal came.
func TestQueryHeadStartCompilesEveryPlatformAndSignalsTheNativeOneFirst(t *testing.T) {
	signalled := make(chan struct{})
	var once sync.Once
	var amd64Done atomic.Bool
	var early atomic.Bool // signalled before the amd64 compile answered
	compileSync := func(l daggertest.Leaf) (any, bool) {
		if l.Name() != "sync" || !strings.Contains(l.Query, `"go","list","-export"`) {
			return nil, false
		}
		if strings.Contains(l.Query, `value:"arm64"`) {
			select {
			case <-signalled:
			case <-time.After(5 * time.Second):
				return daggertest.ExecFailure(1, "", "the native signal never came", "go", "list"), true
			}
			return "id-arm64", true
		}
		amd64Done.Store(true)
		return "id-amd64", true
	}
	client, conn := daggertest.New(t, existsAnswer(), daggertest.On("defaultPlatform", "linux/amd64"), compileSync)
	opts := GoOptions{Main: "./cmd/hello"}
	HeadStart(t.Context(), client, client.Directory(), opts, func() {
		once.Do(func() {
			early.Store(!amd64Done.Load())
			close(signalled)
		})
	})
	if early.Load() {
		t.Error("the native signal came before the native compile was done")
	}
	for _, arch := range []string{"amd64", "arm64"} {
		conn.AssertQueried(t, `withEnvVariable(name:"GOARCH", value:"`+arch+`")`,
			`withExec(args:["go","list","-export","-deps","-f","{{.ImportPath}}","./cmd/hello"], expect:ANY){sync}`)
	}
	// nothing of the link: it needs the version, which needs git
	conn.AssertNotQueried(t, `"go","build"`)
}

// Before the build's Start, the tests' Start does not wait; after it, it
// waits for the signal. A test stage that never armed must not hang.
func TestStartArmsTheCompiledSignal(t *testing.T) {
	sig := pipeline.NewSignal()
	client, _ := daggertest.New(t, existsAnswer(), platformAnswer(false), daggertest.On("defaultPlatform", "linux/amd64"))
	st := pipeline.NewState(client, client.Directory(), nil, testGit)
	run := Stage{Opts: GoOptions{}, Compiled: sig}.Start(t.Context(), st)
	if !sig.Armed() {
		t.Fatal("Start did not arm the signal")
	}
	if err := run.Run(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	if err := sig.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(st.Variants) != 2 {
		t.Errorf("%d variants after the started build, want 2", len(st.Variants))
	}
}

// The premise of the head start, checked with the real go command: after
// a step's Compile, its go build (with the version flags) compiles
// nothing and only links. Without the Compile, the same build compiles
// the changed package: the check can fail.
func TestCompileLeavesOnlyTheLinkToGoBuild(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	p, err := NewPlan(GoOptions{Main: "./cmd/app", Platforms: []string{"linux/amd64"}}, testGit)
	if err != nil {
		t.Fatal(err)
	}
	step := p.Steps[0]
	run := func(dir string, args []string) string {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS="+gotool.Flags, "GOTOOLCHAIN=local", "GOWORK=off")
		for k, v := range step.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	build := func(dir string) []string {
		args := append([]string{"go", "build", "-x"}, step.Args[2:]...)
		for i, a := range args {
			if a == step.Output {
				args[i] = filepath.Join(dir, "app")
			}
		}
		var tools []string
		for _, line := range strings.Split(run(dir, args), "\n") {
			for _, tool := range []string{"/compile ", "/link "} {
				if strings.Contains(line, tool) {
					tools = append(tools, strings.TrimSpace(tool))
				}
			}
		}
		return tools
	}
	// a package the build cache cannot have seen
	app := func() string {
		dir := t.TempDir()
		mainGo := "package main\n\nvar version, commit, date string\n\nconst nonce = " + `"` + t.Name() + time.Now().String() + `"` + "\n\nfunc main() { println(nonce, version, commit, date) }\n"
		for name, content := range map[string]string{"go.mod": "module example.com/app\n\ngo 1.22\n", "cmd/app/main.go": mainGo} {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}

	cold := app()
	if got := build(cold); !slices.Contains(got, "/compile") {
		t.Fatalf("the control build did not compile its new package (tools %v): the check below could not fail", got)
	}
	warm := app()
	run(warm, step.Compile)
	got := build(warm)
	if slices.Contains(got, "/compile") || !slices.Contains(got, "/link") {
		t.Errorf("go build after the compile step ran %v, want the link alone", got)
	}
}
