package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pubKeyFile(t *testing.T) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	f := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(f, []byte(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	return f, pub
}

func TestAdmission(t *testing.T) {
	key, pub := pubKeyFile(t)
	dst := filepath.Join(t.TempDir(), "policy.yaml")
	out, stderr, code := call(t, "admission", "--public-key", key, "--require", "cyclonedx,vuln", "--require", "slsaprovenance1",
		"--max-severity", "high", "--images", "registry.example.com/team/**", "--name", "team-verify", "--out", dst)
	if code != 0 || !strings.Contains(out, "wrote "+dst) {
		t.Fatalf("%d %s %s", code, out, stderr)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	y := string(b)
	firstKeyLine := strings.Split(pub, "\n")[1]
	for _, want := range []string{
		"kind: ClusterPolicy", "kind: ClusterImagePolicy", "name: team-verify", firstKeyLine,
		"type: https://cyclonedx.org/bom", "type: https://slsa.dev/provenance/v1", "predicateType: https://cosign.sigstore.dev/attestation/vuln/v1",
		"[?Severity == ''CRITICAL'']", "- registry.example.com/team/*\n", "glob: registry.example.com/team/**", "failureAction: Enforce", "mode: enforce",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("output lacks %q:\n%s", want, y)
		}
	}
	// Keyless to stdout, one format, audit mode.
	out, stderr, code = call(t, "admission", "--identity-regexp", "^https://github.com/acme/", "--issuer", "https://token.actions.githubusercontent.com",
		"--images", "ghcr.io/acme/*", "--format", "sigstore", "--audit")
	if code != 0 || strings.Contains(out, "ClusterPolicy\n") || !strings.Contains(out, "subjectRegExp: ^https://github.com/acme/") || !strings.Contains(out, "mode: warn") {
		t.Fatalf("keyless: %d %s %s", code, out, stderr)
	}
	// Private Fulcio roots: Kyverno only.
	roots := filepath.Join(t.TempDir(), "fulcio.pem")
	os.WriteFile(roots, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644)
	keylessArgs := []string{"admission", "--identity", "ci@acme.example", "--issuer", "https://token.actions.example", "--fulcio-roots", roots, "--ignore-tlog", "--images", "r.io/a/*"}
	out, stderr, code = call(t, append(keylessArgs, "--format", "kyverno")...)
	if code != 0 || !strings.Contains(out, "roots: |\n") || !strings.Contains(out, "ignoreTlog: true") || !strings.Contains(out, "ignoreSCT: true") {
		t.Fatalf("private Fulcio: %d %s %s", code, out, stderr)
	}
	if _, stderr, code = call(t, keylessArgs...); code != 1 || !strings.Contains(stderr, "TrustRoot object") || !strings.Contains(stderr, "kyverno format") {
		t.Errorf("private Fulcio, both formats: %d %s", code, stderr)
	}
	notPEM := filepath.Join(t.TempDir(), "key.txt")
	os.WriteFile(notPEM, []byte("not a key"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--public-key", key}, "--images is required"},
		{[]string{"--images", "r.io/a/*"}, "pass --public-key cosign.pub, or --identity"},
		{[]string{"--images", "r.io/a/*", "--public-key", key, "--identity", "a@b"}, "--public-key and --identity/--issuer exclude each other"},
		{[]string{"--images", "r.io/a/*", "--identity", "a@b"}, "needs both --identity (or --identity-regexp) and --issuer"},
		{[]string{"--images", "r.io/a/*", "--public-key", key, "--require", "spdx"}, `--require: attestation type "spdx" is unknown`},
		{[]string{"--images", "r.io/a/*", "--public-key", key, "--max-severity", "severe"}, `--max-severity "severe": use NONE`},
		{[]string{"--images", "r.io/a/*", "--public-key", key, "--format", "opa"}, `--format "opa": use kyverno, sigstore or both`},
		{[]string{"--images", "r.io/a/*", "--public-key", filepath.Join(t.TempDir(), "missing.pub")}, "--public-key: open"},
		{[]string{"--images", "r.io/a/*", "--public-key", notPEM}, "the public key is not PEM"},
		{[]string{"--images", "r.io/a/*", "--identity-regexp", "(", "--issuer", "https://i"}, `identity regexp "(" does not compile`},
		{[]string{"--images", "app with spaces", "--public-key", key}, `image glob "app with spaces"`},
		{[]string{"--images", "r.io/a/*", "--public-key", key, "--name", "Team"}, `name "Team" is not a Kubernetes object name`},
		{[]string{"--images", "r.io/a/*", "--identity", "a@b", "--issuer", "https://i", "--ignore-tlog"}, "needs private Fulcio roots"},
		{[]string{"--images", "r.io/a/*", "--identity", "a@b", "--issuer", "https://i", "--fulcio-roots", notPEM, "--format", "kyverno"}, "Fulcio roots are not PEM certificates"},
	} {
		_, stderr, code := call(t, append([]string{"admission"}, c.args...)...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
}

// docs/admission.md shows the keyless command's output: it must be what the
// command prints today.
func TestAdmissionDocExample(t *testing.T) {
	page, err := os.ReadFile("../../../docs/admission.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(page), "```yaml\n")
	want, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/admission.md has no ```yaml example block")
	}
	out, stderr, code := call(t, "admission",
		"--identity", "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
		"--issuer", "https://token.actions.githubusercontent.com",
		"--require", "cyclonedx", "--max-severity", "HIGH", "--images", "ghcr.io/acme/**")
	if code != 0 {
		t.Fatal(stderr)
	}
	if out != want {
		t.Errorf("docs/admission.md's example is stale; the command prints:\n%s", out)
	}
	if !strings.Contains(string(page), "--require cyclonedx --max-severity HIGH --images 'ghcr.io/acme/**'") {
		t.Error("docs/admission.md no longer shows the command whose output it prints")
	}
}
