package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/images"
)

func TestDefaultImagesArePavedDefaults(t *testing.T) {
	paved := images.MustDefault()
	for name, ref := range defaultImages {
		if got := paved.Ref(name); got != ref {
			t.Errorf("image %q: baseline default %q, paved's %q: copy paved's pin into defaultImages", name, ref, got)
		}
	}
	for _, name := range images.Names() {
		if _, ok := defaultImages[name]; !ok && !ignoredImages[name] {
			t.Errorf("paved image %q is neither used nor ignored by the baseline", name)
		}
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		Source: ".", Dir: ".", Main: ".",
		Platforms: []string{"linux/amd64", "linux/arm64"},
		Images:    defaultImages,
		Stage:     "publish",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
	for _, s := range stages {
		if !cfg.upTo(s) {
			t.Errorf("--stage all does not run %s", s)
		}
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{
		"--source", "/repo", "--dir", "examples/hello-go/", "--main", "cmd/hello",
		"--platforms", " linux/arm64 ,linux/arm/v7", "--db-repository", "mirror:5000/trivy-db:2",
		"--offline", "--stage", "scan",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != "/repo" || cfg.Dir != "examples/hello-go" || cfg.Main != "./cmd/hello" ||
		!reflect.DeepEqual(cfg.Platforms, []string{"linux/arm64", "linux/arm/v7"}) ||
		cfg.DBRepository != "mirror:5000/trivy-db:2" || !cfg.Offline || cfg.Stage != "scan" {
		t.Errorf("got %+v", cfg)
	}
	if !cfg.upTo("build") || !cfg.upTo("test") || !cfg.upTo("scan") || cfg.upTo("publish") {
		t.Errorf("--stage scan runs the wrong stages")
	}
	args := strings.Join(trivyArgs(cfg), " ")
	for _, w := range []string{"--input /image.tar", "--db-repository mirror:5000/trivy-db:2", "--exit-code 0", "--format json", "--offline-scan", "--cache-dir /root/.cache/trivy"} {
		if !strings.Contains(args, w) {
			t.Errorf("trivy args %q lack %q", args, w)
		}
	}
}

func TestParseFlagsErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stage", "deploy"}, `--stage "deploy": want one of none, build, test, scan, publish, all`},
		{[]string{"--platforms", ""}, "--platforms: no platform given"},
		{[]string{"--platforms", "linux/amd64,amd64"}, `--platforms: "amd64" is not os/arch[/variant]`},
		{[]string{"--platforms", "linux/amd64,linux/amd64"}, `--platforms: "linux/amd64" given twice`},
		{[]string{"--platforms", "windows/amd64"}, `--platforms: "windows/amd64": only linux`},
		{[]string{"--platforms", "linux/arm/"}, `--platforms: "linux/arm/" is not os/arch[/variant]`},
		{[]string{"--dir", "../other"}, `--dir "../other": want a folder inside --source`},
		{[]string{"--dir", "/abs"}, `--dir "/abs"`},
		{[]string{"--main", "../cmd"}, `--main "../cmd"`},
		{[]string{"--source", ""}, "--source: empty"},
		{[]string{"--images-file", "/does/not/exist.json"}, "--images-file: open /does/not/exist.json"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "images.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadImages(t *testing.T) {
	// paved's images file, golangci-lint included: accepted, unused
	p := writeFile(t, `{"go": "127.0.0.1:5111/paved/golang@sha256:c46f", "golangci-lint": "x/y:1", "registry": "mirror/registry:3"}`)
	got, err := readImages(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		imgGo: "127.0.0.1:5111/paved/golang@sha256:c46f", imgRegistry: "mirror/registry:3",
		imgRuntime: defaultImages[imgRuntime], imgTrivy: defaultImages[imgTrivy],
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, ok := got["golangci-lint"]; ok {
		t.Error("golangci-lint should be ignored")
	}
	got, err = readImages("")
	if err != nil || !reflect.DeepEqual(got, defaultImages) {
		t.Errorf("no file: got %v, %v; want the defaults", got, err)
	}
	got[imgGo] = "changed"
	if defaultImages[imgGo] == "changed" {
		t.Error("readImages returned the defaults map itself")
	}
}

func TestReadImagesErrors(t *testing.T) {
	for body, want := range map[string]string{
		`["go"]`:           "want a JSON object from image name to reference",
		`{"node": "n:1"}`:  `unknown image name "node" (known: cosign, go, golangci-lint, registry, runtime, trivy)`,
		`{"go": ""}`:       `image "go": reference "" is not an image reference`,
		`{"trivy": "a b"}`: `image "trivy": reference "a b"`,
	} {
		p := writeFile(t, body)
		_, err := readImages(p)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--images-file "+p) {
			t.Errorf("%s: error %v, want --images-file %s and %q", body, err, p, want)
		}
	}
}

func TestSummarizeTests(t *testing.T) {
	out := strings.Join([]string{
		`{"Action":"run","Package":"a","Test":"TestOK"}`,
		`{"Action":"pass","Package":"a","Test":"TestOK"}`,
		`{"Action":"fail","Package":"a","Test":"TestBad"}`,
		`{"Action":"fail","Package":"a"}`,
		`{"Action":"output","Package":"b","Output":"FAIL\tb [build failed]\n"}`,
		`{"Action":"fail","Package":"b"}`,
		`not json`,
	}, "\n")
	passed, failed, output := summarizeTests(out)
	if passed != 1 || !reflect.DeepEqual(failed, []string{"a.TestBad", "b"}) || !strings.Contains(output, "b [build failed]") {
		t.Errorf("got %d, %v, %q", passed, failed, output)
	}
}

func TestCountVulnerabilities(t *testing.T) {
	n, err := countVulnerabilities(`{"Results":[{"Vulnerabilities":[{},{}]},{"Vulnerabilities":null},{"Vulnerabilities":[{}]}]}`)
	if err != nil || n != 3 {
		t.Errorf("got %d, %v", n, err)
	}
	if _, err := countVulnerabilities("oops"); err == nil || !strings.Contains(err.Error(), "trivy's JSON report") {
		t.Errorf("bad report: %v", err)
	}
}

func TestRunUsageExitCode(t *testing.T) {
	var stderr strings.Builder
	if code := run([]string{"--stage", "nope"}, io.Discard, &stderr); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr.String(), "baseline: --stage") {
		t.Errorf("stderr %q", stderr.String())
	}
	if code := run([]string{"-h"}, io.Discard, io.Discard); code != exitOK {
		t.Errorf("-h: exit %d", code)
	}
}
