// Scan runs trivy once on an image or a source tree and derives every
// report format from that one run (SARIF, CycloneDX SBOM, GitLab container
// scanning, Markdown), judged by paved's policy gate with owned, expiring
// exceptions.
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/scan/internal/dagger"

	daggerlib "dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/bridge"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/scan"
	"github.com/paved-ci/paved/pipelines/scan/report"
)

// Scan is paved's scan stage.
type Scan struct{}

// Report is one trivy run, judged.
type Report struct {
	// Whether the policy gate passed.
	Passed bool
	// The gate's verdict: what failed, what was suppressed and by whom,
	// which exceptions expire soon.
	Gate string
	// Findings by severity, e.g. "CRITICAL=0 HIGH=2 MEDIUM=5".
	Counts string
	// trivy's JSON report (the one run every format comes from).
	TrivyJson *dagger.File
	// +private
	Sarif *dagger.File
	// +private
	Sbom *dagger.File
	// +private
	Gitlab *dagger.File
	// +private
	Markdown *dagger.File
}

// Report returns the report in one format: json (trivy), sarif,
// cyclonedx, gitlab or markdown.
func (r *Report) Report(
	// json, sarif, cyclonedx, gitlab or markdown.
	// +default="json"
	format string,
) (*dagger.File, error) {
	var f *dagger.File
	switch strings.ToLower(format) {
	case "json", "trivy":
		f = r.TrivyJson
	case "sarif":
		f = r.Sarif
	case "cyclonedx", "sbom":
		f = r.Sbom
		if f == nil {
			return nil, fmt.Errorf("no CycloneDX SBOM: trivy listed no packages for this target")
		}
	case "gitlab":
		f = r.Gitlab
	case "markdown", "md":
		f = r.Markdown
	default:
		return nil, fmt.Errorf("format %q: want json, sarif, cyclonedx, gitlab or markdown", format)
	}
	return f, nil
}

// Image scans a container image (all layers, as a tarball; no registry).
//
// Not served from Dagger's function cache across calls: the gate's answer
// depends on the day (daily DB, expiring exceptions).
// +cache="session"
func (m *Scan) Image(
	ctx context.Context,
	// The image, e.g. --container=alpine:3.20 or a container another function built.
	container *dagger.Container,
	// The app's repository, for its .paved/policy.yaml, .paved/exceptions.yaml and .trivyignore.
	// +optional
	source *dagger.Directory,
	// Severity at or above which the gate fails; only stricter than the policy.
	// +optional
	severity string,
	// Platform policy file.
	// +optional
	platformPolicy *dagger.File,
	// Mirror of trivy's vulnerability DB.
	// +optional
	dbRepository string,
	// Use only the DB already cached; download nothing.
	// +optional
	offline bool,
	// Also run the license scanner.
	// +optional
	license bool,
	// Folders trivy skips (globs, as trivy's --skip-dirs), e.g. **/testdata.
	// +optional
	skipDirs []string,
	// Files trivy skips (globs, as trivy's --skip-files), e.g. **/*.pem.
	// +optional
	skipFiles []string,
	// Tool image overrides as name=reference, e.g. trivy=mirror.example.com/trivy:0.74.0.
	// +optional
	imageOverride []string,
) (*Report, error) {
	opts := scan.Options{DBRepository: dbRepository, Offline: offline, License: license, SkipDirs: skipDirs, SkipFiles: skipFiles}
	return m.run(ctx, container, nil, source, severity, platformPolicy, opts, imageOverride)
}

