package publish

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/gitmeta"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/tags"
)

// These tests check the GraphQL queries the glue sends (through the
// recording connection), not an engine run. Where the glue then talks to
// a registry itself, that registry is real (in-process, 127.0.0.1).

func variants(client *dagger.Client) []*dagger.Container {
	var out []*dagger.Container
	for _, p := range []dagger.Platform{"linux/amd64", "linux/arm64"} {
		out = append(out, client.Container(dagger.ContainerOpts{Platform: p}).From("example.invalid/app-base"))
	}
	return out
}

// resolvesAs makes this process resolve service hostnames (module code in
// the engine's network) or not (a process on the engine's host).
func resolvesAs(t *testing.T, ok bool) {
	old := resolves
	resolves = func(context.Context, string) bool { return ok }
	t.Cleanup(func() { resolves = old })
}

func TestQueryStartRegistryStartsPinnedImageAndReadsEndpoint(t *testing.T) {
	resolvesAs(t, true)
	client, conn := daggertest.New(t, daggertest.On("start", "svc1"), daggertest.On("endpoint", "reg.svc.internal:5000"))
	e, err := StartRegistry(t.Context(), client, images.MustDefault())
	if err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `container{from(address:"`+images.MustDefault().Ref(images.Registry)+`")`, `withExposedPort(port:5000)`, `asService{start}`)
	conn.AssertQueried(t, `node(id:"svc1"){... on Service{endpoint(port:5000)}}`)
	if strings.Index(conn.All(), "start") > strings.Index(conn.All(), "endpoint") {
		t.Error("endpoint asked before start")
	}
	if e.Endpoint != "reg.svc.internal:5000" || e.Address != "localhost:5000" {
		t.Errorf("%+v", e)
	}
	got, err := e.ForModule("localhost:5000/paved/app:1.0.0@sha256:" + strings.Repeat("a", 64))
	if err != nil || got != "reg.svc.internal:5000/paved/app@sha256:"+strings.Repeat("a", 64) {
		t.Errorf("ForModule = %q, %v", got, err)
	}
	if _, err := e.ForModule("ghcr.io/x@sha256:" + strings.Repeat("a", 64)); err == nil {
		t.Error("ForModule accepted a reference outside the embedded registry")
	}
}

// Outside the engine's network (paved as a library under `dagger run`, the
// engine tests) the service hostname does not resolve: the registry is
// reached through a tunnel from the host, and that is the endpoint used.
func TestQueryStartRegistryTunnelsWhenTheServiceHostnameDoesNotResolve(t *testing.T) {
	resolvesAs(t, false)
	client, conn := daggertest.New(t, func(l daggertest.Leaf) (any, bool) {
		tunnel := strings.Contains(strings.Join(l.Path, "/"), "tunnel")
		switch {
		case l.Name() == "start" && tunnel:
			return "tun1", true
		case l.Name() == "start":
			return "svc1", true
		case l.Name() == "endpoint" && l.LastArg("port") == "":
			return "localhost:40123", true
		case l.Name() == "endpoint":
			return "reg.svc.internal:5000", true
		}
		return nil, false
	})
	e, err := StartRegistry(t.Context(), client, images.MustDefault())
	if err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `host{tunnel(service:"id1:node(id:\"svc1\")"){start}}`)
	conn.AssertQueried(t, `node(id:"tun1"){... on Service{endpoint}}`)
	if e.Endpoint != "localhost:40123" || e.Address != "localhost:5000" {
		t.Errorf("%+v", e)
	}
	got, err := e.ForModule("localhost:5000/paved/app:1.0.0@sha256:" + strings.Repeat("a", 64))
	if err != nil || got != "localhost:40123/paved/app@sha256:"+strings.Repeat("a", 64) {
		t.Errorf("ForModule = %q, %v", got, err)
	}
}

