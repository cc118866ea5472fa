package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
)

func TestSignAndVerifyWithKey(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "team/app", "v1")
	res := signAll(t, tr, d, k)

	if res.Mode != ModeKey || res.Note != "" || res.PublicKey != string(k.pub) {
		t.Fatalf("result mode %q note %q pub matches %v", res.Mode, res.Note, res.PublicKey == string(k.pub))
	}
	hex := strings.TrimPrefix(d.DigestStr(), "sha256:")
	if res.SignatureTag != tr.Host+"/team/app:sha256-"+hex+".sig" || res.AttestationTag != tr.Host+"/team/app:sha256-"+hex+".att" {
		t.Fatalf("tags %s %s", res.SignatureTag, res.AttestationTag)
	}
	if !tr.exists(t, res.SignatureTag) || !tr.exists(t, res.AttestationTag) {
		t.Fatal("signature or attestation tag not pushed")
	}

	// The attestation manifest holds one DSSE layer per predicate type.
	img, err := remote.Image(mustRef(t, res.AttestationTag))
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, l := range m.Layers {
		if l.MediaType != "application/vnd.dsse.envelope.v1+json" {
			t.Errorf("layer media type %s", l.MediaType)
		}
		got[l.Annotations["predicateType"]] = true
	}
	for _, want := range []string{PredicateCycloneDX, PredicateVuln, PredicateProvenance} {
		if !got[want] {
			t.Errorf("attestation %s missing; have %v", want, got)
		}
	}

	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: allTypes, MaxSeverity: "HIGH"}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Passed || v.Err() != nil {
		t.Fatalf("verdict refused: %v", v.Err())
	}
	if len(v.Checks) != 6 { // digest, signature, 3 attestations, vulnerabilities
		t.Fatalf("checks: %+v", v.Checks)
	}
	if v.Digest != d.DigestStr() || v.Ref != d.String() {
		t.Fatalf("verdict digest %s ref %s", v.Digest, v.Ref)
	}

	// By tag: resolved to the same digest, same answer.
	v, err = Verify(context.Background(), tr.Host+"/team/app:v1", Policy{PublicKey: k.pub, Require: allTypes, Digest: d.DigestStr()}, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("by tag: %v %v", err, v.Err())
	}
}