// Source scans a source tree: lock files, secrets and misconfigurations.
//
// Not served from Dagger's function cache across calls: the gate's answer
// depends on the day (daily DB, expiring exceptions).
// +cache="session"
func (m *Scan) Source(
	ctx context.Context,
	// The repository (its policy files are read from its root).
	source *dagger.Directory,
	// Severity at or above which the gate fails; only stricter than the policy.
	// +optional
	severity string,
	// Platform policy file.
	// +optional
	platformPolicy *dagger.File,
	// Mirror of trivy's vulnerability DB.
	// +optional
	dbRepository string,
	// Use only the DB already cached; download nothing.
	// +optional
	offline bool,
	// Also run the license scanner.
	// +optional
	license bool,
	// Folders trivy skips (globs, as trivy's --skip-dirs), e.g. **/testdata.
	// +optional
	skipDirs []string,
	// Files trivy skips (globs, as trivy's --skip-files), e.g. **/*.pem.
	// +optional
	skipFiles []string,
	// Tool image overrides as name=reference.
	// +optional
	imageOverride []string,
) (*Report, error) {
	opts := scan.Options{DBRepository: dbRepository, Offline: offline, License: license, SkipDirs: skipDirs, SkipFiles: skipFiles}
	return m.run(ctx, nil, source, source, severity, platformPolicy, opts, imageOverride)
}

// run scans ctr (or tree) with opts (DB, offline, license, skips), the
// gate configured from policySrc's files.
func (m *Scan) run(ctx context.Context, ctr *dagger.Container, tree, policySrc *dagger.Directory, severity string, platformPolicy *dagger.File, opts scan.Options, overrides []string) (*Report, error) {
	imgs, err := images.FromArgs(overrides, "", "")
	if err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	lib, err := bridge.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer lib.Close()
	var platform []byte
	if platformPolicy != nil {
		c, err := platformPolicy.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading platform-policy: %w", err)
		}
		platform = []byte(c)
	}
	var src *daggerlib.Directory
	if policySrc != nil {
		if src, err = bridge.Directory(ctx, lib, policySrc); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	cfg, err := scan.LoadConfig(ctx, src, platform, "platform-policy", severity, now)
	if err != nil {
		return nil, err
	}
	opts.Now = now
	opts.Scanners = scan.MergeScanners(scan.DefaultScanners, cfg.Policy.Scanners)
	sc := &scan.Scanner{Client: lib, Images: imgs, Opts: opts}
	var raw *daggerlib.File
	if ctr != nil {
		c, err := bridge.Container(ctx, lib, ctr)
		if err != nil {
			return nil, err
		}
		raw, err = sc.Container(c)
		if err != nil {
			return nil, err
		}
	} else {
		raw, err = sc.Source(src)
		if err != nil {
			return nil, err
		}
	}
	body, err := raw.Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("trivy did not produce a report: %w", err)
	}
	o, err := scan.Judge(ctx, []byte(body), cfg, opts.ScannerList(), report.Options{}, now)
	if err != nil {
		return nil, err
	}
	r := &Report{Passed: o.Gate.Pass, Gate: o.Gate.Summary(), Counts: counts(o.Outputs.Counts)}
	if r.TrivyJson, err = fileOf(ctx, raw); err != nil {
		return nil, err
	}
	r.Sarif = dag.Directory().WithNewFile("trivy.sarif", string(o.Outputs.SARIF)).File("trivy.sarif")
	r.Gitlab = dag.Directory().WithNewFile("gl-container-scanning-report.json", string(o.Outputs.GitLab)).File("gl-container-scanning-report.json")
	r.Markdown = dag.Directory().WithNewFile("scan-summary.md", string(o.Outputs.Markdown)+"\n"+o.Gate.Summary()).File("scan-summary.md")
	if o.Outputs.CycloneDX != nil {
		r.Sbom = dag.Directory().WithNewFile("sbom.cdx.json", string(o.Outputs.CycloneDX)).File("sbom.cdx.json")
	}
	return r, nil
}

func fileOf(ctx context.Context, f *daggerlib.File) (*dagger.File, error) {
	id, err := bridge.IDOf(ctx, f)
	if err != nil {
		return nil, err
	}
	return dag.LoadFileFromID(dagger.FileID(id)), nil
}

func counts(m map[string]int) string {
	var parts []string
	for _, s := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"} {
		parts = append(parts, fmt.Sprintf("%s=%d", s, m[s]))
	}
	return strings.Join(parts, " ")
}
