package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/results"
)

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want Provider
		err  string
	}{
		{nil, Local, ""},
		{map[string]string{"GITHUB_ACTIONS": "true"}, GitHub, ""},
		{map[string]string{"GITLAB_CI": "true"}, GitLab, ""},
		{map[string]string{"GITHUB_ACTIONS": "false", "CI": "true"}, Local, ""},
		{map[string]string{"GITHUB_ACTIONS": "true", "GITLAB_CI": "true"}, "", "--provider"},
	} {
		got, err := Detect(env(c.env))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: err %v, want one mentioning %q", c.env, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v: got %q, %v; want %q", c.env, got, err, c.want)
		}
	}
}

func TestParseProvider(t *testing.T) {
	gh := env(map[string]string{"GITHUB_ACTIONS": "true"})
	if p, err := ParseProvider("auto", gh); err != nil || p != GitHub {
		t.Errorf("auto: %q %v", p, err)
	}
	if p, err := ParseProvider("GitLab", gh); err != nil || p != GitLab {
		t.Errorf("override: %q %v", p, err)
	}
	_, err := ParseProvider("jenkins", gh)
	if err == nil || !strings.Contains(err.Error(), `"jenkins"`) || !strings.Contains(err.Error(), "github") {
		t.Errorf("unknown provider: %v", err)
	}
}

func TestLoadBadInput(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "f")
	writeFile(t, file, "x")
	newer := t.TempDir()
	writeFile(t, filepath.Join(newer, "results.json"), `{"schemaVersion": 99, "stages": []}`)
	garbage := t.TempDir()
	writeFile(t, filepath.Join(garbage, "results.json"), `<html>`)
	for name, c := range map[string]struct{ dir, want string }{
		"missing dir":  {filepath.Join(tmp, "nope"), "does not exist"},
		"file":         {file, "not a directory"},
		"empty dir":    {t.TempDir(), "has no results.json"},
		"newer schema": {newer, "schemaVersion 99 is newer"},
		"not json":     {garbage, "not a paved results file"},
	} {
		_, err := Load(c.dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
	}
}

func TestLoadPartial(t *testing.T) {
	dir := sample(t, func(r *results.Run) {
		r.Files["escape"] = "../outside.txt"
		r.Files["abs"] = "/etc/passwd"
	})
	if err := os.Remove(filepath.Join(dir, "junit.xml")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(filepath.Dir(dir), "outside.txt"), "secret")
	b := load(t, dir)
	got := map[string]string{}
	for _, m := range b.Missing {
		got[m.Kind] = m.Reason
	}
	for kind, want := range map[string]string{"junit": "not in the directory", "escape": "leaves the results directory", "abs": "absolute path"} {
		if !strings.Contains(got[kind], want) {
			t.Errorf("missing[%s] = %q, want %q", kind, got[kind], want)
		}
	}
	if len(b.Missing) != 3 || !b.Partial() {
		t.Errorf("missing = %v", b.Missing)
	}
	if _, ok := b.File("escape"); ok {
		t.Error("a path outside the results directory resolved")
	}
	if _, ok := b.File("sbom"); !ok {
		t.Error("present sbom not found")
	}
}
