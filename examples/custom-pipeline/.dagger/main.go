// CustomPipeline is an application's own Dagger module: it installs paved's
// build and test modules and adds its own smoke stage after the tests.
package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/custom-pipeline/internal/dagger"
)

// CustomPipeline is this application's pipeline.
type CustomPipeline struct{}

// Check builds the app with paved's build module, tests it with paved's
// test module, then starts the native image and calls /healthz.
func (m *CustomPipeline) Check(
	ctx context.Context,
	// Repository root, with .git (paved reads version and commit from git).
	source *dagger.Directory,
	// The app's folder inside source.
	// +default="examples/custom-pipeline"
	dir string,
) (string, error) {
	variants, err := dag.Build().Go(source, dagger.BuildGoOpts{Dir: dir, Main: "./cmd/quote", Platforms: []string{"linux/amd64"}}).Variants(ctx)
	if err != nil {
		return "", fmt.Errorf("build: %w", err)
	}
	report := dag.Test().Go(source, dagger.TestGoOpts{Dir: dir})
	passed, err := report.Passed(ctx)
	if err != nil {
		return "", fmt.Errorf("test: %w", err)
	}
	if !passed {
		failing, _ := report.Failing(ctx)
		return "", fmt.Errorf("test: failing %s", strings.Join(failing, ", "))
	}
	app := variants[0].WithExposedPort(8080).AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})
	// alpine pinned by its index digest (docker-library/repo-info
	// repos/alpine/remote/3.24.md @ 1746b58749182f00f5d2c26a53fff697cfce2c81);
	// Dagger waits for the service's port before the client runs.
	out, err := dag.Container().
		From("alpine:3.24@sha256:5b02b42e375f7426f8d65c3af331ca05d9878f9989230354504e0b9dfd431f60").
		WithServiceBinding("app", app).
		WithExec([]string{"wget", "-qO-", "http://app:8080/healthz"}).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("smoke: %w", err)
	}
	return "build: passed\ntest: passed\nsmoke: " + strings.TrimSpace(out) + "\n", nil
}
