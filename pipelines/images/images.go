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
	Cosign       = "cosign"        // signs and verifies (cosign CLI)
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
	{Name: Go, Pinned: true,
		Ref:    "golang:1.26.8-bookworm@sha256:9fdc884aacc3bec89b20ffc69f4bb369c78210e3e4f600387b5128b12c199f81",
		Source: "docker-library/repo-info repos/golang/remote/1.26.8-bookworm.md @ e243c7edb883107b26904e1bfd094b120b43b9a8 (index digest)"},
	{Name: Runtime, Pinned: true,
		Ref:    "gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab",
		Source: "Merkleye/mcp-server Containerfile @ fcb62762829e0d7cdcfe278aadd24c3298ae7f6b (Renovate pin, also in ~10 other public Dockerfiles)"},
	{Name: GolangciLint, Pinned: true,
		Ref:    "golangci/golangci-lint:v2.13.2@sha256:ba07dffad130794ae79ebaa0056809d18c0168f3f846480ffd3eb6c04578b83d",
		Source: "Batuhan4/cpa-groq Makefile @ ae97b6bc6ff8199151da61630b672ecafb6a2508 (also longhorn/longhorn-instance-manager Dockerfile)"},
	{Name: Trivy, Pinned: true,
		Ref:    "aquasec/trivy:0.74.0@sha256:62b1e65e8869bc4b4c6aa4fa2b21595256c7c2f6018a9d9ad61caf87187c1969",
		Source: "magrhino/wudup Dockerfile @ abb9e26116534887810e36543c1eaad656bcfb43 (same digest pinned as mirror.gcr.io/aquasec/trivy:0.74.0 elsewhere)"},
	{Name: Cosign, Pinned: true,
		Ref:    "ghcr.io/sigstore/cosign/cosign:v2.6.5@sha256:ad281047f85c5e1fc6ffbc30c2b55be3b07b4032bef715a12122ce5829619aca",
		Source: "samdefmacro/ethereum-lisp scripts/release-artifacts.sh @ 38b1abbe3926c9c8038b715cddaf5ca89cfa8e19 (same index digest as gcr.io/projectsigstore/cosign:v2.6.5; also Anko59/GeoguessMe)"},
	{Name: Registry, Pinned: true,
		Ref:    "registry:3@sha256:852b3e4d378c426dda6b318fe9d9bfe8e92a0eccb9926671ec3d3ea17a196696",
		Source: "docker-library/repo-info repos/registry/remote/3.md @ c42e9ed57ff61167658ffa7a9782fdd5bf78eba5 (index digest, distribution 3.1.2)"},
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

// ParseOverrides reads "name=reference" pairs as module arguments give them
// (--image go=mirror.example.com/golang:1.26).
func ParseOverrides(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("image override %q: want name=reference, e.g. go=mirror.example.com/golang:1.26 (names: %s)", p, strings.Join(Names(), ", "))
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// FromArgs builds a Set from module arguments: "name=reference" overrides,
// a mirror prefix and the content of an images file (may be empty). With
// no images file given, PAVED_IMAGES is not consulted: inside a module the
// caller's environment is not visible, so the file is passed explicitly.
func FromArgs(overrides []string, mirror, file string) (*Set, error) {
	ov, err := ParseOverrides(overrides)
	if err != nil {
		return nil, err
	}
	return New(Options{File: []byte(file), FileName: "images-file", Mirror: mirror, Override: ov})
}
