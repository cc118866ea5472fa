package test

import (
	"context"
	"fmt"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/images"
)

// LintCacheKey is golangci-lint's own cache volume.
const LintCacheKey = "paved-golangci-lint"

// LintOptions configure golangci-lint.
type LintOptions struct {
	Dir string
	// Env is toolchain environment (GOPROXY, GOPRIVATE, ...); no secrets.
	Env     map[string]string
	Netrc   *dagger.Secret
	Timeout string // default 5m
	Images  *images.Set
}

// Lint runs golangci-lint (pinned image) with the Go caches mounted. It
// uses the repository's own .golangci.yml when there is one.
func Lint(ctx context.Context, client *dagger.Client, src *dagger.Directory, opts LintOptions) (string, error) {
	imgs := opts.Images
	if imgs == nil {
		imgs = images.MustDefault()
	}
	timeout := opts.Timeout
	if timeout == "" {
		timeout = "5m"
	}
	if err := gotool.CheckDir(opts.Dir); err != nil {
		return "", err
	}
	scoped, err := gotool.Scope(ctx, client, src, opts.Dir)
	if err != nil {
		return "", err
	}
	out, err := gotool.WithNetrc(gotool.WithEnv(client.Container().
		From(imgs.Ref(images.GolangciLint)), opts.Env), opts.Netrc).
		WithMountedCache(gotool.ModCachePath, client.CacheVolume(gotool.ModCacheKey)).
		WithMountedCache(gotool.BuildCachePath, client.CacheVolume(gotool.BuildCacheKey)).
		WithMountedCache("/root/.cache/golangci-lint", client.CacheVolume(LintCacheKey)).
		WithEnvVariable("GOMODCACHE", gotool.ModCachePath).
		WithEnvVariable("GOCACHE", gotool.BuildCachePath).
		WithEnvVariable("GOFLAGS", gotool.Flags).
		WithMountedDirectory(gotool.SrcPath, scoped.Dir).
		WithWorkdir(gotool.Workdir(opts.Dir)).
		WithExec([]string{"golangci-lint", "run", "--timeout=" + timeout, "./..."}).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("golangci-lint found problems: %w", err)
	}
	return out, nil
}
