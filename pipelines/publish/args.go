package publish

import (
	"errors"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/regauth"
)

// AuthHint is the module's advice for a registry without credentials.
const AuthHint = "pass --registry-username and --registry-password env:TOKEN (registry of the first --image), " +
	"chain with-registry-auth --address %s --username USER --secret env:TOKEN before the call, or pass --docker-config"

// AuthArgs are registry credentials as a module takes them: a username
// and password secret for the first repository's registry, plus any
// number chained per registry (with-registry-auth).
type AuthArgs struct {
	Repos    []string
	Username string
	Password *dagger.Secret
	Chained  []RegistryAuth
}

// Resolve checks the arguments and lists the credentials; the shorthand
// wins over a chained credential for the same registry.
func (a AuthArgs) Resolve() ([]RegistryAuth, error) {
	var out []RegistryAuth
	for _, c := range a.Chained {
		host, err := normalizeHost(c.Registry)
		if err != nil {
			return nil, fmt.Errorf("with-registry-auth --address: %v", err)
		}
		switch {
		case c.Username == "":
			return nil, fmt.Errorf("with-registry-auth --address %s: --username is empty", c.Registry)
		case c.Secret == nil:
			return nil, fmt.Errorf("with-registry-auth --address %s: --secret is missing", c.Registry)
		}
		if err := regauth.CheckUsername(host, c.Username); err != nil {
			return nil, fmt.Errorf("with-registry-auth --address %s --username %s: %v", c.Registry, c.Username, err)
		}
		c.Registry = host
		if c.Source == "" {
			c.Source = "with-registry-auth --address " + c.Registry
		}
		out = append(out, c)
	}
	if a.Username == "" && a.Password == nil {
		return out, nil
	}
	if a.Username == "" || a.Password == nil {
		return nil, errors.New("--registry-username and --registry-password go together: give both (the password as a secret, e.g. env:REGISTRY_TOKEN)")
	}
	if len(a.Repos) == 0 {
		return nil, errors.New("--registry-username/--registry-password are for the registry of the first --image, and no --image was given (the embedded registry needs no credentials)")
	}
	r, err := ParseRepo(a.Repos[0], nil)
	if err != nil {
		return nil, err
	}
	host := r.RegistryStr()
	if err := regauth.CheckUsername(host, a.Username); err != nil {
		return nil, fmt.Errorf("--registry-username %s: %v", a.Username, err)
	}
	kept := out[:0]
	for _, c := range out {
		if c.Registry != host {
			kept = append(kept, c)
		}
	}
	return append(kept, RegistryAuth{Registry: host, Username: a.Username, Secret: a.Password, Source: "--registry-password"}), nil
}

// PairAuth turns ship's --registry-auth HOST=USER and --registry-auth-secret
// lists (paired in order) into credentials for several registries, one
// per host; secrets stay Dagger secrets.
func PairAuth(hosts []string, secrets []*dagger.Secret) ([]RegistryAuth, error) {
	if len(hosts) != len(secrets) {
		return nil, fmt.Errorf("--registry-auth and --registry-auth-secret pair up in order: %d hosts but %d secrets (give one secret per HOST=USER)", len(hosts), len(secrets))
	}
	var out []RegistryAuth
	seen := map[string]bool{}
	for i, hu := range hosts {
		h, user, ok := strings.Cut(hu, "=")
		if !ok || strings.TrimSpace(user) == "" {
			return nil, fmt.Errorf("--registry-auth %q: want HOST=USER, e.g. quay.io=robot+ci (the password goes in --registry-auth-secret)", hu)
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if strings.Contains(h, "/") {
			return nil, fmt.Errorf("--registry-auth %q: give the registry host without scheme or path, e.g. quay.io=robot+ci", hu)
		}
		host, err := normalizeHost(h)
		if err != nil {
			return nil, fmt.Errorf("--registry-auth %q: %v", hu, err)
		}
		if err := regauth.CheckUsername(host, strings.TrimSpace(user)); err != nil {
			return nil, fmt.Errorf("--registry-auth %q: %v", hu, err)
		}
		if seen[host] {
			return nil, fmt.Errorf("--registry-auth: %s is given twice", host)
		}
		if secrets[i] == nil {
			return nil, fmt.Errorf("--registry-auth-secret %d (for %s) is missing", i+1, host)
		}
		seen[host] = true
		out = append(out, RegistryAuth{Registry: host, Username: strings.TrimSpace(user), Secret: secrets[i], Source: "--registry-auth " + host})
	}
	return out, nil
}
