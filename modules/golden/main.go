// Paved is the golden path for application teams: build, test (and, as
// the stages land, scan, sign and publish) with one call, the same on a
// laptop and in CI.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"dagger/golden/internal/dagger"

	daggerlib "dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/bridge"
	"github.com/paved-ci/paved/pipelines/build"
	buildopts "github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/golden"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/publish"
	"github.com/paved-ci/paved/pipelines/regconn"
	"github.com/paved-ci/paved/pipelines/scan"
)

// Paved is the golden-path module. Its constructor takes what every
// function shares, once: `dagger call --source=. --image-mirror=… check`.
// Each function still takes the same arguments, which win when given.
type Paved struct {
	// +private
	Source *dagger.Directory
	// +private
	ImageOverride []string
	// +private
	ImageMirror string
	// +private
	ImagesFile *dagger.File
	// +private
	Goproxy string
	// +private
	Goprivate string
	// +private
	Gonosumdb string
	// +private
	Netrc *dagger.Secret
	// +private
	RegistryCa *dagger.File
	// +private
	InsecureRegistry []string
}

// neverSources are folders that never belong in a build context; the
// default source also honours .gitignore. An explicit --source is taken
// whole: on Dagger v0.21 an +ignore on a Directory argument gives every exec
// under it a cache key that changes with any file of the tree (measured:
// a README edit re-ran the app's build), which defeats gotool.Scope.
var neverSources = []string{"**/node_modules", "**/.venv", "**/__pycache__", "**/.terraform"}

// New takes what every function shares. It takes no Workspace: Dagger
// caches a constructor call only when its arguments are the same, and an
// injected Workspace is new in every session, which cost every call one
// more run of the module (measured: 1.9 s of a 4.9 s call on a busy
// machine). The functions that need the workspace take it.
func New(
	// Repository root, with .git (version and commit come from git).
	// Default: the git repository dagger was called in, with .gitignore
	// honoured, and --dir defaults to the folder it was called from.
	// +optional
	source *dagger.Directory,
	// Tool image overrides as name=reference, e.g. go=mirror.example.com/golang:1.26.
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default image, e.g. mirror.example.com/hub.
	// +optional
	imageMirror string,
	// Images file: a JSON object from image name to reference.
	// +optional
	imagesFile *dagger.File,
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
	// CA certificate(s), PEM, of a registry with a private CA, trusted besides the system roots.
	// +optional
	registryCa *dagger.File,
	// Registry hosts spoken to over plain HTTP (explicit opt-in), e.g. registry.internal:5000.
	// +optional
	insecureRegistry []string,
) *Paved {
	return &Paved{
		Source: source, ImageOverride: imageOverride, ImageMirror: imageMirror, ImagesFile: imagesFile,
		Goproxy: goproxy, Goprivate: goprivate, Gonosumdb: gonosumdb, Netrc: netrc,
		RegistryCa: registryCa, InsecureRegistry: insecureRegistry,
	}
}

// sourceAndDir picks a function's source and app folder: its --source,
// the constructor's, else the workspace dagger was called in (read only
// then).
func (m *Paved) sourceAndDir(ctx context.Context, ws *dagger.Workspace, source *dagger.Directory, dir string) (*dagger.Directory, string, error) {
	o := bridge.Origin[*dagger.Directory]{Given: m.Source}
	if source == nil && m.Source == nil && ws != nil {
		p, err := ws.Path(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("reading the folder dagger was called in (pass --source=<repository root>): %w", err)
		}
		o.Workspace = ws.Directory("/", dagger.WorkspaceDirectoryOpts{Exclude: neverSources, Gitignore: true})
		o.WorkspacePath = p
	}
	return bridge.SourceAndDir(source, dir, o)
}

// Run is the outcome of a golden-path job.
type Run struct {
	// Whether every stage passed (skipped stages do not fail a run).
	Passed bool
	// One line per stage: name, status, duration, reason.
	Summary string
	// The first stage failure, empty when the run passed.
	Failure string
	// Results directory: results.json, junit.xml, coverage.out, test.json.
	// Export it for CI: `... results export --path=./paved-results`.
	Results *dagger.Directory
	// The built image, one container per platform.
	Variants []*dagger.Container
	// The built image as one OCI tarball with every platform
	// (tarball export --path=app.oci.tar); empty when the build failed.
	Tarball *dagger.File
	// ship only: the published image by digest (repo@sha256:...).
	Image string
	// ship only: the digest.
	Digest string
	// ship only: every repo:tag written.
	Tags []string
	// ship only: whether the registry was paved's ephemeral embedded one.
	Ephemeral bool
	// ship only: the signature's tag in the registry (sha256-<hex>.sig).
	Signature string
	// ship only: the public key that verifies the signature, when paved
	// signed with a key (for an ephemeral key: only valid for this run).
	PublicKey string
}

