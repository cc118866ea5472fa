package admission

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// The published CRDs, converted to JSON Schema and vendored under
// testdata/schemas (see README.md and SOURCES there). Regenerate with
//
//	go test ./pipelines/admission -run TestVendoredSchemas -crd-dir DIR
//
// where DIR holds the upstream CRD files named as in SOURCES.
var crdDir = flag.String("crd-dir", "", "regenerate testdata/schemas from the upstream CRD files in this folder")

const schemaDir = "testdata/schemas"

type schemaSource struct {
	schema, upstream, upstreamSHA, version, url string
}

// readSources parses testdata/schemas/SOURCES: schema file, upstream file,
// its sha256, the CRD version converted and the pinned URL.
func readSources(t *testing.T) []schemaSource {
	t.Helper()
	f, err := os.Open(filepath.Join(schemaDir, "SOURCES"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []schemaSource
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 5 {
			t.Fatalf("SOURCES line %q: want schema upstream-file sha256 version url", line)
		}
		out = append(out, schemaSource{fs[0], fs[1], fs[2], fs[3], fs[4]})
	}
	if len(out) != 2 {
		t.Fatalf("SOURCES lists %d schemas, want the Kyverno and the policy-controller one", len(out))
	}
	return out
}

// TestVendoredSchemas regenerates the schemas with -crd-dir (refusing
// upstream files whose sha256 is not the pinned one); always, it checks that
// each vendored schema names its pinned source and compiles.
func TestVendoredSchemas(t *testing.T) {
	for _, s := range readSources(t) {
		if *crdDir != "" {
			raw, err := os.ReadFile(filepath.Join(*crdDir, s.upstream))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(raw)
			if got := hex.EncodeToString(sum[:]); got != s.upstreamSHA {
				t.Fatalf("%s: sha256 %s, SOURCES pins %s (%s)", s.upstream, got, s.upstreamSHA, s.url)
			}
			js, err := crdToJSONSchema(raw, s.version, s.url)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(schemaDir, s.schema), js, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		b, err := os.ReadFile(filepath.Join(schemaDir, s.schema))
		if err != nil {
			t.Fatalf("%v: regenerate with -crd-dir (see testdata/schemas/README.md)", err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if doc["$comment"] != "converted from "+s.url+" ("+s.version+")" {
			t.Errorf("%s: $comment %q does not name the pinned source %s", s.schema, doc["$comment"], s.url)
		}
		if _, err := compiled(t, s.schema); err != nil {
			t.Fatal(err)
		}
	}
}

// crdToJSONSchema takes the openAPIV3Schema of one version of a CRD and
// makes it a draft-04 JSON Schema (OpenAPI v3.0 schemas are a draft-04
// dialect): apiVersion, kind and metadata.name required and pinned to the
// CRD's group/version and kind, descriptions dropped (size), nullable turned into a null type,
// and additionalProperties: false on every object that lists properties and
// does not preserve unknown fields, as `kubectl apply --validate=strict`
// refuses unknown fields instead of the API server silently pruning them.
// A misspelt field (subjectRegexp for subjectRegExp) then fails the test.
func crdToJSONSchema(crd []byte, version, url string) ([]byte, error) {
	var doc struct {
		Spec struct {
			Group string `yaml:"group"`
			Names struct {
				Kind string `yaml:"kind"`
			} `yaml:"names"`
			Versions []struct {
				Name   string `yaml:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(crd, &doc); err != nil {
		return nil, err
	}
	for _, v := range doc.Spec.Versions {
		if v.Name != version {
			continue
		}
		s := v.Schema.OpenAPIV3Schema
		if s == nil {
			return nil, fmt.Errorf("version %s has no openAPIV3Schema", version)
		}
		strict(s)
		// The API server adds these to every object; pin them to this
		// CRD's group, version and kind.
		stringMap := map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
		props := s["properties"].(map[string]any)
		props["apiVersion"] = map[string]any{"enum": []any{doc.Spec.Group + "/" + version}}
		props["kind"] = map[string]any{"enum": []any{doc.Spec.Names.Kind}}
		props["metadata"] = map[string]any{"type": "object", "required": []any{"name"}, "properties": map[string]any{
			"name": map[string]any{"type": "string"}, "annotations": stringMap, "labels": stringMap,
		}}
		s["required"] = []any{"apiVersion", "kind", "metadata", "spec"}
		s["$schema"] = "http://json-schema.org/draft-04/schema#"
		s["$comment"] = "converted from " + url + " (" + version + ")"
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", " ")
		enc.SetEscapeHTML(false)
		err := enc.Encode(s)
		return b.Bytes(), err
	}
	return nil, fmt.Errorf("the CRD has no version %s", version)
}

func strict(node any) {
	switch n := node.(type) {
	case map[string]any:
		delete(n, "description")
		if n["nullable"] == true {
			if t, ok := n["type"].(string); ok {
				n["type"] = []any{t, "null"}
			}
			delete(n, "nullable")
		}
		if _, ok := n["properties"]; ok {
			if _, set := n["additionalProperties"]; !set && n["x-kubernetes-preserve-unknown-fields"] != true {
				n["additionalProperties"] = false
			}
		}
		for k, v := range n {
			if k == "properties" || k == "patternProperties" {
				// Property names are keys here, not keywords.
				for _, p := range v.(map[string]any) {
					strict(p)
				}
				continue
			}
			if k == "default" || k == "example" || k == "enum" {
				continue
			}
			strict(v)
		}
	case []any:
		for _, v := range n {
			strict(v)
		}
	}
}

var (
	schemaMu    sync.Mutex
	schemaCache = map[string]*jsonschema.Schema{}
)

func compiled(t *testing.T, file string) (*jsonschema.Schema, error) {
	t.Helper()
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemaCache[file]; ok {
		return s, nil
	}
	f, err := os.Open(filepath.Join(schemaDir, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c := jsonschema.NewCompiler()
	// Nothing is fetched: the schema is self-contained.
	if err := c.AddResource(file, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(file)
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", file, err)
	}
	schemaCache[file] = s
	return s, nil
}

// validateYAML checks every document of a YAML stream against the schema
// its kind names, and returns the kinds seen.
func validateYAML(t *testing.T, out []byte) ([]string, error) {
	t.Helper()
	schemas := map[string]string{
		"kyverno.io/v1/ClusterPolicy":                    "kyverno-clusterpolicy-v1.json",
		"policy.sigstore.dev/v1beta1/ClusterImagePolicy": "sigstore-clusterimagepolicy-v1beta1.json",
	}
	var kinds []string
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return kinds, nil
		} else if err != nil {
			return kinds, fmt.Errorf("output is not YAML: %w", err)
		}
		kind := fmt.Sprint(doc["apiVersion"], "/", doc["kind"])
		file, ok := schemas[kind]
		if !ok {
			return kinds, fmt.Errorf("unexpected document %s", kind)
		}
		s, err := compiled(t, file)
		if err != nil {
			t.Fatal(err)
		}
		// Through JSON: the validator wants JSON types (float64, []any).
		j, err := json.Marshal(doc)
		if err != nil {
			return kinds, err
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			return kinds, err
		}
		if err := s.Validate(inst); err != nil {
			return kinds, fmt.Errorf("%s does not validate against %s: %w", kind, file, err)
		}
		kinds = append(kinds, kind)
	}
}
