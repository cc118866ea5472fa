package admission

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/paved-ci/paved/pipelines/sign"
	"github.com/paved-ci/paved/pipelines/trust"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
)

type key struct{ priv, pub, pass []byte }

func genKey(t *testing.T) key {
	t.Helper()
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	return key{kb.PrivateBytes, kb.PublicBytes, []byte("pw")}
}

// trivy is a Trivy JSON report with one finding per severity given.
func trivy(severities ...string) []byte {
	var v []string
	for _, s := range severities {
		v = append(v, `{"VulnerabilityID":"CVE-2026-0001","PkgName":"openssl","Severity":"`+s+`"}`)
	}
	return []byte(`{"SchemaVersion":2,"ArtifactName":"app","Results":[{"Target":"app","Class":"os-pkgs"},{"Target":"app (debian 12)","Vulnerabilities":[` + strings.Join(v, ",") + `]}]}`)
}

// An image as a case builds it: who signs (nil: nobody) and what is attested.
type build struct {
	signer     *key
	sbom, prov bool
	report     []byte // vuln attestation's scanner.result; nil: none
	// unsignedImage deletes the image signature after signing, leaving
	// signed attestations: an attestation is no image signature.
	unsignedImage bool
}

// TestEquivalence signs real images in an in-process registry with paved's
// own signer, then asks `paved verify` (sign.Verify) and the two generated
// cluster policies, read back from their YAML by the evaluators, about each:
// all three must agree, and the refusals must be for the expected check.
func TestEquivalence(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	reg := sign.Registry{Backoff: time.Millisecond, Timeout: 10 * time.Second}
	good, wrong := genKey(t), genKey(t)

	all := []string{"cyclonedx", "vuln", "slsaprovenance1"}
	full := trust.Policy{PublicKey: good.pub, Require: all, MaxSeverity: "HIGH"}
	complete := build{signer: &good, sbom: true, prov: true, report: trivy("LOW", "MEDIUM", "HIGH")}
	cases := []struct {
		name   string
		policy trust.Policy
		image  build
		// refusedBy is the failing `paved verify` check; empty: admitted.
		refusedBy string
	}{
		{"signed with all attestations, findings up to HIGH", full, complete, ""},
		{"clean scan", full, build{signer: &good, sbom: true, prov: true, report: trivy()}, ""},
		{"unsigned, nothing attached", full, build{}, "signature"},
		{"signed with another key", full, build{signer: &wrong, sbom: true, prov: true, report: trivy("LOW")}, "signature"},
		{"no SBOM attestation", full, build{signer: &good, sbom: false, prov: true, report: trivy("LOW")}, "attestation cyclonedx"},
		{"no provenance attestation", full, build{signer: &good, sbom: true, prov: false, report: trivy("LOW")}, "attestation slsaprovenance1"},
		{"no vulnerability attestation", full, build{signer: &good, sbom: true, prov: true, report: nil}, "attestation vuln"},
		{"a CRITICAL finding, over HIGH", full, build{signer: &good, sbom: true, prov: true, report: trivy("LOW", "CRITICAL")}, "vulnerabilities"},
		{"scan result is not a Trivy report", full, build{signer: &good, sbom: true, prov: true, report: []byte(`{"SchemaVersion":2}`)}, "vulnerabilities"},
		{"signed attestations, image signature deleted", full, build{signer: &good, sbom: true, prov: true, report: trivy("LOW"), unsignedImage: true}, "signature"},
		{"signature only: signed", trust.Policy{PublicKey: good.pub}, build{signer: &good}, ""},
		{"signature only: another key", trust.Policy{PublicKey: good.pub}, build{signer: &wrong}, "signature"},
		{"max NONE: one LOW finding", trust.Policy{PublicKey: good.pub, MaxSeverity: "NONE"}, build{signer: &good, sbom: false, prov: false, report: trivy("LOW")}, "vulnerabilities"},
		{"max NONE: clean", trust.Policy{PublicKey: good.pub, MaxSeverity: "NONE"}, build{signer: &good, sbom: false, prov: false, report: trivy()}, ""},
		{"max CRITICAL: CRITICAL finding", trust.Policy{PublicKey: good.pub, MaxSeverity: "CRITICAL"}, build{signer: &good, sbom: false, prov: false, report: trivy("CRITICAL")}, ""},
		{"max MEDIUM: signed with another key, findings fine", trust.Policy{PublicKey: good.pub, MaxSeverity: "MEDIUM"}, build{signer: &wrong, sbom: false, prov: false, report: trivy("LOW")}, "signature"},
		{"max MEDIUM: a HIGH finding", trust.Policy{PublicKey: good.pub, MaxSeverity: "MEDIUM"}, build{signer: &good, sbom: false, prov: false, report: trivy("HIGH")}, "vulnerabilities"},
	}
	covered := map[string]bool{}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := random.Image(256, 1)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := name.NewTag(host + "/team/app" + string(rune('a'+i)) + ":1")
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(tag, img); err != nil {
				t.Fatal(err)
			}
			dg, _ := img.Digest()
			if b := c.image; b.signer != nil {
				req := sign.Request{Image: tag.Context().Digest(dg.String()).String(), Registry: reg}
				if b.sbom {
					req.SBOM = []byte(`{"bomFormat":"CycloneDX","specVersion":"1.5","version":1}`)
				}
				if b.prov {
					req.Provenance = &sign.Provenance{SourceRepo: "https://github.com/acme/app", Commit: strings.Repeat("a", 40)}
				}
				if b.report != nil {
					req.Vuln = &sign.VulnScan{Report: b.report}
				}
				if _, err := sign.SignWith(ctx, sign.Credentials{Key: b.signer.priv, Password: b.signer.pass}, req); err != nil {
					t.Fatal(err)
				}
				if b.unsignedImage {
					sig, err := ociremote.SignatureTag(tag.Context().Digest(dg.String()))
					if err != nil {
						t.Fatal(err)
					}
					if err := remote.Delete(sig); err != nil {
						t.Fatal(err)
					}
				}
			}

			v, err := sign.Verify(ctx, tag.String(), c.policy, reg)
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, ch := range v.Checks {
				if !ch.Passed {
					failed = append(failed, ch.Name)
				}
			}
			if v.Passed != (c.refusedBy == "") || c.refusedBy != "" && !slices.Contains(failed, c.refusedBy) {
				t.Fatalf("paved verify: passed %v, failed checks %v; the case expects refusal by %q\n%s", v.Passed, failed, c.refusedBy, v.Text())
			}
			covered[c.refusedBy] = true

			out, err := Generate(c.policy, Options{Images: []string{host + "/team/**"}}, FormatBoth)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := validateYAML(t, out); err != nil {
				t.Fatal(err)
			}
			d := docs(t, out)
			kyv, kwhy := kyvernoAdmits(ctx, t, d["ClusterPolicy"], tag.String())
			if kyv != v.Passed {
				t.Errorf("Kyverno admits %v (%s), paved verify passed %v\n%s", kyv, kwhy, v.Passed, v.Text())
			}
			cip, cwhy := cipAdmits(ctx, t, d["ClusterImagePolicy"], tag.String())
			if cip != v.Passed {
				t.Errorf("policy-controller admits %v (%s), paved verify passed %v\n%s", cip, cwhy, v.Passed, v.Text())
			}
			t.Logf("verify %v %v | kyverno %v %s | policy-controller %v %s", v.Passed, failed, kyv, kwhy, cip, cwhy)
		})
	}
	for _, want := range []string{"", "signature", "attestation cyclonedx", "attestation vuln", "attestation slsaprovenance1", "vulnerabilities"} {
		if !covered[want] {
			t.Errorf("no case is refused by %q (empty: admitted)", want)
		}
	}
}