// Check is what a pull request runs: build the Go application for every
// platform, optionally lint, and run its tests. Nothing is published.
//
// Not served from Dagger's function cache across calls: the scan gate's
// answer depends on the day (a daily vulnerability DB, exceptions that
// expire). Build, test and the DB download stay cached by the engine.
// +cache="session"
func (m *Paved) Check(
	ctx context.Context,
	// The workspace dagger was called in (Dagger passes it): the default source.
	ws *dagger.Workspace,
	// Repository root, with .git (version and commit come from git).
	// Default: the constructor's --source, else the repository dagger was
	// called in.
	// +optional
	source *dagger.Directory,
	// Folder of the app inside source (monorepos), e.g. services/api.
	// Default: the folder dagger was called from, when source is the
	// repository dagger was called in.
	// +optional
	dir string,
	// Main package relative to the Go module, e.g. ./cmd/server.
	// +default="."
	main string,
	// Platforms to build; default linux/amd64 and linux/arm64.
	// +optional
	platforms []string,
	// Go build tags, for build and test.
	// +optional
	buildTags []string,
	// How to build: auto (a Dockerfile wins, else a go.mod), go (native
	// Go build, even beside a Dockerfile) or dockerfile (any language).
	// Options of another builder are refused, not ignored.
	// +default="auto"
	builder string,
	// Dockerfile path inside dir (default Dockerfile when present).
	// +optional
	dockerfile string,
	// Dockerfile build args as NAME=VALUE; names that look like secrets are refused.
	// +optional
	buildArgs []string,
	// Dockerfile build secrets (RUN --mount=type=secret,id=<secret name>).
	// +optional
	buildSecrets []*dagger.Secret,
	// Command that runs the tests of a Dockerfile app in its test stage.
	// +optional
	testCommand string,
	// Run the tests with the race detector.
	// +optional
	race bool,
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
	// Run golangci-lint before the tests.
	// +optional
	lint bool,
	// Stages to skip by name (lint, test, scan).
	// +optional
	skip []string,
	// Vulnerability severity at or above which the scan gate fails; may
	// only be stricter than the policy files (default: the policy's, HIGH).
	// +optional
	severity string,
	// Platform policy file (threshold, required scanners, maximum exception length).
	// +optional
	platformPolicy *dagger.File,
	// Mirror of trivy's vulnerability DB (--db-repository).
	// +optional
	dbRepository string,
	// Scan offline: use only the DB already in the cache volume.
	// +optional
	offline bool,
	// Also scan the source tree (secrets, misconfigurations, lock files).
	// +optional
	scanSource bool,
	// Folders the scan skips (globs, as trivy's --skip-dirs), e.g. **/testdata.
	// +optional
	skipDirs []string,
	// Files the scan skips (globs, as trivy's --skip-files), e.g. **/*.pem.
	// +optional
	skipFiles []string,
	// Version to stamp instead of the one git describes.
	// +optional
	version string,
	// Commit to stamp when source has no .git (with commitTime).
	// +optional
	commit string,
	// Commit time (Unix seconds or RFC 3339) when source has no .git.
	// +optional
	commitTime string,
	// Record a failing stage in the results instead of failing the call
	// (CI exports the results, then fails the job from them).
	// +optional
	continueOnFailure bool,
	// Tool image overrides as name=reference, e.g. go=mirror.example.com/golang:1.26.
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default image, e.g. mirror.example.com/hub.
	// +optional
	imageMirror string,
	// Images file: a JSON object from image name to reference.
	// +optional
	imagesFile *dagger.File,
) (*Run, error) {
	source, dir, err := m.sourceAndDir(ctx, ws, source, dir)
	if err != nil {
		return nil, err
	}
	opts := jobOptions(builder, buildopts.Options{
		Dir: dir, Platforms: platforms,
		Main: main, Tags: buildTags, Race: race, Lint: lint,
		Dockerfile: dockerfile, BuildArgs: buildArgs, TestCommand: testCommand,
	}, skip, golden.GitOverride{Version: version, Commit: commit, CommitTime: commitTime}, continueOnFailure)
	if opts.Scan, err = scanStage(ctx, severity, platformPolicy, scan.Options{DBRepository: dbRepository, Offline: offline, SkipDirs: skipDirs, SkipFiles: skipFiles}, scanSource); err != nil {
		return nil, err
	}
	// bad input fails here, before the library client connects and the
	// source is read
	if err := golden.ValidateArgs(opts); err != nil {
		return nil, err
	}
	lib, src, imgs, err := m.open(ctx, source, imageOverride, imageMirror, imagesFile)
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	if err := m.appSecrets(ctx, lib, &opts.App, buildSecrets, goproxy, goprivate, gonosumdb, netrc); err != nil {
		return nil, err
	}
	out, err := golden.Check(ctx, lib, src, imgs, opts)
	if err != nil {
		return nil, err
	}
	return newRun(ctx, lib, out)
}

