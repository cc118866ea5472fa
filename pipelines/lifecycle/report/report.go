// Package report aggregates paved run records (results.json) from many
// application repositories into the platform team's view: who runs which
// module version, how healthy each version's pipelines are, which stages
// fail most, how each stage's duration, pass rate and cache hits trend over
// paved versions, and which scan exceptions run out soon.
package report

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/lifecycle"
	"github.com/paved-ci/paved/pipelines/results"
)

// RootModule is the key of the root module's version: results.Run.PavedVersion.
const RootModule = "paved"

// Unknown labels runs that did not record a version.
const Unknown = "unknown"

// Options for Build.
type Options struct {
	// Records is a folder searched recursively for *.json run records.
	Records string
	// Paved is an optional paved clone whose tags define the newest releases.
	Paved string
	Now   time.Time
	// ExpiringWithin is how far ahead exceptions are listed (default 14 days).
	ExpiringWithin time.Duration
}

// Skip is a record that could not be used.
type Skip struct {
	Path   string
	Reason string
}

// Report is the aggregate.
type Report struct {
	Generated time.Time
	Read      int
	Skipped   []Skip
	Repos     int
	// Adoption per module, modules sorted by name with the root first.
	Adoption []Adoption
	// Health per root-module version, newest first.
	Health []Health
	// Stages is each stage's trend over root-module versions.
	Stages []StageTrend
	// FailingStages are the stages failing most, most first.
	FailingStages []StageFailures
	// HasExceptions is set when any record carries exceptions.
	HasExceptions  bool
	Exceptions     []ExceptionRow
	ExpiringWithin time.Duration
}

// Adoption is one module's spread over versions, from each repository's latest run.
type Adoption struct {
	Module   string
	Newest   string
	Versions []VersionRepos
	// Behind counts repositories not on Newest.
	Behind int
}

// VersionRepos is how many repositories run a version.
type VersionRepos struct {
	Version string
	Repos   []string
	// Behind is how many known releases are newer (-1 for unknown).
	Behind int
}

// Health is the pipeline record of one version.
type Health struct {
	Version string
	Runs    int
	Passed  int
}

// SuccessRate is Passed/Runs in percent.
func (h Health) SuccessRate() float64 {
	if h.Runs == 0 {
		return 0
	}
	return 100 * float64(h.Passed) / float64(h.Runs)
}

// StageFailures counts a stage's failures.
type StageFailures struct {
	Stage      string
	Failures   int
	Repos      int
	LastReason string
}

// ExceptionRow is an exception in force in a repository's latest run.
type ExceptionRow struct {
	Repo string
	results.Exception
	Expired bool
}

type record struct {
	path string
	run  *results.Run
}

// Build reads the records and aggregates them. Bad records are skipped
// and counted; only an unreadable records folder is an error.
func Build(o Options) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.ExpiringWithin == 0 {
		o.ExpiringWithin = 14 * 24 * time.Hour
	}
	st, err := os.Stat(o.Records)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--records %s: not a folder of run records (results.json files)", o.Records)
	}
	rep := &Report{Generated: o.Now.UTC(), ExpiringWithin: o.ExpiringWithin}
	var recs []record
	err = filepath.WalkDir(o.Records, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skip{p, err.Error()})
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		rel, _ := filepath.Rel(o.Records, p)
		b, err := os.ReadFile(p)
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skip{rel, err.Error()})
			return nil
		}
		r, err := results.Decode(b, rel)
		if err != nil {
			rep.Skipped = append(rep.Skipped, Skip{rel, strings.TrimPrefix(err.Error(), rel+": ")})
			return nil
		}
		recs = append(recs, record{rel, r})
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Read = len(recs)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].run.Started.Before(recs[j].run.Started) })

	latest := map[string]*results.Run{}
	for _, r := range recs {
		latest[repoOf(r.run)] = r.run
	}
	rep.Repos = len(latest)

	tags, err := releasedVersions(o.Paved)
	if err != nil {
		return nil, err
	}
	rep.Adoption = adoption(latest, tags)
	rep.Health = health(recs)
	rep.Stages = trends(recs)
	rep.FailingStages = failing(recs)
	for repo, r := range latest {
		for _, x := range r.Exceptions {
			rep.HasExceptions = true
			if !x.Expires.IsZero() && x.Expires.Sub(o.Now) <= o.ExpiringWithin {
				rep.Exceptions = append(rep.Exceptions, ExceptionRow{Repo: repo, Exception: x, Expired: !o.Now.Before(x.Expires)})
			}
		}
	}
	sort.Slice(rep.Exceptions, func(i, j int) bool {
		a, b := rep.Exceptions[i], rep.Exceptions[j]
		if !a.Expires.Equal(b.Expires) {
			return a.Expires.Before(b.Expires)
		}
		return a.Repo+a.ID < b.Repo+b.ID
	})
	return rep, nil
}

