// Package golang is the native Go builder: cross-compiled static binaries
// on a distroless base, golangci-lint and go test in the toolchain image.
package golang

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

// Builder builds a Go module.
type Builder struct{}

func (Builder) Name() string { return "go" }

func (Builder) Flags() []string {
	return []string{builder.FlagMain, builder.FlagBuildTags, builder.FlagRace, builder.FlagLint, builder.FlagGoEnv, builder.FlagNetrc}
}

// Detect matches a folder with a go.mod.
func (Builder) Detect(ctx context.Context, src *dagger.Directory, o builder.Options) (string, error) {
	mod := path.Join(gotool.CleanDir(o.Dir), "go.mod")
	ok, err := builder.Exists(ctx, src, mod)
	if err != nil || ok {
		return "", err
	}
	return "no " + mod + " in the source", nil
}

// Stages are build, lint (skipped unless asked for) and test.
func (Builder) Stages(o builder.Options) ([]pipeline.Stage, error) {
	if err := gotool.CheckDir(o.Dir); err != nil {
		return nil, err
	}
	if err := gotool.CheckEnv(o.Env); err != nil {
		return nil, err
	}
	bo := build.GoOptions{Dir: o.Dir, Main: o.Main, Platforms: o.Platforms, Tags: o.Tags, Env: o.Env, Netrc: o.Netrc, Version: o.Version, Images: o.Images}
	// every check of the plan, without an engine (the commit comes later)
	if _, err := build.NewPlan(bo, gitmeta.Info{Commit: strings.Repeat("0", 40)}); err != nil {
		return nil, err
	}
	to := test.Options{Dir: o.Dir, Race: o.Race, Tags: o.Tags, Env: o.Env, Netrc: o.Netrc, Images: o.Images}
	if _, err := test.Args(to); err != nil {
		return nil, err
	}
	return []pipeline.Stage{
		build.Stage{Opts: bo},
		test.LintStage{Opts: test.LintOptions{Dir: o.Dir, Env: o.Env, Netrc: o.Netrc, Images: o.Images}, Enabled: o.Lint},
		test.Stage{Opts: to},
	}, nil
}
