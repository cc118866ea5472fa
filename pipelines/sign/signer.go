package sign

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	ctypes "github.com/sigstore/cosign/v2/pkg/types"
	"github.com/sigstore/rekor/pkg/generated/client"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	sigopts "github.com/sigstore/sigstore/pkg/signature/options"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Signer makes cosign v2 signatures: a simple-signing payload for the
// image and DSSE envelopes for attestations. It is the only code that knows
// the signature format, so a move to cosign v3 bundles replaces this type
// and the push layout, not the callers.
type Signer interface {
	// SignImage signs the claim "this is image digest".
	SignImage(ctx context.Context, digest name.Digest, annotations map[string]any) (oci.Signature, error)
	// Attest signs an in-toto statement of the given predicate type.
	Attest(ctx context.Context, statement []byte, predicateType string) (oci.Signature, error)
	// PublicKey is the key a verifier uses (inside the certificate for keyless).
	PublicKey() crypto.PublicKey
	// Verifier checks this signer's signatures (dupe detection on push).
	Verifier() signature.Verifier
}

// Mode says how an image was signed.
type Mode string

const (
	ModeKey       Mode = "key"
	ModeEphemeral Mode = "ephemeral"
	ModeKeyless   Mode = "keyless"
)

type cosignSigner struct {
	sv    signature.SignerVerifier
	cert  []byte // PEM, keyless only
	chain []byte
	tlog  *client.Rekor // nil: no transparency log upload
}

// errKey never carries key bytes or the password: callers print it.
func errKey(msg string) error {
	return fmt.Errorf("signing key: %s", msg)
}

// NewKeySigner loads a cosign private key (PEM "ENCRYPTED SIGSTORE PRIVATE
// KEY" or "ENCRYPTED COSIGN PRIVATE KEY", as `cosign generate-key-pair`
// writes) decrypted with password.
func NewKeySigner(key, password []byte) (Signer, error) {
	if len(bytes.TrimSpace(key)) == 0 {
		return nil, errKey("is empty: pass the content of cosign.key (from `cosign generate-key-pair`)")
	}
	block, _ := pem.Decode(key)
	if block == nil {
		return nil, errKey("is not PEM: pass the content of cosign.key (from `cosign generate-key-pair`), not a path or a public key")
	}
	if block.Type != cosign.CosignPrivateKeyPemType && block.Type != cosign.SigstorePrivateKeyPemType {
		return nil, errKey(fmt.Sprintf("has PEM type %q: want %q or %q (an encrypted cosign private key)",
			block.Type, cosign.SigstorePrivateKeyPemType, cosign.CosignPrivateKeyPemType))
	}
	sv, err := cosign.LoadPrivateKey(key, password, nil)
	if err != nil {
		if strings.Contains(err.Error(), "decrypt") {
			return nil, errKey("cannot be decrypted: the password is wrong or the key is corrupted")
		}
		// The library's other errors describe the structure, not the content.
		return nil, errKey("cannot be loaded: " + err.Error())
	}
	return &cosignSigner{sv: sv}, nil
}

// NewEphemeralSigner generates a throwaway ECDSA P-256 key. Its signatures
// can only be verified with the public key it returns, for local runs and
// demos: nothing ties that key to an identity.
func NewEphemeralSigner() (Signer, error) {
	pk, err := cosign.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("generating an ephemeral key: %w", err)
	}
	sv, err := signature.LoadECDSASignerVerifier(pk, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("generating an ephemeral key: %w", err)
	}
	return &cosignSigner{sv: sv}, nil
}

func (s *cosignSigner) SignImage(ctx context.Context, digest name.Digest, annotations map[string]any) (oci.Signature, error) {
	p, err := (&payload.Cosign{Image: digest, Annotations: annotations}).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("signature payload: %w", err)
	}
	sig, err := s.sv.SignMessage(bytes.NewReader(p), sigopts.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", digest.DigestStr(), err)
	}
	opts, err := s.tlogImage(ctx, p, sig)
	if err != nil {
		return nil, err
	}
	return static.NewSignature(p, base64.StdEncoding.EncodeToString(sig), append(s.staticOpts(), opts...)...)
}

func (s *cosignSigner) Attest(ctx context.Context, statement []byte, predicateType string) (oci.Signature, error) {
	env, err := dsse.WrapSigner(s.sv, ctypes.IntotoPayloadType).SignMessage(bytes.NewReader(statement), sigopts.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("signing %s attestation: %w", predicateType, err)
	}
	opts, err := s.tlogAttestation(ctx, env)
	if err != nil {
		return nil, err
	}
	opts = append(append(opts, s.staticOpts()...),
		static.WithLayerMediaType(ctypes.DssePayloadType),
		static.WithAnnotations(map[string]string{"predicateType": predicateType}))
	return static.NewAttestation(env, opts...)
}

func (s *cosignSigner) staticOpts() []static.Option {
	if s.cert == nil {
		return nil
	}
	return []static.Option{static.WithCertChain(s.cert, s.chain)}
}

func (s *cosignSigner) PublicKey() crypto.PublicKey {
	pk, _ := s.sv.PublicKey()
	return pk
}

func (s *cosignSigner) Verifier() signature.Verifier { return s.sv }

// PublicKeyPEM encodes a signer's public key as cosign.pub does.
func PublicKeyPEM(s Signer) ([]byte, error) {
	pk := s.PublicKey()
	if pk == nil {
		return nil, errors.New("signer has no public key")
	}
	return cryptoutils.MarshalPublicKeyToPEM(pk)
}
