package release_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/internal/gittest"
	"github.com/paved-ci/paved/pipelines/lifecycle"
	"github.com/paved-ci/paved/pipelines/lifecycle/api"
	"github.com/paved-ci/paved/pipelines/lifecycle/release"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

const buildV1 = `package main

import "github.com/paved-ci/paved/pipelines/core"

type Build struct{}

func (m *Build) Go(
	source string,
	// +optional
	dir string,
) string {
	return core.X + source + dir
}

func (m *Build) Version(source string) string { return source }
`

// pavedRepo is a small paved: a root module, modules/build, the library
// package both import and one package neither imports.
func pavedRepo(t *testing.T) *gittest.Repo {
	identity(t)
	r := gittest.New(t)
	write(t, r, map[string]string{
		"go.mod":                    "module github.com/paved-ci/paved\n\ngo 1.26\n",
		"dagger.json":               `{"name": "paved", "sdk": {"source": "go"}, "source": "modules/golden"}`,
		"modules/golden/main.go":    "package main\n\nimport \"github.com/paved-ci/paved/pipelines/core\"\n\ntype Paved struct{}\n\nfunc (m *Paved) Check(source string) string { return core.X + source }\n",
		"modules/build/dagger.json": `{"name": "build", "sdk": {"source": "go"}}`,
		"modules/build/main.go":     buildV1,
		"pipelines/core/core.go":    "package core\n\nimport _ \"github.com/paved-ci/paved/pipelines/deep\"\n\nconst X = \"x\"\n",
		"pipelines/deep/deep.go":    "package deep\n",
		"pipelines/other/other.go":  "package other\n",
	})
	writeAPI(t, r)
	commit(t, r, "chore: initial layout")
	return r
}

