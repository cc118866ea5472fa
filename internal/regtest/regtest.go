// Package regtest stands in for hosted registries in tests: an in-memory
// registry on loopback that demands the login flow a provider uses (Docker
// token auth with a Bearer realm, or Basic auth), reached under the
// provider's real host name through a transport that routes that name to
// loopback. Tests only.
package regtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/logs"
	"github.com/google/go-containerregistry/pkg/registry"
)

// Kind is one hosted registry: its host, the username its CI token goes
// with, and the challenge it answers an anonymous request with.
type Kind struct {
	ID       string // regauth provider ID ("" for one paved does not know)
	Host     string
	Username string
	// Realm is the token endpoint (path, or a full URL on another host,
	// as GitLab's); "" means the registry asks for Basic auth.
	Realm   string
	Service string
	// WrongUsername is a username the registry refuses with the right
	// token; Strict says paved refuses it before any request.
	WrongUsername string
	Strict        bool
}

// Kinds are the registries of the docs' table, each with the flow and
// username convention its provider documents.
var Kinds = []Kind{
	// ECR answers with a Basic challenge; the password is the token from
	// aws ecr get-login-password.
	{ID: "ecr", Host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", Username: "AWS", WrongUsername: "admin", Strict: true},
	{ID: "gar", Host: "europe-west1-docker.pkg.dev", Username: "oauth2accesstoken", Realm: "/v2/token", Service: "europe-west1-docker.pkg.dev", WrongUsername: "ci@acme.iam.gserviceaccount.com", Strict: true},
	{ID: "acr", Host: "acmeprod.azurecr.io", Username: "00000000-0000-0000-0000-000000000000", Realm: "/oauth2/token", Service: "acmeprod.azurecr.io", WrongUsername: "acme-ci"},
	{ID: "ghcr", Host: "ghcr.io", Username: "octocat", Realm: "/token", Service: "ghcr.io", WrongUsername: "someone-else"},
	{ID: "gitlab", Host: "registry.gitlab.com", Username: "gitlab-ci-token", Realm: "http://gitlab.com/jwt/auth", Service: "container_registry", WrongUsername: "root"},
	{ID: "artifactory", Host: "acme.jfrog.io", Username: "ci-robot", Realm: "/artifactory/api/docker/docker-local/v2/token", Service: "acme.jfrog.io", WrongUsername: "admin"},
	// Nexus: Basic auth with a service account's token.
	{Host: "nexus.acme.example", Username: "ci-robot", WrongUsername: "admin"},
}

// Registry is a loopback registry demanding Kind's login.
type Registry struct {
	Kind
	// Addr is the loopback address the Kind's host names route to.
	Addr  string
	Token string // the CI token the registry accepts

	mu sync.Mutex
	// issued are the bearer tokens handed out, seen the requests that
	// reached the registry, tokenRequests those to the realm.
	issued        map[string]bool
	seen, refused int
	tokenRequests []string // "user scope" of each token request
}

// Start serves an in-memory registry that accepts k.Username with token.
func Start(t testing.TB, k Kind, token string) *Registry {
	t.Helper()
	r := &Registry{Kind: k, Token: token, issued: map[string]bool{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.serveAuth(w, req) {
			reg.ServeHTTP(w, req)
		}
	}))
	t.Cleanup(srv.Close)
	r.Addr = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// Transport routes the registry's host (and the realm's) to loopback;
// other hosts are dialled as usual.
func (r *Registry) Transport() http.RoundTripper {
	hosts := map[string]bool{r.Host: true}
	if i := strings.Index(r.Realm, "://"); i >= 0 {
		h, _, _ := strings.Cut(r.Realm[i+3:], "/")
		hosts[h] = true
	}
	return Route(hosts, r.Addr)
}

// Route dials addr for every host in hosts (any port).
func Route(hosts map[string]bool, addr string) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{}
	t.DialContext = func(ctx context.Context, network, hostport string) (net.Conn, error) {
		h, _, err := net.SplitHostPort(hostport)
		if err == nil && hosts[h] {
			hostport = addr
		}
		return d.DialContext(ctx, network, hostport)
	}
	return t
}

