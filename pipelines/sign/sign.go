// Package sign is paved's Sign stage core: it signs an image by digest with
// cosign (as a library), attaches signed in-toto attestations (CycloneDX
// SBOM, vulnerability scan, SLSA provenance v1) in cosign's registry layout
// (sha256-<hex>.sig / .att tags), and verifies all of it against a policy so
// it can gate a deploy. Nothing here needs a Dagger engine; stage.go is the
// thin Dagger glue.
package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	cremote "github.com/sigstore/cosign/v2/pkg/cosign/remote"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/empty"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
)

// Credentials choose the signer: a key, keyless OIDC, or (neither) an
// ephemeral key for local runs.
type Credentials struct {
	// Key is the content of an encrypted cosign private key; Password
	// decrypts it. Both stay in memory (in the module: dagger.Secret plaintext).
	Key      []byte
	Password []byte
	// Keyless signs with a short-lived Fulcio certificate for an OIDC token.
	Keyless *Keyless
}

// NewSigner picks the signer for creds.
func NewSigner(ctx context.Context, creds Credentials) (Signer, Mode, error) {
	switch {
	case len(creds.Key) > 0 && creds.Keyless != nil:
		return nil, "", errors.New("signing: both a key and keyless OIDC were given: pass one")
	case len(creds.Key) > 0:
		s, err := NewKeySigner(creds.Key, creds.Password)
		return s, ModeKey, err
	case len(creds.Password) > 0:
		return nil, "", errors.New("signing: a key password was given without a key: pass the cosign private key too")
	case creds.Keyless != nil:
		s, err := NewKeylessSigner(ctx, *creds.Keyless)
		return s, ModeKeyless, err
	default:
		s, err := NewEphemeralSigner()
		return s, ModeEphemeral, err
	}
}

// Request is one signing run.
type Request struct {
	// Image is the image to sign, by digest: registry/repo@sha256:<hex>
	// (the publish stage's output). Tags are refused: a tag can move
	// between resolving and signing.
	Image  string
	Signer Signer
	// SBOM is a CycloneDX JSON document; nil skips that attestation.
	SBOM []byte
	// Vuln is the scan result; nil skips that attestation.
	Vuln *VulnScan
	// Provenance is the build's run info; nil skips that attestation.
	Provenance *Provenance
	// Annotations go into the signature payload (cosign -a key=value).
	Annotations map[string]string
	Registry    Registry
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

// Sign signs req.Image and attaches the attestations.
//
// Order: every statement is built and signed in memory first, so a bad
// input or key fails before anything is pushed. Then the attestations are
// pushed, and the signature last. A gate checks the signature first, so a
// run that fails midway leaves either nothing, or attestations without a
// signature (which verify rejects as unsigned) — never a signed image
// whose attestations are missing. A rerun completes it: attestations of
// the same predicate type are replaced, and an identical signature is not
// added twice.
func Sign(ctx context.Context, req Request) (*Result, error) {
	if req.Signer == nil {
		return nil, errors.New("signing: no signer (use NewSigner)")
	}
	ref, err := req.Registry.parseRef(req.Image)
	if err != nil {
		return nil, err
	}
	digest, ok := ref.(name.Digest)
	if !ok {
		return nil, fmt.Errorf("image reference %q is a tag: sign by digest (registry/repo@sha256:<hex>, as the publish stage returns it)", req.Image)
	}
	ropts, err := req.Registry.remoteOptions(ctx, digest.Repository)
	if err != nil {
		return nil, err
	}
	if _, err := remote.Head(digest, ropts...); err != nil {
		return nil, req.Registry.registryError("finding the image to sign", digest, err)
	}
	oopts, err := req.Registry.ociOptions(ctx, digest.Repository)
	if err != nil {
		return nil, err
	}

	// 1. Build and sign everything in memory.
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
	var atts []oci.Signature
	var types []string
	for _, a := range todo {
		pred, err := a.predicate()
		if err != nil {
			return nil, err
		}
		st, err := statement(a.typ, pred, digest)
		if err != nil {
			return nil, err
		}
		s, err := req.Signer.Attest(ctx, st, a.predicateType)
		if err != nil {
			return nil, err
		}
		atts = append(atts, s)
		types = append(types, a.predicateType)
	}
	ann := map[string]any{}
	for k, v := range req.Annotations {
		ann[k] = v
	}
	if len(ann) == 0 {
		ann = nil
	}
	sig, err := req.Signer.SignImage(ctx, digest, ann)
	if err != nil {
		return nil, err
	}

	res := &Result{
		Image:        digest.String(),
		Digest:       digest.DigestStr(),
		SignatureTag: digest.Repository.Tag(tagFor(digest, "sig")).String(),
		Attestations: types,
	}

	// 2. Attestations first.
	if len(atts) > 0 {
		var se oci.SignedEntity = ociremote.SignedUnknown(digest, oopts...)
		for i, a := range atts {
			se, err = mutate.AttachAttestationToEntity(se, a, mutate.WithReplaceOp(replaceType(types[i])))
			if err != nil {
				return nil, fmt.Errorf("attaching %s attestation: %w", types[i], err)
			}
		}
		if err := ociremote.WriteAttestations(digest.Repository, se, oopts...); err != nil {
			return nil, req.Registry.registryError("pushing attestations (no signature was pushed)", digest, err)
		}
		res.AttestationTag = digest.Repository.Tag(tagFor(digest, "att")).String()
	}

	// 3. The signature last.
	se, err := mutate.AttachSignatureToEntity(ociremote.SignedUnknown(digest, oopts...), sig,
		mutate.WithDupeDetector(cremote.NewDupeDetector(req.Signer.Verifier())))
	if err != nil {
		return nil, fmt.Errorf("attaching signature: %w", err)
	}
	if err := ociremote.WriteSignatures(digest.Repository, se, oopts...); err != nil {
		return nil, req.Registry.registryError("pushing the signature (attestations are pushed; rerun to complete)", digest, err)
	}
	return res, nil
}

// SignWith is Sign with the signer chosen from creds; the result carries
// the public key (and the ephemeral label when no key or OIDC was given).
func SignWith(ctx context.Context, creds Credentials, req Request) (*Result, error) {
	s, mode, err := NewSigner(ctx, creds)
	if err != nil {
		return nil, err
	}
	req.Signer = s
	res, err := Sign(ctx, req)
	if err != nil {
		return nil, err
	}
	res.Mode = mode
	if mode != ModeKeyless {
		pub, err := PublicKeyPEM(s)
		if err != nil {
			return nil, err
		}
		res.PublicKey = string(pub)
	}
	if mode == ModeEphemeral {
		res.Note = EphemeralNote
	}
	return res, nil
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

// replaceType drops attached attestations of the same predicate type, so
// a rerun replaces rather than accumulates (cosign attest --replace,
// without its output on stderr).
type replaceType string

func (r replaceType) Replace(existing oci.Signatures, add oci.Signature) (oci.Signatures, error) {
	list, err := existing.Get()
	if err != nil {
		return nil, err
	}
	kept := make([]oci.Signature, 0, len(list)+1)
	for _, s := range list {
		if st, err := decodeStatement(s); err == nil && st.PredicateType == string(r) {
			continue
		}
		kept = append(kept, s)
	}
	return mutate.AppendSignatures(empty.Signatures(), false, append(kept, add)...)
}
