package ci

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paved-ci/paved/pipelines/results"
)

// Bundle is a results directory as read from disk: the record, and which of
// the report files it lists are really there.
type Bundle struct {
	Dir string
	Run *results.Run
	// Missing names report kinds listed in Run.Files whose file is absent
	// or unusable, with the reason. A bundle with Missing entries is
	// partial: reports still run, and say so.
	Missing []Missing

	junit     *JUnit
	junitErr  error
	junitDone bool
}

// Missing is one listed report file that could not be used.
type Missing struct {
	Kind, Path, Reason string
}

func (m Missing) String() string {
	return fmt.Sprintf("%s report %s: %s", m.Kind, m.Path, m.Reason)
}

// Load reads a results directory. A missing directory or results.json, or a
// results.json this version cannot read, is an error; listed report files
// that are missing make a partial bundle (see Bundle.Missing).
func Load(dir string) (*Bundle, error) {
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return nil, fmt.Errorf("results directory %s does not exist: run `dagger call ... results export --path=%s` first, or pass --results with the exported directory", dir, dir)
	case err != nil:
		return nil, fmt.Errorf("results directory %s: %w", dir, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("results directory %s is a file, not a directory: pass the directory that holds %s", dir, results.FileName)
	}
	run, err := results.Read(dir)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Dir: dir, Run: run}
	kinds := make([]string, 0, len(run.Files))
	for k := range run.Files {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		rel := run.Files[k]
		if _, err := b.resolve(rel); err != nil {
			b.Missing = append(b.Missing, Missing{Kind: k, Path: rel, Reason: err.Error()})
		}
	}
	return b, nil
}

// resolve maps a path listed in results.json to a regular file inside the
// results directory. Paths that escape the directory are refused: the
// record comes from a pipeline run, and a report step must not be steered
// into copying arbitrary runner files into artifacts.
func (b *Bundle) resolve(rel string) (string, error) {
	if rel == "" {
		return "", fmt.Errorf("empty path")
	}
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("absolute path; expected a path relative to the results directory")
	}
	clean := filepath.Clean(filepath.FromSlash(rel))
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("path leaves the results directory")
	}
	p := filepath.Join(b.Dir, clean)
	fi, err := os.Stat(p)
	switch {
	case os.IsNotExist(err):
		return "", fmt.Errorf("listed in %s but not in the directory (partial export?)", results.FileName)
	case err != nil:
		return "", err
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("not a regular file")
	}
	return p, nil
}

// File returns the on-disk path of the report of the given kind, if the
// record lists it and it is present.
func (b *Bundle) File(kind string) (string, bool) {
	rel, ok := b.Run.Files[kind]
	if !ok {
		return "", false
	}
	p, err := b.resolve(rel)
	return p, err == nil
}

// Partial reports whether some listed report files are missing.
func (b *Bundle) Partial() bool { return len(b.Missing) > 0 }

// Tests parses the JUnit report, if the record lists one. A nil result
// with a nil error means there is no JUnit report.
func (b *Bundle) Tests() (*JUnit, error) {
	if b.junitDone {
		return b.junit, b.junitErr
	}
	b.junitDone = true
	if p, ok := b.File("junit"); ok {
		b.junit, b.junitErr = ReadJUnit(p)
	}
	return b.junit, b.junitErr
}
