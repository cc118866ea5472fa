package build

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
)

var testGit = gitmeta.Info{
	Commit:     "0123456789abcdef0123456789abcdef01234567",
	CommitTime: time.Unix(1767225600, 0).UTC(),
	ExactTags:  []string{"v1.4.2"},
	RemoteURL:  "https://github.com/acme/hello.git",
}

// existsAnswer says go.mod and the main folder exist unless listed as missing.
func existsAnswer(missing ...string) daggertest.Answer {
	return func(l daggertest.Leaf) (any, bool) {
		if l.Name() != "exists" {
			return nil, false
		}
		p := strings.Trim(l.Arg(-1, "path"), `"`)
		for _, m := range missing {
			if p == m {
				return false, true
			}
		}
		return true, true
	}
}

// platformAnswer reports each container's requested platform, except that
// base images in noArm64 come out as amd64 (what Dagger does).
func platformAnswer(noArm64 bool) daggertest.Answer {
	return func(l daggertest.Leaf) (any, bool) {
		if l.Name() != "platform" {
			return nil, false
		}
		p := strings.Trim(l.Arg(0, "platform"), `"`)
		if noArm64 && strings.Contains(p, "arm64") {
			return "linux/amd64", true
		}
		return p, true
	}
}

func TestQueryGoBuildUsesPinnedToolchainCachesTrimpathAndLdflags(t *testing.T) {
	client, conn := daggertest.New(t, existsAnswer(), platformAnswer(false))
	opts := GoOptions{Main: "./cmd/hello"}
	p, err := NewPlan(opts, testGit)
	if err != nil {
		t.Fatal(err)
	}
	variants, err := Go(t.Context(), client, client.Directory(), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(variants) != 2 {
		t.Fatalf("%d variants, want 2", len(variants))
	}
	goImage := images.MustDefault().Ref(images.Go)
	for _, plat := range []struct{ goos, goarch string }{{"linux", "amd64"}, {"linux", "arm64"}} {
		// the toolchain query: native container, caches, flags, cross env
		conn.AssertQueried(t,
			`container{from(address:"`+goImage+`")`,
			`withMountedCache(cache:"id`, `cacheVolume(key:\"paved-go-mod\")", path:"/go/pkg/mod")`,
			`cacheVolume(key:\"paved-go-build\")", path:"/root/.cache/go-build")`,
			`withEnvVariable(name:"GOFLAGS", value:"-trimpath -buildvcs=false")`,
			`withEnvVariable(name:"GOARCH", value:"`+plat.goarch+`")`,
			`withEnvVariable(name:"CGO_ENABLED", value:"0")`,
			`main.version=1.4.2`, `main.commit=`+testGit.Commit,
			`"-o","/out/linux/`+plat.goarch+`/hello","./cmd/hello"]){file(path:"/out/linux/`+plat.goarch+`/hello")`,
		)
		// the runtime query: base for the platform, labels, non-root
		conn.AssertQueried(t,
			`container(platform:"`+plat.goos+`/`+plat.goarch+`"){from(address:"`+images.MustDefault().Ref(images.Runtime)+`")`,
			// laid from the root, so usr/local/bin gets the commit time too
			`withDirectory(path:"/", source:`,
			`withFile(path:\"usr/local/bin/hello\"`,
			`withTimestamps(timestamp:1767225600)`,
			`withUser(name:"65532:65532")`,
			`withEntrypoint(args:["/usr/local/bin/hello"])`,
			`withLabel(name:"org.opencontainers.image.revision", value:"`+testGit.Commit+`")`,
			`withLabel(name:"org.opencontainers.image.created", value:"2026-01-01T00:00:00Z")`,
			`withLabel(name:"org.opencontainers.image.version", value:"1.4.2")`,
			`{platform}`,
		)
	}
	// The toolchain never runs emulated: no platform on its container.
	conn.AssertNotQueried(t, `container(platform:"linux/arm64"){from(address:"`+goImage)
}

func TestQueryGoImageOverrideReplacesThePinnedDefault(t *testing.T) {
	client, conn := daggertest.New(t, existsAnswer(), platformAnswer(false))
	imgs, err := images.New(images.Options{Override: map[string]string{"go": "mirror.example.com/golang:1.26"}})
	if err != nil {
		t.Fatal(err)
	}
	opts := GoOptions{Images: imgs, Platforms: []string{"linux/amd64"}}
	p, _ := NewPlan(opts, testGit)
	if _, err := Go(t.Context(), client, client.Directory(), p, opts); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `from(address:"mirror.example.com/golang:1.26")`)
	conn.AssertNotQueried(t, images.MustDefault().Ref(images.Go))
}