// serveAuth answers token requests and challenges; false lets the
// request through to the registry.
func (r *Registry) serveAuth(w http.ResponseWriter, req *http.Request) bool {
	realmPath := r.Realm
	if i := strings.Index(realmPath, "://"); i >= 0 {
		_, realmPath, _ = strings.Cut(realmPath[i+3:], "/")
		realmPath = "/" + realmPath
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.Realm != "" && req.URL.Path == realmPath:
		u, p, ok := req.BasicAuth()
		r.tokenRequests = append(r.tokenRequests, u+" "+req.URL.Query().Get("scope"))
		if !ok || u != r.Username || p != r.Token || req.URL.Query().Get("service") != r.Service {
			r.refuse(w, "")
			return true
		}
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		tok := "issued-" + hex.EncodeToString(b)
		r.issued[tok] = true
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
		return true
	case r.Realm != "":
		if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && r.issued[tok] {
			r.seen++
			return false
		}
		realm := r.Realm
		if !strings.Contains(realm, "://") {
			realm = "http://" + req.Host + realm
		}
		challenge := fmt.Sprintf(`Bearer realm=%q,service=%q`, realm, r.Service)
		if repo := repoOf(req.URL.Path); repo != "" {
			challenge += fmt.Sprintf(`,scope="repository:%s:pull,push"`, repo)
		}
		r.refuse(w, challenge)
		return true
	default:
		if u, p, ok := req.BasicAuth(); ok && u == r.Username && p == r.Token {
			r.seen++
			return false
		}
		r.refuse(w, fmt.Sprintf(`Basic realm="https://%s/",service=%q`, req.Host, r.Host))
		return true
	}
}

// refuse answers 401 the way registries do: a challenge and an error
// body that quotes nothing the client sent.
func (r *Registry) refuse(w http.ResponseWriter, challenge string) {
	r.refused++
	if challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
}

// repoOf is the repository in a /v2/<repo>/{manifests,blobs,tags}/ path.
func repoOf(path string) string {
	p := strings.TrimPrefix(path, "/v2/")
	for _, sep := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.Index(p, sep); i >= 0 {
			return p[:i]
		}
	}
	return ""
}

// Counts returns how many requests reached the registry and how many
// were refused.
func (r *Registry) Counts() (seen, refused int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen, r.refused
}

// TokenRequests lists "username scope" for each request to the realm.
func (r *Registry) TokenRequests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.tokenRequests...)
}

// CaptureOutput collects stdout, stderr and the logs (see Logs) while f
// runs: where a leaked secret would show.
func CaptureOutput(t testing.TB, f func()) []byte {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&buf, r); close(done) }()
	restore := setLogs(w)
	defer func() {
		os.Stdout, os.Stderr = oldOut, oldErr
		restore()
	}()
	f()
	w.Close()
	<-done
	return buf.Bytes()
}

// Logs sends the standard logger and go-containerregistry's logs (debug
// included, which dumps every request) to the returned buffer until the
// test ends. Unlike CaptureOutput it leaves stdout to the test's own
// failure messages.
func Logs(t testing.TB) *Buffer {
	b := &Buffer{}
	t.Cleanup(setLogs(b))
	return b
}

func setLogs(w io.Writer) (restore func()) {
	logs.Warn.SetOutput(w)
	logs.Progress.SetOutput(w)
	logs.Debug.SetOutput(w)
	log.SetOutput(w)
	return func() {
		logs.Warn.SetOutput(io.Discard)
		logs.Progress.SetOutput(io.Discard)
		logs.Debug.SetOutput(io.Discard)
		log.SetOutput(os.Stderr)
	}
}

// Buffer is a bytes.Buffer safe for concurrent writers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Name names a subtest after the registry kind.
func (k Kind) Name() string {
	if k.ID == "" {
		return "basic-" + k.Host
	}
	return k.ID
}

// Expired is the wrong token tests send: the right one, expired.
func Expired(token string) string { return token + "-expired" }

// CheckNoLeak fails t if text holds token, or the Basic credentials any
// Kind's username (right or wrong) makes with it or its Expired form.
func CheckNoLeak(t testing.TB, text, token string) {
	t.Helper()
	secrets := []string{token}
	for _, k := range Kinds {
		for _, u := range []string{k.Username, k.WrongUsername} {
			for _, tok := range []string{token, Expired(token)} {
				secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(u+":"+tok)))
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("secret %q leaked into an error or a log", s)
		}
	}
	// the check must have run over real refusals
	if !strings.Contains(text, "UNAUTHORIZED") && !strings.Contains(text, "401") {
		t.Error("no registry refusal in the text: the leak check ran over nothing")
	}
}

// ErrContains fails t unless err is an error whose text has every want.
func ErrContains(t testing.TB, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want an error with %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}
