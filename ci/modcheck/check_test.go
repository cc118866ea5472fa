package main

import (
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
