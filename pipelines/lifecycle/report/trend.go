package report

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/results"
)

// StageTrend is one stage across paved versions, in TrendOrder.
type StageTrend struct {
	Stage    string
	Versions []StageVersion
}

// StageVersion is a stage's record under one paved version.
type StageVersion struct {
	Version string
	// Runs ran the stage (passed or failed); skips are left out of
	// every figure here.
	Runs, Passed int
	// Median and P90 (nearest rank) of the durations of those runs.
	Median, P90 time.Duration
	// Cache sums the exec counts of the Traced runs: those recorded with
	// `paved-ci trace`, the only ones that carry a count.
	Cache  results.Cache
	Traced int
}

// PassRate is Passed/Runs in percent.
func (s StageVersion) PassRate() float64 {
	if s.Runs == 0 {
		return 0
	}
	return 100 * float64(s.Passed) / float64(s.Runs)
}

// HitRatio is the share of counted execs served from Dagger's cache, in
// percent; ok is false when no traced run counted an exec, so "no data"
// never reads as 0%.
func (s StageVersion) HitRatio() (pct float64, ok bool) {
	n := s.Cache.Hits + s.Cache.Misses
	if n == 0 {
		return 0, false
	}
	return 100 * float64(s.Cache.Hits) / float64(n), true
}

// trends groups the stages that ran by stage, then paved version. Stages
// come in pipeline order: by the earliest position they hold in any
// record, so build precedes test whatever their names.
func trends(recs []record) []StageTrend {
	type key struct{ stage, version string }
	agg := map[key]*StageVersion{}
	durs := map[key][]time.Duration{}
	pos := map[string]int{}
	for _, r := range recs {
		v := versionsOf(r.run)[RootModule]
		if v == "" {
			v = Unknown
		}
		for i, s := range r.run.Stages {
			if p, ok := pos[s.Name]; !ok || i < p {
				pos[s.Name] = i
			}
			if s.Status == results.Skipped {
				continue
			}
			k := key{s.Name, v}
			a := agg[k]
			if a == nil {
				a = &StageVersion{Version: v}
				agg[k] = a
			}
			a.Runs++
			if s.Status == results.Passed {
				a.Passed++
			}
			durs[k] = append(durs[k], s.Duration)
			if s.Cache != nil {
				a.Traced++
				a.Cache.Hits += s.Cache.Hits
				a.Cache.Misses += s.Cache.Misses
			}
		}
	}
	by := map[string]*StageTrend{}
	for k, a := range agg {
		a.Median, a.P90 = Median(durs[k]), Percentile(durs[k], 90)
		t := by[k.stage]
		if t == nil {
			t = &StageTrend{Stage: k.stage}
			by[k.stage] = t
		}
		t.Versions = append(t.Versions, *a)
	}
	var out []StageTrend
	for _, t := range by {
		sort.Slice(t.Versions, func(i, j int) bool { return TrendOrder(t.Versions[i].Version, t.Versions[j].Version) })
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if pos[out[i].Stage] != pos[out[j].Stage] {
			return pos[out[i].Stage] < pos[out[j].Stage]
		}
		return out[i].Stage < out[j].Stage
	})
	return out
}

// TrendOrder orders versions oldest first for reading a trend: releases
// and pre-releases in semver order, then development builds ("v1.2.0+dev",
// built after v1.2.0, in semver order of their base), then "dev", then
// anything else (unknown) by name.
func TrendOrder(a, b string) bool {
	ra, rb := trendRank(a), trendRank(b)
	if ra != rb {
		return ra < rb
	}
	if ra <= 1 {
		sa, _ := gitmeta.ParseSemver(a)
		sb, _ := gitmeta.ParseSemver(b)
		if c := gitmeta.Compare(sa, sb); c != 0 {
			return c < 0
		}
	}
	return a < b
}

func trendRank(v string) int {
	_, semver := gitmeta.ParseSemver(v)
	switch {
	case semver && !strings.Contains(v, "+dev"):
		return 0
	case semver:
		return 1
	case v == "dev":
		return 2
	}
	return 3
}

// Percentile is the nearest-rank p-th percentile of ds: the smallest value
// with at least p% of the values at or below it (0 for none).
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
