package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// A key signature is made in this process and written in cosign's
// registry layout (what `cosign sign/attest --key --tlog-upload=false`
// writes), so `cosign verify` and `verify-attestation` accept it. It needs
// no cosign exec: four execs cost a warm ship about 1.3 s.
const (
	sigAnnotation          = "dev.cosignproject.cosign/signature"
	simpleSigningMediaType = types.MediaType("application/vnd.dev.cosign.simplesigning.v1+json")
	dsseMediaType          = types.MediaType("application/vnd.dsse.envelope.v1+json")
	inTotoPayloadType      = "application/vnd.in-toto+json"
	inTotoStatementV01     = "https://in-toto.io/Statement/v0.1"
	cosignSignatureType    = "cosign container image signature"
)

// keyPair is a private key and its public key in PEM.
type keyPair struct {
	priv   crypto.Signer
	public []byte
}

// signBytes signs msg as cosign's signers do: ECDSA (ASN.1) and RSA
// (PKCS #1 v1.5) over its SHA-256, Ed25519 over msg itself.
func signBytes(priv crypto.Signer, msg []byte) ([]byte, error) {
	if k, ok := priv.(ed25519.PrivateKey); ok {
		return ed25519.Sign(k, msg), nil
	}
	h := sha256.Sum256(msg)
	return priv.Sign(rand.Reader, h[:], crypto.SHA256)
}

// verifyBytes is signBytes' check.
func verifyBytes(pub crypto.PublicKey, msg, sig []byte) bool {
	h := sha256.Sum256(msg)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, h[:], sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
	case ed25519.PublicKey:
		return ed25519.Verify(k, msg, sig)
	}
	return false
}

// simpleSigning is the payload cosign signs for an image (sigstore's
// payload.SimpleContainerImage).
func simpleSigning(d name.Digest, annotations map[string]string) ([]byte, error) {
	var optional map[string]any
	if len(annotations) > 0 {
		optional = map[string]any{}
		for k, v := range annotations {
			optional[k] = v
		}
	}
	type identity struct {
		DockerReference string `json:"docker-reference"`
	}
	type image struct {
		DockerManifestDigest string `json:"docker-manifest-digest"`
	}
	type critical struct {
		Identity identity `json:"identity"`
		Image    image    `json:"image"`
		Type     string   `json:"type"`
	}
	return json.Marshal(struct {
		Critical critical       `json:"critical"`
		Optional map[string]any `json:"optional"`
	}{critical{identity{d.Repository.Name()}, image{d.DigestStr()}, cosignSignatureType}, optional})
}

// statement is cosign attest's in-toto statement about d.
func statement(d name.Digest, predicateType string, predicate []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, predicate); err != nil {
		return nil, fmt.Errorf("%s predicate is not JSON: %w", predicateType, err)
	}
	algo, hex, _ := strings.Cut(d.DigestStr(), ":")
	type subject struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	}
	return json.Marshal(struct {
		Type          string          `json:"_type"`
		PredicateType string          `json:"predicateType"`
		Subject       []subject       `json:"subject"`
		Predicate     json.RawMessage `json:"predicate"`
	}{inTotoStatementV01, predicateType, []subject{{d.Repository.Name(), map[string]string{algo: hex}}}, compact.Bytes()})
}

// envelope signs payload into a DSSE envelope (pre-authentication
// encoding of the payload type and body).
func envelope(priv crypto.Signer, payload []byte) ([]byte, error) {
	pae := fmt.Appendf(nil, "DSSEv1 %d %s %d ", len(inTotoPayloadType), inTotoPayloadType, len(payload))
	sig, err := signBytes(priv, append(pae, payload...))
	if err != nil {
		return nil, fmt.Errorf("signing an attestation: %w", err)
	}
	type signature struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}
	return json.Marshal(struct {
		PayloadType string      `json:"payloadType"`
		Payload     string      `json:"payload"`
		Signatures  []signature `json:"signatures"`
	}{inTotoPayloadType, base64.StdEncoding.EncodeToString(payload), []signature{{"", base64.StdEncoding.EncodeToString(sig)}}})
}

// attachment is one layer of a .sig or .att image: its content and the
// manifest annotations cosign reads.
type attachment struct {
	layer       v1.Layer
	annotations map[string]string
}

