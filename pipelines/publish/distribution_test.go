package publish

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const distributionBin = "/usr/bin/docker-registry"

// newDistribution starts the CNCF distribution registry (Debian package
// docker-registry) on 127.0.0.1 with a temp storage dir, behind a
// counting reverse proxy. Skips when the binary is missing.
func newDistribution(t *testing.T) (string, *counter) {
	t.Helper()
	if _, err := os.Stat(distributionBin); err != nil {
		t.Skip("distribution registry missing: apt-get install docker-registry")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(distributionBin, "serve", cfgPath)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("distribution registry did not come up on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	target, _ := url.Parse("http://" + addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	c := &counter{n: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.n[kind(r)]++
		c.n["all"]++
		c.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u.Host, c
}

func TestDistributionRegistry(t *testing.T) {
	d, cd := newDistribution(t)
	g, cg := newRegistry(t)
	src := pushIndex(t, d, "team/app", randomIndex(t))
	cd.reset()

	p := &Publisher{Retry: fast()}
	res, err := p.Publish(ctx(t), Request{
		Source: src,
		Repos:  []string{d + "/team/app", d + "/other/app", g + "/app"},
		Tags:   tagList("1.0.0!", "1.0", "1", "latest", "sha-0123456!"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Written) != 15 || len(res.Copied) != 2 {
		t.Fatalf("result %+v", res)
	}
	// Same registry, other repository: every blob is mounted, none sent.
	if n := cd.get("blob-mount"); n != 9 {
		t.Errorf("%d blob mounts in distribution, want 9 (%s)", n, cd)
	}
	if n := cd.get("blob-upload-patch") + cd.get("blob-upload-put") + cd.get("blob-upload-start"); n != 0 {
		t.Errorf("%d blob upload requests in distribution, want 0 (%s)", n, cd)
	}
	if n := cg.get("blob-upload-put"); n != 9 {
		t.Errorf("%d blobs uploaded to the second registry, want 9", n)
	}
	for _, repo := range []string{"team/app", "other/app"} {
		for _, tag := range []string{"1.0.0", "latest"} {
			if got := digestOf(t, d, repo, tag); got != res.Digest {
				t.Errorf("%s:%s at %q", repo, tag, got)
			}
		}
	}

	// A release tag in distribution is immutable too.
	other := pushIndex(t, d, "team/app", randomIndex(t))
	_, err = p.Publish(ctx(t), Request{Source: other, Repos: []string{d + "/team/app"}, Tags: tagList("1.0.0!")})
	if err == nil || !strings.Contains(err.Error(), res.Digest) {
		t.Errorf("conflict not refused: %v", err)
	}
	// Same digest again is a no-op.
	cd.reset()
	if _, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{d + "/team/app"}, Tags: tagList("1.0.0!", "latest")}); err != nil {
		t.Fatal(err)
	}
	if n := cd.get("manifest-put"); n != 0 {
		t.Errorf("%d manifest PUTs on republish", n)
	}
}
