package sign

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/paved-ci/paved/pipelines/trust"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/cosign/attestation"
	"github.com/sigstore/cosign/v2/pkg/oci"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/tuf"
)

// Policy is what a deploy gate demands of an image; it is shared with
// pipelines/admission so one trust config yields the gate and the cluster
// policies.
type Policy = trust.Policy

// Check is one verdict line.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Reason string `json:"reason"`
}

// Verdict is the answer of Verify: pass only if every check passed.
type Verdict struct {
	// Image is the reference as given; Ref the repository@digest checked,
	// which is what to deploy.
	Image  string  `json:"image"`
	Ref    string  `json:"ref"`
	Digest string  `json:"digest"`
	Passed bool    `json:"passed"`
	Checks []Check `json:"checks"`
}

// Err is nil for a passing verdict and lists the failed checks otherwise.
func (v *Verdict) Err() error {
	if v.Passed {
		return nil
	}
	var failed []string
	for _, c := range v.Checks {
		if !c.Passed {
			failed = append(failed, c.Name+": "+c.Reason)
		}
	}
	return fmt.Errorf("image %s refused: %s", v.Image, strings.Join(failed, "; "))
}

func (v *Verdict) add(name string, passed bool, format string, args ...any) {
	v.Checks = append(v.Checks, Check{Name: name, Passed: passed, Reason: fmt.Sprintf(format, args...)})
}

// Verify resolves image to a digest and checks its signature and
// attestations against p. An error means the question could not be asked
// (bad policy, malformed reference, registry unreachable); a refusal is a
// Verdict with Passed false and the reason on each failed check.
func Verify(ctx context.Context, image string, p Policy, reg Registry) (*Verdict, error) {
	req, err := p.Check()
	if err != nil {
		return nil, err
	}
	co, err := checkOpts(ctx, p, req.Mode)
	if err != nil {
		return nil, err
	}
	required, maxSev := req.Required, req.MaxSeverity

	ref, err := reg.parseRef(image)
	if err != nil {
		return nil, err
	}
	ropts, err := reg.remoteOptions(ctx, ref.Context())
	if err != nil {
		return nil, err
	}
	desc, err := remote.Head(ref, ropts...)
	if err != nil {
		return nil, reg.registryError("resolving", ref, err)
	}
	digest := ref.Context().Digest(desc.Digest.String())
	v := &Verdict{Image: image, Ref: digest.String(), Digest: desc.Digest.String()}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		// A registry answering with another digest than asked is lying.
		v.add("digest", false, "registry returned %s for %s", desc.Digest, d.DigestStr())
	} else if p.Digest != "" && p.Digest != desc.Digest.String() {
		v.add("digest", false, "%s now resolves to %s, not the pinned %s", image, desc.Digest, p.Digest)
	} else if p.Digest != "" {
		v.add("digest", true, "resolves to the pinned %s", desc.Digest)
	} else {
		v.add("digest", true, "resolved to %s", desc.Digest)
	}

	oopts, err := reg.ociOptions(ctx, digest.Repository)
	if err != nil {
		return nil, err
	}
	co.RegistryClientOpts = oopts

	// Everything below is checked against the digest, never the tag.
	sco := *co
	sco.ClaimVerifier = cosign.SimpleClaimVerifier
	if sigs, _, err := cosign.VerifyImageSignatures(ctx, digest, &sco); err != nil {
		v.add("signature", false, "%s", oneLine(err))
	} else {
		v.add("signature", true, "%d signature(s) verified %s", len(sigs), trustLabel(p))
	}

	if len(required) > 0 {
		v.checkAttestations(ctx, digest, co, required, maxSev)
	}

	v.Passed = true
	for _, c := range v.Checks {
		v.Passed = v.Passed && c.Passed
	}
	return v, nil
}

