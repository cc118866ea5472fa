// Test runs a Go application's tests with paved's test stage: the same
// toolchain image, caches and flags as the build, with JUnit XML and
// coverage returned as files.
package main

import (
	"context"

	"dagger/test/internal/dagger"

	"github.com/paved-ci/paved/pipelines/bridge"
	gotest "github.com/paved-ci/paved/pipelines/test"
)

// Test is paved's test stage.
type Test struct{}

// Report is the outcome of a test run.
type Report struct {
	// Whether every test passed.
	Passed bool
	// One line per failing test ("TestX (package)"), empty when all passed.
	Failing []string
	// Number of tests run (subtests included).
	Tests int
	// Number of failing tests.
	Failures int
	// Number of skipped tests.
	Skipped int
	// Statement coverage in percent.
	Coverage float64
	// JUnit XML report.
	Junit *dagger.File
	// go test -coverprofile output.
	CoverageProfile *dagger.File
	// Raw go test -json stream.
	TestJson *dagger.File
}

// Go runs go test -json over the module's packages. A failing test fails
// the call with the names of the failing tests, unless continueOnFailure is
// set (then read Passed and Failing from the report).
func (m *Test) Go(
	ctx context.Context,
	// Repository root or Go module folder.
	source *dagger.Directory,
	// Folder of the Go module inside source.
	// +optional
	dir string,
	// Packages to test; default ./...
	// +optional
	packages []string,
	// Run with the race detector.
	// +optional
	race bool,
	// Go build tags.
	// +optional
	tags []string,
	// Only tests matching this regexp (go test -run).
	// +optional
	run string,
	// Pass -short.
	// +optional
	short bool,
	// go test -timeout, e.g. 10m.
	// +optional
	timeout string,
	// Go module proxy for the toolchain (GOPROXY), e.g. https://goproxy.example.com,direct.
	// +optional
	goproxy string,
	// Private module path patterns (GOPRIVATE), e.g. github.com/acme/*.
	// +optional
	goprivate string,
	// Modules not checked against the checksum database (GONOSUMDB).
	// +optional
	gonosumdb string,
	// netrc file with credentials for private modules (proxy or git over https), as a secret.
	// +optional
	netrc *dagger.Secret,
	// Return the report instead of failing when tests fail.
	// +optional
	continueOnFailure bool,
	// Tool image overrides as name=reference, e.g. go=mirror.example.com/golang:1.26.
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default image.
	// +optional
	imageMirror string,
	// Images file: a JSON object from image name to reference.
	// +optional
	imagesFile *dagger.File,
) (*Report, error) {
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	imgs, err := bridge.ImageSet(ctx, lib, imageOverride, imageMirror, imagesFile)
	if err != nil {
		return nil, err
	}
	src, err := bridge.Directory(ctx, lib, source)
	if err != nil {
		return nil, err
	}
	env, netrcSecret, err := bridge.GoModules(ctx, lib, goproxy, goprivate, gonosumdb, netrc)
	if err != nil {
		return nil, err
	}
	res, err := gotest.Go(ctx, lib, src, gotest.Options{Dir: dir, Packages: packages, Race: race, Tags: tags, Run: run, Short: short, Timeout: timeout, Env: env, Netrc: netrcSecret, Images: imgs})
	if err != nil {
		return nil, err
	}
	if err := res.Check(); err != nil && !continueOnFailure {
		return nil, err
	}
	rep := &Report{Passed: res.Passed(), Failing: res.Report.Failing(), Coverage: res.Coverage.Percent()}
	rep.Tests, rep.Failures, rep.Skipped = res.Report.Counts()
	if rep.Junit, err = loadFile(ctx, res.JUnit); err != nil {
		return nil, err
	}
	if rep.TestJson, err = loadFile(ctx, res.JSON); err != nil {
		return nil, err
	}
	if res.Profile != nil {
		if rep.CoverageProfile, err = loadFile(ctx, res.Profile); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// Lint runs golangci-lint (pinned image) with the repository's own
// configuration, and fails on findings.
func (m *Test) Lint(
	ctx context.Context,
	// Repository root or Go module folder.
	source *dagger.Directory,
	// Folder of the Go module inside source.
	// +optional
	dir string,
	// golangci-lint --timeout.
	// +default="5m"
	timeout string,
	// Go module proxy for the toolchain (GOPROXY), e.g. https://goproxy.example.com,direct.
	// +optional
	goproxy string,
	// Private module path patterns (GOPRIVATE), e.g. github.com/acme/*.
	// +optional
	goprivate string,
	// Modules not checked against the checksum database (GONOSUMDB).
	// +optional
	gonosumdb string,
	// netrc file with credentials for private modules (proxy or git over https), as a secret.
	// +optional
	netrc *dagger.Secret,
	// Tool image overrides as name=reference.
	// +optional
	imageOverride []string,
) (string, error) {
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer lib.Close()
	imgs, err := bridge.ImageSet(ctx, lib, imageOverride, "", (*dagger.File)(nil))
	if err != nil {
		return "", err
	}
	src, err := bridge.Directory(ctx, lib, source)
	if err != nil {
		return "", err
	}
	env, netrcSecret, err := bridge.GoModules(ctx, lib, goproxy, goprivate, gonosumdb, netrc)
	if err != nil {
		return "", err
	}
	return gotest.Lint(ctx, lib, src, gotest.LintOptions{Dir: dir, Timeout: timeout, Env: env, Netrc: netrcSecret, Images: imgs})
}

func loadFile[I ~string, T interface {
	ID(context.Context) (I, error)
}](ctx context.Context, f T) (*dagger.File, error) {
	id, err := bridge.IDOf(ctx, f)
	if err != nil {
		return nil, err
	}
	return dag.LoadFileFromID(dagger.FileID(id)), nil
}
