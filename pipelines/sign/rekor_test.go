package sign

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/go-openapi/runtime"
	"github.com/paved-ci/paved/internal/fulciotest"
	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// fakeRekor is a Rekor (v1 API, create entry only) on 127.0.0.1: it
// validates the proposed entry as Rekor does (signature checks included),
// canonicalises it and returns it with a signed entry timestamp.
type fakeRekor struct {
	srv     *httptest.Server
	pubPEM  []byte
	entries atomic.Int32
	kinds   []string
}

func newFakeRekor(t *testing.T) *fakeRekor {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := cryptoutils.MarshalPublicKeyToPEM(&key.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	logIDRaw := sha256.Sum256(der)
	logID := hex.EncodeToString(logIDRaw[:])
	f := &fakeRekor{pubPEM: pubPEM}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/log/entries" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		pe, err := models.UnmarshalProposedEntry(bytes.NewReader(body), runtime.JSONConsumer())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		entry, err := types.CreateVersionedEntry(pe)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		canon, err := types.CanonicalizeEntry(r.Context(), entry)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.kinds = append(f.kinds, pe.Kind())
		idx := int64(f.entries.Add(1))
		now := time.Now().Unix()
		payload := cbundle.RekorPayload{Body: base64.StdEncoding.EncodeToString(canon), IntegratedTime: now, LogIndex: idx, LogID: logID}
		pj, _ := json.Marshal(payload)
		cj, _ := jsoncanonicalizer.Transform(pj)
		sum := sha256.Sum256(cj)
		set, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])
		uuid := hex.EncodeToString(sum[:])
		resp := models.LogEntry{uuid: models.LogEntryAnon{
			Body: payload.Body, IntegratedTime: &now, LogIndex: &idx, LogID: &logID,
			Verification: &models.LogEntryAnonVerification{SignedEntryTimestamp: set},
		}}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/api/v1/log/entries/"+uuid)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// Keyless the production way: Fulcio certificate plus a Rekor entry for the
// signature and each attestation; verify checks the entries' timestamps
// against the log's key, with no "ignore tlog".
func TestKeylessWithFakeFulcioAndRekor(t *testing.T) {
	tok := fulciotest.JWT(map[string]string{"iss": testIssuer, "email": testEmail})
	fulcio := fulciotest.New(t, tok, testEmail, testIssuer)
	rekor := newFakeRekor(t)
	tr := newRegistry(t)
	d := tr.pushRandom(t, "app", "v1")
	ctx := context.Background()
	_, err := SignWith(ctx, Credentials{Keyless: &Keyless{IDToken: []byte(tok), FulcioURL: fulcio.URL, RekorURL: rekor.srv.URL}}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln("LOW"), Provenance: testProvenance(), Registry: fastRegistry,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rekor.entries.Load() != 4 {
		t.Fatalf("rekor entries %d (%v), want 4: signature + 3 attestations", rekor.entries.Load(), rekor.kinds)
	}
	policy := Policy{Identity: testEmail, Issuer: testIssuer, FulcioRoots: fulcio.RootPEM, RekorPublicKey: rekor.pubPEM, Require: allTypes, MaxSeverity: "LOW"}
	v, err := Verify(ctx, d.String(), policy, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("verify with tlog: %v %v", err, v.Err())
	}
	// Another log's key does not vouch for these entries.
	policy.RekorPublicKey = newFakeRekor(t).pubPEM
	v, err = Verify(ctx, d.String(), policy, fastRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := checkByName(v, "signature"); v.Passed || c.Passed {
		t.Fatalf("entries from an untrusted log passed: %+v", v.Checks)
	}
}
