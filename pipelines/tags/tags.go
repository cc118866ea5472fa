// Package tags decides which image tags a build publishes, from git
// metadata and, when present, the CI's environment. It needs no engine and
// no registry, so `paved` can preview the tags (and why each is made)
// before anything is pushed.
//
// Rules:
//   - every build: sha-<7 chars of the commit>
//   - a branch build: the branch name, sanitized for OCI
//   - a pull/merge request: pr-<number> (and no branch tag)
//   - a release vX.Y.Z on HEAD: X.Y.Z, plus X.Y, X and latest when it is
//     the highest release of that line (a backport never moves latest)
//   - a pre-release vX.Y.Z-rc.1 on HEAD: only X.Y.Z-rc.1
//   - extra tags given by the user, as given
//
// A prefix and suffix go on every generated tag (latest included, so a
// "-debug" variant never overwrites the plain latest).
package tags

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/paved-ci/paved/pipelines/gitmeta"
)

// MaxLen is the OCI distribution limit on tag length.
const MaxLen = 128

var validTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Valid reports whether t is a legal OCI tag.
func Valid(t string) bool { return validTag.MatchString(t) }

// Tag is one tag to publish.
type Tag struct {
	Name string
	// Immutable tags (full releases, sha-<commit>) must never be moved to
	// another digest; moving ones (latest, 1, 1.2, branch, pr-N) are.
	Immutable bool
	// Reason says why the tag is made, for the preview table.
	Reason string
}

// Kind is "immutable" or "moving".
func (t Tag) Kind() string {
	if t.Immutable {
		return "immutable"
	}
	return "moving"
}

// Provider names where the ref information came from.
const (
	Git           = "git"
	GitHubActions = "github-actions"
	GitLabCI      = "gitlab-ci"
)

// Ref is what is being built, after CI environment and git were combined.
type Ref struct {
	Provider string
	Commit   string
	// Branch is "" for a tag build, a pull request or a detached HEAD.
	Branch        string
	DefaultBranch string // known on GitLab only
	// Tag is the git tag being released ("v1.2.3"), "" when none.
	Tag string
	// PullRequest is the PR/MR number, "" when not a PR build; HeadRef is
	// its source branch when the CI says (shown in reasons only).
	PullRequest string
	HeadRef     string
	// AllTags are all v-tags of the repository (Tag included).
	AllTags []string
	Dirty   bool
	Shallow bool
}

// Resolve combines git metadata with a CI environment. env holds the CI
// variables (GITHUB_*, CI_*, GITLAB_CI); nil or empty means plain git.
// It is a map, not os.Getenv, so a Dagger module can pass values it got
// as arguments, and tests can pass any.
func Resolve(in gitmeta.Info, env map[string]string) (Ref, error) {
	r := Ref{
		Provider: Git,
		Commit:   in.Commit,
		Branch:   in.Branch,
		AllTags:  append([]string(nil), in.Tags...),
		Dirty:    in.Dirty,
		Shallow:  in.Shallow,
	}
	if len(in.Commit) < 7 {
		return Ref{}, fmt.Errorf("git metadata: commit %q is not a git hash", in.Commit)
	}
	if t := highestOnHead(in.ExactTags); t != "" {
		r.Tag = t
	}
	switch {
	case env["GITHUB_ACTIONS"] == "true" || env["GITHUB_REF"] != "":
		if err := fromGitHub(&r, env); err != nil {
			return Ref{}, err
		}
	case env["GITLAB_CI"] == "true" || env["CI_COMMIT_REF_NAME"] != "" || env["CI_COMMIT_TAG"] != "" || env["CI_MERGE_REQUEST_IID"] != "":
		if err := fromGitLab(&r, env); err != nil {
			return Ref{}, err
		}
	}
	if r.Tag != "" && !contains(r.AllTags, r.Tag) {
		r.AllTags = append(r.AllTags, r.Tag)
	}
	return r, nil
}

// highestOnHead picks the release tag of HEAD when several point at it.
func highestOnHead(exact []string) string {
	return gitmeta.HighestSemver(exact)
}

