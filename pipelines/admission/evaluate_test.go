package admission

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/paved-ci/paved/pipelines/sign"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/cosign/rego"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"gopkg.in/yaml.v3"
)

// Small evaluators of the generated policies, reading the YAML back the way
// each controller reads its CRD: the trust (keys, tlog settings), the image
// globs, the attestation types and the conditions or Rego all come from the
// document, never from the trust.Policy it was generated from. Signature
// checks use cosign, as both controllers do; what is modelled here is each
// controller's decision logic (cited at each step).

// docs splits a generated YAML stream by kind.
func docs(t *testing.T, out []byte) map[string]map[string]any {
	t.Helper()
	res := map[string]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			return res
		} else if err != nil {
			t.Fatal(err)
		}
		res[fmt.Sprint(d["kind"])] = d
	}
}

// dig walks maps by key and lists by index; nil when absent.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func strAt(v any, path ...any) string { s, _ := dig(v, path...).(string); return s }
func listAt(v any, path ...any) []any { l, _ := dig(v, path...).([]any); return l }
func boolAt(v any, path ...any) bool  { b, _ := dig(v, path...).(bool); return b }

// trustOpts are cosign options for one key, as a controller builds them.
func trustOpts(pemKey string, ignoreTlog, ignoreSCT bool) (*cosign.CheckOpts, error) {
	if pemKey == "" {
		return nil, errors.New("no public key in the attestor/authority (keyless is not evaluated here)")
	}
	pk, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(pemKey))
	if err != nil {
		return nil, err
	}
	v, err := signature.LoadVerifier(pk, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &cosign.CheckOpts{SigVerifier: v, IgnoreTlog: ignoreTlog, IgnoreSCT: ignoreSCT}, nil
}

func signed(ctx context.Context, d name.Digest, co *cosign.CheckOpts) bool {
	c := *co
	c.ClaimVerifier = cosign.SimpleClaimVerifier
	_, _, err := cosign.VerifyImageSignatures(ctx, d, &c)
	return err == nil
}

// statements are the verified in-toto statements about d, decoded.
func statements(ctx context.Context, d name.Digest, co *cosign.CheckOpts) []map[string]any {
	c := *co
	c.ClaimVerifier = cosign.IntotoSubjectClaimVerifier
	atts, _, err := cosign.VerifyImageAttestations(ctx, d, &c)
	if err != nil {
		return nil
	}
	var out []map[string]any
	for _, a := range atts {
		var st map[string]any
		env, err := a.Payload()
		if err != nil {
			continue
		}
		if raw, err := sign.StatementJSON(env); err == nil && json.Unmarshal(raw, &st) == nil {
			out = append(out, st)
		}
	}
	return out
}

func resolve(image string) (name.Digest, error) {
	ref, err := name.ParseReference(image)
	if err != nil {
		return name.Digest{}, err
	}
	desc, err := remote.Head(ref)
	if err != nil {
		return name.Digest{}, err
	}
	return ref.Context().Digest(desc.Digest.String()), nil
}

// kyvernoWildcard is Kyverno's wildcard: * any run (also across /), ? one.
func kyvernoWildcard(pattern, image string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(image)
}

// kyvernoAdmits evaluates a ClusterPolicy's verifyImages rules for image
// (Kyverno's pkg/engine/internal/imageverifier.go at v1.19.0): attestors
// verify the image signature (count of entries), then each attestation
// type needs verified statements that all satisfy the conditions, with the
// statement's predicate as the JMESPath root.
func kyvernoAdmits(ctx context.Context, t *testing.T, cp map[string]any, image string) (bool, string) {
	t.Helper()
	d, err := resolve(image)
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range listAt(cp, "spec", "rules") {
		for _, vi := range listAt(rule, "verifyImages") {
			matched := false
			for _, g := range listAt(vi, "imageReferences") {
				matched = matched || kyvernoWildcard(fmt.Sprint(g), image)
			}
			if !matched {
				continue
			}
			if ok, why := kyvernoAttestors(ctx, t, listAt(vi, "attestors"), d, func(co *cosign.CheckOpts) bool { return signed(ctx, d, co) }); !ok {
				return false, "signature: " + why
			}
			for _, at := range listAt(vi, "attestations") {
				typ := strAt(at, "type")
				var stmts []map[string]any
				ok, why := kyvernoAttestors(ctx, t, listAt(at, "attestors"), d, func(co *cosign.CheckOpts) bool {
					for _, st := range statements(ctx, d, co) {
						if st["predicateType"] == typ {
							stmts = append(stmts, st)
						}
					}
					return len(stmts) > 0
				})
				if !ok {
					return false, "attestation " + typ + ": " + why
				}
				for _, st := range stmts {
					if ok, why := kyvernoConditions(t, listAt(at, "conditions"), st["predicate"]); !ok {
						return false, "attestation " + typ + ": " + why
					}
				}
			}
		}
	}
	return true, ""
}

