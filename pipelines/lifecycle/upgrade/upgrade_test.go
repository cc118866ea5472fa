package upgrade_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/internal/gittest"
	"github.com/paved-ci/paved/pipelines/lifecycle/upgrade"
)

// pavedClone has release tags for the root module (v0.3.0 .. v0.4.0) and
// modules/build (v1.0.0 .. v2.0.0) with changelogs written as the release
// command writes them.
func pavedClone(t *testing.T) (*gittest.Repo, map[string]string) {
	r := gittest.New(t)
	tags := map[string]string{}
	buildLog := "# Changelog\n"
	rootLog := "# Changelog\n"
	step := func(file, body, tag string) {
		t.Helper()
		r.Commit(file, body)
		r.Git("tag", "-a", tag, "-m", tag)
		tags[tag] = r.Git("rev-parse", "HEAD")
	}
	r.Commit("dagger.json", `{"name": "paved", "source": "modules/golden"}`)
	section := func(v, body string) string { return "\n## " + v + " (2026-11-01)\n\n" + body + "\n" }
	rootLog += section("v0.3.0", "### Features\n\n- golden path (aaaaaaa)")
	step("modules/golden/CHANGELOG.md", rootLog, "v0.3.0")
	buildLog += section("v1.0.0", "### Features\n\n- first (bbbbbbb)")
	step("modules/build/CHANGELOG.md", buildLog, "modules/build/v1.0.0")
	buildLog = "# Changelog\n" + section("v1.1.0", "### Features\n\n- arm64 builds (ccccccc)") + strings.TrimPrefix(buildLog, "# Changelog\n")
	step("modules/build/CHANGELOG.md", buildLog, "modules/build/v1.1.0")
	rootLog = "# Changelog\n" + section("v0.3.1", "### Fixes\n\n- root fix (ddddddd)") + strings.TrimPrefix(rootLog, "# Changelog\n")
	step("modules/golden/CHANGELOG.md", rootLog, "v0.3.1")
	buildLog = "# Changelog\n" + section("v1.2.0", "### Fixes\n\n- smaller images (eeeeeee)") + strings.TrimPrefix(buildLog, "# Changelog\n")
	step("modules/build/CHANGELOG.md", buildLog, "modules/build/v1.2.0")
	buildLog = "# Changelog\n" + section("v2.0.0", "### Breaking changes\n\n- drop Version (fffffff)\n\n### Migration\n\nCall `paved version` instead.") + strings.TrimPrefix(buildLog, "# Changelog\n")
	step("modules/build/CHANGELOG.md", buildLog, "modules/build/v2.0.0")
	rootLog = "# Changelog\n" + section("v0.4.0", "### Breaking changes\n\n- new check args (0000000)\n\n### Migration\n\nRename --lint to --lint-config.") + strings.TrimPrefix(rootLog, "# Changelog\n")
	step("modules/golden/CHANGELOG.md", rootLog, "v0.4.0")
	// Tags that must never be proposed.
	r.Git("tag", "modules/build/v1.3.0-rc.1")
	r.Git("tag", "modules/buildx/v9.0.0")
	r.Git("tag", "release-candidate")
	return r, tags
}

const appDagger = `{
  "name": "shop",
  "engineVersion": "v0.21.9",
  "sdk": {
    "source": "go"
  },
  "dependencies": [
    {
      "name": "build",
      "source": "github.com/paved-ci/paved/modules/build@v1.0.0",
      "pin": "1111111111111111111111111111111111111111"
    },
    {
      "name": "paved",
      "source": "github.com/paved-ci/paved@v0.3.0",
      "pin": "2222222222222222222222222222222222222222"
    },
    {
      "name": "other",
      "source": "github.com/acme/other@v1.0.0",
      "pin": "3333333333333333333333333333333333333333"
    }
  ]
}
`

const appGoMod = `module example.com/shop

go 1.26

// paved's library for our own helpers
require (
	github.com/paved-ci/paved v0.3.0
	golang.org/x/text v0.34.0 // indirect
)
`

func app(t *testing.T) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dagger.json"), []byte(appDagger), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte(appGoMod), 0o644)
	return dir
}

