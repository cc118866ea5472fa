package golden

import (
	"errors"
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/builder"
	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/publish"
	"github.com/paved-ci/paved/pipelines/scan"
	"github.com/paved-ci/paved/pipelines/tags"
)

// files answers the source's exists queries from a set of paths.
func files(paths ...string) daggertest.Answer {
	return func(l daggertest.Leaf) (any, bool) {
		if l.Name() != "exists" {
			return nil, false
		}
		p := strings.Trim(l.Arg(-1, "path"), `"`)
		for _, f := range paths {
			if p == f {
				return true, true
			}
		}
		return false, true
	}
}

func TestBuilderChoice(t *testing.T) {
	both := []string{"svc/Dockerfile", "svc/go.mod"}
	for _, c := range []struct {
		name    string
		files   []string
		builder string
		opts    builder.Options
		want    string // the builder chosen, or a fragment of the error
		stages  string
	}{
		{"auto prefers the Dockerfile", both, "", builder.Options{}, "dockerfile", "build,test,scan"},
		{"auto takes go.mod alone", []string{"svc/go.mod"}, "auto", builder.Options{}, "go", "build,lint,test,scan"},
		{"go beside a Dockerfile", both, "go", builder.Options{Lint: true, Race: true}, "go", "build,lint,test,scan"},
		{"named builder is case-insensitive", both, "Dockerfile", builder.Options{}, "dockerfile", "build,test,scan"},
		{"neither file", nil, "", builder.Options{}, "no builder takes svc (dockerfile: no svc/Dockerfile in the source; go: no svc/go.mod in the source)", ""},
		{"named builder without its file", []string{"svc/go.mod"}, "dockerfile", builder.Options{}, "builder dockerfile: no svc/Dockerfile in the source", ""},
		{"unknown builder", both, "buildpacks", builder.Options{}, `builder "buildpacks": no such builder (choose one of auto, dockerfile, go)`, ""},
		{"Go flags on a Dockerfile build", both, "", builder.Options{Race: true, Lint: true, Tags: []string{"x"}},
			"the dockerfile builder, which builds svc, does not take --build-tags, --race, --lint: pass --builder=go to build that way, or drop them", ""},
		{"Dockerfile flags on a Go build", []string{"svc/go.mod"}, "", builder.Options{TestCommand: "npm test", BuildArgs: []string{"A=1"}},
			"the go builder, which builds svc, does not take --build-args, --test-command: pass --builder=dockerfile", ""},
		{"main is a Go option", both, "dockerfile", builder.Options{Main: "./cmd/x"}, "does not take --main", ""},
		{"main . is the default, not a choice", both, "dockerfile", builder.Options{Main: "."}, "dockerfile", "build,test,scan"},
	} {
		t.Run(c.name, func(t *testing.T) {
			client, _ := daggertest.New(t, files(c.files...))
			o := Options{Builder: c.builder, App: c.opts}
			o.App.Dir = "svc"
			b, stages, err := Plan(t.Context(), client.Directory(), images.MustDefault(), &o)
			if c.stages == "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err = %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Name() != c.want || strings.Join(pipeline.Names(stages), ",") != c.stages {
				t.Errorf("builder %s stages %v, want %s %s", b.Name(), pipeline.Names(stages), c.want, c.stages)
			}
		})
	}
}

// Bad input fails before the engine is asked anything that runs: no
// container is built, no exec is queued, no git metadata is read.
func TestBadInputFailsBeforeAnyContainer(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"severity", Options{Scan: scan.Stage{Threshold: "BOGUS"}}, `severity: unknown severity "BOGUS"`},
		{"severity looser than the platform", Options{Scan: scan.Stage{Threshold: "CRITICAL"}}, "severity CRITICAL is looser than the platform policy's threshold HIGH"},
		{"platform policy", Options{Scan: scan.Stage{Platform: []byte("threshold: [x"), PlatformName: "platform-policy"}}, "platform-policy"},
		{"platform", Options{App: builder.Options{Platforms: []string{"linux/sparc99"}}}, "linux/sparc99"},
		{"dir outside the source", Options{App: builder.Options{Dir: "../x"}}, `dir "../x" is not a folder inside the source`},
		{"Dockerfile outside the build context", Options{App: builder.Options{Dir: "examples/app", Dockerfile: "../Dockerfile"}},
			`dockerfile "../Dockerfile" is outside the build context "examples/app"`},
		{"secret-looking build arg", Options{App: builder.Options{BuildArgs: []string{"NPM_TOKEN=x"}}}, "build arg NPM_TOKEN looks like a secret"},
		{"commit override", Options{Git: GitOverride{Commit: "xyz", CommitTime: "1"}}, `commit "xyz" is not a git commit hash`},
		{"commit-time without commit", Options{Git: GitOverride{CommitTime: "1"}}, "commit-time is set without commit"},
		{"skip", Options{Skip: []string{"scna"}}, `skip "scna": no such stage`},
	} {
		t.Run(c.name, func(t *testing.T) {
			client, conn := daggertest.New(t, files("Dockerfile", "examples/app/Dockerfile", "go.mod"))
			_, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			for _, f := range []string{"withExec", "dockerBuild", "from("} {
				conn.AssertNotQueried(t, f)
			}
		})
	}
	// ship's own inputs too: repositories and tags
	for _, c := range []struct {
		opts ShipOptions
		want string
	}{
		{ShipOptions{Publish: publish.ShipOptions{Repos: []string{"ghcr.io/acme/app:1"}}}, `repository "ghcr.io/acme/app:1": give the repository without a tag`},
		{ShipOptions{Publish: publish.ShipOptions{Tags: tags.Options{Extra: []string{"bad/tag"}}}}, `extra tag "bad/tag" is not a valid OCI tag`},
	} {
		client, conn := daggertest.New(t, files("go.mod"))
		_, err := Ship(t.Context(), client, client.Directory(), images.MustDefault(), c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ship: err = %v, want %q", err, c.want)
		}
		conn.AssertNotQueried(t, "withExec")
		conn.AssertNotQueried(t, "asService")
	}
}

