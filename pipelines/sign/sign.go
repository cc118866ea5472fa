// Package sign is paved's Sign stage core: it signs an image by digest,
// attaches signed in-toto attestations (CycloneDX SBOM, vulnerability
// scan, SLSA provenance v1) in cosign's registry layout (sha256-<hex>.sig
// / .att tags), and verifies all of it against a policy so it can gate a
// deploy.
//
// A key (or an ephemeral key) signs in this process (attach.go); keyless
// signing and every verification run the cosign CLI (a pinned container in
// the pipeline, the binary on a host), which does Fulcio, Rekor and the
// checks. paved decides what is signed and judges the verdict. Nothing
// here needs a Dagger engine: stage.go and container.go are the thin
// Dagger glue.
package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Credentials choose how to sign: a key, keyless OIDC, or (neither) an
// ephemeral key for local runs.
type Credentials struct {
	// Key is the content of an encrypted cosign private key; Password
	// decrypts it. Both stay in this process, which signs with the key.
	Key      []byte
	Password []byte
	// Keyless signs with a short-lived Fulcio certificate for an OIDC token.
	Keyless *Keyless
}

// Request is one signing run.
type Request struct {
	// Image is the image to sign, by digest: registry/repo@sha256:<hex>
	// (the publish stage's output). Tags are refused: a tag can move
	// between resolving and signing.
	Image string
	// SBOM is a CycloneDX JSON document; nil skips that attestation.
	SBOM []byte
	// Vuln is the scan result; nil skips that attestation.
	Vuln *VulnScan
	// Provenance is the build's run info; nil skips that attestation.
	Provenance *Provenance
	// Annotations go into the signature payload (cosign -a key=value).
	Annotations map[string]string
	Registry    Registry
	// Cosign runs the cosign CLI for keyless signing; nil runs the binary
	// on this machine. Signing with a key runs no cosign.
	Cosign Runner
}

// EphemeralNote labels the public key returned for an ephemeral signature.
const EphemeralNote = "ephemeral key, for local runs only: the private key was discarded and nothing ties this public key to an identity; use a key or keyless signing in CI"

// Result is what was pushed.
type Result struct {
	// Image is repository@digest: what was signed, and what to deploy.
	Image  string `json:"image"`
	Digest string `json:"digest"`
	Mode   Mode   `json:"mode"`
	// PublicKey is the verifying key in PEM (key and ephemeral modes).
	PublicKey string `json:"publicKey,omitempty"`
	// Note explains an ephemeral signature (EphemeralNote).
	Note           string   `json:"note,omitempty"`
	Attestations   []string `json:"attestations,omitempty"`
	SignatureTag   string   `json:"signatureTag"`
	AttestationTag string   `json:"attestationTag,omitempty"`
}

// signer signs: with a key in this process, or keyless through cosign.
type signer struct {
	mode Mode
	key  *keyPair // key and ephemeral modes
	call Call     // keyless: args, env and files of every sign/attest call
	// hide and fulcio are keyless: the token no message may show, and
	// the Fulcio URL.
	hide   [][]byte
	fulcio string
}

func newSigner(ctx context.Context, creds Credentials) (*signer, error) {
	switch {
	case len(creds.Key) > 0 && creds.Keyless != nil:
		return nil, errors.New("signing: both a key and keyless OIDC were given: pass one")
	case len(creds.Key) > 0:
		k, err := decryptKey(creds.Key, creds.Password)
		if err != nil {
			return nil, err
		}
		return &signer{mode: ModeKey, key: k}, nil
	case len(creds.Password) > 0:
		return nil, errors.New("signing: a key password was given without a key: pass the cosign private key too")
	case creds.Keyless != nil:
		return keylessSigner(ctx, *creds.Keyless)
	default:
		der, _, err := newPrivateKey()
		if err != nil {
			return nil, err
		}
		k, err := loadKey(der)
		if err != nil {
			return nil, err
		}
		return &signer{mode: ModeEphemeral, key: k}, nil
	}
}