func fromGitHub(r *Ref, env map[string]string) error {
	r.Provider = GitHubActions
	ref := env["GITHUB_REF"]
	refName := env["GITHUB_REF_NAME"]
	refType := env["GITHUB_REF_TYPE"]
	event := env["GITHUB_EVENT_NAME"]
	// actions/checkout leaves a detached HEAD for PRs and tags, so the
	// branch git reports is not trusted once the CI says what it built.
	r.Branch = ""
	switch {
	case strings.HasPrefix(ref, "refs/pull/"):
		n, err := prNumber(strings.TrimPrefix(ref, "refs/pull/"))
		if err != nil {
			return fmt.Errorf("GITHUB_REF=%q: %v (want refs/pull/<number>/merge)", ref, err)
		}
		r.PullRequest = n
		r.HeadRef = env["GITHUB_HEAD_REF"]
		r.Tag = ""
	case event == "pull_request" || event == "pull_request_target":
		// pull_request_target runs on the base branch: no PR number in
		// the ref, and tagging the base branch from a PR would be wrong.
		r.Tag = ""
	case refType == "tag" || strings.HasPrefix(ref, "refs/tags/"):
		t := refName
		if t == "" {
			t = strings.TrimPrefix(ref, "refs/tags/")
		}
		r.Tag = t
	case refType == "branch" || strings.HasPrefix(ref, "refs/heads/"):
		b := refName
		if b == "" {
			b = strings.TrimPrefix(ref, "refs/heads/")
		}
		r.Branch = b
		// Version tags come from the tag event only; a branch push of a
		// tagged commit would race the tag build for the same tags.
		r.Tag = ""
	}
	return nil
}

func fromGitLab(r *Ref, env map[string]string) error {
	r.Provider = GitLabCI
	r.Branch = ""
	r.DefaultBranch = env["CI_DEFAULT_BRANCH"]
	switch {
	case env["CI_MERGE_REQUEST_IID"] != "":
		n := env["CI_MERGE_REQUEST_IID"]
		if _, err := strconv.Atoi(n); err != nil {
			return fmt.Errorf("CI_MERGE_REQUEST_IID=%q is not a number", n)
		}
		r.PullRequest = n
		r.HeadRef = env["CI_COMMIT_REF_NAME"]
		r.Tag = ""
	case env["CI_COMMIT_TAG"] != "":
		r.Tag = env["CI_COMMIT_TAG"]
	case env["CI_COMMIT_BRANCH"] != "":
		r.Branch = env["CI_COMMIT_BRANCH"]
		r.Tag = ""
	case env["CI_COMMIT_REF_NAME"] != "":
		r.Branch = env["CI_COMMIT_REF_NAME"]
		r.Tag = ""
	}
	return nil
}

func prNumber(s string) (string, error) {
	n, _, _ := strings.Cut(s, "/")
	if _, err := strconv.Atoi(n); err != nil || n == "" {
		return "", fmt.Errorf("pull request number %q is not a number", n)
	}
	return n, nil
}

// Options are the user's knobs.
type Options struct {
	// Extra tags published as given (validated, no prefix/suffix).
	Extra []string
	// Prefix and Suffix go on every generated tag.
	Prefix, Suffix string
	// TrustShallowTags lets a shallow clone's tags decide latest, X and
	// X.Y. Off by default: a shallow clone usually lacks the older tags,
	// so a backport would look like the highest release.
	TrustShallowTags bool
}

// Validate checks the options without a ref: the affixes and every extra
// tag, so bad input fails before anything is built.
func (o Options) Validate() error {
	if err := checkAffix("tag prefix", o.Prefix, true); err != nil {
		return err
	}
	if err := checkAffix("tag suffix", o.Suffix, false); err != nil {
		return err
	}
	for _, e := range o.Extra {
		if e = strings.TrimSpace(e); e != "" && !Valid(e) {
			return fmt.Errorf("extra tag %q is not a valid OCI tag: want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (no '/', ':' or '+')", e)
		}
	}
	return nil
}

// Plan is the tags of one build plus notes on tags that were withheld.
type Plan struct {
	Ref     Ref
	Version string // the release version ("" when HEAD is no release)
	Tags    []Tag
	Notes   []string
}

