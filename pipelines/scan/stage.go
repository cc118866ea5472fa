package scan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"dagger.io/dagger"

	"github.com/aquasecurity/trivy/pkg/types"

	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/policy"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/scan/report"
)

// Report kinds the stage adds to the results directory.
const (
	KindTrivyJSON = "trivy-json"
	KindSARIF     = "sarif"
	KindSBOM      = "sbom"
	KindGitLab    = "gitlab-container-scanning"
	KindSummary   = "scan-summary"
)

// Outcome is one scan judged: trivy's report and everything derived from
// it in Go.
type Outcome struct {
	Report  *types.Report
	Outputs *report.Outputs
	Gate    *policy.Result
}

// Judge parses trivy's JSON report, derives every format and runs the
// gate. ran lists the scanners trivy ran.
func Judge(ctx context.Context, raw []byte, cfg *policy.Config, ran []string, ropts report.Options, now time.Time) (*Outcome, error) {
	r, err := report.Parse(raw)
	if err != nil {
		return nil, err
	}
	out, err := report.Convert(ctx, r, ropts)
	if err != nil {
		return nil, err
	}
	return &Outcome{Report: r, Outputs: out, Gate: cfg.EvaluateFindings(out.Findings, ran, now)}, nil
}

// Stage is the golden path's scan stage: it scans the built image (the
// first platform variant; trivy runs once per artifact) and, with Source
// or when nothing was built, the source tree; it fails when the gate does.
type Stage struct {
	Opts Options
	// Platform is the platform policy file's content and name; empty uses
	// policy.DefaultPlatform.
	Platform     []byte
	PlatformName string
	// Source also scans the source tree (secrets, misconfigurations and
	// lock files that never reach the image).
	Source bool
	// Threshold, when set, is the run's own threshold (--severity): it may
	// be stricter than the policy files, never looser.
	Threshold string
	// Now is replaced in tests.
	Now func() time.Time
}

func (Stage) String() string { return "scan" }

// Mandated: platform policy may forbid skipping the scan.
func (Stage) Mandated() bool { return true }

// Skip only when there is nothing to scan at all.
func (st Stage) Skip(s *pipeline.State) (bool, string) {
	if len(s.Variants) == 0 && s.Source == nil {
		return true, "no image was built and there is no source directory"
	}
	return false, ""
}

// Validate checks the run's own inputs without an engine or source: the
// platform policy parses and the threshold is a severity no looser than
// the platform's (the app's policy files are read when the stage runs).
func (st Stage) Validate() error {
	if err := st.Opts.Validate(); err != nil {
		return err
	}
	p := policy.DefaultPlatform()
	if len(st.Platform) > 0 {
		var err error
		if p, err = policy.ParsePlatform(label(st.PlatformName), st.Platform); err != nil {
			return err
		}
	}
	if st.Threshold == "" {
		return nil
	}
	sev, err := report.ParseSeverity(st.Threshold)
	if err != nil {
		return fmt.Errorf("severity: %w", err)
	}
	if sev > p.Threshold {
		return fmt.Errorf("severity %s is looser than the platform policy's threshold %s; a run may only make the gate stricter (%s or lower)", sev, p.Threshold, p.Threshold)
	}
	return nil
}

func label(name string) string {
	if name == "" {
		return "platform policy"
	}
	return name
}

func (st Stage) now() time.Time {
	if st.Now != nil {
		return st.Now()
	}
	return time.Now()
}

