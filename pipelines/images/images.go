// Package images is the one table of container images paved uses.
//
// Every image has a logical name ("go", "runtime", "trivy", ...) and a
// default reference. A user overrides one image by name, all of them by a
// registry-mirror prefix, or any of them by an images file (a JSON object
// from logical name to reference) passed as an argument or named by the
// PAVED_IMAGES environment variable. What an air-gapped company needs is the
// mirror prefix plus an images file; nothing else in paved names an image.
package images

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Logical image names. Stage code asks for an image by one of these.
const (
	Go           = "go"            // Go toolchain: build, test, git metadata
	Runtime      = "runtime"       // minimal non-root base for Go binaries
	GolangciLint = "golangci-lint" // optional lint stage
	Trivy        = "trivy"         // scanner
	Registry     = "registry"      // embedded ephemeral OCI registry
	Cosign       = "cosign"        // only for engine-backed interop checks
)

// Image is one row of the table.
type Image struct {
	Name string // logical name
	Ref  string // default reference
	// Pinned is true when Ref carries a digest. Rows without one are
	// listed as "not digest-pinned" in the README and the source given.
	Pinned bool
	Source string // where the digest (or tag) was taken from
}

// defaults is the one table. README "Images" mirrors it; a test keeps
// them in step.
var defaults = []Image{
	{Name: Go, Ref: "golang:1.26-bookworm", Source: "TODO"},
	{Name: Runtime, Ref: "gcr.io/distroless/static-debian12:nonroot", Source: "TODO"},
	{Name: GolangciLint, Ref: "golangci/golangci-lint:v2.5.0", Source: "TODO"},
	{Name: Trivy, Ref: "aquasec/trivy:0.74.0", Source: "TODO"},
	{Name: Registry, Ref: "registry:2", Source: "TODO"},
}

// Defaults returns a copy of the table, sorted by name.
func Defaults() []Image {
	out := append([]Image(nil), defaults...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EnvVar names the images file for the Go library and engine-backed tests.
const EnvVar = "PAVED_IMAGES"

// Set resolves logical names to references. The zero value is not usable;
// build one with New.
type Set struct {
	refs map[string]string
}

// Options are the three override mechanisms, applied in this order:
// images file, then mirror prefix (to every image the file did not set),
// then single overrides (the most specific wins).
type Options struct {
	// File is the content of an images file: {"go": "mirror/golang@sha256:..."}.
	File []byte
	// FileName names File in error messages.
	FileName string
	// Mirror is a registry prefix ("mirror.example.com/dockerhub") put in
	// front of each default reference's repository path.
	Mirror string
	// Override sets single images by logical name.
	Override map[string]string
}

// New builds a Set from the defaults and opts. Every reference is parsed;
// an unknown logical name or a reference that does not parse is an error
// naming it.
func New(opts Options) (*Set, error) {
	s := &Set{refs: map[string]string{}}
	for _, im := range defaults {
		s.refs[im.Name] = im.Ref
	}
	fromFile := map[string]bool{}
	if len(opts.File) > 0 {
		var m map[string]string
		if err := json.Unmarshal(opts.File, &m); err != nil {
			return nil, fmt.Errorf("images file %s: %v (want a JSON object from image name to reference, e.g. {\"go\": \"mirror.example.com/golang:1.26\"})", fileLabel(opts.FileName), err)
		}
		for k, v := range m {
			if err := s.set(k, v); err != nil {
				return nil, fmt.Errorf("images file %s: %w", fileLabel(opts.FileName), err)
			}
			fromFile[k] = true
		}
	}
	if opts.Mirror != "" {
		for k, v := range s.refs {
			if fromFile[k] {
				continue
			}
			m, err := mirrored(opts.Mirror, v)
			if err != nil {
				return nil, err
			}
			s.refs[k] = m
		}
	}
	for k, v := range opts.Override {
		if err := s.set(k, v); err != nil {
			return nil, fmt.Errorf("image override: %w", err)
		}
	}
	return s, nil
}

// FromEnv is New with the images file named by PAVED_IMAGES, if set.
func FromEnv(opts Options) (*Set, error) {
	if p := os.Getenv(EnvVar); p != "" && opts.File == nil {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: cannot read images file: %v", EnvVar, p, err)
		}
		opts.File, opts.FileName = b, p
	}
	return New(opts)
}

// MustDefault returns the default set. It cannot fail: a test checks that
// every default parses.
func MustDefault() *Set {
	s, err := New(Options{})
	if err != nil {
		panic("paved: default image table is broken: " + err.Error())
	}
	return s
}

// Ref returns the reference for a logical name. Stage code only asks for
// names from the constants above; an unknown one is a programming error and
// returns "" so the engine reports an empty image address loudly.
func (s *Set) Ref(logical string) string {
	if s == nil {
		return MustDefault().Ref(logical)
	}
	return s.refs[logical]
}

// All returns name → reference for reports and summaries.
func (s *Set) All() map[string]string {
	out := make(map[string]string, len(s.refs))
	for k, v := range s.refs {
		out[k] = v
	}
	return out
}

func (s *Set) set(logical, ref string) error {
	if _, ok := s.refs[logical]; !ok {
		return fmt.Errorf("unknown image name %q (known: %s)", logical, strings.Join(Names(), ", "))
	}
	if _, err := name.ParseReference(ref); err != nil {
		return fmt.Errorf("image %q: reference %q does not parse: %v (want e.g. registry.example.com/repo:tag or repo@sha256:<64 hex>)", logical, ref, err)
	}
	s.refs[logical] = ref
	return nil
}

// Names lists the logical names, sorted.
func Names() []string {
	var out []string
	for _, im := range defaults {
		out = append(out, im.Name)
	}
	sort.Strings(out)
	return out
}

// mirrored puts prefix in front of ref's repository, dropping the original
// registry host ("golang:1.26" → "mirror/library/golang:1.26";
// "gcr.io/distroless/static" → "mirror/distroless/static").
func mirrored(prefix, ref string) (string, error) {
	prefix = strings.TrimSuffix(prefix, "/")
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("image %q does not parse: %v", ref, err)
	}
	repo := r.Context().RepositoryStr()
	var out string
	switch t := r.(type) {
	case name.Digest:
		out = prefix + "/" + repo + "@" + t.DigestStr()
		// keep a tag written beside the digest readable to humans
		if i := strings.Index(ref, "@"); i > 0 {
			if j := strings.LastIndex(ref[:i], ":"); j > strings.LastIndex(ref[:i], "/") {
				out = prefix + "/" + repo + ref[j:]
			}
		}
	case name.Tag:
		out = prefix + "/" + repo + ":" + t.TagStr()
	}
	if _, err := name.ParseReference(out); err != nil {
		return "", fmt.Errorf("mirror prefix %q: gives %q, which does not parse: %v (want a registry host and optional path, e.g. mirror.example.com/dockerhub)", prefix, out, err)
	}
	return out, nil
}

func fileLabel(n string) string {
	if n == "" {
		return "(argument)"
	}
	return n
}
