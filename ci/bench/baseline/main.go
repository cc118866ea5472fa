// Command baseline is the hand-written Dagger pipeline paved is measured
// against (ci/bench-engine): what a competent engineer writes for a small
// Go HTTP service with the dagger.io/dagger SDK and nothing of paved.
//
//	dagger run go run ./ci/bench/baseline --source . --dir examples/hello-go --main ./cmd/hello
//
// It builds the app for every platform (cross-compiled concurrently in the
// native toolchain container, packaged onto the runtime base of each
// platform), runs `go test -json ./...` in the same toolchain container,
// scans the first variant with trivy and publishes the multi-platform image
// to a registry service it starts itself. Both Go caches and trivy's DB live
// in cache volumes of their own (baseline-*), so paved's caches do not help
// it and its caches do not help paved.
//
// --stage says how far it goes: none (connect and one cached exec: the
// floor), build, test (build and test), scan (build, test, scan: what
// paved's check does) or publish/all (everything: paved's ship without
// signing). One line per stage gives its duration, then "total"; the exit
// status is 1 when a stage failed (a failing test is a failure), 2 on bad
// usage.
//
// The images file has paved's format (a JSON object from image name to
// reference); names it does not use (golangci-lint) are accepted and
// ignored, so the file paved gets works here too.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"dagger.io/dagger"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a stage failed
	exitUsage  = 2 // bad flags or images file
)

// Image names, as in paved's images file.
const (
	imgGo       = "go"
	imgRuntime  = "runtime"
	imgTrivy    = "trivy"
	imgRegistry = "registry"
)

// defaultImages are paved's pinned defaults (pipelines/images); a test
// keeps them in step.
var defaultImages = map[string]string{
	imgGo:       "golang:1.26.8-bookworm@sha256:9fdc884aacc3bec89b20ffc69f4bb369c78210e3e4f600387b5128b12c199f81",
	imgRuntime:  "gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab",
	imgTrivy:    "aquasec/trivy:0.74.0@sha256:62b1e65e8869bc4b4c6aa4fa2b21595256c7c2f6018a9d9ad61caf87187c1969",
	imgRegistry: "registry:3@sha256:852b3e4d378c426dda6b318fe9d9bfe8e92a0eccb9926671ec3d3ea17a196696",
}

// ignoredImages are names of paved's images file the baseline has no use
// for.
var ignoredImages = map[string]bool{"golangci-lint": true, "cosign": true}

// Stages in order; a stage runs every stage before it.
var stages = []string{"none", "build", "test", "scan", "publish"}

// Where things go inside the containers.
const (
	srcPath        = "/src"
	modCachePath   = "/go/pkg/mod"
	buildCachePath = "/root/.cache/go-build"
	trivyCachePath = "/root/.cache/trivy"
	binPath        = "/usr/local/bin/app"
	imageTar       = "/image.tar"
	registryPort   = 5000
	// publishAddress is where the image goes: Dagger points the hostname
	// localhost at the registry service given as RegistryService.
	publishAddress = "localhost:5000/baseline/app:latest"
	// goFlags are the same for build and test, so that the test run
	// reuses what the build compiled.
	goFlags = "-trimpath"
)

// config is what the flags say.
type config struct {
	Source       string // repository root
	Dir          string // app folder inside Source
	Main         string // main package, relative to the app's module
	Platforms    []string
	Images       map[string]string
	DBRepository string
	Offline      bool
	Stage        string // one of stages
}

// upTo reports whether stage s runs under the configured --stage.
func (c config) upTo(s string) bool { return stageIndex(s) <= stageIndex(c.Stage) }

func stageIndex(s string) int {
	for i, st := range stages {
		if st == s {
			return i
		}
	}
	return -1
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "baseline:", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	err = pipeline(ctx, cfg, stdout, stderr)
	fmt.Fprintf(stdout, "total %.1fs\n", time.Since(start).Seconds())
	if err != nil {
		fmt.Fprintln(stderr, "baseline:", err)
		return exitFailed
	}
	return exitOK
}

