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
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

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
	// Retries, Backoff, Timeout and Transport apply to paved's own
	// requests (resolving the digest, listing attachments); cosign's
	// pushes retry as cosign does (5xx, 408 and 429, three times).
	//
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
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return r.refusal(what, ref, fmt.Sprintf("HTTP %d %s", te.StatusCode, http.StatusText(te.StatusCode)))
	}
	for _, secret := range r.secrets(ref.Context().RegistryStr()) {
		err = scrub(err, secret)
	}
	return fmt.Errorf("%s %s in registry %s: %w", what, ref, ref.Context().RegistryStr(), err)
}

// refusedPattern is how cosign's registry client reports a refusal.
var refusedPattern = regexp.MustCompile(`(?i)\b(401|403|unauthorized|denied|forbidden)\b`)

// cosignError is registryError for a failed cosign call: a refusal gets
// the same advice, anything else quotes what cosign printed, scrubbed.
func (r Registry) cosignError(what string, ref name.Reference, err error, scrubbed ...[]byte) error {
	var ce *CallError
	if !errors.As(err, &ce) || ce.Err != nil {
		return fmt.Errorf("%s %s: %w", what, ref, err)
	}
	msg := scrubAll(ce.Stderr, append(r.secrets(ref.Context().RegistryStr()), scrubbed...))
	if m := refusedPattern.FindString(msg); m != "" {
		return r.refusal(what, ref, "cosign: "+lastLine(msg))
	}
	return fmt.Errorf("%s %s (registry %s): cosign %s failed: %s", what, ref, ref.Context().RegistryStr(), first(ce.Args), lastLine(msg))
}

// scrubAll replaces each secret in s with ***.
func scrubAll(s string, secrets [][]byte) string {
	for _, secret := range secrets {
		if len(secret) > 0 {
			s = strings.ReplaceAll(s, string(secret), "***")
		}
	}
	return s
}

// lastLine is the last non-empty line cosign printed: its error.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return oneLine(errors.New(l))
		}
	}
	return "(no output)"
}

func (r Registry) refusal(what string, ref name.Reference, status string) error {
	host := ref.Context().RegistryStr()
	auth, aerr := r.authenticator(host)
	if aerr != nil {
		auth = authn.Anonymous
	}
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

// secrets are the credential values for host that no message may show.
func (r Registry) secrets(host string) [][]byte {
	auth, err := r.authenticator(host)
	if err != nil {
		return nil
	}
	return credentialSecrets(auth)
}

// cosignAccess adds what a cosign call needs to reach host: a Docker
// config holding only that host's credentials (as a secret file; helpers
// and other hosts of a given config are not passed on), plain HTTP when
// opted in, and a private CA next to the system roots.
func (r Registry) cosignAccess(c *Call, host string) error {
	auth, err := r.authenticator(host)
	if err != nil {
		return err
	}
	if auth != authn.Anonymous {
		ac, err := authn.Authorization(context.Background(), auth)
		if err != nil {
			return fmt.Errorf("registry credentials for %s: %w", host, err)
		}
		entry := map[string]string{}
		for k, v := range map[string]string{"username": ac.Username, "password": ac.Password, "identitytoken": ac.IdentityToken, "registrytoken": ac.RegistryToken, "auth": ac.Auth} {
			if v != "" {
				entry[k] = v
			}
		}
		key := host
		if host == name.DefaultRegistry {
			key = "https://index.docker.io/v1/"
		}
		cfg, err := json.Marshal(map[string]any{"auths": map[string]any{key: entry}})
		if err != nil {
			return err
		}
		setSecretFile(c, "docker/config.json", cfg)
		setEnv(c, "DOCKER_CONFIG", Dir+"/docker")
	}
	if r.Insecure {
		c.Args = append(c.Args, "--allow-insecure-registry", "--allow-http-registry")
	}
	if len(r.CA) > 0 {
		setFile(c, "ca.d/registry-ca.pem", r.CA)
		// a folder of extra roots: Go reads it besides the system bundle
		setEnv(c, "SSL_CERT_DIR", Dir+"/ca.d:/etc/ssl/certs")
	}
	return nil
}

func setFile(c *Call, name string, b []byte) {
	if c.Files == nil {
		c.Files = map[string][]byte{}
	}
	c.Files[name] = b
}

func setSecretFile(c *Call, name string, b []byte) {
	if c.SecretFiles == nil {
		c.SecretFiles = map[string][]byte{}
	}
	c.SecretFiles[name] = b
}

func setEnv(c *Call, k, v string) {
	if c.Env == nil {
		c.Env = map[string]string{}
	}
	c.Env[k] = v
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
