package publish

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/paved-ci/paved/pipelines/tags"
)

// counter records the requests a registry saw, by kind.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) get(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[kind]
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = map[string]int{}
}

func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.n)
}

// kind classifies a registry request.
func kind(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.Contains(p, "/blobs/uploads/"):
		if r.Method == http.MethodPost && r.URL.Query().Get("mount") != "" {
			return "blob-mount"
		}
		if r.Method == http.MethodPost {
			return "blob-upload-start"
		}
		return "blob-upload-" + strings.ToLower(r.Method) // PATCH carries data, PUT commits
	case strings.Contains(p, "/blobs/"):
		return "blob-" + strings.ToLower(r.Method)
	case strings.Contains(p, "/manifests/"):
		return "manifest-" + strings.ToLower(r.Method)
	case p == "/v2/" || p == "/v2":
		return "ping"
	}
	return "other"
}

// middleware runs before the registry; it may answer itself (true).
type middleware func(w http.ResponseWriter, r *http.Request) bool

// newRegistry starts go-containerregistry's in-memory registry on
// 127.0.0.1 behind a counting handler. Returns its host:port.
func newRegistry(t testing.TB, mw ...middleware) (string, *counter) {
	t.Helper()
	c := &counter{n: map[string]int{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.n[kind(r)]++
		c.n["all"]++
		c.mu.Unlock()
		for _, m := range mw {
			if m(w, r) {
				return
			}
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u.Host, c
}

var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
	{OS: "linux", Architecture: "s390x"},
}

// randomIndex is a 3-platform OCI index of random images (2 layers each).
func randomIndex(t testing.TB) v1.ImageIndex { return sizedIndex(t, 2048) }

// sizedIndex is randomIndex with layers of layerSize bytes.
func sizedIndex(t testing.TB, layerSize int64) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		img, err := random.Image(layerSize, 2)
		if err != nil {
			t.Fatal(err)
		}
		p := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
}

// pushIndex pushes idx to host/repo by digest and returns the digest
// reference.
func pushIndex(t testing.TB, host, repo string, idx v1.ImageIndex) string {
	t.Helper()
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("%s/%s@%s", host, repo, d)
	r, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	return ref
}

// tagAt points host/repo:tag at idx (pushing it).
func tagAt(t testing.TB, host, repo, tag string, idx v1.ImageIndex) string {
	t.Helper()
	r, err := name.NewTag(fmt.Sprintf("%s/%s:%s", host, repo, tag))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return d.String()
}

// digestOf reads the digest host/repo:tag has, "" when absent.
func digestOf(t testing.TB, host, repo, tag string) string {
	t.Helper()
	r, err := name.NewTag(fmt.Sprintf("%s/%s:%s", host, repo, tag))
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r)
	if err != nil {
		if isNotFound(err) {
			return ""
		}
		t.Fatal(err)
	}
	return d.Digest.String()
}

func tagList(specs ...string) []tags.Tag {
	var out []tags.Tag
	for _, s := range specs {
		name, imm := strings.CutSuffix(s, "!")
		out = append(out, tags.Tag{Name: name, Immutable: imm, Reason: "test"})
	}
	return out
}

func fast() Retry { return Retry{Attempts: 3, Base: time.Millisecond} }

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}