// open starts what every job needs: the image table, a dagger.io/dagger
// client on this session, and the source as a library directory. Image
// arguments of the function win over the constructor's.
func (m *Paved) open(ctx context.Context, source *dagger.Directory, overrides []string, mirror string, file *dagger.File) (*daggerlib.Client, *daggerlib.Directory, *images.Set, error) {
	lib, imgs, err := m.images(ctx, overrides, mirror, file)
	if err != nil {
		return nil, nil, nil, err
	}
	src, err := bridge.Directory(ctx, lib, source)
	if err != nil {
		lib.Close()
		return nil, nil, nil, err
	}
	return lib, src, imgs, nil
}

// images connects the library client and builds the image table.
func (m *Paved) images(ctx context.Context, overrides []string, mirror string, file *dagger.File) (*daggerlib.Client, *images.Set, error) {
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	imgs, err := bridge.ImageSet(ctx, lib, bridge.OrList(overrides, m.ImageOverride), bridge.Or(mirror, m.ImageMirror), bridge.Or(file, m.ImagesFile))
	if err != nil {
		lib.Close()
		return nil, nil, err
	}
	return lib, imgs, nil
}

// jobOptions are the options check and ship share, from their arguments.
func jobOptions(builder string, app buildopts.Options, skip []string, git golden.GitOverride, continueOnFailure bool) golden.Options {
	return golden.Options{Builder: builder, App: app, Skip: skip, Git: git, ContinueOnFailure: continueOnFailure}
}

// appSecrets fills what the app's build needs through the library client:
// its build secrets and its Go module access.
func (m *Paved) appSecrets(ctx context.Context, lib *daggerlib.Client, app *buildopts.Options, buildSecrets []*dagger.Secret, proxy, private, noSumDB string, netrc *dagger.Secret) error {
	var err error
	if app.BuildSecrets, err = bridge.Secrets(ctx, lib, buildSecrets...); err != nil {
		return err
	}
	if app.BuildSecrets, err = bridge.BuildSecrets(ctx, lib, app.BuildSecrets); err != nil {
		return err
	}
	app.Env, app.Netrc, err = m.goModules(ctx, lib, proxy, private, noSumDB, netrc)
	return err
}

// goModules is the Go module access of a job: the function's flags, else
// the constructor's.
func (m *Paved) goModules(ctx context.Context, lib *daggerlib.Client, proxy, private, noSumDB string, netrc *dagger.Secret) (map[string]string, *daggerlib.Secret, error) {
	return bridge.GoModules(ctx, lib, bridge.Or(proxy, m.Goproxy), bridge.Or(private, m.Goprivate), bridge.Or(noSumDB, m.Gonosumdb), bridge.Or(netrc, m.Netrc))
}

// registryConn is the registry trust of a job: the function's flags, else
// the constructor's.
func (m *Paved) registryConn(ctx context.Context, lib *daggerlib.Client, ca *dagger.File, insecure []string) (regconn.Options, error) {
	b, err := bridge.FileBytes(ctx, lib, "registry-ca", bridge.Or(ca, m.RegistryCa))
	if err != nil {
		return regconn.Options{}, err
	}
	return regconn.Options{CA: b, Insecure: bridge.OrList(insecure, m.InsecureRegistry)}, nil
}

