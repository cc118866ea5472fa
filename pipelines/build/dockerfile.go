package build

import (
	"bufio"
	"context"
	"fmt"
	"path"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/gotool"
)

// DockerOptions configure a Dockerfile build (any language).
type DockerOptions struct {
	// Dir is the build context: the app's folder inside the source.
	Dir string
	// Dockerfile is its path relative to Dir; default "Dockerfile".
	Dockerfile string
	// Target is the stage that becomes the image; default the last one.
	Target string
	// BuildArgs are NAME=VALUE pairs. Names that look like secrets are
	// refused: build args end up in the image history.
	BuildArgs []string
	// Platforms to build; default DefaultPlatforms.
	Platforms []string
	// Version overrides the version read from git.
	Version string
}

// DockerPlan is a validated Dockerfile build.
type DockerPlan struct {
	Dir        string
	Dockerfile string // relative to Dir
	Target     string
	BuildArgs  []dagger.BuildArg
	Platforms  []Platform
	Labels     map[string]string
	Version    string
}

// secretWords mark a build arg name as a credential.
var secretWords = []string{"TOKEN", "PASSWORD", "PASSWD", "SECRET", "KEY", "CREDENTIAL", "AUTH"}

// NewDockerPlan validates opts.
func NewDockerPlan(opts DockerOptions, git gitmeta.Info) (*DockerPlan, error) {
	plats, err := ParsePlatforms(opts.Platforms)
	if err != nil {
		return nil, err
	}
	if err := gotool.CheckDir(opts.Dir); err != nil {
		return nil, err
	}
	df := strings.TrimSpace(opts.Dockerfile)
	if df == "" {
		df = "Dockerfile"
	}
	if c := path.Clean(df); path.IsAbs(df) || c == ".." || strings.HasPrefix(c, "../") {
		return nil, fmt.Errorf("dockerfile %q is outside the build context %q: give a path inside it, e.g. docker/app.Dockerfile", opts.Dockerfile, displayDir(opts.Dir))
	}
	p := &DockerPlan{Dir: gotool.CleanDir(opts.Dir), Dockerfile: path.Clean(df), Target: opts.Target, Platforms: plats}
	for _, a := range opts.BuildArgs {
		name, value, ok := strings.Cut(a, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("build arg %q: want NAME=VALUE", a)
		}
		upper := strings.ToUpper(name)
		for _, w := range secretWords {
			if strings.Contains(upper, w) {
				return nil, fmt.Errorf("build arg %s looks like a secret (its name contains %s): build args are stored in the image history. Pass it as a build secret (--build-secrets) and read it in the Dockerfile with RUN --mount=type=secret,id=%s", name, w, name)
			}
		}
		p.BuildArgs = append(p.BuildArgs, dagger.BuildArg{Name: name, Value: value})
	}
	if git.Commit == "" {
		return nil, fmt.Errorf("no git commit for the build: paved labels every image with its commit; build from a git checkout")
	}
	p.Version = opts.Version
	if p.Version == "" {
		p.Version = git.Version()
	}
	p.Labels = Labels(git, p.Version)
	return p, nil
}

// Dockerfile builds the plan once per platform and labels each variant.
func Dockerfile(ctx context.Context, src *dagger.Directory, p *DockerPlan, secrets []*dagger.Secret) ([]*dagger.Container, error) {
	dfPath := path.Join(p.Dir, p.Dockerfile)
	ok, err := src.Exists(ctx, dfPath, dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
	if err != nil {
		return nil, fmt.Errorf("checking the source for %s: %w", dfPath, err)
	}
	if !ok {
		return nil, fmt.Errorf("source has no %s: set --dockerfile to its path inside --dir", dfPath)
	}
	buildCtx := src.Directory(dirOrDot(p.Dir))
	var variants []*dagger.Container
	steps := make([]Step, len(p.Platforms))
	for i, pl := range p.Platforms {
		steps[i] = Step{Platform: pl}
		ctr := buildCtx.DockerBuild(dagger.DirectoryDockerBuildOpts{
			Dockerfile: p.Dockerfile,
			Platform:   dagger.Platform(pl.String()),
			BuildArgs:  p.BuildArgs,
			Target:     p.Target,
			Secrets:    secrets,
		})
		for _, k := range SortedEnv(p.Labels) {
			ctr = ctr.WithLabel(k, p.Labels[k])
		}
		variants = append(variants, ctr)
	}
	if err := CheckPlatforms(ctx, "the base image (FROM) of "+dfPath, "use multi-platform base images in the Dockerfile or drop these platforms", steps, variants); err != nil {
		return nil, err
	}
	return variants, nil
}

// Stages lists the stage names of a Dockerfile ("FROM x AS test"), in
// order, lowercased as BuildKit compares them.
func Stages(dockerfile string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(dockerfile))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && strings.EqualFold(f[0], "FROM") {
			for i := 1; i+1 < len(f); i++ {
				if strings.EqualFold(f[i], "AS") {
					out = append(out, strings.ToLower(f[i+1]))
				}
			}
		}
	}
	return out
}

// Labels are the OCI labels every variant carries.
func Labels(git gitmeta.Info, version string) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.revision": git.Commit,
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.created":  git.CommitTime.UTC().Format("2006-01-02T15:04:05Z07:00"),
	}
	if git.RemoteURL != "" {
		l["org.opencontainers.image.source"] = git.RemoteURL
	}
	return l
}

func dirOrDot(d string) string {
	if d == "" {
		return "."
	}
	return d
}

func displayDir(d string) string {
	if strings.TrimSpace(d) == "" {
		return "the source root"
	}
	return d
}
