package admission

import (
	"fmt"
	"strings"

	"github.com/paved-ci/paved/pipelines/trust"
)

// Sigstore policy-controller ClusterImagePolicy (policy.sigstore.dev/v1beta1),
// the fields paved sets.
type clusterImagePolicy struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Metadata   meta    `yaml:"metadata"`
	Spec       cipSpec `yaml:"spec"`
}

type cipSpec struct {
	Images      []cipGlob      `yaml:"images"`
	Authorities []cipAuthority `yaml:"authorities"`
	Policy      *cipPolicy     `yaml:"policy,omitempty"`
	Mode        string         `yaml:"mode"`
}

type cipGlob struct {
	Glob string `yaml:"glob"`
}

type cipAuthority struct {
	Name         string           `yaml:"name"`
	Key          *cipKey          `yaml:"key,omitempty"`
	Keyless      *cipKeyless      `yaml:"keyless,omitempty"`
	CTLog        *cipTLog         `yaml:"ctlog,omitempty"`
	Attestations []cipAttestation `yaml:"attestations,omitempty"`
}

type cipKey struct {
	Data          string `yaml:"data"`
	HashAlgorithm string `yaml:"hashAlgorithm"`
}

type cipKeyless struct {
	URL        string        `yaml:"url"`
	Identities []cipIdentity `yaml:"identities"`
}

type cipIdentity struct {
	Issuer        string `yaml:"issuer,omitempty"`
	Subject       string `yaml:"subject,omitempty"`
	IssuerRegExp  string `yaml:"issuerRegExp,omitempty"`
	SubjectRegExp string `yaml:"subjectRegExp,omitempty"`
}

type cipTLog struct {
	URL string `yaml:"url"`
}

type cipAttestation struct {
	Name          string     `yaml:"name"`
	PredicateType string     `yaml:"predicateType"`
	Policy        *cipPolicy `yaml:"policy,omitempty"`
}

type cipPolicy struct {
	Type string `yaml:"type"`
	Data string `yaml:"data"`
}

// Authority names; the CIP-level policy refers to them.
const (
	authSignature    = "signature"
	authAttestations = "attestations"
)

func (pl plan) sigstore() clusterImagePolicy {
	sig := cipAuthority{Name: authSignature}
	if pl.req.Mode == trust.KeyMode {
		// Without ctlog, policy-controller skips the transparency log for
		// a key, as `paved verify` does for paved's key signatures.
		sig.Key = &cipKey{Data: string(pl.p.PublicKey), HashAlgorithm: "sha256"}
	} else {
		sig.Keyless = &cipKeyless{URL: "https://fulcio.sigstore.dev", Identities: []cipIdentity{{
			Issuer: pl.p.Issuer, Subject: pl.p.Identity, IssuerRegExp: pl.p.IssuerRegexp, SubjectRegExp: pl.p.IdentityRegexp,
		}}}
		sig.CTLog = &cipTLog{URL: publicRekor}
	}
	spec := cipSpec{Authorities: []cipAuthority{sig}, Mode: "enforce"}
	if len(pl.req.Required) > 0 {
		// An authority with attestations checks only the attestations, not
		// the image signature, and any one passing authority admits: the
		// same trust twice, and a CIP-level policy demanding both.
		att := sig
		att.Name = authAttestations
		for i, u := range pl.req.Required {
			// Predicate URIs, not cosign's short names: v1beta1 deprecates
			// them, and with a URI the policy sees the whole statement.
			a := cipAttestation{Name: attestationName(u, i), PredicateType: u}
			if u == trust.PredicateVuln && pl.req.MaxSeverity != "" {
				a.Policy = &cipPolicy{Type: "rego", Data: severityRego(pl.req.MaxSeverity)}
			}
			att.Attestations = append(att.Attestations, a)
		}
		spec.Authorities = append(spec.Authorities, att)
		spec.Policy = &cipPolicy{Type: "rego", Data: bothAuthoritiesRego}
	}
	if pl.o.Audit {
		spec.Mode = "warn"
	}
	for _, g := range pl.o.Images {
		spec.Images = append(spec.Images, cipGlob{Glob: g})
	}
	return clusterImagePolicy{
		APIVersion: "policy.sigstore.dev/v1beta1", Kind: "ClusterImagePolicy",
		Metadata: meta{Name: pl.name, Annotations: map[string]string{"paved-ci.github.io/source": pl.source()}},
		Spec:     spec,
	}
}

// bothAuthoritiesRego admits only when the signature and the attestations
// authorities both matched (policy-controller passes authorityMatches).
const bothAuthoritiesRego = `package sigstore

import rego.v1

default isCompliant := false

isCompliant if {
  input.authorityMatches.` + authSignature + `
  input.authorityMatches.` + authAttestations + `
}
`

func attestationName(uri string, i int) string {
	if s := trust.ShortType(uri); s != uri {
		return s
	}
	return fmt.Sprintf("attestation-%d", i+1)
}

// severityRego is the policy-controller attestation policy (Rego, package
// sigstore, rule isCompliant) over the in-toto statement of a vuln
// attestation: its scanner.result must be a Trivy JSON report with no
// finding over max. Severities compare in upper case; over NONE every
// finding counts, whatever its severity.
func severityRego(max string) string {
	filter := ""
	if max != "NONE" {
		var quoted []string
		for _, s := range trust.Above(max) {
			quoted = append(quoted, fmt.Sprintf("%q", s))
		}
		filter = fmt.Sprintf("  upper(object.get(v, \"Severity\", \"\")) in {%s}\n", strings.Join(quoted, ", "))
		if len(quoted) == 0 {
			filter = "  false # nothing is above CRITICAL\n"
		}
	}
	return fmt.Sprintf(`package sigstore

import rego.v1

# paved verify --max-severity %s: findings above it in the attested scan.
over := [v |
  some r in input.predicate.scanner.result.Results
  some v in r.Vulnerabilities
%s]

default isCompliant := false

isCompliant if {
  is_array(input.predicate.scanner.result.Results)
  count(over) == 0
}
`, max, filter)
}
