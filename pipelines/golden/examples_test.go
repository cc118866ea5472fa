package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/images"
)

// repoAnswers answer exists and file contents from this repository's real
// files, so the stages see each example as it is on disk.
func repoAnswers(t *testing.T) daggertest.Answer {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return func(l daggertest.Leaf) (any, bool) {
		path := strings.Trim(l.Arg(-1, "path"), `"`)
		if l.Name() == "exists" && l.Path[0] == "directory" && !strings.HasPrefix(path, ".paved/") {
			_, err := os.Stat(filepath.Join(root, path))
			return err == nil, true
		}
		if l.Name() == "contents" && len(l.Path) >= 3 && l.Path[len(l.Path)-2] == "file" && l.Path[0] == "directory" {
			p := strings.Trim(l.Arg(-2, "path"), `"`)
			if b, err := os.ReadFile(filepath.Join(root, p)); err == nil {
				return string(b), true
			}
		}
		if l.Name() == "exists" && strings.HasPrefix(path, "/reports/") {
			return false, true // the test stage left no JUnit report
		}
		return nil, false
	}
}

// TestQueryCheckOnEachExample runs check on every example with the
// engine's answers taken from the files on disk: the right build (native
// Go or Dockerfile), stages in order, lint absent for Dockerfile apps, and
// build secrets passed as secrets. It checks the queries, not a run.
func TestQueryCheckOnEachExample(t *testing.T) {
	for _, ex := range []struct {
		dir, main string
		kind      string
		stages    string
		want      []string
	}{
		{"examples/hello-go", "./cmd/hello", "go", "build:passed lint:skipped test:passed scan:passed",
			[]string{`"-o","/out/linux/arm64/hello","./cmd/hello"`}},
		{"examples/custom-pipeline", "./cmd/quote", "go", "build:passed lint:skipped test:passed scan:passed",
			[]string{`"-o","/out/linux/amd64/quote","./cmd/quote"`}},
		{"examples/node-api", "", "dockerfile", "build:passed test:passed scan:passed",
			[]string{`directory(path:"examples/node-api"){dockerBuild(dockerfile:"Dockerfile", platform:"linux/arm64", secrets:["id`, `secret(uri:\"env://NPM_TOKEN\")`, `target:"test"`}},
		{"examples/python-api", "", "dockerfile", "build:passed test:passed scan:passed",
			[]string{`directory(path:"examples/python-api"){dockerBuild(dockerfile:"Dockerfile", platform:"linux/amd64"`, `target:"test"`}},
	} {
		t.Run(filepath.Base(ex.dir), func(t *testing.T) {
			as := append([]daggertest.Answer{repoAnswers(t)}, answers(t, true)...)
			client, conn := daggertest.New(t, as...)
			opts := Options{App: builder.Options{Dir: ex.dir, Main: ex.main}}
			if ex.kind == "dockerfile" {
				opts.App.Main = ""
				opts.App.BuildSecrets = []*dagger.Secret{client.Secret("env://NPM_TOKEN")}
			}
			out, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range out.State.Results.Stages {
				got = append(got, s.Name+":"+string(s.Status))
			}
			if strings.Join(got, " ") != ex.stages {
				t.Errorf("stages %s, want %s", strings.Join(got, " "), ex.stages)
			}
			if len(out.State.Variants) != 2 {
				t.Errorf("%d variants", len(out.State.Variants))
			}
			for _, w := range ex.want {
				if len(conn.Matching(w)) == 0 {
					t.Errorf("no query contains %s", w)
				}
			}
			if out.State.Results.Builder != ex.kind || !strings.Contains(Summary(out.State.Results), "built by the "+ex.kind+" builder") {
				t.Errorf("builder %q recorded, want %s:\n%s", out.State.Results.Builder, ex.kind, Summary(out.State.Results))
			}
			if ex.kind == "dockerfile" {
				conn.AssertNotQueried(t, `"go","build"`)
				conn.AssertNotQueried(t, "NPM_TOKEN=") // never a build arg
			}
		})
	}
}
