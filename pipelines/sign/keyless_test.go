package sign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/fulcio/pkg/api"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// fakeFulcio is a Fulcio (legacy v1 API) on 127.0.0.1: it checks the bearer
// token and the proof of possession, and issues a 10-minute code-signing
// certificate for the token's email, with the issuer extensions, from a
// test root CA.
type fakeFulcio struct {
	srv     *httptest.Server
	rootPEM []byte
	calls   atomic.Int32
}

var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
)

func newFakeFulcio(t *testing.T, token, email, issuer string) *fakeFulcio {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake-fulcio-root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	f := &fakeFulcio{rootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/signingCert" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"code":401,"message":"invalid identity token"}`, http.StatusUnauthorized)
			return
		}
		var req api.CertificateRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(req.PublicKey.Content)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256([]byte(email))
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), sum[:], req.SignedEmailAddress) {
			http.Error(w, "proof of possession failed", http.StatusBadRequest)
			return
		}
		v2, _ := asn1.Marshal(issuer)
		leaf := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()), EmailAddresses: []string{email},
			NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
			ExtraExtensions: []pkix.Extension{{Id: oidIssuerV1, Value: []byte(issuer)}, {Id: oidIssuerV2, Value: v2}},
		}
		der, err := x509.CreateCertificate(rand.Reader, leaf, ca, pub, caKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		w.WriteHeader(http.StatusCreated)
		w.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		w.Write(f.rootPEM)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// fakeJWT is a token with the claims Fulcio reads; the fake checks it by value.
func fakeJWT(claims map[string]string) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + "." + base64.RawURLEncoding.EncodeToString([]byte("SENTINEL-token-signature"))
}

const (
	testIssuer = "https://token.actions.example"
	testEmail  = "ci@acme.example"
)

func TestKeylessWithFakeFulcio(t *testing.T) {
	tok := fakeJWT(map[string]string{"iss": testIssuer, "sub": "repo:acme/app", "email": testEmail, "aud": "sigstore"})
	fulcio := newFakeFulcio(t, tok, testEmail, testIssuer)
	tr := newRegistry(t)
	d := tr.pushRandom(t, "app", "v1")
	ctx := context.Background()

	res, err := SignWith(ctx, Credentials{Keyless: &Keyless{IDToken: []byte(tok + "\n"), FulcioURL: fulcio.srv.URL, NoTlog: true}}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln("LOW"), Provenance: testProvenance(), Registry: fastRegistry,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeKeyless || res.PublicKey != "" || fulcio.calls.Load() != 1 {
		t.Fatalf("result %+v, fulcio calls %d", res, fulcio.calls.Load())
	}

	for _, b := range tr.content(t) {
		if strings.Contains(string(b), tok) || strings.Contains(string(b), "SENTINEL-token-signature") {
			t.Fatal("the OIDC token reached the registry")
		}
	}

	policy := Policy{Identity: testEmail, Issuer: testIssuer, FulcioRoots: fulcio.rootPEM, IgnoreTlog: true, Require: allTypes, MaxSeverity: "MEDIUM"}
	v, err := Verify(ctx, d.String(), policy, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("keyless verify: %v %v", err, v.Err())
	}
	p := policy
	p.IdentityRegexp, p.Identity = `^ci@acme\.example$`, ""
	if v, err := Verify(ctx, d.String(), p, fastRegistry); err != nil || !v.Passed {
		t.Fatalf("identity regexp: %v %v", err, v.Err())
	}

	for name, p := range map[string]Policy{
		"other identity": {Identity: "mallory@acme.example", Issuer: testIssuer, FulcioRoots: fulcio.rootPEM, IgnoreTlog: true},
		"other issuer":   {Identity: testEmail, Issuer: "https://accounts.example", FulcioRoots: fulcio.rootPEM, IgnoreTlog: true},
		"other root":     {Identity: testEmail, Issuer: testIssuer, FulcioRoots: newFakeFulcio(t, "x", "y", "z").rootPEM, IgnoreTlog: true},
	} {
		v, err := Verify(ctx, d.String(), p, fastRegistry)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c, _ := checkByName(v, "signature"); v.Passed || c.Passed {
			t.Errorf("%s passed: %+v", name, v.Checks)
		}
	}
}

func TestKeylessGitHubTokenAndErrors(t *testing.T) {
	tok := fakeJWT(map[string]string{"iss": testIssuer, "sub": "repo:acme/app:ref:refs/heads/main", "email": testEmail})
	fulcio := newFakeFulcio(t, tok, testEmail, testIssuer)
	const reqToken = "SENTINEL-gh-request-token"
	var audience atomic.Value
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+reqToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		audience.Store(r.URL.Query().Get("audience"))
		json.NewEncoder(w).Encode(map[string]string{"value": tok})
	}))
	t.Cleanup(gh.Close)
	tr := newRegistry(t)
	d := tr.pushRandom(t, "app", "v1")
	ctx := context.Background()

	k := Keyless{GitHubRequestURL: gh.URL + "/token?api-version=2.0", GitHubRequestToken: []byte(reqToken), FulcioURL: fulcio.srv.URL, NoTlog: true}
	if _, err := SignWith(ctx, Credentials{Keyless: &k}, Request{Image: d.String(), Registry: fastRegistry}); err != nil {
		t.Fatal(err)
	}
	if audience.Load() != "sigstore" {
		t.Fatalf("audience %v", audience.Load())
	}
	v, err := Verify(ctx, d.String(), Policy{Identity: testEmail, Issuer: testIssuer, FulcioRoots: fulcio.rootPEM, IgnoreTlog: true}, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("%v %v", err, v.Err())
	}

	// Failures name the cause and never carry a token.
	other := fakeJWT(map[string]string{"email": "x@y", "iss": "z"})
	u, _ := url.Parse(fulcio.srv.URL)
	for name, tc := range map[string]struct {
		k    Keyless
		want string
	}{
		"no token":          {Keyless{FulcioURL: fulcio.srv.URL}, "no OIDC token"},
		"not a JWT":         {Keyless{IDToken: []byte("SENTINEL-opaque"), FulcioURL: fulcio.srv.URL}, "not a JWT"},
		"rejected token":    {Keyless{IDToken: []byte(other), FulcioURL: fulcio.srv.URL, NoTlog: true}, "401"},
		"bad request tok":   {Keyless{GitHubRequestURL: gh.URL, GitHubRequestToken: []byte(reqToken + "x"), FulcioURL: fulcio.srv.URL}, "fetching the GitHub OIDC token"},
		"bad fulcio URL":    {Keyless{IDToken: []byte(tok), FulcioURL: "fulcio"}, "not an absolute URL"},
		"fulcio down":       {Keyless{IDToken: []byte(tok), FulcioURL: "http://127.0.0.1:1", Timeout: time.Second}, "getting a certificate from Fulcio"},
		"fulcio wrong path": {Keyless{IDToken: []byte(tok), FulcioURL: u.String() + "/nope"}, "404"},
	} {
		_, err := SignWith(ctx, Credentials{Keyless: &tc.k}, Request{Image: d.String(), Registry: fastRegistry})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", name, err, tc.want)
			continue
		}
		for _, secret := range []string{tok, other, reqToken, "SENTINEL"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error carries a secret: %v", name, err)
			}
		}
	}
}
