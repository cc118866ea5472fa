// Package trust is the verify policy paved enforces, as plain data: who
// must have signed an image, which attestations it must carry and the
// highest vulnerability severity allowed. pipelines/sign checks images
// against it; pipelines/admission turns it into cluster admission policies.
// It imports nothing outside the standard library so light tools
// (paved-platform) can share it without the signer's dependencies.
package trust

import (
	"errors"
	"fmt"
	"strings"
)

// Policy is what a deploy gate demands of an image.
type Policy struct {
	// PublicKey is a trusted cosign public key (PEM, cosign.pub). paved
	// signs with a key without a transparency log entry, so none is needed.
	PublicKey []byte
	// Keyless: the certificate's identity (SAN: email, URI such as
	// https://github.com/org/repo/.github/workflows/ci.yml@refs/heads/main)
	// and OIDC issuer; exact or regexp. Used when PublicKey is empty.
	Identity       string
	IdentityRegexp string
	Issuer         string
	IssuerRegexp   string
	// FulcioRoots (PEM) replaces the public Sigstore trust root (private
	// Fulcio). Without it keyless verification fetches Sigstore's trusted
	// root over TUF.
	FulcioRoots []byte
	// RekorPublicKey (PEM) is the private Rekor's key, with FulcioRoots;
	// without it the public Rekor keys are fetched over TUF.
	RekorPublicKey []byte
	// IgnoreTlog accepts keyless signatures without a Rekor entry (only with
	// FulcioRoots; the certificate must then still be valid now).
	IgnoreTlog bool
	// Require lists attestation types that must be present and verified:
	// cyclonedx, vuln, slsaprovenance1, or predicate type URIs.
	Require []string
	// MaxSeverity is the highest vulnerability severity allowed in the
	// attested scan: NONE, LOW, MEDIUM, HIGH or CRITICAL; empty means no
	// limit. Setting it requires the vuln attestation.
	MaxSeverity string
	// Digest pins the image: the reference must resolve to it (sha256:<hex>).
	Digest string
}

// Predicate types paved attaches and checks. pipelines/sign tests that they
// equal cosign's and in-toto's constants.
const (
	PredicateCycloneDX  = "https://cyclonedx.org/bom"
	PredicateVuln       = "https://cosign.sigstore.dev/attestation/vuln/v1"
	PredicateProvenance = "https://slsa.dev/provenance/v1"
)

// predicateAliases maps cosign's --type names to predicate URIs, so a policy
// can say "cyclonedx" like the cosign CLI does.
var predicateAliases = map[string]string{
	"cyclonedx":       PredicateCycloneDX,
	"vuln":            PredicateVuln,
	"slsaprovenance1": PredicateProvenance,
	"provenance":      PredicateProvenance,
	"sbom":            PredicateCycloneDX,
}

// PredicateURI resolves a cosign type name or returns a URI unchanged.
func PredicateURI(t string) (string, error) {
	if u, ok := predicateAliases[strings.ToLower(strings.TrimSpace(t))]; ok {
		return u, nil
	}
	if strings.HasPrefix(t, "https://") || strings.HasPrefix(t, "http://") {
		return t, nil
	}
	return "", fmt.Errorf("attestation type %q is unknown: use cyclonedx, vuln, slsaprovenance1 or a predicate type URI", t)
}

// ShortType is the cosign name of a predicate URI paved knows, else the URI.
func ShortType(uri string) string {
	for _, k := range []string{"cyclonedx", "vuln", "slsaprovenance1"} {
		if predicateAliases[k] == uri {
			return k
		}
	}
	return uri
}

// Severities in rank order; a finding whose severity is not one of these
// counts as UNKNOWN.
var Severities = []string{"NONE", "UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// Rank orders a severity (case-insensitive); ok is false for other words.
func Rank(sev string) (rank int, ok bool) {
	sev = strings.ToUpper(strings.TrimSpace(sev))
	for i, s := range Severities {
		if s == sev {
			return i, true
		}
	}
	return 0, false
}

// FindingRank is the rank a scan finding counts with: NONE and words that
// are no severity count as UNKNOWN (a finding is never "no severity").
func FindingRank(sev string) int {
	r, ok := Rank(sev)
	if !ok || r == 0 {
		return 1
	}
	return r
}

// Above lists the severity names ranked above max (a valid severity),
// highest last: for HIGH that is [CRITICAL]. For NONE every finding is
// over the limit, whatever its severity word (see FindingRank).
func Above(max string) []string {
	r, _ := Rank(max)
	return append([]string(nil), Severities[r+1:]...)
}

// Mode is how a policy trusts signatures.
type Mode int

// The trust modes.
const (
	KeyMode Mode = iota + 1
	KeylessMode
)

// Requirements is a checked policy in normal form.
type Requirements struct {
	Mode Mode
	// Required are predicate type URIs, without duplicates, in the order
	// given; the vuln type is added when MaxSeverity is set.
	Required []string
	// MaxSeverity is upper case, or empty for no limit.
	MaxSeverity string
}

// Check validates p and returns its requirements in normal form. It does
// not parse keys or certificates (pipelines/sign does, with cosign).
func (p Policy) Check() (Requirements, error) {
	var r Requirements
	keyless := p.Identity != "" || p.IdentityRegexp != "" || p.Issuer != "" || p.IssuerRegexp != ""
	switch {
	case len(p.PublicKey) > 0 && keyless:
		return r, errors.New("policy: both a public key and a keyless identity were given: pass one")
	case len(p.PublicKey) > 0:
		r.Mode = KeyMode
	case keyless:
		if (p.Identity == "" && p.IdentityRegexp == "") || (p.Issuer == "" && p.IssuerRegexp == "") {
			return r, errors.New("policy: keyless verification needs both an identity (or identity regexp) and an issuer (or issuer regexp)")
		}
		if p.IgnoreTlog && len(p.FulcioRoots) == 0 {
			return r, errors.New("policy: ignoring the transparency log needs private Fulcio roots; the public instance always logs")
		}
		r.Mode = KeylessMode
	default:
		return r, errors.New("policy: no trust anchor: pass a public key (cosign.pub) or a keyless identity and issuer")
	}
	for _, t := range p.Require {
		u, err := PredicateURI(t)
		if err != nil {
			return r, fmt.Errorf("policy: %w", err)
		}
		r.Required = appendNew(r.Required, u)
	}
	if p.MaxSeverity != "" {
		r.MaxSeverity = strings.ToUpper(strings.TrimSpace(p.MaxSeverity))
		if _, ok := Rank(r.MaxSeverity); !ok {
			return r, fmt.Errorf("policy: maximum severity %q is unknown: use NONE, LOW, MEDIUM, HIGH or CRITICAL", p.MaxSeverity)
		}
		r.Required = appendNew(r.Required, PredicateVuln)
	}
	if p.Digest != "" && !validDigest(p.Digest) {
		return r, fmt.Errorf("policy: pinned digest %q is not sha256:<64 hex>", p.Digest)
	}
	return r, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	return strings.Trim(hex, "0123456789abcdef") == ""
}
