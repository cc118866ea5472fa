// PavedDev is paved's own CI module: the platform-team tooling of
// ci/cmd/paved-platform as Dagger functions (the API check and the
// adoption report; releases tag the host repository and stay a host
// command).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"dagger/paved-dev/internal/dagger"

	"github.com/paved-ci/paved/pipelines/lifecycle"
	"github.com/paved-ci/paved/pipelines/lifecycle/api"
	"github.com/paved-ci/paved/pipelines/lifecycle/report"
)

// PavedDev holds paved's own CI functions.
type PavedDev struct{}

// ApiCheck fails when a module's checked-in api.json no longer matches its
// Go source, naming the modules and the command that fixes it.
func (m *PavedDev) ApiCheck(
	ctx context.Context,
	// paved's repository root.
	// +defaultPath="/"
	source *dagger.Directory,
) (string, error) {
	root, err := export(ctx, source, "source")
	if err != nil {
		return "", err
	}
	mods, err := lifecycle.Discover(root)
	if err != nil {
		return "", err
	}
	stale, err := api.Check(root, mods)
	if err != nil {
		return "", err
	}
	if len(stale) > 0 {
		var names []string
		for _, s := range stale {
			names = append(names, s.Module.Name)
		}
		return "", fmt.Errorf("api.json is stale for: %s; run `go run ./ci/cmd/paved-platform api --write` and commit", strings.Join(names, ", "))
	}
	return fmt.Sprintf("api.json current for %d modules\n", len(mods)), nil
}

// PlatformReport aggregates a folder of run records (results.json files)
// into report.md and a self-contained report.html with charts: adoption
// by module version, success rate per version, each stage's duration,
// pass rate and cache hits by version, top failing stages, exceptions
// expiring soon.
func (m *PavedDev) PlatformReport(
	ctx context.Context,
	// Folder of run records, searched recursively.
	records *dagger.Directory,
	// List exceptions expiring within this many days.
	// +default=14
	expiringWithinDays int,
) (*dagger.Directory, error) {
	dir, err := export(ctx, records, "records")
	if err != nil {
		return nil, err
	}
	r, err := report.Build(report.Options{Records: dir, Now: time.Now(), ExpiringWithin: time.Duration(expiringWithinDays) * 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	html, err := r.HTML()
	if err != nil {
		return nil, err
	}
	return dag.Directory().
		WithNewFile("report.md", r.Markdown()).
		WithNewFile("report.html", html), nil
}

// export writes d into a fresh folder of the module's own filesystem.
func export(ctx context.Context, d *dagger.Directory, name string) (string, error) {
	tmp, err := os.MkdirTemp("", "paved-dev-")
	if err != nil {
		return "", err
	}
	p := filepath.Join(tmp, name)
	if _, err := d.Export(ctx, p); err != nil {
		return "", fmt.Errorf("reading the %s directory: %w", name, err)
	}
	return p, nil
}
