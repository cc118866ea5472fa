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
	// Netrc holds credentials for private modules (a company proxy, or
	// git over https: "machine github.com login x-access-token password
	// <token>"). Mounted as a secret file, never in a layer or the env.
	Netrc *dagger.Secret
}

// NetrcPath is where Netrc is mounted: go and git read $HOME/.netrc.
const NetrcPath = "/root/.netrc"

// WithNetrc mounts netrc, when given, where go and git read it.
func WithNetrc(ctr *dagger.Container, netrc *dagger.Secret) *dagger.Container {
	if netrc == nil {
		return ctr
	}
	return ctr.WithMountedSecret(NetrcPath, netrc, dagger.ContainerWithMountedSecretOpts{Mode: 0o400})
}

// EnvKeys are the toolchain variables a user may set: where modules come
// from and which are private. Anything else is refused, so the flag
// cannot carry a credential into the environment of an exec.
var EnvKeys = []string{"GOPROXY", "GOPRIVATE", "GONOSUMDB", "GONOPROXY", "GOSUMDB", "GOINSECURE"}

// ModuleEnv is the toolchain environment from the modules' --goproxy,
// --goprivate and --gonosumdb flags; unset ones are left out (nil when
// all are), so the image's defaults apply.
func ModuleEnv(proxy, private, noSumDB string) map[string]string {
	var env map[string]string
	for k, v := range map[string]string{"GOPROXY": proxy, "GOPRIVATE": private, "GONOSUMDB": noSumDB} {
		if v = strings.TrimSpace(v); v != "" {
			if env == nil {
				env = map[string]string{}
			}
			env[k] = v
		}
	}
	return env
}

// CheckEnv refuses variables outside EnvKeys and values with credentials
// in them (a proxy URL with user:password@).
func CheckEnv(env map[string]string) error {
	for k, v := range env {
		known := false
		for _, e := range EnvKeys {
			known = known || k == e
		}
		if !known {
			return fmt.Errorf("toolchain variable %s: only %s are passed to the toolchain", k, strings.Join(EnvKeys, ", "))
		}
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' }) {
			if i := strings.Index(part, "://"); i >= 0 && strings.Contains(strings.SplitN(part[i+3:], "/", 2)[0], "@") {
				return fmt.Errorf("%s holds credentials in a URL (%s): give them as a netrc secret (--netrc) instead, so they stay out of logs and layers", k, redact(part))
			}
		}
	}
	return nil
}

func redact(u string) string {
	i := strings.Index(u, "://")
	host := u[i+3:]
	if at := strings.LastIndex(strings.SplitN(host, "/", 2)[0], "@"); at >= 0 {
		return u[:i+3] + "***@" + host[at+1:]
	}
	return u
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
	return WithNetrc(WithEnv(ctr, opts.Env), opts.Netrc).
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
