package publish

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// uploads counts requests that start, carry or commit a blob upload (a
// mount attempt the registry turns into an upload shows as PATCH/PUT).
func uploads(c *counter) int {
	return c.get("blob-upload-start") + c.get("blob-upload-patch") + c.get("blob-upload-put")
}

func TestAddTagsWritesOnlyManifests(t *testing.T) {
	host, c := newRegistry(t)
	src := pushIndex(t, host, "team/app", randomIndex(t))
	c.reset()

	p := &Publisher{Retry: fast()}
	res, err := p.Publish(ctx(t), Request{
		Source: src,
		Repos:  []string{host + "/team/app"},
		Tags:   tagList("1.2.3!", "1.2", "1", "latest", "sha-abc1234!"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := uploads(c); n != 0 {
		t.Errorf("%d blob upload requests, want 0 (%s)", n, c)
	}
	if n := c.get("blob-get"); n != 0 {
		t.Errorf("%d blob downloads, want 0", n)
	}
	if n := c.get("manifest-put"); n != 5 {
		t.Errorf("%d manifest PUTs, want 5 (one per tag)", n)
	}
	// one read and one write transport serve the whole publish: each
	// ping is a token round trip on a registry with token auth
	if n := c.get("ping"); n > 2 {
		t.Errorf("%d pings, want at most 2 (%s)", n, c)
	}
	if len(res.Written) != 5 || len(res.Copied) != 0 {
		t.Fatalf("result %+v", res)
	}
	want := src[strings.Index(src, "@")+1:]
	if res.Digest != want {
		t.Errorf("digest %s, want %s", res.Digest, want)
	}
	for _, w := range res.Written {
		if w.Action != Created {
			t.Errorf("%s: %s, want created", w.Ref(), w.Action)
		}
		if got := digestOf(t, host, "team/app", w.Tag); got != want {
			t.Errorf("%s is at %q, want %s", w.Tag, got, want)
		}
	}
	// immutable tags are written before moving ones
	if !strings.HasSuffix(res.Written[0].Tag, "1.2.3") || res.Written[1].Tag != "sha-abc1234" {
		t.Errorf("order %v", res.Refs())
	}
}

func TestCopyToSecondRegistry(t *testing.T) {
	a, ca := newRegistry(t)
	b, cb := newRegistry(t)
	idx := randomIndex(t)
	src := pushIndex(t, a, "app", idx)
	ca.reset()

	p := &Publisher{Retry: fast()}
	res, err := p.Publish(ctx(t), Request{
		Source: src,
		Repos:  []string{a + "/app", b + "/mirror/app"},
		Tags:   tagList("1.0.0!", "latest"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Copied) != 1 || res.Copied[0] != b+"/mirror/app" || len(res.Written) != 4 {
		t.Fatalf("result %+v", res)
	}
	// 3 images × (2 layers + config) distinct blobs travel once.
	if n := cb.get("blob-upload-put"); n != 9 {
		t.Errorf("target saw %d blob uploads, want 9 (%s)", n, cb)
	}
	if n := uploads(ca); n != 0 {
		t.Errorf("source saw %d uploads", n)
	}
	for _, tag := range []string{"1.0.0", "latest"} {
		if got := digestOf(t, b, "mirror/app", tag); got != res.Digest {
			t.Errorf("b %s at %q", tag, got)
		}
	}
	// The target now has every blob: another copy (new repository,
	// new tag) uploads none.
	cb.reset()
	if _, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{b + "/other/app"}, Tags: tagList("edge")}); err != nil {
		t.Fatal(err)
	}
	if n := uploads(cb); n != 0 {
		t.Errorf("second copy: %d blob uploads, want 0 (%s)", n, cb)
	}
	if n := cb.get("blob-mount"); n != 0 {
		t.Logf("blobs mounted: %d", n)
	}
}

func TestCopySkipsBlobsTheTargetHas(t *testing.T) {
	a, _ := newRegistry(t)
	b, cb := newRegistry(t)
	idx := randomIndex(t)
	src := pushIndex(t, a, "app", idx)
	// The target has the platform images (not the index) already.
	m, _ := idx.IndexManifest()
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := name.NewDigest(fmt.Sprintf("%s/app@%s", b, d.Digest))
		if err := remote.Write(r, img); err != nil {
			t.Fatal(err)
		}
	}
	cb.reset()
	p := &Publisher{Retry: fast()}
	if _, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{b + "/app"}, Tags: tagList("2.0.0!")}); err != nil {
		t.Fatal(err)
	}
	if n := uploads(cb); n != 0 {
		t.Errorf("%d blob uploads, want 0 (%s)", n, cb)
	}
	if n := cb.get("manifest-put"); n != 2 {
		t.Errorf("%d manifest PUTs, want 2 (index by digest, tag)", n)
	}
}