func TestQueryBaseImageWithoutArm64FailsNamingImageAndPlatform(t *testing.T) {
	client, _ := daggertest.New(t, existsAnswer(), platformAnswer(true))
	opts := GoOptions{}
	p, _ := NewPlan(opts, testGit)
	_, err := Go(t.Context(), client, client.Directory(), p, opts)
	if err == nil {
		t.Fatal("an amd64-only base image passed as arm64")
	}
	for _, want := range []string{p.BaseImage, "linux/arm64", "came out as linux/amd64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestQueryMissingGoModOrMainPackageIsAClearError(t *testing.T) {
	client, _ := daggertest.New(t, existsAnswer("svc/go.mod"))
	opts := GoOptions{Dir: "svc"}
	p, _ := NewPlan(opts, testGit)
	_, err := Go(t.Context(), client, client.Directory(), p, opts)
	if err == nil || !strings.Contains(err.Error(), "no svc/go.mod") || !strings.Contains(err.Error(), "--dir") {
		t.Errorf("missing go.mod: %v", err)
	}
	client, _ = daggertest.New(t, existsAnswer("cmd/nope"))
	opts = GoOptions{Main: "./cmd/nope"}
	p, _ = NewPlan(opts, testGit)
	_, err = Go(t.Context(), client, client.Directory(), p, opts)
	if err == nil || !strings.Contains(err.Error(), `main package "./cmd/nope" does not exist`) {
		t.Errorf("missing main: %v", err)
	}
}

// historyOut is what gitmeta.HistoryScript prints for testGit.
const historyOut = "commit=0123456789abcdef0123456789abcdef01234567\ntime=1767225600\nbranch=main\nexact=v1.4.2 \ntags=v1.4.2 \ndescribe=v1.4.2-0-g0123456\nshallow=false\nremote=https://github.com/acme/hello.git\n"

// gitAnswers answers the history script with historyOut, git status with
// status, and the engine's view of the work tree with changes (nil: the
// engine fails to answer).
func gitAnswers(status string, changes map[string]any) daggertest.Answer {
	return func(l daggertest.Leaf) (any, bool) {
		switch l.Name() {
		case "stdout":
			if strings.Contains(l.Query, "status --porcelain") {
				return status, true
			}
			return historyOut, true
		case "isEmpty", "modifiedPaths", "removedPaths":
			if changes == nil {
				return daggertest.ErrorAnswer{Message: "git: not a repository"}, true
			}
			return changes[l.Name()], true
		}
		return nil, false
	}
}

// The history is read with only .git mounted (cached across edits of the
// work tree); the engine says whether tracked files changed, and git status
// runs only when it cannot tell: new files alone, or no answer.
func TestQueryGitInfoReadsHistoryFromGitAloneAndDirtyFromTheEngine(t *testing.T) {
	none := []any{}
	cases := []struct {
		name      string
		changes   map[string]any
		status    string
		dirty     bool
		runStatus bool
	}{
		{"clean", map[string]any{"isEmpty": true}, "", false, false},
		{"a tracked file changed", map[string]any{"isEmpty": false, "modifiedPaths": []any{"cmd/hello/main.go"}, "removedPaths": none}, "", true, false},
		{"a tracked file removed", map[string]any{"isEmpty": false, "modifiedPaths": none, "removedPaths": []any{"README.md"}}, "", true, false},
		{"only an untracked file", map[string]any{"isEmpty": false, "modifiedPaths": none, "removedPaths": none}, "dirty=false\n", false, true},
		{"only a staged new file", map[string]any{"isEmpty": false, "modifiedPaths": none, "removedPaths": none}, "dirty=true\n", true, true},
		{"the engine cannot tell", nil, "dirty=true\n", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, conn := daggertest.New(t, existsAnswer(), gitAnswers(c.status, c.changes))
			in, err := GitInfo(t.Context(), client, client.Directory(), images.MustDefault())
			if err != nil {
				t.Fatal(err)
			}
			if in.Commit != testGit.Commit || in.Branch != "main" || in.Dirty != c.dirty {
				t.Errorf("parsed %+v, want dirty=%v", in, c.dirty)
			}
			want := "1.4.2"
			if c.dirty {
				want += "-dirty"
			}
			if in.Version() != want {
				t.Errorf("version %q, want %q", in.Version(), want)
			}
			// only .git is mounted for the history
			conn.AssertQueried(t, `withMountedDirectory(path:"/src/.git", source:"id`, `directory(path:\".git\")`, `commit=$(g rev-parse --verify HEAD)`)
			conn.AssertQueried(t, `asGit{uncommitted{isEmpty}}`)
			if c.runStatus {
				conn.AssertQueried(t, `withMountedDirectory(path:"/src", source:"id`, `status --porcelain --untracked-files=no`)
			} else {
				conn.AssertNotQueried(t, `status --porcelain`)
			}
		})
	}
}