// Names lists the tag names in plan order.
func (p Plan) Names() []string {
	out := make([]string, len(p.Tags))
	for i, t := range p.Tags {
		out[i] = t.Name
	}
	return out
}

// Compute applies the rules to r.
func Compute(r Ref, o Options) (Plan, error) {
	if err := checkAffix("tag prefix", o.Prefix, true); err != nil {
		return Plan{}, err
	}
	if err := checkAffix("tag suffix", o.Suffix, false); err != nil {
		return Plan{}, err
	}
	p := Plan{Ref: r}
	add := func(name string, immutable bool, reason string) error {
		full := o.Prefix + name + o.Suffix
		if !Valid(full) {
			return fmt.Errorf("tag %q (%s) is not a valid OCI tag: want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; shorten or change the prefix/suffix", full, reason)
		}
		p.add(Tag{Name: full, Immutable: immutable, Reason: reason})
		return nil
	}

	if r.Tag != "" {
		if err := p.versionTags(r, o, add); err != nil {
			return Plan{}, err
		}
	}
	switch {
	case r.PullRequest != "":
		why := "pull/merge request " + r.PullRequest
		if r.HeadRef != "" {
			why += " from " + r.HeadRef
		}
		if err := add("pr-"+r.PullRequest, false, why); err != nil {
			return Plan{}, err
		}
	case r.Branch != "":
		room := MaxLen - len(o.Prefix) - len(o.Suffix)
		b := SanitizeBranch(r.Branch, room)
		why := "branch " + r.Branch
		if r.DefaultBranch != "" && r.Branch == r.DefaultBranch {
			why += " (default branch)"
		}
		if b == "" {
			p.Notes = append(p.Notes, fmt.Sprintf("branch %q has no characters allowed in a tag; no branch tag", r.Branch))
		} else if err := add(b, false, why); err != nil {
			return Plan{}, err
		}
	}
	sha := "sha-" + r.Commit[:7]
	if r.Dirty {
		// A dirty tree is not the commit: its sha tag may be rebuilt
		// with other content, so it moves.
		if err := add(sha+"-dirty", false, "commit "+r.Commit[:7]+" with uncommitted changes"); err != nil {
			return Plan{}, err
		}
	} else if err := add(sha, true, "commit "+r.Commit[:7]); err != nil {
		return Plan{}, err
	}
	for _, e := range o.Extra {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !Valid(e) {
			return Plan{}, fmt.Errorf("extra tag %q is not a valid OCI tag: want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (no '/', ':' or '+')", e)
		}
		v, ok := gitmeta.ParseSemver(e)
		p.add(Tag{Name: e, Immutable: ok && v.Pre == "", Reason: "extra tag requested"})
	}
	return p, nil
}