func (v *Verdict) checkAttestations(ctx context.Context, digest name.Digest, co *cosign.CheckOpts, required []string, maxSev string) {
	aco := *co
	aco.ClaimVerifier = cosign.IntotoSubjectClaimVerifier
	verified, _, verr := cosign.VerifyImageAttestations(ctx, digest, &aco)
	byType := map[string][]statementView{}
	for _, a := range verified {
		st, err := decodeStatement(a)
		if err != nil {
			continue
		}
		// Subject already checked by cosign; checked again here because the
		// verdict depends on it.
		if !st.about(digest.DigestStr()) {
			continue
		}
		byType[st.PredicateType] = append(byType[st.PredicateType], st)
	}
	present := presentTypes(digest, co.RegistryClientOpts)
	for _, t := range required {
		name := "attestation " + trust.ShortType(t)
		switch {
		case len(byType[t]) > 0:
			v.add(name, true, "%d verified statement(s) about %s", len(byType[t]), digest.DigestStr())
		case present[t] && verr != nil:
			v.add(name, false, "present but not valid for this image and policy: %s", oneLine(verr))
		case present[t]:
			v.add(name, false, "present but not valid for this image and policy (signature or subject digest mismatch)")
		default:
			v.add(name, false, "missing: no %s attestation is attached to %s", t, digest.DigestStr())
		}
	}
	if maxSev == "" {
		return
	}
	vulns := byType[PredicateVuln]
	if len(vulns) == 0 {
		v.add("vulnerabilities", false, "no verified vulnerability scan to compare with the limit %s", maxSev)
		return
	}
	// The newest scan speaks for the image now.
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].finished().After(vulns[j].finished()) })
	counts, err := vulns[0].severities()
	if err != nil {
		v.add("vulnerabilities", false, "%s", err)
		return
	}
	maxRank, _ := trust.Rank(maxSev)
	var over []string
	for sev, n := range counts {
		if r, _ := trust.Rank(sev); r > maxRank {
			over = append(over, fmt.Sprintf("%d %s", n, sev))
		}
	}
	sort.Strings(over)
	if len(over) > 0 {
		v.add("vulnerabilities", false, "attested scan has findings above %s: %s", maxSev, strings.Join(over, ", "))
		return
	}
	v.add("vulnerabilities", true, "no finding above %s in the attested scan", maxSev)
}

// presentTypes lists the predicate types attached at all, verified or not,
// to tell "missing" from "invalid" in the verdict.
func presentTypes(digest name.Digest, opts []ociremote.Option) map[string]bool {
	out := map[string]bool{}
	tag, err := ociremote.AttestationTag(digest, opts...)
	if err != nil {
		return out
	}
	sigs, err := ociremote.Signatures(tag, opts...)
	if err != nil {
		return out
	}
	list, err := sigs.Get()
	if err != nil {
		return out
	}
	for _, s := range list {
		if st, err := decodeStatement(s); err == nil {
			out[st.PredicateType] = true
		}
	}
	return out
}

type statementView struct {
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	Predicate json.RawMessage `json:"predicate"`
}

func decodeStatement(s oci.Signature) (statementView, error) {
	var st statementView
	raw, err := StatementJSON(s)
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(raw, &st)
	return st, err
}

// StatementJSON is the in-toto statement an attestation carries: the
// payload of its DSSE envelope, as the signer wrote it.
func StatementJSON(s oci.Signature) ([]byte, error) {
	p, err := s.Payload()
	if err != nil {
		return nil, err
	}
	var env struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(p, &env); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(env.Payload)
}

func (s statementView) about(digest string) bool {
	algo, hex, _ := strings.Cut(digest, ":")
	for _, sub := range s.Subject {
		if sub.Digest[algo] == hex {
			return true
		}
	}
	return false
}

func (s statementView) finished() time.Time {
	var p attestation.CosignVulnPredicate
	_ = json.Unmarshal(s.Predicate, &p)
	return p.Metadata.ScanFinishedOn
}

