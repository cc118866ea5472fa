// Package release cuts a release of one paved module: the next version
// from conventional commits touching the module, an API check against the
// last release, a CHANGELOG.md section and an annotated tag.
package release

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/lifecycle"
	"github.com/paved-ci/paved/pipelines/lifecycle/api"
)

// Options select the module and how to release it.
type Options struct {
	// Root is the repository work tree.
	Root string
	// Module is "root" or a folder name under modules/.
	Module string
	// Version forces the next version (e.g. v1.0.0); empty computes it.
	Version string
	// Now dates the changelog section; zero means time.Now.
	Now time.Time
}

// Plan is a computed release, not yet written.
type Plan struct {
	Module lifecycle.Module
	// Last is the previous release; nil for the first one.
	Last *lifecycle.Version
	Next lifecycle.Version
	// Paths are the folders whose commits counted.
	Paths   []string
	Commits []Commit
	Bump    Bump
	// API is the comparison with the last release's api.json (empty for the first release).
	API api.Diff
	// Migration notes from commit bodies and MIGRATION.md.
	Migration []string
	// Notes explain adjustments (e.g. an API addition raising a patch to minor).
	Notes []string
	// Section is the CHANGELOG.md section.
	Section string
	// Dirty is set when the tree has uncommitted changes (Apply refuses).
	Dirty bool
}

// Compute plans the release. It reads only: the tree and tags are left as they are.
func Compute(o Options) (*Plan, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	mods, err := lifecycle.Discover(o.Root)
	if err != nil {
		return nil, err
	}
	m, err := lifecycle.Find(mods, o.Module)
	if err != nil {
		return nil, err
	}
	p := &Plan{Module: m}
	status, err := lifecycle.Git(o.Root, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return nil, err
	}
	p.Dirty = status != ""
	vs, err := lifecycle.Versions(o.Root, m.TagPrefix, false)
	if err != nil {
		return nil, err
	}
	if len(vs) > 0 {
		p.Last = &vs[len(vs)-1]
	}
	if p.Paths, err = m.Paths(o.Root); err != nil {
		return nil, err
	}
	if p.Commits, err = commits(o.Root, p.Last, p.Paths); err != nil {
		return nil, err
	}
	breakingCommit := false
	for _, c := range p.Commits {
		p.Bump = max(p.Bump, c.Bump())
		breakingCommit = breakingCommit || c.Breaking
		if c.Migration != "" {
			p.Migration = append(p.Migration, c.Migration)
		}
	}
	if b, err := os.ReadFile(filepath.Join(o.Root, filepath.FromSlash(m.MigrationPath()))); err == nil && strings.TrimSpace(string(b)) != "" {
		p.Migration = append(p.Migration, strings.TrimSpace(string(b)))
	}

	cur, err := api.Of(o.Root, m)
	if err != nil {
		return nil, err
	}
	have, err := os.ReadFile(filepath.Join(o.Root, filepath.FromSlash(m.APIPath())))
	if err != nil || string(have) != string(cur.Marshal()) {
		return nil, fmt.Errorf("%s is missing or stale (the module's Go source changed): run `%s` and commit it before releasing", m.APIPath(), api.FixCommand)
	}
	if p.Last != nil {
		if old, err := lifecycle.Git(o.Root, "show", p.Last.Tag+":"+m.APIPath()); err == nil {
			prev, err := api.Unmarshal([]byte(old), p.Last.Tag+":"+m.APIPath())
			if err != nil {
				return nil, err
			}
			p.API = api.Compare(prev, cur)
		} else {
			p.Notes = append(p.Notes, fmt.Sprintf("%s has no %s: API not compared", p.Last.Tag, m.APIPath()))
		}
	}

	base := gitmeta.Semver{}
	if p.Last != nil {
		base = p.Last.Semver
	}
	preOne := base.Major == 0
	if p.API.Level() == api.Minor && p.Bump < MinorBump {
		p.Notes = append(p.Notes, fmt.Sprintf("API additions since %s: bump raised from %s to minor", p.Last.Tag, p.Bump))
		p.Bump = MinorBump
	}
	if p.API.Level() == api.Patch && p.Bump < PatchBump {
		p.Bump = PatchBump
	}
	apiBreak := p.API.Level() == api.Major
	if apiBreak && !breakingCommit && o.Version == "" {
		return nil, fmt.Errorf("breaking API changes since %s but no commit is marked breaking:\n%s\nmark the change `feat!:` or add a `BREAKING CHANGE:` footer (or pass --version), and add a migration note", p.Last.Tag, list(p.API.Breaking()))
	}

	if o.Version != "" {
		sv, ok := gitmeta.ParseSemver(o.Version)
		if !ok {
			return nil, fmt.Errorf("--version %q: not a semantic version, want e.g. v1.2.3", o.Version)
		}
		p.Next = lifecycle.Version{Semver: sv}
	} else {
		if p.Bump == NoBump {
			from := "the first commit"
			if p.Last != nil {
				from = p.Last.Tag
			}
			return nil, fmt.Errorf("nothing to release for module %s since %s: no feat, fix, perf or breaking commit touches %s", m.Name, from, strings.Join(p.Paths, ", "))
		}
		p.Next = lifecycle.Version{Semver: next(base, p.Bump)}
	}
	p.Next.Tag = m.Tag(p.Next.String())
	p.Next.Semver.Raw = p.Next.String()
	if p.Last != nil && gitmeta.Compare(p.Next.Semver, p.Last.Semver) <= 0 {
		return nil, fmt.Errorf("version %s is not higher than the last release %s", p.Next, p.Last.Tag)
	}
	if _, err := lifecycle.Git(o.Root, "rev-parse", "-q", "--verify", "refs/tags/"+p.Next.Tag); err == nil {
		return nil, fmt.Errorf("tag %s already exists", p.Next.Tag)
	}
	if p.Last != nil && (breakingCommit || apiBreak) {
		if !preOne && p.Next.Semver.Major == base.Major {
			return nil, fmt.Errorf("breaking changes need a major release, but %s keeps major %d:\n%s", p.Next, base.Major, list(append(p.API.Breaking(), breakingChanges(p.Commits)...)))
		}
		if preOne && p.Next.Semver.Major == 0 && p.Next.Semver.Minor == base.Minor && p.Last != nil {
			return nil, fmt.Errorf("breaking changes before 1.0 need at least a minor release, but %s keeps minor %d", p.Next, base.Minor)
		}
		if len(p.Migration) == 0 {
			return nil, fmt.Errorf("breaking changes need a migration note: add a `Migration:` paragraph to the breaking commit's body, or write %s (it goes into the changelog and is removed by the release)", m.MigrationPath())
		}
	}
	p.Section = p.section(o.Now)
	return p, nil
}

