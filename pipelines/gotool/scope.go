package gotool

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"dagger.io/dagger"
	"golang.org/x/mod/modfile"
)

// Scoped is the part of a source that Go commands on one module read.
type Scoped struct {
	// Dir holds the module's folder and the folders of its local replace
	// directives, at their paths, without .git.
	Dir *dagger.Directory
	// Mod holds only their go.mod and go.sum files: what `go mod download`
	// reads, so the download stays cached until a dependency changes.
	Mod *dagger.Directory
}

// Scope is the part of src that Go commands on the module at dir read.
// The engine caches execs by the content of what they mount, so mounting
// only this keeps one app's build, test and lint cached when anything
// else in the repository changes (another app, a README, a new commit's
// .git). A repository with a go.work at its root is mounted whole
// (without .git): the workspace may name any folder.
func Scope(ctx context.Context, client *dagger.Client, src *dagger.Directory, dir string) (Scoped, error) {
	withoutGit := dagger.DirectoryWithDirectoryOpts{Exclude: []string{".git"}}
	work, err := src.Exists(ctx, "go.work", dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
	if err != nil {
		return Scoped{}, fmt.Errorf("checking the source for go.work: %w", err)
	}
	if work {
		whole := client.Directory().WithDirectory(".", src, withoutGit)
		return Scoped{Dir: whole, Mod: whole.Filter(dagger.DirectoryFilterOpts{Include: []string{"**/go.mod", "**/go.sum", "go.work", "go.work.sum"}})}, nil
	}
	gomod := path.Join(CleanDir(dir), "go.mod")
	b, err := src.File(gomod).Contents(ctx)
	if err != nil {
		return Scoped{}, fmt.Errorf("reading %s: %w", gomod, err)
	}
	dirs, err := LocalDirs(dir, []byte(b))
	if err != nil {
		return Scoped{}, err
	}
	out := Scoped{Dir: client.Directory(), Mod: client.Directory()}
	for _, d := range dirs {
		out.Dir = out.Dir.WithDirectory(d, src.Directory(d), withoutGit)
		// file by file, not a filter of Dir: the engine caches a selected
		// file by its content, a filter by the directory it filters (an
		// edit of any .go file re-ran go mod download)
		entries, err := src.Directory(d).Entries(ctx)
		if err != nil {
			return Scoped{}, fmt.Errorf("listing %s: %w", d, err)
		}
		for _, name := range entries {
			if name == "go.mod" || name == "go.sum" {
				f := path.Join(d, name)
				out.Mod = out.Mod.WithFile(f, src.File(f))
			}
		}
	}
	return out, nil
}

// LocalDirs lists the folders, relative to the repository root, that the
// Go module at dir (with go.mod content gomod) reads: dir itself and the
// targets of its local replace directives, nested ones dropped. A replace
// outside the repository is refused: the build could not see it.
func LocalDirs(dir string, gomod []byte) ([]string, error) {
	if dir = CleanDir(dir); dir == "" {
		dir = "."
	}
	f, err := modfile.Parse(path.Join(dir, "go.mod"), gomod, nil)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path.Join(dir, "go.mod"), err)
	}
	dirs := []string{dir}
	for _, r := range f.Replace {
		if !modfile.IsDirectoryPath(r.New.Path) {
			continue
		}
		target := path.Clean(path.Join(dir, r.New.Path))
		if path.IsAbs(r.New.Path) || target == ".." || strings.HasPrefix(target, "../") {
			return nil, fmt.Errorf("%s: replace %s => %s points outside the source: pass the folder that holds both as --source", path.Join(dir, "go.mod"), r.Old.Path, r.New.Path)
		}
		dirs = append(dirs, target)
	}
	return outermost(dirs), nil
}

// outermost drops duplicates and folders inside another listed folder.
func outermost(dirs []string) []string {
	sort.Strings(dirs)
	var out []string
	for _, d := range dirs {
		covered := false
		for _, o := range out {
			if o == "." || d == o || strings.HasPrefix(d, o+"/") {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, d)
		}
	}
	return out
}
