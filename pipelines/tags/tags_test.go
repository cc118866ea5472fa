package tags

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/gitmeta"
)

// repo is a real git repository in a temp dir.
type repo struct {
	t   *testing.T
	dir string
	n   int
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed (apt-get install git)")
	}
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	r.commit()
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	return gitIn(r.t, r.dir, args...)
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid",
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) commit() {
	r.t.Helper()
	r.n++
	f := filepath.Join(r.dir, "file.txt")
	if err := os.WriteFile(f, []byte(strings.Repeat("x", r.n)), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", "file.txt")
	r.git("commit", "-q", "-m", "c")
}

type tg struct {
	name      string
	immutable bool
}

func TestComputeOnRealRepos(t *testing.T) {
	cases := []struct {
		name  string
		setup func(r *repo) (dir string)
		env   map[string]string
		opts  Options
		// want uses "SHA" for the short commit.
		want      []tg
		wantNotes []string
		wantProv  string
	}{
		{
			name: "release on main gets full, minor, major, latest",
			setup: func(r *repo) string {
				r.git("tag", "v1.0.0")
				r.commit()
				r.git("tag", "-a", "-m", "rel", "v1.2.3")
				return r.dir
			},
			want: []tg{{"1.2.3", true}, {"1.2", false}, {"1", false}, {"latest", false}, {"main", false}, {"sha-SHA", true}},
		},
		{
			name: "pre-release gets only its own tag",
			setup: func(r *repo) string {
				r.git("tag", "v1.2.0")
				r.commit()
				r.git("tag", "v1.3.0-rc.1")
				return r.dir
			},
			want: []tg{{"1.3.0-rc.1", true}, {"main", false}, {"sha-SHA", true}},
		},
		{
			name: "backport never moves latest nor the major",
			setup: func(r *repo) string {
				r.git("tag", "v1.1.0")
				r.commit()
				r.git("tag", "v1.2.0")
				r.git("checkout", "-q", "-b", "release/1.1", "v1.1.0")
				r.commit()
				r.git("tag", "v1.1.9")
				return r.dir
			},
			want:      []tg{{"1.1.9", true}, {"1.1", false}, {"release-1.1", false}, {"sha-SHA", true}},
			wantNotes: []string{"1 not moved: v1.2.0 is higher", "latest not moved: v1.2.0 is higher"},
		},
		{
			name: "backport that is the highest of its major moves the major only",
			setup: func(r *repo) string {
				r.git("tag", "v1.2.0")
				r.commit()
				r.git("tag", "v2.0.0")
				r.git("checkout", "-q", "-b", "v1", "v1.2.0")
				r.commit()
				r.git("tag", "v1.2.1")
				return r.dir
			},
			want:      []tg{{"1.2.1", true}, {"1.2", false}, {"1", false}, {"v1", false}, {"sha-SHA", true}},
			wantNotes: []string{"latest not moved: v2.0.0 is higher"},
		},
		{
			name: "a later pre-release does not stop a release moving its tags",
			setup: func(r *repo) string {
				r.git("tag", "v2.0.0-rc.1")
				r.commit()
				r.git("tag", "v1.4.0")
				return r.dir
			},
			want: []tg{{"1.4.0", true}, {"1.4", false}, {"1", false}, {"latest", false}, {"main", false}, {"sha-SHA", true}},
		},
		{
			name: "major zero gets no 0 tag",
			setup: func(r *repo) string {
				r.git("tag", "v0.3.0")
				return r.dir
			},
			want:      []tg{{"0.3.0", true}, {"0.3", false}, {"latest", false}, {"main", false}, {"sha-SHA", true}},
			wantNotes: []string{"0 not tagged"},
		},
		{
			name: "build metadata becomes underscore",
			setup: func(r *repo) string {
				r.git("tag", "v1.2.3+build.5")
				r.git("checkout", "-q", "--detach")
				return r.dir
			},
			want: []tg{{"1.2.3_build.5", true}, {"1.2", false}, {"1", false}, {"latest", false}, {"sha-SHA", true}},
		},
		{
			name: "branch name is sanitized",
			setup: func(r *repo) string {
				r.git("checkout", "-q", "-b", "Feature/JIRA-12_Add+Stuff")
				return r.dir
			},
			want: []tg{{"feature-jira-12_add-stuff", false}, {"sha-SHA", true}},
		},
		{
			name: "detached HEAD without tag gets only sha",
			setup: func(r *repo) string {
				r.commit()
				r.git("checkout", "-q", "HEAD~1")
				return r.dir
			},
			want: []tg{{"sha-SHA", true}},
		},
		{
			name: "detached HEAD on a release",
			setup: func(r *repo) string {
				r.git("tag", "v2.0.0")
				r.commit()
				r.git("checkout", "-q", "v2.0.0")
				return r.dir
			},
			want: []tg{{"2.0.0", true}, {"2.0", false}, {"2", false}, {"latest", false}, {"sha-SHA", true}},
		},
		{
			name: "non-semver tag is ignored",
			setup: func(r *repo) string {
				r.git("tag", "vnext")
				return r.dir
			},
			want: []tg{{"main", false}, {"sha-SHA", true}},
		},
		{
			name: "shallow clone without older tags withholds moving version tags",
			setup: func(r *repo) string {
				r.git("tag", "v1.5.0")
				r.commit()
				r.git("tag", "v1.4.1")
				return shallow(r)
			},
			want:      []tg{{"1.4.1", true}, {"main", false}, {"sha-SHA", true}},
			wantNotes: []string{"shallow clone"},
		},
		{
			name: "shallow clone trusted when asked",
			setup: func(r *repo) string {
				r.git("tag", "v1.5.0")
				r.commit()
				r.git("tag", "v1.4.1")
				return shallow(r)
			},
			opts: Options{TrustShallowTags: true},
			// v1.5.0 was not fetched: trusting the clone moves latest,
			// which is why this is opt-in.
			want: []tg{{"1.4.1", true}, {"1.4", false}, {"1", false}, {"latest", false}, {"main", false}, {"sha-SHA", true}},
		},
		{
			name: "shallow clone of untagged HEAD",
			setup: func(r *repo) string {
				r.git("tag", "v1.0.0")
				r.commit()
				return shallow(r)
			},
			want: []tg{{"main", false}, {"sha-SHA", true}},
		},
		{
			name: "dirty tree publishes no release and a moving sha tag",
			setup: func(r *repo) string {
				r.git("tag", "v1.0.0")
				if err := os.WriteFile(filepath.Join(r.dir, "file.txt"), []byte("changed"), 0o644); err != nil {
					t.Fatal(err)
				}
				return r.dir
			},
			want:      []tg{{"main", false}, {"sha-SHA-dirty", false}},
			wantNotes: []string{"uncommitted changes"},
		},
		{
			name: "prefix and suffix on every generated tag, not on extras",
			setup: func(r *repo) string {
				r.git("tag", "v1.2.3")
				return r.dir
			},
			opts: Options{Prefix: "app_", Suffix: "-debug", Extra: []string{"stable", " ", "9.9.9"}},
			want: []tg{{"app_1.2.3-debug", true}, {"app_1.2-debug", false}, {"app_1-debug", false}, {"app_latest-debug", false},
				{"app_main-debug", false}, {"app_sha-SHA-debug", true}, {"stable", false}, {"9.9.9", true}},
		},
		{
			name: "extra tag equal to a generated one is merged",
			setup: func(r *repo) string {
				r.git("tag", "v1.2.3")
				return r.dir
			},
			opts: Options{Extra: []string{"latest", "main"}},
			want: []tg{{"1.2.3", true}, {"1.2", false}, {"1", false}, {"latest", false}, {"main", false}, {"sha-SHA", true}},
		},
		{
			name: "GitHub pull request",
			setup: func(r *repo) string {
				r.git("tag", "v1.0.0") // HEAD tagged, but a PR never releases
				r.git("checkout", "-q", "--detach")
				return r.dir
			},
			env:      map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/42/merge", "GITHUB_REF_NAME": "42/merge", "GITHUB_HEAD_REF": "feature/x"},
			want:     []tg{{"pr-42", false}, {"sha-SHA", true}},
			wantProv: GitHubActions,
		},
		{
			name: "GitHub tag push",
			setup: func(r *repo) string {
				r.git("tag", "v0.9.0")
				r.commit()
				r.git("tag", "v1.0.0")
				r.git("checkout", "-q", "--detach")
				return r.dir
			},
			env:      map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1.0.0", "GITHUB_REF_NAME": "v1.0.0", "GITHUB_REF_TYPE": "tag"},
			want:     []tg{{"1.0.0", true}, {"1.0", false}, {"1", false}, {"latest", false}, {"sha-SHA", true}},
			wantProv: GitHubActions,
		},
		{
			name: "GitHub branch push of a tagged commit leaves versions to the tag build",
			setup: func(r *repo) string {
				r.git("tag", "v1.0.0")
				return r.dir
			},
			env:      map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/release/2026.1", "GITHUB_REF_NAME": "release/2026.1", "GITHUB_REF_TYPE": "branch"},
			want:     []tg{{"release-2026.1", false}, {"sha-SHA", true}},
			wantProv: GitHubActions,
		},
		{
			name: "GitLab merge request",
			setup: func(r *repo) string {
				r.git("checkout", "-q", "--detach")
				return r.dir
			},
			env:      map[string]string{"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "7", "CI_COMMIT_REF_NAME": "feature/y", "CI_DEFAULT_BRANCH": "main"},
			want:     []tg{{"pr-7", false}, {"sha-SHA", true}},
			wantProv: GitLabCI,
		},
		{
			name: "GitLab tag pipeline",
			setup: func(r *repo) string {
				r.git("tag", "v3.0.0")
				r.git("checkout", "-q", "--detach")
				return r.dir
			},
			env:      map[string]string{"GITLAB_CI": "true", "CI_COMMIT_TAG": "v3.0.0", "CI_COMMIT_REF_NAME": "v3.0.0", "CI_DEFAULT_BRANCH": "main"},
			want:     []tg{{"3.0.0", true}, {"3.0", false}, {"3", false}, {"latest", false}, {"sha-SHA", true}},
			wantProv: GitLabCI,
		},
		{
			name: "GitLab default branch",
			setup: func(r *repo) string {
				r.git("checkout", "-q", "--detach")
				return r.dir
			},
			env:      map[string]string{"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main", "CI_DEFAULT_BRANCH": "main"},
			want:     []tg{{"main", false}, {"sha-SHA", true}},
			wantProv: GitLabCI,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRepo(t)
			dir := c.setup(r)
			info, err := gitmeta.Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := Resolve(info, c.env)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Compute(ref, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			sha := gitIn(t, dir, "rev-parse", "--short=7", "HEAD")
			var want, got []tg
			for _, w := range c.want {
				want = append(want, tg{strings.ReplaceAll(w.name, "SHA", sha), w.immutable})
			}
			for _, g := range p.Tags {
				got = append(got, tg{g.Name, g.Immutable})
				if g.Reason == "" {
					t.Errorf("tag %s has no reason", g.Name)
				}
				if !Valid(g.Name) {
					t.Errorf("tag %q is not a valid OCI tag", g.Name)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("tags:\n got %v\nwant %v\nnotes %q", got, want, p.Notes)
			}
			notes := strings.Join(p.Notes, "\n")
			for _, n := range c.wantNotes {
				if !strings.Contains(notes, n) {
					t.Errorf("notes %q lack %q", p.Notes, n)
				}
			}
			if len(c.wantNotes) == 0 && len(p.Notes) > 0 && !strings.Contains(c.name, "non-semver") {
				t.Errorf("unexpected notes %q", p.Notes)
			}
			prov := c.wantProv
			if prov == "" {
				prov = Git
			}
			if p.Ref.Provider != prov {
				t.Errorf("provider %q, want %q", p.Ref.Provider, prov)
			}
			if p.Ref.PullRequest != "" && !strings.Contains(p.Tags[0].Reason, "from feature/") {
				t.Errorf("PR reason %q lacks the source branch", p.Tags[0].Reason)
			}
			md := p.Markdown()
			for _, g := range p.Tags {
				if !strings.Contains(md, "`"+g.Name+"` | "+g.Kind()) {
					t.Errorf("markdown lacks row for %s:\n%s", g.Name, md)
				}
			}
		})
	}
}

// shallow clones r with depth 1 over file:// (a plain path would
// hard-link a full clone) and returns the clone's directory.
func shallow(r *repo) string {
	r.t.Helper()
	dst := filepath.Join(r.t.TempDir(), "clone")
	gitIn(r.t, r.dir, "clone", "-q", "--depth", "1", "file://"+r.dir, dst)
	if got := gitIn(r.t, dst, "rev-parse", "--is-shallow-repository"); got != "true" {
		r.t.Fatalf("clone is not shallow: %s", got)
	}
	return dst
}

func TestComputeErrors(t *testing.T) {
	ref := Ref{Provider: Git, Commit: "0123456789abcdef", Branch: "main"}
	cases := []struct {
		opts Options
		want string
	}{
		{Options{Extra: []string{"has/slash"}}, `extra tag "has/slash" is not a valid OCI tag`},
		{Options{Extra: []string{"v1+x"}}, `extra tag "v1+x"`},
		{Options{Extra: []string{strings.Repeat("a", 129)}}, "is not a valid OCI tag"},
		{Options{Prefix: "-x"}, `tag prefix "-x"`},
		{Options{Suffix: ":x"}, `tag suffix ":x"`},
		{Options{Suffix: strings.Repeat("s", 125)}, "is not a valid OCI tag"},
	}
	for _, c := range cases {
		_, err := Compute(ref, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compute(%+v) error %v, want %q", c.opts, err, c.want)
		}
	}
	if _, err := Resolve(gitmeta.Info{Commit: "abc"}, nil); err == nil {
		t.Error("Resolve accepted a 3-character commit")
	}
	bad := gitmeta.Info{Commit: "0123456789abcdef"}
	if _, err := Resolve(bad, map[string]string{"GITHUB_REF": "refs/pull/abc/merge"}); err == nil || !strings.Contains(err.Error(), "GITHUB_REF") {
		t.Errorf("bad PR ref: %v", err)
	}
	if _, err := Resolve(bad, map[string]string{"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "x"}); err == nil || !strings.Contains(err.Error(), "CI_MERGE_REQUEST_IID") {
		t.Errorf("bad MR iid: %v", err)
	}
}

func TestLongBranchFitsWithSuffix(t *testing.T) {
	ref := Ref{Provider: Git, Commit: "0123456789abcdef", Branch: "feature/" + strings.Repeat("Ab", 100)}
	p, err := Compute(ref, Options{Prefix: "p-", Suffix: "-s"})
	if err != nil {
		t.Fatal(err)
	}
	b := p.Tags[0].Name
	if len(b) != MaxLen || !strings.HasPrefix(b, "p-feature-abab") || !strings.HasSuffix(b, "-s") {
		t.Errorf("branch tag %q (len %d)", b, len(b))
	}
}

func TestSanitizeBranch(t *testing.T) {
	for in, want := range map[string]string{
		"main":              "main",
		"feature/Login":     "feature-login",
		"--x":               "x",
		".hidden":           "hidden",
		"a b\tc":            "a-b-c",
		"ünïcode":           "n-code",
		"///":               "",
		"dependabot/go/x.y": "dependabot-go-x.y",
	} {
		got := SanitizeBranch(in, MaxLen)
		if got != want {
			t.Errorf("SanitizeBranch(%q) = %q, want %q", in, got, want)
		}
		if got != "" && !Valid(got) {
			t.Errorf("SanitizeBranch(%q) = %q is not a valid tag", in, got)
		}
	}
}

func TestEmptyBranchAfterSanitizeIsANote(t *testing.T) {
	p, err := Compute(Ref{Provider: Git, Commit: "0123456789abcdef", Branch: "///"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tags) != 1 || p.Tags[0].Name != "sha-0123456" || len(p.Notes) != 1 {
		t.Errorf("tags %v notes %v", p.Names(), p.Notes)
	}
}

func TestCIEnvPicksOnlyKnownSetKeys(t *testing.T) {
	env := map[string]string{"GITHUB_REF": "refs/pull/3/merge", "GITHUB_TOKEN": "secret", "CI_COMMIT_TAG": ""}
	got := CIEnv(func(k string) string { return env[k] })
	if !reflect.DeepEqual(got, map[string]string{"GITHUB_REF": "refs/pull/3/merge"}) {
		t.Errorf("%v", got)
	}
}

func TestArgsOverrideGitAndCI(t *testing.T) {
	commit := "0123456789abcdef0123456789abcdef01234567"
	// HEAD is the highest release v1.2.0 on branch main, seen by git.
	head := gitmeta.Info{Commit: commit, Branch: "main", ExactTags: []string{"v1.2.0"}, Tags: []string{"v1.1.0", "v1.2.0"}}
	cases := []struct {
		name string
		in   gitmeta.Info
		env  map[string]string
		args Args
		want []string
		prov string
	}{
		{"no args: git decides", head, nil, Args{}, []string{"1.2.0", "1.2", "1", "latest", "main", "sha-0123456"}, Git},
		{"branch ref drops the release", head, nil, Args{GitRef: "refs/heads/release/1.x"}, []string{"release-1.x", "sha-0123456"}, Arguments},
		{"bare name is a branch", head, nil, Args{GitRef: "feature/Login"}, []string{"feature-login", "sha-0123456"}, Arguments},
		{"tag ref not yet fetched", gitmeta.Info{Commit: commit, Tags: []string{"v1.2.0"}}, nil, Args{GitRef: "refs/tags/v1.3.0"}, []string{"1.3.0", "1.3", "1", "latest", "sha-0123456"}, Arguments},
		{"backport tag ref", head, nil, Args{GitRef: "refs/tags/v1.1.1"}, []string{"1.1.1", "1.1", "sha-0123456"}, Arguments},
		{"github pull ref", head, nil, Args{GitRef: "refs/pull/42/merge"}, []string{"pr-42", "sha-0123456"}, Arguments},
		{"gitlab merge request ref", head, nil, Args{GitRef: "refs/merge-requests/7/head"}, []string{"pr-7", "sha-0123456"}, Arguments},
		{"pr number with source branch", head, nil, Args{GitRef: "refs/heads/fix", PullRequest: "#9"}, []string{"pr-9", "sha-0123456"}, Arguments},
		{"args win over CI env", head, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main"},
			Args{GitRef: "refs/tags/v1.2.0"}, []string{"1.2.0", "1.2", "1", "latest", "sha-0123456"}, Arguments},
		{"default branch only", gitmeta.Info{Commit: commit, Branch: "trunk"}, nil, Args{DefaultBranch: "trunk"}, []string{"trunk", "sha-0123456"}, Arguments},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := For(c.in, c.env, c.args, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Names(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("tags %v, want %v", got, c.want)
			}
			if p.Ref.Provider != c.prov {
				t.Errorf("provider %q, want %q", p.Ref.Provider, c.prov)
			}
		})
	}
	p, _ := For(head, nil, Args{GitRef: "refs/heads/fix", PullRequest: "9"}, Options{})
	if !strings.Contains(p.Markdown(), "pull/merge request 9 from fix") || !strings.Contains(p.Markdown(), "Tags from arguments") {
		t.Errorf("markdown:\n%s", p.Markdown())
	}
	p, _ = For(gitmeta.Info{Commit: commit, Branch: "trunk"}, nil, Args{DefaultBranch: "refs/heads/trunk"}, Options{})
	if !strings.Contains(p.Markdown(), "branch trunk (default branch)") {
		t.Errorf("markdown:\n%s", p.Markdown())
	}
}

func TestArgsErrorsNameTheArgument(t *testing.T) {
	in := gitmeta.Info{Commit: "0123456789abcdef0123456789abcdef01234567", Branch: "main"}
	for _, c := range []struct {
		args Args
		want string
	}{
		{Args{GitRef: "refs/pull/abc/merge"}, "git-ref"},
		{Args{GitRef: "refs/remotes/origin/main"}, "git-ref"},
		{Args{GitRef: "refs/heads/"}, "git-ref"},
		{Args{PullRequest: "twelve"}, "pr-number"},
		{Args{PullRequest: "12/merge"}, "pr-number"},
		{Args{GitRef: "refs/pull/12/merge", PullRequest: "13"}, "disagrees"},
	} {
		_, err := For(in, nil, c.args, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want mention of %q", c.args, err, c.want)
		}
	}
}
