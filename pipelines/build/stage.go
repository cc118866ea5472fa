package build

import (
	"context"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/pipeline"
)

// Stage is the native Go build stage.
type Stage struct {
	Opts GoOptions
}

func (Stage) String() string { return "build" }

// Skip never skips: every later stage needs the image.
func (Stage) Skip(*pipeline.State) (bool, string) { return false, "" }

// Run builds the variants and leaves them in the state.
func (s Stage) Run(ctx context.Context, st *pipeline.State) error {
	opts := s.Opts
	if opts.Images == nil {
		opts.Images = st.Images
	}
	p, err := NewPlan(opts, st.Git)
	if err != nil {
		return err
	}
	variants, err := Go(ctx, st.Client, st.Source, p, opts)
	if err != nil {
		return err
	}
	st.Variants = variants
	return nil
}

// DockerStage is the Dockerfile build stage (any language).
type DockerStage struct {
	Opts DockerOptions
	// Secrets are build secrets (RUN --mount=type=secret).
	Secrets []*dagger.Secret
}

func (DockerStage) String() string { return "build" }

// Skip never skips: every later stage needs the image.
func (DockerStage) Skip(*pipeline.State) (bool, string) { return false, "" }

// Run builds the variants and leaves them in the state.
func (s DockerStage) Run(ctx context.Context, st *pipeline.State) error {
	p, err := NewDockerPlan(s.Opts, st.Git)
	if err != nil {
		return err
	}
	variants, err := Dockerfile(ctx, st.Source, p, s.Secrets)
	if err != nil {
		return err
	}
	st.Variants = variants
	return nil
}
