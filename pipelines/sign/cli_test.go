package sign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/internal/fulciotest"
)

// cosignCLI is the cosign CLI the package runs (LocalRunner's lookup).
func cosignCLI(t *testing.T) string {
	t.Helper()
	bin, err := (LocalRunner{}).bin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// runCosign runs the CLI offline-friendly: its own HOME, no TUF fetch
// needed for key-based, tlog-less operations.
func runCosign(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "COSIGN_EXPERIMENTAL=0"}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestCosignCLIVerifiesPavedSignatures(t *testing.T) {
	bin := cosignCLI(t)
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "team/app", "v1")
	signAll(t, tr, d, k)

	dir := t.TempDir()
	pub := filepath.Join(dir, "k.pub")
	if err := os.WriteFile(pub, k.pub, 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--key", pub, "--insecure-ignore-tlog", "--allow-http-registry"}
	out, err := runCosign(t, bin, nil, append(append([]string{"verify"}, common...), d.String())...)
	if err != nil {
		t.Fatalf("cosign verify: %v\n%s", err, out)
	}
	if !strings.Contains(out, d.DigestStr()) {
		t.Fatalf("cosign verify output lacks the digest:\n%s", out)
	}
	for _, typ := range allTypes {
		out, err := runCosign(t, bin, nil, append(append([]string{"verify-attestation", "--type", typ}, common...), d.String())...)
		if err != nil {
			t.Fatalf("cosign verify-attestation --type %s: %v\n%s", typ, err, out)
		}
	}

	// The CLI really checks: a type not attached, and another key, are refused.
	if out, err := runCosign(t, bin, nil, append(append([]string{"verify-attestation", "--type", "spdxjson"}, common...), d.String())...); err == nil {
		t.Fatalf("cosign verify-attestation accepted a missing type:\n%s", out)
	}
	other := newKey(t, "pw")
	otherPub := filepath.Join(dir, "other.pub")
	if err := os.WriteFile(otherPub, other.pub, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCosign(t, bin, nil, "verify", "--key", otherPub, "--insecure-ignore-tlog", "--allow-http-registry", d.String()); err == nil {
		t.Fatalf("cosign verify accepted another key:\n%s", out)
	}
}

func TestPavedVerifiesCosignCLISignatures(t *testing.T) {
	bin := cosignCLI(t)
	tr := newRegistry(t)
	k := newKey(t, "cli-pw")
	d := tr.pushRandom(t, "team/app", "v1")

	dir := t.TempDir()
	key := filepath.Join(dir, "k.key")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("k.key", k.priv)
	vulnPred, err := testVuln("MEDIUM", "HIGH").predicate()
	if err != nil {
		t.Fatal(err)
	}
	provPred, err := testProvenance().predicate()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"COSIGN_PASSWORD=cli-pw"}
	common := []string{"--key", key, "--tlog-upload=false", "--allow-http-registry", "-y"}
	if out, err := runCosign(t, bin, env, append(append([]string{"sign"}, common...), d.String())...); err != nil {
		t.Fatalf("cosign sign: %v\n%s", err, out)
	}
	for typ, pred := range map[string][]byte{"cyclonedx": []byte(testSBOM), "vuln": vulnPred, "slsaprovenance1": provPred} {
		p := write(typ+".json", pred)
		if out, err := runCosign(t, bin, env, append(append([]string{"attest", "--type", typ, "--predicate", p}, common...), d.String())...); err != nil {
			t.Fatalf("cosign attest --type %s: %v\n%s", typ, err, out)
		}
	}

	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: allTypes, MaxSeverity: "HIGH"}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Passed {
		t.Fatalf("paved refused what cosign signed: %v", v.Err())
	}

	// paved signing the same digest with the same key shares cosign's
	// layout: cosign's signature counts (none added), cosign's
	// attestations are replaced type by type.
	res := signAll(t, tr, d, k)
	if n := layerCount(t, res.SignatureTag); n != 1 {
		t.Errorf("signature layers after paved signed over cosign: %d, want 1", n)
	}
	if n := layerCount(t, res.AttestationTag); n != 3 {
		t.Errorf("attestation layers after paved attested over cosign: %d, want 3", n)
	}
	v, err = Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, MaxSeverity: "MEDIUM"}, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := checkByName(v, "vulnerabilities"); v.Passed || !strings.Contains(c.Reason, "1 HIGH") {
		t.Fatalf("severity limit on a CLI attestation: %+v", v.Checks)
	}
}

