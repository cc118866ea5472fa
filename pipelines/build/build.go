// Package build is paved's build stage: a native Go build (cross-compiled
// static binaries on a minimal non-root base) or a Dockerfile build, both
// returning one container per platform, ready for a multi-arch publish.
package build

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/images"
)

// GitInfo reads git metadata from the source: gitmeta.Script's answer,
// in two parts that an edit in the work tree does not both re-run. The
// history (commit, time, tags) comes from a toolchain container with only
// .git mounted, which the engine keeps cached until .git changes; whether
// tracked files changed comes from the engine's own view of the work tree
// (Directory.asGit), without a container (see workTreeDirty).
func GitInfo(ctx context.Context, client *dagger.Client, src *dagger.Directory, imgs *images.Set) (gitmeta.Info, error) {
	isDir, err := src.Exists(ctx, ".git", dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeDirectoryType})
	if err != nil {
		return gitmeta.Info{}, fmt.Errorf("checking the source for .git: %w", err)
	}
	if !isDir {
		if file, err := src.Exists(ctx, ".git"); err == nil && file {
			return gitmeta.Info{}, fmt.Errorf("the source's .git is a file (a git worktree or submodule), whose history lives outside the source: pass the main checkout as --source, or set --version and --commit explicitly")
		}
		return gitmeta.Info{}, fmt.Errorf("source has no .git: paved reads the commit, its time and tags from git. Pass the repository root (dagger call ... --source=.) so .git comes along, or set --version and --commit explicitly")
	}
	tool := client.Container().From(imgs.Ref(images.Go)).WithWorkdir(gotool.SrcPath)
	var (
		in       gitmeta.Info
		dirty    bool
		errGit   error
		errDirty error
		wg       sync.WaitGroup
	)
	wg.Go(func() {
		out, err := tool.
			WithMountedDirectory(path.Join(gotool.SrcPath, ".git"), src.Directory(".git")).
			WithExec([]string{"sh", "-c", gitmeta.HistoryScript}).
			Stdout(ctx)
		if err != nil {
			errGit = fmt.Errorf("reading git metadata from the source: %w", err)
			return
		}
		in, errGit = gitmeta.Parse([]byte(out))
	})
	wg.Go(func() { dirty, errDirty = workTreeDirty(ctx, src, tool) })
	wg.Wait()
	if err := errors.Join(errGit, errDirty); err != nil {
		return gitmeta.Info{}, err
	}
	in.Dirty = dirty
	return in, nil
}

// workTreeDirty reports whether tracked files in src differ from its
// HEAD, as gitmeta.DirtyScript does. The engine tells most trees apart
// without a container: no uncommitted change, or a changed or removed
// file, settle it. Only new files are ambiguous (untracked ones do not
// count, staged ones do), and then, or if the engine cannot answer,
// DirtyScript runs in tool with the whole source mounted.
func workTreeDirty(ctx context.Context, src *dagger.Directory, tool *dagger.Container) (bool, error) {
	changes := src.AsGit().Uncommitted()
	if empty, err := changes.IsEmpty(ctx); err == nil {
		if empty {
			return false, nil
		}
		modified, errM := changes.ModifiedPaths(ctx)
		removed, errR := changes.RemovedPaths(ctx)
		if errM == nil && errR == nil && len(modified)+len(removed) > 0 {
			return true, nil
		}
	}
	out, err := tool.
		WithMountedDirectory(gotool.SrcPath, src).
		WithExec([]string{"sh", "-c", gitmeta.DirtyScript}).
		Stdout(ctx)
	if err != nil {
		return false, fmt.Errorf("reading the work tree's state with git status: %w", err)
	}
	switch strings.TrimSpace(out) {
	case "dirty=true":
		return true, nil
	case "dirty=false":
		return false, nil
	}
	return false, fmt.Errorf("git status: unexpected answer %q (want dirty=true or dirty=false)", out)
}

// CheckGoSource fails with a clear message when the source is not a Go
// module at dir or the main package is missing.
func CheckGoSource(ctx context.Context, src *dagger.Directory, p *Plan) error {
	gomod := path.Join(p.Dir, "go.mod")
	ok, err := src.Exists(ctx, gomod, dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
	if err != nil {
		return fmt.Errorf("checking the source for %s: %w", gomod, err)
	}
	if !ok {
		return fmt.Errorf("source has no %s: the native Go build needs a Go module there (set --dir to the module's folder in a monorepo, or add a Dockerfile to build any other language)", gomod)
	}
	mainDir := path.Join(p.Dir, p.Main)
	ok, err = src.Exists(ctx, mainDir, dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeDirectoryType})
	if err != nil {
		return fmt.Errorf("checking the source for main package %s: %w", p.Main, err)
	}
	if !ok {
		return fmt.Errorf("main package %q does not exist in the source (looked for folder %s); set --main to the folder of package main, e.g. ./cmd/server", p.Main, mainDir)
	}
	return nil
}

