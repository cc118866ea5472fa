package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// These check that modcheck compiles module code against the stand-in
// generated package; they run no engine.

func TestModuleTypePassedAsLibraryTypeFailsTheCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a module (slow on a cold cache)")
	}
	root := repoRoot(t)
	err := Check(root, filepath.Join(root, "ci/modcheck/testdata/libtype"))
	if err == nil {
		t.Fatal("a module passing its own *dagger.Directory to dagger.io/dagger code passed the check")
	}
	if !strings.Contains(err.Error(), "cannot use source") || !strings.Contains(err.Error(), "dagger.io/dagger") {
		t.Errorf("error does not show the type mismatch:\n%v", err)
	}
}

func TestSideEffectWithoutCachePragmaFailsTheCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a module (slow on a cold cache)")
	}
	root := repoRoot(t)
	err := Check(root, filepath.Join(root, "ci/modcheck/testdata/nocache"))
	if err == nil {
		t.Fatal("Publish without +cache passed")
	}
	msg := err.Error()
	if !strings.Contains(msg, "function Publish has side effects") {
		t.Errorf("missing pragma not reported:\n%s", msg)
	}
	for _, fn := range []string{"function Check gates", "function CheckWeek gates"} {
		if !strings.Contains(msg, fn) {
			t.Errorf("day-dependent function not reported (%s):\n%s", fn, msg)
		}
	}
	if strings.Contains(msg, "function Sign") || strings.Contains(msg, "Preview") || strings.Contains(msg, "CheckHour") {
		t.Errorf("reported a function that is fine:\n%s", msg)
	}
	if strings.Contains(msg, "compile:") {
		t.Errorf("the fixture should compile:\n%s", msg)
	}
}

func TestIncludeCoverage(t *testing.T) {
	root := "/r"
	dir := "/r/modules/x"
	inc := []string{"../../go.mod", "../../pipelines/**/*"}
	for target, want := range map[string]bool{
		"go.mod":             true,
		"go.sum":             false,
		"pipelines/build":    true,
		"pipelines/a/b":      true,
		"pipelinesextra/foo": false,
	} {
		if got := covered(root, dir, inc, target); got != want {
			t.Errorf("covered(%s) = %v, want %v", target, got, want)
		}
	}
}

// The module paved once shipped: a hand-written go.mod and no go.sum. The
// engine's type-definition step fails on it ("updates to go.mod needed").
func TestHandWrittenModuleWithoutGoSumFailsTheCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a module (slow on a cold cache)")
	}
	root := repoRoot(t)
	err := Check(root, filepath.Join(root, "ci/modcheck/testdata/handwritten"))
	if err == nil {
		t.Fatal("a module with a hand-written go.mod and no go.sum passed")
	}
	for _, want := range []string{"has no go.sum", "not as `dagger develop` leaves them", "github.com/dagger/otel-go"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// An include list without internal/: dagger develop's go mod tidy loads the
// tests of the replaced paved packages, which import internal/ packages.
func TestIncludeGapFailsTheCheckAsOnTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a module (slow on a cold cache)")
	}
	root := repoRoot(t)
	err := Check(root, filepath.Join(root, "ci/modcheck/testdata/includegap"))
	if err == nil {
		t.Fatal("a module whose include list misses internal/ passed")
	}
	if !strings.Contains(err.Error(), "github.com/paved-ci/paved/internal/enginetest") {
		t.Errorf("error does not name the package the include list misses:\n%v", err)
	}
}

// The nocache fixture is tidy: no tidiness problem is reported for it.
func TestTidyModuleHasNoTidyProblem(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a module (slow on a cold cache)")
	}
	root := repoRoot(t)
	err := Check(root, filepath.Join(root, "ci/modcheck/testdata/nocache"))
	if err != nil && (strings.Contains(err.Error(), "dagger develop") || strings.Contains(err.Error(), "go.sum")) {
		t.Errorf("a tidy module was reported untidy:\n%v", err)
	}
}

func TestIncludedMatchesPatternsRelativeToTheModule(t *testing.T) {
	inc := []string{"../../go.mod", "../../pipelines/**/*", "../../internal/**"}
	for f, want := range map[string]bool{
		"go.mod":                            true,
		"go.sum":                            false,
		"pipelines/build/build.go":          true,
		"internal/enginetest/enginetest.go": true,
		"examples/hello-go/go.mod":          false,
		"pipelinesextra/x.go":               false,
	} {
		if got := included("modules/x", inc, f); got != want {
			t.Errorf("included(%s) = %v, want %v", f, got, want)
		}
	}
}

// A released module must embed its VERSION file and stamp it.
func TestVersionStamp(t *testing.T) {
	src := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if p := versionStamp(src); len(p) != 1 || !strings.Contains(p[0], "no VERSION file") {
		t.Errorf("no VERSION: %v", p)
	}
	write("VERSION", "dev\n")
	write("main.go", "package main\n")
	if p := versionStamp(src); len(p) != 1 || !strings.Contains(p[0], "version.Stamp") {
		t.Errorf("VERSION not embedded: %v", p)
	}
	write("version.go", "package main\n\n//go:embed VERSION\nvar release string\n\nfunc init() { version.Stamp(release) }\n")
	if p := versionStamp(src); len(p) != 0 {
		t.Errorf("stamped module: %v", p)
	}
	root := repoRoot(t)
	if !released(root, root) || !released(root, filepath.Join(root, "modules/build")) || released(root, filepath.Join(root, "ci")) {
		t.Error("released: the root and modules/* are released, ci is not")
	}
}