// parseFlags reads the flags and the images file. Errors name the flag.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", ".", "repository root")
	dir := fs.String("dir", ".", "app folder inside --source (its Go module), e.g. examples/hello-go")
	mainPkg := fs.String("main", ".", "main package relative to the app's module, e.g. ./cmd/hello")
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "platforms to build, comma-separated")
	imagesFile := fs.String("images-file", "", "JSON object image name -> reference (keys go, runtime, trivy, registry; paved's format)")
	dbRepo := fs.String("db-repository", "", "trivy DB repository (trivy --db-repository)")
	offline := fs.Bool("offline", false, "scan with the DB already in the cache volume only")
	stage := fs.String("stage", "all", "how far to go: "+strings.Join(stages, "|")+"|all (publish implies all)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (every setting is a flag, see -h)", fs.Arg(0))
	}
	cfg := config{Source: *source, DBRepository: strings.TrimSpace(*dbRepo), Offline: *offline}
	var err error
	if cfg.Stage, err = parseStage(*stage); err != nil {
		return config{}, err
	}
	if cfg.Dir, err = parseDir(*dir); err != nil {
		return config{}, err
	}
	if cfg.Main, err = parseMain(*mainPkg); err != nil {
		return config{}, err
	}
	if cfg.Platforms, err = parsePlatforms(*platforms); err != nil {
		return config{}, err
	}
	if cfg.Images, err = readImages(*imagesFile); err != nil {
		return config{}, err
	}
	if strings.TrimSpace(cfg.Source) == "" {
		return config{}, errors.New("--source: empty (give the repository root, e.g. --source /path/to/repo)")
	}
	return cfg, nil
}

func parseStage(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "all" {
		return "publish", nil
	}
	if stageIndex(s) < 0 {
		return "", fmt.Errorf("--stage %q: want one of %s, all", s, strings.Join(stages, ", "))
	}
	return s, nil
}

// parseDir keeps the app folder inside the source.
func parseDir(d string) (string, error) {
	c := path.Clean(filepath.ToSlash(strings.TrimSpace(d)))
	if d == "" || c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(c) {
		return "", fmt.Errorf("--dir %q: want a folder inside --source, e.g. examples/hello-go", d)
	}
	return c, nil
}

// parseMain wants a relative package path: "." or "./cmd/x".
func parseMain(m string) (string, error) {
	m = strings.TrimSpace(m)
	c := path.Clean(m)
	if m == "" || c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(c) {
		return "", fmt.Errorf("--main %q: want a package inside the app's module, e.g. ./cmd/server", m)
	}
	if c == "." {
		return ".", nil
	}
	return "./" + c, nil
}

// parsePlatforms reads "linux/amd64,linux/arm64": only linux (the runtime
// base is a Linux image), no duplicates, at least one.
func parsePlatforms(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		parts := strings.Split(p, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] == "") {
			return nil, fmt.Errorf("--platforms: %q is not os/arch[/variant], e.g. linux/arm64", p)
		}
		if parts[0] != "linux" {
			return nil, fmt.Errorf("--platforms: %q: only linux platforms can go on the runtime base image", p)
		}
		if seen[p] {
			return nil, fmt.Errorf("--platforms: %q given twice", p)
		}
		seen[p] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("--platforms: no platform given, e.g. --platforms linux/amd64,linux/arm64")
	}
	return out, nil
}

// readImages returns paved's defaults overridden by the images file, if
// any.
func readImages(file string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range defaultImages {
		out[k] = v
	}
	if file == "" {
		return out, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--images-file: %v", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("--images-file %s: %v (want a JSON object from image name to reference, e.g. {\"go\": \"mirror.example.com/golang:1.26\"})", file, err)
	}
	for k, v := range m {
		if ignoredImages[k] {
			continue
		}
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("--images-file %s: unknown image name %q (known: %s)", file, k, strings.Join(imageNames(), ", "))
		}
		if v = strings.TrimSpace(v); v == "" || strings.ContainsAny(v, " \t\n") {
			return nil, fmt.Errorf("--images-file %s: image %q: reference %q is not an image reference", file, k, m[k])
		}
		out[k] = v
	}
	return out, nil
}