func (st Stage) Run(ctx context.Context, s *pipeline.State) error {
	now := st.now()
	cfg, err := st.config(ctx, s.Source, now)
	if err != nil {
		return err
	}
	// the policy's scanners (required ∪ app's) decide what trivy runs
	opts := st.Opts
	if len(opts.Scanners) == 0 {
		opts.Scanners = MergeScanners(DefaultScanners, cfg.Policy.Scanners)
	}
	opts.Now = now
	sc := &Scanner{Client: s.Client, Images: s.Images, Opts: opts}
	// Misconfiguration checks read the image's configuration and history,
	// which every platform's variant shares (one build definition): they
	// run once, on the first variant. Loading trivy's checks costs about
	// 1.6 s per run.
	others := sc
	all := opts.ScannerList()
	if rest := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "misconfig" }); len(rest) < len(all) && len(rest) > 0 {
		o := opts
		o.Scanners = rest
		others = &Scanner{Client: s.Client, Images: s.Images, Opts: o}
	}
	type target struct {
		name string
		file *dagger.File
	}
	// every platform variant: a multi-arch base image may ship other
	// package versions per architecture. The first is "image" (its
	// reports are the SBOM and vulnerability report that get attested);
	// the others are named by platform, e.g. "image-linux-arm64".
	var targets []target
	for i, v := range s.Variants {
		name := "image"
		if i > 0 {
			p, err := v.Platform(ctx)
			if err != nil {
				return fmt.Errorf("scan: reading the platform of variant %d: %w", i+1, err)
			}
			name = "image-" + strings.ReplaceAll(string(p), "/", "-")
		}
		scanner := sc
		if i > 0 {
			scanner = others
		}
		f, err := scanner.Container(v)
		if err != nil {
			return err
		}
		targets = append(targets, target{name, f})
	}
	if st.Source || len(s.Variants) == 0 {
		f, err := sc.Source(s.Source)
		if err != nil {
			return err
		}
		targets = append(targets, target{"source", f})
	}
	// the scans run at once (each platform's trivy in its own container);
	// their reports are judged in order, so the results do not depend on
	// which finished first
	raws := make([]string, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, tg := range targets {
		wg.Go(func() { raws[i], errs[i] = tg.file.Contents(ctx) })
	}
	wg.Wait()
	var failed, scanned []string
	for i, tg := range targets {
		scanned = append(scanned, tg.name)
		raw, err := raws[i], errs[i]
		if err != nil {
			return fmt.Errorf("scan %s: trivy did not produce a report%s: %w", tg.name, offlineHint(opts, err), err)
		}
		o, err := Judge(ctx, []byte(raw), cfg, opts.ScannerList(), report.Options{}, now)
		if err != nil {
			return fmt.Errorf("scan %s: %w", tg.name, err)
		}
		if strings.HasPrefix(tg.name, "image-") && others != sc {
			o.Outputs.Markdown = append(o.Outputs.Markdown, "\nMisconfiguration checks ran once, on the first platform's variant (report `image`): every platform shares the image's configuration and history.\n"...)
		}
		st.record(s, tg.name, tg.file, o)
		if !o.Gate.Pass {
			failed = append(failed, fmt.Sprintf("%s: %s", tg.name, gateReason(o.Gate)))
		}
	}
	if s.Results != nil {
		s.Results.Scanned = scanned
	}
	if len(failed) > 0 {
		return fmt.Errorf("policy gate failed: %s", strings.Join(failed, "; "))
	}
	return nil
}

// ReportFile is the results-directory file name of a report kind this
// stage adds ("sarif-image-linux-arm64" → "trivy-image-linux-arm64.sarif"),
// or "" for a kind it does not know.
func ReportFile(kind string) string {
	for _, k := range []struct{ kind, base, ext string }{
		{KindTrivyJSON, "trivy", ".json"}, {KindSARIF, "trivy", ".sarif"}, {KindSBOM, "sbom", ".cdx.json"},
		{KindGitLab, "gl-container-scanning-report", ".json"}, {KindSummary, "scan-summary", ".md"},
	} {
		if kind == k.kind {
			return k.base + k.ext
		}
		if suffix, ok := strings.CutPrefix(kind, k.kind+"-"); ok {
			return k.base + "-" + suffix + k.ext
		}
	}
	return ""
}

func (st Stage) record(s *pipeline.State, name string, raw *dagger.File, o *Outcome) {
	suffix := ""
	if name != "image" {
		suffix = "-" + name
	}
	dir := s.Client.Directory()
	add := func(kind, file string, b []byte) {
		if b == nil {
			return
		}
		s.AddReport(kind+suffix, dir.WithNewFile(file, string(b)).File(file))
	}
	s.AddReport(KindTrivyJSON+suffix, raw)
	add(KindSARIF, "trivy"+suffix+".sarif", o.Outputs.SARIF)
	add(KindSBOM, "sbom"+suffix+".cdx.json", o.Outputs.CycloneDX)
	add(KindGitLab, "gl-container-scanning-report"+suffix+".json", o.Outputs.GitLab)
	add(KindSummary, "scan-summary"+suffix+".md", append(o.Outputs.Markdown, "\n"+o.Gate.Summary()...))
	// findings are counted once: other platforms' variants mostly repeat
	// the first one's; they gate, and their reports are kept
	if s.Results != nil && !strings.HasPrefix(name, "image-") {
		if s.Results.Findings == nil {
			s.Results.Findings = map[string]int{}
		}
		for k, v := range o.Outputs.Counts {
			s.Results.Findings[k] += v
		}
		// the exceptions in effect, for the platform report (who owns
		// what, what expires); one entry per file line
		seen := map[string]bool{}
		for _, x := range s.Results.Exceptions {
			seen[x.Where] = true
		}
		for _, sup := range o.Gate.Suppressed {
			x := sup.Exception
			if seen[x.Where()] {
				continue
			}
			seen[x.Where()] = true
			s.Results.Exceptions = append(s.Results.Exceptions, results.Exception{ID: x.ID, Owner: x.Owner, Reason: x.Reason, Expires: x.Expires, Where: x.Where()})
		}
	}
}

