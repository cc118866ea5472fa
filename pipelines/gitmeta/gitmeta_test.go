package gitmeta_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/internal/gittest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
)

func TestReadOnRealRepositories(t *testing.T) {
	r := gittest.New(t)
	first := r.Commit("main.go", "package main\n")
	r.Git("tag", "v1.2.0")
	r.Git("tag", "v1.2.0-rc.1")

	in, err := gitmeta.Read(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if in.Commit != first || in.ShortCommit() != first[:7] {
		t.Errorf("commit %q, want %q", in.Commit, first)
	}
	if want := time.Unix(1767225660, 0).UTC(); !in.CommitTime.Equal(want) {
		t.Errorf("commit time %v, want %v", in.CommitTime, want)
	}
	if in.SourceDateEpoch() != "1767225660" {
		t.Errorf("SOURCE_DATE_EPOCH %q", in.SourceDateEpoch())
	}
	if in.Branch != "main" || in.Dirty {
		t.Errorf("branch %q dirty %v", in.Branch, in.Dirty)
	}
	if got := in.Version(); got != "1.2.0" {
		t.Errorf("version on release tag (with an rc beside it) = %q, want 1.2.0", got)
	}

	// Three commits later, untagged: git describe form.
	r.Commit("a.txt", "a")
	r.Commit("b.txt", "b")
	head := r.Commit("c.txt", "c")
	in, _ = gitmeta.Read(r.Dir)
	if want := "1.2.0-3-g" + head[:7]; in.Version() != want {
		t.Errorf("version after tag = %q, want %q", in.Version(), want)
	}
	if len(in.Tags) != 2 || len(in.ExactTags) != 0 {
		t.Errorf("tags %v exact %v", in.Tags, in.ExactTags)
	}

	// Dirty tree: a tracked file modified.
	if err := os.WriteFile(filepath.Join(r.Dir, "a.txt"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	in, _ = gitmeta.Read(r.Dir)
	if !in.Dirty || !strings.HasSuffix(in.Version(), "-dirty") {
		t.Errorf("dirty tree not seen: dirty=%v version=%q", in.Dirty, in.Version())
	}
	r.Git("checkout", "--", "a.txt")

	// Untracked files do not make a tree dirty (build outputs, caches).
	os.WriteFile(filepath.Join(r.Dir, "untracked.bin"), []byte("x"), 0o644)
	if in, _ = gitmeta.Read(r.Dir); in.Dirty {
		t.Error("untracked file made the tree dirty")
	}

	// Detached HEAD.
	r.Git("checkout", "-q", "--detach", first)
	in, _ = gitmeta.Read(r.Dir)
	if in.Branch != "" || in.Version() != "1.2.0" {
		t.Errorf("detached: branch %q version %q", in.Branch, in.Version())
	}
}

func TestShallowCloneWithoutTags(t *testing.T) {
	r := gittest.New(t)
	r.Commit("x", "1")
	r.Git("tag", "v0.1.0")
	head := r.Commit("x", "2")
	c := r.Clone("--depth", "1", "--no-tags")
	in, err := gitmeta.Read(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Shallow || len(in.Tags) != 0 {
		t.Errorf("shallow=%v tags=%v", in.Shallow, in.Tags)
	}
	if want := "0.0.0-" + head[:7]; in.Version() != want {
		t.Errorf("version %q, want %q", in.Version(), want)
	}
	if !strings.HasPrefix(in.RemoteURL, "file://") {
		t.Errorf("remote %q", in.RemoteURL)
	}
}

func TestRemoteURLCredentialsAreDropped(t *testing.T) {
	r := gittest.New(t)
	r.Commit("x", "1")
	r.Git("remote", "add", "origin", "https://x-access-token:ghs_SENTINEL@github.com/acme/app.git")
	in, err := gitmeta.Read(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(in.RemoteURL, "SENTINEL") || in.RemoteURL != "https://github.com/acme/app.git" {
		t.Errorf("remote %q", in.RemoteURL)
	}
}

func TestReadErrorsNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	if _, err := gitmeta.Read(dir); err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("plain dir: %v", err)
	}
	r := gittest.New(t)
	if _, err := gitmeta.Read(r.Dir); err == nil || !strings.Contains(err.Error(), "no commit") {
		t.Errorf("empty repo: %v", err)
	}
	if _, err := gitmeta.Parse([]byte("garbage\n")); err == nil || !strings.Contains(err.Error(), `no "commit" line`) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := gitmeta.Parse([]byte("commit=abcdef0123\ntime=yesterday\n")); err == nil || !strings.Contains(err.Error(), "yesterday") {
		t.Errorf("bad time: %v", err)
	}
}

func TestSemverPrecedence(t *testing.T) {
	order := []string{"v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta", "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0", "v1.0.1", "v1.10.0", "v2.0.0"}
	for i := 1; i < len(order); i++ {
		a, ok1 := gitmeta.ParseSemver(order[i-1])
		b, ok2 := gitmeta.ParseSemver(order[i])
		if !ok1 || !ok2 {
			t.Fatalf("parse %s / %s", order[i-1], order[i])
		}
		if gitmeta.Compare(a, b) != -1 || gitmeta.Compare(b, a) != 1 {
			t.Errorf("%s should sort before %s", order[i-1], order[i])
		}
	}
	for _, bad := range []string{"1.2", "v01.2.3", "v1.2.3-", "v1.2.3-01", "release", "v1.2.3-a_b"} {
		if _, ok := gitmeta.ParseSemver(bad); ok {
			t.Errorf("%q parsed as semver", bad)
		}
	}
	if got := gitmeta.HighestSemver([]string{"v1.1.9", "latest", "v1.2.0", "v1.3.0-rc.1"}); got != "v1.3.0-rc.1" {
		t.Errorf("highest = %q", got)
	}
}

// The pipeline runs HistoryScript with only .git mounted: it must give
// every line Script gives on the whole checkout, dirty aside. A staged new
// file counts as a change, an untracked one does not: the engine's view of
// the work tree cannot tell the two apart, so build.Dirty asks git then.
func TestHistoryScriptOnGitAloneAgreesWithTheCheckout(t *testing.T) {
	r := gittest.New(t)
	r.Commit("main.go", "package main\n")
	r.Git("tag", "v1.2.0")
	r.Commit("a.txt", "a")
	r.Git("remote", "add", "origin", "https://github.com/acme/app.git")
	full, err := gitmeta.Read(r.Dir)
	if err != nil {
		t.Fatal(err)
	}

	// .git alone, as the container mounts it
	only := t.TempDir()
	if err := os.CopyFS(filepath.Join(only, ".git"), os.DirFS(filepath.Join(r.Dir, ".git"))); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", gitmeta.HistoryScript)
	cmd.Dir = only
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("history script on .git alone: %v", err)
	}
	if strings.Contains(string(out), "dirty=") {
		t.Error("the history script answers dirty, which needs the work tree")
	}
	hist, err := gitmeta.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(hist, full) {
		t.Errorf("on .git alone:\n%+v\non the checkout:\n%+v", hist, full)
	}

	dirty := func() bool {
		t.Helper()
		cmd := exec.Command("sh", "-c", gitmeta.DirtyScript)
		cmd.Dir = r.Dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out)) == "dirty=true"
	}
	os.WriteFile(filepath.Join(r.Dir, "new.go"), []byte("package main\n"), 0o644)
	if dirty() {
		t.Error("an untracked file made the tree dirty")
	}
	r.Git("add", "new.go")
	if !dirty() {
		t.Error("a staged new file did not make the tree dirty")
	}
}