func write(t *testing.T, r *gittest.Repo, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(r.Dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeAPI(t *testing.T, r *gittest.Repo) {
	t.Helper()
	mods, err := lifecycle.Discover(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Write(r.Dir, mods); err != nil {
		t.Fatal(err)
	}
}

func commit(t *testing.T, r *gittest.Repo, msg string) {
	t.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "-m", msg)
}

// change appends a line to file and commits it with msg.
func change(t *testing.T, r *gittest.Repo, file, msg string) {
	t.Helper()
	p := filepath.Join(r.Dir, file)
	b, _ := os.ReadFile(p)
	head, _, _ := strings.Cut(msg, "\n")
	write(t, r, map[string]string{file: string(b) + "// " + head + "\n"})
	commit(t, r, msg)
}

func plan(t *testing.T, r *gittest.Repo, module, version string) (*release.Plan, error) {
	t.Helper()
	return release.Compute(release.Options{Root: r.Dir, Module: module, Version: version, Now: now})
}

func mustRelease(t *testing.T, r *gittest.Repo, module, version string) *release.Plan {
	t.Helper()
	p, err := plan(t, r, module, version)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(r.Dir); err != nil {
		t.Fatal(err)
	}
	return p
}

func errContains(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want it to contain %q", err, want)
	}
}

func TestFirstReleaseTagsAndWritesChangelog(t *testing.T) {
	r := pavedRepo(t)
	change(t, r, "modules/build/main.go", "feat(build): cross-compile for arm64")
	change(t, r, "pipelines/deep/deep.go", "fix: handle empty tags")
	change(t, r, "pipelines/other/other.go", "feat: unrelated feature")
	change(t, r, "modules/build/main.go", "docs: comment")

	p, err := plan(t, r, "build", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Last != nil || p.Next.Tag != "modules/build/v0.1.0" || p.Bump != release.MinorBump {
		t.Fatalf("last %v next %s bump %s", p.Last, p.Next.Tag, p.Bump)
	}
	if got := strings.Join(p.Paths, " "); got != "modules/build pipelines/core pipelines/deep" {
		t.Errorf("paths %q: the transitive imports, nothing else", got)
	}
	for _, c := range p.Commits {
		if strings.Contains(c.Subject, "unrelated") {
			t.Errorf("commit in pipelines/other counted: %+v", c)
		}
	}
	// Dry run (Compute alone) wrote nothing.
	if _, err := os.Stat(filepath.Join(r.Dir, "modules/build/CHANGELOG.md")); !os.IsNotExist(err) {
		t.Fatalf("changelog exists before Apply: %v", err)
	}
	if err := p.Apply(r.Dir); err != nil {
		t.Fatal(err)
	}
	if typ := r.Git("cat-file", "-t", "modules/build/v0.1.0"); typ != "tag" {
		t.Errorf("tag object type %q, want an annotated tag", typ)
	}
	if r.Git("rev-list", "-n", "1", "modules/build/v0.1.0") != r.Git("rev-parse", "HEAD~1") {
		t.Error("the tag is not on the release commit")
	}
	if msg := r.Git("log", "-1", "--format=%s", "HEAD~1"); msg != "chore(release): modules/build/v0.1.0" {
		t.Errorf("release commit %q", msg)
	}
	// The released module reports its tag; later commits say they come after it.
	if v := r.Git("show", "modules/build/v0.1.0:modules/build/VERSION"); v != "v0.1.0" {
		t.Errorf("VERSION at the tag = %q, want v0.1.0", v)
	}
	if v := r.Git("show", "HEAD:modules/build/VERSION"); v != "v0.1.0+dev" {
		t.Errorf("VERSION after the tag = %q, want v0.1.0+dev", v)
	}
	if st := r.Git("status", "--porcelain"); st != "" {
		t.Errorf("release left the tree dirty:\n%s", st)
	}
	cl, _ := os.ReadFile(filepath.Join(r.Dir, "modules/build/CHANGELOG.md"))
	for _, want := range []string{"# Changelog\n", "## v0.1.0 (2026-11-26)", "### Features", "**build:** cross-compile for arm64", "### Fixes", "handle empty tags"} {
		if !strings.Contains(string(cl), want) {
			t.Errorf("changelog lacks %q:\n%s", want, cl)
		}
	}
	if strings.Contains(string(cl), "unrelated") || strings.Contains(string(cl), "comment") {
		t.Errorf("changelog has commits that do not belong:\n%s", cl)
	}
	// The root module is released on its own line: only the fix reaches it.
	p, err = plan(t, r, "root", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Next.Tag != "v0.0.1" || len(p.Commits) != 2 {
		t.Errorf("root: next %s from %d commits", p.Next.Tag, len(p.Commits))
	}
	// Nothing new for build since its tag.
	_, err = plan(t, r, "build", "")
	errContains(t, err, "nothing to release for module build since modules/build/v0.1.0")
}

func TestBumps(t *testing.T) {
	r := pavedRepo(t)
	change(t, r, "modules/build/main.go", "feat: first")
	mustRelease(t, r, "build", "v1.0.0")

	change(t, r, "pipelines/core/core.go", "perf: faster")
	p, err := plan(t, r, "build", "")
	if err != nil || p.Next.Tag != "modules/build/v1.0.1" {
		t.Fatalf("perf: %v %v", p, err)
	}
	change(t, r, "modules/build/main.go", "feat: more")
	p, err = plan(t, r, "build", "")
	if err != nil || p.Next.Tag != "modules/build/v1.1.0" {
		t.Fatalf("feat: %v %v", p, err)
	}
	change(t, r, "modules/build/main.go", "refactor!: new internals\n\nMigration: nothing to do for callers.")
	p, err = plan(t, r, "build", "")
	if err != nil || p.Next.Tag != "modules/build/v2.0.0" {
		t.Fatalf("breaking: %v %v", p, err)
	}
	if !strings.Contains(p.Section, "### Migration\n\nnothing to do for callers.") || !strings.Contains(p.Section, "### Breaking changes") {
		t.Errorf("section:\n%s", p.Section)
	}
	_, err = plan(t, r, "build", "v1.2.0")
	errContains(t, err, "breaking changes need a major release")
	_, err = plan(t, r, "build", "v1.0.0")
	errContains(t, err, "not higher than the last release modules/build/v1.0.0")
	_, err = plan(t, r, "build", "1.x")
	errContains(t, err, "not a semantic version")
}

func TestPreOneBreakingIsMinor(t *testing.T) {
	r := pavedRepo(t)
	change(t, r, "modules/build/main.go", "fix: one")
	mustRelease(t, r, "build", "")
	change(t, r, "modules/build/main.go", "feat!: drop things\n\nBREAKING CHANGE: things are gone\n\nMigration: stop using things.")
	p, err := plan(t, r, "build", "")
	if err != nil || p.Next.Tag != "modules/build/v0.1.0" {
		t.Fatalf("%v %v", p, err)
	}
	if !strings.Contains(p.Section, "drop things — things are gone") {
		t.Errorf("breaking note missing:\n%s", p.Section)
	}
	_, err = plan(t, r, "build", "v0.0.2")
	errContains(t, err, "need at least a minor release")
}

func TestAPIBreakNeedsMarkerAndMigration(t *testing.T) {
	r := pavedRepo(t)
	change(t, r, "modules/build/main.go", "feat: go")
	mustRelease(t, r, "build", "v1.0.0")

	// Remove Version and make dir required.
	src := strings.Replace(buildV1, "\n\t// +optional\n", "\n", 1)
	src = src[:strings.Index(src, "func (m *Build) Version")]
	write(t, r, map[string]string{"modules/build/main.go": src})
	commit(t, r, "fix: simplify")
	_, err := plan(t, r, "build", "")
	errContains(t, err, "is missing or stale")
	errContains(t, err, api.FixCommand)

	writeAPI(t, r)
	commit(t, r, "chore: api.json")
	_, err = plan(t, r, "build", "")
	errContains(t, err, "no commit is marked breaking")
	errContains(t, err, "Build.Version: function removed")
	errContains(t, err, "Build.Go(dir): optional argument made required")

	change(t, r, "modules/build/main.go", "feat!: Version is gone")
	_, err = plan(t, r, "build", "")
	errContains(t, err, "need a migration note")
	errContains(t, err, "modules/build/MIGRATION.md")

	write(t, r, map[string]string{"modules/build/MIGRATION.md": "Call `paved version` instead of `build version`.\n"})
	commit(t, r, "docs: migration")
	p := mustRelease(t, r, "build", "")
	if p.Next.Tag != "modules/build/v2.0.0" {
		t.Fatalf("next %s", p.Next.Tag)
	}
	cl, _ := os.ReadFile(filepath.Join(r.Dir, "modules/build/CHANGELOG.md"))
	for _, want := range []string{"## v2.0.0", "### API", "major `Build.Version`: function removed", "### Migration\n\nCall `paved version`", "## v1.0.0"} {
		if !strings.Contains(string(cl), want) {
			t.Errorf("changelog lacks %q:\n%s", want, cl)
		}
	}
	if strings.Index(string(cl), "## v2.0.0") > strings.Index(string(cl), "## v1.0.0") {
		t.Error("newest section must come first")
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "modules/build/MIGRATION.md")); !os.IsNotExist(err) {
		t.Error("MIGRATION.md must be consumed by the release")
	}
	// The changelog reads back by version.
	secs := release.Sections(string(cl))
	if len(secs) != 2 || secs[0].Version.Major != 2 || !strings.HasPrefix(secs[0].Migration(), "Call `paved version`") || secs[1].Migration() != "" {
		t.Errorf("sections: %+v", secs)
	}
}

func TestAPIAdditionRaisesPatchToMinorAndListsDeprecations(t *testing.T) {
	r := pavedRepo(t)
	change(t, r, "modules/build/main.go", "feat: go")
	mustRelease(t, r, "build", "v1.0.0")
	src := strings.Replace(buildV1, "func (m *Build) Version", "// +deprecated=\"use paved version\"\nfunc (m *Build) Version", 1) +
		"\nfunc (m *Build) Lint(source string) string { return source }\n"
	write(t, r, map[string]string{"modules/build/main.go": src})
	writeAPI(t, r)
	commit(t, r, "fix: small things")
	p, err := plan(t, r, "build", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Next.Tag != "modules/build/v1.1.0" || len(p.Notes) == 0 {
		t.Errorf("next %s notes %v: an added function is a minor release", p.Next.Tag, p.Notes)
	}
	if !strings.Contains(p.Section, "### Deprecated\n\n- `Build.Version`: use paved version") {
		t.Errorf("section:\n%s", p.Section)
	}
}

func TestDirtyTreeRefused(t *testing.T) {
	r := pavedRepo(t)
	change(t, r, "modules/build/main.go", "feat: go")
	write(t, r, map[string]string{"pipelines/other/other.go": "package other // edited\n"})
	p, err := plan(t, r, "build", "")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Dirty {
		t.Fatal("tree not seen as dirty")
	}
	errContains(t, p.Apply(r.Dir), "uncommitted changes")
	if out := r.Git("tag", "--list"); out != "" {
		t.Errorf("tags created: %s", out)
	}
}

func TestUnknownModule(t *testing.T) {
	r := pavedRepo(t)
	_, err := plan(t, r, "nope", "")
	errContains(t, err, "choose one of root, build")
}

func TestParseCommit(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		typ  string
		bump release.Bump
		mig  string
	}{
		{"feat(build): x", "feat", release.MinorBump, ""},
		{"fix: x", "fix", release.PatchBump, ""},
		{"perf: x", "perf", release.PatchBump, ""},
		{"docs: x", "docs", release.NoBump, ""},
		{"Merge branch 'x'", "", release.NoBump, ""},
		{"feat!: x", "feat", release.MajorBump, ""},
		{"fix(a)!: x\n\nMigration: do y.", "fix", release.MajorBump, "do y."},
		{"chore: x\n\nbody\n\nBREAKING CHANGE: gone", "chore", release.MajorBump, ""},
		{"fix: x\n\nBREAKING-CHANGE: gone", "fix", release.MajorBump, ""},
		{"fix: mention BREAKING CHANGE: in subject only", "fix", release.PatchBump, ""},
	} {
		c := release.ParseCommit("abc", tc.msg)
		if c.Type != tc.typ || c.Bump() != tc.bump || c.Migration != tc.mig {
			t.Errorf("%q: type %q bump %s migration %q", tc.msg, c.Type, c.Bump(), c.Migration)
		}
	}
}

// identity lets the release commit and tag where git has no user configured (CI).
func identity(t *testing.T) {
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "paved test", "GIT_AUTHOR_EMAIL": "test@paved.invalid", "GIT_COMMITTER_NAME": "paved test", "GIT_COMMITTER_EMAIL": "test@paved.invalid"} {
		t.Setenv(k, v)
	}
}
