// Package fulciotest is a fake Fulcio for tests that sign keyless
// without the network (pipelines/sign, pipelines/admission).
package fulciotest

import (
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/fulcio/pkg/api"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// Fulcio is a Fulcio (legacy v1 API) on 127.0.0.1: it checks the bearer
// token and the proof of possession, and issues a 10-minute code-signing
// certificate for the token's email, with the issuer extensions, from a
// test root CA.
type Fulcio struct {
	// URL is the server's base URL (sign.Keyless.FulcioURL).
	URL string
	// RootPEM is the root CA certificate (trust.Policy.FulcioRoots).
	RootPEM []byte
	// Calls counts requests.
	Calls atomic.Int32
}

var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
)

// New starts a fake Fulcio that certifies email (issuer) for token only.
func New(t testing.TB, token, email, issuer string) *Fulcio {
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
	f := &Fulcio{RootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Calls.Add(1)
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
		w.Write(f.RootPEM)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// JWT is a token with the claims Fulcio reads; the fake checks it by value.
// Its signature part is the fixed text SENTINEL-token-signature, for leak
// checks.
func JWT(claims map[string]string) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	all := map[string]any{}
	for k, v := range claims {
		all[k] = v
	}
	if claims["email"] != "" {
		// Fulcio and cosign accept an email identity only when the
		// identity provider verified it, as real providers mark it.
		all["email_verified"] = true
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(all) + "." + base64.RawURLEncoding.EncodeToString([]byte("SENTINEL-token-signature"))
}