func (p *Plan) versionTags(r Ref, o Options, add func(string, bool, string) error) error {
	v, ok := gitmeta.ParseSemver(r.Tag)
	if !ok {
		p.Notes = append(p.Notes, fmt.Sprintf("git tag %q is not semver (vMAJOR.MINOR.PATCH); no version tags", r.Tag))
		return nil
	}
	if r.Dirty {
		p.Notes = append(p.Notes, fmt.Sprintf("tree has uncommitted changes: %s is not published as release %s", r.Tag, strings.TrimPrefix(r.Tag, "v")))
		return nil
	}
	// OCI tags have no '+': build metadata is kept with '_' as
	// docker/metadata-action does.
	full := strings.ReplaceAll(strings.TrimPrefix(r.Tag, "v"), "+", "_")
	p.Version = strings.TrimPrefix(r.Tag, "v")
	if v.Pre != "" {
		return add(full, true, "pre-release "+r.Tag+" (gets no moving tags)")
	}
	if err := add(full, true, "release "+r.Tag); err != nil {
		return err
	}
	if r.Shallow && !o.TrustShallowTags {
		p.Notes = append(p.Notes, "shallow clone: older tags may be missing, so latest, "+
			fmt.Sprintf("%d and %d.%d are not moved; fetch all tags (actions/checkout fetch-depth: 0, GitLab GIT_DEPTH: 0) or set trust-shallow-tags", v.Major, v.Major, v.Minor))
		return nil
	}
	var releases []gitmeta.Semver
	for _, t := range r.AllTags {
		if s, ok := gitmeta.ParseSemver(t); ok && s.Pre == "" {
			releases = append(releases, s)
		}
	}
	highest := func(same func(gitmeta.Semver) bool) (gitmeta.Semver, bool) {
		for _, s := range releases {
			if same(s) && gitmeta.Compare(s, v) > 0 {
				return s, false
			}
		}
		return v, true
	}
	if h, ok := highest(func(s gitmeta.Semver) bool { return s.Major == v.Major && s.Minor == v.Minor }); ok {
		if err := add(fmt.Sprintf("%d.%d", v.Major, v.Minor), false, fmt.Sprintf("highest %d.%d.x release", v.Major, v.Minor)); err != nil {
			return err
		}
	} else {
		p.Notes = append(p.Notes, fmt.Sprintf("%d.%d not moved: %s is higher", v.Major, v.Minor, h.Raw))
	}
	if h, ok := highest(func(s gitmeta.Semver) bool { return s.Major == v.Major }); ok {
		if v.Major == 0 {
			// 0.x has no compatibility promise; a "0" tag would mislead.
			p.Notes = append(p.Notes, "0 not tagged: major version zero makes no compatibility promise")
		} else if err := add(strconv.Itoa(v.Major), false, fmt.Sprintf("highest %d.x release", v.Major)); err != nil {
			return err
		}
	} else {
		p.Notes = append(p.Notes, fmt.Sprintf("%d not moved: %s is higher", v.Major, h.Raw))
	}
	h, ok := highest(func(gitmeta.Semver) bool { return true })
	if !ok {
		p.Notes = append(p.Notes, fmt.Sprintf("latest not moved: %s is higher (backport)", h.Raw))
		return nil
	}
	return add("latest", false, "highest release")
}

// add appends t, merging with an existing tag of the same name (a tag is
// immutable if any rule made it so).
func (p *Plan) add(t Tag) {
	for i := range p.Tags {
		if p.Tags[i].Name == t.Name {
			p.Tags[i].Immutable = p.Tags[i].Immutable || t.Immutable
			p.Tags[i].Reason += "; " + t.Reason
			return
		}
	}
	p.Tags = append(p.Tags, t)
}

func checkAffix(what, s string, leading bool) error {
	if s == "" {
		return nil
	}
	probe := s + "x"
	if !leading {
		probe = "x" + s
	}
	if !Valid(probe) {
		return fmt.Errorf("%s %q has characters not allowed in a tag: use only A-Z a-z 0-9 _ . - (and not . or - first for a prefix)", what, s)
	}
	return nil
}

// SanitizeBranch turns a branch name into a tag of at most max
// characters: lowercase, '/' and any other disallowed character become
// '-', leading '.' and '-' are dropped. "" when nothing is left.
func SanitizeBranch(branch string, max int) string {
	if max > MaxLen {
		max = MaxLen
	}
	var b strings.Builder
	for _, c := range strings.ToLower(branch) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.TrimLeft(b.String(), ".-")
	if len(s) > max {
		s = s[:max]
	}
	// a trailing separator left by truncation reads like a typo
	s = strings.TrimRight(s, ".-")
	return s
}

