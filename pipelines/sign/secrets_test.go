package sign

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/internal/regtest"
)

// Sentinel secrets must not appear in errors, logs, results, or anything
// the registry received or holds.
func TestSecretsDoNotLeak(t *testing.T) {
	const pw = "SENTINEL-pw-4f1c2a9e"
	const regPw = "SENTINEL-registry-7d3b"
	tr := newRegistry(t)
	k := newKey(t, pw)
	d := tr.pushRandom(t, "app", "v1")
	tr.setHook(func(r *http.Request) (int, time.Duration) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != regPw {
			return http.StatusUnauthorized, 0
		}
		return 0, 0
	})
	reg := Registry{Username: "ci", Password: []byte(regPw), Backoff: time.Millisecond}
	ctx := context.Background()

	var outputs [][]byte
	keep := func(v any, err error) {
		if err != nil {
			outputs = append(outputs, []byte(err.Error()))
		}
		b, _ := json.Marshal(v)
		outputs = append(outputs, b)
	}
	logged := regtest.CaptureOutput(t, func() {
		keep(SignWith(ctx, Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln("HIGH"), Provenance: testProvenance(), Registry: reg}))
		keep(Verify(ctx, d.String(), Policy{PublicKey: k.pub, Require: allTypes}, reg))
		// Failures: wrong password, corrupted key, wrong registry password,
		// key bytes passed where a public key is expected.
		keep(SignWith(ctx, Credentials{Key: k.priv, Password: []byte(pw + "x")}, Request{Image: d.String(), Registry: reg}))
		corrupt := bytes.Replace(k.priv, []byte("\n"), []byte("\nAAAA"), 3)
		keep(SignWith(ctx, Credentials{Key: corrupt, Password: k.pass}, Request{Image: d.String(), Registry: reg}))
		keep(SignWith(ctx, Credentials{Key: k.priv, Password: k.pass}, Request{Image: d.String(), Registry: Registry{Username: "ci", Password: []byte(regPw + "x"), Retries: -1}}))
		keep(Verify(ctx, d.String(), Policy{PublicKey: k.priv}, reg))
		keep(SignWith(ctx, Credentials{Key: []byte(pw)}, Request{Image: d.String(), Registry: reg}))
	})
	outputs = append(outputs, logged)
	if len(outputs) < 10 {
		t.Fatalf("flows produced too little to check: %d outputs", len(outputs))
	}
	tr.setHook(nil)
	stored := tr.content(t)
	if len(stored) < 10 {
		t.Fatalf("registry content too small to check: %d", len(stored))
	}

	block, _ := pem.Decode(k.priv)
	keyB64 := base64.StdEncoding.EncodeToString(block.Bytes)
	sentinels := map[string]string{
		"key password":          pw,
		"key password (base64)": base64.StdEncoding.EncodeToString([]byte(pw)),
		"registry password":     regPw,
		"private key PEM body":  keyB64[20:60],
		"private key bytes":     string(block.Bytes[16:48]),
	}
	for what, s := range sentinels {
		for i, o := range outputs {
			if bytes.Contains(o, []byte(s)) {
				t.Errorf("%s found in output %d: %.200s", what, i, o)
			}
		}
		for i, o := range stored {
			if bytes.Contains(o, []byte(s)) {
				t.Errorf("%s found in registry content %d", what, i)
			}
		}
	}
	// The checks above ran over real material: the flows did fail as planned.
	all := string(bytes.Join(outputs, []byte("\n")))
	for _, want := range []string{"password is wrong", "401 Unauthorized", "not a PEM public key", "is not PEM"} {
		if !strings.Contains(all, want) {
			t.Errorf("expected failure %q did not happen", want)
		}
	}
}

func TestChompLineDropsOneLineEndingOnly(t *testing.T) {
	for in, want := range map[string]string{
		"pw\n":   "pw",
		"pw\r\n": "pw",
		"pw\n\n": "pw\n",
		"pw ":    "pw ",
		"pw":     "pw",
		"":       "",
	} {
		if got := string(chompLine([]byte(in))); got != want {
			t.Errorf("chompLine(%q) = %q, want %q", in, got, want)
		}
	}
}
