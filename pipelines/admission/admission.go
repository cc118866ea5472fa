// Package admission turns the verify policy paved enforces (trust.Policy:
// trusted key or keyless identity, required attestations, maximum
// severity) into cluster admission policies, so one trust config gates both
// the deploy step and the cluster: a Kyverno ClusterPolicy (kyverno.io/v1,
// verifyImages) and a Sigstore policy-controller ClusterImagePolicy
// (policy.sigstore.dev/v1beta1). Plain Go, no engine, no cosign.
package admission

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/paved-ci/paved/pipelines/trust"
	"gopkg.in/yaml.v3"
)

// Formats of Generate.
const (
	FormatKyverno  = "kyverno"
	FormatSigstore = "sigstore"
	FormatBoth     = "both"
)

// DefaultName is the policies' metadata.name when Options.Name is empty.
const DefaultName = "paved-verify"

// publicRekor is the transparency log keyless certificates are logged in.
const publicRekor = "https://rekor.sigstore.dev"

// Options are the cluster-side choices the verify policy does not make.
type Options struct {
	// Images are the image globs the policy applies to, e.g.
	// registry.example.com/team/*. `*` matches within one path segment,
	// `**` across segments (policy-controller's glob); Kyverno has only a
	// `*` that crosses segments, so both become `*` there (see docs).
	Images []string
	// Name is metadata.name of the generated objects (DNS subdomain).
	Name string
	// Audit reports refusals instead of rejecting the workload.
	Audit bool
}

// globRe is policy-controller's accepted glob alphabet.
var globRe = regexp.MustCompile(`^[a-zA-Z0-9-_:/*.@]+$`)

// nameRe is a Kubernetes object name (RFC 1123 subdomain).
var nameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

// plan is a checked policy with options: what both generators render.
type plan struct {
	p    trust.Policy
	req  trust.Requirements
	name string
	o    Options
}

func check(p trust.Policy, o Options, format string) (plan, error) {
	req, err := p.Check()
	if err != nil {
		return plan{}, err
	}
	switch {
	case p.Digest != "":
		return plan{}, errors.New("policy: a pinned digest names one image; a cluster policy covers image globs: drop the digest")
	case len(p.RekorPublicKey) > 0:
		return plan{}, errors.New("policy: a private Rekor key is not generated yet: use the public Rekor, or ignore the transparency log with private Fulcio roots")
	case len(p.FulcioRoots) > 0 && format != FormatKyverno:
		// v0.15.1 verifies keyless signatures against the public roots
		// unless a TrustRoot object is referenced; keyless.ca-cert is not read.
		return plan{}, errors.New("policy: policy-controller takes private Fulcio roots only from a TrustRoot object, which is not generated yet: use the kyverno format")
	case len(p.FulcioRoots) > 0 && !bytes.Contains(p.FulcioRoots, []byte("-----BEGIN CERTIFICATE-----")):
		return plan{}, errors.New("policy: the Fulcio roots are not PEM certificates (want -----BEGIN CERTIFICATE-----)")
	}
	if req.Mode == trust.KeyMode && !bytes.Contains(p.PublicKey, []byte("-----BEGIN PUBLIC KEY-----")) {
		return plan{}, errors.New("policy: the public key is not PEM (want the content of cosign.pub, -----BEGIN PUBLIC KEY-----)")
	}
	for _, r := range []struct{ flag, re string }{{"identity regexp", p.IdentityRegexp}, {"issuer regexp", p.IssuerRegexp}} {
		if _, err := regexp.Compile(r.re); err != nil {
			return plan{}, fmt.Errorf("policy: the %s %q does not compile: %v", r.flag, r.re, err)
		}
	}
	if len(o.Images) == 0 {
		return plan{}, errors.New("no image glob: name the images the policy applies to, e.g. registry.example.com/team/*")
	}
	for _, g := range o.Images {
		if !globRe.MatchString(g) || !strings.Contains(g, "/") {
			return plan{}, fmt.Errorf("image glob %q: use registry/path with letters, digits and - _ : / . @ *, e.g. registry.example.com/team/*", g)
		}
	}
	name := o.Name
	if name == "" {
		name = DefaultName
	}
	if !nameRe.MatchString(name) {
		return plan{}, fmt.Errorf("name %q is not a Kubernetes object name: use lower-case letters, digits, dashes and dots, e.g. team-verify", name)
	}
	return plan{p: p, req: req, name: name, o: o}, nil
}

// Generate renders the policy in format (kyverno, sigstore or both, as
// YAML documents separated by ---).
func Generate(p trust.Policy, o Options, format string) ([]byte, error) {
	pl, err := check(p, o, format)
	if err != nil {
		return nil, err
	}
	var docs []any
	switch format {
	case FormatKyverno:
		docs = []any{pl.kyverno()}
	case FormatSigstore:
		docs = []any{pl.sigstore()}
	case FormatBoth:
		docs = []any{pl.kyverno(), pl.sigstore()}
	default:
		return nil, fmt.Errorf("format %q is unknown: use kyverno, sigstore or both", format)
	}
	// Structs, not maps, so fields keep a readable order; yaml.v3 writes
	// multi-line strings (PEM keys, Rego) as literal blocks.
	var b bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func (pl plan) source() string {
	var parts []string
	if pl.req.Mode == trust.KeyMode {
		parts = append(parts, "signed with the trusted cosign key")
	} else {
		parts = append(parts, fmt.Sprintf("signed keyless by %s%s (issuer %s%s)", pl.p.Identity, pl.p.IdentityRegexp, pl.p.Issuer, pl.p.IssuerRegexp))
	}
	for _, u := range pl.req.Required {
		parts = append(parts, "attestation "+trust.ShortType(u))
	}
	if pl.req.MaxSeverity != "" {
		parts = append(parts, "no attested vulnerability above "+pl.req.MaxSeverity)
	}
	return "Generated by paved-platform admission from the paved verify policy: " + strings.Join(parts, ", ") + "."
}
