package sign

import (
	"strings"
	"testing"
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
