package build

import (
	"context"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/pipeline"
)

// Stage is the native Go build stage.
type Stage struct {
	Opts GoOptions
	// Compiled, when set, is signalled once the packages of the platform
	// the toolchain runs on are compiled (see HeadStart).
	Compiled *pipeline.Signal
}

func (Stage) String() string { return "build" }

// Skip never skips: every later stage needs the image.
func (Stage) Skip(*pipeline.State) (bool, string) { return false, "" }

// Start compiles while git is read: Run then only links (HeadStart).
func (s Stage) Start(ctx context.Context, st *pipeline.State) pipeline.Stage {
	s.Compiled.Arm()
	head := make(chan struct{})
	go func() {
		defer close(head)
		HeadStart(ctx, st.Client, st.Source, s.options(st), s.Compiled.Done)
	}()
	return started{Stage: s, head: head}
}

// started is the build after Start: Run waits for the head start, then
// links. Its time runs until the link is done.
type started struct {
	Stage
	head chan struct{}
}

func (s started) Run(ctx context.Context, st *pipeline.State) error {
	select {
	case <-s.head:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Stage.Run(ctx, st)
}

func (s Stage) options(st *pipeline.State) GoOptions {
	opts := s.Opts
	if opts.Images == nil {
		opts.Images = st.Images
	}
	return opts
}

// Run builds the variants and leaves them in the state.
func (s Stage) Run(ctx context.Context, st *pipeline.State) error {
	opts := s.options(st)
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
