package lifecycle_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/internal/gittest"
	"github.com/paved-ci/paved/pipelines/lifecycle"
)

func TestDiscoverAndVersions(t *testing.T) {
	r := gittest.New(t)
	files := map[string]string{
		"dagger.json":                        `{"name": "paved", "source": "modules/golden"}`,
		"modules/build/dagger.json":          `{"name": "build"}`,
		"modules/image-scan/dagger.json":     `{"name": "image-scan"}`,
		"modules/build/testdata/dagger.json": `{"name": "fixture"}`,
		"modules/build/internal/dagger.json": `{"name": "generated"}`,
	}
	for name, body := range files {
		p := filepath.Join(r.Dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	mods, err := lifecycle.Discover(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mods {
		got = append(got, m.Name+"="+m.Dir+":"+m.Source+":"+m.TagPrefix+":"+m.MainObject()+":"+m.ChangelogPath())
	}
	want := "root=.:modules/golden::Paved:modules/golden/CHANGELOG.md " +
		"build=modules/build:modules/build:modules/build/:Build:modules/build/CHANGELOG.md " +
		"image-scan=modules/image-scan:modules/image-scan:modules/image-scan/:ImageScan:modules/image-scan/CHANGELOG.md"
	if strings.Join(got, " ") != want {
		t.Errorf("modules:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if m, err := lifecycle.Find(mods, "image-scan"); err != nil || m.Tag("1.2.3") != "modules/image-scan/v1.2.3" {
		t.Errorf("find: %v %v", m, err)
	}

	os.WriteFile(filepath.Join(r.Dir, "modules/build/dagger.json"), []byte(`{"sdk": "go"}`), 0o644)
	if _, err := lifecycle.Discover(r.Dir); err == nil || !strings.Contains(err.Error(), `no "name"`) {
		t.Errorf("nameless dagger.json: %v", err)
	}

	r.Commit("x", "x")
	for _, tag := range []string{"v1.0.0", "v1.10.0", "v1.2.0", "v2.0.0-rc.1", "vnext", "modules/build/v0.1.0", "modules/build/extra/v9.0.0"} {
		r.Git("tag", tag)
	}
	vs, err := lifecycle.Versions(r.Dir, "", false)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, v := range vs {
		tags = append(tags, v.Tag)
	}
	if strings.Join(tags, " ") != "v1.0.0 v1.2.0 v1.10.0" {
		t.Errorf("root versions %v", tags)
	}
	vs, _ = lifecycle.Versions(r.Dir, "", true)
	if len(vs) != 4 || vs[3].String() != "v2.0.0-rc.1" {
		t.Errorf("with pre-releases: %v", vs)
	}
	vs, _ = lifecycle.Versions(r.Dir, "modules/build/", false)
	if len(vs) != 1 || vs[0].Tag != "modules/build/v0.1.0" {
		t.Errorf("build versions %v", vs)
	}
}
