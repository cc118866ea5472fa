// Package dockerfile is the Dockerfile builder, for apps in any language:
// the final stage is the image, a stage named test (or a test command)
// runs the tests.
package dockerfile

import (
	"context"
	"path"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/build"
	"github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/test"
)

// Builder builds an app from its Dockerfile.
type Builder struct{}

func (Builder) Name() string { return "dockerfile" }

func (Builder) Flags() []string {
	return []string{builder.FlagDockerfile, builder.FlagBuildArgs, builder.FlagBuildSecrets, builder.FlagTestCommand}
}

func file(o builder.Options) string {
	if o.Dockerfile == "" {
		return "Dockerfile"
	}
	return o.Dockerfile
}

// Detect matches a folder with the Dockerfile (--dockerfile, default
// Dockerfile). A path outside the folder is refused here, before any
// lookup, so the error says so instead of "not found".
func (b Builder) Detect(ctx context.Context, src *dagger.Directory, o builder.Options) (string, error) {
	if _, err := b.plan(o); err != nil && o.Dockerfile != "" {
		return "", err
	}
	df := path.Join(gotool.CleanDir(o.Dir), file(o))
	ok, err := builder.Exists(ctx, src, df)
	if err != nil || ok {
		return "", err
	}
	return "no " + df + " in the source", nil
}

func (Builder) plan(o builder.Options) (*build.DockerPlan, error) {
	return build.NewDockerPlan(docker(o), gitmeta.Info{Commit: strings.Repeat("0", 40)})
}

func docker(o builder.Options) build.DockerOptions {
	return build.DockerOptions{Dir: o.Dir, Dockerfile: o.Dockerfile, BuildArgs: o.BuildArgs, Platforms: o.Platforms, Version: o.Version}
}

// Stages are build and test; the test stage gets the same build args and
// secrets as the build.
func (b Builder) Stages(o builder.Options) ([]pipeline.Stage, error) {
	p, err := b.plan(o)
	if err != nil {
		return nil, err
	}
	return []pipeline.Stage{
		build.DockerStage{Opts: docker(o), Secrets: o.BuildSecrets},
		test.DockerStage{Opts: test.DockerOptions{
			Dir: o.Dir, Dockerfile: o.Dockerfile, Command: o.TestCommand,
			BuildArgs: p.BuildArgs, Secrets: o.BuildSecrets,
		}},
	}, nil
}
