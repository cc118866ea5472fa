package sign

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/paved-ci/paved/pipelines/trust"
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
// attestations against p with the cosign CLI on this machine.
func Verify(ctx context.Context, image string, p Policy, reg Registry) (*Verdict, error) {
	return VerifyWith(ctx, nil, image, p, reg)
}

// VerifyWith is Verify with cosign run by r (nil: the binary on this
// machine). An error means the question could not be asked (bad policy,
// malformed reference, registry unreachable); a refusal is a Verdict with
// Passed false and the reason on each failed check.
func VerifyWith(ctx context.Context, r Runner, image string, p Policy, reg Registry) (*Verdict, error) {
	req, err := p.Check()
	if err != nil {
		return nil, err
	}
	trustCall, err := trustFlags(p, req.Mode)
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

	// Everything below is checked against the digest, never the tag. The
	// signature and each attestation type are separate cosign calls, run
	// at once: one failing does not hide the others' answers.
	calls := []Call{trustCall.after("verify", "--output", "json")}
	for _, t := range required {
		calls = append(calls, trustCall.after("verify-attestation", "--type", t, "--output", "json"))
	}
	for i := range calls {
		if err := reg.cosignAccess(&calls[i], digest.RegistryStr()); err != nil {
			return nil, err
		}
		calls[i].Args = append(calls[i].Args, digest.String())
	}
	outs := make([][]byte, len(calls))
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			outs[i], errs[i] = runnerOr(r).Run(ctx, []Call{c})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err := notRun(err); err != nil {
			return nil, reg.cosignError("verifying", digest, err)
		}
	}

	if errs[0] != nil {
		v.add("signature", false, "%s", cosignReason(errs[0]))
	} else {
		var sigs []json.RawMessage
		if err := json.Unmarshal(outs[0], &sigs); err != nil || len(sigs) == 0 {
			v.add("signature", false, "cosign verified no signature it could report")
		} else {
			v.add("signature", true, "%d signature(s) verified %s", len(sigs), trustLabel(p))
		}
	}
	if len(required) > 0 {
		v.checkAttestations(ctx, digest, reg, required, maxSev, outs[1:], errs[1:])
	}

	v.Passed = true
	for _, c := range v.Checks {
		v.Passed = v.Passed && c.Passed
	}
	return v, nil
}

// notRun is err when cosign could not be run at all (as opposed to
// cosign refusing): that is an error, not a verdict.
func notRun(err error) error {
	var ce *CallError
	if err == nil || (errors.As(err, &ce) && ce.Err == nil) {
		return nil
	}
	return err
}

// cosignReason is cosign's refusal in one line.
func cosignReason(err error) string {
	var ce *CallError
	if errors.As(err, &ce) {
		return strings.TrimPrefix(lastLine(ce.Stderr), "error during command execution: ")
	}
	return oneLine(err)
}

