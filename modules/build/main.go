// Build compiles Go applications into minimal, non-root, multi-platform
// container images with paved's build stage.
package main

import (
	"context"

	"dagger/build/internal/dagger"

	"github.com/paved-ci/paved/pipelines/bridge"
	"github.com/paved-ci/paved/pipelines/build"
	"github.com/paved-ci/paved/pipelines/golden"
)

// Build is paved's build stage.
type Build struct{}

// Go cross-compiles a static binary per platform (CGO off, -trimpath,
// version and commit from git in -ldflags) and packages each onto the
// runtime base image as a non-root container labelled with its commit.
// Returns one container per platform, ready for a multi-platform publish.
func (m *Build) Go(
	ctx context.Context,
	// Repository root, with .git: the version, commit and commit time come from git.
	source *dagger.Directory,
	// Folder of the Go module inside source (monorepos), e.g. services/api.
	// +optional
	dir string,
	// Main package relative to the Go module, e.g. ./cmd/server.
	// +default="."
	main string,
	// Executable name; default: the main package's folder name.
	// +optional
	binary string,
	// Platforms to build; default linux/amd64 and linux/arm64.
	// +optional
	platforms []string,
	// Go build tags.
	// +optional
	tags []string,
	// Extra -ldflags, appended to paved's (-s -w -X main.version=...).
	// +optional
	ldflags []string,
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
	// Version to stamp instead of the one git describes (e.g. 1.4.2).
	// +optional
	version string,
	// Commit to stamp when source has no .git (with commitTime).
	// +optional
	commit string,
	// Commit time (Unix seconds or RFC 3339) when source has no .git.
	// +optional
	commitTime string,
	// Tool image overrides as name=reference, e.g. go=mirror.example.com/golang:1.26.
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default image, e.g. mirror.example.com/hub.
	// +optional
	imageMirror string,
	// Images file: a JSON object from image name to reference.
	// +optional
	imagesFile *dagger.File,
) (*Built, error) {
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
	git, err := golden.Git(ctx, lib, src, imgs, golden.GitOverride{Version: version, Commit: commit, CommitTime: commitTime})
	if err != nil {
		return nil, err
	}
	env, netrcSecret, err := bridge.GoModules(ctx, lib, goproxy, goprivate, gonosumdb, netrc)
	if err != nil {
		return nil, err
	}
	opts := build.GoOptions{Dir: dir, Main: main, Binary: binary, Platforms: platforms, Tags: tags, Ldflags: ldflags, Env: env, Netrc: netrcSecret, Images: imgs}
	plan, err := build.NewPlan(opts, git)
	if err != nil {
		return nil, err
	}
	variants, err := build.Go(ctx, lib, src, plan, opts)
	if err != nil {
		return nil, err
	}
	ids, err := bridge.IDsOf(ctx, variants)
	if err != nil {
		return nil, err
	}
	out := &Built{}
	for i, id := range ids {
		out.Variants = append(out.Variants, dag.LoadContainerFromID(dagger.ContainerID(id)))
		out.Platforms = append(out.Platforms, plan.Steps[i].Platform.String())
	}
	return out, nil
}

// Built is what go returns: the image, one container per platform. An
// object rather than a bare list, because Dagger v0.21.9's Go code
// generator writes a list-returning function named Go as `type go struct`
// in every module that depends on this one, which does not compile.
type Built struct {
	// One container per platform, in the order of Platforms.
	Variants []*dagger.Container
	// The platforms built, e.g. linux/amd64.
	Platforms []string
}

// Version prints the version paved would stamp on a build of source.
func (m *Build) Version(
	ctx context.Context,
	// Repository root, with .git.
	source *dagger.Directory,
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
	git, err := build.GitInfo(ctx, lib, src, imgs)
	if err != nil {
		return "", err
	}
	return git.Version(), nil
}
