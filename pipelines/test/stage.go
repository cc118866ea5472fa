package test

import (
	"context"
	"fmt"

	"github.com/paved-ci/paved/pipelines/pipeline"
)

// Stage runs the Go tests and leaves junit and coverage reports in the
// state.
type Stage struct {
	Opts Options
}

func (Stage) String() string { return "test" }

// Skip never skips on its own; a user skips the stage by name.
func (Stage) Skip(*pipeline.State) (bool, string) { return false, "" }

// Run runs the tests; failing tests fail the stage, naming them.
func (s Stage) Run(ctx context.Context, st *pipeline.State) error {
	opts := s.Opts
	if opts.Images == nil {
		opts.Images = st.Images
	}
	res, err := Go(ctx, st.Client, st.Source, opts)
	if err != nil {
		return err
	}
	st.AddReport("junit", res.JUnit)
	st.AddReport("test-json", res.JSON)
	if res.Profile != nil {
		st.AddReport("coverage", res.Profile)
	}
	return res.Check()
}

// LintStage runs golangci-lint. It is off unless Enabled.
type LintStage struct {
	Opts    LintOptions
	Enabled bool
}

func (LintStage) String() string { return "lint" }

// Skip skips unless lint was asked for.
func (l LintStage) Skip(*pipeline.State) (bool, string) {
	if !l.Enabled {
		return true, "lint not enabled (set lint=true)"
	}
	return false, ""
}

// Run runs golangci-lint.
func (l LintStage) Run(ctx context.Context, st *pipeline.State) error {
	opts := l.Opts
	if opts.Images == nil {
		opts.Images = st.Images
	}
	if _, err := Lint(ctx, st.Client, st.Source, opts); err != nil {
		return fmt.Errorf("%w", err)
	}
	return nil
}

// DockerStage runs the tests of a Dockerfile app.
type DockerStage struct {
	Opts DockerOptions
}

func (DockerStage) String() string { return "test" }

// Skip never skips on its own.
func (DockerStage) Skip(*pipeline.State) (bool, string) { return false, "" }

// Run builds the test target (or runs the test command) and keeps the
// JUnit report when the tests leave one.
func (s DockerStage) Run(ctx context.Context, st *pipeline.State) error {
	res, err := Dockerfile(ctx, st.Source, s.Opts)
	if err != nil {
		return err
	}
	if res.JUnit != nil {
		st.AddReport("junit", res.JUnit)
	}
	return res.Check()
}