// Dockerfile build args reach the test stage as they reach the image
// (they were lost on the way once).
func TestDockerfileBuildArgsReachTheTestStage(t *testing.T) {
	as := append([]daggertest.Answer{files("examples/node-api/Dockerfile", ".git"),
		daggertest.On("contents", "FROM node AS deps\nFROM deps AS test\nRUN npm test\nFROM deps\n")}, answers(t, true)...)
	client, conn := daggertest.New(t, as...)
	opts := Options{App: builder.Options{Dir: "examples/node-api", BuildArgs: []string{"NODE_VERSION=22"}}, Skip: []string{"scan"}}
	if _, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), opts); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `dockerBuild(`, `target:"test"`, `name:"NODE_VERSION"`, `value:"22"`)
}

// A failed exec names its command and carries the end of its output.
func TestFailedExecNamesCommandAndOutput(t *testing.T) {
	stderr := strings.Repeat("go: downloading example.com/ok v1.0.0\n", 30) +
		"go: example.com/private@v1.2.3: reading https://proxy.golang.org/example.com/private/@v/v1.2.3.mod: 404 Not Found\n"
	fail := func(l daggertest.Leaf) (any, bool) {
		if l.Name() == "platform" {
			return daggertest.ExecFailure(1, "", stderr, "go", "mod", "download"), true
		}
		return nil, false
	}
	client, _ := daggertest.New(t, append([]daggertest.Answer{fail}, answers(t, true)...)...)
	_, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), Options{})
	if err == nil {
		t.Fatal("a failed go mod download passed")
	}
	msg := err.Error()
	for _, want := range []string{`command "go mod download" exited 1`, "example.com/private@v1.2.3", "404 Not Found", "(11 earlier lines)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	var ee *dagger.ExecError
	if !errors.As(err, &ee) || ee.ExitCode != 1 {
		t.Errorf("the ExecError is not kept in the chain: %v", err)
	}
}

// Private modules: the module settings reach build, lint and test as
// environment, the netrc as a secret file; its value is in no query (so in
// no argument, layer or log the engine writes).
func TestPrivateModuleSettingsReachEveryGoExec(t *testing.T) {
	t.Setenv("PAVED_TEST_NETRC", "machine github.com login x-access-token password sentinel-netrc-token")
	client, conn := daggertest.New(t, answers(t, true)...)
	opts := Options{App: builder.Options{
		Lint: true, Env: map[string]string{"GOPROXY": "https://goproxy.example.com,direct", "GOPRIVATE": "github.com/acme/*"},
		Netrc: client.Secret("env://PAVED_TEST_NETRC"),
	}}
	if _, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), opts); err != nil {
		t.Fatal(err)
	}
	for _, exec := range []string{`"go","mod","download"`, `"golangci-lint","run"`, `"go","test"`} {
		conn.AssertQueried(t, exec, `withMountedSecret(mode:256, path:"/root/.netrc"`, `env://PAVED_TEST_NETRC`,
			`withEnvVariable(name:"GOPROXY", value:"https://goproxy.example.com,direct")`, `withEnvVariable(name:"GOPRIVATE", value:"github.com/acme/*")`)
	}
	conn.AssertNotQueried(t, "sentinel-netrc-token")
	// a Dockerfile build refuses them rather than ignoring them
	client2, _ := daggertest.New(t, files("Dockerfile", ".git"))
	opts.App.Lint = false
	_, err := Check(t.Context(), client2, client2.Directory(), images.MustDefault(), opts)
	if err == nil || !strings.Contains(err.Error(), "does not take --goproxy/goprivate/gonosumdb, --netrc: pass --builder=go") {
		t.Errorf("Dockerfile build with Go module settings: %v", err)
	}
}

// --offline with no DB in the cache volume: the error says why and how to
// fill it, besides trivy's own line.
func TestOfflineWithoutDBSaysHowToFillTheCache(t *testing.T) {
	stderr := "2026-12-03T07:39:35Z\tFATAL\tFatal error\trun error: init error: DB error: database error: --skip-db-update cannot be specified on the first run\n"
	fail := func(l daggertest.Leaf) (any, bool) {
		if l.Name() == "contents" && strings.Contains(l.Arg(-2, "path"), "trivy.json") {
			return daggertest.ExecFailure(1, "", stderr, "trivy", "image"), true
		}
		return nil, false
	}
	client, _ := daggertest.New(t, append([]daggertest.Answer{fail}, answers(t, true)...)...)
	opts := Options{Scan: scan.Stage{Opts: scan.Options{Offline: true}}}
	_, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), opts)
	if err == nil || !strings.Contains(err.Error(), "run once without --offline") || !strings.Contains(err.Error(), "cannot be specified on the first run") {
		t.Errorf("err = %v", err)
	}
	// without --offline the hint would be wrong: not given
	opts.Scan.Opts.Offline = false
	if _, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), opts); err == nil || strings.Contains(err.Error(), "--offline") {
		t.Errorf("online err = %v", err)
	}
}
