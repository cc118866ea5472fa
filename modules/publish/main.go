// Publish puts a multi-platform image under the tags paved's rules give
// (from git, or from the CI ref passed as arguments) in one or more
// registries, or in an embedded ephemeral registry when none is given.
package main

import (
	"context"
	"errors"

	"dagger/publish/internal/dagger"

	pdagger "dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/bridge"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/golden"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/publish"
	"github.com/paved-ci/paved/pipelines/tags"
)

// Publish is paved's publish stage.
type Publish struct {
	// Credentials chained with with-registry-auth, in parallel lists of
	// core types (they persist between chained calls).
	// +private
	AuthRegistries []string
	// +private
	AuthUsernames []string
	// +private
	AuthSecrets []*dagger.Secret
}

// Published is what a publish wrote.
type Published struct {
	// Reference by digest of the first repository: repo@sha256:...
	Ref string
	// Digest of the multi-platform index.
	Digest string
	// Every repo:tag written (or already at the digest).
	Tags []string
	// Platforms of the index, e.g. linux/amd64.
	Platforms []string
	// Whether the image went to the embedded registry, which lives only as
	// long as the Dagger session.
	Ephemeral bool
}

// WithRegistryAuth adds a credential for one registry; chain it once per
// registry before publish. The secret stays a secret: only the engine and
// paved's registry client in this module read it.
func (m *Publish) WithRegistryAuth(
	// Registry host, e.g. ghcr.io or registry.example.com:5000 (docker.io for Docker Hub).
	address string,
	// Registry username.
	username string,
	// Password or token, e.g. env:GHCR_TOKEN.
	secret *dagger.Secret,
) *Publish {
	return &Publish{
		AuthRegistries: append(append([]string(nil), m.AuthRegistries...), address),
		AuthUsernames:  append(append([]string(nil), m.AuthUsernames...), username),
		AuthSecrets:    append(append([]*dagger.Secret(nil), m.AuthSecrets...), secret),
	}
}

// Tags previews the tags a publish of source would write, and why, as a
// Markdown table. Nothing is pushed.
func (m *Publish) Tags(
	ctx context.Context,
	// Repository root, with .git (branch, tags and commit come from git).
	source *dagger.Directory,
	// The CI's ref, e.g. refs/heads/main, refs/tags/v1.2.3, refs/pull/42/merge
	// ($GITHUB_REF) or refs/merge-requests/7/head; a bare name is a branch.
	// +optional
	gitRef string,
	// Pull/merge request number ($CI_MERGE_REQUEST_IID on GitLab).
	// +optional
	prNumber string,
	// The repository's default branch ($CI_DEFAULT_BRANCH).
	// +optional
	defaultBranch string,
	// Extra tags, as given.
	// +optional
	extraTag []string,
	// Prefix for every generated tag.
	// +optional
	tagPrefix string,
	// Suffix for every generated tag, e.g. -debug.
	// +optional
	tagSuffix string,
	// Let a shallow clone's tags decide latest, X and X.Y.
	// +optional
	trustShallowTags bool,
	// Version to release instead of the one git describes (e.g. 1.4.2).
	// +optional
	version string,
	// Commit when source has no .git (with commitTime).
	// +optional
	commit string,
	// Commit time (Unix seconds or RFC 3339) when source has no .git.
	// +optional
	commitTime string,
	// Tool image overrides as name=reference, e.g. go=mirror.example.com/golang:1.26 (git runs in it).
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default image.
	// +optional
	imageMirror string,
	// Images file: a JSON object from image name to reference.
	// +optional
	imagesFile *dagger.File,
) (string, error) {
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer lib.Close()
	imgs, err := bridge.ImageSet(ctx, lib, imageOverride, imageMirror, imagesFile)
	if err != nil {
		return "", err
	}
	git, err := gitInfo(ctx, lib, source, imgs, golden.GitOverride{Version: version, Commit: commit, CommitTime: commitTime})
	if err != nil {
		return "", err
	}
	plan, err := tags.For(git, nil, tags.Args{GitRef: gitRef, PullRequest: prNumber, DefaultBranch: defaultBranch},
		tags.Options{Extra: extraTag, Prefix: tagPrefix, Suffix: tagSuffix, TrustShallowTags: trustShallowTags})
	if err != nil {
		return "", err
	}
	return plan.Markdown(), nil
}