func next(v gitmeta.Semver, b Bump) gitmeta.Semver {
	if v.Major == 0 && b == MajorBump {
		b = MinorBump // pre-1.0: breaking changes bump the minor
	}
	switch b {
	case MajorBump:
		return gitmeta.Semver{Major: v.Major + 1}
	case MinorBump:
		return gitmeta.Semver{Major: v.Major, Minor: v.Minor + 1}
	}
	return gitmeta.Semver{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1}
}

func list(cs []api.Change) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "  - %s\n", c)
	}
	return strings.TrimRight(b.String(), "\n")
}

func breakingChanges(cs []Commit) []api.Change {
	var out []api.Change
	for _, c := range cs {
		if c.Breaking {
			out = append(out, api.Change{Level: api.Major, What: c.Hash[:min(7, len(c.Hash))], Why: c.Subject})
		}
	}
	return out
}

// commits lists the commits since last touching paths, oldest first.
func commits(root string, last *lifecycle.Version, paths []string) ([]Commit, error) {
	args := []string{"log", "--reverse", "--format=%H%x00%B%x1e"}
	if last != nil {
		args = append(args, last.Tag+"..HEAD")
	} else {
		args = append(args, "HEAD")
	}
	args = append(args, "--")
	args = append(args, paths...)
	out, err := lifecycle.Git(root, args...)
	if err != nil {
		return nil, err
	}
	var cs []Commit
	for _, rec := range strings.Split(out, "\x1e") {
		rec = strings.TrimLeft(rec, "\n")
		hash, msg, ok := strings.Cut(rec, "\x00")
		if !ok {
			continue
		}
		cs = append(cs, ParseCommit(hash, msg))
	}
	return cs, nil
}

// Apply writes the changelog section and the module's VERSION, commits
// them (removing a consumed MIGRATION.md) and creates the annotated tag; a
// second commit sets VERSION to "<version>+dev", so a module built from a
// later commit does not claim to be the release. Nothing is pushed.
func (p *Plan) Apply(root string) error {
	if p.Dirty {
		return errors.New("the work tree has uncommitted changes: commit or stash them first, a release tags exactly what is committed")
	}
	clPath := filepath.Join(root, filepath.FromSlash(p.Module.ChangelogPath()))
	old, err := os.ReadFile(clPath)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.WriteFile(clPath, []byte(Prepend(string(old), p.Section)), 0o644); err != nil {
		return err
	}
	if _, err := lifecycle.Git(root, "add", "--", p.Module.ChangelogPath()); err != nil {
		return err
	}
	if err := p.writeVersion(root, p.Next.String()); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p.Module.MigrationPath()))); err == nil {
		if _, err := lifecycle.Git(root, "rm", "-q", "--", p.Module.MigrationPath()); err != nil {
			return err
		}
	}
	if _, err := lifecycle.Git(root, "commit", "-q", "-m", "chore(release): "+p.Next.Tag); err != nil {
		return err
	}
	title := fmt.Sprintf("%s %s", p.Module.DaggerName, p.Next)
	if _, err = lifecycle.Git(root, "tag", "-a", p.Next.Tag, "-m", title+"\n\n"+p.Section); err != nil {
		return err
	}
	if err := p.writeVersion(root, p.Next.String()+"+dev"); err != nil {
		return err
	}
	_, err = lifecycle.Git(root, "commit", "-q", "-m", "chore(release): "+p.Module.VersionPath()+" after "+p.Next.Tag)
	return err
}

// writeVersion writes and stages the module's VERSION file.
func (p *Plan) writeVersion(root, v string) error {
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(p.Module.VersionPath())), []byte(v+"\n"), 0o644); err != nil {
		return err
	}
	_, err := lifecycle.Git(root, "add", "--", p.Module.VersionPath())
	return err
}
