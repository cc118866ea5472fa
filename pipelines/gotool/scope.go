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

// Scope is the part of src that Go commands on the module at dir read:
// the module's folder and the folders of its local replace directives, at
// their paths, without .git. The engine caches execs by the content of
// what they mount, so mounting only these keeps one app's build, test and
// lint cached when anything else in the repository changes (another app,
// a README, a new commit's .git). A repository with a go.work at its root
// is mounted whole (without .git): the workspace may name any folder.
func Scope(ctx context.Context, client *dagger.Client, src *dagger.Directory, dir string) (*dagger.Directory, error) {
	withoutGit := dagger.DirectoryWithDirectoryOpts{Exclude: []string{".git"}}
	work, err := src.Exists(ctx, "go.work", dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
	if err != nil {
		return nil, fmt.Errorf("checking the source for go.work: %w", err)
	}
	if work {
		return client.Directory().WithDirectory(".", src, withoutGit), nil
	}
	gomod := path.Join(CleanDir(dir), "go.mod")
	b, err := src.File(gomod).Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", gomod, err)
	}
	dirs, err := LocalDirs(dir, []byte(b))
	if err != nil {
		return nil, err
	}
	out := client.Directory()
	for _, d := range dirs {
		out = out.WithDirectory(d, src.Directory(d), withoutGit)
	}
	return out, nil
}

// ModFiles is what `go mod download` reads of a scoped source: go.mod,
// go.sum, go.work and go.work.sum files. Downloading with only these
// mounted is a cache hit until a dependency changes.
func ModFiles(scoped *dagger.Directory) *dagger.Directory {
	return scoped.Filter(dagger.DirectoryFilterOpts{Include: []string{"**/go.mod", "**/go.sum", "go.work", "go.work.sum"}})
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
