package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"

	"github.com/paved-ci/paved/pipelines/regauth"
	"github.com/paved-ci/paved/pipelines/regconn"
)

// Registry says how to reach the registry holding the image. The zero
// value is anonymous access with default retries.
type Registry struct {
	// Username and Password are basic credentials for the image's registry
	// (Password may be a token). They win over DockerConfig.
	Username string
	Password []byte
	// DockerConfig is the content of a Docker config.json ("auths" with
	// "auth" or username/password or identitytoken per registry host).
	// Credential helpers are not run.
	DockerConfig []byte
	// Insecure allows plain HTTP to a registry that is not loopback or
	// RFC 1918 (those already use HTTP).
	Insecure bool
	// Retries is how many times a request failing with a 5xx, 408, 429 or
	// a network timeout is retried (default 3; negative disables).
	Retries int
	// Backoff is the wait before the first retry, tripled each time
	// (default 500ms).
	Backoff time.Duration
	// Timeout bounds connecting and waiting for response headers of one
	// request (default 30s). The whole operation is bounded by ctx.
	Timeout time.Duration
	// CA is a PEM bundle trusted besides the system roots (a registry
	// with a private CA).
	CA []byte
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// retryStatus are the HTTP statuses worth another try.
var retryStatus = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

func (r Registry) nameOptions() []name.Option {
	if r.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// parseRef parses an image reference and names the input in the error.
func (r Registry) parseRef(ref string) (name.Reference, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, errors.New("image reference is empty: pass registry/repository@sha256:<digest> or :<tag>")
	}
	parsed, err := name.ParseReference(ref, append(r.nameOptions(), name.StrictValidation)...)
	if err != nil {
		return nil, fmt.Errorf("image reference %q is malformed (want registry/repository@sha256:<64 hex> or registry/repository:<tag>): %w", ref, err)
	}
	return parsed, nil
}

func (r Registry) remoteOptions(ctx context.Context, repo name.Repository) ([]remote.Option, error) {
	auth, err := r.authenticator(repo.RegistryStr())
	if err != nil {
		return nil, err
	}
	steps := r.Retries
	if steps == 0 {
		steps = 3
	}
	if steps < 0 {
		steps = 0
	}
	backoff := r.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	rt := r.Transport
	if rt == nil {
		timeout := r.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		t := remote.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
		t.ResponseHeaderTimeout = timeout
		t.TLSHandshakeTimeout = timeout
		if t, err = (regconn.Options{CA: r.CA}).Transport(t); err != nil {
			return nil, err
		}
		rt = t
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(auth),
		remote.WithTransport(rt),
		remote.WithUserAgent("paved-sign"),
		// Steps counts attempts, so one more than the retries.
		remote.WithRetryBackoff(remote.Backoff{Duration: backoff, Factor: 3, Jitter: 0.1, Steps: steps + 1}),
		remote.WithRetryStatusCodes(retryStatus...),
		remote.WithRetryPredicate(retryable),
	}, nil
}

func (r Registry) ociOptions(ctx context.Context, repo name.Repository) ([]ociremote.Option, error) {
	ro, err := r.remoteOptions(ctx, repo)
	if err != nil {
		return nil, err
	}
	return []ociremote.Option{ociremote.WithRemoteOptions(ro...), ociremote.WithNameOptions(r.nameOptions()...)}, nil
}

// retryable retries network failures that may pass: timeouts, resets, and
// the registry's temporary errors (5xx and friends are retried by status).
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.Temporary()
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

func (r Registry) authenticator(host string) (authn.Authenticator, error) {
	if r.Username != "" || len(r.Password) > 0 {
		if err := regauth.CheckUsername(host, r.Username); err != nil {
			return nil, fmt.Errorf("registry username %q: %v", r.Username, err)
		}
		return authn.FromConfig(authn.AuthConfig{Username: r.Username, Password: string(r.Password)}), nil
	}
	if len(r.DockerConfig) == 0 {
		return authn.Anonymous, nil
	}
	return dockerConfigAuth(r.DockerConfig, host)
}

// dockerConfigAuth picks the credentials for host out of config.json bytes.
// Errors never quote the content: it holds secrets.
func dockerConfigAuth(config []byte, host string) (authn.Authenticator, error) {
	var cfg struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
			RegistryToken string `json:"registrytoken"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, errors.New("registry docker config is not valid JSON (want the content of a Docker config.json with an \"auths\" object)")
	}
	for key, a := range cfg.Auths {
		if configHost(key) != configHost(host) {
			continue
		}
		ac := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("registry docker config: \"auth\" for %s is not base64 of user:password", key)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("registry docker config: \"auth\" for %s is not base64 of user:password", key)
			}
			ac.Username, ac.Password = user, pass
		}
		if _, known := regauth.Detect(host); known && ac.Username != "" {
			if err := regauth.CheckUsername(host, ac.Username); err != nil {
				return nil, fmt.Errorf("registry docker config: auths[%s]: %v", key, err)
			}
		}
		return authn.FromConfig(ac), nil
	}
	return authn.Anonymous, nil
}

// configHost normalises a config.json key ("https://index.docker.io/v1/",
// "ghcr.io") to a host.
func configHost(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "index.docker.io", "registry-1.docker.io", "docker.io":
		return name.DefaultRegistry
	}
	return s
}

// registryError says which registry failed doing what. A refusal (401,
// 403) says whether credentials were given and what the provider wants;
// other errors quote the registry, with the credentials scrubbed out in
// case it echoed them.
func (r Registry) registryError(what string, ref name.Reference, err error) error {
	host := ref.Context().RegistryStr()
	auth, aerr := r.authenticator(host)
	if aerr != nil {
		auth = authn.Anonymous
	}
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		status := fmt.Sprintf("HTTP %d %s", te.StatusCode, http.StatusText(te.StatusCode))
		var msg string
		if auth == authn.Anonymous {
			msg = fmt.Sprintf("registry %s needs credentials (%s) and none were given for it: give a registry username and token, or a Docker config with an auths entry for %s", host, status, host)
		} else {
			msg = fmt.Sprintf("registry %s refused the credentials (%s): check the username, that the token is valid and has access to %s", host, status, ref.Context().RepositoryStr())
		}
		if h := regauth.Hint(host); h != "" {
			msg += "; " + h
		}
		return fmt.Errorf("%s %s: %s", what, ref, msg)
	}
	for _, secret := range credentialSecrets(auth) {
		err = scrub(err, secret)
	}
	return fmt.Errorf("%s %s in registry %s: %w", what, ref, host, err)
}

// credentialSecrets are the values of a credential an error must not show.
func credentialSecrets(auth authn.Authenticator) [][]byte {
	cfg, err := authn.Authorization(context.Background(), auth)
	if err != nil || cfg == nil {
		return nil
	}
	var out [][]byte
	vals := []string{cfg.Password, cfg.IdentityToken, cfg.RegistryToken, cfg.Auth}
	if cfg.Password != "" {
		vals = append(vals, base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)))
	}
	for _, v := range vals {
		if len(v) >= 4 { // shorter values would scrub ordinary text
			out = append(out, []byte(v))
		}
	}
	return out
}