func TestImmutableTagRefused(t *testing.T) {
	host, c := newRegistry(t)
	old := tagAt(t, host, "app", "1.2.3", randomIndex(t))
	oldLatest := tagAt(t, host, "app", "latest", randomIndex(t))
	src := pushIndex(t, host, "app", randomIndex(t))
	c.reset()

	p := &Publisher{Retry: fast()}
	req := Request{Source: src, Repos: []string{host + "/app"}, Tags: tagList("1.2.3!", "latest")}
	res, err := p.Publish(ctx(t), req)
	if err == nil {
		t.Fatal("moving an immutable tag was accepted")
	}
	for _, s := range []string{old, res.Digest, "1.2.3", "allow-overwrite"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	if c.get("manifest-put") != 0 || len(res.Written) != 0 {
		t.Errorf("refused publish wrote something: %d PUTs, %v", c.get("manifest-put"), res.Refs())
	}
	if got := digestOf(t, host, "app", "latest"); got != oldLatest {
		t.Errorf("latest moved to %s although the release was refused", got)
	}

	req.AllowOverwrite = true
	res, err = p.Publish(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Written {
		if w.Action != Moved || w.Previous == "" || w.Previous == res.Digest {
			t.Errorf("%s: %+v", w.Ref(), w)
		}
	}
	if got := digestOf(t, host, "app", "1.2.3"); got != res.Digest {
		t.Errorf("1.2.3 at %s after override", got)
	}
}

func TestRepublishSameDigestIsNoop(t *testing.T) {
	host, c := newRegistry(t)
	src := pushIndex(t, host, "app", randomIndex(t))
	p := &Publisher{Retry: fast()}
	req := Request{Source: src, Repos: []string{host + "/app"}, Tags: tagList("1.0.0!", "latest", "sha-1234567!")}
	if _, err := p.Publish(ctx(t), req); err != nil {
		t.Fatal(err)
	}
	c.reset()
	res, err := p.Publish(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.get("manifest-put"); n != 0 {
		t.Errorf("%d manifest PUTs on republish, want 0", n)
	}
	for _, w := range res.Written {
		if w.Action != Unchanged {
			t.Errorf("%s: %s", w.Ref(), w.Action)
		}
	}
}

func TestMovingTagMoves(t *testing.T) {
	host, _ := newRegistry(t)
	old := tagAt(t, host, "app", "main", randomIndex(t))
	src := pushIndex(t, host, "app", randomIndex(t))
	p := &Publisher{Retry: fast()}
	res, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{host + "/app"}, Tags: tagList("main")})
	if err != nil {
		t.Fatal(err)
	}
	if w := res.Written[0]; w.Action != Moved || w.Previous != old {
		t.Errorf("%+v, want moved from %s", w, old)
	}
	if got := digestOf(t, host, "app", "main"); got != res.Digest {
		t.Errorf("main at %s", got)
	}
}

func TestBeforeStateLetsOwnPushedTagMove(t *testing.T) {
	// The glue reads the state, pushes with Dagger to sha-x, then adds
	// annotations (a new index digest): sha-x must move without conflict.
	host, _ := newRegistry(t)
	p := &Publisher{Retry: fast()}
	ts := tagList("sha-abcdef0!", "1.0.0!")
	before, err := p.Inspect(ctx(t), []string{host + "/app"}, ts)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := before[host+"/app"]["sha-abcdef0"]; !ok || d != "" {
		t.Fatalf("state %v", before)
	}
	idx := randomIndex(t)
	tagAt(t, host, "app", "sha-abcdef0", idx)
	d, _ := idx.Digest()
	res, err := p.Publish(ctx(t), Request{
		Source: fmt.Sprintf("%s/app@%s", host, d), Repos: []string{host + "/app"}, Tags: ts,
		Annotations: map[string]string{"org.opencontainers.image.revision": "abcdef0"},
		Before:      before,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest == d.String() {
		t.Fatal("annotations did not change the index digest")
	}
	if got := digestOf(t, host, "app", "sha-abcdef0"); got != res.Digest {
		t.Errorf("sha tag at %s", got)
	}
	// Without the earlier state the same tag is a conflict.
	idx2 := randomIndex(t)
	src2 := pushIndex(t, host, "app", idx2)
	if _, err := p.Publish(ctx(t), Request{Source: src2, Repos: []string{host + "/app"}, Tags: ts}); err == nil {
		t.Error("moving sha tag accepted without a prior state")
	}
}

func TestAnnotationsOnIndexReuseChildren(t *testing.T) {
	host, c := newRegistry(t)
	idx := randomIndex(t)
	src := pushIndex(t, host, "app", idx)
	c.reset()
	ann := map[string]string{"org.opencontainers.image.source": "https://example.invalid/app", "org.opencontainers.image.version": "1.0.0"}
	p := &Publisher{Retry: fast()}
	res, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{host + "/app"}, Tags: tagList("1.0.0!"), Annotations: ann})
	if err != nil {
		t.Fatal(err)
	}
	if n := uploads(c); n != 0 {
		t.Errorf("%d blob uploads", n)
	}
	r, _ := name.NewTag(host + "/app:1.0.0")
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := desc.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	gm, _ := got.IndexManifest()
	om, _ := idx.IndexManifest()
	for k, v := range ann {
		if gm.Annotations[k] != v {
			t.Errorf("annotation %s = %q", k, gm.Annotations[k])
		}
	}
	if len(gm.Manifests) != 3 {
		t.Fatalf("%d manifests", len(gm.Manifests))
	}
	for i := range gm.Manifests {
		if gm.Manifests[i].Digest != om.Manifests[i].Digest || gm.Manifests[i].Platform.String() != om.Manifests[i].Platform.String() {
			t.Errorf("child %d changed", i)
		}
	}
	if desc.Digest.String() != res.Digest {
		t.Errorf("tag at %s, result says %s", desc.Digest, res.Digest)
	}
}

func TestRetriesFlakyRegistry(t *testing.T) {
	var fails atomic.Int32
	flaky := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			n := fails.Add(-1)
			if n >= 0 {
				if n%2 == 0 {
					w.WriteHeader(http.StatusTooManyRequests)
				} else {
					w.WriteHeader(http.StatusInternalServerError)
				}
				return true
			}
		}
		return false
	}
	host, c := newRegistry(t, flaky)
	src := pushIndex(t, host, "app", randomIndex(t))
	fails.Store(3) // the first tag PUT fails 3 times: 500, 429, 500
	c.reset()
	p := &Publisher{Retry: Retry{Attempts: 4, Base: time.Millisecond}}
	res, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{host + "/app"}, Tags: tagList("a", "b", "c")})
	if err != nil {
		t.Fatal(err)
	}
	if n := c.get("manifest-put"); n != 3+3 {
		t.Errorf("%d manifest PUTs, want 6 (3 tags + 3 retried)", n)
	}
	for _, tag := range []string{"a", "b", "c"} {
		if got := digestOf(t, host, "app", tag); got != res.Digest {
			t.Errorf("%s at %q", tag, got)
		}
	}
}

