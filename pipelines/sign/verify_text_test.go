package sign

//lint:file-ignore SA1019 in-toto-golang v0.11.0 deprecates its predicate constants for protobuf ones; the URIs are unchanged.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/internal/jsontest"

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

// paved writes and reads the vuln predicate with its own struct, so that
// the module binaries do not link cosign's attestation package; the JSON
// must stay cosign's, field for field, both ways.
func TestVulnPredicateIsCosigns(t *testing.T) {
	ours, err := testVuln("HIGH").predicate()
	if err != nil {
		t.Fatal(err)
	}
	back := via(t, ours, &attestation.CosignVulnPredicate{})
	if !jsontest.Equal(t, back, ours) {
		t.Errorf("cosign reads and writes paved's predicate differently:\n paved  %s\n cosign %s", ours, back)
	}

	full := attestation.CosignVulnPredicate{
		Invocation: attestation.Invocation{Parameters: map[string]any{"a": "b"}, URI: "u", EventID: "e", BuilderID: "b"},
		Scanner:    attestation.Scanner{URI: "s", Version: "1", DB: attestation.DB{URI: "d", Version: "2"}, Result: map[string]any{"Results": []any{}}},
		Metadata:   attestation.Metadata{ScanStartedOn: time.Unix(1, 0).UTC(), ScanFinishedOn: time.Unix(2, 0).UTC()},
	}
	want, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	got := via(t, want, &vulnPredicate{})
	if !jsontest.Equal(t, got, want) {
		t.Errorf("paved drops or renames cosign's fields:\n cosign %s\n paved  %s", want, got)
	}
}

// via is doc read into v and written out again.
func via(t *testing.T, doc []byte, v any) []byte {
	t.Helper()
	if err := json.Unmarshal(doc, v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