func imageNames() []string {
	var out []string
	for k := range defaultImages {
		out = append(out, k)
	}
	for k := range ignoredImages {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// timed runs one stage and prints its line.
func timed(out io.Writer, name string, f func() (string, error)) error {
	start := time.Now()
	note, err := f()
	d := time.Since(start).Seconds()
	if err != nil {
		fmt.Fprintf(out, "%-8s FAILED after %.1fs\n", name, d)
		return fmt.Errorf("%s: %w%s", name, err, execOutput(err))
	}
	if note != "" {
		note = "  " + note
	}
	fmt.Fprintf(out, "%-8s %6.1fs%s\n", name, d, note)
	return nil
}

// pipeline connects and runs the stages up to cfg.Stage.
func pipeline(ctx context.Context, cfg config, out, logs io.Writer) error {
	var client *dagger.Client
	if err := timed(out, "connect", func() (string, error) {
		var err error
		client, err = dagger.Connect(ctx, dagger.WithLogOutput(logs))
		return "", err
	}); err != nil {
		return err
	}
	defer client.Close()

	if cfg.Stage == "none" {
		return timed(out, "exec", func() (string, error) {
			_, err := client.Container().From(cfg.Images[imgGo]).WithExec([]string{"true"}).Sync(ctx)
			return "", err
		})
	}

	root, err := filepath.Abs(cfg.Source)
	if err != nil {
		return fmt.Errorf("--source: %w", err)
	}
	app := client.Host().Directory(filepath.Join(root, filepath.FromSlash(cfg.Dir)), dagger.HostDirectoryOpts{
		Exclude: []string{".git", "**/node_modules", "bin/", "dist/"},
	})

	// The toolchain container: both caches, the same flags for build and
	// test, static binaries.
	toolchain := client.Container().
		From(cfg.Images[imgGo]).
		WithMountedCache(modCachePath, client.CacheVolume("baseline-go-mod")).
		WithMountedCache(buildCachePath, client.CacheVolume("baseline-go-build")).
		WithEnvVariable("GOMODCACHE", modCachePath).
		WithEnvVariable("GOCACHE", buildCachePath).
		WithEnvVariable("GOFLAGS", goFlags).
		WithEnvVariable("CGO_ENABLED", "0").
		WithWorkdir(srcPath)
	// Modules are downloaded with only go.mod and go.sum mounted: this
	// exec stays cached until they change.
	modFiles := client.Directory().WithDirectory("/", app, dagger.DirectoryWithDirectoryOpts{Include: []string{"go.mod", "go.sum"}})
	src := toolchain.
		WithMountedDirectory(srcPath, modFiles).
		WithExec([]string{"go", "mod", "download"}).
		WithMountedDirectory(srcPath, app)

	var variants []*dagger.Container
	if err := timed(out, "build", func() (string, error) {
		variants = buildVariants(client, src, cfg)
		return fmt.Sprintf("%d platforms", len(variants)), syncAll(ctx, variants, cfg.Platforms)
	}); err != nil || !cfg.upTo("test") {
		return err
	}

	if err := timed(out, "test", func() (string, error) {
		return goTest(ctx, src)
	}); err != nil || !cfg.upTo("scan") {
		return err
	}

	if err := timed(out, "scan", func() (string, error) {
		return scanImage(ctx, client, cfg, variants[0])
	}); err != nil || !cfg.upTo("publish") {
		return err
	}

	return timed(out, "publish", func() (string, error) {
		registry := client.Container().
			From(cfg.Images[imgRegistry]).
			WithExposedPort(registryPort).
			AsService()
		ref, err := client.Container().Publish(ctx, publishAddress, dagger.ContainerPublishOpts{
			PlatformVariants: variants,
			RegistryService:  registry,
		})
		return ref, err
	})
}

// buildVariants cross-compiles one static binary per platform in the
// native toolchain container and puts each onto the runtime base image of
// its platform. Nothing runs until the containers are synced.
func buildVariants(client *dagger.Client, src *dagger.Container, cfg config) []*dagger.Container {
	variants := make([]*dagger.Container, len(cfg.Platforms))
	for i, p := range cfg.Platforms {
		parts := strings.Split(p, "/")
		b := src.WithEnvVariable("GOOS", parts[0]).WithEnvVariable("GOARCH", parts[1])
		if len(parts) == 3 && parts[1] == "arm" {
			b = b.WithEnvVariable("GOARM", strings.TrimPrefix(parts[2], "v"))
		}
		bin := b.WithExec([]string{"go", "build", "-ldflags=-s -w", "-o", "/out/app", cfg.Main}).File("/out/app")
		variants[i] = client.Container(dagger.ContainerOpts{Platform: dagger.Platform(p)}).
			From(cfg.Images[imgRuntime]).
			WithFile(binPath, bin, dagger.ContainerWithFileOpts{Permissions: 0o755}).
			WithEntrypoint([]string{binPath})
	}
	return variants
}

// syncAll evaluates the variants concurrently.
func syncAll(ctx context.Context, variants []*dagger.Container, platforms []string) error {
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Sync(ctx); err != nil {
				// %v: the exec's output is added here, once per platform
				errs[i] = fmt.Errorf("%s: %v%s", platforms[i], err, execOutput(err))
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// testEvent is one line of `go test -json`.
type testEvent struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// goTest runs the tests; a failing test fails the stage and is named.
func goTest(ctx context.Context, src *dagger.Container) (string, error) {
	ran := src.WithExec([]string{"go", "test", "-json", "./..."}, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
	code, err := ran.ExitCode(ctx)
	if err != nil {
		return "", err
	}
	stdout, err := ran.Stdout(ctx)
	if err != nil {
		return "", err
	}
	passed, failed, output := summarizeTests(stdout)
	if code == 0 {
		return fmt.Sprintf("%d tests passed", passed), nil
	}
	if len(failed) > 0 {
		return "", fmt.Errorf("go test exited %d; failed: %s", code, strings.Join(failed, ", "))
	}
	stderr, _ := ran.Stderr(ctx)
	return "", fmt.Errorf("go test exited %d:\n%s%s", code, output, tail(stderr, 20))
}

// summarizeTests counts passed tests and names failed ones (package.Test,
// or the package when it failed without a test, e.g. a build error) from
// `go test -json` output; output is what failed packages printed.
func summarizeTests(jsonLines string) (passed int, failed []string, output string) {
	var b strings.Builder
	failedPkg := map[string]bool{}
	failedTestIn := map[string]bool{}
	for _, line := range strings.Split(jsonLines, "\n") {
		var e testEvent
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		switch {
		case e.Action == "pass" && e.Test != "":
			passed++
		case e.Action == "fail" && e.Test != "":
			failed = append(failed, e.Package+"."+e.Test)
			failedTestIn[e.Package] = true
		case e.Action == "fail":
			failedPkg[e.Package] = true
		case (e.Action == "output" || e.Action == "build-output") && e.Test == "" && strings.Contains(e.Output, "FAIL"):
			b.WriteString(e.Output)
		}
	}
	var pkgs []string
	for p := range failedPkg {
		if !failedTestIn[p] {
			pkgs = append(pkgs, p)
		}
	}
	sort.Strings(pkgs)
	return passed, append(failed, pkgs...), b.String()
}

// execOutput is the end of what a failed exec printed, which the error
// itself does not carry in its message.
func execOutput(err error) string {
	var ee *dagger.ExecError
	if !errors.As(err, &ee) {
		return ""
	}
	out := strings.TrimSpace(tail(ee.Stderr, 20))
	if out == "" {
		out = strings.TrimSpace(tail(ee.Stdout, 20))
	}
	if out == "" {
		return ""
	}
	return fmt.Sprintf(" (%s):\n%s", strings.Join(ee.Cmd, " "), out)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// trivyArgs is the one trivy run: the image tarball, the DB in the cache
// volume, a JSON report on stdout, never failing on findings.
func trivyArgs(cfg config) []string {
	args := []string{"trivy", "image", "--input", imageTar,
		"--cache-dir", trivyCachePath,
		"--format", "json", "--exit-code", "0",
		"--no-progress", "--skip-version-check", "--disable-telemetry"}
	if cfg.DBRepository != "" {
		args = append(args, "--db-repository", cfg.DBRepository)
	}
	if cfg.Offline {
		args = append(args, "--skip-db-update", "--skip-java-db-update", "--offline-scan")
	}
	return args
}

// scanImage scans the first variant and counts the vulnerabilities.
func scanImage(ctx context.Context, client *dagger.Client, cfg config, variant *dagger.Container) (string, error) {
	report, err := client.Container().
		From(cfg.Images[imgTrivy]).
		WithMountedCache(trivyCachePath, client.CacheVolume("baseline-trivy-db")).
		WithMountedFile(imageTar, variant.AsTarball()).
		WithExec(trivyArgs(cfg)).
		Stdout(ctx)
	if err != nil {
		return "", err
	}
	n, err := countVulnerabilities(report)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d vulnerabilities in %s", n, cfg.Platforms[0]), nil
}

func countVulnerabilities(report string) (int, error) {
	var r struct {
		Results []struct {
			Vulnerabilities []json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		return 0, fmt.Errorf("reading trivy's JSON report: %v", err)
	}
	n := 0
	for _, res := range r.Results {
		n += len(res.Vulnerabilities)
	}
	return n, nil
}