func (v *Verdict) checkAttestations(ctx context.Context, digest name.Digest, reg Registry, required []string, maxSev string, outs [][]byte, errs []error) {
	byType := map[string][]statementView{}
	for i, t := range required {
		if errs[i] != nil {
			continue
		}
		for _, line := range strings.Split(string(outs[i]), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			st, err := decodeStatement([]byte(line))
			// Subject already checked by cosign; checked again here
			// because the verdict depends on it.
			if err != nil || st.PredicateType != t || !st.about(digest.DigestStr()) {
				continue
			}
			byType[t] = append(byType[t], st)
		}
	}
	present := presentTypes(ctx, digest, reg)
	for i, t := range required {
		name := "attestation " + trust.ShortType(t)
		switch {
		case len(byType[t]) > 0:
			v.add(name, true, "%d verified statement(s) about %s", len(byType[t]), digest.DigestStr())
		case present[t] && errs[i] != nil:
			v.add(name, false, "present but not valid for this image and policy: %s", cosignReason(errs[i]))
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
// to tell "missing" from "invalid" in the verdict: the predicateType
// annotations of the layers under the attestation tag.
func presentTypes(ctx context.Context, digest name.Digest, reg Registry) map[string]bool {
	out := map[string]bool{}
	opts, err := reg.remoteOptions(ctx, digest.Repository)
	if err != nil {
		return out
	}
	img, err := remote.Image(digest.Repository.Tag(tagFor(digest, "att")), opts...)
	if err != nil {
		return out
	}
	m, err := img.Manifest()
	if err != nil {
		return out
	}
	for _, l := range m.Layers {
		if t := l.Annotations["predicateType"]; t != "" {
			out[t] = true
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

// decodeStatement reads the in-toto statement out of a DSSE envelope.
func decodeStatement(envelope []byte) (statementView, error) {
	var st statementView
	raw, err := StatementJSON(envelope)
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(raw, &st)
	return st, err
}

// StatementJSON is the in-toto statement a DSSE envelope (an attestation
// layer, or a line of cosign verify-attestation) carries, as signed.
func StatementJSON(envelope []byte) ([]byte, error) {
	var env struct {
		Payload string `json:"payload"`
	}
	if err := json.Unmarshal(envelope, &env); err != nil {
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
	var p vulnPredicate
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

// trustFlags turns a policy already checked (trust.Policy.Check) to be
// in mode into cosign's verify flags and the files they name.
func trustFlags(p Policy, mode trust.Mode) (Call, error) {
	var c Call
	switch mode {
	case trust.KeyMode:
		if err := checkPublicKey(p.PublicKey, "public key", " (want the content of cosign.pub)"); err != nil {
			return c, err
		}
		setFile(&c, "cosign.pub", p.PublicKey)
		// a key's signatures carry no transparency log entry (paved signs
		// with --tlog-upload=false): the key is the trust
		c.Args = []string{"--key", Dir + "/cosign.pub", "--insecure-ignore-tlog"}
		return c, nil
	case trust.KeylessMode:
		for flag, v := range map[string]string{
			"--certificate-identity": p.Identity, "--certificate-identity-regexp": p.IdentityRegexp,
			"--certificate-oidc-issuer": p.Issuer, "--certificate-oidc-issuer-regexp": p.IssuerRegexp,
		} {
			if v != "" {
				c.Args = append(c.Args, flag, v)
			}
		}
		sort.Sort(flagPairs(c.Args))
		if len(p.FulcioRoots) == 0 {
			// Sigstore's public instance: cosign reads its trusted root (TUF)
			return c, nil
		}
		if certs, err := parseCertificates(p.FulcioRoots); err != nil || len(certs) == 0 {
			return c, errors.New("policy: Fulcio roots are not PEM certificates")
		}
		setFile(&c, "fulcio-roots.pem", p.FulcioRoots)
		setEnv(&c, "SIGSTORE_ROOT_FILE", Dir+"/fulcio-roots.pem")
		c.Args = append(c.Args, "--insecure-ignore-sct")
		switch {
		case p.IgnoreTlog:
			c.Args = append(c.Args, "--insecure-ignore-tlog")
		case len(p.RekorPublicKey) > 0:
			if err := checkPublicKey(p.RekorPublicKey, "Rekor public key", ""); err != nil {
				return c, err
			}
			setFile(&c, "rekor.pub", p.RekorPublicKey)
			setEnv(&c, "SIGSTORE_REKOR_PUBLIC_KEY", Dir+"/rekor.pub")
		}
		return c, nil
	default:
		return c, fmt.Errorf("policy: unknown trust mode %d", mode)
	}
}

// checkPublicKey refuses what cosign could not load as a public key, with
// the policy field's name.
func checkPublicKey(b []byte, what, hint string) error {
	block, _ := pem.Decode(b)
	if block == nil {
		return fmt.Errorf("policy: %s is not a PEM public key%s", what, hint)
	}
	if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		return fmt.Errorf("policy: %s is not a PEM public key%s: %w", what, hint, err)
	}
	return nil
}

// flagPairs sorts "--flag value" pairs by flag, for stable command lines.
type flagPairs []string

func (f flagPairs) Len() int           { return len(f) / 2 }
func (f flagPairs) Less(i, j int) bool { return f[2*i] < f[2*j] }
func (f flagPairs) Swap(i, j int) {
	f[2*i], f[2*j] = f[2*j], f[2*i]
	f[2*i+1], f[2*j+1] = f[2*j+1], f[2*i+1]
}

func parseCertificates(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return out, nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
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
