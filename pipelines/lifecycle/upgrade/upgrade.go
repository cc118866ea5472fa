// Package upgrade moves an application repository's paved pins (Dagger
// module dependencies in dagger.json, the Go module in go.mod) to newer
// releases, reading tags and changelogs from a local paved clone only.
package upgrade

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/lifecycle"
	"github.com/paved-ci/paved/pipelines/lifecycle/release"
)

// Options say where the app and the paved clone are.
type Options struct {
	App   string
	Paved string
	// Major proposes the next major line instead of the newest compatible release.
	Major bool
	// ModulePath is paved's module path (default github.com/paved-ci/paved);
	// a company fork sets its own.
	ModulePath string
}

// Dep is one paved pin in the app.
type Dep struct {
	// File is "dagger.json" or "go.mod".
	File string
	// Name is the dependency name in dagger.json, or the Go module path.
	Name string
	// Source is the full dagger.json source or the Go module path.
	Source string
	// Sub is the module folder inside paved ("" for the root module).
	Sub        string
	Current    string // version, "" when not pinned to a release
	CurrentPin string
	Target     *lifecycle.Version
	TargetPin  string
	// Sections are the changelog entries after Current up to Target, newest first.
	Sections []release.Section
	Note     string
}

// Plan is the proposal for one app.
type Plan struct {
	Options
	Deps []Dep
}

// Changes counts the deps that would move.
func (p *Plan) Changes() int {
	n := 0
	for _, d := range p.Deps {
		if d.Target != nil {
			n++
		}
	}
	return n
}

type daggerDep struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Pin    string `json:"pin"`
}

// Propose finds the paved pins of the app and the versions to move them to.
func Propose(o Options) (*Plan, error) {
	if o.ModulePath == "" {
		o.ModulePath = lifecycle.PavedModule
	}
	if _, err := lifecycle.Git(o.Paved, "rev-parse", "--git-dir"); err != nil {
		return nil, fmt.Errorf("--paved-repo %s: not a git clone of paved: %v", o.Paved, err)
	}
	p := &Plan{Options: o}
	found := false
	if b, err := os.ReadFile(filepath.Join(o.App, "dagger.json")); err == nil {
		found = true
		var dj struct {
			Dependencies []daggerDep `json:"dependencies"`
		}
		if err := json.Unmarshal(b, &dj); err != nil {
			return nil, fmt.Errorf("%s: not valid JSON: %v", filepath.Join(o.App, "dagger.json"), err)
		}
		for _, d := range dj.Dependencies {
			src := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(d.Source, "https://"), "git@"), ".git")
			modPath, ref, _ := strings.Cut(src, "@")
			modPath = strings.TrimSuffix(modPath, ".git")
			if modPath != o.ModulePath && !strings.HasPrefix(modPath, o.ModulePath+"/") {
				continue
			}
			dep := Dep{File: "dagger.json", Name: d.Name, Source: d.Source, Sub: strings.TrimPrefix(strings.TrimPrefix(modPath, o.ModulePath), "/"), Current: ref, CurrentPin: d.Pin}
			if err := p.resolve(&dep); err != nil {
				return nil, err
			}
			p.Deps = append(p.Deps, dep)
		}
	}
	gomod := filepath.Join(o.App, "go.mod")
	if b, err := os.ReadFile(gomod); err == nil {
		found = true
		mf, err := modfile.ParseLax(gomod, b, nil)
		if err != nil {
			return nil, err
		}
		for _, r := range mf.Require {
			if r.Mod.Path != o.ModulePath && !majorPath.MatchString(strings.TrimPrefix(r.Mod.Path, o.ModulePath)) {
				continue
			}
			dep := Dep{File: "go.mod", Name: r.Mod.Path, Source: r.Mod.Path, Current: r.Mod.Version}
			if err := p.resolve(&dep); err != nil {
				return nil, err
			}
			p.Deps = append(p.Deps, dep)
		}
	}
	if !found {
		return nil, fmt.Errorf("--app %s: no dagger.json or go.mod there", o.App)
	}
	return p, nil
}

var majorPath = regexp.MustCompile(`^/v[2-9][0-9]*$`)

// line is the compatibility line of a version: the major, or 0.minor before 1.0.
func line(v gitmeta.Semver) [2]int {
	if v.Major == 0 {
		return [2]int{0, v.Minor}
	}
	return [2]int{v.Major, -1}
}

func less(a, b [2]int) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }

func (p *Plan) resolve(d *Dep) error {
	prefix := ""
	if d.Sub != "" {
		prefix = d.Sub + "/"
	}
	vs, err := lifecycle.Versions(p.Paved, prefix, false)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		d.Note = fmt.Sprintf("no release tags %sv* in %s", prefix, p.Paved)
		return nil
	}
	cur, ok := gitmeta.ParseSemver(d.Current)
	if !ok || strings.Count(cur.Pre, "-") > 0 && d.File == "go.mod" {
		// not a release (a branch, a commit or a pseudo-version): offer the newest compatible with nothing, i.e. the newest
		d.Note = fmt.Sprintf("%q is not a release version", d.Current)
		t := vs[len(vs)-1]
		d.Target = &t
		return p.fill(d, gitmeta.Semver{})
	}
	var target *lifecycle.Version
	if p.Major {
		var next *[2]int
		for _, v := range vs {
			l := line(v.Semver)
			if less(line(cur), l) && (next == nil || less(l, *next)) {
				next = &l
			}
		}
		if next == nil {
			d.Note = "no newer major release"
			return nil
		}
		for i := range vs {
			if line(vs[i].Semver) == *next {
				target = &vs[i]
			}
		}
	} else {
		for i := range vs {
			if line(vs[i].Semver) == line(cur) && gitmeta.Compare(vs[i].Semver, cur) > 0 {
				target = &vs[i]
			}
		}
		if target == nil {
			d.Note = "up to date within " + lineName(cur)
			for _, v := range vs {
				if less(line(cur), line(v.Semver)) {
					d.Note += fmt.Sprintf("; %s is out (use --major)", v.String())
				}
			}
			d.Note = collapse(d.Note)
			return nil
		}
	}
	d.Target = target
	if d.File == "go.mod" && target.Semver.Major >= 2 && target.Semver.Major != cur.Major {
		d.Note = fmt.Sprintf("the Go module path becomes %s/v%d: run `go get %s/v%d@%s` and rewrite the imports; go.mod is not rewritten", p.ModulePath, target.Semver.Major, p.ModulePath, target.Semver.Major, target)
	}
	return p.fill(d, cur)
}

// collapse keeps only the newest "is out" hint.
func collapse(note string) string {
	parts := strings.Split(note, "; ")
	if len(parts) <= 2 {
		return note
	}
	return parts[0] + "; " + parts[len(parts)-1]
}

func lineName(v gitmeta.Semver) string {
	if v.Major == 0 {
		return fmt.Sprintf("v0.%d", v.Minor)
	}
	return fmt.Sprintf("v%d", v.Major)
}

func (p *Plan) fill(d *Dep, cur gitmeta.Semver) error {
	pin, err := lifecycle.Git(p.Paved, "rev-list", "-n", "1", d.Target.Tag)
	if err != nil {
		return err
	}
	d.TargetPin = pin
	cl, err := p.changelogAt(d.Target.Tag, d.Sub)
	if err != nil {
		return err
	}
	d.Sections = release.Between(cl, cur, d.Target.Semver)
	return nil
}

// changelogAt reads the module's CHANGELOG.md at tag ("" when there is none).
func (p *Plan) changelogAt(tag, sub string) (string, error) {
	dir := sub
	if sub == "" {
		dj, err := lifecycle.Git(p.Paved, "show", tag+":dagger.json")
		if err != nil {
			return "", nil
		}
		var cfg struct {
			Source string `json:"source"`
		}
		if json.Unmarshal([]byte(dj), &cfg) != nil {
			return "", nil
		}
		dir = path.Clean(cfg.Source)
	}
	out, err := lifecycle.Git(p.Paved, "show", tag+":"+path.Join(dir, "CHANGELOG.md"))
	if err != nil {
		return "", nil // no changelog at that release
	}
	return out, nil
}