// severities counts findings by severity in a vuln predicate whose result
// is a Trivy JSON report.
func (s statementView) severities() (map[string]int, error) {
	var p struct {
		Scanner struct {
			Result *struct {
				Results *[]struct {
					Vulnerabilities []struct {
						Severity string `json:"Severity"`
					} `json:"Vulnerabilities"`
				} `json:"Results"`
			} `json:"result"`
		} `json:"scanner"`
	}
	if err := json.Unmarshal(s.Predicate, &p); err != nil || p.Scanner.Result == nil {
		return nil, errors.New("the vulnerability attestation has no scanner.result to read")
	}
	if p.Scanner.Result.Results == nil {
		return nil, errors.New("the vulnerability attestation's scanner.result is not a Trivy JSON report (no Results)")
	}
	counts := map[string]int{}
	for _, r := range *p.Scanner.Result.Results {
		for _, vl := range r.Vulnerabilities {
			counts[trust.Severities[trust.FindingRank(vl.Severity)]]++
		}
	}
	return counts, nil
}

func trustLabel(p Policy) string {
	if len(p.PublicKey) > 0 {
		return "with the trusted key"
	}
	return fmt.Sprintf("for identity %s%s from issuer %s%s", p.Identity, p.IdentityRegexp, p.Issuer, p.IssuerRegexp)
}

// checkOpts builds cosign's options for a policy already checked
// (trust.Policy.Check) to be in mode.
func checkOpts(ctx context.Context, p Policy, mode trust.Mode) (*cosign.CheckOpts, error) {
	switch mode {
	case trust.KeyMode:
		pk, err := cryptoutils.UnmarshalPEMToPublicKey(p.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("policy: public key is not a PEM public key (want the content of cosign.pub): %w", err)
		}
		sv, err := signature.LoadVerifier(pk, crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("policy: public key: %w", err)
		}
		return &cosign.CheckOpts{SigVerifier: sv, IgnoreTlog: true, IgnoreSCT: true}, nil
	case trust.KeylessMode:
		co := &cosign.CheckOpts{Identities: []cosign.Identity{{
			Subject: p.Identity, SubjectRegExp: p.IdentityRegexp, Issuer: p.Issuer, IssuerRegExp: p.IssuerRegexp,
		}}}
		if len(p.FulcioRoots) > 0 {
			certs, err := cryptoutils.UnmarshalCertificatesFromPEM(p.FulcioRoots)
			if err != nil || len(certs) == 0 {
				return nil, errors.New("policy: Fulcio roots are not PEM certificates")
			}
			pool := x509.NewCertPool()
			for _, c := range certs {
				pool.AddCert(c)
			}
			co.RootCerts = pool
			co.IgnoreSCT = true
			co.IgnoreTlog = p.IgnoreTlog
			if !p.IgnoreTlog && len(p.RekorPublicKey) > 0 {
				pubs := cosign.NewTrustedTransparencyLogPubKeys()
				if err := pubs.AddTransparencyLogPubKey(p.RekorPublicKey, tuf.Active); err != nil {
					return nil, fmt.Errorf("policy: Rekor public key is not a PEM public key: %w", err)
				}
				co.RekorPubKeys = &pubs
			} else if !p.IgnoreTlog {
				pubs, err := cosign.GetRekorPubs(ctx)
				if err != nil {
					return nil, fmt.Errorf("policy: loading Rekor public keys: %w", err)
				}
				co.RekorPubKeys = pubs
			}
			return co, nil
		}
		tr, err := root.FetchTrustedRoot()
		if err != nil {
			return nil, fmt.Errorf("policy: fetching Sigstore's trusted root (TUF): %w", err)
		}
		co.TrustedMaterial = tr
		return co, nil
	default:
		return nil, fmt.Errorf("policy: unknown trust mode %d", mode)
	}
}

func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// Text renders the verdict for people: one line per check, then the
// outcome with the reference to deploy.
func (v *Verdict) Text() string {
	var b strings.Builder
	for _, c := range v.Checks {
		mark := "ok  "
		if !c.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s: %s\n", mark, c.Name, c.Reason)
	}
	if v.Passed {
		fmt.Fprintf(&b, "passed: deploy %s\n", v.Ref)
	} else {
		fmt.Fprintf(&b, "refused: %s\n", v.Image)
	}
	return b.String()
}
