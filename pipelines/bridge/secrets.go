package bridge

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"dagger.io/dagger"
)

// A Dockerfile refers to a build secret by id (RUN --mount=type=secret,id=ID)
// and Dagger's docker build takes the id from the secret's name. A secret the
// Dagger CLI makes from a URI (--build-secrets env://NPM_TOKEN) has no name,
// so the engine refuses it ("secret has no name"). BuildSecretID reads the
// name the URI already carries.
var secretIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// BuildSecretID is the Dockerfile secret id of a secret made from uri:
//
//	env://NAME                  NAME
//	file://path/to/NAME         NAME (the file's base name)
//	op://vault/item/FIELD       FIELD
//	vault://path/to/secret.KEY  KEY
//	cmd://COMMAND #NAME         NAME (a shell comment, so the command is unchanged)
//
// and likewise the last path element for the other providers.
func BuildSecretID(uri string) (string, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "", fmt.Errorf("build secret %q: not a secret URI such as env://NAME", uri)
	}
	rest, _, _ = strings.Cut(rest, "?") // op:// and vault:// take ?ttl=… options
	var id string
	switch scheme {
	case "cmd":
		// sh treats " #NAME" at the end as a comment: the command runs as written
		i := strings.LastIndex(rest, " #")
		if i < 0 {
			return "", fmt.Errorf("build secret cmd://…: a command's output has no name a Dockerfile can refer to; end the command with a shell comment naming it, e.g. --build-secrets='cmd://pass show npm #NPM_TOKEN' for RUN --mount=type=secret,id=NPM_TOKEN")
		}
		id = strings.TrimSpace(rest[i+2:])
	case "vault":
		id = path.Base(rest)
		if _, key, ok := strings.Cut(id, "."); ok {
			id = key
		}
	default:
		id = path.Base(strings.TrimRight(rest, "/"))
	}
	if !secretIDPattern.MatchString(id) {
		return "", fmt.Errorf("build secret %s: %q is not a usable Dockerfile secret id (letters, digits, _ . - only); name the variable or file after the id the Dockerfile mounts", redactCmd(scheme, uri), id)
	}
	return id, nil
}

// redactCmd keeps a command out of an error: it may hold a credential.
func redactCmd(scheme, uri string) string {
	if scheme == "cmd" {
		return "cmd://…"
	}
	return uri
}

// BuildSecrets gives every build secret the name a Dockerfile refers to it
// by. A secret that has a name keeps it; one made from a URI is copied
// under the name BuildSecretID reads from the URI. The copy is a Dagger
// secret of the same session: the plaintext goes from the engine to the
// engine, never into an argument, a log or a layer.
func BuildSecrets(ctx context.Context, c *dagger.Client, in []*dagger.Secret) ([]*dagger.Secret, error) {
	out := make([]*dagger.Secret, 0, len(in))
	seen := map[string]int{}
	for i, s := range in {
		if s == nil {
			continue
		}
		name, err := s.Name(ctx)
		if err != nil {
			return nil, fmt.Errorf("build secret %d: reading its name: %w", i+1, err)
		}
		if name == "" {
			uri, err := s.URI(ctx)
			if err != nil {
				return nil, fmt.Errorf("build secret %d: reading its URI: %w", i+1, err)
			}
			if name, err = BuildSecretID(uri); err != nil {
				return nil, err
			}
			plain, err := s.Plaintext(ctx)
			if err != nil {
				return nil, fmt.Errorf("build secret %s: reading it: %w", name, err)
			}
			s = c.SetSecret(name, plain)
		}
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("build secrets %d and %d both have the id %s: a Dockerfile could not tell them apart; rename one", j, i+1, name)
		}
		seen[name] = i + 1
		out = append(out, s)
	}
	return out, nil
}
