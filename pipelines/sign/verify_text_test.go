package sign

//lint:file-ignore SA1019 in-toto-golang v0.11.0 deprecates its predicate constants for protobuf ones; the URIs are unchanged.

import (
	"strings"
	"testing"

	"github.com/in-toto/in-toto-golang/in_toto"
	slsa1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"
	"github.com/sigstore/cosign/v2/pkg/cosign/attestation"
)

func TestVerdictText(t *testing.T) {
	v := &Verdict{Image: "r/app:1", Ref: "r/app@sha256:ab", Passed: true, Checks: []Check{{Name: "signature", Passed: true, Reason: "1 verified"}}}
	if got := v.Text(); got != "ok   signature: 1 verified\npassed: deploy r/app@sha256:ab\n" {
		t.Errorf("%q", got)
	}
	v.Passed = false
	v.Checks = append(v.Checks, Check{Name: "attestation vuln", Reason: "missing"})
	if got := v.Text(); !strings.Contains(got, "FAIL attestation vuln: missing") || !strings.HasSuffix(got, "refused: r/app:1\n") {
		t.Errorf("%q", got)
	}
}

// pipelines/trust spells the predicate URIs without importing cosign or
// in-toto; they must stay the ones those libraries write.
func TestTrustPredicatesMatchLibraries(t *testing.T) {
	if PredicateVuln != attestation.CosignVulnProvenanceV01 {
		t.Errorf("vuln predicate %q, cosign writes %q", PredicateVuln, attestation.CosignVulnProvenanceV01)
	}
	if PredicateProvenance != slsa1.PredicateSLSAProvenance {
		t.Errorf("provenance predicate %q, in-toto writes %q", PredicateProvenance, slsa1.PredicateSLSAProvenance)
	}
	if PredicateCycloneDX != in_toto.PredicateCycloneDX {
		t.Errorf("CycloneDX predicate %q, in-toto writes %q", PredicateCycloneDX, in_toto.PredicateCycloneDX)
	}
}