func TestQueryGitInfoRefusesASourceWithoutAGitFolder(t *testing.T) {
	client, _ := daggertest.New(t, existsAnswer(".git"))
	if _, err := GitInfo(t.Context(), client, client.Directory(), images.MustDefault()); err == nil || !strings.Contains(err.Error(), "no .git") {
		t.Errorf("no .git: %v", err)
	}
	// a worktree's .git is a file: exists, but not as a folder
	file := func(l daggertest.Leaf) (any, bool) {
		if l.Name() == "exists" && strings.Contains(l.Query, "DIRECTORY_TYPE") {
			return false, true
		}
		return nil, false
	}
	client, _ = daggertest.New(t, file, existsAnswer())
	if _, err := GitInfo(t.Context(), client, client.Directory(), images.MustDefault()); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf(".git file: %v", err)
	}
}

func TestPlanIsDeterministicAndValidatesInput(t *testing.T) {
	a, err := NewPlan(GoOptions{Tags: []string{"netgo"}, Ldflags: []string{"-X main.x=y"}}, testGit)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPlan(GoOptions{Tags: []string{"netgo"}, Ldflags: []string{"-X main.x=y"}}, testGit)
	if strings.Join(a.Steps[1].Args, " ") != strings.Join(b.Steps[1].Args, " ") {
		t.Error("two plans of one commit differ")
	}
	args := strings.Join(a.Steps[0].Args, " ")
	for _, w := range []string{"-tags=netgo", "-X main.x=y", "-s -w"} {
		if !strings.Contains(args, w) {
			t.Errorf("args %q lack %q", args, w)
		}
	}
	if a.Binary != "app" || a.Labels["org.opencontainers.image.source"] != testGit.RemoteURL {
		t.Errorf("binary %q labels %v", a.Binary, a.Labels)
	}
	dirty := testGit
	dirty.Dirty = true
	if p, _ := NewPlan(GoOptions{}, dirty); p.Version != "1.4.2-dirty" {
		t.Errorf("dirty version %q", p.Version)
	}
	bad := []struct {
		opts GoOptions
		git  gitmeta.Info
		want string
	}{
		{GoOptions{Platforms: []string{"linux/amd64", "windows/amd64"}}, testGit, `platform "windows/amd64"`},
		{GoOptions{Platforms: []string{"linux/sparc"}}, testGit, `unknown architecture "sparc"`},
		{GoOptions{Platforms: []string{"amd64"}}, testGit, "want os/arch"},
		{GoOptions{Platforms: []string{"linux/amd64", "linux/amd64"}}, testGit, "listed twice"},
		{GoOptions{Platforms: []string{"linux/arm/v9"}}, testGit, `unknown variant "v9"`},
		{GoOptions{Main: "/abs/cmd"}, testGit, "relative to the Go module"},
		{GoOptions{Main: "../other"}, testGit, "outside the Go module"},
		{GoOptions{Dir: "../../etc"}, testGit, "not a folder inside the source"},
		{GoOptions{Binary: "a/b"}, testGit, "plain file name"},
		{GoOptions{Tags: []string{"a,b"}}, testGit, "one tag per entry"},
		{GoOptions{}, gitmeta.Info{}, "no git commit"},
	}
	for _, c := range bad {
		if _, err := NewPlan(c.opts, c.git); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want it to mention %q", c.opts, err, c.want)
		}
	}
}

func TestPlatformGoEnv(t *testing.T) {
	p, err := ParsePlatform("linux/arm/v6")
	if err != nil {
		t.Fatal(err)
	}
	if env := p.GoEnv(); env["GOARM"] != "6" || env["GOARCH"] != "arm" {
		t.Errorf("env %v", env)
	}
	p, _ = ParsePlatform("linux/arm")
	if p.String() != "linux/arm/v7" {
		t.Errorf("arm default variant: %s", p)
	}
}

