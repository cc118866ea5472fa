package sign

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v2/pkg/cosign"
)

// testRegistry is go-containerregistry's in-memory registry on 127.0.0.1,
// behind a hook that can fail or delay requests and records request bodies.
type testRegistry struct {
	srv  *httptest.Server
	Host string

	mu     sync.Mutex
	hook   func(r *http.Request) (status int, delay time.Duration)
	bodies [][]byte
	urls   []string
	// aborted counts delayed requests the client gave up on.
	aborted atomic.Int32
}

func newRegistry(t testing.TB) *testRegistry {
	tr := &testRegistry{}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		tr.mu.Lock()
		tr.bodies = append(tr.bodies, body)
		tr.urls = append(tr.urls, r.URL.String())
		hook := tr.hook
		tr.mu.Unlock()
		if hook != nil {
			status, delay := hook(r)
			if delay > 0 {
				select {
				case <-time.After(delay):
				case <-r.Context().Done():
					tr.aborted.Add(1)
					return
				}
			}
			if status != 0 {
				http.Error(w, http.StatusText(status), status)
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.srv.Close)
	tr.Host = strings.TrimPrefix(tr.srv.URL, "http://")
	return tr
}

func (tr *testRegistry) setHook(h func(r *http.Request) (int, time.Duration)) {
	tr.mu.Lock()
	tr.hook = h
	tr.mu.Unlock()
}

// pushRandom pushes a random image to repo:tag and returns its digest ref.
func (tr *testRegistry) pushRandom(t testing.TB, repo, tag string) name.Digest {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	return tr.push(t, repo, tag, img)
}

func (tr *testRegistry) push(t testing.TB, repo, tag string, img v1.Image) name.Digest {
	t.Helper()
	ref, err := name.NewTag(tr.Host + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Context().Digest(d.String())
}

// exists reports whether a tag or digest is in the registry.
func (tr *testRegistry) exists(t testing.TB, ref string) bool {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Head(r)
	return err == nil
}

// content returns every manifest and blob reachable from every tag, and
// every request body seen: what a leaked secret would be part of.
func (tr *testRegistry) content(t testing.TB) [][]byte {
	t.Helper()
	reg, err := name.NewRegistry(tr.Host)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	repos, err := remote.Catalog(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range repos {
		r := reg.Repo(repo)
		tags, err := remote.List(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			img, err := remote.Image(r.Tag(tag))
			if err != nil {
				t.Fatal(err)
			}
			m, _ := img.RawManifest()
			c, _ := img.RawConfigFile()
			out = append(out, []byte(tag), m, c)
			layers, _ := img.Layers()
			for _, l := range layers {
				rc, err := l.Compressed()
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				out = append(out, b)
			}
		}
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for i := range tr.bodies {
		out = append(out, tr.bodies[i], []byte(tr.urls[i]))
	}
	return out
}

type testKey struct {
	priv, pub, pass []byte
}

func newKey(t testing.TB, pass string) testKey {
	t.Helper()
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte(pass), nil })
	if err != nil {
		t.Fatal(err)
	}
	return testKey{priv: kb.PrivateBytes, pub: kb.PublicBytes, pass: []byte(pass)}
}

const testSBOM = `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"component":{"type":"container","name":"app"}},"components":[{"type":"library","name":"left-pad","version":"1.3.0","purl":"pkg:npm/left-pad@1.3.0"}]}`

func trivyReport(severities ...string) []byte {
	var vulns []string
	for i, s := range severities {
		vulns = append(vulns, `{"VulnerabilityID":"CVE-2024-`+string(rune('0'+i))+`000","PkgName":"openssl","Severity":"`+s+`"}`)
	}
	return []byte(`{"SchemaVersion":2,"ArtifactName":"app","ArtifactType":"container_image","Results":[{"Target":"app (debian 12)","Class":"os-pkgs","Type":"debian","Vulnerabilities":[` + strings.Join(vulns, ",") + `]}]}`)
}

func testVuln(severities ...string) *VulnScan {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &VulnScan{Report: trivyReport(severities...), ScannerURI: "pkg:github/aquasecurity/trivy@0.74.0", ScannerVersion: "0.74.0",
		DBURI: "ghcr.io/aquasecurity/trivy-db:2", DBVersion: "2", Started: t0, Finished: t0.Add(time.Minute)}
}

func testProvenance() *Provenance {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	return &Provenance{
		SourceRepo: "https://github.com/acme/app", Commit: "0123456789abcdef0123456789abcdef01234567", Ref: "refs/heads/main",
		BuilderID: "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main", RunURL: "https://github.com/acme/app/actions/runs/42",
		InvocationID: "https://github.com/acme/app/actions/runs/42/attempts/1", Started: t0, Finished: t0.Add(3 * time.Minute),
		Parameters:   map[string]any{"platforms": []string{"linux/amd64"}, "dockerfile": "Dockerfile"},
		Dependencies: map[string]string{"docker.io/library/golang:1.26": "sha256:" + strings.Repeat("a", 64)},
	}
}

// fastRegistry retries quickly so failure tests stay short.
var fastRegistry = Registry{Backoff: time.Millisecond, Timeout: 5 * time.Second}

func signAll(t testing.TB, tr *testRegistry, d name.Digest, k testKey) *Result {
	t.Helper()
	res, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln("LOW", "HIGH"), Provenance: testProvenance(), Registry: fastRegistry,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var allTypes = []string{"cyclonedx", "vuln", "slsaprovenance1"}

func checkByName(v *Verdict, name string) (Check, bool) {
	for _, c := range v.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// layerCount is how many layers the attachment image at tag has.
func layerCount(t testing.TB, tag string) int {
	t.Helper()
	r, err := name.ParseReference(tag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatalf("%s: %v", tag, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return len(m.Layers)
}