func repoOf(r *results.Run) string {
	if r.Repo == "" {
		return Unknown
	}
	return r.Repo
}

// versions of each module a run used: Modules plus PavedVersion for the root.
func versionsOf(r *results.Run) map[string]string {
	out := map[string]string{}
	for k, v := range r.Modules {
		out[k] = v
	}
	if _, ok := out[RootModule]; !ok && r.PavedVersion != "" {
		out[RootModule] = r.PavedVersion
	}
	return out
}

// releasedVersions reads the release tags of every module of a paved
// clone, keyed by dagger.json name.
func releasedVersions(clone string) (map[string][]string, error) {
	out := map[string][]string{}
	if clone == "" {
		return out, nil
	}
	mods, err := lifecycle.Discover(clone)
	if err != nil {
		return nil, fmt.Errorf("--paved-repo %s: %v", clone, err)
	}
	for _, m := range mods {
		vs, err := lifecycle.Versions(clone, m.TagPrefix, false)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			out[m.DaggerName] = append(out[m.DaggerName], v.String())
		}
	}
	return out, nil
}

func adoption(latest map[string]*results.Run, tags map[string][]string) []Adoption {
	byMod := map[string]map[string][]string{}
	for repo, r := range latest {
		vs := versionsOf(r)
		if len(vs) == 0 {
			vs = map[string]string{RootModule: Unknown}
		}
		for mod, v := range vs {
			if byMod[mod] == nil {
				byMod[mod] = map[string][]string{}
			}
			byMod[mod][v] = append(byMod[mod][v], repo)
		}
	}
	var out []Adoption
	for mod, vers := range byMod {
		known := map[string]gitmeta.Semver{}
		for _, t := range tags[mod] {
			sv, _ := gitmeta.ParseSemver(t)
			known[t] = sv
		}
		for v := range vers {
			if sv, ok := gitmeta.ParseSemver(v); ok {
				known[v] = sv
			}
		}
		a := Adoption{Module: mod}
		var newest *gitmeta.Semver
		for v, sv := range known {
			if newest == nil || gitmeta.Compare(sv, *newest) > 0 {
				s := sv
				s.Raw = v
				newest = &s
			}
		}
		if newest != nil {
			a.Newest = newest.Raw
		}
		for v, repos := range vers {
			sort.Strings(repos)
			vr := VersionRepos{Version: v, Repos: repos, Behind: -1}
			if sv, ok := gitmeta.ParseSemver(v); ok {
				vr.Behind = 0
				for _, k := range known {
					if gitmeta.Compare(k, sv) > 0 {
						vr.Behind++
					}
				}
			}
			if v != a.Newest {
				a.Behind += len(repos)
			}
			a.Versions = append(a.Versions, vr)
		}
		sort.Slice(a.Versions, func(i, j int) bool { return newer(a.Versions[i].Version, a.Versions[j].Version) })
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Module == RootModule) != (out[j].Module == RootModule) {
			return out[i].Module == RootModule
		}
		return out[i].Module < out[j].Module
	})
	return out
}

// newer orders versions newest first, non-versions last by name.
func newer(a, b string) bool {
	sa, oka := gitmeta.ParseSemver(a)
	sb, okb := gitmeta.ParseSemver(b)
	switch {
	case oka && okb:
		return gitmeta.Compare(sa, sb) > 0
	case oka != okb:
		return oka
	}
	return a < b
}

func health(recs []record) []Health {
	byVer := map[string]*Health{}
	for _, r := range recs {
		v := versionsOf(r.run)[RootModule]
		if v == "" {
			v = Unknown
		}
		h := byVer[v]
		if h == nil {
			h = &Health{Version: v}
			byVer[v] = h
		}
		h.Runs++
		if r.run.Passed() {
			h.Passed++
		}
	}
	var out []Health
	for _, h := range byVer {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return newer(out[i].Version, out[j].Version) })
	return out
}

// Median of ds (the mean of the middle two for an even count).
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func failing(recs []record) []StageFailures {
	by := map[string]*StageFailures{}
	repos := map[string]map[string]bool{}
	for _, r := range recs {
		for _, s := range r.run.Stages {
			if s.Status != results.Failed {
				continue
			}
			f := by[s.Name]
			if f == nil {
				f = &StageFailures{Stage: s.Name}
				by[s.Name] = f
				repos[s.Name] = map[string]bool{}
			}
			f.Failures++
			repos[s.Name][repoOf(r.run)] = true
			if s.Reason != "" {
				f.LastReason = s.Reason
			}
		}
	}
	var out []StageFailures
	for name, f := range by {
		f.Repos = len(repos[name])
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Failures != out[j].Failures {
			return out[i].Failures > out[j].Failures
		}
		return out[i].Stage < out[j].Stage
	})
	if len(out) > 10 {
		out = out[:10]
	}
	return out
}