// Publish pushes the platform variants once, as one multi-platform index,
// and writes every tag in every repository (layers are never uploaded
// twice). Without --image it publishes to an embedded registry that
// lives only for this call. Release tags (1.2.3, sha-…) are never moved to
// another image unless allowOverwrite is set.
// +cache="never"
func (m *Publish) Publish(
	ctx context.Context,
	// The image: one container per platform (build go returns them).
	variants []*dagger.Container,
	// Repository root, with .git: the tags come from git. Optional when
	// commit and commitTime are given.
	// +optional
	source *dagger.Directory,
	// Image repository to publish to, with its registry host and without a
	// tag, e.g. ghcr.io/acme/hello; repeat for more (the first receives the
	// push, the others a copy). None: the embedded ephemeral registry.
	// +optional
	image []string,
	// Username for the registry of the first --image.
	// +optional
	registryUsername string,
	// Password or token for the registry of the first --image, e.g. env:GHCR_TOKEN.
	// +optional
	registryPassword *dagger.Secret,
	// Docker config.json with "auths" entries, e.g. file:$HOME/.docker/config.json
	// (credential helpers cannot run in the module).
	// +optional
	dockerConfig *dagger.Secret,
	// Move release tags that already point at another image.
	// +optional
	allowOverwrite bool,
	// The CI's ref, e.g. refs/heads/main, refs/tags/v1.2.3, refs/pull/42/merge.
	// +optional
	gitRef string,
	// Pull/merge request number.
	// +optional
	prNumber string,
	// The repository's default branch.
	// +optional
	defaultBranch string,
	// Extra tags, as given.
	// +optional
	extraTag []string,
	// Prefix for every generated tag.
	// +optional
	tagPrefix string,
	// Suffix for every generated tag, e.g. -debug.
	// +optional
	tagSuffix string,
	// Let a shallow clone's tags decide latest, X and X.Y.
	// +optional
	trustShallowTags bool,
	// Version to release instead of the one git describes.
	// +optional
	version string,
	// Commit when source has no .git (with commitTime).
	// +optional
	commit string,
	// Commit time (Unix seconds or RFC 3339) when source has no .git.
	// +optional
	commitTime string,
	// Repository name in the embedded registry; default from the git remote.
	// +optional
	name string,
	// CA certificate(s), PEM, of a registry with a private CA, trusted besides the system roots.
	// +optional
	registryCa *dagger.File,
	// Registry hosts spoken to over plain HTTP (explicit opt-in), e.g. registry.internal:5000.
	// +optional
	insecureRegistry []string,
	// Tool image overrides as name=reference, e.g. registry=mirror.example.com/registry:3.
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default image.
	// +optional
	imageMirror string,
	// Images file: a JSON object from image name to reference.
	// +optional
	imagesFile *dagger.File,
) (*Published, error) {
	if len(m.AuthRegistries) != len(m.AuthUsernames) || len(m.AuthRegistries) != len(m.AuthSecrets) {
		return nil, errors.New("with-registry-auth: credentials out of step; chain with-registry-auth --address --username --secret once per registry")
	}
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	imgs, err := bridge.ImageSet(ctx, lib, imageOverride, imageMirror, imagesFile)
	if err != nil {
		return nil, err
	}

	args := publish.AuthArgs{Repos: image, Username: registryUsername}
	if registryPassword != nil {
		if args.Password, err = bridge.Secret(ctx, lib, registryPassword); err != nil {
			return nil, err
		}
	}
	for i, reg := range m.AuthRegistries {
		var sec *pdagger.Secret
		if m.AuthSecrets[i] != nil {
			if sec, err = bridge.Secret(ctx, lib, m.AuthSecrets[i]); err != nil {
				return nil, err
			}
		}
		args.Chained = append(args.Chained, publish.RegistryAuth{Registry: reg, Username: m.AuthUsernames[i], Secret: sec})
	}
	auth, err := args.Resolve()
	if err != nil {
		return nil, err
	}
	var cfg *pdagger.Secret
	if dockerConfig != nil {
		if cfg, err = bridge.Secret(ctx, lib, dockerConfig); err != nil {
			return nil, err
		}
	}
	vs := make([]*pdagger.Container, len(variants))
	for i, v := range variants {
		if vs[i], err = bridge.Container(ctx, lib, v); err != nil {
			return nil, err
		}
	}
	git, err := gitInfo(ctx, lib, source, imgs, golden.GitOverride{Version: version, Commit: commit, CommitTime: commitTime})
	if err != nil {
		return nil, err
	}
	ca, err := bridge.FileBytes(ctx, lib, "registry-ca", registryCa)
	if err != nil {
		return nil, err
	}
	img, err := publish.Ship(ctx, lib, vs, publish.ShipOptions{
		CA:             ca,
		Insecure:       insecureRegistry,
		Repos:          image,
		Tags:           tags.Options{Extra: extraTag, Prefix: tagPrefix, Suffix: tagSuffix, TrustShallowTags: trustShallowTags},
		RefArgs:        tags.Args{GitRef: gitRef, PullRequest: prNumber, DefaultBranch: defaultBranch},
		Auth:           auth,
		DockerConfig:   cfg,
		AllowOverwrite: allowOverwrite,
		AuthHint:       publish.AuthHint,
		Name:           name,
		Git:            git,
		Images:         imgs,
	})
	if err != nil {
		return nil, err
	}
	return &Published{Ref: img.Ref, Digest: img.Digest, Tags: img.Tags, Platforms: img.Platforms, Ephemeral: img.Ephemeral}, nil
}

// Tarball returns the variants as one OCI image-layout tarball with a
// multi-platform index, for pushing later (skopeo copy --all
// oci-archive:...) or archiving.
func (m *Publish) Tarball(
	ctx context.Context,
	// The image: one container per platform.
	variants []*dagger.Container,
) (*dagger.File, error) {
	if len(variants) == 0 {
		return nil, errors.New("variants: give at least one container (build go returns one per platform)")
	}
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	vs := make([]*pdagger.Container, len(variants))
	for i, v := range variants {
		if vs[i], err = bridge.Container(ctx, lib, v); err != nil {
			return nil, err
		}
	}
	id, err := bridge.IDOf(ctx, publish.Tarball(lib, vs))
	if err != nil {
		return nil, err
	}
	return dag.LoadFileFromID(dagger.FileID(id)), nil
}

// gitInfo reads git metadata from source, or takes it from the overrides
// when source is not given.
func gitInfo(ctx context.Context, lib *pdagger.Client, source *dagger.Directory, imgs *images.Set, o golden.GitOverride) (gitmeta.Info, error) {
	if source == nil {
		if o.Commit == "" {
			return gitmeta.Info{}, errors.New("source: give the repository (--source .) so the tags come from git, or --commit and --commit-time")
		}
		return golden.OverrideInfo(o)
	}
	src, err := bridge.Directory(ctx, lib, source)
	if err != nil {
		return gitmeta.Info{}, err
	}
	return golden.Git(ctx, lib, src, imgs, o)
}
