package golden

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/paved-ci/paved/internal/fulciotest"
	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/images"
	"github.com/paved-ci/paved/pipelines/publish"
	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/sign"
)

// TestQueryShipPublishesAndSignsTheBuiltImage runs ship with the engine's
// part answered by the recording connection and a real registry (in this
// process) standing in for the embedded one: the engine's push is
// answered with an index already in that registry, so publish tags it
// and sign signs it for real; verify then checks the signature with the
// returned ephemeral public key. Queries are checked, not a run.
func TestQueryShipPublishesAndSignsTheBuiltImage(t *testing.T) {
	var mu sync.Mutex
	var puts []string // manifest writes, in order
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			mu.Lock()
			puts = append(puts, r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
			mu.Unlock()
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	d, as := stagedIndex(t, host)
	client, conn := daggertest.New(t, as...)
	// cosign runs on this machine: the recording engine runs no container
	out, err := Ship(t.Context(), client, client.Directory(), images.MustDefault(), ShipOptions{Sign: sign.Inputs{Cosign: sign.LocalRunner{}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range out.State.Results.Stages {
		got = append(got, s.Name+":"+string(s.Status))
	}
	if strings.Join(got, " ") != "build:passed lint:skipped test:passed scan:passed sign:passed publish:passed" {
		t.Errorf("stages %s", strings.Join(got, " "))
	}
	if f := out.State.Results.Findings; f["HIGH"] != 3 {
		t.Errorf("findings %v, want the report's 3 HIGH", f)
	}
	img := out.State.Results.Image
	if img == nil || !img.Ephemeral || img.Digest != d.String() || img.Signature == "" {
		t.Fatalf("results image %+v", img)
	}
	// the signature is recorded in the image's own address form
	if repo, _, _ := strings.Cut(img.Ref, "@"); !strings.HasPrefix(img.Signature, repo+":sha256-") {
		t.Errorf("signature %s is not beside image %s", img.Signature, img.Ref)
	}
	conn.AssertQueried(t, `publish(address:"localhost:5000/paved-staging/paved:`, `registryService:"`)
	if out.Signature == nil || out.Signature.Mode != sign.ModeEphemeral || out.Signature.PublicKey == "" {
		t.Fatalf("signature %+v", out.Signature)
	}
	// the signature really is in the registry, by the published digest
	// ... with the scan's SBOM, the scan itself and provenance attested
	pol := sign.Policy{PublicKey: []byte(out.Signature.PublicKey), Require: []string{"cyclonedx", "vuln", "slsaprovenance1"}}
	v, err := sign.Verify(t.Context(), host+"/paved/paved@"+d.String(), pol, sign.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Passed {
		t.Errorf("verify refused what ship signed: %+v", v.Checks)
	}
	if !out.State.Results.Passed() {
		t.Error("results say failed")
	}
	if out.State.Results.Stages[5].Status != results.Passed || len(img.Tags) == 0 {
		t.Errorf("publish %+v, tags %v", out.State.Results.Stages[5], img.Tags)
	}
	// no tag was written before the signature: sign precedes publish
	sig, firstTag := -1, -1
	for i, p := range puts {
		switch {
		case strings.HasSuffix(p, ".sig") && sig < 0:
			sig = i
		case strings.HasPrefix(p, "sha-") && firstTag < 0:
			firstTag = i
		}
	}
	if sig < 0 || firstTag < 0 || sig > firstTag {
		t.Errorf("signature written at %d, first image tag at %d: %v", sig, firstTag, puts)
	}
}

// TestQueryShipSignsInTheCosignImageWithTheRegistryBound: a keyless
// ship runs cosign's image with the embedded registry bound under an
// alias, the image named by that alias, and the OIDC token as a secret
// file. A key or ephemeral ship signs in process: no cosign container.
func TestQueryShipSignsInTheCosignImageWithTheRegistryBound(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	tok := fulciotest.JWT(map[string]string{"iss": "https://issuer.example", "sub": "repo:acme/app", "email": "ci@example.com"})
	d, as := stagedIndex(t, host)
	client, conn := daggertest.New(t, append(as, daggertest.On("plaintext", tok))...)
	imgs, err := images.New(images.Options{Override: map[string]string{images.Cosign: "mirror.example/cosign:v2.6.5"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Ship(t.Context(), client, client.Directory(), imgs, ShipOptions{}); err != nil {
		t.Fatal(err)
	}
	conn.AssertNotQueried(t, `from(address:"mirror.example/cosign:v2.6.5")`)

	keyless := ShipOptions{Sign: sign.Inputs{IDToken: client.SetSecret("oidc", "unused: answered by plaintext"), FulcioURL: "https://fulcio.example"}}
	if _, err := Ship(t.Context(), client, client.Directory(), imgs, keyless); err != nil {
		t.Fatal(err)
	}
	q := conn.AssertQueried(t, `from(address:"mirror.example/cosign:v2.6.5")`, `withServiceBinding(alias:"paved-registry"`,
		`withExec(args:["cosign","sign","--identity-token","/paved/oidc-token","--fulcio-url","https://fulcio.example"`,
		`"--allow-insecure-registry","--allow-http-registry","--yes","paved-registry:5000/paved/paved@`+d.String()+`"]`)
	// the token reaches the engine only as a secret's plaintext
	outside := regexp.MustCompile(`setSecret\(name:[^)]*\)`).ReplaceAllString(q, "")
	if !strings.Contains(q, `withMountedSecret(path:"/paved/oidc-token"`) || strings.Contains(outside, tok) {
		t.Errorf("the token is not a secret file of the sign exec:\n%.600s", q)
	}
}

// stagedIndex puts a random index in the registry at host as the engine's
// push would, and answers the engine's part of a ship run with it.
func stagedIndex(t *testing.T, host string) (v1.Hash, []daggertest.Answer) {
	t.Helper()
	idx, err := random.Index(256, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/paved/paved:staged")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return d, append([]daggertest.Answer{
		daggertest.On("start", "svc1"),
		daggertest.On("endpoint", host),
		daggertest.On("publish", "localhost:5000/paved/paved:staged@"+d.String()),
	}, answers(t, true)...)
}

// TestQueryShipStopsAtAFailingGate: without the exceptions the fixture's
// HIGH findings fail the scan gate, and nothing is published or signed.
func TestQueryShipStopsAtAFailingGate(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	as := append([]daggertest.Answer{daggertest.On("start", "svc1"), daggertest.On("endpoint", host)}, answers(t)...)
	client, conn := daggertest.New(t, as...)
	out, err := Ship(t.Context(), client, client.Directory(), images.MustDefault(), ShipOptions{Options: Options{ContinueOnFailure: true}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range out.State.Results.Stages {
		got = append(got, s.Name+":"+string(s.Status))
	}
	if strings.Join(got, " ") != "build:passed lint:skipped test:passed scan:failed sign:skipped publish:skipped" {
		t.Errorf("stages %s", strings.Join(got, " "))
	}
	if out.Err == nil || !strings.Contains(out.Err.Error(), "CVE-2025-26519") {
		t.Errorf("gate failure does not name the finding: %v", out.Err)
	}
	conn.AssertNotQueried(t, "publish(address:")
	if out.State.Results.Image != nil {
		t.Errorf("an image was recorded: %+v", out.State.Results.Image)
	}
}

func TestShipRefusesAForbiddenSkip(t *testing.T) {
	client, _ := daggertest.New(t, answers(t)...)
	_, err := Ship(t.Context(), client, client.Directory(), images.MustDefault(), ShipOptions{
		Options: Options{Skip: []string{"sign"}, ForbidSkip: []string{"sign", "scan"}},
		Publish: shipToRepo("registry.example.com/acme/app"),
	})
	if err == nil || !strings.Contains(err.Error(), `skip "sign": platform policy requires`) {
		t.Errorf("err %v", err)
	}
	// the platform policy file says so too
	opts := Options{Skip: []string{"scan"}}
	opts.Scan.Platform = []byte("mandatedStages: [scan]\n")
	if _, err := Check(t.Context(), client, client.Directory(), images.MustDefault(), opts); err == nil || !strings.Contains(err.Error(), `skip "scan": platform policy requires`) {
		t.Errorf("platform policy's mandatedStages not applied: %v", err)
	}
}

func shipToRepo(repo string) (o publish.ShipOptions) {
	o.Repos = []string{repo}
	return o
}
