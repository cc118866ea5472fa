package admission

import (
	"context"
	"fmt"
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
	"github.com/paved-ci/paved/internal/fulciotest"
	"github.com/paved-ci/paved/pipelines/sign"
	"github.com/paved-ci/paved/pipelines/trust"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
)

type key struct{ priv, pub, pass []byte }

func (k key) creds() *sign.Credentials { return &sign.Credentials{Key: k.priv, Password: k.pass} }

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
	signer     *sign.Credentials
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
	// Keyless: a private Fulcio certifies ci@acme.example for the issuer;
	// no transparency log, so the policy ignores it, as paved allows only
	// with private roots.
	const email, issuer = "ci@acme.example", "https://token.actions.example"
	tok := fulciotest.JWT(map[string]string{"iss": issuer, "email": email})
	fulcio := fulciotest.New(t, tok, email, issuer)
	ci := &sign.Credentials{Keyless: &sign.Keyless{IDToken: []byte(tok), FulcioURL: fulcio.URL, NoTlog: true}}
	keyless := trust.Policy{Identity: email, Issuer: issuer, FulcioRoots: fulcio.RootPEM, IgnoreTlog: true, Require: all, MaxSeverity: "HIGH"}
	alter := func(p trust.Policy, f func(*trust.Policy)) trust.Policy { f(&p); return p }

	full := trust.Policy{PublicKey: good.pub, Require: all, MaxSeverity: "HIGH"}
	complete := build{signer: good.creds(), sbom: true, prov: true, report: trivy("LOW", "MEDIUM", "HIGH")}
	cases := []struct {
		name   string
		policy trust.Policy
		image  build
		// refusedBy is the failing `paved verify` check; empty: admitted.
		refusedBy string
	}{
		{"signed with all attestations, findings up to HIGH", full, complete, ""},
		{"clean scan", full, build{signer: good.creds(), sbom: true, prov: true, report: trivy()}, ""},
		{"unsigned, nothing attached", full, build{}, "signature"},
		{"signed with another key", full, build{signer: wrong.creds(), sbom: true, prov: true, report: trivy("LOW")}, "signature"},
		{"no SBOM attestation", full, build{signer: good.creds(), sbom: false, prov: true, report: trivy("LOW")}, "attestation cyclonedx"},
		{"no provenance attestation", full, build{signer: good.creds(), sbom: true, prov: false, report: trivy("LOW")}, "attestation slsaprovenance1"},
		{"no vulnerability attestation", full, build{signer: good.creds(), sbom: true, prov: true, report: nil}, "attestation vuln"},
		{"a CRITICAL finding, over HIGH", full, build{signer: good.creds(), sbom: true, prov: true, report: trivy("LOW", "CRITICAL")}, "vulnerabilities"},
		{"scan result is not a Trivy report", full, build{signer: good.creds(), sbom: true, prov: true, report: []byte(`{"SchemaVersion":2}`)}, "vulnerabilities"},
		{"signed attestations, image signature deleted", full, build{signer: good.creds(), sbom: true, prov: true, report: trivy("LOW"), unsignedImage: true}, "signature"},
		{"keyless: the trusted identity", keyless, build{signer: ci, sbom: true, prov: true, report: trivy("HIGH")}, ""},
		{"keyless: identity regexp", alter(keyless, func(p *trust.Policy) { p.Identity, p.IdentityRegexp = "", `^ci@acme\.example$` }), build{signer: ci, sbom: true, prov: true, report: trivy("LOW")}, ""},
		{"keyless: identity regexp of another signer", alter(keyless, func(p *trust.Policy) { p.Identity, p.IdentityRegexp = "", `^release@acme\.example$` }), build{signer: ci, sbom: true, prov: true, report: trivy("LOW")}, "signature"},
		{"keyless: issuer regexp", alter(keyless, func(p *trust.Policy) { p.Issuer, p.IssuerRegexp = "", `^https://token\.actions\.` }), build{signer: ci, sbom: true, prov: true, report: trivy("LOW")}, ""},
		{"keyless: the policy trusts another identity", alter(keyless, func(p *trust.Policy) { p.Identity = "mallory@acme.example" }), build{signer: ci, sbom: true, prov: true, report: trivy("LOW")}, "signature"},
		{"keyless: the policy trusts another issuer", alter(keyless, func(p *trust.Policy) { p.Issuer = "https://accounts.example" }), build{signer: ci, sbom: true, prov: true, report: trivy("LOW")}, "signature"},
		{"keyless: certificate from another Fulcio", alter(keyless, func(p *trust.Policy) { p.FulcioRoots = fulciotest.New(t, "x", "y", "z").RootPEM }), build{signer: ci, sbom: true, prov: true, report: trivy("LOW")}, "signature"},
		{"keyless: no SBOM", keyless, build{signer: ci, prov: true, report: trivy("LOW")}, "attestation cyclonedx"},
		{"keyless: a CRITICAL finding", keyless, build{signer: ci, sbom: true, prov: true, report: trivy("CRITICAL")}, "vulnerabilities"},
		{"keyless image, key policy", full, build{signer: ci, sbom: true, prov: true, report: trivy("LOW")}, "signature"},
		{"signature only: signed", trust.Policy{PublicKey: good.pub}, build{signer: good.creds()}, ""},
		{"signature only: another key", trust.Policy{PublicKey: good.pub}, build{signer: wrong.creds()}, "signature"},
		{"max NONE: one LOW finding", trust.Policy{PublicKey: good.pub, MaxSeverity: "NONE"}, build{signer: good.creds(), sbom: false, prov: false, report: trivy("LOW")}, "vulnerabilities"},
		{"max NONE: clean", trust.Policy{PublicKey: good.pub, MaxSeverity: "NONE"}, build{signer: good.creds(), sbom: false, prov: false, report: trivy()}, ""},
		{"max CRITICAL: CRITICAL finding", trust.Policy{PublicKey: good.pub, MaxSeverity: "CRITICAL"}, build{signer: good.creds(), sbom: false, prov: false, report: trivy("CRITICAL")}, ""},
		{"max MEDIUM: signed with another key, findings fine", trust.Policy{PublicKey: good.pub, MaxSeverity: "MEDIUM"}, build{signer: wrong.creds(), sbom: false, prov: false, report: trivy("LOW")}, "signature"},
		{"max MEDIUM: a HIGH finding", trust.Policy{PublicKey: good.pub, MaxSeverity: "MEDIUM"}, build{signer: good.creds(), sbom: false, prov: false, report: trivy("HIGH")}, "vulnerabilities"},
	}
	covered := map[string]bool{}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := random.Image(256, 1)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := name.NewTag(fmt.Sprintf("%s/team/app%d:1", host, i))
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
				if _, err := sign.SignWith(ctx, *b.signer, req); err != nil {
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

			// policy-controller takes private Fulcio roots only from a
			// TrustRoot object, not generated: those cases are Kyverno's.
			format := FormatBoth
			if len(c.policy.FulcioRoots) > 0 {
				format = FormatKyverno
			}
			out, err := Generate(c.policy, Options{Images: []string{host + "/team/**"}}, format)
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
			cip, cwhy := v.Passed, "not generated"
			if format == FormatBoth {
				cip, cwhy = cipAdmits(ctx, t, d["ClusterImagePolicy"], tag.String())
			}
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
	if _, err := sign.SignWith(ctx, *good.creds(), sign.Request{
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