func gateReason(r *policy.Result) string {
	var parts []string
	if n := len(r.Failed); n > 0 {
		var ids []string
		for i, f := range r.Failed {
			if i == 5 {
				ids = append(ids, "…")
				break
			}
			ids = append(ids, f.ID)
		}
		parts = append(parts, fmt.Sprintf("%d findings at or above %s (%s)", n, r.Threshold, strings.Join(ids, ", ")))
	}
	if len(r.MissingScanners) > 0 {
		parts = append(parts, "required scanners did not run: "+strings.Join(r.MissingScanners, ", "))
	}
	return strings.Join(parts, "; ")
}

// config reads the app's policy files from the source directory. A file
// that exists but cannot be read is an error: the gate never passes on an
// input it could not see.
func (st Stage) config(ctx context.Context, src *dagger.Directory, now time.Time) (*policy.Config, error) {
	return LoadConfig(ctx, src, st.Platform, st.PlatformName, st.Threshold, now)
}

// LoadConfig builds the gate's configuration: the platform policy (its
// content and name; empty uses policy.DefaultPlatform), the app's policy
// files read from src, and a run threshold that may only be stricter.
func LoadConfig(ctx context.Context, src *dagger.Directory, platform []byte, platformName, threshold string, now time.Time) (*policy.Config, error) {
	p := policy.DefaultPlatform()
	if len(platform) > 0 {
		name := platformName
		if name == "" {
			name = "platform policy"
		}
		var err error
		if p, err = policy.ParsePlatform(name, platform); err != nil {
			return nil, err
		}
	}
	files := map[string][]byte{}
	if src != nil {
		for _, rel := range []string{policy.AppPolicyFile, policy.ExceptionsFile, policy.TrivyIgnoreFile, policy.TrivyIgnoreYAMLFile} {
			ok, err := src.Exists(ctx, rel)
			if err != nil {
				return nil, fmt.Errorf("%s: cannot check the source directory: %w", rel, err)
			}
			if !ok {
				continue
			}
			c, err := src.File(rel).Contents(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: cannot read: %w", rel, err)
			}
			files[rel] = []byte(c)
		}
	}
	cfg, err := policy.Build(p, files, now)
	if err != nil {
		return nil, fmt.Errorf("scan policy: %w", err)
	}
	if threshold != "" {
		sev, err := report.ParseSeverity(threshold)
		if err != nil {
			return nil, fmt.Errorf("severity: %w", err)
		}
		if sev > cfg.Policy.Threshold {
			return nil, fmt.Errorf("severity %s is looser than the policy's threshold %s (%s); a run may only lower it", sev, cfg.Policy.Threshold, policySource(cfg.Policy))
		}
		cfg.Policy.Threshold = sev
	}
	return cfg, nil
}

func policySource(e policy.Effective) string {
	if e.App != "" {
		return e.App + ", " + e.Platform
	}
	return e.Platform
}

// MergeScanners is a followed by the scanners of b it lacks.
func MergeScanners(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// offlineHint explains the one failure --offline causes by design: trivy
// refuses to start without a DB, and the cache volume has none yet (a new
// engine, or its cache was pruned).
func offlineHint(o Options, err error) string {
	var ee *dagger.ExecError
	if !o.Offline || !errors.As(err, &ee) || !strings.Contains(ee.Stderr+ee.Stdout, "cannot be specified on the first run") {
		return ""
	}
	return " (--offline: the engine's trivy cache volume has no vulnerability DB yet — run once without --offline, or with --db-repository pointing at a reachable mirror, to fill it)"
}