func TestCosignCLIVerifiesPavedKeylessSignatures(t *testing.T) {
	bin := cosignCLI(t)
	tok := fulciotest.JWT(map[string]string{"iss": testIssuer, "sub": "repo:acme/app", "email": testEmail})
	fulcio := fulciotest.New(t, tok, testEmail, testIssuer)
	tr := newRegistry(t)
	d := tr.pushRandom(t, "app", "v1")
	_, err := SignWith(context.Background(), Credentials{Keyless: &Keyless{IDToken: []byte(tok), FulcioURL: fulcio.URL, NoTlog: true}}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Registry: fastRegistry,
	})
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(root, fulcio.RootPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SIGSTORE_ROOT_FILE=" + root}
	common := []string{"--certificate-oidc-issuer", testIssuer, "--insecure-ignore-tlog", "--insecure-ignore-sct", "--allow-http-registry"}
	out, err := runCosign(t, bin, env, append(append([]string{"verify", "--certificate-identity", testEmail}, common...), d.String())...)
	if err != nil {
		t.Fatalf("cosign verify (keyless): %v\n%s", err, out)
	}
	out, err = runCosign(t, bin, env, append(append([]string{"verify-attestation", "--type", "cyclonedx", "--certificate-identity", testEmail}, common...), d.String())...)
	if err != nil {
		t.Fatalf("cosign verify-attestation (keyless): %v\n%s", err, out)
	}
	if out, err := runCosign(t, bin, env, append(append([]string{"verify", "--certificate-identity", "mallory@acme.example"}, common...), d.String())...); err == nil {
		t.Fatalf("cosign accepted another identity:\n%s", out)
	}
}

func TestCosignCLIVerifiesPavedKeylessTlogEntries(t *testing.T) {
	bin := cosignCLI(t)
	tok := fulciotest.JWT(map[string]string{"iss": testIssuer, "email": testEmail})
	fulcio := fulciotest.New(t, tok, testEmail, testIssuer)
	rekor := newFakeRekor(t)
	tr := newRegistry(t)
	d := tr.pushRandom(t, "app", "v1")
	_, err := SignWith(context.Background(), Credentials{Keyless: &Keyless{IDToken: []byte(tok), FulcioURL: fulcio.URL, RekorURL: rekor.srv.URL}}, Request{
		Image: d.String(), Provenance: testProvenance(), Registry: fastRegistry,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root, rekorPub := filepath.Join(dir, "root.pem"), filepath.Join(dir, "rekor.pub")
	if err := os.WriteFile(root, fulcio.RootPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rekorPub, rekor.pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SIGSTORE_ROOT_FILE=" + root, "SIGSTORE_REKOR_PUBLIC_KEY=" + rekorPub}
	common := []string{"--certificate-identity", testEmail, "--certificate-oidc-issuer", testIssuer, "--insecure-ignore-sct", "--allow-http-registry", "--rekor-url", rekor.srv.URL}
	if out, err := runCosign(t, bin, env, append(append([]string{"verify"}, common...), d.String())...); err != nil {
		t.Fatalf("cosign verify (keyless, tlog): %v\n%s", err, out)
	}
	if out, err := runCosign(t, bin, env, append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, common...), d.String())...); err != nil {
		t.Fatalf("cosign verify-attestation (keyless, tlog): %v\n%s", err, out)
	}
	// With another log's key the CLI refuses the same entries.
	other := filepath.Join(dir, "other-rekor.pub")
	if err := os.WriteFile(other, newFakeRekor(t).pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env[1] = "SIGSTORE_REKOR_PUBLIC_KEY=" + other
	if out, err := runCosign(t, bin, env, append(append([]string{"verify"}, common...), d.String())...); err == nil {
		t.Fatalf("cosign accepted entries from an untrusted log:\n%s", out)
	}
}

// Keys that `cosign import-key-pair` takes besides ECDSA P-256: paved signs
// with them in process, and the cosign CLI verifies the signature and the
// attestations.
func TestCosignCLIVerifiesImportedKeyTypes(t *testing.T) {
	bin := cosignCLI(t)
	tr := newRegistry(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, priv := range map[string]crypto.Signer{"rsa": rsaKey, "ed25519": edKey, "ecdsa-p384": p384} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			plain := filepath.Join(dir, "plain.pem")
			if err := os.WriteFile(plain, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{"COSIGN_PASSWORD=imp-pw"}
			if out, err := runCosign(t, bin, env, "import-key-pair", "--key", plain, "--output-key-prefix", filepath.Join(dir, "imp"), "-y"); err != nil {
				t.Fatalf("cosign import-key-pair: %v\n%s", err, out)
			}
			key, err := os.ReadFile(filepath.Join(dir, "imp.key"))
			if err != nil {
				t.Fatal(err)
			}
			d := tr.pushRandom(t, "team/"+name, "v1")
			res, err := SignWith(context.Background(), Credentials{Key: key, Password: []byte("imp-pw")}, Request{
				Image: d.String(), SBOM: []byte(testSBOM), Registry: fastRegistry,
			})
			if err != nil {
				t.Fatal(err)
			}
			pub := filepath.Join(dir, "imp.pub")
			if b, err := os.ReadFile(pub); err != nil || string(b) != res.PublicKey {
				t.Fatalf("public key %q differs from cosign's %q (%v)", res.PublicKey, b, err)
			}
			common := []string{"--key", pub, "--insecure-ignore-tlog", "--allow-http-registry"}
			if out, err := runCosign(t, bin, nil, append(append([]string{"verify"}, common...), d.String())...); err != nil {
				t.Fatalf("cosign verify: %v\n%s", err, out)
			}
			if out, err := runCosign(t, bin, nil, append(append([]string{"verify-attestation", "--type", "cyclonedx"}, common...), d.String())...); err != nil {
				t.Fatalf("cosign verify-attestation: %v\n%s", err, out)
			}
		})
	}
}
