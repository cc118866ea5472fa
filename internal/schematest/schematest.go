// Package schematest validates paved's outputs against the public schemas
// handed to the project in ../shared/schemas (GitLab, GitHub, SARIF,
// CycloneDX). Tests only.
package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Dir returns the shared schemas directory: $PAVED_SHARED/schemas, or
// ../shared/schemas beside the repository root.
func Dir() (string, error) {
	if d := os.Getenv("PAVED_SHARED"); d != "" {
		s := filepath.Join(d, "schemas")
		if _, err := os.Stat(s); err != nil {
			return "", fmt.Errorf("PAVED_SHARED=%s: no schemas folder at %s", d, s)
		}
		return s, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/paved-ci/paved\n") {
			s := filepath.Join(filepath.Dir(d), "shared", "schemas")
			if _, err := os.Stat(s); err != nil {
				return "", fmt.Errorf("shared schemas not found at %s (set PAVED_SHARED to the shared/ folder)", s)
			}
			return s, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("repository root (go.mod of github.com/paved-ci/paved) not found above %s", wd)
		}
	}
}

var (
	mu    sync.Mutex
	cache = map[string]*jsonschema.Schema{}
)

// Schema compiles the named schema file (relative to Dir, e.g.
// "sarif-2.1.0.json" or "cyclonedx/bom-1.6.schema.json").
func Schema(file string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := cache[file]; ok {
		return s, nil
	}
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	// CycloneDX refs resolve against http://cyclonedx.org/schema/; serve
	// them from the local copies. No schema is fetched from the network.
	c.UseLoader(localLoader{dir: dir})
	path := filepath.Join(dir, file)
	s, err := c.Compile(path)
	if err != nil {
		return nil, fmt.Errorf("compiling schema %s: %w", file, err)
	}
	cache[file] = s
	return s, nil
}

// Validate checks a JSON document against the named schema.
func Validate(file string, doc []byte) error {
	s, err := Schema(file)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("document is not JSON: %w", err)
	}
	return s.Validate(v)
}

// ValidateValue checks an already decoded value (e.g. YAML converted to
// map[string]any) against the named schema.
func ValidateValue(file string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return Validate(file, b)
}

type localLoader struct{ dir string }

func (l localLoader) Load(url string) (any, error) {
	var p string
	switch {
	case strings.HasPrefix(url, "file://"):
		p = strings.TrimPrefix(url, "file://")
	case strings.HasPrefix(url, "http://cyclonedx.org/schema/"):
		p = filepath.Join(l.dir, "cyclonedx", strings.TrimPrefix(url, "http://cyclonedx.org/schema/"))
	default:
		return nil, fmt.Errorf("schema %s is not in the shared schemas; refusing to fetch it", url)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

// Need skips t when the shared schemas are not beside the repository (a
// plain GitHub checkout of paved has no ../shared), unless
// PAVED_REQUIRE_SCHEMAS=1 — .ci/run sets it, so there a missing folder
// fails instead of skipping.
func Need(t interface {
	Helper()
	Skipf(string, ...any)
	Fatalf(string, ...any)
}) {
	t.Helper()
	if _, err := Dir(); err != nil {
		if os.Getenv("PAVED_REQUIRE_SCHEMAS") == "1" {
			t.Fatalf("%v", err)
		}
		t.Skipf("schema validation not run: %v", err)
	}
}