// Markdown renders the plan as a preview table.
func (p Plan) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tags from %s", p.Ref.Provider)
	if p.Version != "" {
		fmt.Fprintf(&b, ", version %s", p.Version)
	}
	b.WriteString(":\n\n| Tag | Kind | Why |\n|---|---|---|\n")
	for _, t := range p.Tags {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", t.Name, t.Kind(), t.Reason)
	}
	if len(p.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// Immutable lists the immutable tag names, sorted.
func (p Plan) Immutable() []string {
	var out []string
	for _, t := range p.Tags {
		if t.Immutable {
			out = append(out, t.Name)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// EnvKeys are the CI variables Resolve reads.
var EnvKeys = []string{
	"GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_HEAD_REF", "GITHUB_EVENT_NAME",
	"GITLAB_CI", "CI_COMMIT_TAG", "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME", "CI_MERGE_REQUEST_IID", "CI_DEFAULT_BRANCH",
}

// CIEnv picks EnvKeys through getenv (os.Getenv on a host), leaving out
// unset ones, so only these variables travel into a module call.
func CIEnv(getenv func(string) string) map[string]string {
	out := map[string]string{}
	for _, k := range EnvKeys {
		if v := getenv(k); v != "" {
			out[k] = v
		}
	}
	return out
}

// Arguments is the provider when explicit arguments named the ref.
const Arguments = "arguments"

// Args say what is being built where no CI variables are visible: a
// Dagger module sees none of the host's environment, so CI passes these.
type Args struct {
	// GitRef is refs/heads/<branch>, refs/tags/<tag>, refs/pull/<n>/...
	// (GitHub) or refs/merge-requests/<n>/... (GitLab); a bare name is a
	// branch.
	GitRef string
	// PullRequest is the pull/merge request number.
	PullRequest string
	// DefaultBranch marks the default branch in reasons.
	DefaultBranch string
}

// IsZero reports whether no argument is set.
func (a Args) IsZero() bool { return a == Args{} }

// Apply overrides what git or the CI said with a. As in CI, version tags
// come from a tag ref only: a branch or pull request ref drops the
// release tag git found on HEAD.
func (a Args) Apply(r Ref) (Ref, error) {
	if a.IsZero() {
		return r, nil
	}
	r.Provider = Arguments
	if a.DefaultBranch != "" {
		r.DefaultBranch = strings.TrimPrefix(strings.TrimSpace(a.DefaultBranch), "refs/heads/")
	}
	ref := strings.TrimSpace(a.GitRef)
	if ref != "" {
		r.Branch, r.Tag, r.PullRequest, r.HeadRef = "", "", "", ""
		switch {
		case strings.HasPrefix(ref, "refs/heads/"):
			r.Branch = strings.TrimPrefix(ref, "refs/heads/")
		case strings.HasPrefix(ref, "refs/tags/"):
			r.Tag = strings.TrimPrefix(ref, "refs/tags/")
		case strings.HasPrefix(ref, "refs/pull/"), strings.HasPrefix(ref, "refs/merge-requests/"):
			n, err := prNumber(ref[strings.Index(ref[len("refs/"):], "/")+len("refs/")+1:])
			if err != nil {
				return Ref{}, fmt.Errorf("git-ref %q: %v (want refs/pull/<number>/merge or refs/merge-requests/<number>/head)", ref, err)
			}
			r.PullRequest = n
		case strings.HasPrefix(ref, "refs/"):
			return Ref{}, fmt.Errorf("git-ref %q: want refs/heads/<branch>, refs/tags/<tag>, refs/pull/<number>/merge, refs/merge-requests/<number>/head or a branch name", ref)
		default:
			r.Branch = ref
		}
		if r.Branch == "" && r.Tag == "" && r.PullRequest == "" {
			return Ref{}, fmt.Errorf("git-ref %q names no branch, tag or request", ref)
		}
	}
	if pr := strings.TrimPrefix(strings.TrimSpace(a.PullRequest), "#"); pr != "" {
		n, err := prNumber(pr)
		if err != nil || strings.Contains(pr, "/") {
			return Ref{}, fmt.Errorf("pr-number %q is not a number (give the pull/merge request number, e.g. 42)", a.PullRequest)
		}
		if r.PullRequest != "" && r.PullRequest != n {
			return Ref{}, fmt.Errorf("pr-number %s disagrees with git-ref %s: give one of them, or the same request", n, a.GitRef)
		}
		// the branch (from git-ref or git) is the request's source branch
		r.PullRequest, r.HeadRef, r.Branch, r.Tag = n, r.Branch, "", ""
	}
	if r.Tag != "" && !contains(r.AllTags, r.Tag) {
		r.AllTags = append(r.AllTags, r.Tag)
	}
	return r, nil
}

// For resolves and computes in one step: git metadata, then CI variables
// (env, may be nil), then explicit arguments, then the rules.
func For(in gitmeta.Info, env map[string]string, a Args, o Options) (Plan, error) {
	r, err := Resolve(in, env)
	if err != nil {
		return Plan{}, err
	}
	if r, err = a.Apply(r); err != nil {
		return Plan{}, err
	}
	return Compute(r, o)
}
