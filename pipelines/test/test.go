// Package test is paved's test stage for Go: `go test` in the same
// toolchain container as the build (image, caches, -trimpath), with the
// results read back into JUnit XML and a coverage summary.
package test

import (
	"context"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/images"
)

// Options configure a test run.
type Options struct {
	// Dir is the Go module's folder inside the source.
	Dir string
	// Packages to test; default ./...
	Packages []string
	// Race turns on the race detector (needs cgo; the toolchain image has gcc).
	Race bool
	// Tags are Go build tags.
	Tags []string
	// Run limits the tests (-run).
	Run string
	// Short passes -short.
	Short bool
	// Timeout for the whole run, as go test -timeout takes it ("10m").
	Timeout string
	// Env is extra environment (no secrets).
	Env map[string]string
	// Netrc: credentials for private modules, mounted as a secret file.
	Netrc  *dagger.Secret
	Images *images.Set
}

// Result of a test run. Files are nil only when go test produced none.
type Result struct {
	Report   *Report
	Coverage Coverage
	// JUnit is junit.xml, Profile the cover profile, JSON the raw
	// go test -json stream.
	JUnit, Profile, JSON *dagger.File
	ExitCode             int
}

// Passed reports whether go test exited 0 and no test failed.
func (r *Result) Passed() bool {
	_, failed, _ := r.Report.Counts()
	return r.ExitCode == 0 && failed == 0 && len(r.Report.BuildFailures) == 0
}

const outDir = "/paved-out"

// Args is the go test command line for opts.
func Args(opts Options) ([]string, error) {
	if err := gotool.CheckDir(opts.Dir); err != nil {
		return nil, err
	}
	args := []string{"go", "test", "-json", "-coverprofile=" + outDir + "/coverage.out"}
	if opts.Race {
		args = append(args, "-race", "-covermode=atomic")
	} else {
		args = append(args, "-covermode=set")
	}
	if len(opts.Tags) > 0 {
		args = append(args, "-tags="+strings.Join(opts.Tags, ","))
	}
	if opts.Run != "" {
		args = append(args, "-run="+opts.Run)
	}
	if opts.Short {
		args = append(args, "-short")
	}
	if opts.Timeout != "" {
		args = append(args, "-timeout="+opts.Timeout)
	}
	pkgs := opts.Packages
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	for _, p := range pkgs {
		if strings.HasPrefix(p, "-") {
			return nil, fmt.Errorf("package %q looks like a flag; list packages such as ./... or ./internal/x", p)
		}
	}
	return append(args, pkgs...), nil
}

// Go runs the tests. A failing test is not an error of this function: the
// Result says what failed; Check turns it into a stage error.
func Go(ctx context.Context, client *dagger.Client, src *dagger.Directory, opts Options) (*Result, error) {
	args, err := Args(opts)
	if err != nil {
		return nil, err
	}
	imgs := opts.Images
	if imgs == nil {
		imgs = images.MustDefault()
	}
	scoped, err := gotool.Scope(ctx, client, src, opts.Dir)
	if err != nil {
		return nil, err
	}
	ctr := gotool.Container(client, scoped.Dir, gotool.Options{Images: imgs, Dir: opts.Dir, Env: opts.Env, Netrc: opts.Netrc})
	if opts.Race {
		ctr = ctr.WithEnvVariable("CGO_ENABLED", "1")
	} else {
		// the same as the build, so compiled packages are shared
		ctr = ctr.WithEnvVariable("CGO_ENABLED", "0")
	}
	ran := ctr.
		WithDirectory(outDir, client.Directory()).
		WithExec(args, dagger.ContainerWithExecOpts{
			RedirectStdout: outDir + "/test.json",
			Expect:         dagger.ReturnTypeAny,
		})
	code, err := ran.ExitCode(ctx)
	if err != nil {
		return nil, fmt.Errorf("running go test: %w", err)
	}
	out := ran.Directory(outDir)
	jsonFile := out.File("test.json")
	raw, err := jsonFile.Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading go test output: %w", err)
	}
	rep, err := ParseJSON([]byte(raw))
	if err != nil {
		stderr, _ := ran.Stderr(ctx)
		return nil, fmt.Errorf("%w (go test stderr: %s)", err, firstLines(stderr, 10))
	}
	if code != 0 && len(rep.Failing()) == 0 {
		// go test failed before any package ran (bad flag, no go.mod)
		stderr, _ := ran.Stderr(ctx)
		rep.BuildFailures["(go test)"] = strings.TrimSpace(stderr)
	}
	res := &Result{Report: rep, JSON: jsonFile, ExitCode: code}
	junit, err := rep.JUnit()
	if err != nil {
		return nil, err
	}
	res.JUnit = client.Directory().WithNewFile("junit.xml", string(junit)).File("junit.xml")
	if ok, _ := out.Exists(ctx, "coverage.out"); ok {
		res.Profile = out.File("coverage.out")
		prof, err := res.Profile.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the cover profile: %w", err)
		}
		if res.Coverage, err = ParseProfile([]byte(prof)); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Check turns a failed run into an error that names the failing tests.
func (r *Result) Check() error {
	if r.Passed() {
		return nil
	}
	failing := r.Report.Failing()
	if len(failing) == 0 {
		return fmt.Errorf("go test exited %d without naming a failing test; see the test output (test.json)", r.ExitCode)
	}
	const max = 10
	more := ""
	if len(failing) > max {
		more = fmt.Sprintf("\n  … and %d more (see junit.xml)", len(failing)-max)
		failing = failing[:max]
	}
	return fmt.Errorf("%d failing:\n  %s%s", len(r.Report.Failing()), strings.Join(failing, "\n  "), more)
}
