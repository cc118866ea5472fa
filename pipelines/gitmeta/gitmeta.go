// Package gitmeta reads what paved needs to know about a source tree's git
// state: commit, commit time, branch, tags and whether the tree is dirty.
//
// The same shell script runs on the host (Read) and inside a container in
// the pipeline (build.GitInfo), and the same Parse reads its output, so the
// two can never disagree.
package gitmeta

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Info is a tree's git state.
type Info struct {
	Commit     string    // full hash
	CommitTime time.Time // committer time of HEAD (SOURCE_DATE_EPOCH)
	Branch     string    // "" on a detached HEAD
	// ExactTags are the v-prefixed tags on HEAD, in git's order.
	ExactTags []string
	// Tags are all v-prefixed tags in the repository; publish uses them
	// to decide whether a release is the highest of its line.
	Tags []string
	// Describe is `git describe --tags --long --match v[0-9]*`, "" when no
	// tag is reachable (or the clone is shallow without tags).
	Describe string
	Dirty    bool
	Shallow  bool
	// RemoteURL is origin's URL with any user and password removed.
	RemoteURL string
}

// Script prints Info as key=value lines for the repository in the current
// directory. It needs only git and a POSIX shell; safe.directory is set for
// the call so a tree owned by another user (as in a container) is read.
// It is HistoryScript then DirtyScript.
const Script = HistoryScript + DirtyScript

// HistoryScript prints every line of Script that .git alone answers: all
// but dirty. With only .git mounted, an edit in the work tree does not
// change its input, so the engine keeps its run cached.
const HistoryScript = `set -eu
g() { git -c safe.directory='*' "$@"; }
g rev-parse --is-inside-work-tree >/dev/null
commit=$(g rev-parse --verify HEAD)
time=$(g log -1 --format=%ct)
echo "commit=$commit"
echo "time=$time"
echo "branch=$(g symbolic-ref -q --short HEAD || true)"
echo "exact=$(g tag --points-at HEAD --list 'v*' | tr '\n' ' ')"
echo "tags=$(g tag --list 'v*' | tr '\n' ' ')"
echo "describe=$(g describe --tags --long --match 'v[0-9]*' 2>/dev/null || true)"
echo "shallow=$(g rev-parse --is-shallow-repository)"
echo "remote=$(g config --get remote.origin.url || true)"
`

// DirtyScript prints the dirty line: whether tracked files differ from
// HEAD (untracked files do not count). It needs the work tree.
const DirtyScript = `if [ -z "$(git -c safe.directory='*' status --porcelain --untracked-files=no)" ]; then echo dirty=false; else echo dirty=true; fi
`

// Read runs Script in dir with the host's git.
func Read(dir string) (Info, error) {
	cmd := exec.Command("sh", "-c", Script)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "not a git repository") {
			return Info{}, fmt.Errorf("source %s is not a git repository: paved reads commit and tags from git (run `git init` and commit, or pass the version explicitly)", dir)
		}
		if strings.Contains(msg, "Needed a single revision") || strings.Contains(msg, "does not have any commits") {
			return Info{}, fmt.Errorf("source %s: the git repository has no commit yet; commit once so paved has a revision to label the image with", dir)
		}
		return Info{}, fmt.Errorf("reading git metadata in %s: %v: %s", dir, err, msg)
	}
	return Parse(out)
}

// Parse reads Script's output.
func Parse(out []byte) (Info, error) {
	var in Info
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		seen[k] = true
		switch k {
		case "commit":
			in.Commit = v
		case "time":
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return Info{}, fmt.Errorf("git metadata: commit time %q is not a Unix time", v)
			}
			in.CommitTime = time.Unix(sec, 0).UTC()
		case "branch":
			in.Branch = v
		case "exact":
			in.ExactTags = strings.Fields(v)
		case "tags":
			in.Tags = strings.Fields(v)
		case "describe":
			in.Describe = v
		case "dirty":
			in.Dirty = v == "true"
		case "shallow":
			in.Shallow = v == "true"
		case "remote":
			in.RemoteURL = redact(v)
		}
	}
	for _, k := range []string{"commit", "time"} {
		if !seen[k] {
			return Info{}, fmt.Errorf("git metadata: output has no %q line; is git installed and is the source a git repository?", k)
		}
	}
	if len(in.Commit) < 7 {
		return Info{}, fmt.Errorf("git metadata: commit %q is not a git hash", in.Commit)
	}
	return in, nil
}

// ShortCommit is the first 7 characters of the commit.
func (in Info) ShortCommit() string {
	if len(in.Commit) < 7 {
		return in.Commit
	}
	return in.Commit[:7]
}

// Version is what gets injected into the binary and the image label:
//   - HEAD tagged v1.2.3          → 1.2.3
//   - 4 commits after v1.2.3      → 1.2.3-4-gabc1234 (git describe, v dropped)
//   - no tag reachable            → 0.0.0-abc1234
//
// with "-dirty" appended for a dirty tree. Several tags on HEAD: the highest
// semver wins (pre-releases lose to releases).
func (in Info) Version() string {
	var v string
	if t := HighestSemver(in.ExactTags); t != "" {
		v = strings.TrimPrefix(t, "v")
	} else if in.Describe != "" {
		v = strings.TrimPrefix(in.Describe, "v")
	} else {
		v = "0.0.0-" + in.ShortCommit()
	}
	if in.Dirty {
		v += "-dirty"
	}
	return v
}

// SourceDateEpoch is the commit time as a decimal string.
func (in Info) SourceDateEpoch() string {
	return strconv.FormatInt(in.CommitTime.Unix(), 10)
}

// redact drops credentials from a remote URL: CI checkouts sometimes carry
// a token there, and the URL ends up in image labels.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// scp-like "git@github.com:org/repo.git" has no password part
		return raw
	}
	u.User = nil
	return u.String()
}
