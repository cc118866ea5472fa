package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
)

// Public Sigstore instances, the defaults for keyless signing.
const (
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
	DefaultRekorURL  = "https://rekor.sigstore.dev"
)

// Keyless configures signing with a short-lived Fulcio certificate bound to
// the CI's OIDC identity.
type Keyless struct {
	// IDToken is an OIDC token with audience "sigstore". On GitLab it is the
	// variable declared under id_tokens (e.g. SIGSTORE_ID_TOKEN).
	IDToken []byte
	// GitHubRequestURL and GitHubRequestToken are the runner's
	// ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN (job permission id-token:
	// write); used to fetch a token with audience "sigstore" when IDToken
	// is empty.
	GitHubRequestURL   string
	GitHubRequestToken []byte
	// FulcioURL and RekorURL override the public Sigstore instances.
	FulcioURL string
	RekorURL  string
	// NoTlog skips the Rekor upload (private setups, tests). Verifiers then
	// need the Fulcio roots and must accept a missing transparency log entry.
	NoTlog bool
	// Timeout bounds each cosign call (cosign's default: 3 minutes).
	Timeout time.Duration
}

// keylessSigner gets the OIDC token and has cosign sign with a Fulcio
// certificate for it. The token reaches cosign as a secret file.
func keylessSigner(ctx context.Context, k Keyless) (*signer, error) {
	tok, err := k.token(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tokenSubject(tok); err != nil {
		return nil, err
	}
	fulcioURL := k.FulcioURL
	if fulcioURL == "" {
		fulcioURL = DefaultFulcioURL
	}
	if fu, err := url.Parse(fulcioURL); err != nil || fu.Host == "" {
		return nil, fmt.Errorf("keyless: Fulcio URL %q is not an absolute URL (want e.g. %s)", fulcioURL, DefaultFulcioURL)
	}
	rekorURL := k.RekorURL
	if rekorURL == "" {
		rekorURL = DefaultRekorURL
	}
	if ru, err := url.Parse(rekorURL); err != nil || ru.Host == "" {
		return nil, fmt.Errorf("keyless: Rekor URL %q is not an absolute URL (want e.g. %s)", rekorURL, DefaultRekorURL)
	}
	s := &signer{mode: ModeKeyless, hide: [][]byte{tok}, fulcio: fulcioURL}
	s.call.Args = []string{"--identity-token", Dir + "/oidc-token", "--fulcio-url", fulcioURL, "--rekor-url", rekorURL}
	if k.Timeout > 0 {
		s.call.Args = append(s.call.Args, "--timeout", k.Timeout.String())
	}
	if k.NoTlog {
		s.call.Args = append(s.call.Args, "--tlog-upload=false")
	}
	if fulcioURL != DefaultFulcioURL {
		// A private Fulcio's certificate transparency log is not in
		// Sigstore's public trust root; its SCT is checked at verify time
		// against the roots the policy names.
		s.call.Args = append(s.call.Args, "--insecure-skip-verify")
	}
	setSecretFile(&s.call, "oidc-token", tok)
	return s, nil
}

func (k Keyless) token(ctx context.Context) ([]byte, error) {
	if len(k.IDToken) > 0 {
		return []byte(strings.TrimSpace(string(k.IDToken))), nil
	}
	if k.GitHubRequestURL == "" || len(k.GitHubRequestToken) == 0 {
		return nil, errors.New("keyless: no OIDC token: on GitHub give the job `permissions: id-token: write` and pass ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN; on GitLab declare `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore` and pass it")
	}
	env := map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   k.GitHubRequestURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": string(k.GitHubRequestToken),
	}
	gh := githubactions.New(githubactions.WithGetenv(func(key string) string { return env[key] }))
	tok, err := gh.GetIDToken(ctx, "sigstore")
	if err != nil {
		return nil, fmt.Errorf("keyless: fetching the GitHub OIDC token: %w", scrub(err, k.GitHubRequestToken))
	}
	return []byte(tok), nil
}

// tokenSubject reads the identity Fulcio certifies (email, else sub) from
// the token's claims; Fulcio checks the token's signature.
func tokenSubject(tok []byte) (string, error) {
	parts := strings.Split(string(tok), ".")
	if len(parts) != 3 {
		return "", errors.New("keyless: the OIDC token is not a JWT (want header.payload.signature)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", errors.New("keyless: the OIDC token's payload is not base64url")
	}
	var c struct {
		Email string `json:"email"`
		Sub   string `json:"sub"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", errors.New("keyless: the OIDC token's payload is not JSON")
	}
	if c.Email != "" {
		return c.Email, nil
	}
	if c.Sub == "" {
		return "", errors.New("keyless: the OIDC token has neither an email nor a sub claim")
	}
	return c.Sub, nil
}

// scrub removes a secret from an error message a library built.
func scrub(err error, secret []byte) error {
	if len(secret) == 0 || !strings.Contains(err.Error(), string(secret)) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), string(secret), "***"))
}