func TestQueryPushVariantsSendsOnePublishWithAllVariantsAndAuth(t *testing.T) {
	digest := "sha256:" + strings.Repeat("b", 64)
	client, conn := daggertest.New(t, daggertest.On("publish", "ghcr.io/org/app:sha-0123456@"+digest))
	sec := client.Secret("env://REGISTRY_TOKEN")
	ref, err := PushVariants(t.Context(), client, variants(client), "ghcr.io/org/app:sha-0123456",
		[]RegistryAuth{{Registry: "ghcr.io", Username: "bot", Secret: sec}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(ref, digest) {
		t.Errorf("ref %q", ref)
	}
	q := conn.AssertQueried(t,
		`withRegistryAuth(address:"ghcr.io", secret:"id`, `secret(uri:\"env://REGISTRY_TOKEN\")", username:"bot")`,
		`publish(address:"ghcr.io/org/app:sha-0123456", platformVariants:["id`,
		`container(platform:\"linux/amd64\").from(address:\"example.invalid/app-base\")`,
		`container(platform:\"linux/arm64\").from(address:\"example.invalid/app-base\")`)
	if strings.Contains(q, "registryService") {
		t.Errorf("registryService sent without a service: %s", q)
	}
	if n := len(conn.Matching("publish(")); n != 1 {
		t.Errorf("%d publish queries, want 1", n)
	}
	if _, err := PushVariants(t.Context(), client, nil, "ghcr.io/org/app:x", nil, nil); err == nil {
		t.Error("no variants accepted")
	}
}

func TestQueryTarballExportsAllVariants(t *testing.T) {
	client, conn := daggertest.New(t, daggertest.On("size", 1234))
	if _, err := Tarball(client, variants(client)).Size(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `container{asTarball(platformVariants:["id`, `linux/amd64`, `linux/arm64`, `{size}`)
}

// authedRegistry is a real registry needing bot:<token>.
func authedRegistry(t *testing.T, token string) (string, *counter) {
	return newRegistry(t, basicAuth("bot", token))
}

func pushAuthed(t *testing.T, host, repo, token string) string {
	t.Helper()
	idx := randomIndex(t)
	d, _ := idx.Digest()
	r, _ := name.NewDigest(fmt.Sprintf("%s/%s@%s", host, repo, d))
	if err := remote.WriteIndex(r, idx, remote.WithAuth(&authn.Basic{Username: "bot", Password: token})); err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func headAuthed(t *testing.T, host, repo, tag, token string) string {
	t.Helper()
	r, _ := name.NewTag(fmt.Sprintf("%s/%s:%s", host, repo, tag))
	d, err := remote.Head(r, remote.WithAuth(&authn.Basic{Username: "bot", Password: token}))
	if err != nil {
		if isNotFound(err) {
			return ""
		}
		t.Fatal(err)
	}
	return d.Digest.String()
}

const moduleToken = "SENTINEL-module-token-5a4b"

func TestQueryPublishDirectPushesToANewReleaseTagThenTagsFromTheModule(t *testing.T) {
	host, c := authedRegistry(t, moduleToken)
	old := pushAuthed(t, host, "org/app", moduleToken)
	r, _ := name.NewTag(host + "/org/app:latest")
	oldDesc, _ := remote.Get(r.Context().Digest(old), remote.WithAuth(&authn.Basic{Username: "bot", Password: moduleToken}))
	if err := remote.Tag(r, oldDesc, remote.WithAuth(&authn.Basic{Username: "bot", Password: moduleToken})); err != nil {
		t.Fatal(err)
	}
	// What the engine would have pushed: the index, by digest.
	digest := pushAuthed(t, host, "org/app", moduleToken)
	client, conn := daggertest.New(t,
		daggertest.On("plaintext", moduleToken),
		daggertest.On("publish", host+"/org/app:1.2.3@"+digest))
	c.reset()
	res, err := Publish(t.Context(), client, variants(client), Options{
		Repos: []string{host + "/org/app"},
		Tags:  tagList("latest", "1.2", "1.2.3!", "sha-0123456!"),
		Auth:  []RegistryAuth{{Registry: host, Username: "bot", Secret: client.Secret("env://REGISTRY_TOKEN"), Source: "--registry-token"}},
		Retry: fast(),
	})
	if err != nil {
		t.Fatal(err)
	}
	// the engine pushes to the first tag that does not exist, a release
	conn.AssertQueried(t, `withRegistryAuth(address:"`+host+`"`, `publish(address:"`+host+`/org/app:1.2.3", platformVariants:[`)
	conn.AssertQueried(t, `secret(uri:"env://REGISTRY_TOKEN"){plaintext}`)
	conn.AssertNotQueried(t, moduleToken)
	if res.Digest != digest || len(res.Written) != 4 {
		t.Fatalf("%+v", res)
	}
	for _, w := range res.Written {
		if got := headAuthed(t, host, "org/app", w.Tag, moduleToken); got != digest {
			t.Errorf("%s at %s", w.Tag, got)
		}
		if w.Tag == "latest" && (w.Action != Moved || w.Previous != old) {
			t.Errorf("latest: %+v", w)
		}
	}
	if n := uploads(c); n != 0 {
		t.Errorf("module uploaded %d blob requests; only the engine pushes layers", n)
	}
}

func TestQueryPublishWithEveryTagAReleaseThatExistsPushesNothing(t *testing.T) {
	host, _ := newRegistry(t)
	tagAt(t, host, "app", "1.0.0", randomIndex(t))
	tagAt(t, host, "app", "sha-0123456", randomIndex(t))
	client, conn := daggertest.New(t)
	_, err := Publish(t.Context(), client, variants(client), Options{Repos: []string{host + "/app"}, Tags: tagList("1.0.0!", "sha-0123456!"), Retry: fast()})
	if !errors.Is(err, ErrAlreadyPublished) || !strings.Contains(err.Error(), "nothing was pushed") {
		t.Errorf("err %v", err)
	}
	conn.AssertNotQueried(t, "publish(")
}

func TestQueryPublishStagedChecksReleasesBeforeWritingTargets(t *testing.T) {
	staging, _ := newRegistry(t)
	target, ct := authedRegistry(t, moduleToken)
	digest := pushIndex(t, staging, "paved/app", randomIndex(t))
	digest = digest[strings.Index(digest, "@")+1:]
	oldRelease := pushAuthed(t, target, "org/app", moduleToken)
	tr, _ := name.NewTag(target + "/org/app:2.0.0")
	auth := remote.WithAuth(&authn.Basic{Username: "bot", Password: moduleToken})
	od, _ := remote.Get(tr.Context().Digest(oldRelease), auth)
	if err := remote.Tag(tr, od, auth); err != nil {
		t.Fatal(err)
	}

	answers := []daggertest.Answer{
		daggertest.On("start", "svc1"),
		daggertest.On("endpoint", staging),
		daggertest.On("plaintext", moduleToken),
		daggertest.On("publish", "localhost:5000/paved/app:2.0.0@"+digest),
	}
	client, conn := daggertest.New(t, answers...)
	emb, err := StartRegistry(t.Context(), client, images.MustDefault())
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Repos:       []string{target + "/org/app"},
		Tags:        tagList("2.0.0!", "latest"),
		Auth:        []RegistryAuth{{Registry: target, Username: "bot", Secret: client.Secret("env://T"), Source: "--registry-token"}},
		Annotations: map[string]string{"org.opencontainers.image.version": "2.0.0"},
		Retry:       fast(),
		Staging:     emb,
	}
	ct.reset()
	_, err = Publish(t.Context(), client, variants(client), opts)
	if err == nil || !strings.Contains(err.Error(), oldRelease) {
		t.Fatalf("release conflict not refused: %v", err)
	}
	conn.AssertQueried(t, `publish(address:"localhost:5000/paved-staging/app:2.0.0", platformVariants:[`, `registryService:"id`, `node(id:\"svc1\")`)
	if n := ct.get("manifest-put") + uploads(ct); n != 0 {
		t.Errorf("target written %d times before the conflict was found", n)
	}
	if got := headAuthed(t, target, "org/app", "latest", moduleToken); got != "" {
		t.Errorf("latest written: %s", got)
	}

	// A second target repository without the release gets the copy.
	opts.Repos = []string{target + "/org/app2"}
	res, err := Publish(t.Context(), client, variants(client), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest == digest {
		t.Error("annotations not applied")
	}
	if got := headAuthed(t, target, "org/app2", "2.0.0", moduleToken); got != res.Digest {
		t.Errorf("2.0.0 at %q, want %s", got, res.Digest)
	}
	conn.AssertNotQueried(t, moduleToken)
}

func TestIndexAnnotationsKeepsOnlyOCIKeys(t *testing.T) {
	got := IndexAnnotations(map[string]string{
		"org.opencontainers.image.revision": "abc", "org.opencontainers.image.source": "",
		"com.example.team": "x", "org.opencontainers.image.version": "1.0.0",
	})
	if len(got) != 2 || got["org.opencontainers.image.revision"] != "abc" || got["org.opencontainers.image.version"] != "1.0.0" {
		t.Errorf("%v", got)
	}
}

func TestPushTagChoice(t *testing.T) {
	ts := tagList("latest", "1.2", "1.2.3!", "sha-1!")
	for _, c := range []struct {
		existing map[string]string
		allow    bool
		want     string
	}{
		{map[string]string{}, false, "1.2.3"},
		{map[string]string{"1.2.3": "d"}, false, "sha-1"},
		{map[string]string{"1.2.3": "d", "sha-1": "d"}, false, "latest"},
		{map[string]string{"1.2.3": "d", "sha-1": "d", "latest": "d"}, false, "1.2"},
		{map[string]string{"1.2.3": "d", "sha-1": "d", "latest": "d", "1.2": "d"}, false, "latest"},
	} {
		got, err := pushTag(ts, c.existing, c.allow)
		if err != nil || got != c.want {
			t.Errorf("existing %v: %q %v, want %q", c.existing, got, err, c.want)
		}
	}
	all := map[string]string{"a": "d", "b": "d"}
	if _, err := pushTag(tagList("a!", "b!"), all, false); !errors.Is(err, ErrAlreadyPublished) {
		t.Errorf("err %v", err)
	}
	if got, err := pushTag(tagList("a!", "b!"), all, true); err != nil || got != "a" {
		t.Errorf("allow overwrite: %q %v", got, err)
	}
}

func TestQueryStageDefaultPublishesToTheEmbeddedRegistryWithMirroredLabels(t *testing.T) {
	emb, c := newRegistry(t) // stands in for the started registry service
	src := pushIndex(t, emb, "paved/hello", randomIndex(t))
	digest := src[strings.Index(src, "@")+1:]
	commit := "0123456789abcdef0123456789abcdef01234567"
	labels := func(l daggertest.Leaf) (any, bool) {
		if l.Name() != "label" {
			return nil, false
		}
		switch strings.Trim(l.Arg(-1, "name"), `"`) {
		case "org.opencontainers.image.revision":
			return commit, true
		case "org.opencontainers.image.version":
			return "1.0.0", true
		}
		return "", true
	}
	client, conn := daggertest.New(t, labels, platformAnswer,
		daggertest.On("start", "svc1"),
		daggertest.On("endpoint", emb),
		daggertest.On("publish", "localhost:5000/paved/hello:1.0.0@"+digest))
	st := pipeline.NewState(client, client.Directory(), images.MustDefault(), gitmeta.Info{Commit: commit, ExactTags: []string{"v1.0.0"}, Tags: []string{"v1.0.0"}})
	st.Variants = variants(client)
	c.reset()
	if err := pipeline.Run(t.Context(), []pipeline.Stage{Stage{Opts: ShipOptions{Name: "hello", Tags: tags.Options{Extra: []string{"demo"}}}}}, st); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `publish(address:"localhost:5000/paved-staging/hello:1.0.0", platformVariants:[`, `registryService:"id`, `node(id:\"svc1\")`)
	conn.AssertQueried(t, `label(name:"org.opencontainers.image.revision")`)
	img := st.Results.Image
	if img == nil || !img.Ephemeral || img.Digest == digest || img.Ref != "localhost:5000/paved/hello@"+img.Digest {
		t.Fatalf("results image %+v (pushed %s)", img, digest)
	}
	want := []string{"1.0.0", "sha-0123456", "1.0", "1", "latest", "demo"}
	if len(img.Tags) != len(want) {
		t.Errorf("tags %v", img.Tags)
	}
	for _, ref := range img.Tags {
		if !strings.HasPrefix(ref, "localhost:5000/paved/hello:") {
			t.Errorf("tag ref %q is not the engine's address of the embedded registry", ref)
		}
	}
	if strings.Join(img.Platforms, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("platforms %v", img.Platforms)
	}
	if st.Results.Stages[0].Status != results.Passed {
		t.Errorf("stage record %+v", st.Results.Stages)
	}
	for _, tag := range want {
		if got := digestOf(t, emb, "paved/hello", tag); got != img.Digest {
			t.Errorf("%s at %q, want %s", tag, got, img.Digest)
		}
	}
	r, _ := name.NewTag(emb + "/paved/hello:latest")
	d, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := d.ImageIndex()
	im, _ := m.IndexManifest()
	if im.Annotations["org.opencontainers.image.revision"] != commit || im.Annotations["org.opencontainers.image.version"] != "1.0.0" || len(im.Annotations) != 2 {
		t.Errorf("index annotations %v", im.Annotations)
	}
	if n := uploads(c); n != 0 {
		t.Errorf("%d blob uploads in the embedded registry from the module", n)
	}
}

// platformAnswer answers Container.platform with the platform the
// variant was created for.
func platformAnswer(l daggertest.Leaf) (any, bool) {
	if l.Name() != "platform" {
		return nil, false
	}
	return strings.Trim(l.Arg(0, "platform"), `"`), true
}

func TestStageSkipsWithoutVariants(t *testing.T) {
	skip, why := Stage{}.Skip(&pipeline.State{})
	if !skip || why == "" {
		t.Errorf("skip %v %q", skip, why)
	}
}
