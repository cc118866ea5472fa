package main

import (
	"context"

	"dagger/golden/internal/dagger"

	"github.com/paved-ci/paved/pipelines/bridge"
	buildopts "github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/golden"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/publish"
	"github.com/paved-ci/paved/pipelines/scan"
	"github.com/paved-ci/paved/pipelines/sign"
	tagrules "github.com/paved-ci/paved/pipelines/tags"
)

// Ship runs the whole golden path: build, test, scan, sign, publish. No
// tag is written before the image is signed.
// With no --image it publishes to an ephemeral registry inside the run and
// signs with an ephemeral key, so a first call needs no account; the
// summary says so.
// +cache="never"
func (m *Paved) Ship(
	ctx context.Context,
	// The workspace dagger was called in (Dagger passes it): the default source.
	ws *dagger.Workspace,
	// Repository root, with .git (version, commit and tags come from git).
	// Default: the constructor's --source, else the repository dagger was
	// called in.
	// +optional
	source *dagger.Directory,
	// Repositories to publish to, e.g. ghcr.io/acme/app (repeatable). None:
	// the ephemeral embedded registry.
	// +optional
	image []string,
	// Folder of the app inside source (monorepos). Default: the folder
	// dagger was called from, when source is the repository dagger was
	// called in.
	// +optional
	dir string,
	// Main package of a Go app, relative to its module.
	// +default="."
	main string,
	// Platforms to build; default linux/amd64 and linux/arm64.
	// +optional
	platforms []string,
	// Extra image tags, besides the ones derived from git.
	// +optional
	tags []string,
	// Prefix for every tag derived from git (latest included).
	// +optional
	tagPrefix string,
	// Suffix for every tag derived from git, e.g. -debug.
	// +optional
	tagSuffix string,
	// Treat a shallow clone's tags as complete (move 1.2, 1 and latest).
	// +optional
	trustShallowTags bool,
	// Repository name in the embedded registry; default from the git remote.
	// +optional
	name string,
	// Go build tags.
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
	// Run Go tests with the race detector.
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
	// Run golangci-lint before the tests (Go apps).
	// +optional
	lint bool,
	// Stages to skip by name.
	// +optional
	skip []string,
	// Username for the first --image's registry.
	// +optional
	registryUsername string,
	// Password or token for the first --image's registry.
	// +optional
	registryPassword *dagger.Secret,
	// Docker config.json with credentials for several registries.
	// +optional
	dockerConfig *dagger.Secret,
	// Credentials for more registries, as HOST=USER (repeatable), each
	// paired in order with a --registry-auth-secret, e.g. quay.io=robot+ci.
	// +optional
	registryAuth []string,
	// The password or token of each --registry-auth, in the same order.
	// +optional
	registryAuthSecret []*dagger.Secret,
	// CA certificate(s), PEM, of a registry with a private CA, trusted besides the system roots.
	// +optional
	registryCa *dagger.File,
	// Registry hosts spoken to over plain HTTP (explicit opt-in), e.g. registry.internal:5000.
	// +optional
	insecureRegistry []string,
	// Replace an existing release tag that points at another digest.
	// +optional
	allowOverwrite bool,
	// Encrypted cosign private key (cosign.key).
	// +optional
	signKey *dagger.Secret,
	// Password of the cosign key.
	// +optional
	signPassword *dagger.Secret,
	// OIDC token for keyless signing (GitHub: audience sigstore; GitLab: an id_tokens variable).
	// +optional
	oidcToken *dagger.Secret,
	// Fulcio URL for a private Sigstore.
	// +optional
	fulcioUrl string,
	// Rekor URL for a private Sigstore.
	// +optional
	rekorUrl string,
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
	// The CI system running this (github, gitlab, jenkins, local): recorded in provenance.
	// +optional
	ciEnv string,
	// The git ref CI built (refs/heads/main, refs/tags/v1.2.3, refs/pull/7/merge).
	// +optional
	gitRef string,
	// Pull or merge request number, for the pr-<n> tag.
	// +optional
	prNumber string,
	// The repository's default branch (moves latest only from there).
	// +optional
	defaultBranch string,
	// Version to stamp instead of the one git describes.
	// +optional
	version string,
	// Commit to stamp when source has no .git (with commitTime).
	// +optional
	commit string,
	// Commit time (Unix seconds or RFC 3339) when source has no .git.
	// +optional
	commitTime string,
	// Record a failing stage in the results instead of failing the call.
	// +optional
	continueOnFailure bool,
	// Tool image overrides as name=reference.
	// +optional
	imageOverride []string,
	// Registry mirror prefix for every default tool image.
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
	opts := golden.ShipOptions{
		Options: jobOptions(builder, buildopts.Options{
			Dir: dir, Platforms: platforms,
			Main: main, Tags: buildTags, Race: race, Lint: lint,
			Dockerfile: dockerfile, BuildArgs: buildArgs, TestCommand: testCommand,
		}, skip, golden.GitOverride{Version: version, Commit: commit, CommitTime: commitTime}, continueOnFailure),
		Publish: publish.ShipOptions{
			Repos: image, Name: name,
			Tags:           tagrules.Options{Extra: tags, Prefix: tagPrefix, Suffix: tagSuffix, TrustShallowTags: trustShallowTags},
			AllowOverwrite: allowOverwrite, AuthHint: publish.AuthHint,
			Insecure: bridge.OrList(insecureRegistry, m.InsecureRegistry),
			RefArgs:  tagArgs(gitRef, prNumber, defaultBranch),
		},
		Sign: sign.Inputs{FulcioURL: fulcioUrl, RekorURL: rekorUrl, RegistryUsername: registryUsername},
	}
	if ciEnv != "" {
		opts.SignParameters = map[string]any{"ci": ciEnv}
	}
	if opts.Scan, err = scanStage(ctx, severity, platformPolicy, scan.Options{DBRepository: dbRepository, Offline: offline, SkipDirs: skipDirs, SkipFiles: skipFiles}, scanSource); err != nil {
		return nil, err
	}
	// bad input fails here, before the library client connects and the
	// source is read
	if err := golden.ValidateShipArgs(opts); err != nil {
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
	creds, err := bridge.Secrets(ctx, lib, registryPassword, dockerConfig, signKey, signPassword, oidcToken)
	if err != nil {
		return nil, err
	}
	regPassword, dockerCfg, key, keyPassword, token := creds[0], creds[1], creds[2], creds[3], creds[4]
	more, err := bridge.Secrets(ctx, lib, registryAuthSecret...)
	if err != nil {
		return nil, err
	}
	chained, err := publish.PairAuth(registryAuth, more)
	if err != nil {
		return nil, err
	}
	if opts.Publish.Auth, err = (publish.AuthArgs{Repos: image, Username: registryUsername, Password: regPassword, Chained: chained}).Resolve(); err != nil {
		return nil, err
	}
	conn, err := m.registryConn(ctx, lib, registryCa, insecureRegistry)
	if err != nil {
		return nil, err
	}
	opts.Publish.DockerConfig, opts.Publish.CA = dockerCfg, conn.CA
	opts.Sign.Key, opts.Sign.Password, opts.Sign.IDToken = key, keyPassword, token
	opts.Sign.RegistryPassword, opts.Sign.DockerConfig = regPassword, dockerCfg
	out, err := golden.Ship(ctx, lib, src, imgs, opts)
	if err != nil {
		return nil, err
	}
	run, err := newRun(ctx, lib, out.Outcome)
	if err != nil {
		return nil, err
	}
	if img := out.State.Results.Image; img != nil {
		run.Image, run.Digest, run.Tags, run.Ephemeral, run.Signature = img.Ref, img.Digest, img.Tags, img.Ephemeral, img.Signature
	}
	if out.Signature != nil {
		run.PublicKey = out.Signature.PublicKey
		if out.Signature.Note != "" {
			run.Summary += out.Signature.Note + "\n"
		}
	}
	return run, nil
}

// Verify is the deploy gate: it checks that image (by tag or digest) is
// signed by the trusted key or keyless identity, and carries every required
// attestation, with no vulnerability above maxSeverity in the attested
// scan. It fails with the reason of every failed check.
// +cache="never"
func (m *Paved) Verify(
	ctx context.Context,
	// Image to check, e.g. ghcr.io/acme/app:1.2.3 or ...@sha256:...
	image string,
	// Trusted cosign public key (cosign.pub).
	// +optional
	publicKey *dagger.File,
	// Keyless: the signer's identity (certificate SAN), exact.
	// +optional
	identity string,
	// Keyless: the OIDC issuer, e.g. https://token.actions.githubusercontent.com
	// +optional
	issuer string,
	// Attestations that must be present: cyclonedx, vuln, slsaprovenance1.
	// +optional
	require []string,
	// Highest vulnerability severity allowed in the attested scan (NONE, LOW, MEDIUM, HIGH, CRITICAL).
	// +optional
	maxSeverity string,
	// The digest the image must resolve to (sha256:...), to pin a tag.
	// +optional
	digest string,
	// Registry username.
	// +optional
	registryUsername string,
	// Registry password or token.
	// +optional
	registryPassword *dagger.Secret,
	// CA certificate(s), PEM, of a registry with a private CA, trusted besides the system roots.
	// +optional
	registryCa *dagger.File,
	// Registry hosts spoken to over plain HTTP (explicit opt-in), e.g. registry.internal:5000.
	// +optional
	insecureRegistry []string,
) (string, error) {
	lib, imgs, err := m.images(ctx, nil, "", nil)
	if err != nil {
		return "", err
	}
	defer lib.Close()
	files, err := bridge.Files(ctx, lib, publicKey)
	if err != nil {
		return "", err
	}
	pw, err := bridge.Secrets(ctx, lib, registryPassword)
	if err != nil {
		return "", err
	}
	conn, err := m.registryConn(ctx, lib, registryCa, insecureRegistry)
	if err != nil {
		return "", err
	}
	return sign.Gate(ctx, image, files[0], sign.Policy{Identity: identity, Issuer: issuer, Require: require, MaxSeverity: maxSeverity, Digest: digest},
		sign.Access{Username: registryUsername, Password: pw[0], Conn: conn, Cosign: sign.ContainerRunner{Client: lib, Image: imgs.Ref(images.Cosign)}})
}

func tagArgs(ref, pr, def string) tagrules.Args {
	return tagrules.Args{GitRef: ref, PullRequest: pr, DefaultBranch: def}
}
