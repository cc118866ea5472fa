// Package golden is paved's golden path: the one ordered list of stages,
// and the jobs built from it (check today; ship as stages land).
package golden

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/build"
	"github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/builder/dockerfile"
	"github.com/paved-ci/paved/pipelines/builder/golang"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/gotool"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/policy"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/scan"
)

// Options are the golden path's inputs.
type Options struct {
	// Builder is "auto" (or "") to take the first of Builders that fits
	// the app folder, or a builder's name ("go", "dockerfile").
	Builder string
	// App is what the builder is asked with: folder, platforms, and the
	// options of one builder or another (refused where they do not apply).
	App builder.Options
	// Scan configures the scan stage and its policy gate (threshold,
	// platform policy, DB repository, offline mode).
	Scan scan.Stage
	// Skip names stages the user skips explicitly.
	Skip []string
	// ForbidSkip names stages the user may not skip; the platform
	// policy's mandatedStages (in Scan.Platform) are added to it.
	ForbidSkip []string
	// Git overrides what is read from .git (CI checkouts without history).
	Git GitOverride
	// ContinueOnFailure records a failing stage in the results instead of
	// returning an error, so CI can export them and fail afterwards.
	ContinueOnFailure bool
}

// Builders are the ways to build an app, in the order "auto" tries them:
// a Dockerfile wins (any language, the team's own recipe), else a Go
// module is built natively. A new builder is a package and a line here.
var Builders = []builder.Builder{dockerfile.Builder{}, golang.Builder{}}

// GitOverride replaces git metadata read from the source.
type GitOverride struct {
	Version    string
	Commit     string
	CommitTime string // Unix seconds or RFC 3339
}

// CheckStages is what a pull request runs: the builder's stages (build,
// then its lint and test), then the scan. The order is this slice;
// nothing else decides it.
func CheckStages(b builder.Builder, opts Options) ([]pipeline.Stage, error) {
	stages, err := b.Stages(opts.App)
	if err != nil {
		return nil, err
	}
	return append(stages, opts.Scan), nil
}

