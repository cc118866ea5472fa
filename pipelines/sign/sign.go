// Package sign is paved's Sign stage core: it signs an image by digest
// with the cosign CLI, attaches signed in-toto attestations (CycloneDX
// SBOM, vulnerability scan, SLSA provenance v1) in cosign's registry layout
// (sha256-<hex>.sig / .att tags), and verifies all of it against a policy
// so it can gate a deploy.
//
// paved decides what is signed and judges the verdict; cosign (a pinned
// container in the pipeline, the binary on a host) does the cryptography,
// Fulcio, Rekor and the pushes. Nothing here needs a Dagger engine:
// stage.go and container.go are the thin Dagger glue.
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
	// decrypts it. Both stay in this process: cosign gets a copy of the
	// key encrypted for the run (runKey).
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
	// Cosign runs the cosign CLI; nil runs the binary on this machine.
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

// signer is how the cosign calls sign: the flags and the secrets they read.
type signer struct {
	mode   Mode
	public []byte // PEM, key and ephemeral modes
	call   Call   // args, env and files shared by every sign/attest call
	hide   [][]byte
	fulcio string // keyless: the Fulcio URL
}

func newSigner(ctx context.Context, creds Credentials) (*signer, error) {
	switch {
	case len(creds.Key) > 0 && creds.Keyless != nil:
		return nil, errors.New("signing: both a key and keyless OIDC were given: pass one")
	case len(creds.Key) > 0:
		return keySigner(creds.Key, creds.Password)
	case len(creds.Password) > 0:
		return nil, errors.New("signing: a key password was given without a key: pass the cosign private key too")
	case creds.Keyless != nil:
		return keylessSigner(ctx, *creds.Keyless)
	default:
		der, pub, err := newPrivateKey()
		if err != nil {
			return nil, err
		}
		return derSigner(ModeEphemeral, der, pub, nil)
	}
}

// keySigner checks the user's key, which cosign then gets re-encrypted
// for this run (runKey).
func keySigner(key, password []byte) (*signer, error) {
	der, pub, err := decryptKey(key, password)
	if err != nil {
		return nil, err
	}
	return derSigner(ModeKey, der, pub, password)
}

func derSigner(mode Mode, der, pub, password []byte) (*signer, error) {
	run, err := runKey(der)
	if err != nil {
		return nil, err
	}
	s := &signer{mode: mode, public: pub, hide: [][]byte{password, run.Password}}
	s.call.Args = []string{"--key", Dir + "/cosign.key", "--tlog-upload=false"}
	setSecretFile(&s.call, "cosign.key", run.Private)
	s.call.SecretEnv = map[string][]byte{"COSIGN_PASSWORD": run.Password}
	return s, nil
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
	if _, err := remote.Head(digest, ropts...); err != nil {
		return nil, req.Registry.registryError("finding the image to sign", digest, err)
	}

	type att struct {
		typ, predicateType string
		predicate          func() ([]byte, error)
	}
	var todo []att
	if req.SBOM != nil {
		todo = append(todo, att{"cyclonedx", PredicateCycloneDX, func() ([]byte, error) { return sbomPredicate(req.SBOM) }})
	}
	if req.Vuln != nil {
		todo = append(todo, att{"vuln", PredicateVuln, req.Vuln.predicate})
	}
	if req.Provenance != nil {
		todo = append(todo, att{"slsaprovenance1", PredicateProvenance, req.Provenance.predicate})
	}
	var calls []Call
	var types []string
	for _, a := range todo {
		pred, err := a.predicate()
		if err != nil {
			return nil, err
		}
		c := s.with("attest", "--type", a.typ, "--predicate", Dir+"/predicate.json", "--replace")
		setFile(&c, "predicate.json", pred)
		calls = append(calls, c)
		types = append(types, a.predicateType)
	}
	sig := s.with("sign")
	for _, k := range sortedKeys(req.Annotations) {
		sig.Args = append(sig.Args, "-a", k+"="+req.Annotations[k])
	}
	calls = append(calls, sig)
	for i := range calls {
		if err := req.Registry.cosignAccess(&calls[i], digest.RegistryStr()); err != nil {
			return nil, err
		}
		calls[i].Args = append(calls[i].Args, "--yes", digest.String())
	}

	if _, err := runnerOr(req.Cosign).Run(ctx, calls); err != nil {
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
		if s.mode == ModeKeyless && ce != nil && strings.Contains(ce.Stderr, "Fulcio") {
			return nil, fmt.Errorf("keyless: getting a certificate from Fulcio at %s (%s %s): %s", s.fulcio, what, digest, lastLine(scrubAll(ce.Stderr, s.hide)))
		}
		return nil, req.Registry.cosignError(what, digest, err, s.hide...)
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
	if s.mode != ModeKeyless {
		res.PublicKey = string(s.public)
	}
	if s.mode == ModeEphemeral {
		res.Note = EphemeralNote
	}
	return res, nil
}

// with is a sign or attest call carrying the signer's flags and secrets.
func (s *signer) with(args ...string) Call { return s.call.after(args...) }

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
