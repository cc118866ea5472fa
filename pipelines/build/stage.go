package build

import (
	"context"

	"github.com/paved-ci/paved/pipelines/pipeline"
)

// Stage is the build stage of a pipeline: a native Go build.
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