// ValidateArgs checks every input that needs neither the source nor an
// engine, so bad input fails in the first second, before anything runs.
func ValidateArgs(opts Options) error {
	if _, err := builder.Lookup(Builders, opts.Builder); err != nil {
		return err
	}
	if err := gotool.CheckDir(opts.App.Dir); err != nil {
		return err
	}
	if _, err := build.ParsePlatforms(opts.App.Platforms); err != nil {
		return err
	}
	if err := opts.Scan.Validate(); err != nil {
		return err
	}
	if _, err := Mandated(opts); err != nil {
		return err
	}
	if opts.Git.Commit != "" || opts.Git.CommitTime != "" {
		if opts.Git.Commit == "" {
			return fmt.Errorf("commit-time is set without commit: give both, or neither to read them from .git")
		}
		if _, err := OverrideInfo(opts.Git); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the stage list against the skip rules.
func Validate(opts Options, stages []pipeline.Stage) error {
	known := map[string]bool{}
	for _, st := range stages {
		known[st.String()] = true
	}
	for _, s := range opts.Skip {
		if !known[s] {
			return fmt.Errorf("skip %q: no such stage (stages: %s)", s, strings.Join(pipeline.Names(stages), ", "))
		}
		if s == "build" {
			return fmt.Errorf("skip %q: every later stage needs the build; it cannot be skipped", s)
		}
	}
	forbid, err := Mandated(opts)
	if err != nil {
		return err
	}
	for _, s := range opts.Skip {
		for _, f := range forbid {
			if s == f {
				return fmt.Errorf("skip %q: platform policy requires the %s stage; remove it from --skip", s, s)
			}
		}
	}
	return nil
}

// Plan checks the inputs, chooses the builder (file lookups in src, no
// container) and returns the stages with tail appended (ship's sign and
// publish). Everything a user can get wrong fails here.
func Plan(ctx context.Context, src *dagger.Directory, imgs *images.Set, opts *Options, tail ...pipeline.Stage) (builder.Builder, []pipeline.Stage, error) {
	if err := ValidateArgs(*opts); err != nil {
		return nil, nil, err
	}
	opts.App.Images = imgs
	b, err := builder.Choose(ctx, src, Builders, opts.Builder, opts.App)
	if err != nil {
		return nil, nil, err
	}
	stages, err := CheckStages(b, *opts)
	if err != nil {
		return nil, nil, err
	}
	stages = append(stages, tail...)
	if err := Validate(*opts, stages); err != nil {
		return nil, nil, err
	}
	return b, stages, nil
}

// Outcome of a job.
type Outcome struct {
	State *pipeline.State
	// Err is the first stage failure (nil when all passed).
	Err error
	// Results is the results directory: results.json and every report.
	Results *dagger.Directory
}

// Check runs CheckStages on src.
func Check(ctx context.Context, client *dagger.Client, src *dagger.Directory, imgs *images.Set, opts Options) (*Outcome, error) {
	b, stages, err := Plan(ctx, src, imgs, &opts)
	if err != nil {
		return nil, err
	}
	st := pipeline.NewState(client, src, imgs, gitmeta.Info{})
	st.Results.Builder = b.Name()
	st.Skip = set(opts.Skip)
	forbid, _ := Mandated(opts) // checked by Validate
	st.ForbidSkip = set(forbid)
	runErr, err := runWithGit(ctx, stages, st, opts.Git)
	if err != nil {
		return nil, err
	}
	out := &Outcome{State: st, Err: runErr}
	out.Results, err = ResultsDir(client, st)
	if err != nil {
		return nil, err
	}
	if runErr != nil && !opts.ContinueOnFailure {
		return out, runErr
	}
	return out, nil
}

// runWithGit starts the stages that need only the source (the tests),
// reads git meanwhile, then runs the stages in order: the build needs git
// (labels, version), the tests do not. err is a git failure; runErr the
// first stage failure.
func runWithGit(ctx context.Context, stages []pipeline.Stage, st *pipeline.State, o GitOverride) (runErr, err error) {
	run := pipeline.Start(ctx, stages, st)
	git, err := Git(ctx, st.Client, st.Source, st.Images, o)
	if err != nil {
		run.Stop()
		return nil, err
	}
	st.SetGit(git)
	return run.Finish(), nil
}

// Mandated is ForbidSkip plus the platform policy's mandatedStages.
func Mandated(opts Options) ([]string, error) {
	out := append([]string(nil), opts.ForbidSkip...)
	if len(opts.Scan.Platform) > 0 {
		name := opts.Scan.PlatformName
		if name == "" {
			name = "platform policy"
		}
		p, err := policy.ParsePlatform(name, opts.Scan.Platform)
		if err != nil {
			return nil, err
		}
		out = append(out, p.MandatedStages...)
	}
	return out, nil
}

// Git reads git metadata from src, unless overridden.
func Git(ctx context.Context, client *dagger.Client, src *dagger.Directory, imgs *images.Set, o GitOverride) (gitmeta.Info, error) {
	if o.Commit == "" {
		if o.CommitTime != "" {
			return gitmeta.Info{}, fmt.Errorf("commit-time is set without commit: give both, or neither to read them from .git")
		}
		in, err := build.GitInfo(ctx, client, src, imgs)
		if err != nil {
			return gitmeta.Info{}, err
		}
		if o.Version != "" {
			in.ExactTags = []string{"v" + strings.TrimPrefix(o.Version, "v")}
			in.Dirty = false
		}
		return in, nil
	}
	return OverrideInfo(o)
}

// OverrideInfo builds git metadata from explicit values.
func OverrideInfo(o GitOverride) (gitmeta.Info, error) {
	if len(o.Commit) < 7 || strings.Trim(strings.ToLower(o.Commit), "0123456789abcdef") != "" {
		return gitmeta.Info{}, fmt.Errorf("commit %q is not a git commit hash (want 7 to 40 hex digits)", o.Commit)
	}
	in := gitmeta.Info{Commit: strings.ToLower(o.Commit)}
	switch {
	case o.CommitTime == "":
		return gitmeta.Info{}, fmt.Errorf("commit is set without commit-time: give the commit's time (Unix seconds or RFC 3339) so the image is reproducible")
	default:
		if sec, err := strconv.ParseInt(o.CommitTime, 10, 64); err == nil {
			in.CommitTime = time.Unix(sec, 0).UTC()
		} else if t, err := time.Parse(time.RFC3339, o.CommitTime); err == nil {
			in.CommitTime = t.UTC()
		} else {
			return gitmeta.Info{}, fmt.Errorf("commit-time %q: want Unix seconds (git log -1 --format=%%ct) or RFC 3339", o.CommitTime)
		}
	}
	if o.Version != "" {
		in.ExactTags = []string{"v" + strings.TrimPrefix(o.Version, "v")}
	}
	return in, nil
}

// reportNames are the file names reports get in the results directory.
var reportNames = map[string]string{
	"junit":                        "junit.xml",
	"coverage":                     "coverage.out",
	"test-json":                    "test.json",
	scan.KindTrivyJSON:             "trivy.json",
	scan.KindSARIF:                 "trivy.sarif",
	scan.KindSBOM:                  "sbom.cdx.json",
	scan.KindGitLab:                "gl-container-scanning-report.json",
	scan.KindSummary:               "scan-summary.md",
	scan.KindTrivyJSON + "-source": "trivy-source.json",
	scan.KindSARIF + "-source":     "trivy-source.sarif",
	scan.KindSBOM + "-source":      "sbom-source.cdx.json",
	scan.KindGitLab + "-source":    "gl-container-scanning-report-source.json",
	scan.KindSummary + "-source":   "scan-summary-source.md",
}

// ResultsDir assembles the results directory from the state.
func ResultsDir(client *dagger.Client, st *pipeline.State) (*dagger.Directory, error) {
	dir := client.Directory()
	kinds := make([]string, 0, len(st.Reports))
	for k := range st.Reports {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	st.Results.Files = map[string]string{}
	for _, k := range kinds {
		name := reportNames[k]
		if name == "" {
			name = scan.ReportFile(k)
		}
		if name == "" {
			name = path.Base(k)
		}
		st.Results.Files[k] = name
		dir = dir.WithFile(name, st.Reports[k])
	}
	b, err := json.MarshalIndent(st.Results, "", "  ")
	if err != nil {
		return nil, err
	}
	return dir.WithNewFile(results.FileName, string(b)+"\n"), nil
}
