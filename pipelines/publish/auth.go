package publish

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/paved-ci/paved/pipelines/regauth"
)

// Credential is a username and token for one registry, held in memory
// only. Its String and GoString never show the token.
type Credential struct {
	// Registry is a host with optional port ("ghcr.io",
	// "registry.example.com:5000"); "docker.io" means Docker Hub.
	Registry string
	Username string
	Token    string
	// Source names where the credential came from (an argument or
	// secret name) so an error can say which one to fix.
	Source string
}

func (c Credential) String() string {
	return fmt.Sprintf("credential{%s user=%s token=***}", c.Registry, c.Username)
}

// GoString keeps %#v from printing the token.
func (c Credential) GoString() string { return c.String() }

// Auth resolves credentials by registry host. It implements
// authn.Keychain; hosts without a credential are anonymous.
type Auth struct {
	byHost map[string]authn.AuthConfig
	source map[string]string
	// secrets are the values to scrub from any error text.
	secrets []string
	// unusable notes a Docker config's credsStore/credHelpers, which
	// paved cannot call; reported when a registry then refuses access.
	unusable string
}

// NewAuth builds an Auth from explicit credentials and, optionally, the
// body of a Docker config.json ({"auths": {"host": {"auth": "..."}}}).
// Explicit credentials win over the config for the same host.
func NewAuth(creds []Credential, dockerConfig []byte) (*Auth, error) {
	a := &Auth{byHost: map[string]authn.AuthConfig{}, source: map[string]string{}}
	if len(dockerConfig) > 0 {
		var cfg struct {
			Auths       map[string]authn.AuthConfig `json:"auths"`
			CredsStore  string                      `json:"credsStore"`
			CredHelpers map[string]string           `json:"credHelpers"`
		}
		if err := json.Unmarshal(dockerConfig, &cfg); err != nil {
			// the JSON error could quote a piece of the config: keep
			// only its kind
			return nil, fmt.Errorf("docker config: not valid JSON (%s); want {\"auths\": {\"registry.example.com\": {\"auth\": \"<base64 user:token>\"}}}", jsonErrKind(err))
		}
		for k, v := range cfg.Auths {
			host, err := normalizeHost(k)
			if err != nil {
				return nil, fmt.Errorf("docker config: auths key %q: %v", k, err)
			}
			// Only known hosts: an unused entry with an odd host must not
			// refuse the whole config.
			if _, known := regauth.Detect(host); known && configUser(v) != "" {
				if err := regauth.CheckUsername(host, configUser(v)); err != nil {
					return nil, fmt.Errorf("docker config auths[%s]: %v", k, err)
				}
			}
			a.byHost[host] = v
			a.source[host] = "docker config auths[" + k + "]"
			a.remember(v.Password, v.IdentityToken, v.RegistryToken, v.Auth)
			if v.Username != "" && v.Password != "" {
				a.remember(base64.StdEncoding.EncodeToString([]byte(v.Username + ":" + v.Password)))
			}
		}
		if cfg.CredsStore != "" || len(cfg.CredHelpers) > 0 {
			a.unusable = "the docker config names a credential helper (credsStore/credHelpers), which paved cannot run; put an \"auths\" entry with the token instead (for a cloud registry, mint the token in the CI job: see \"Cloud registries\" in paved's docs/publishing.md)"
		}
	}
	for _, c := range creds {
		host, err := normalizeHost(c.Registry)
		if err != nil {
			return nil, fmt.Errorf("registry credential %s: %v", labelOf(c), err)
		}
		if c.Username == "" || c.Token == "" {
			return nil, fmt.Errorf("registry credential %s for %s: username and token are both required", labelOf(c), host)
		}
		if err := regauth.CheckUsername(host, c.Username); err != nil {
			return nil, fmt.Errorf("registry credential %s: %v", labelOf(c), err)
		}
		a.byHost[host] = authn.AuthConfig{Username: c.Username, Password: c.Token}
		a.source[host] = labelOf(c)
		a.remember(c.Token, base64.StdEncoding.EncodeToString([]byte(c.Username+":"+c.Token)))
	}
	return a, nil
}

// configUser is the username of a docker config entry, also when it is
// only inside "auth" (base64 of user:token); "" when there is none.
func configUser(v authn.AuthConfig) string {
	if v.Username != "" || v.Auth == "" {
		return v.Username
	}
	raw, err := base64.StdEncoding.DecodeString(v.Auth)
	if err != nil {
		return ""
	}
	user, _, _ := strings.Cut(string(raw), ":")
	return user
}

func labelOf(c Credential) string {
	if c.Source != "" {
		return c.Source
	}
	return "for " + c.Registry
}

func (a *Auth) remember(vals ...string) {
	for _, v := range vals {
		if len(v) >= 4 { // shorter values would scrub ordinary text
			a.secrets = append(a.secrets, v)
		}
	}
}

// String and GoString keep %v and %#v from printing the tokens.
func (a *Auth) String() string {
	if a == nil {
		return "auth{}"
	}
	return fmt.Sprintf("auth{hosts=%v}", a.Hosts())
}

func (a *Auth) GoString() string { return a.String() }

// Resolve implements authn.Keychain.
func (a *Auth) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if a == nil {
		return authn.Anonymous, nil
	}
	if c, ok := a.byHost[r.RegistryStr()]; ok {
		return authn.FromConfig(c), nil
	}
	return authn.Anonymous, nil
}

// Has reports whether host has a credential.
func (a *Auth) Has(host string) bool {
	if a == nil {
		return false
	}
	_, ok := a.byHost[host]
	return ok
}

// Hosts lists the hosts with credentials, sorted.
func (a *Auth) Hosts() []string {
	if a == nil {
		return nil
	}
	var out []string
	for h := range a.byHost {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Scrub replaces every known secret value in s with ***.
func (a *Auth) Scrub(s string) string {
	if a == nil {
		return s
	}
	for _, v := range a.secrets {
		s = strings.ReplaceAll(s, v, "***")
	}
	return s
}

// normalizeHost turns a registry as users write it ("https://ghcr.io/",
// "docker.io", "index.docker.io/v1/") into the host go-containerregistry
// uses for requests.
func normalizeHost(s string) (string, error) {
	h := strings.TrimSpace(s)
	h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	if h == "" {
		return "", fmt.Errorf("registry %q has no host; want e.g. ghcr.io or registry.example.com:5000", s)
	}
	reg, err := name.NewRegistry(h, name.StrictValidation)
	if err != nil || strings.ContainsAny(h, " @") {
		return "", fmt.Errorf("registry %q is not a host[:port]; want e.g. ghcr.io or registry.example.com:5000", s)
	}
	return reg.RegistryStr(), nil
}

func jsonErrKind(err error) string {
	switch err.(type) {
	case *json.SyntaxError:
		return "syntax error"
	case *json.UnmarshalTypeError:
		return "a field has the wrong type"
	}
	return "cannot decode"
}
