package sign

import (
	"context"
	"testing"
)

// BenchmarkSignAttestVerify: sign + three attestations + verify (signature,
// three attestations, severity) against a loopback registry, with the
// cosign CLI on this machine (four sign/attest calls, four verify calls).
func BenchmarkSignAttestVerify(b *testing.B) {
	if _, err := (LocalRunner{}).bin(); err != nil {
		b.Fatal(err)
	}
	tr := newRegistry(b)
	k := newKey(b, "pw")
	d := tr.pushRandom(b, "app", "v1")
	ctx := context.Background()
	policy := Policy{PublicKey: k.pub, Require: allTypes, MaxSeverity: "CRITICAL"}
	b.ResetTimer()
	for b.Loop() {
		if _, err := SignWith(ctx, Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln("HIGH"), Provenance: testProvenance(), Registry: fastRegistry}); err != nil {
			b.Fatal(err)
		}
		v, err := Verify(ctx, d.String(), policy, fastRegistry)
		if err != nil || !v.Passed {
			b.Fatalf("%v %v", err, v.Err())
		}
	}
}

// BenchmarkSignWithKeyLoad adds decrypting the cosign key (scrypt) per run:
// the figure for a whole one-shot sign stage.
func BenchmarkSignWithKeyLoad(b *testing.B) {
	tr := newRegistry(b)
	k := newKey(b, "pw")
	d := tr.pushRandom(b, "app", "v1")
	ctx := context.Background()
	for b.Loop() {
		if _, err := SignWith(ctx, Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln("HIGH"), Provenance: testProvenance(), Registry: fastRegistry}); err != nil {
			b.Fatal(err)
		}
	}
}