// Text is the human-readable proposal with changelogs and migration notes.
func (p *Plan) Text() string {
	var b strings.Builder
	if len(p.Deps) == 0 {
		fmt.Fprintf(&b, "no paved dependency (%s) in %s\n", p.ModulePath, p.App)
		return b.String()
	}
	for _, d := range p.Deps {
		cur := d.Current
		if cur == "" {
			cur = "(unpinned)"
		}
		switch {
		case d.Target != nil:
			fmt.Fprintf(&b, "%s %s: %s -> %s (pin %s)\n", d.File, d.Name, cur, d.Target, short(d.TargetPin))
		default:
			fmt.Fprintf(&b, "%s %s: %s, no change\n", d.File, d.Name, cur)
		}
		if d.Note != "" {
			fmt.Fprintf(&b, "  note: %s\n", d.Note)
		}
	}
	for _, d := range p.Deps {
		if d.Target == nil || len(d.Sections) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n== changelog of %s (%s..%s)\n\n", d.Name, d.Current, d.Target)
		for _, s := range d.Sections {
			b.WriteString(s.Body + "\n")
		}
		var notes []string
		for _, s := range d.Sections {
			if m := s.Migration(); m != "" {
				notes = append(notes, fmt.Sprintf("%s: %s", s.Version.Raw, m))
			}
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, "== migration notes for %s\n\n%s\n", d.Name, strings.Join(notes, "\n\n"))
		}
	}
	return b.String()
}

func short(h string) string { return h[:min(12, len(h))] }

// Write rewrites the pins in dagger.json (source version and pin) and the
// paved requirement in go.mod, keeping the files' layout. It returns the
// files written.
func (p *Plan) Write() ([]string, error) {
	var written []string
	djPath := filepath.Join(p.App, "dagger.json")
	var dj []byte
	gomodPath := filepath.Join(p.App, "go.mod")
	var mf *modfile.File
	for _, d := range p.Deps {
		if d.Target == nil {
			continue
		}
		switch d.File {
		case "dagger.json":
			if dj == nil {
				b, err := os.ReadFile(djPath)
				if err != nil {
					return written, err
				}
				dj = b
			}
			var err error
			if dj, err = rewriteDep(dj, d); err != nil {
				return written, err
			}
		case "go.mod":
			if d.Target.Semver.Major >= 2 && !strings.HasSuffix(d.Name, fmt.Sprintf("/v%d", d.Target.Semver.Major)) {
				continue // path change: see the note
			}
			if mf == nil {
				b, err := os.ReadFile(gomodPath)
				if err != nil {
					return written, err
				}
				if mf, err = modfile.Parse(gomodPath, b, nil); err != nil {
					return written, err
				}
			}
			if err := mf.AddRequire(d.Name, d.Target.String()); err != nil {
				return written, err
			}
		}
	}
	if dj != nil {
		if err := os.WriteFile(djPath, dj, 0o644); err != nil {
			return written, err
		}
		written = append(written, djPath)
	}
	if mf != nil {
		b, err := mf.Format()
		if err != nil {
			return written, err
		}
		if err := os.WriteFile(gomodPath, b, 0o644); err != nil {
			return written, err
		}
		written = append(written, gomodPath+" (run `go mod tidy` to refresh go.sum)")
	}
	return written, nil
}

// rewriteDep edits the dependency object of d inside the dagger.json text,
// leaving every other byte as it was.
func rewriteDep(doc []byte, d Dep) ([]byte, error) {
	var dj struct {
		Dependencies []json.RawMessage `json:"dependencies"`
	}
	if err := json.Unmarshal(doc, &dj); err != nil {
		return nil, err
	}
	for _, raw := range dj.Dependencies {
		var dd daggerDep
		if json.Unmarshal(raw, &dd) != nil || dd.Source != d.Source || dd.Name != d.Name {
			continue
		}
		at := bytes.Index(doc, raw)
		if at < 0 {
			return nil, fmt.Errorf("dagger.json: dependency %s not found verbatim", d.Name)
		}
		base, _, _ := strings.Cut(d.Source, "@")
		obj := setString(raw, "source", base+"@"+d.Target.String())
		obj = setString(obj, "pin", d.TargetPin)
		out := append([]byte{}, doc[:at]...)
		out = append(out, obj...)
		return append(out, doc[at+len(raw):]...), nil
	}
	return nil, fmt.Errorf("dagger.json: dependency %s (%s) not found", d.Name, d.Source)
}

// setString sets key to val in a JSON object text, adding the key when absent.
func setString(obj []byte, key, val string) []byte {
	q, _ := json.Marshal(val)
	re := regexp.MustCompile(`("` + regexp.QuoteMeta(key) + `"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	if re.Match(obj) {
		return re.ReplaceAllFunc(obj, func(m []byte) []byte {
			sub := re.FindSubmatch(m)
			return append(append([]byte{}, sub[1]...), q...)
		})
	}
	i := bytes.LastIndexByte(obj, '}')
	return append(append(append([]byte{}, obj[:i]...), []byte(`, "`+key+`": `+string(q))...), obj[i:]...)
}
