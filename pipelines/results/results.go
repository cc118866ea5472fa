// Package results is paved's CI-neutral record of a run: one results.json
// plus report files in one directory. Every stage writes into it; the CI
// adapters (package ci) turn it into GitHub or GitLab native outputs.
package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// SchemaVersion is bumped when a reader of an older paved could misread
// results.json. Readers refuse a newer major with a clear error.
const SchemaVersion = 1

// FileName is the name of the record inside a results directory.
const FileName = "results.json"

// Status of a stage.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Run is the whole record.
type Run struct {
	SchemaVersion int    `json:"schemaVersion"`
	PavedVersion  string `json:"pavedVersion,omitempty"`
	Repo          string `json:"repo,omitempty"`
	Commit        string `json:"commit,omitempty"`
	Version       string `json:"version,omitempty"`
	// Scanned names what the scan stage scanned: "image" (the first
	// platform variant), "image-linux-arm64" (each other one), "source".
	Scanned []string `json:"scanned,omitempty"`
	// Builder is the builder that built the app ("go", "dockerfile").
	Builder string    `json:"builder,omitempty"`
	Started time.Time `json:"started"`
	Stages  []Stage   `json:"stages"`
	Image   *Image    `json:"image,omitempty"`
	// Findings counts scan findings by severity (CRITICAL, HIGH, ...).
	Findings map[string]int `json:"findings,omitempty"`
	// Files maps a report kind (junit, coverage, sarif, sbom,
	// gitlab-container-scanning, summary, ...) to its path relative to
	// the results directory.
	Files map[string]string `json:"files,omitempty"`
	// Modules maps each paved module the run called ("paved", "build",
	// ...) to its released version (v1.2.0), for the platform report.
	Modules map[string]string `json:"modules,omitempty"`
	// Exceptions are the scan-policy exceptions in force for the run, so
	// the platform report can list those expiring soon.
	Exceptions []Exception `json:"exceptions,omitempty"`
}

// Exception is a scan-policy exception as recorded in a run.
type Exception struct {
	ID     string `json:"id"`
	Owner  string `json:"owner,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Expires is zero for an entry that never expires (a plain
	// .trivyignore line); Where is file:line.
	Expires time.Time `json:"expires,omitzero"`
	Where   string    `json:"where,omitempty"`
}

// Stage is one stage's outcome.
type Stage struct {
	Name     string        `json:"name"`
	Status   Status        `json:"status"`
	Duration time.Duration `json:"durationNs"`
	// Reason says why a stage was skipped or failed, in one line.
	Reason string `json:"reason,omitempty"`
	// Mandated stages (scan, sign) are marked so a skip stands out.
	Mandated bool `json:"mandated,omitempty"`
	// Cache is nil unless the run was traced (paved-ci trace): module code
	// cannot see whether Dagger served an operation from its cache, only
	// the engine's spans say so.
	Cache *Cache `json:"cache,omitempty"`
}

// Cache counts a stage's container execs (Container.withExec calls) that
// the Dagger engine marked as served from its cache (Hits) and those it did
// not mark (Misses: they ran, or were to run). Zero and zero means the
// stage was traced and asked for no exec the engine reported.
type Cache struct {
	Hits   int `json:"hits"`
	Misses int `json:"misses"`
}

// SetCache records per-stage counts on the stages that ran, by name, and
// returns the names in counts that match no stage that ran.
func (r *Run) SetCache(counts map[string]Cache) (unmatched []string) {
	used := map[string]bool{}
	for i, s := range r.Stages {
		c, ok := counts[s.Name]
		if !ok || s.Status == Skipped {
			continue
		}
		r.Stages[i].Cache = &c
		used[s.Name] = true
	}
	for name := range counts {
		if !used[name] {
			unmatched = append(unmatched, name)
		}
	}
	sort.Strings(unmatched)
	return unmatched
}

// Image is what the publish stage wrote.
type Image struct {
	Ref       string   `json:"ref"`    // repo@sha256:...
	Digest    string   `json:"digest"` // sha256:...
	Tags      []string `json:"tags,omitempty"`
	Platforms []string `json:"platforms,omitempty"`
	Ephemeral bool     `json:"ephemeral,omitempty"`
	Signature string   `json:"signature,omitempty"`
}

// New starts a record.
func New(now time.Time) *Run {
	return &Run{SchemaVersion: SchemaVersion, Started: now.UTC()}
}

// Add appends a stage outcome.
func (r *Run) Add(s Stage) { r.Stages = append(r.Stages, s) }

// Passed reports whether no stage failed.
func (r *Run) Passed() bool {
	for _, s := range r.Stages {
		if s.Status == Failed {
			return false
		}
	}
	return true
}

// Write stores results.json in dir, creating it.
func (r *Run) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, FileName), append(b, '\n'), 0o644)
}

// Read loads results.json from dir.
func Read(dir string) (*Run, error) {
	p := filepath.Join(dir, FileName)
	b, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("results directory %s has no %s: export it with `dagger call ... results export --path %s` first", dir, FileName, dir)
		}
		return nil, err
	}
	return Decode(b, p)
}

// Decode parses a results.json body; name labels errors.
func Decode(b []byte, name string) (*Run, error) {
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a paved results file: %v", name, err)
	}
	switch {
	case r.SchemaVersion == 0:
		return nil, fmt.Errorf("%s: no schemaVersion: not a paved results file", name)
	case r.SchemaVersion > SchemaVersion:
		return nil, fmt.Errorf("%s: schemaVersion %d is newer than this paved understands (%d): upgrade the paved host command", name, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}