// Go builds the plan: one static binary per platform, cross-compiled in a
// single native toolchain container, each packaged onto the runtime base
// for its platform. The variants' platforms are checked, because Dagger
// silently gives an amd64 container when the base image lacks the
// requested platform and a multi-arch publish would then be single-arch.
func Go(ctx context.Context, client *dagger.Client, src *dagger.Directory, p *Plan, opts GoOptions) ([]*dagger.Container, error) {
	if err := CheckGoSource(ctx, src, p); err != nil {
		return nil, err
	}
	imgs := opts.Images
	if imgs == nil {
		imgs = images.MustDefault()
	}
	scoped, err := gotool.Scope(ctx, client, src, p.Dir)
	if err != nil {
		return nil, err
	}
	tool := gotool.Container(client, scoped.Mod, gotool.Options{Images: imgs, Dir: p.Dir, Env: opts.Env, Netrc: opts.Netrc}).
		// Download once for all platforms, with only go.mod and go.sum
		// mounted: a cache hit until they change.
		WithExec([]string{"go", "mod", "download"}).
		WithMountedDirectory(gotool.SrcPath, scoped.Dir)
	var variants []*dagger.Container
	for _, st := range p.Steps {
		b := tool
		for _, k := range SortedEnv(st.Env) {
			b = b.WithEnvVariable(k, st.Env[k])
		}
		bin := b.WithExec(st.Args).File(st.Output)
		variants = append(variants, Package(client, p, st.Platform, bin))
	}
	hint := fmt.Sprintf("use a multi-platform base image (override the %q image) or drop these platforms", images.Runtime)
	if err := CheckPlatforms(ctx, "base image "+p.BaseImage, hint, p.Steps, variants); err != nil {
		return nil, err
	}
	return variants, nil
}

// Package puts a binary onto the runtime base for one platform: non-root,
// file times and created label from the commit so that two builds of one
// commit give one digest.
func Package(client *dagger.Client, p *Plan, pl Platform, bin *dagger.File) *dagger.Container {
	// The tree is laid from the root, so that the parent folders the base
	// lacks (usr/local/bin) get the commit time too: copied to BinPath
	// alone, the engine creates them at the time of the build, and two
	// builds of one commit differ in that layer.
	tree := client.Directory().
		WithFile(strings.TrimPrefix(path.Join(BinPath, p.Binary), "/"), bin, dagger.DirectoryWithFileOpts{Permissions: 0o755}).
		WithTimestamps(int(p.Epoch))
	ctr := client.Container(dagger.ContainerOpts{Platform: dagger.Platform(pl.String())}).
		From(p.BaseImage).
		WithDirectory("/", tree).
		WithUser(NonRootUser).
		WithEntrypoint([]string{path.Join(BinPath, p.Binary)})
	for _, k := range SortedEnv(p.Labels) {
		ctr = ctr.WithLabel(k, p.Labels[k])
	}
	return ctr
}

// CheckPlatforms compares each variant's platform with the one asked for;
// base names the image at fault and hint says how to fix it.
// The variants are asked at once: the answer waits for each build, and
// one at a time the platforms would build one after the other.
func CheckPlatforms(ctx context.Context, base, hint string, steps []Step, variants []*dagger.Container) error {
	got := make([]dagger.Platform, len(variants))
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		wg.Go(func() { got[i], errs[i] = v.Platform(ctx) })
	}
	wg.Wait()
	var bad []string
	for i := range variants {
		if errs[i] != nil {
			return fmt.Errorf("building the %s variant: %w", steps[i].Platform, errs[i])
		}
		if !samePlatform(string(got[i]), steps[i].Platform) {
			bad = append(bad, fmt.Sprintf("%s (came out as %s)", steps[i].Platform, got[i]))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s has no variant for %s: %s", base, strings.Join(bad, ", "), hint)
	}
	return nil
}

func samePlatform(got string, want Platform) bool {
	g, err := ParsePlatform(got)
	if err != nil {
		return false
	}
	// arm64 images often omit the v8 variant.
	if g.Arch == "arm64" && want.Arch == "arm64" {
		return g.OS == want.OS
	}
	return g == want
}
