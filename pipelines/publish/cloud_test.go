package publish

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paved-ci/paved/internal/regtest"
	"github.com/paved-ci/paved/pipelines/regauth"
)

// Each hosted registry's login flow, on loopback under its real host name:
// the right username and CI token publish; a wrong token or username fails
// naming the registry, the credential's source and the provider's fix; the
// token never shows in an error or a log.
func TestCloudRegistryLogins(t *testing.T) {
	const token = "SENTINEL-ci-token-5b2e"
	src, _ := newRegistry(t)
	srcRef := pushIndex(t, src, "app", randomIndex(t))

	var outputs []string
	logged := regtest.Logs(t)
	for _, k := range regtest.Kinds {
		t.Run(k.Name(), func(t *testing.T) {
			reg := regtest.Start(t, k, token)
			repo := k.Host + "/acme/app"
			publisher := func(t *testing.T, user, tok string) *Publisher {
				t.Helper()
				var creds []Credential
				if user != "" {
					creds = []Credential{{Registry: k.Host, Username: user, Token: tok, Source: "--registry-password"}}
				}
				auth, err := NewAuth(creds, nil)
				if err != nil {
					t.Fatal(err)
				}
				return &Publisher{Auth: auth, Insecure: []string{k.Host}, Transport: reg.Transport(), Retry: fast(), AuthHint: AuthHint}
			}
			hint := regauth.Hint(k.Host)
			if (hint == "") != (k.ID == "") {
				t.Fatalf("hint for %s: %q", k.Host, hint)
			}
			// failed checks an error: names the registry and what to
			// fix (the provider's hint once a registry refused).
			failed := func(t *testing.T, err error, refused bool, want ...string) {
				t.Helper()
				if err != nil {
					outputs = append(outputs, err.Error())
				}
				if refused {
					want = append(want, hint)
				}
				regtest.ErrContains(t, err, want...)
			}
			t.Run("right token", func(t *testing.T) {
				res, err := publisher(t, k.Username, token).Publish(ctx(t), Request{Source: srcRef, Repos: []string{repo}, Tags: tagList("v1.0.0!", "latest")})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Written) != 2 || len(res.Copied) != 1 {
					t.Errorf("result %+v", res)
				}
				seen, _ := reg.Counts()
				if seen == 0 {
					t.Error("no request reached the registry authenticated")
				}
				if k.Realm != "" {
					// the token endpoint got the CI identity and a push scope
					want := k.Username + " repository:acme/app:push,pull"
					if !strings.Contains(strings.Join(reg.TokenRequests(), "\n"), want) {
						t.Errorf("token requests %q lack %q", reg.TokenRequests(), want)
					}
				}
			})
			t.Run("wrong token", func(t *testing.T) {
				_, err := publisher(t, k.Username, regtest.Expired(token)).Publish(ctx(t), Request{Source: srcRef, Repos: []string{repo}, Tags: tagList("v2")})
				failed(t, err, true, "registry "+k.Host+" refused the credentials from --registry-password (HTTP 401)")
			})
			t.Run("wrong username", func(t *testing.T) {
				before, refusedBefore := reg.Counts()
				auth, err := NewAuth([]Credential{{Registry: k.Host, Username: k.WrongUsername, Token: token, Source: "--registry-password"}}, nil)
				if k.Strict {
					// refused before any request, naming the username to use
					failed(t, err, false, "registry credential --registry-password: registry "+k.Host, fmt.Sprintf("takes the username %q, not %q", k.Username, k.WrongUsername))
					if seen, refused := reg.Counts(); seen != before || refused != refusedBefore {
						t.Errorf("requests were made: %d→%d seen, %d→%d refused", before, seen, refusedBefore, refused)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				p := &Publisher{Auth: auth, Insecure: []string{k.Host}, Transport: reg.Transport(), Retry: fast()}
				_, err = p.Publish(ctx(t), Request{Source: srcRef, Repos: []string{repo}, Tags: tagList("v3")})
				failed(t, err, true, "registry "+k.Host+" refused the credentials from --registry-password (HTTP 401)")
			})
			t.Run("no credentials", func(t *testing.T) {
				_, err := publisher(t, "", "").Publish(ctx(t), Request{Source: srcRef, Repos: []string{repo}, Tags: tagList("v4")})
				failed(t, err, true, "registry "+k.Host+" needs credentials (HTTP 401) and none were given for it", "--registry-password env:TOKEN")
			})
		})
	}
	outputs = append(outputs, logged.String())
	if len(outputs[len(outputs)-1]) == 0 {
		t.Error("nothing was logged: ggcr's debug log should have dumped the requests")
	}
	regtest.CheckNoLeak(t, strings.Join(outputs, "\n"), token)
}
