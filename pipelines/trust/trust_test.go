package trust

import (
	"reflect"
	"strings"
	"testing"
)

const pem = "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n"

func TestCheck(t *testing.T) {
	r, err := Policy{PublicKey: []byte(pem), Require: []string{"sbom", "cyclonedx", "https://example.com/p"}, MaxSeverity: " high"}.Check()
	if err != nil {
		t.Fatal(err)
	}
	want := Requirements{Mode: KeyMode, Required: []string{PredicateCycloneDX, "https://example.com/p", PredicateVuln}, MaxSeverity: "HIGH"}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v, want %+v", r, want)
	}
	r, err = Policy{IdentityRegexp: "^https://github.com/acme/", Issuer: "https://token.actions.githubusercontent.com"}.Check()
	if err != nil || r.Mode != KeylessMode || len(r.Required) != 0 {
		t.Errorf("keyless: %+v %v", r, err)
	}
	for _, c := range []struct {
		p    Policy
		want string
	}{
		{Policy{}, "no trust anchor"},
		{Policy{PublicKey: []byte(pem), Identity: "a@b"}, "both a public key and a keyless identity"},
		{Policy{Identity: "a@b"}, "needs both an identity"},
		{Policy{Identity: "a@b", Issuer: "https://i", IgnoreTlog: true}, "needs private Fulcio roots"},
		{Policy{PublicKey: []byte(pem), Require: []string{"spdx"}}, `attestation type "spdx" is unknown`},
		{Policy{PublicKey: []byte(pem), MaxSeverity: "SEVERE"}, `maximum severity "SEVERE" is unknown`},
		{Policy{PublicKey: []byte(pem), Digest: "sha256:abc"}, "not sha256:<64 hex>"},
	} {
		if _, err := c.p.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.p, err, c.want)
		}
	}
	if _, err := (Policy{PublicKey: []byte(pem), Digest: "sha256:" + strings.Repeat("0a", 32)}).Check(); err != nil {
		t.Errorf("valid digest refused: %v", err)
	}
}

func TestSeverities(t *testing.T) {
	for _, c := range []struct {
		max  string
		want []string
	}{
		{"CRITICAL", nil},
		{"HIGH", []string{"CRITICAL"}},
		{"LOW", []string{"MEDIUM", "HIGH", "CRITICAL"}},
		{"UNKNOWN", []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}},
		{"NONE", []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}},
	} {
		if got := Above(c.max); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Above(%s) = %v, want %v", c.max, got, c.want)
		}
	}
	for sev, want := range map[string]int{"critical": 5, "LOW": 2, "NONE": 1, "": 1, "weird": 1} {
		if got := FindingRank(sev); got != want {
			t.Errorf("FindingRank(%q) = %d, want %d", sev, got, want)
		}
	}
	if ShortType(PredicateVuln) != "vuln" || ShortType("https://x") != "https://x" {
		t.Error("ShortType")
	}
}
