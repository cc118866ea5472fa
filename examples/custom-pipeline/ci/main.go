// Command ci is this application's pipeline as a plain Go program: paved's
// golden-path stages with the team's own smoke stage inserted after test.
//
//	dagger run go run ./ci
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/builder/golang"
	"github.com/paved-ci/paved/pipelines/golden"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "ci:", err)
		os.Exit(1)
	}
}

// Stages is the golden path's check list (native Go build) plus the
// smoke stage.
func Stages(opts golden.Options) ([]pipeline.Stage, error) {
	stages, err := golden.CheckStages(golang.Builder{}, opts)
	if err != nil {
		return nil, err
	}
	return pipeline.InsertAfter(stages, "test", Smoke{Port: 8080, Path: "/healthz"})
}

func run(ctx context.Context) error {
	client, err := dagger.Connect(ctx, dagger.WithLogOutput(os.Stderr))
	if err != nil {
		return err
	}
	defer client.Close()
	imgs, err := images.FromEnv(images.Options{})
	if err != nil {
		return err
	}
	// The source is the repository root (for git metadata); the app is
	// this folder inside it.
	root, dir, err := repoRoot()
	if err != nil {
		return err
	}
	// .gitignore keeps node_modules and build outputs out of the upload
	src := client.Host().Directory(root, dagger.HostDirectoryOpts{Gitignore: true})
	git, err := golden.Git(ctx, client, src, imgs, golden.GitOverride{})
	if err != nil {
		return err
	}
	opts := golden.Options{App: builder.Options{Dir: dir, Main: "./cmd/quote", Images: imgs}}
	stages, err := Stages(opts)
	if err != nil {
		return err
	}
	st := pipeline.NewState(client, src, imgs, git)
	runErr := pipeline.Run(ctx, stages, st)
	fmt.Print(golden.Summary(st.Results))
	return runErr
}

// repoRoot finds the git root above the working directory and the app's
// folder relative to it.
func repoRoot() (root, dir string, err error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			rel, err := filepath.Rel(d, wd)
			return d, filepath.ToSlash(rel), err
		}
		if filepath.Dir(d) == d {
			return "", "", fmt.Errorf("%s is not inside a git repository", wd)
		}
	}
}
