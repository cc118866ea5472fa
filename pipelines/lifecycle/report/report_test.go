package report_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/internal/gittest"
	"github.com/paved-ci/paved/pipelines/lifecycle/report"
	"github.com/paved-ci/paved/pipelines/results"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type rec struct {
	repo, paved, build string
	day                int
	failed             string // failing stage, "" for a pass
	build_s, test_s    int
	exceptions         []results.Exception
}

func (r rec) run() *results.Run {
	run := results.New(now.Add(time.Duration(r.day-30) * 24 * time.Hour))
	run.Repo, run.PavedVersion = r.repo, r.paved
	if r.build != "" {
		run.Modules = map[string]string{"build": r.build}
	}
	status := func(name string) results.Status {
		if name == r.failed {
			return results.Failed
		}
		return results.Passed
	}
	run.Add(results.Stage{Name: "build", Status: status("build"), Duration: time.Duration(r.build_s) * time.Second, Reason: reason(r.failed == "build")})
	run.Add(results.Stage{Name: "test", Status: status("test"), Duration: time.Duration(r.test_s) * time.Second, Reason: reason(r.failed == "test")})
	run.Add(results.Stage{Name: "sign", Status: results.Skipped, Mandated: true})
	run.Exceptions = r.exceptions
	return run
}

func reason(failed bool) string {
	if failed {
		return "exit status 1"
	}
	return ""
}

// The cache counts of each v1.2.0 run (the fleet's traced runs).
var buildCache, testCache = results.Cache{Hits: 3, Misses: 1}, results.Cache{Hits: 1}