func TestAlwaysFailingRegistry(t *testing.T) {
	down := func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	a, _ := newRegistry(t)
	b, cb := newRegistry(t, down)
	src := pushIndex(t, a, "app", randomIndex(t))
	p := &Publisher{Retry: fast()}
	res, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{a + "/app", b + "/app"}, Tags: tagList("x")})
	if err == nil {
		t.Fatal("publish to a failing registry succeeded")
	}
	for _, s := range []string{"registry " + b, "HTTP 503", "each request tried 3 times"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	// Bounded: the state read gives up after 3 tries of its first request.
	if n := cb.get("all"); n != 3 {
		t.Errorf("failing registry saw %d requests, want 3", n)
	}
	if len(res.Written) != 0 {
		t.Errorf("written %v", res.Refs())
	}
	if got := digestOf(t, a, "app", "x"); got != "" {
		t.Errorf("a:x written (%s) though the publish failed before writing", got)
	}
}

func TestPartialFailureListsWhatWasWritten(t *testing.T) {
	// The registry refuses latest for good: the error and the result say
	// exactly which tags exist. Immutable tags go first, and writing
	// stops at the failure.
	refuse := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/latest") {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	}
	host, _ := newRegistry(t, refuse)
	src := pushIndex(t, host, "app", randomIndex(t))
	p := &Publisher{Retry: fast()}
	res, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{host + "/app"}, Tags: tagList("latest", "1.0.0!", "1.0")})
	if err == nil {
		t.Fatal("no error")
	}
	if len(res.Written) != 1 || res.Written[0].Tag != "1.0.0" {
		t.Errorf("written %v, want only 1.0.0", res.Refs())
	}
	if !strings.Contains(err.Error(), "tags NOT written: "+host+"/app:latest, "+host+"/app:1.0\n") && !strings.HasSuffix(err.Error(), "tags NOT written: "+host+"/app:latest, "+host+"/app:1.0") {
		t.Errorf("error: %v", err)
	}
	if !strings.Contains(err.Error(), "tags written: "+host+"/app:1.0.0\n") {
		t.Errorf("error: %v", err)
	}
	for tag, want := range map[string]string{"1.0.0": res.Digest, "latest": "", "1.0": ""} {
		if got := digestOf(t, host, "app", tag); got != want {
			t.Errorf("%s at %q, want %q", tag, got, want)
		}
	}
}

