package sign

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/paved-ci/paved/internal/regtest"
	"github.com/paved-ci/paved/pipelines/regauth"
)

// Signing and verifying reach each hosted registry with its login flow
// (see regtest.Kinds): the right username and CI token sign and verify;
// a wrong token, a wrong username or none fail naming the registry and
// the provider's fix; the token shows in no error and no log.
func TestCloudRegistryLogins(t *testing.T) {
	const token = "SENTINEL-ci-token-81d0"
	k := newKey(t, "pw")
	ctx := context.Background()
	creds := Credentials{Key: k.priv, Password: k.pass}
	var outputs []string
	logged := regtest.Logs(t)
	for _, kind := range regtest.Kinds {
		t.Run(kind.Name(), func(t *testing.T) {
			reg := regtest.Start(t, kind, token)
			img, err := random.Image(512, 1)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := name.NewTag(kind.Host+"/acme/app:v1", name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: kind.Username, Password: token}), remote.WithTransport(reg.Transport())); err != nil {
				t.Fatal(err)
			}
			d, _ := img.Digest()
			image := ref.Context().Digest(d.String()).String()
			access := func(user, tok string) Registry {
				return Registry{Username: user, Password: []byte(tok), Insecure: true, Transport: reg.Transport(), Backoff: time.Millisecond}
			}
			// cosign reaches the provider's host name through the test
			// registry acting as its HTTP proxy
			proxied := LocalRunner{Env: []string{"HTTP_PROXY=http://" + reg.Addr, "HTTPS_PROXY=http://" + reg.Addr}}
			hint := regauth.Hint(kind.Host)
			failed := func(t *testing.T, err error, want ...string) {
				t.Helper()
				if err != nil {
					outputs = append(outputs, err.Error())
				}
				regtest.ErrContains(t, err, want...)
			}

			t.Run("right token", func(t *testing.T) {
				if _, err := SignWith(ctx, creds, Request{Image: image, SBOM: []byte(testSBOM), Registry: access(kind.Username, token), Cosign: proxied}); err != nil {
					t.Fatal(err)
				}
				v, err := VerifyWith(ctx, proxied, image, Policy{PublicKey: k.pub, Require: []string{"cyclonedx"}}, access(kind.Username, token))
				if err != nil || !v.Passed {
					t.Fatalf("verify: %v %v", err, v.Err())
				}
			})
			t.Run("wrong token", func(t *testing.T) {
				_, err := SignWith(ctx, creds, Request{Image: image, Registry: access(kind.Username, regtest.Expired(token)), Cosign: proxied})
				failed(t, err, "finding the image to sign "+image, "registry "+kind.Host+" refused the credentials (HTTP 401 Unauthorized)", hint)
				_, err = Verify(ctx, image, Policy{PublicKey: k.pub}, access(kind.Username, regtest.Expired(token)))
				failed(t, err, "resolving "+image, "registry "+kind.Host+" refused the credentials (HTTP 401 Unauthorized)", hint)
			})
			t.Run("wrong username", func(t *testing.T) {
				before, refusedBefore := reg.Counts()
				_, err := SignWith(ctx, creds, Request{Image: image, Registry: access(kind.WrongUsername, token), Cosign: proxied})
				if !kind.Strict {
					failed(t, err, "registry "+kind.Host+" refused the credentials", hint)
					return
				}
				failed(t, err, fmt.Sprintf("registry username %q: registry %s", kind.WrongUsername, kind.Host), fmt.Sprintf("takes the username %q", kind.Username))
				if seen, refused := reg.Counts(); seen != before || refused != refusedBefore {
					t.Errorf("requests were made: %d→%d seen, %d→%d refused", before, seen, refusedBefore, refused)
				}
			})
			t.Run("no credentials", func(t *testing.T) {
				_, err := Verify(ctx, image, Policy{PublicKey: k.pub}, access("", ""))
				failed(t, err, "registry "+kind.Host+" needs credentials (HTTP 401 Unauthorized) and none were given for it", hint)
			})
		})
	}
	regtest.CheckNoLeak(t, strings.Join(append(outputs, logged.String()), "\n"), token)
}

// A registry that quotes the request's credentials in an error body (a
// proxy, a misconfigured registry) must not carry them into paved's error.
func TestRegistryErrorsScrubEchoedCredentials(t *testing.T) {
	const token = "SENTINEL-ci-token-echo"
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var echo atomic.Bool // off while the test pushes the image
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, ok := r.BasicAuth()
		switch {
		case !ok: // ask for Basic credentials
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
		case echo.Load() && r.Method == http.MethodPut:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"bad request from %s (password %s)"}]}`, r.Header.Get("Authorization"), pass)
		default:
			reg.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	img, _ := random.Image(512, 1)
	ref, _ := name.NewTag(strings.TrimPrefix(srv.URL, "http://") + "/acme/app:v1")
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "ci", Password: token})); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	image := ref.Context().Digest(d.String()).String()
	echo.Store(true)
	k := newKey(t, "pw")
	_, err := SignWith(context.Background(), Credentials{Key: k.priv, Password: k.pass},
		Request{Image: image, SBOM: []byte(testSBOM), Registry: Registry{Username: "ci", Password: []byte(token), Retries: -1}})
	regtest.ErrContains(t, err, "pushing attestations (no signature was pushed) "+image, "DENIED: bad request from Basic *** (password ***)")
	regtest.CheckNoLeak(t, err.Error()+" 401", token)
}
