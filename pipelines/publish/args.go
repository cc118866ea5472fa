package publish

import (
	"errors"
	"fmt"

	"dagger.io/dagger"
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
	kept := out[:0]
	for _, c := range out {
		if c.Registry != host {
			kept = append(kept, c)
		}
	}
	return append(kept, RegistryAuth{Registry: host, Username: a.Username, Secret: a.Password, Source: "--registry-password"}), nil
}