func TestProvenanceContent(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	signAll(t, tr, d, k)
	st := fetchStatement(t, d, PredicateProvenance)
	var p struct {
		BuildDefinition struct {
			BuildType            string         `json:"buildType"`
			ExternalParameters   map[string]any `json:"externalParameters"`
			ResolvedDependencies []struct {
				URI    string            `json:"uri"`
				Name   string            `json:"name"`
				Digest map[string]string `json:"digest"`
			} `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
		RunDetails struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
			Metadata struct {
				InvocationID string `json:"invocationID"`
			} `json:"metadata"`
			Byproducts []struct {
				URI string `json:"uri"`
			} `json:"byproducts"`
		} `json:"runDetails"`
	}
	if err := json.Unmarshal(st.Predicate, &p); err != nil {
		t.Fatal(err)
	}
	if p.RunDetails.Builder.ID != "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main" {
		t.Errorf("builder %q", p.RunDetails.Builder.ID)
	}
	if len(p.BuildDefinition.ResolvedDependencies) != 2 ||
		p.BuildDefinition.ResolvedDependencies[0].Digest["gitCommit"] != "0123456789abcdef0123456789abcdef01234567" ||
		p.BuildDefinition.ResolvedDependencies[0].URI != "git+https://github.com/acme/app@refs/heads/main" {
		t.Errorf("dependencies %+v", p.BuildDefinition.ResolvedDependencies)
	}
	if len(p.RunDetails.Byproducts) != 1 || p.RunDetails.Byproducts[0].URI != "https://github.com/acme/app/actions/runs/42" {
		t.Errorf("run URL %+v", p.RunDetails.Byproducts)
	}
	if p.BuildDefinition.ExternalParameters["parameters"] == nil || p.BuildDefinition.BuildType != DefaultBuildType {
		t.Errorf("parameters %+v type %s", p.BuildDefinition.ExternalParameters, p.BuildDefinition.BuildType)
	}
	if !st.about(d.DigestStr()) {
		t.Errorf("subject is not the image")
	}
}

func fetchStatement(t *testing.T, d name.Digest, predicateType string) statementView {
	t.Helper()
	tag, err := ociremote.AttestationTag(d)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := ociremote.Signatures(tag)
	if err != nil {
		t.Fatal(err)
	}
	list, err := sigs.Get()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		p, err := s.Payload()
		if err != nil {
			t.Fatal(err)
		}
		st, err := decodeStatement(p)
		if err == nil && st.PredicateType == predicateType {
			return st
		}
	}
	t.Fatalf("no %s statement", predicateType)
	return statementView{}
}

func TestProvenanceFromEnv(t *testing.T) {
	gh := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/app",
		"GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_SHA": "abc", "GITHUB_REF": "refs/tags/v1.0.0",
		"GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/ci.yml@refs/tags/v1.0.0",
	}
	p := ProvenanceFromEnv(Provenance{Commit: "keep"}, func(k string) string { return gh[k] })
	if p.RunURL != "https://github.com/acme/app/actions/runs/7/attempts/2" || p.Commit != "keep" || p.Ref != "refs/tags/v1.0.0" ||
		p.BuilderID != "https://github.com/acme/app/.github/workflows/ci.yml@refs/tags/v1.0.0" || p.SourceRepo != "https://github.com/acme/app" {
		t.Errorf("github: %+v", p)
	}
	gl := map[string]string{
		"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.com/acme/app/-/jobs/9", "CI_PROJECT_URL": "https://gitlab.com/acme/app",
		"CI_COMMIT_SHA": "def", "CI_COMMIT_REF_NAME": "main", "CI_CONFIG_PATH": ".gitlab-ci.yml",
	}
	p = ProvenanceFromEnv(Provenance{}, func(k string) string { return gl[k] })
	if p.RunURL != "https://gitlab.com/acme/app/-/jobs/9" || p.Commit != "def" || p.SourceRepo != "https://gitlab.com/acme/app" ||
		p.BuilderID != "https://gitlab.com/acme/app/-/blob/def/.gitlab-ci.yml" {
		t.Errorf("gitlab: %+v", p)
	}
	if p := ProvenanceFromEnv(Provenance{}, func(string) string { return "" }); p.RunURL != "" || p.BuilderID != "" {
		t.Errorf("no CI: %+v", p)
	}
}

func TestEphemeralKey(t *testing.T) {
	tr := newRegistry(t)
	d := tr.pushRandom(t, "app", "v1")
	res, err := SignWith(context.Background(), Credentials{}, Request{Image: d.String(), SBOM: []byte(testSBOM), Registry: fastRegistry})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeEphemeral || res.Note != EphemeralNote || !strings.Contains(res.PublicKey, "BEGIN PUBLIC KEY") {
		t.Fatalf("ephemeral result %+v", res)
	}
	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: []byte(res.PublicKey), Require: []string{"cyclonedx"}}, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("ephemeral verify: %v %v", err, v.Err())
	}
	// A second ephemeral run has another key.
	res2, err := SignWith(context.Background(), Credentials{}, Request{Image: d.String(), Registry: fastRegistry})
	if err != nil {
		t.Fatal(err)
	}
	if res2.PublicKey == res.PublicKey {
		t.Fatal("ephemeral keys repeat")
	}
}

func TestVerifyRefusesUnsigned(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: []string{"cyclonedx"}}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if v.Passed {
		t.Fatal("unsigned image passed")
	}
	c, _ := checkByName(v, "signature")
	if c.Passed || !strings.Contains(c.Reason, "no signatures found") {
		t.Fatalf("signature check %+v", c)
	}
	c, _ = checkByName(v, "attestation cyclonedx")
	if c.Passed || !strings.Contains(c.Reason, "missing") {
		t.Fatalf("attestation check %+v", c)
	}
	if err := v.Err(); err == nil || !strings.Contains(err.Error(), "signature:") {
		t.Fatalf("Err: %v", err)
	}
}

func TestVerifyRefusesOtherKey(t *testing.T) {
	tr := newRegistry(t)
	k, other := newKey(t, "pw"), newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	signAll(t, tr, d, other)
	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: allTypes}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if v.Passed {
		t.Fatal("signature by another key passed")
	}
	for _, n := range []string{"signature", "attestation cyclonedx", "attestation vuln", "attestation slsaprovenance1"} {
		c, ok := checkByName(v, n)
		if !ok || c.Passed {
			t.Errorf("%s: %+v", n, c)
		}
	}
	c, _ := checkByName(v, "attestation vuln")
	if !strings.Contains(c.Reason, "present but not valid") {
		t.Errorf("reason: %s", c.Reason)
	}
}

func TestVerifyRefusesMovedTag(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	a := tr.pushRandom(t, "app", "prod")
	signAll(t, tr, a, k)
	// The tag now points at another image, signed with the same key too.
	b := tr.pushRandom(t, "app", "prod")
	signAll(t, tr, b, k)

	v, err := Verify(context.Background(), tr.Host+"/app:prod", Policy{PublicKey: k.pub, Require: allTypes, Digest: a.DigestStr()}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if v.Passed {
		t.Fatal("moved tag passed")
	}
	c, _ := checkByName(v, "digest")
	if c.Passed || !strings.Contains(c.Reason, b.DigestStr()) || !strings.Contains(c.Reason, a.DigestStr()) {
		t.Fatalf("digest check %+v", c)
	}
	if v.Digest != b.DigestStr() {
		t.Fatalf("verdict digest %s, want what the tag resolves to %s", v.Digest, b.DigestStr())
	}
	// Pinned by digest in the reference, the first image still passes.
	v, err = Verify(context.Background(), a.String(), Policy{PublicKey: k.pub, Require: allTypes}, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("by digest: %v %v", err, v.Err())
	}
}

func TestVerifyRefusesForeignSubject(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	a := tr.pushRandom(t, "app", "a")
	b := tr.pushRandom(t, "app", "b")
	// Sign both with an SBOM, then put b's attestations (statements about
	// b, signed with the trusted key) under a's attestation tag.
	for _, d := range []name.Digest{a, b} {
		if _, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), SBOM: []byte(testSBOM), Registry: fastRegistry}); err != nil {
			t.Fatal(err)
		}
	}
	bAtt, err := remote.Image(b.Repository.Tag(tagFor(b, "att")))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(a.Repository.Tag(tagFor(a, "att")), bAtt); err != nil {
		t.Fatal(err)
	}

	v, err := Verify(context.Background(), a.String(), Policy{PublicKey: k.pub, Require: []string{"cyclonedx"}}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := checkByName(v, "signature")
	c, _ := checkByName(v, "attestation cyclonedx")
	if v.Passed || !sig.Passed || c.Passed || !strings.Contains(c.Reason, "present but not valid") {
		t.Fatalf("verdict %+v", v.Checks)
	}
}

func TestVerifyMissingAttestationAndSeverity(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	_, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln("LOW", "CRITICAL", "HIGH", "CRITICAL"), Registry: fastRegistry,
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: allTypes}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := checkByName(v, "attestation slsaprovenance1")
	if v.Passed || c.Passed || !strings.Contains(c.Reason, "missing") {
		t.Fatalf("missing provenance: %+v", v.Checks)
	}

	for _, tc := range []struct {
		max  string
		pass bool
		want string
	}{
		{"HIGH", false, "2 CRITICAL"},
		{"MEDIUM", false, "1 HIGH"},
		{"critical", true, "no finding above CRITICAL"},
	} {
		v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, MaxSeverity: tc.max}, fastRegistry)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := checkByName(v, "vulnerabilities")
		if !ok || v.Passed != tc.pass || c.Passed != tc.pass || !strings.Contains(c.Reason, tc.want) {
			t.Errorf("max %s: %+v", tc.max, v.Checks)
		}
	}
	// Without a vuln attestation a severity limit refuses.
	d2 := tr.pushRandom(t, "app", "v2")
	signAllExcept(t, d2, k)
	v, err = Verify(context.Background(), d2.String(), Policy{PublicKey: k.pub, MaxSeverity: "CRITICAL"}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := checkByName(v, "vulnerabilities"); v.Passed || c.Passed {
		t.Fatalf("no scan passed: %+v", v.Checks)
	}
}

func signAllExcept(t *testing.T, d name.Digest, k testKey) {
	t.Helper()
	_, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), SBOM: []byte(testSBOM), Registry: fastRegistry})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRerunReplacesAttestations(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	signAll(t, tr, d, k)
	res := signAll(t, tr, d, k)
	if n := layerCount(t, res.AttestationTag); n != 3 {
		t.Fatalf("attestation layers after rerun: %d, want 3", n)
	}
	// The same key signing the same digest again adds no signature.
	if n := layerCount(t, res.SignatureTag); n != 1 {
		t.Fatalf("signature layers after rerun: %d, want 1", n)
	}
	// A newer scan replaces the older: the verdict follows it.
	_, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), Vuln: testVuln("CRITICAL"), Registry: fastRegistry})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: allTypes, MaxSeverity: "HIGH"}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := checkByName(v, "vulnerabilities"); v.Passed || !strings.Contains(c.Reason, "1 CRITICAL") {
		t.Fatalf("rescan not used: %+v", v.Checks)
	}
	if n := layerCount(t, res.AttestationTag); n != 3 {
		t.Fatalf("attestation layers after replacing the scan alone: %d, want 3 (the others kept)", n)
	}
	// Another key's signature is added beside it.
	signAll(t, tr, d, newKey(t, "pw2"))
	if n := layerCount(t, res.SignatureTag); n != 2 {
		t.Fatalf("signature layers after another key signed: %d, want 2", n)
	}
}

// A failure pushing attestations must leave no signature behind.
func TestAttestationPushFailureLeavesNoSignature(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	tr.setHook(func(r *http.Request) (int, time.Duration) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".att") {
			return http.StatusForbidden, 0
		}
		return 0, 0
	})
	_, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln(), Provenance: testProvenance(), Registry: fastRegistry,
	})
	if err == nil || !strings.Contains(err.Error(), "pushing attestations (no signature was pushed)") {
		t.Fatalf("err %v", err)
	}
	tr.setHook(nil)
	hex := strings.TrimPrefix(d.DigestStr(), "sha256:")
	if tr.exists(t, tr.Host+"/app:sha256-"+hex+".sig") {
		t.Fatal("signature pushed although attestations failed")
	}
}

// A failure pushing the signature leaves attestations that verify refuses.
func TestSignaturePushFailureIsRefused(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	tr.setHook(func(r *http.Request) (int, time.Duration) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".sig") {
			return http.StatusForbidden, 0
		}
		return 0, 0
	})
	_, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), SBOM: []byte(testSBOM), Registry: fastRegistry})
	if err == nil || !strings.Contains(err.Error(), "rerun to complete") {
		t.Fatalf("err %v", err)
	}
	tr.setHook(nil)
	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: []string{"cyclonedx"}}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := checkByName(v, "signature"); v.Passed || c.Passed {
		t.Fatalf("half-signed image passed: %+v", v.Checks)
	}
	// The rerun completes it.
	signAllExcept(t, d, k)
	v, err = Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: []string{"cyclonedx"}}, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("after rerun: %v %v", err, v.Err())
	}
}

func TestRetriesOn5xxAndTimeouts(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	var n503, nSlow atomic.Int32
	tr.setHook(func(r *http.Request) (int, time.Duration) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && n503.Add(1) <= 2 {
			return http.StatusServiceUnavailable, 0
		}
		if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/sha256:") && nSlow.Add(1) == 1 {
			return 0, 10 * time.Second
		}
		return 0, 0
	})
	reg := Registry{Backoff: time.Millisecond, Timeout: time.Second}
	res, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), SBOM: []byte(testSBOM), Registry: reg})
	if err != nil {
		t.Fatalf("sign through transient failures: %v", err)
	}
	if n503.Load() < 3 || nSlow.Load() < 2 {
		t.Fatalf("faults not exercised: 503 %d slow %d", n503.Load(), nSlow.Load())
	}
	if tr.aborted.Load() != 1 {
		t.Fatalf("the slow request was not abandoned by the client timeout (aborted %d)", tr.aborted.Load())
	}
	tr.setHook(nil)
	if !tr.exists(t, res.SignatureTag) {
		t.Fatal("signature missing")
	}

	// Persistent 5xx: gives up after the configured retries with the status.
	var calls atomic.Int32
	tr.setHook(func(r *http.Request) (int, time.Duration) { calls.Add(1); return http.StatusBadGateway, 0 })
	_, err = Verify(context.Background(), d.String(), Policy{PublicKey: k.pub}, Registry{Retries: 2, Backoff: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err %v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("requests %d, want 3 (1 + 2 retries)", calls.Load())
	}
}

func TestDockerConfigCredentials(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	const user, pass = "robot", "registry-token-123"
	tr.setHook(func(r *http.Request) (int, time.Duration) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			return http.StatusUnauthorized, 0
		}
		return 0, 0
	})
	cfg := []byte(`{"auths":{"` + tr.Host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + `"},"other.example":{"auth":"x"}}}`)
	req := Request{Image: d.String(), SBOM: []byte(testSBOM), Registry: Registry{DockerConfig: cfg, Backoff: time.Millisecond}}
	if _, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass}, req); err != nil {
		t.Fatal(err)
	}
	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: []string{"cyclonedx"}}, Registry{Username: user, Password: []byte(pass)})
	if err != nil || !v.Passed {
		t.Fatalf("verify with basic auth: %v %v", err, v.Err())
	}
	_, err = Verify(context.Background(), d.String(), Policy{PublicKey: k.pub}, Registry{Backoff: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") && !strings.Contains(err.Error(), "401") {
		t.Fatalf("anonymous: %v", err)
	}
	_, err = Verify(context.Background(), d.String(), Policy{PublicKey: k.pub}, Registry{DockerConfig: []byte(`{"auths":`)})
	if err == nil || !strings.Contains(err.Error(), "docker config is not valid JSON") {
		t.Fatalf("bad config: %v", err)
	}
}

func TestBadInputs(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "right")
	d := tr.pushRandom(t, "app", "v1")
	ctx := context.Background()
	noRetry := Registry{Retries: -1, Timeout: time.Second}

	for _, tc := range []struct {
		name  string
		creds Credentials
		image string
		reg   Registry
		want  string
	}{
		{"wrong password", Credentials{Key: k.priv, Password: []byte("wrong")}, d.String(), fastRegistry, "password is wrong"},
		{"not PEM", Credentials{Key: []byte("/home/me/cosign.key"), Password: k.pass}, d.String(), fastRegistry, "is not PEM"},
		{"public key as key", Credentials{Key: k.pub}, d.String(), fastRegistry, `PEM type "PUBLIC KEY"`},
		{"password without key", Credentials{Password: []byte("x")}, d.String(), fastRegistry, "without a key"},
		{"key and keyless", Credentials{Key: k.priv, Keyless: &Keyless{}}, d.String(), fastRegistry, "pass one"},
		{"malformed reference", Credentials{Key: k.priv, Password: k.pass}, "Not A Ref!!", fastRegistry, "is malformed"},
		{"empty reference", Credentials{Key: k.priv, Password: k.pass}, "", fastRegistry, "image reference is empty"},
		{"tag", Credentials{Key: k.priv, Password: k.pass}, tr.Host + "/app:v1", fastRegistry, "sign by digest"},
		{"unknown digest", Credentials{Key: k.priv, Password: k.pass}, tr.Host + "/app@sha256:" + strings.Repeat("0", 64), fastRegistry, "finding the image to sign"},
		{"unreachable registry", Credentials{Key: k.priv, Password: k.pass}, "127.0.0.1:1/app@" + d.DigestStr(), noRetry, "registry 127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SignWith(ctx, tc.creds, Request{Image: tc.image, SBOM: []byte(testSBOM), Registry: tc.reg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	_, err := SignWith(ctx, Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), SBOM: []byte(`{"spdxVersion":"SPDX-2.3"}`), Registry: fastRegistry})
	if err == nil || !strings.Contains(err.Error(), "not a CycloneDX") {
		t.Fatalf("spdx sbom: %v", err)
	}
	_, err = SignWith(ctx, Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), Vuln: &VulnScan{Report: []byte("<html>")}, Registry: fastRegistry})
	if err == nil || !strings.Contains(err.Error(), "vulnerability report is not valid JSON") {
		t.Fatalf("bad report: %v", err)
	}
	hex := strings.TrimPrefix(d.DigestStr(), "sha256:")
	if tr.exists(t, tr.Host+"/app:sha256-"+hex+".sig") || tr.exists(t, tr.Host+"/app:sha256-"+hex+".att") {
		t.Fatal("a failed run pushed something")
	}

	for _, tc := range []struct {
		name  string
		p     Policy
		image string
		want  string
	}{
		{"no anchor", Policy{}, d.String(), "no trust anchor"},
		{"bad public key", Policy{PublicKey: []byte("nope")}, d.String(), "not a PEM public key"},
		{"key and identity", Policy{PublicKey: k.pub, Identity: "a@b"}, d.String(), "pass one"},
		{"identity without issuer", Policy{Identity: "a@b"}, d.String(), "needs both"},
		{"unknown type", Policy{PublicKey: k.pub, Require: []string{"spdx-ish"}}, d.String(), "attestation type"},
		{"unknown severity", Policy{PublicKey: k.pub, MaxSeverity: "SEVERE"}, d.String(), "maximum severity"},
		{"bad pin", Policy{PublicKey: k.pub, Digest: "latest"}, d.String(), "pinned digest"},
		{"malformed reference", Policy{PublicKey: k.pub}, "UPPER/case:tag", "is malformed"},
		{"unreachable", Policy{PublicKey: k.pub}, "127.0.0.1:1/app:v1", "resolving"},
	} {
		t.Run("verify "+tc.name, func(t *testing.T) {
			_, err := Verify(ctx, tc.image, tc.p, noRetry)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A key signing reads and writes through two reused transports: the
// registry is pinged (and a token fetched) once to read and once to
// write, not once per request.
func TestKeySigningReusesRegistryConnections(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	tr.mu.Lock()
	tr.urls = nil
	tr.mu.Unlock()
	signAll(t, tr, d, k)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	pings := 0
	for _, u := range tr.urls {
		if u == "/v2/" {
			pings++
		}
	}
	if pings > 2 || len(tr.urls) < 5 {
		t.Errorf("%d pings among %d requests, want at most 2: %v", pings, len(tr.urls), tr.urls)
	}
}