func TestReadBackCatchesDroppedTag(t *testing.T) {
	// A registry that answers 201 to a tag PUT but keeps nothing.
	drop := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/stable") {
			w.WriteHeader(http.StatusCreated)
			return true
		}
		return false
	}
	host, _ := newRegistry(t, drop)
	src := pushIndex(t, host, "app", randomIndex(t))
	p := &Publisher{Retry: fast()}
	_, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{host + "/app"}, Tags: tagList("stable")})
	if err == nil || !strings.Contains(err.Error(), "reading back "+host+"/app:stable") {
		t.Errorf("err %v", err)
	}
}

const sentinel = "SENTINEL-token-9f8e7d"

// basicAuth requires user:token and echoes what it got in the 401 body,
// so a leak of the token into an error would show.
func basicAuth(user, token string) middleware {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") == want {
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials %s"}]}`, r.Header.Get("Authorization"))
		return true
	}
}

func TestAuth(t *testing.T) {
	a, _ := newRegistry(t)
	b, _ := newRegistry(t, basicAuth("bot", "right-token"))
	src := pushIndex(t, a, "app", randomIndex(t))
	req := Request{Source: src, Repos: []string{b + "/app"}, Tags: tagList("v1")}

	t.Run("no credential names the registry and the argument", func(t *testing.T) {
		p := &Publisher{Retry: fast(), AuthHint: "pass --registry-username and --registry-token for %s"}
		_, err := p.Publish(ctx(t), req)
		if err == nil || !strings.Contains(err.Error(), "registry "+b+" needs credentials (HTTP 401)") || !strings.Contains(err.Error(), "--registry-token for "+b) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("wrong token names the source and never the token", func(t *testing.T) {
		auth, err := NewAuth([]Credential{{Registry: b, Username: "bot", Token: sentinel, Source: "secret REGISTRY_TOKEN"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := &Publisher{Auth: auth, Retry: fast()}
		res, err := p.Publish(ctx(t), req)
		if err == nil {
			t.Fatal("wrong token accepted")
		}
		b64 := base64.StdEncoding.EncodeToString([]byte("bot:" + sentinel))
		msg := fmt.Sprintf("%v %+v %#v %v", err, res, auth, Credential{Token: sentinel})
		if strings.Contains(msg, sentinel) || strings.Contains(msg, b64) {
			t.Errorf("secret leaked: %s", msg)
		}
		if !strings.Contains(err.Error(), "registry "+b+" refused the credentials from secret REGISTRY_TOKEN (HTTP 401)") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("right token", func(t *testing.T) {
		auth, err := NewAuth([]Credential{{Registry: "http://" + b + "/", Username: "bot", Token: "right-token"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := &Publisher{Auth: auth, Retry: fast()}
		if _, err := p.Publish(ctx(t), req); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("docker config", func(t *testing.T) {
		cfg := fmt.Sprintf(`{"auths":{"https://%s/v1/":{"auth":%q}}}`, b, base64.StdEncoding.EncodeToString([]byte("bot:right-token")))
		auth, err := NewAuth(nil, []byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		if !auth.Has(b) {
			t.Fatalf("hosts %v", auth.Hosts())
		}
		p := &Publisher{Auth: auth, Retry: fast()}
		if _, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{b + "/app"}, Tags: tagList("v2")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("docker config with a credential helper", func(t *testing.T) {
		auth, err := NewAuth(nil, []byte(`{"credsStore":"desktop"}`))
		if err != nil {
			t.Fatal(err)
		}
		p := &Publisher{Auth: auth, Retry: fast()}
		_, err = p.Publish(ctx(t), req)
		if err == nil || !strings.Contains(err.Error(), "credential helper") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("docker config with wrong token is scrubbed", func(t *testing.T) {
		cfg := fmt.Sprintf(`{"auths":{%q:{"username":"bot","password":%q}}}`, b, sentinel)
		auth, err := NewAuth(nil, []byte(cfg))
		if err != nil {
			t.Fatal(err)
		}
		p := &Publisher{Auth: auth, Retry: fast()}
		_, err = p.Publish(ctx(t), req)
		if err == nil || strings.Contains(err.Error(), sentinel) || !strings.Contains(err.Error(), "docker config auths["+b+"]") {
			t.Errorf("err %v", err)
		}
	})
}

func TestAuthInputErrors(t *testing.T) {
	cases := []struct {
		creds []Credential
		cfg   string
		want  string
	}{
		{cfg: `{"auths": {"x": ` + sentinel, want: "docker config: not valid JSON (syntax error)"},
		{cfg: `{"auths": {"": {}}}`, want: `auths key ""`},
		{creds: []Credential{{Registry: "ghcr.io", Username: "u", Source: "--registry-token"}}, want: "--registry-token for ghcr.io: username and token are both required"},
		{creds: []Credential{{Registry: "bad host/x", Username: "u", Token: "t"}}, want: `registry "bad host/x" is not a host`},
		{creds: []Credential{{Registry: "", Username: "u", Token: "t"}}, want: "has no host"},
	}
	for _, c := range cases {
		_, err := NewAuth(c.creds, []byte(c.cfg))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), sentinel) {
			t.Errorf("NewAuth(%v, %s): %v, want %q", c.creds, c.cfg, err, c.want)
		}
	}
	// A docker config entry for a known registry is held to its username,
	// also inside "auth"; an entry for an unknown host is left alone.
	ecr := fmt.Sprintf(`{"auths":{"123456789012.dkr.ecr.eu-west-1.amazonaws.com":{"auth":%q},"registry.example.com":{"auth":%q}}}`,
		base64.StdEncoding.EncodeToString([]byte("ecr-user:"+sentinel)), base64.StdEncoding.EncodeToString([]byte("whoever:"+sentinel)))
	if _, err := NewAuth(nil, []byte(ecr)); err == nil || !strings.Contains(err.Error(), `docker config auths[123456789012.dkr.ecr.eu-west-1.amazonaws.com]: registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com is Amazon ECR, which takes the username "AWS", not "ecr-user"`) || strings.Contains(err.Error(), sentinel) {
		t.Errorf("docker config with a wrong ECR username: %v", err)
	}
	if _, err := NewAuth(nil, []byte(strings.Replace(ecr, base64.StdEncoding.EncodeToString([]byte("ecr-user:"+sentinel)), base64.StdEncoding.EncodeToString([]byte("AWS:"+sentinel)), 1))); err != nil {
		t.Errorf("docker config with AWS: %v", err)
	}
	a, err := NewAuth([]Credential{{Registry: "docker.io", Username: "u", Token: "tttt"}}, nil)
	if err != nil || !a.Has(name.DefaultRegistry) {
		t.Errorf("docker.io not mapped to %s: %v %v", name.DefaultRegistry, a.Hosts(), err)
	}
}

func TestInputErrors(t *testing.T) {
	host, _ := newRegistry(t)
	src := pushIndex(t, host, "app", randomIndex(t))
	p := &Publisher{Retry: fast()}
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Source: host + "/app:latest", Repos: []string{host + "/app"}, Tags: tagList("x")}, "want a reference by digest"},
		{Request{Source: src, Repos: []string{"myorg/app"}, Tags: tagList("x")}, "has no registry host"},
		{Request{Source: src, Repos: []string{"https://ghcr.io/org/app"}, Tags: tagList("x")}, "without a scheme"},
		{Request{Source: src, Repos: []string{"ghcr.io/org/app:1.0"}, Tags: tagList("x")}, "without a tag"},
		{Request{Source: src, Repos: []string{"ghcr.io/Org/App"}, Tags: tagList("x")}, `repository "ghcr.io/Org/App" is not valid`},
		{Request{Source: src, Repos: []string{"ghcr.io:port/app"}, Tags: tagList("x")}, "is not a host[:port]"},
		{Request{Source: src, Repos: []string{"ghcr.io/app@sha256:00"}, Tags: tagList("x")}, "without a digest"},
		{Request{Source: src, Repos: nil, Tags: tagList("x")}, "no repository to publish to"},
		{Request{Source: src, Repos: []string{host + "/app"}, Tags: tagList("bad/tag")}, `tag "bad/tag" is not a valid OCI tag`},
		{Request{Source: src, Repos: []string{host + "/app"}}, "no tags"},
	}
	for _, c := range cases {
		_, err := p.Publish(ctx(t), c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.req, err, c.want)
		}
	}
}

func TestUnreachableRegistry(t *testing.T) {
	a, _ := newRegistry(t)
	src := pushIndex(t, a, "app", randomIndex(t))
	p := &Publisher{Retry: fast()}
	// port 1 on loopback: connection refused
	_, err := p.Publish(ctx(t), Request{Source: src, Repos: []string{"127.0.0.1:1/app"}, Tags: tagList("x")})
	if err == nil || !strings.Contains(err.Error(), "cannot reach registry 127.0.0.1:1") {
		t.Errorf("err %v", err)
	}
}

func TestSingleImageSource(t *testing.T) {
	host, _ := newRegistry(t)
	idx := randomIndex(t)
	m, _ := idx.IndexManifest()
	img, _ := idx.Image(m.Manifests[0].Digest)
	r, _ := name.NewDigest(fmt.Sprintf("%s/app@%s", host, m.Manifests[0].Digest))
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	p := &Publisher{Retry: fast()}
	res, err := p.Publish(ctx(t), Request{Source: r.String(), Repos: []string{host + "/app"}, Tags: tagList("one"),
		Annotations: map[string]string{"org.opencontainers.image.version": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Image(mustTag(t, host+"/app:one"))
	if err != nil {
		t.Fatal(err)
	}
	gm, _ := got.Manifest()
	if gm.Annotations["org.opencontainers.image.version"] != "1" || res.Digest == m.Manifests[0].Digest.String() {
		t.Errorf("annotations %v digest %s", gm.Annotations, res.Digest)
	}
	var _ v1.Image = got
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	r, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