// records writes a fleet of runs plus broken files into a folder.
func records(t testing.TB) string {
	dir := t.TempDir()
	recs := []rec{
		{"acme/api", "v1.0.0", "v1.0.0", 1, "test", 60, 100, nil},
		{"acme/api", "v1.2.0", "v1.1.0", 5, "", 50, 80, nil},
		{"acme/api", "v1.2.0", "v1.1.0", 6, "", 70, 90, []results.Exception{{ID: "CVE-2026-1", Owner: "team-api", Reason: "no fix yet", Expires: now.Add(3 * 24 * time.Hour)}, {ID: "CVE-2026-9", Expires: now.Add(90 * 24 * time.Hour)}}},
		{"acme/web", "v1.1.0", "v1.0.0", 2, "", 40, 30, []results.Exception{{ID: "CVE-2026-7", Owner: "team-web", Expires: now.Add(24 * time.Hour)}}},
		{"acme/web", "v1.1.0", "v1.0.0", 3, "build", 10, 0, []results.Exception{{ID: "CVE-2026-2", Owner: "team-web", Expires: now.Add(-24 * time.Hour)}}},
		{"acme/cli", "v1.0.0", "", 4, "test", 20, 200, nil},
		{"acme/cli", "v1.2.0", "v1.1.0", 7, "", 30, 60, nil},
	}
	for i, r := range recs {
		run := r.run()
		if r.paved == "v1.2.0" { // traced by paved-ci trace
			run.Stages[0].Cache, run.Stages[1].Cache = &buildCache, &testCache
		}
		if err := run.Write(filepath.Join(dir, fmt.Sprintf("run-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	good, _ := json.Marshal(recs[0].run())
	bad := map[string]string{
		"bad/invalid.json":   "{not json",
		"bad/truncated.json": string(good[:len(good)/2]),
		"bad/newer.json":     `{"schemaVersion": 99, "stages": []}`,
		"bad/none.json":      `{"stages": []}`,
		"notes.txt":          "not a record, not counted",
	}
	for name, body := range bad {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	return dir
}

func build(t testing.TB) *report.Report {
	r, err := report.Build(report.Options{Records: records(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAggregate(t *testing.T) {
	r := build(t)
	if r.Read != 7 || len(r.Skipped) != 4 || r.Repos != 3 {
		t.Fatalf("read %d, skipped %v, repos %d", r.Read, r.Skipped, r.Repos)
	}
	why := map[string]string{}
	for _, s := range r.Skipped {
		why[filepath.Base(s.Path)] = s.Reason
	}
	if !strings.Contains(why["newer.json"], "schemaVersion 99 is newer") || !strings.Contains(why["none.json"], "no schemaVersion") ||
		!strings.Contains(why["invalid.json"], "not a paved results file") || !strings.Contains(why["truncated.json"], "not a paved results file") {
		t.Errorf("skip reasons: %v", why)
	}

	if len(r.Adoption) != 2 || r.Adoption[0].Module != "paved" || r.Adoption[1].Module != "build" {
		t.Fatalf("adoption modules: %+v", r.Adoption)
	}
	paved := r.Adoption[0]
	// Latest runs: api v1.2.0, cli v1.2.0, web v1.1.0.
	if paved.Newest != "v1.2.0" || paved.Behind != 1 || len(paved.Versions) != 2 {
		t.Fatalf("paved adoption: %+v", paved)
	}
	if v := paved.Versions[0]; v.Version != "v1.2.0" || strings.Join(v.Repos, ",") != "acme/api,acme/cli" || v.Behind != 0 {
		t.Errorf("v1.2.0: %+v", v)
	}
	// v1.0.0 is also known from older runs, so v1.1.0 is one release behind.
	if v := paved.Versions[1]; v.Version != "v1.1.0" || strings.Join(v.Repos, ",") != "acme/web" || v.Behind != 1 {
		t.Errorf("v1.1.0: %+v", v)
	}
	if b := r.Adoption[1]; b.Newest != "v1.1.0" || b.Behind != 1 {
		t.Errorf("build adoption: %+v", b)
	}

	if len(r.Health) != 3 {
		t.Fatalf("health: %+v", r.Health)
	}
	h := r.Health[0] // v1.2.0: three passing runs
	if h.Version != "v1.2.0" || h.Runs != 3 || h.Passed != 3 || h.SuccessRate() != 100 {
		t.Errorf("v1.2.0 health: %+v", h)
	}
	if h := r.Health[2]; h.Version != "v1.0.0" || h.Runs != 2 || h.Passed != 0 {
		t.Errorf("v1.0.0 health: %+v", h)
	}
	// Stage trends, oldest version first; sign was always skipped.
	if len(r.Stages) != 2 || r.Stages[0].Stage != "build" || r.Stages[1].Stage != "test" {
		t.Fatalf("stage trends: %+v", r.Stages)
	}
	build, test := r.Stages[0], r.Stages[1]
	if len(build.Versions) != 3 || build.Versions[0].Version != "v1.0.0" || build.Versions[2].Version != "v1.2.0" {
		t.Fatalf("build versions: %+v", build.Versions)
	}
	// v1.2.0 build: 50s, 70s, 30s, each traced.
	if v := build.Versions[2]; v.Runs != 3 || v.Median != 50*time.Second || v.P90 != 70*time.Second || v.Traced != 3 ||
		v.Cache != (results.Cache{Hits: 3 * buildCache.Hits, Misses: 3 * buildCache.Misses}) {
		t.Errorf("v1.2.0 build: %+v", v)
	}
	// v1.0.0 test: 100s and 200s, both failed, untraced.
	if v := test.Versions[0]; v.Median != 150*time.Second || v.P90 != 200*time.Second || v.PassRate() != 0 || v.Traced != 0 {
		t.Errorf("v1.0.0 test: %+v", v)
	}
	if _, ok := test.Versions[0].HitRatio(); ok {
		t.Error("an untraced version has no cache-hit ratio")
	}

	if len(r.FailingStages) != 2 || r.FailingStages[0].Stage != "test" || r.FailingStages[0].Failures != 2 || r.FailingStages[0].Repos != 2 || r.FailingStages[1].Stage != "build" {
		t.Errorf("failing: %+v", r.FailingStages)
	}

	if !r.HasExceptions || len(r.Exceptions) != 2 {
		t.Fatalf("exceptions: %+v", r.Exceptions)
	}
	if x := r.Exceptions[0]; x.ID != "CVE-2026-2" || !x.Expired || x.Repo != "acme/web" {
		t.Errorf("first exception: %+v", x)
	}
	if x := r.Exceptions[1]; x.ID != "CVE-2026-1" || x.Expired {
		t.Errorf("second exception: %+v", x)
	}
}

func TestMarkdown(t *testing.T) {
	md := build(t).Markdown()
	contains(t, "markdown", md,
		"from 7 run records of 3 repositories; 4 records skipped.",
		"### paved (newest v1.2.0, 1 repositories behind)",
		"| v1.2.0 | 2 | 0 | acme/api, acme/cli |",
		"| v1.0.0 | 2 | 0 | 0.0% |",
		"| build | v1.2.0 | 3 | 100.0% | 50s | 1m10s | 75.0% (9 of 12) | 3 |",
		"| test | v1.0.0 | 2 | 0.0% | 2m30s | 3m20s | - | 0 |",
		"| test | 2 | 2 | exit status 1 |",
		"## Exceptions expiring within 14 days",
		"| 2026-11-25 (expired) | acme/web | CVE-2026-2 | team-web |",
		"## Skipped records (4)",
	)
	if strings.Contains(md, "CVE-2026-9") || strings.Contains(md, "CVE-2026-7") {
		t.Error("an exception expiring in 90 days is not 'soon'; one dropped from a repository's latest run is gone")
	}
}

// contains fails t for each of wants missing from text, a rendering
// named what.
func contains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func TestNoExceptionsOmitsSection(t *testing.T) {
	dir := t.TempDir()
	rec{"acme/a", "v1.0.0", "", 1, "", 1, 1, nil}.run().Write(dir)
	r, err := report.Build(report.Options{Records: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := r.HTML()
	if r.HasExceptions || strings.Contains(r.Markdown(), "Exceptions") || strings.Contains(h, "Exceptions") {
		t.Error("the exceptions section must be left out when no record has exceptions")
	}
	if _, err := report.Build(report.Options{Records: filepath.Join(dir, "nope"), Now: now}); err == nil {
		t.Error("a missing records folder is an error")
	}
}

func TestHTMLSelfContained(t *testing.T) {
	h, err := build(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "http://cdn", "https://", "<link"} {
		if strings.Contains(h, bad) {
			t.Errorf("page has %q: it must work offline", bad)
		}
	}
	if n := strings.Count(h, "<svg"); n < 5 {
		t.Errorf("%d charts", n)
	}
	// Labels are escaped inside SVG.
	dir := t.TempDir()
	run := rec{"<script>alert(1)</script>", "v1.0.0", "", 1, "test", 1, 1, nil}.run()
	run.Write(dir)
	r, _ := report.Build(report.Options{Records: dir, Now: now})
	h, _ = r.HTML()
	if strings.Contains(h, "<script>alert") {
		t.Error("repository names must be escaped")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {[]time.Duration{3}, 3}, {[]time.Duration{5, 1, 3}, 3}, {[]time.Duration{4, 1, 3, 2}, 2}} {
		if got := report.Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	dir := b.TempDir()
	for i := range 500 {
		rec{fmt.Sprintf("acme/r%d", i%50), fmt.Sprintf("v1.%d.0", i%7), "v1.0.0", i % 30, []string{"", "test", "build", ""}[i%4], 10 + i%13, 20 + i%17, nil}.run().Write(filepath.Join(dir, fmt.Sprint(i)))
	}
	for b.Loop() {
		r, err := report.Build(report.Options{Records: dir, Now: now})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.HTML(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNewestFromPavedClone(t *testing.T) {
	clone := gittest.New(t)
	clone.Commit("dagger.json", `{"name": "paved", "source": "modules/golden"}`)
	clone.Commit("modules/build/dagger.json", `{"name": "build"}`)
	for _, tag := range []string{"v1.2.0", "v1.3.0", "v1.4.0-rc.1", "modules/build/v1.1.0", "modules/build/v1.5.0"} {
		clone.Git("tag", tag)
	}
	r, err := report.Build(report.Options{Records: records(t), Paved: clone.Dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	paved, build := r.Adoption[0], r.Adoption[1]
	if paved.Newest != "v1.3.0" || paved.Behind != 3 || paved.Versions[0].Behind != 1 || paved.Versions[1].Behind != 2 {
		t.Errorf("paved: %+v (v1.3.0 is released, the rc is not)", paved)
	}
	if build.Newest != "v1.5.0" || build.Behind != 3 || build.Versions[0].Behind != 1 {
		t.Errorf("build: %+v", build)
	}
}