// newRun is the Run every job returns: outcome, summary, results, image.
func newRun(ctx context.Context, lib *daggerlib.Client, out *golden.Outcome) (*Run, error) {
	run := &Run{Passed: out.Err == nil, Summary: golden.Summary(out.State.Results)}
	if out.Err != nil {
		run.Failure = out.Err.Error()
	}
	var err error
	if run.Results, err = loadDirectory(ctx, out.Results); err != nil {
		return nil, err
	}
	if err := run.setImage(ctx, lib, out.State.Variants); err != nil {
		return nil, err
	}
	return run, nil
}

// setImage fills Variants and Tarball from the build's variants.
func (r *Run) setImage(ctx context.Context, lib *daggerlib.Client, variants []*daggerlib.Container) error {
	if len(variants) == 0 {
		return nil
	}
	var err error
	if r.Variants, err = loadContainers(ctx, variants); err != nil {
		return err
	}
	id, err := bridge.IDOf(ctx, publish.Tarball(lib, variants))
	if err != nil {
		return err
	}
	r.Tarball = dag.LoadFileFromID(dagger.FileID(id))
	return nil
}

// Version prints the version paved stamps on a build of source (from git).
func (m *Paved) Version(
	ctx context.Context,
	// The workspace dagger was called in (Dagger passes it): the default source.
	ws *dagger.Workspace,
	// Repository root, with .git. Default: the constructor's --source,
	// else the repository dagger was called in.
	// +optional
	source *dagger.Directory,
	// Tool image overrides as name=reference (git runs in the go image).
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default image.
	// +optional
	imageMirror string,
	// Images file: a JSON object from image name to reference.
	// +optional
	imagesFile *dagger.File,
) (string, error) {
	source, _, err := m.sourceAndDir(ctx, ws, source, "")
	if err != nil {
		return "", err
	}
	lib, src, imgs, err := m.open(ctx, source, imageOverride, imageMirror, imagesFile)
	if err != nil {
		return "", err
	}
	defer lib.Close()
	git, err := build.GitInfo(ctx, lib, src, imgs)
	if err != nil {
		return "", err
	}
	return git.Version(), nil
}

// Images lists every image paved uses after overrides, as JSON: what an
// air-gapped company mirrors.
func (m *Paved) Images(
	ctx context.Context,
	// Tool image overrides as name=reference.
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default image.
	// +optional
	imageMirror string,
	// Images file: a JSON object from image name to reference.
	// +optional
	imagesFile *dagger.File,
) (string, error) {
	lib, imgs, err := m.images(ctx, imageOverride, imageMirror, imagesFile)
	if err != nil {
		return "", err
	}
	defer lib.Close()
	b, err := json.MarshalIndent(imgs.All(), "", "  ")
	return string(b) + "\n", err
}

// loadDirectory brings a dagger.io/dagger directory back into the module.
func loadDirectory(ctx context.Context, d *daggerlib.Directory) (*dagger.Directory, error) {
	id, err := bridge.IDOf(ctx, d)
	if err != nil {
		return nil, err
	}
	return dag.LoadDirectoryFromID(dagger.DirectoryID(id)), nil
}

// loadContainers brings dagger.io/dagger containers back into the module.
func loadContainers(ctx context.Context, cs []*daggerlib.Container) ([]*dagger.Container, error) {
	ids, err := bridge.IDsOf(ctx, cs)
	if err != nil {
		return nil, err
	}
	out := make([]*dagger.Container, len(ids))
	for i, id := range ids {
		out[i] = dag.LoadContainerFromID(dagger.ContainerID(id))
	}
	return out, nil
}

// scanStage configures the scan stage from the module's arguments.
func scanStage(ctx context.Context, severity string, platformPolicy *dagger.File, opts scan.Options, source bool) (scan.Stage, error) {
	st := scan.Stage{Opts: opts, Threshold: severity, Source: source}
	if platformPolicy != nil {
		c, err := platformPolicy.Contents(ctx)
		if err != nil {
			return st, fmt.Errorf("reading platform-policy: %w", err)
		}
		st.Platform, st.PlatformName = []byte(c), "platform-policy"
	}
	return st, nil
}