// emptyAttachments is cosign's empty signature image: OCI media types.
func emptyAttachments() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// readAttachments reads the image at tag and its layers with their
// annotations; a tag that does not exist yet is no image and no layers.
func readAttachments(tag name.Tag, ropts []remote.Option) (v1.Image, []attachment, error) {
	img, err := remote.Image(tag, ropts...)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, nil, err
	}
	out := make([]attachment, 0, len(m.Layers))
	for _, desc := range m.Layers {
		l, err := img.LayerByDigest(desc.Digest)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, attachment{l, desc.Annotations})
	}
	return img, out, nil
}

// readLayer is a layer's content (attachments are small: a payload or an
// envelope).
func readLayer(l v1.Layer) ([]byte, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 64<<20))
}

// write pushes base with adds appended under tag.
func write(tag name.Tag, base v1.Image, adds []attachment, ropts []remote.Option) error {
	as := make([]mutate.Addendum, len(adds))
	for i, a := range adds {
		as[i] = mutate.Addendum{Layer: a.layer, Annotations: a.annotations}
	}
	img, err := mutate.Append(base, as...)
	if err != nil {
		return err
	}
	return remote.Write(tag, img, ropts...)
}

// attest writes the attestations under d's .att tag as cosign attest
// --replace does: an attestation of a type being attached is replaced,
// every other one kept, the newest first.
func (k *keyPair) attest(d name.Digest, atts []predicate, ropts []remote.Option) error {
	tag := d.Repository.Tag(tagFor(d, "att"))
	_, old, err := readAttachments(tag, ropts)
	if err != nil {
		return err
	}
	replaced := map[string]bool{}
	var adds []attachment
	for i := len(atts) - 1; i >= 0; i-- {
		a := atts[i]
		st, err := statement(d, a.predicateType, a.predicate)
		if err != nil {
			return err
		}
		env, err := envelope(k.priv, st)
		if err != nil {
			return err
		}
		adds = append(adds, attachment{static.NewLayer(env, dsseMediaType), map[string]string{sigAnnotation: "", "predicateType": a.predicateType}})
		replaced[a.predicateType] = true
	}
	for _, o := range old {
		if b, err := readLayer(o.layer); err == nil {
			if st, err := decodeStatement(b); err == nil && replaced[st.PredicateType] {
				continue
			}
		}
		adds = append(adds, o)
	}
	return write(tag, emptyAttachments(), adds, ropts)
}

// sign appends a signature of d under its .sig tag, unless one of the same
// payload by the same key is there already (cosign's dedupe).
func (k *keyPair) sign(d name.Digest, annotations map[string]string, ropts []remote.Option) error {
	payload, err := simpleSigning(d, annotations)
	if err != nil {
		return err
	}
	tag := d.Repository.Tag(tagFor(d, "sig"))
	img, old, err := readAttachments(tag, ropts)
	if err != nil {
		return err
	}
	digest, _, err := v1.SHA256(bytes.NewReader(payload))
	if err != nil {
		return err
	}
	for _, o := range old {
		if dg, err := o.layer.Digest(); err != nil || dg != digest {
			continue
		}
		if sig, err := base64.StdEncoding.DecodeString(o.annotations[sigAnnotation]); err == nil && verifyBytes(k.priv.Public(), payload, sig) {
			return nil
		}
	}
	sig, err := signBytes(k.priv, payload)
	if err != nil {
		return fmt.Errorf("signing: %w", err)
	}
	if img == nil {
		img = emptyAttachments()
	}
	return write(tag, img, []attachment{{static.NewLayer(payload, simpleSigningMediaType), map[string]string{sigAnnotation: base64.StdEncoding.EncodeToString(sig)}}}, ropts)
}

// reuse shares one authenticated transport for reads and one for writes
// among the calls given these options: each remote call would otherwise
// ping the registry and fetch a token again (five times for a signing).
func reuse(ropts []remote.Option) []remote.Option {
	pl, err := remote.NewPuller(ropts...)
	if err != nil {
		return ropts
	}
	ps, err := remote.NewPusher(ropts...)
	if err != nil {
		return ropts
	}
	return append(ropts[:len(ropts):len(ropts)], remote.Reuse(pl), remote.Reuse(ps))
}

// predicate is one attestation to attach.
type predicate struct {
	typ, predicateType string
	predicate          []byte
}
