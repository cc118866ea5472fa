package report_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/lifecycle/report"
	"github.com/paved-ci/paved/pipelines/results"
)

// stageRun is one run in the trend fleet: one build, test and scan stage.
type stageRun struct {
	version string // PavedVersion; "mod:" puts it in Modules["paved"] instead
	buildS  int
	build   results.Status
	cache   *results.Cache // build's count; nil: not traced
	test    results.Status
}

// trendFleet writes the runs and returns them with the report.
func trendFleet(t *testing.T) ([]stageRun, *report.Report) {
	t.Helper()
	var runs []stageRun
	// v1.2.0: builds of 10s..100s, the first three failed, the first five
	// traced with i hits and one miss each; test skipped every other run.
	for i := range 10 {
		st := results.Passed
		if i < 3 {
			st = results.Failed
		}
		var c *results.Cache
		if i < 5 {
			c = &results.Cache{Hits: i, Misses: 1}
		}
		test := results.Passed
		if i%2 == 1 {
			test = results.Skipped
		}
		runs = append(runs, stageRun{"v1.2.0", 10 * (i + 1), st, c, test})
	}
	runs = append(runs,
		stageRun{"v1.10.0", 5, results.Passed, &results.Cache{Hits: 4}, results.Passed},
		stageRun{"mod:v1.10.0", 7, results.Passed, &results.Cache{Hits: 2, Misses: 2}, results.Passed},
		stageRun{"v1.9.0-rc.1", 30, results.Passed, nil, results.Failed},
		stageRun{"v1.2.0+dev", 8, results.Passed, &results.Cache{}, results.Passed},
		stageRun{"dev", 9, results.Passed, nil, results.Passed},
		stageRun{"", 11, results.Passed, nil, results.Passed},
	)
	dir := t.TempDir()
	for i, r := range runs {
		run := results.New(now.Add(time.Duration(i) * time.Minute))
		run.Repo = fmt.Sprintf("acme/r%d", i%4)
		if v, ok := strings.CutPrefix(r.version, "mod:"); ok {
			run.Modules = map[string]string{"paved": v}
		} else {
			run.PavedVersion = r.version
		}
		run.Add(results.Stage{Name: "build", Status: r.build, Duration: time.Duration(r.buildS) * time.Second, Cache: r.cache})
		run.Add(results.Stage{Name: "test", Status: r.test, Duration: time.Second})
		run.Add(results.Stage{Name: "scan", Status: results.Passed, Duration: time.Second})
		if err := run.Write(filepath.Join(dir, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := report.Build(report.Options{Records: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return runs, rep
}

func version(r stageRun) string {
	v := strings.TrimPrefix(r.version, "mod:")
	if v == "" {
		return report.Unknown
	}
	return v
}

func TestStageTrend(t *testing.T) {
	runs, rep := trendFleet(t)
	if len(rep.Stages) != 3 || rep.Stages[0].Stage != "build" || rep.Stages[1].Stage != "test" || rep.Stages[2].Stage != "scan" {
		t.Fatalf("stages %+v: want pipeline order build, test, scan (not by name)", rep.Stages)
	}
	build := rep.Stages[0]
	var order []string
	for _, v := range build.Versions {
		order = append(order, v.Version)
	}
	if got, want := strings.Join(order, " "), "v1.2.0 v1.9.0-rc.1 v1.10.0 v1.2.0+dev dev unknown"; got != want {
		t.Errorf("version order %q, want %q: semver oldest first, development builds, dev, unknown last", got, want)
	}

	// Every figure, recomputed from the runs as written.
	for _, v := range build.Versions {
		var ran, passed, traced, hits, misses int
		for _, r := range runs {
			if version(r) != v.Version {
				continue
			}
			ran++
			if r.build == results.Passed {
				passed++
			}
			if r.cache != nil {
				traced++
				hits += r.cache.Hits
				misses += r.cache.Misses
			}
		}
		if v.Runs != ran || v.Passed != passed || v.Traced != traced || v.Cache != (results.Cache{Hits: hits, Misses: misses}) {
			t.Errorf("%s: %+v; want runs %d passed %d traced %d cache %d/%d", v.Version, v, ran, passed, traced, hits, misses)
		}
		pct, ok := v.HitRatio()
		if ok != (hits+misses > 0) || (ok && pct != 100*float64(hits)/float64(hits+misses)) {
			t.Errorf("%s: hit ratio %v %v from %d hits, %d misses", v.Version, pct, ok, hits, misses)
		}
	}
	v12 := build.Versions[0]
	// 10s..100s: the median is between 50s and 60s; the nearest-rank p90
	// of ten values is the ninth.
	if v12.Median != 55*time.Second || v12.P90 != 90*time.Second || v12.PassRate() != 70 {
		t.Errorf("v1.2.0 build: median %v p90 %v pass rate %v", v12.Median, v12.P90, v12.PassRate())
	}
	if v := build.Versions[2]; v.Version != "v1.10.0" || v.Median != 6*time.Second || v.Runs != 2 {
		t.Errorf("v1.10.0 counts the run that names it in Modules too: %+v", v)
	}
	if v := build.Versions[3]; v.Traced != 1 {
		t.Errorf("a traced run without execs is traced: %+v", v)
	} else if _, ok := v.HitRatio(); ok {
		t.Error("zero execs give no ratio rather than 0% or 100%")
	}

	test := rep.Stages[1]
	if v := test.Versions[0]; v.Version != "v1.2.0" || v.Runs != 5 || v.Passed != 5 {
		t.Errorf("v1.2.0 test ran in 5 of 10 runs; skips are not runs: %+v", v)
	}
	if v := test.Versions[1]; v.Version != "v1.9.0-rc.1" || v.PassRate() != 0 {
		t.Errorf("v1.9.0-rc.1 test failed its only run: %+v", v)
	}

	contains(t, "markdown", rep.Markdown(),
		"| build | v1.2.0 | 10 | 70.0% | 55s | 1m30s | 66.7% (10 of 15) | 5 |",
		"| build | v1.10.0 | 2 | 100.0% | 6s | 7s | 75.0% (6 of 8) | 2 |",
		"| build | v1.2.0+dev | 1 | 100.0% | 8s | 8s | - | 1 |",
		"| build | unknown | 1 | 100.0% | 11s | 11s | - | 0 |",
	)
	h, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	contains(t, "html", h,
		"build: median duration by paved version", "build: execs served from Dagger&#39;s cache by paved version",
		"<td>v1.2.0</td><td>10</td><td>70.0%</td><td>55s</td><td>1m30s</td><td>66.7% (10 of 15)</td><td>5</td>",
	)
	if strings.Contains(h, "test: execs served") {
		t.Error("no test stage run was traced: its cache chart must be left out, not drawn at 0%")
	}
}

func TestTrendOrder(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{
		{"v1.2.0", "v1.10.0", true},
		{"v1.10.0", "v1.2.0", false},
		{"v2.0.0-rc.1", "v2.0.0", true},
		{"v9.0.0", "v1.0.0+dev", true},
		{"v1.0.0+dev", "v1.1.0+dev", true},
		{"v1.1.0+dev", "dev", true},
		{"dev", "unknown", true},
		{"unknown", "dev", false},
	} {
		if got := report.TrendOrder(c.a, c.b); got != c.less {
			t.Errorf("TrendOrder(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestPercentile(t *testing.T) {
	s := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, x := range n {
			out = append(out, time.Duration(x))
		}
		return out
	}
	for _, c := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 90, 0},
		{s(7), 90, 7},
		{s(3, 1, 2), 90, 3},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 90, 10},
		{s(4, 1, 3, 2), 50, 2},
		{s(4, 1, 3, 2), 0, 1},
		{s(4, 1, 3, 2), 100, 4},
	} {
		if got := report.Percentile(c.in, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.in, c.p, got, c.want)
		}
	}
}
