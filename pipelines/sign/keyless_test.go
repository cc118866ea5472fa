package sign

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paved-ci/paved/internal/fulciotest"
)

const (
	testIssuer = "https://token.actions.example"
	testEmail  = "ci@acme.example"
)

func TestKeylessWithFakeFulcio(t *testing.T) {
	tok := fulciotest.JWT(map[string]string{"iss": testIssuer, "sub": "repo:acme/app", "email": testEmail, "aud": "sigstore"})
	fulcio := fulciotest.New(t, tok, testEmail, testIssuer)
	tr := newRegistry(t)
	d := tr.pushRandom(t, "app", "v1")
	ctx := context.Background()

	res, err := SignWith(ctx, Credentials{Keyless: &Keyless{IDToken: []byte(tok + "\n"), FulcioURL: fulcio.URL, NoTlog: true}}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Vuln: testVuln("LOW"), Provenance: testProvenance(), Registry: fastRegistry,
	})
	if err != nil {
		t.Fatal(err)
	}
	// one short-lived certificate per cosign call: three attestations, the signature
	if res.Mode != ModeKeyless || res.PublicKey != "" || fulcio.Calls.Load() != 4 {
		t.Fatalf("result %+v, fulcio calls %d", res, fulcio.Calls.Load())
	}

	for _, b := range tr.content(t) {
		if strings.Contains(string(b), tok) || strings.Contains(string(b), "SENTINEL-token-signature") {
			t.Fatal("the OIDC token reached the registry")
		}
	}

	policy := Policy{Identity: testEmail, Issuer: testIssuer, FulcioRoots: fulcio.RootPEM, IgnoreTlog: true, Require: allTypes, MaxSeverity: "MEDIUM"}
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
		"other identity": {Identity: "mallory@acme.example", Issuer: testIssuer, FulcioRoots: fulcio.RootPEM, IgnoreTlog: true},
		"other issuer":   {Identity: testEmail, Issuer: "https://accounts.example", FulcioRoots: fulcio.RootPEM, IgnoreTlog: true},
		"other root":     {Identity: testEmail, Issuer: testIssuer, FulcioRoots: fulciotest.New(t, "x", "y", "z").RootPEM, IgnoreTlog: true},
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
	tok := fulciotest.JWT(map[string]string{"iss": testIssuer, "sub": "repo:acme/app:ref:refs/heads/main", "email": testEmail})
	fulcio := fulciotest.New(t, tok, testEmail, testIssuer)
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

	k := Keyless{GitHubRequestURL: gh.URL + "/token?api-version=2.0", GitHubRequestToken: []byte(reqToken), FulcioURL: fulcio.URL, NoTlog: true}
	if _, err := SignWith(ctx, Credentials{Keyless: &k}, Request{Image: d.String(), Registry: fastRegistry}); err != nil {
		t.Fatal(err)
	}
	if audience.Load() != "sigstore" {
		t.Fatalf("audience %v", audience.Load())
	}
	v, err := Verify(ctx, d.String(), Policy{Identity: testEmail, Issuer: testIssuer, FulcioRoots: fulcio.RootPEM, IgnoreTlog: true}, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("%v %v", err, v.Err())
	}

	// Failures name the cause and never carry a token.
	other := fulciotest.JWT(map[string]string{"email": "x@y", "iss": "z"})
	u, _ := url.Parse(fulcio.URL)
	for name, tc := range map[string]struct {
		k    Keyless
		want string
	}{
		"no token":          {Keyless{FulcioURL: fulcio.URL}, "no OIDC token"},
		"not a JWT":         {Keyless{IDToken: []byte("SENTINEL-opaque"), FulcioURL: fulcio.URL}, "not a JWT"},
		"rejected token":    {Keyless{IDToken: []byte(other), FulcioURL: fulcio.URL, NoTlog: true}, "401"},
		"bad request tok":   {Keyless{GitHubRequestURL: gh.URL, GitHubRequestToken: []byte(reqToken + "x"), FulcioURL: fulcio.URL}, "fetching the GitHub OIDC token"},
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
