package build

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/images"
)

// GoOptions configure the native Go build.
type GoOptions struct {
	// Dir is the Go module's folder inside the source ("" for the root).
	Dir string
	// Main is the main package, relative to Dir ("." or "./cmd/server").
	Main string
	// Binary names the executable; default: last element of Main, else of
	// Dir, else "app".
	Binary string
	// Platforms to build, e.g. linux/amd64; default DefaultPlatforms.
	Platforms []string
	// Tags are Go build tags.
	Tags []string
	// Ldflags are appended to paved's own (-s -w and the version -X flags).
	Ldflags []string
	// Flags are extra `go build` flags (e.g. -mod=vendor).
	Flags []string
	// Env is extra toolchain environment (GOPROXY, GOPRIVATE, ...).
	Env map[string]string
	// Netrc: credentials for private modules, mounted as a secret file.
	Netrc *dagger.Secret
	// Version overrides the version read from git.
	Version string
	// Images resolves the toolchain and runtime images.
	Images *images.Set
}

// Plan is everything the build will do, computed without an engine, so
// it can be previewed, tested and benchmarked.
type Plan struct {
	Dir       string
	Main      string
	Binary    string
	GoImage   string
	BaseImage string
	Version   string
	Steps     []Step
	// Labels go on every variant (OCI image annotations keys).
	Labels map[string]string
	// Epoch is SOURCE_DATE_EPOCH: file times and the created label.
	Epoch int64
}

// Step builds one platform.
type Step struct {
	Platform Platform
	Env      map[string]string // GOOS, GOARCH, CGO_ENABLED, ...
	Args     []string          // the full go build command line
	Output   string            // binary path inside the toolchain container
}

// BinPath is where the binary lives in the runtime image.
const BinPath = "/usr/local/bin"

// NonRootUser is distroless' nonroot user; the image runs as it.
const NonRootUser = "65532:65532"

// NewPlan validates opts and computes the build.
func NewPlan(opts GoOptions, git gitmeta.Info) (*Plan, error) {
	plats, err := ParsePlatforms(opts.Platforms)
	if err != nil {
		return nil, err
	}
	imgs := opts.Images
	if imgs == nil {
		imgs = images.MustDefault()
	}
	main, err := cleanMain(opts.Main)
	if err != nil {
		return nil, err
	}
	if err := gotool.CheckDir(opts.Dir); err != nil {
		return nil, err
	}
	dir := gotool.CleanDir(opts.Dir)
	bin := opts.Binary
	if bin == "" {
		bin = defaultBinary(main, dir)
	}
	if strings.ContainsAny(bin, "/ \t") || bin == "." || bin == ".." {
		return nil, fmt.Errorf("binary name %q: want a plain file name such as \"server\"", bin)
	}
	for _, tag := range opts.Tags {
		if tag == "" || strings.ContainsAny(tag, ", \t") {
			return nil, fmt.Errorf("build tag %q: give one tag per entry, without spaces or commas", tag)
		}
	}
	if git.Commit == "" {
		return nil, fmt.Errorf("no git commit for the build: paved labels every image with its commit; build from a git checkout")
	}
	version := opts.Version
	if version == "" {
		version = git.Version()
	}
	created := git.CommitTime.UTC().Format(time.RFC3339)
	p := &Plan{
		Dir: dir, Main: main, Binary: bin,
		GoImage: imgs.Ref(images.Go), BaseImage: imgs.Ref(images.Runtime),
		Version: version, Epoch: git.CommitTime.Unix(),
		Labels: Labels(git, version),
	}
	ldflags := []string{"-s", "-w",
		"-X", "main.version=" + version,
		"-X", "main.commit=" + git.Commit,
		"-X", "main.date=" + created,
	}
	ldflags = append(ldflags, opts.Ldflags...)
	for _, pl := range plats {
		env := pl.GoEnv()
		env["CGO_ENABLED"] = "0"
		out := path.Join("/out", pl.OS, pl.Arch+pl.Variant, bin)
		args := []string{"go", "build", "-ldflags=" + strings.Join(ldflags, " ")}
		if len(opts.Tags) > 0 {
			args = append(args, "-tags="+strings.Join(opts.Tags, ","))
		}
		args = append(args, opts.Flags...)
		args = append(args, "-o", out, main)
		p.Steps = append(p.Steps, Step{Platform: pl, Env: env, Args: args, Output: out})
	}
	return p, nil
}

// SortedEnv returns env keys in a stable order.
func SortedEnv(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func cleanMain(m string) (string, error) {
	m = strings.TrimSpace(m)
	if m == "" || m == "." || m == "./" {
		return ".", nil
	}
	if path.IsAbs(m) {
		return "", fmt.Errorf("main package %q: give a path relative to the Go module, e.g. ./cmd/server", m)
	}
	c := path.Clean(m)
	if strings.HasPrefix(c, "..") {
		return "", fmt.Errorf("main package %q points outside the Go module", m)
	}
	return "./" + c, nil
}

func defaultBinary(main, dir string) string {
	if main != "." {
		return path.Base(main)
	}
	if dir != "" {
		return path.Base(dir)
	}
	return "app"
}
