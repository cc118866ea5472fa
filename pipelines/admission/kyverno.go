package admission

import (
	"fmt"
	"strings"

	"github.com/paved-ci/paved/pipelines/trust"
)

// Kyverno ClusterPolicy (kyverno.io/v1), the fields paved sets.
type kyvernoPolicy struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   meta        `yaml:"metadata"`
	Spec       kyvernoSpec `yaml:"spec"`
}

type meta struct {
	Name        string            `yaml:"name"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type kyvernoSpec struct {
	// Background scans would verify every running image against the
	// registry over and over; admission is where the gate belongs.
	Background bool `yaml:"background"`
	// Verification fetches signatures and attestations: more than the
	// default 10s on a slow registry.
	WebhookTimeoutSeconds int           `yaml:"webhookTimeoutSeconds"`
	Rules                 []kyvernoRule `yaml:"rules"`
}

type kyvernoRule struct {
	Name         string          `yaml:"name"`
	Match        kyvernoMatch    `yaml:"match"`
	VerifyImages []kyvernoVerify `yaml:"verifyImages"`
}

type kyvernoMatch struct {
	Any []kyvernoFilter `yaml:"any"`
}

type kyvernoFilter struct {
	Resources struct {
		Kinds []string `yaml:"kinds"`
	} `yaml:"resources"`
}

type kyvernoVerify struct {
	ImageReferences []string             `yaml:"imageReferences"`
	FailureAction   string               `yaml:"failureAction"`
	MutateDigest    bool                 `yaml:"mutateDigest"`
	VerifyDigest    bool                 `yaml:"verifyDigest"`
	Required        bool                 `yaml:"required"`
	Attestors       []kyvernoAttestorSet `yaml:"attestors"`
	Attestations    []kyvernoAttestation `yaml:"attestations,omitempty"`
}

type kyvernoAttestorSet struct {
	Count   int               `yaml:"count"`
	Entries []kyvernoAttestor `yaml:"entries"`
}

type kyvernoAttestor struct {
	Keys    *kyvernoKeys    `yaml:"keys,omitempty"`
	Keyless *kyvernoKeyless `yaml:"keyless,omitempty"`
}

type kyvernoKeys struct {
	PublicKeys string        `yaml:"publicKeys"`
	Rekor      *kyvernoRekor `yaml:"rekor,omitempty"`
	CTLog      *kyvernoCTLog `yaml:"ctlog,omitempty"`
}

type kyvernoKeyless struct {
	Subject       string        `yaml:"subject,omitempty"`
	SubjectRegExp string        `yaml:"subjectRegExp,omitempty"`
	Issuer        string        `yaml:"issuer,omitempty"`
	IssuerRegExp  string        `yaml:"issuerRegExp,omitempty"`
	Roots         string        `yaml:"roots,omitempty"`
	Rekor         *kyvernoRekor `yaml:"rekor,omitempty"`
	CTLog         *kyvernoCTLog `yaml:"ctlog,omitempty"`
}

type kyvernoRekor struct {
	URL        string `yaml:"url,omitempty"`
	IgnoreTlog bool   `yaml:"ignoreTlog,omitempty"`
}

type kyvernoCTLog struct {
	IgnoreSCT bool `yaml:"ignoreSCT"`
}

type kyvernoAttestation struct {
	Type       string               `yaml:"type"`
	Attestors  []kyvernoAttestorSet `yaml:"attestors"`
	Conditions []kyvernoAnyAll      `yaml:"conditions,omitempty"`
}

type kyvernoAnyAll struct {
	All []kyvernoCondition `yaml:"all"`
}

type kyvernoCondition struct {
	Key      string `yaml:"key"`
	Operator string `yaml:"operator"`
	Value    any    `yaml:"value"`
	Message  string `yaml:"message,omitempty"`
}

func (pl plan) kyverno() kyvernoPolicy {
	var entry kyvernoAttestor
	if pl.req.Mode == trust.KeyMode {
		// paved signs with a key without a Rekor entry or certificate: the
		// key is the whole trust, as in `paved verify`.
		entry.Keys = &kyvernoKeys{PublicKeys: string(pl.p.PublicKey), Rekor: &kyvernoRekor{IgnoreTlog: true}, CTLog: &kyvernoCTLog{IgnoreSCT: true}}
	} else {
		k := &kyvernoKeyless{
			Subject: pl.p.Identity, SubjectRegExp: pl.p.IdentityRegexp,
			Issuer: pl.p.Issuer, IssuerRegExp: pl.p.IssuerRegexp,
			Rekor: &kyvernoRekor{URL: publicRekor},
		}
		if len(pl.p.FulcioRoots) > 0 {
			// A private Fulcio embeds no SCT; `paved verify` skips it too.
			k.Roots, k.CTLog = string(pl.p.FulcioRoots), &kyvernoCTLog{IgnoreSCT: true}
		}
		if pl.p.IgnoreTlog {
			k.Rekor = &kyvernoRekor{IgnoreTlog: true}
		}
		entry.Keyless = k
	}
	// Attestations are verified with the same attestor: Kyverno fetches
	// them unverified when an attestation has none.
	attestors := []kyvernoAttestorSet{{Count: 1, Entries: []kyvernoAttestor{entry}}}
	v := kyvernoVerify{
		ImageReferences: kyvernoGlobs(pl.o.Images),
		FailureAction:   pl.failureAction(),
		// The admitted pod runs the digest that was verified, not a tag
		// that may move after admission.
		MutateDigest: true, VerifyDigest: true, Required: true,
		Attestors: attestors,
	}
	for _, u := range pl.req.Required {
		a := kyvernoAttestation{Type: u, Attestors: attestors}
		if u == trust.PredicateVuln && pl.req.MaxSeverity != "" {
			a.Conditions = []kyvernoAnyAll{{All: severityConditions(pl.req.MaxSeverity)}}
		}
		v.Attestations = append(v.Attestations, a)
	}
	var filter kyvernoFilter
	// Kyverno generates the rules for Deployments, Jobs... from a Pod rule.
	filter.Resources.Kinds = []string{"Pod"}
	return kyvernoPolicy{
		APIVersion: "kyverno.io/v1", Kind: "ClusterPolicy",
		Metadata: meta{Name: pl.name, Annotations: map[string]string{
			"policies.kyverno.io/title":       "paved verify",
			"policies.kyverno.io/description": pl.source(),
		}},
		Spec: kyvernoSpec{WebhookTimeoutSeconds: 30, Rules: []kyvernoRule{{
			Name: "paved-verify-images", Match: kyvernoMatch{Any: []kyvernoFilter{filter}}, VerifyImages: []kyvernoVerify{v},
		}}},
	}
}

func (pl plan) failureAction() string {
	if pl.o.Audit {
		return "Audit"
	}
	return "Enforce"
}

// severityConditions hold when a vuln predicate (Kyverno evaluates
// attestation conditions with the predicate as root) has a Trivy JSON
// report as scanner.result, as `paved verify` requires, and no finding over
// max. Trivy writes severities in upper case; over NONE every finding
// counts, whatever its severity.
func severityConditions(max string) []kyvernoCondition {
	c := []kyvernoCondition{{
		Key: "{{ type(scanner.result.Results) }}", Operator: "Equals", Value: "array",
		Message: "the vulnerability attestation's scanner.result is not a Trivy JSON report",
	}}
	query := "scanner.result.Results[].Vulnerabilities[]"
	if max != "NONE" {
		var or []string
		for _, s := range trust.Above(max) {
			or = append(or, fmt.Sprintf("Severity == '%s'", s))
		}
		if len(or) == 0 {
			return c // CRITICAL: nothing is over the limit
		}
		query += " | [?" + strings.Join(or, " || ") + "]"
	}
	return append(c, kyvernoCondition{
		Key: "{{ " + query + " | length(@) }}", Operator: "Equals", Value: 0,
		Message: "the attested vulnerability scan has findings above " + max,
	})
}

// kyvernoGlobs maps policy-controller globs to Kyverno's wildcards, where
// `*` already crosses path segments.
func kyvernoGlobs(globs []string) []string {
	var out []string
	for _, g := range globs {
		out = append(out, strings.ReplaceAll(g, "**", "*"))
	}
	return out
}