func TestProposeCompatible(t *testing.T) {
	clone, tags := pavedClone(t)
	dir := app(t)
	p, err := upgrade.Propose(upgrade.Options{App: dir, Paved: clone.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Deps) != 3 || p.Changes() != 3 {
		t.Fatalf("deps %+v: build, paved and go.mod, not acme/other", p.Deps)
	}
	want := map[string][2]string{
		"build":                     {"v1.2.0", tags["modules/build/v1.2.0"]},
		"paved":                     {"v0.3.1", tags["v0.3.1"]},
		"github.com/paved-ci/paved": {"v0.3.1", tags["v0.3.1"]},
	}
	for _, d := range p.Deps {
		w := want[d.Name]
		if d.Target == nil || d.Target.String() != w[0] || d.TargetPin != w[1] {
			t.Errorf("%s: target %v pin %s, want %s %s", d.Name, d.Target, d.TargetPin, w[0], w[1])
		}
	}
	text := p.Text()
	for _, s := range []string{"dagger.json build: v1.0.0 -> v1.2.0", "- arm64 builds", "- smaller images", "- root fix"} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
	for _, s := range []string{"- first (", "drop Version", "migration notes"} {
		if strings.Contains(text, s) {
			t.Errorf("text has %q (outside v1.0.0..v1.2.0):\n%s", s, text)
		}
	}

	files, err := p.Write()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Errorf("wrote %v", files)
	}
	dj, _ := os.ReadFile(filepath.Join(dir, "dagger.json"))
	wantDJ := strings.NewReplacer(
		"modules/build@v1.0.0", "modules/build@v1.2.0",
		"1111111111111111111111111111111111111111", tags["modules/build/v1.2.0"],
		"paved@v0.3.0", "paved@v0.3.1",
		"2222222222222222222222222222222222222222", tags["v0.3.1"],
	).Replace(appDagger)
	if string(dj) != wantDJ {
		t.Errorf("dagger.json:\n%s\nwant (layout and other deps untouched):\n%s", dj, wantDJ)
	}
	gm, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !strings.Contains(string(gm), "github.com/paved-ci/paved v0.3.1\n") || !strings.Contains(string(gm), "// paved's library") || !strings.Contains(string(gm), "golang.org/x/text v0.34.0 // indirect") {
		t.Errorf("go.mod:\n%s", gm)
	}

	// Up to date now.
	p, err = upgrade.Propose(upgrade.Options{App: dir, Paved: clone.Dir})
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes() != 0 || !strings.Contains(p.Text(), "up to date within v1; v2.0.0 is out (use --major)") {
		t.Errorf("second run: %d changes\n%s", p.Changes(), p.Text())
	}
}

func TestProposeMajor(t *testing.T) {
	clone, tags := pavedClone(t)
	dir := app(t)
	p, err := upgrade.Propose(upgrade.Options{App: dir, Paved: clone.Dir, Major: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Deps {
		want := map[string]string{"build": "v2.0.0", "paved": "v0.4.0", "github.com/paved-ci/paved": "v0.4.0"}[d.Name]
		if d.Target == nil || d.Target.String() != want {
			t.Errorf("%s: target %v, want %s", d.Name, d.Target, want)
		}
	}
	text := p.Text()
	for _, s := range []string{"== migration notes for build", "v2.0.0: Call `paved version` instead.", "v0.4.0: Rename --lint to --lint-config."} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
	if _, err := p.Write(); err != nil {
		t.Fatal(err)
	}
	dj, _ := os.ReadFile(filepath.Join(dir, "dagger.json"))
	if !strings.Contains(string(dj), `"source": "github.com/paved-ci/paved/modules/build@v2.0.0",`+"\n      \"pin\": \""+tags["modules/build/v2.0.0"]+`"`) {
		t.Errorf("dagger.json:\n%s", dj)
	}
}

func TestBadInputs(t *testing.T) {
	clone, _ := pavedClone(t)
	_, err := upgrade.Propose(upgrade.Options{App: t.TempDir(), Paved: clone.Dir})
	if err == nil || !strings.Contains(err.Error(), "no dagger.json or go.mod") {
		t.Errorf("empty app: %v", err)
	}
	_, err = upgrade.Propose(upgrade.Options{App: app(t), Paved: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not a git clone") {
		t.Errorf("no clone: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dagger.json"), []byte(`{"dependencies": [`), 0o644)
	_, err = upgrade.Propose(upgrade.Options{App: dir, Paved: clone.Dir})
	if err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("truncated dagger.json: %v", err)
	}
	// A dependency on a branch is offered the newest release.
	os.WriteFile(filepath.Join(dir, "dagger.json"), []byte(`{"dependencies": [{"name": "build", "source": "github.com/paved-ci/paved/modules/build@main"}]}`), 0o644)
	p, err := upgrade.Propose(upgrade.Options{App: dir, Paved: clone.Dir})
	if err != nil || p.Deps[0].Target == nil || p.Deps[0].Target.String() != "v2.0.0" {
		t.Fatalf("branch pin: %+v %v", p, err)
	}
	if _, err := p.Write(); err != nil {
		t.Fatal(err)
	}
	dj, _ := os.ReadFile(filepath.Join(dir, "dagger.json"))
	if !strings.Contains(string(dj), `"source": "github.com/paved-ci/paved/modules/build@v2.0.0", "pin": "`) {
		t.Errorf("pin not added:\n%s", dj)
	}
}
