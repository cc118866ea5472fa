package images

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

var digestRE = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

func TestDefaultsParseAndPinnedOnesCarryADigest(t *testing.T) {
	for _, im := range Defaults() {
		if _, err := name.ParseReference(im.Ref); err != nil {
			t.Errorf("%s: default %q does not parse: %v", im.Name, im.Ref, err)
		}
		if im.Pinned != digestRE.MatchString(im.Ref) {
			t.Errorf("%s: Pinned=%v but reference %q", im.Name, im.Pinned, im.Ref)
		}
		if im.Source == "" {
			t.Errorf("%s: no source for the pinned reference", im.Name)
		}
		if strings.Contains(im.Ref, ":latest") {
			t.Errorf("%s: default uses latest", im.Name)
		}
	}
}

func TestOverridesApplyInOrder(t *testing.T) {
	s, err := New(Options{
		File:     []byte(`{"trivy": "files.example.com/trivy:1"}`),
		Mirror:   "mirror.example.com/hub/",
		Override: map[string]string{"go": "mine.example.com/go:1.26"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Ref(Go); got != "mine.example.com/go:1.26" {
		t.Errorf("single override lost: go=%q", got)
	}
	if got := s.Ref(Trivy); got != "files.example.com/trivy:1" {
		t.Errorf("images file entry was mirrored or lost: trivy=%q", got)
	}
	rt := s.Ref(Runtime)
	if !strings.HasPrefix(rt, "mirror.example.com/hub/distroless/static-debian12:nonroot@sha256:") {
		t.Errorf("mirror not applied to runtime: %q", rt)
	}
	if got := s.Ref(Registry); !strings.HasPrefix(got, "mirror.example.com/hub/library/registry:3@sha256:") {
		t.Errorf("Docker Hub official image not mirrored under library/: %q", got)
	}
}

func TestBadInputNamesTheInput(t *testing.T) {
	cases := []struct {
		opts Options
		want []string
	}{
		{Options{Override: map[string]string{"gcc": "x"}}, []string{`unknown image name "gcc"`, "known: cosign, go"}},
		{Options{Override: map[string]string{"go": "UPPER/Case::bad"}}, []string{`image "go"`, `"UPPER/Case::bad"`, "does not parse"}},
		{Options{File: []byte(`["go"]`), FileName: "images.json"}, []string{"images file images.json", "JSON object"}},
		{Options{Mirror: "bad mirror"}, []string{`mirror prefix "bad mirror"`}},
	}
	for _, c := range cases {
		_, err := New(c.opts)
		if err == nil {
			t.Errorf("%+v: no error", c.opts)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
}

func TestFromEnvReadsImagesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "images.json")
	if err := os.WriteFile(p, []byte(`{"registry":"localhost:5000/registry:3"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar, p)
	s, err := FromEnv(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Ref(Registry); got != "localhost:5000/registry:3" {
		t.Errorf("registry=%q", got)
	}
	t.Setenv(EnvVar, filepath.Join(t.TempDir(), "missing.json"))
	if _, err := FromEnv(Options{}); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("missing file: err=%v", err)
	}
}

func TestParseOverrides(t *testing.T) {
	m, err := ParseOverrides([]string{"go=a.example.com/golang:1", " trivy = b/trivy:2 "})
	if err != nil || m["go"] != "a.example.com/golang:1" || m["trivy"] != "b/trivy:2" {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := ParseOverrides([]string{"golang:1.26"}); err == nil || !strings.Contains(err.Error(), "want name=reference") {
		t.Errorf("err %v", err)
	}
}
