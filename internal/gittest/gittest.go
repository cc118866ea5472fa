// Package gittest makes real git repositories for tests.
package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Repo is a git work tree in a temporary directory.
type Repo struct {
	T   testing.TB
	Dir string
	n   int
}

// New runs git init in a fresh temporary directory with a fixed identity
// and clock, so commit hashes do not depend on the machine.
func New(t testing.TB) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required for this test: %v", err)
	}
	r := &Repo{T: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// Git runs git in the repository and returns its trimmed output.
func (r *Repo) Git(args ...string) string {
	r.T.Helper()
	return run(r.T, r.Dir, args...)
}

// Commit writes file with content and commits it at a fixed time
// (2026-01-01 plus one minute per commit).
func (r *Repo) Commit(file, content string) string {
	r.T.Helper()
	p := filepath.Join(r.Dir, file)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.T.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.T.Fatal(err)
	}
	r.Git("add", file)
	r.n++
	r.Git("commit", "-q", "-m", "change "+file, "--date", r.Date())
	return r.Git("rev-parse", "HEAD")
}

// Date is the fixed time of the latest commit, as git's raw date format.
func (r *Repo) Date() string {
	return strings.TrimSpace(itoa(1767225600+60*r.n)) + " +0000"
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

func run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=paved test", "GIT_AUTHOR_EMAIL=test@paved.invalid",
		"GIT_COMMITTER_NAME=paved test", "GIT_COMMITTER_EMAIL=test@paved.invalid",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	)
	if len(args) > 0 && args[0] == "commit" {
		for i, a := range args {
			if a == "--date" && i+1 < len(args) {
				cmd.Env = append(cmd.Env, "GIT_COMMITTER_DATE="+args[i+1])
			}
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Clone makes a clone of r in a new temporary directory with extra args
// (e.g. "--depth", "1", "--no-tags").
func (r *Repo) Clone(args ...string) *Repo {
	r.T.Helper()
	dst := filepath.Join(r.T.TempDir(), "clone")
	all := append([]string{"clone", "-q"}, args...)
	all = append(all, "file://"+r.Dir, dst)
	run(r.T, r.Dir, all...)
	return &Repo{T: r.T, Dir: dst, n: r.n}
}