// The evaluators are not vacuous: an image outside the globs is admitted
// by both policies, and a policy trusting another key refuses a good image.
func TestEvaluatorsReadTheYAML(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	good, other := genKey(t), genKey(t)
	img, _ := random.Image(256, 1)
	tag, _ := name.NewTag(host + "/team/app:1")
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	dg, _ := img.Digest()
	if _, err := sign.SignWith(ctx, sign.Credentials{Key: good.priv, Password: good.pass}, sign.Request{
		Image: tag.Context().Digest(dg.String()).String(), Vuln: &sign.VulnScan{Report: trivy("LOW")},
	}); err != nil {
		t.Fatal(err)
	}
	gen := func(p trust.Policy, glob string) map[string]map[string]any {
		out, err := Generate(p, Options{Images: []string{glob}}, FormatBoth)
		if err != nil {
			t.Fatal(err)
		}
		return docs(t, out)
	}
	p := trust.Policy{PublicKey: good.pub, MaxSeverity: "LOW"}
	for glob, want := range map[string]bool{host + "/team/*": true, host + "/other/*": false, host + "/**": true} {
		d := gen(trust.Policy{PublicKey: other.pub}, glob)
		// Trusting another key: refused where the policy applies.
		if k, _ := kyvernoAdmits(ctx, t, d["ClusterPolicy"], tag.String()); k == want {
			t.Errorf("glob %s: Kyverno admits %v", glob, k)
		}
		if c, _ := cipAdmits(ctx, t, d["ClusterImagePolicy"], tag.String()); c == want {
			t.Errorf("glob %s: policy-controller admits %v", glob, c)
		}
	}
	d := gen(p, host+"/team/*")
	if k, why := kyvernoAdmits(ctx, t, d["ClusterPolicy"], tag.String()); !k {
		t.Errorf("Kyverno refuses the good image: %s", why)
	}
	if c, why := cipAdmits(ctx, t, d["ClusterImagePolicy"], tag.String()); !c {
		t.Errorf("policy-controller refuses the good image: %s", why)
	}
}