func TestStageRecordsVariantsInState(t *testing.T) {
	// A plan error surfaces from the stage unchanged.
	st := Stage{Opts: GoOptions{Platforms: []string{"plan9/amd64"}}}
	err := st.Run(t.Context(), newState(t))
	if err == nil || !strings.Contains(err.Error(), "plan9/amd64") {
		t.Errorf("err %v", err)
	}
	if errors.Unwrap(err) != nil {
		t.Errorf("plan errors are plain: %v", err)
	}
}

func BenchmarkNewPlan(b *testing.B) {
	imgs := images.MustDefault()
	opts := GoOptions{Main: "./cmd/hello", Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le", "linux/s390x"}, Tags: []string{"netgo", "osusergo"}, Images: imgs}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPlan(opts, testGit); err != nil {
			b.Fatal(err)
		}
	}
}

// The toolchain mounts only the app's module and its local replaces, without
// .git, and downloads modules with only the go.mod/go.sum files mounted: a
// change elsewhere in a monorepo leaves the app's build cached.
func TestQueryGoBuildMountsOnlyTheModuleAndItsReplaces(t *testing.T) {
	gomod := "module example.com/svc\n\nreplace example.com/shared => ../libs/shared\n"
	client, conn := daggertest.New(t, existsAnswer("go.work"), platformAnswer(false), daggertest.On("contents", gomod),
		daggertest.On("entries", []string{"cmd/", "go.mod", "go.sum", "main.go"}))
	opts := GoOptions{Dir: "svc", Main: "./cmd/hello", Platforms: []string{"linux/amd64"}}
	p, err := NewPlan(opts, testGit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Go(t.Context(), client, client.Host().Directory("/repo"), p, opts); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `file(path:"svc/go.mod"){contents}`)
	conn.AssertQueried(t, `withDirectory(exclude:[".git"], path:"libs/shared", source:`, `directory(path:\"libs/shared\")`,
		`withDirectory(exclude:[".git"], path:"svc", source:`, `directory(path:\"svc\")`)
	// go.mod and go.sum picked file by file (the engine caches a picked
	// file by its content; a filter of the folder changed with any .go file)
	conn.AssertQueried(t, `withFile(path:"libs/shared/go.mod", source:`, `withFile(path:"svc/go.mod", source:`,
		`withFile(path:"svc/go.sum", source:`, `file(path:\"svc/go.sum\")`)
	conn.AssertNotQueried(t, `filter(`)
	conn.AssertQueried(t, `withExec(args:["go","mod","download"]){withMountedDirectory(path:"/src"`)
	for _, q := range conn.Matching(`withMountedDirectory(path:"/src", source:"id`) {
		if regexp.MustCompile(`withMountedDirectory\(path:"/src", source:"id\d+:host\.directory`).MatchString(q) {
			t.Errorf("the whole source is mounted: %.300s", q)
		}
	}

	// With a go.work the workspace may name any folder: the whole tree, without .git.
	client, conn = daggertest.New(t, existsAnswer(), platformAnswer(false))
	if _, err := Go(t.Context(), client, client.Host().Directory("/repo"), p, opts); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `withDirectory(exclude:[".git"], path:".", source:"id`, `:host.directory(path:\"/repo\")")`)
	conn.AssertQueried(t, `filter(include:["**/go.mod","**/go.sum","go.work","go.work.sum"])`)
}

// The platforms build at once: the variants' platforms are asked
// together, so each answer (which waits for that build) can overlap the
// other. Here each answer waits until both questions have come.
func TestQueryPlatformsBuildConcurrently(t *testing.T) {
	var mu sync.Mutex
	asked := 0
	both := make(chan struct{})
	barrier := func(l daggertest.Leaf) (any, bool) {
		if l.Name() != "platform" {
			return nil, false
		}
		mu.Lock()
		asked++
		if asked == 2 {
			close(both)
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(5 * time.Second):
			return "linux/s390x", true // fails the platform check
		}
		return strings.Trim(l.Arg(0, "platform"), `"`), true
	}
	client, _ := daggertest.New(t, existsAnswer(), barrier)
	opts := GoOptions{}
	p, _ := NewPlan(opts, testGit)
	if _, err := Go(t.Context(), client, client.Directory(), p, opts); err != nil {
		t.Fatalf("the second platform was asked only after the first answered: %v", err)
	}
}
