package sign

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/fulcio/pkg/api"
	rekorclient "github.com/sigstore/rekor/pkg/client"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Public Sigstore instances, the defaults for keyless signing.
const (
	DefaultFulcioURL = api.SigstorePublicServerURL
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
	// Timeout bounds each Fulcio/Rekor call (default 30s).
	Timeout time.Duration
}

// NewKeylessSigner gets an OIDC token, generates an ephemeral key and has
// Fulcio certify it for the token's identity.
func NewKeylessSigner(ctx context.Context, k Keyless) (Signer, error) {
	tok, err := k.token(ctx)
	if err != nil {
		return nil, err
	}
	subject, err := tokenSubject(tok)
	if err != nil {
		return nil, err
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	fulcioURL := k.FulcioURL
	if fulcioURL == "" {
		fulcioURL = DefaultFulcioURL
	}
	fu, err := url.Parse(fulcioURL)
	if err != nil || fu.Host == "" {
		return nil, fmt.Errorf("keyless: Fulcio URL %q is not an absolute URL (want e.g. %s)", fulcioURL, DefaultFulcioURL)
	}
	pk, err := cosign.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("keyless: generating a key: %w", err)
	}
	sv, err := signature.LoadECDSASignerVerifier(pk, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("keyless: %w", err)
	}
	pub, err := cryptoutils.MarshalPublicKeyToPEM(pk.Public())
	if err != nil {
		return nil, fmt.Errorf("keyless: %w", err)
	}
	// Proof of possession: the key signs the token's subject.
	proof, err := sv.SignMessage(strings.NewReader(subject))
	if err != nil {
		return nil, fmt.Errorf("keyless: %w", err)
	}
	resp, err := api.NewClient(fu, api.WithTimeout(timeout), api.WithUserAgent("paved-sign")).
		SigningCert(api.CertificateRequest{PublicKey: api.Key{Content: pub}, SignedEmailAddress: proof}, string(tok))
	if err != nil {
		return nil, fmt.Errorf("keyless: getting a certificate from Fulcio at %s: %w", fulcioURL, scrub(err, tok))
	}
	s := &cosignSigner{sv: sv, cert: resp.CertPEM, chain: resp.ChainPEM}
	if !k.NoTlog {
		rekorURL := k.RekorURL
		if rekorURL == "" {
			rekorURL = DefaultRekorURL
		}
		rc, err := rekorclient.GetRekorClient(rekorURL, rekorclient.WithUserAgent("paved-sign"))
		if err != nil {
			return nil, fmt.Errorf("keyless: Rekor URL %q: %w", rekorURL, err)
		}
		s.tlog = rc
	}
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

// tlogImage and tlogAttestation upload to Rekor when the signer has a log, and returns the
// bundle option that embeds the entry.
func (s *cosignSigner) tlogImage(ctx context.Context, payload, sig []byte) ([]static.Option, error) {
	if s.tlog == nil {
		return nil, nil
	}
	h := sha256.New()
	h.Write(payload)
	e, err := cosign.TLogUpload(ctx, s.tlog, sig, h, s.cert)
	if err != nil {
		return nil, fmt.Errorf("uploading the signature to Rekor: %w", err)
	}
	return []static.Option{static.WithBundle(cbundle.EntryToBundle(e))}, nil
}

func (s *cosignSigner) tlogAttestation(ctx context.Context, envelope []byte) ([]static.Option, error) {
	if s.tlog == nil {
		return nil, nil
	}
	e, err := cosign.TLogUploadDSSEEnvelope(ctx, s.tlog, envelope, s.cert)
	if err != nil {
		return nil, fmt.Errorf("uploading the attestation to Rekor: %w", err)
	}
	return []static.Option{static.WithBundle(cbundle.EntryToBundle(e))}, nil
}
