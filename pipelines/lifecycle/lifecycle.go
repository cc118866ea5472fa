// Package lifecycle is the platform team's view of paved's modules: which
// modules exist, how each is tagged, and which folders feed it. The api,
// release, upgrade and report packages build on it; all of it is plain Go
// and host git, no engine.
package lifecycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paved-ci/paved/pipelines/gitmeta"
)

// PavedModule is the Go module path of paved; imports under it are the
// library packages a Dagger module is built from.
const PavedModule = "github.com/paved-ci/paved"

// Root names the module whose dagger.json is at the repository root.
const Root = "root"

// Module is one Dagger module of the repository.
type Module struct {
	// Name is "root" or the folder name under modules/.
	Name string
	// DaggerName is the name in dagger.json ("paved", "build").
	DaggerName string
	// Dir is the folder of dagger.json relative to the repository root, slash separated ("." for root).
	Dir string
	// Source is the folder of the Go source relative to the repository root.
	Source string
	// TagPrefix precedes vX.Y.Z in the module's release tags: "" or "modules/build/".
	TagPrefix string
}

// Tag is the release tag of version v (with or without the leading v).
func (m Module) Tag(v string) string { return m.TagPrefix + "v" + strings.TrimPrefix(v, "v") }

// MainObject is the Go type Dagger serves as the module's main object:
// the dagger.json name in PascalCase.
func (m Module) MainObject() string { return PascalCase(m.DaggerName) }

// APIPath is where the module's api.json lives, next to its dagger.json.
func (m Module) APIPath() string { return path.Join(m.Dir, "api.json") }

// ChangelogPath is the module's CHANGELOG.md, in its source folder for the
// root module (the repository root belongs to everyone) and next to
// dagger.json otherwise.
func (m Module) ChangelogPath() string {
	if m.Dir == "." {
		return path.Join(m.Source, "CHANGELOG.md")
	}
	return path.Join(m.Dir, "CHANGELOG.md")
}

// VersionPath is the module's VERSION file, in its Go source folder: the
// module embeds it and records it in every run. A release writes the tag's
// version there for the tagged commit, then "<version>+dev" for the commits
// after it.
func (m Module) VersionPath() string { return path.Join(m.Source, "VERSION") }

// MigrationPath is an optional file of migration notes for the next release.
func (m Module) MigrationPath() string {
	return path.Join(path.Dir(m.ChangelogPath()), "MIGRATION.md")
}

// PascalCase turns a dagger.json name into its Go type name.
func PascalCase(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '-' || r == '_' || r == ' ' {
			up = true
			continue
		}
		if up {
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

type daggerJSON struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// Discover lists the modules of the repository at root: the root
// dagger.json and every dagger.json below modules/ (never a fixed list, so
// new modules are picked up).
func Discover(root string) ([]Module, error) {
	var mods []Module
	if _, err := os.Stat(filepath.Join(root, "dagger.json")); err == nil {
		m, err := load(root, ".")
		if err != nil {
			return nil, err
		}
		m.Name = Root
		mods = append(mods, m)
	}
	base := filepath.Join(root, "modules")
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == base {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "internal" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "dagger.json" {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		m, err := load(root, filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		m.Name = strings.TrimPrefix(m.Dir, "modules/")
		m.TagPrefix = m.Dir + "/"
		mods = append(mods, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Dir < mods[j].Dir })
	return mods, nil
}

func load(root, dir string) (Module, error) {
	p := filepath.Join(root, filepath.FromSlash(dir), "dagger.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return Module{}, err
	}
	var dj daggerJSON
	if err := json.Unmarshal(b, &dj); err != nil {
		return Module{}, fmt.Errorf("%s: not valid JSON: %v", p, err)
	}
	if dj.Name == "" {
		return Module{}, fmt.Errorf("%s: no \"name\": every dagger.json needs the module name", p)
	}
	src := path.Clean(path.Join(dir, dj.Source))
	return Module{DaggerName: dj.Name, Dir: dir, Source: src}, nil
}

// Find picks a module by name ("root", a folder name under modules/ or
// its dagger.json name).
func Find(mods []Module, name string) (Module, error) {
	var names []string
	for _, m := range mods {
		if m.Name == name || m.DaggerName == name || m.Dir == name {
			return m, nil
		}
		names = append(names, m.Name)
	}
	return Module{}, fmt.Errorf("--module %q: no such module; choose one of %s", name, strings.Join(names, ", "))
}

// Paths are the repository paths whose changes can change the module: its
// dagger.json folder (only dagger.json itself for the root), its source
// folder and every paved package its Go source imports, transitively.
// Imports are parsed from the source, not resolved with `go list`, so this
// works on any checkout without a toolchain or module download.
func (m Module) Paths(root string) ([]string, error) {
	set := map[string]bool{m.Source: true}
	if m.Dir == "." {
		set["dagger.json"] = true
	} else {
		set[m.Dir] = true
	}
	seen := map[string]bool{}
	queue := []string{m.Source}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if seen[dir] {
			continue
		}
		seen[dir] = true
		imps, err := imports(filepath.Join(root, filepath.FromSlash(dir)))
		if err != nil {
			return nil, err
		}
		for _, imp := range imps {
			if imp != PavedModule && !strings.HasPrefix(imp, PavedModule+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(imp, PavedModule), "/")
			if rel == "" {
				rel = "."
			}
			set[rel] = true
			queue = append(queue, rel)
		}
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// imports lists the imports of the non-test Go files in dir.
func imports(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	fset := token.NewFileSet()
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ImportsOnly)
		if err != nil {
			return nil, fmt.Errorf("parsing imports: %v", err)
		}
		for _, s := range f.Imports {
			out = append(out, strings.Trim(s.Path.Value, `"`))
		}
	}
	return out, nil
}

// Git runs git in dir and returns its output without the trailing newline.
func Git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// Version is a released version and its tag.
type Version struct {
	Tag    string
	Semver gitmeta.Semver
}

// String is vX.Y.Z[-pre].
func (v Version) String() string {
	s := fmt.Sprintf("v%d.%d.%d", v.Semver.Major, v.Semver.Minor, v.Semver.Patch)
	if v.Semver.Pre != "" {
		s += "-" + v.Semver.Pre
	}
	return s
}

// Versions lists the module's release tags in repo, lowest first.
// Pre-releases are left out unless pre is set.
func Versions(repo, tagPrefix string, pre bool) ([]Version, error) {
	out, err := Git(repo, "tag", "--list", tagPrefix+"v*")
	if err != nil {
		return nil, err
	}
	var vs []Version
	for _, t := range strings.Fields(out) {
		rest := strings.TrimPrefix(t, tagPrefix)
		if strings.Contains(rest, "/") {
			continue // modules/build/v1 must not match modules/build/sub/v1
		}
		sv, ok := gitmeta.ParseSemver(rest)
		if !ok || !strings.HasPrefix(rest, "v") || (sv.Pre != "" && !pre) {
			continue
		}
		vs = append(vs, Version{Tag: t, Semver: sv})
	}
	sort.Slice(vs, func(i, j int) bool { return gitmeta.Compare(vs[i].Semver, vs[j].Semver) < 0 })
	return vs, nil
}
