package test

import (
	"context"

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
	res, err := Go(ctx, st.Client, st.Source, s.options(st))
	if err != nil {
		return err
	}
	return record(st, res)
}

// Start runs the tests alongside the stages before this one: they need the
// source, not the build.
func (s Stage) Start(ctx context.Context, st *pipeline.State) pipeline.Stage {
	opts := s.options(st)
	return pipeline.Early(ctx, st, s, func(ctx context.Context) (*Result, error) {
		return Go(ctx, st.Client, st.Source, opts)
	}, record)
}

func (s Stage) options(st *pipeline.State) Options {
	opts := s.Opts
	if opts.Images == nil {
		opts.Images = st.Images
	}
	return opts
}

// record leaves the reports in the state; failing tests fail the stage.
func record(st *pipeline.State, res *Result) error {
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
	_, err := Lint(ctx, st.Client, st.Source, l.options(st))
	return err
}

// Start runs golangci-lint alongside the build: it reads the source only.
func (l LintStage) Start(ctx context.Context, st *pipeline.State) pipeline.Stage {
	opts := l.options(st)
	return pipeline.Early(ctx, st, l, func(ctx context.Context) (string, error) {
		return Lint(ctx, st.Client, st.Source, opts)
	}, func(*pipeline.State, string) error { return nil })
}

func (l LintStage) options(st *pipeline.State) LintOptions {
	opts := l.Opts
	if opts.Images == nil {
		opts.Images = st.Images
	}
	return opts
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
	return recordDocker(st, res)
}

// Start builds the test target alongside the image: the engine shares the
// stages they have in common.
func (s DockerStage) Start(ctx context.Context, st *pipeline.State) pipeline.Stage {
	return pipeline.Early(ctx, st, s, func(ctx context.Context) (*DockerResult, error) {
		return Dockerfile(ctx, st.Source, s.Opts)
	}, recordDocker)
}

func recordDocker(st *pipeline.State, res *DockerResult) error {
	if res.JUnit != nil {
		st.AddReport("junit", res.JUnit)
	}
	return res.Check()
}
