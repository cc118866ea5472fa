// Package gotool sets up the Go toolchain container that the build, test
// and git-metadata steps share: the same image, cache volumes and flags,
// so a test run never recompiles what the build already compiled.
package gotool

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/images"
)

// Cache volume keys. They are stable across paved versions on purpose: a
// warm module or build cache is the main reason a re-run is fast.
const (
	ModCacheKey   = "paved-go-mod"
	BuildCacheKey = "paved-go-build"
)

// Mount points inside the toolchain image.
const (
	SrcPath        = "/src"
	ModCachePath   = "/go/pkg/mod"
	BuildCachePath = "/root/.cache/go-build"
)

// Flags every go invocation gets through GOFLAGS. -trimpath must be the
// same for build and test: a mismatch recompiles the standard library and
// roughly triples a cold test run.
const Flags = "-trimpath -buildvcs=false"

// Options for the toolchain container.
type Options struct {
	Images *images.Set
	// Dir is the Go module's folder inside the source, "" or "." for the
	// root (monorepos set it).
	Dir string
	// Env is extra environment (GOPROXY, GOPRIVATE, ...). Never secrets:
	// the environment of an exec is visible in traces.
	Env map[string]string
}

// Container returns the toolchain container with src mounted at /src, the
// working directory at the module folder and both caches mounted. It runs
// on the engine's native platform: cross builds set GOOS/GOARCH instead of
// emulating.
func Container(client *dagger.Client, src *dagger.Directory, opts Options) *dagger.Container {
	ctr := client.Container().
		From(opts.Images.Ref(images.Go)).
		WithMountedCache(ModCachePath, client.CacheVolume(ModCacheKey)).
		WithMountedCache(BuildCachePath, client.CacheVolume(BuildCacheKey)).
		WithEnvVariable("GOMODCACHE", ModCachePath).
		WithEnvVariable("GOCACHE", BuildCachePath).
		WithEnvVariable("GOFLAGS", Flags).
		WithEnvVariable("GOTOOLCHAIN", "local")
	return WithEnv(ctr, opts.Env).
		WithMountedDirectory(SrcPath, src).
		WithWorkdir(Workdir(opts.Dir))
}

// WithEnv sets env on ctr in a stable order, which keeps the cache key
// stable.
func WithEnv(ctr *dagger.Container, env map[string]string) *dagger.Container {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ctr = ctr.WithEnvVariable(k, env[k])
	}
	return ctr
}

// CheckDir refuses a module folder outside the source: CleanDir would
// otherwise turn ../x into x and build or test the wrong folder.
func CheckDir(dir string) error {
	if d := path.Clean(strings.TrimSpace(dir)); d == ".." || strings.HasPrefix(d, "../") || path.IsAbs(d) {
		return fmt.Errorf("dir %q is not a folder inside the source: give a path relative to --source, such as services/api", dir)
	}
	return nil
}

// Workdir is the absolute module folder inside the container.
func Workdir(dir string) string {
	return path.Join(SrcPath, CleanDir(dir))
}

// CleanDir normalises a module folder given by a user ("./svc/" → "svc").
func CleanDir(dir string) string {
	d := path.Clean("/" + strings.TrimSpace(dir))
	return strings.TrimPrefix(d, "/")
}