// SignWith signs req.Image and attaches the attestations with the signer
// chosen from creds; the result carries the public key (and the ephemeral
// label when no key or OIDC was given).
//
// Order: every input is checked first (key and password, predicates), so a
// bad input fails before anything is pushed. Then the attestations are
// pushed, and the signature last. A gate checks the signature first, so a
// run that fails midway leaves either nothing, or attestations without a
// signature (which verify rejects as unsigned) — never a signed image
// whose attestations are missing. A rerun completes it: attestations of
// the same predicate type are replaced (cosign attest --replace), and an
// identical signature is not added twice.
func SignWith(ctx context.Context, creds Credentials, req Request) (*Result, error) {
	ref, err := req.Registry.parseRef(req.Image)
	if err != nil {
		return nil, err
	}
	digest, ok := ref.(name.Digest)
	if !ok {
		return nil, fmt.Errorf("image reference %q is a tag: sign by digest (registry/repo@sha256:<hex>, as the publish stage returns it)", req.Image)
	}
	s, err := newSigner(ctx, creds)
	if err != nil {
		return nil, err
	}
	ropts, err := req.Registry.remoteOptions(ctx, digest.Repository)
	if err != nil {
		return nil, err
	}
	ropts = reuse(ropts)
	if _, err := remote.Head(digest, ropts...); err != nil {
		return nil, req.Registry.registryError("finding the image to sign", digest, err)
	}

	var atts []predicate
	add := func(typ, predicateType string, make func() ([]byte, error)) error {
		b, err := make()
		if err != nil {
			return err
		}
		atts = append(atts, predicate{typ, predicateType, b})
		return nil
	}
	if req.SBOM != nil {
		if err := add("cyclonedx", PredicateCycloneDX, func() ([]byte, error) { return sbomPredicate(req.SBOM) }); err != nil {
			return nil, err
		}
	}
	if req.Vuln != nil {
		if err := add("vuln", PredicateVuln, req.Vuln.predicate); err != nil {
			return nil, err
		}
	}
	if req.Provenance != nil {
		if err := add("slsaprovenance1", PredicateProvenance, req.Provenance.predicate); err != nil {
			return nil, err
		}
	}
	if s.key != nil {
		err = s.key.signAll(digest, atts, req.Annotations, req.Registry, ropts)
	} else {
		err = s.cosignAll(ctx, digest, atts, req)
	}
	if err != nil {
		return nil, err
	}
	types := make([]string, len(atts))
	for i, a := range atts {
		types[i] = a.predicateType
	}
	res := &Result{
		Image:        digest.String(),
		Digest:       digest.DigestStr(),
		Mode:         s.mode,
		SignatureTag: digest.Repository.Tag(tagFor(digest, "sig")).String(),
		Attestations: types,
	}
	if len(types) > 0 {
		res.AttestationTag = digest.Repository.Tag(tagFor(digest, "att")).String()
	}
	if s.key != nil {
		res.PublicKey = string(s.key.public)
	}
	if s.mode == ModeEphemeral {
		res.Note = EphemeralNote
	}
	return res, nil
}

// cosignAll has cosign push the attestations, then the signature.
func (s *signer) cosignAll(ctx context.Context, digest name.Digest, atts []predicate, req Request) error {
	var calls []Call
	for _, a := range atts {
		c := s.call.after("attest", "--type", a.typ, "--predicate", Dir+"/predicate.json", "--replace")
		setFile(&c, "predicate.json", a.predicate)
		calls = append(calls, c)
	}
	sig := s.call.after("sign")
	for _, k := range sortedKeys(req.Annotations) {
		sig.Args = append(sig.Args, "-a", k+"="+req.Annotations[k])
	}
	calls = append(calls, sig)
	for i := range calls {
		if err := req.Registry.cosignAccess(&calls[i], digest.RegistryStr()); err != nil {
			return err
		}
		calls[i].Args = append(calls[i].Args, "--yes", digest.String())
	}
	_, err := runnerOr(req.Cosign).Run(ctx, calls)
	if err == nil {
		return nil
	}
	what := "signing"
	var ce *CallError
	switch {
	case !errors.As(err, &ce) || len(calls) == 1:
	case ce.Index < 0:
		what = "pushing attestations and the signature (rerun to complete)"
	case ce.Index < len(calls)-1:
		what = "pushing attestations (no signature was pushed)"
	default:
		what = "pushing the signature (attestations are pushed; rerun to complete)"
	}
	if ce != nil && strings.Contains(ce.Stderr, "Fulcio") {
		return fmt.Errorf("keyless: getting a certificate from Fulcio at %s (%s %s): %s", s.fulcio, what, digest, lastLine(scrubAll(ce.Stderr, s.hide)))
	}
	return req.Registry.cosignError(what, digest, err, s.hide...)
}

// signAll pushes the attestations, then the signature.
func (k *keyPair) signAll(digest name.Digest, atts []predicate, annotations map[string]string, reg Registry, ropts []remote.Option) error {
	if len(atts) > 0 {
		if err := k.attest(digest, atts, ropts); err != nil {
			return reg.registryError("pushing attestations (no signature was pushed)", digest, err)
		}
	}
	if err := k.sign(digest, annotations, ropts); err != nil {
		what := "pushing the signature"
		if len(atts) > 0 {
			what = "pushing the signature (attestations are pushed; rerun to complete)"
		}
		return reg.registryError(what, digest, err)
	}
	return nil
}

func sbomPredicate(b []byte) ([]byte, error) {
	var probe struct {
		BOMFormat string `json:"bomFormat"`
	}
	if err := json.Unmarshal(b, &probe); err != nil || probe.BOMFormat != "CycloneDX" {
		return nil, errors.New("SBOM is not a CycloneDX JSON document (want trivy --format cyclonedx output, with \"bomFormat\": \"CycloneDX\")")
	}
	return b, nil
}

// tagFor is cosign's tag for an attachment: sha256-<hex>.<suffix>.
func tagFor(d name.Digest, suffix string) string {
	return strings.Replace(d.DigestStr(), ":", "-", 1) + "." + suffix
}