func kyvernoAttestors(ctx context.Context, t *testing.T, sets []any, d name.Digest, check func(*cosign.CheckOpts) bool) (bool, string) {
	t.Helper()
	if len(sets) == 0 {
		t.Fatal("an attestor set is missing: Kyverno would not verify signatures")
	}
	for _, set := range sets {
		entries := listAt(set, "entries")
		need := len(entries)
		if c, ok := dig(set, "count").(int); ok && c > 0 {
			need = c
		}
		got := 0
		for _, e := range entries {
			co, err := kyvernoEntryOpts(e)
			if err != nil {
				t.Fatal(err)
			}
			if check(co) {
				got++
			}
		}
		if got < need {
			return false, fmt.Sprintf("%d of %d attestors verified", got, need)
		}
	}
	return true, ""
}

// kyvernoEntryOpts are cosign's options for one attestor entry, as
// Kyverno's buildCosignVerifier sets them: a key, or keyless identities with
// the roots given (public roots are not evaluated here).
func kyvernoEntryOpts(e any) (*cosign.CheckOpts, error) {
	if dig(e, "keys") != nil {
		return trustOpts(strAt(e, "keys", "publicKeys"), boolAt(e, "keys", "rekor", "ignoreTlog"), boolAt(e, "keys", "ctlog", "ignoreSCT"))
	}
	k := dig(e, "keyless")
	if strAt(k, "roots") == "" {
		return nil, errors.New("keyless attestor without roots: public Sigstore is not evaluated here")
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(strAt(k, "roots")))
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("keyless roots are not PEM certificates: %v", err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	if !boolAt(k, "rekor", "ignoreTlog") {
		return nil, errors.New("keyless with a transparency log is not evaluated here")
	}
	return &cosign.CheckOpts{
		RootCerts: pool, IgnoreTlog: true, IgnoreSCT: boolAt(k, "ctlog", "ignoreSCT"),
		Identities: []cosign.Identity{{
			Subject: strAt(k, "subject"), SubjectRegExp: strAt(k, "subjectRegExp"),
			Issuer: strAt(k, "issuer"), IssuerRegExp: strAt(k, "issuerRegExp"),
		}},
	}, nil
}

// kyvernoConditions: every `all` condition holds and, when present, one of
// the `any`; a failed substitution (e.g. length(null)) fails the rule.
func kyvernoConditions(t *testing.T, blocks []any, predicate any) (bool, string) {
	t.Helper()
	// Kyverno's JSON context holds JSON numbers; yaml gave ints.
	var root any
	b, _ := json.Marshal(predicate)
	_ = json.Unmarshal(b, &root)
	for _, blk := range blocks {
		for _, c := range listAt(blk, "all") {
			if ok, why := kyvernoHolds(t, c, root); !ok {
				return false, why
			}
		}
		if anyOf := listAt(blk, "any"); len(anyOf) > 0 {
			ok := false
			for _, c := range anyOf {
				o, _ := kyvernoHolds(t, c, root)
				ok = ok || o
			}
			if !ok {
				return false, "no condition of any holds"
			}
		}
	}
	return true, ""
}

var braces = regexp.MustCompile(`^\{\{\s*(.*?)\s*\}\}$`)

func kyvernoHolds(t *testing.T, c any, root any) (bool, string) {
	t.Helper()
	m := braces.FindStringSubmatch(strAt(c, "key"))
	if m == nil {
		t.Fatalf("condition key %q is not one {{ expression }}", strAt(c, "key"))
	}
	got, err := jmesEval(m[1], root)
	if err != nil {
		return false, "substitution failed: " + err.Error()
	}
	want := dig(c, "value")
	if n, ok := want.(int); ok {
		want = float64(n)
	}
	if op := strAt(c, "operator"); op != "Equals" {
		t.Fatalf("operator %s is not evaluated here", op)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return false, fmt.Sprintf("%s: %v, want %v (%s)", m[1], got, want, strAt(c, "message"))
	}
	return true, ""
}

// cipGlobMatch is policy-controller's glob (pkg/apis/glob at v0.15.1):
// ** any run, * any run without /, against the full reference name.
func cipGlobMatch(glob, image string) bool {
	g := strings.ReplaceAll(glob, ".", `\.`)
	g = strings.ReplaceAll(g, "**", "#")
	g = strings.ReplaceAll(g, "*", "[^/]*")
	g = strings.ReplaceAll(g, "#", ".*")
	return regexp.MustCompile("^" + g + "$").MatchString(image)
}

// cipAdmits evaluates a ClusterImagePolicy for image (policy-controller's
// pkg/webhook/validator.go at v0.15.1, ValidatePolicy): each authority with
// attestations checks only those (each named type needs a verified
// statement passing its policy, the whole statement as Rego input), one
// without checks the image signature; one matching authority is enough
// unless a CIP-level policy over authorityMatches says otherwise. Rego runs
// in cosign's evaluator, the one policy-controller calls.
func cipAdmits(ctx context.Context, t *testing.T, cip map[string]any, image string) (bool, string) {
	t.Helper()
	d, err := resolve(image)
	if err != nil {
		t.Fatal(err)
	}
	matched := false
	for _, g := range listAt(cip, "spec", "images") {
		matched = matched || cipGlobMatch(strAt(g, "glob"), image)
	}
	if !matched {
		return true, ""
	}
	matches := map[string]any{}
	var whys []string
	for _, a := range listAt(cip, "spec", "authorities") {
		// No ctlog: policy-controller has no Rekor client and ignores the tlog.
		co, err := trustOpts(strAt(a, "key", "data"), dig(a, "ctlog") == nil, false)
		if err != nil {
			t.Fatal(err)
		}
		atts := listAt(a, "attestations")
		if len(atts) == 0 {
			if signed(ctx, d, co) {
				matches[strAt(a, "name")] = map[string]any{"signatures": []any{map[string]any{"id": d.DigestStr()}}}
			} else {
				whys = append(whys, strAt(a, "name")+": no signature verified")
			}
			continue
		}
		verified := statements(ctx, d, co)
		byName := map[string]any{}
		for _, want := range atts {
			var passed []any
			for _, st := range verified {
				if st["predicateType"] != strAt(want, "predicateType") {
					continue
				}
				if pol := dig(want, "policy"); pol != nil {
					if strAt(pol, "type") != "rego" {
						t.Fatalf("policy type %s is not evaluated here", strAt(pol, "type"))
					}
					b, _ := json.Marshal(st)
					if _, err := rego.ValidateJSONWithModuleInput(b, strAt(pol, "data")); err != nil {
						continue
					}
				}
				passed = append(passed, st)
			}
			if len(passed) == 0 {
				byName = nil
				whys = append(whys, strAt(a, "name")+": no matching attestation "+strAt(want, "name"))
				break
			}
			byName[strAt(want, "name")] = passed
		}
		if byName != nil {
			matches[strAt(a, "name")] = map[string]any{"attestations": byName}
		}
	}
	if len(matches) == 0 {
		return false, strings.Join(whys, "; ")
	}
	if pol := dig(cip, "spec", "policy"); pol != nil {
		b, _ := json.Marshal(map[string]any{"authorityMatches": matches})
		if _, err := rego.ValidateJSONWithModuleInput(b, strAt(pol, "data")); err != nil {
			return false, "CIP policy: " + err.Error() + " (" + strings.Join(whys, "; ") + ")"
		}
	}
	return true, ""
}
