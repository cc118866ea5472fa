package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// Mode says how an image was signed.
type Mode string

const (
	ModeKey       Mode = "key"
	ModeEphemeral Mode = "ephemeral"
	ModeKeyless   Mode = "keyless"
)

// PEM block types of a cosign private key (`cosign generate-key-pair`
// writes the first; older versions the second) and of a public key.
const (
	sigstorePrivateKeyPEM = "ENCRYPTED SIGSTORE PRIVATE KEY"
	cosignPrivateKeyPEM   = "ENCRYPTED COSIGN PRIVATE KEY"
	publicKeyPEM          = "PUBLIC KEY"
)

// KeyPair is a cosign key pair: the encrypted private key as cosign.key
// holds it, its password, and the public key as cosign.pub holds it.
type KeyPair struct {
	Private, Password, Public []byte
}

// errKey never carries key bytes or the password: callers print it.
func errKey(msg string) error {
	return fmt.Errorf("signing key: %s", msg)
}

// GenerateKeyPair makes an ECDSA P-256 key pair encrypted with password,
// in the format of `cosign generate-key-pair` (scrypt + secretbox over
// PKCS#8), so the cosign CLI loads it.
func GenerateKeyPair(password []byte) (*KeyPair, error) {
	der, pub, err := newPrivateKey()
	if err != nil {
		return nil, err
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, fmt.Errorf("encrypting the key: %w", err)
	}
	return &KeyPair{
		Private:  pem.EncodeToMemory(&pem.Block{Type: sigstorePrivateKeyPEM, Bytes: enc}),
		Password: password,
		Public:   pub,
	}, nil
}

// newPrivateKey is a fresh ECDSA P-256 key: PKCS#8 DER and the public key
// in PEM.
func newPrivateKey() (der, publicPEM []byte, err error) {
	pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key: %w", err)
	}
	if der, err = x509.MarshalPKCS8PrivateKey(pk); err != nil {
		return nil, nil, fmt.Errorf("generating a key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(pk.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key: %w", err)
	}
	return der, pem.EncodeToMemory(&pem.Block{Type: publicKeyPEM, Bytes: pub}), nil
}

// decryptKey decrypts a cosign private key as cosign would, so a wrong
// password or a public key passed by mistake is refused with a clear
// error before anything is pushed.
func decryptKey(key, password []byte) (*keyPair, error) {
	if len(bytes.TrimSpace(key)) == 0 {
		return nil, errKey("is empty: pass the content of cosign.key (from `cosign generate-key-pair`)")
	}
	block, _ := pem.Decode(key)
	if block == nil {
		return nil, errKey("is not PEM: pass the content of cosign.key (from `cosign generate-key-pair`), not a path or a public key")
	}
	if block.Type != cosignPrivateKeyPEM && block.Type != sigstorePrivateKeyPEM {
		return nil, errKey(fmt.Sprintf("has PEM type %q: want %q or %q (an encrypted cosign private key)",
			block.Type, sigstorePrivateKeyPEM, cosignPrivateKeyPEM))
	}
	der, err := encrypted.Decrypt(block.Bytes, password)
	if err != nil {
		// The library's errors describe the structure, not the content.
		if bytes.Contains([]byte(err.Error()), []byte("decrypt")) {
			return nil, errKey("cannot be decrypted: the password is wrong or the key is corrupted")
		}
		return nil, errKey("cannot be loaded: " + err.Error())
	}
	return loadKey(der)
}

// loadKey loads a PKCS#8 DER private key of a type cosign signs with.
func loadKey(der []byte) (*keyPair, error) {
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errKey("cannot be loaded: the decrypted content is not a PKCS#8 private key")
	}
	var signer crypto.Signer
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		signer = k
	case *rsa.PrivateKey:
		signer = k
	case ed25519.PrivateKey:
		signer = k
	default:
		return nil, errKey(fmt.Sprintf("has an unsupported key type %T: want ECDSA, RSA or Ed25519, as cosign", priv))
	}
	pub, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, errKey("cannot be loaded: " + err.Error())
	}
	return &keyPair{priv: signer, public: pem.EncodeToMemory(&pem.Block{Type: publicKeyPEM, Bytes: pub})}, nil
}

// randomHex is n random bytes in hex: a cosign run's nonce.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
