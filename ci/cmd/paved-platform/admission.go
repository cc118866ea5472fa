package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/paved-ci/paved/pipelines/admission"
	"github.com/paved-ci/paved/pipelines/trust"
)

// listFlag collects a flag given several times or comma-separated, as the
// paved modules take --require cyclonedx,vuln.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// cmdAdmission writes the cluster admission policies for the verify policy
// given with the same flags as paved's verify function.
func cmdAdmission(args []string, out io.Writer) error {
	fs := flags("admission")
	keyFile := fs.String("public-key", "", "trusted cosign public key file (cosign.pub), for key-signed images")
	identity := fs.String("identity", "", "keyless: the signer's identity (certificate SAN), exact")
	identityRe := fs.String("identity-regexp", "", "keyless: a regexp the signer's identity must match")
	issuer := fs.String("issuer", "", "keyless: the OIDC issuer, e.g. https://token.actions.githubusercontent.com")
	issuerRe := fs.String("issuer-regexp", "", "keyless: a regexp the OIDC issuer must match")
	rootsFile := fs.String("fulcio-roots", "", "keyless with a private Fulcio: its root certificates (PEM file); Kyverno only")
	ignoreTlog := fs.Bool("ignore-tlog", false, "keyless with --fulcio-roots: accept signatures without a Rekor entry")
	var require, images listFlag
	fs.Var(&require, "require", "attestations that must be present: cyclonedx, vuln, slsaprovenance1 or predicate URIs (repeat or comma-separate)")
	maxSev := fs.String("max-severity", "", "highest vulnerability severity allowed in the attested scan: NONE, LOW, MEDIUM, HIGH or CRITICAL (requires the vuln attestation)")
	fs.Var(&images, "images", "image globs the policy applies to, e.g. 'registry.example.com/team/**' (* within a path segment, ** across) (required; repeat or comma-separate)")
	name := fs.String("name", admission.DefaultName, "metadata.name of the generated policies")
	format := fs.String("format", admission.FormatBoth, "kyverno (ClusterPolicy), sigstore (policy-controller ClusterImagePolicy) or both")
	audit := fs.Bool("audit", false, "report refused images instead of rejecting them (Kyverno Audit, policy-controller warn)")
	outFile := fs.String("out", "", "write the YAML to this file instead of stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *format {
	case admission.FormatKyverno, admission.FormatSigstore, admission.FormatBoth:
	default:
		return fmt.Errorf("--format %q: use kyverno, sigstore or both", *format)
	}
	if len(images) == 0 {
		return errors.New("--images is required: the image globs the policy applies to, e.g. --images 'registry.example.com/team/**'")
	}
	keyless := *identity != "" || *identityRe != "" || *issuer != "" || *issuerRe != ""
	switch {
	case *keyFile != "" && keyless:
		return errors.New("--public-key and --identity/--issuer exclude each other: pass the key for key-signed images, or the identity and issuer for keyless ones")
	case *keyFile == "" && !keyless:
		return errors.New("no trust anchor: pass --public-key cosign.pub, or --identity (or --identity-regexp) with --issuer (or --issuer-regexp)")
	case keyless && (*identity == "" && *identityRe == "" || *issuer == "" && *issuerRe == ""):
		return errors.New("keyless needs both --identity (or --identity-regexp) and --issuer (or --issuer-regexp)")
	}
	for _, r := range require {
		if _, err := trust.PredicateURI(r); err != nil {
			return fmt.Errorf("--require: %w", err)
		}
	}
	if _, ok := trust.Rank(*maxSev); *maxSev != "" && !ok {
		return fmt.Errorf("--max-severity %q: use NONE, LOW, MEDIUM, HIGH or CRITICAL", *maxSev)
	}
	p := trust.Policy{Identity: *identity, IdentityRegexp: *identityRe, Issuer: *issuer, IssuerRegexp: *issuerRe, Require: require, MaxSeverity: *maxSev}
	p.IgnoreTlog = *ignoreTlog
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("--public-key: %w (want the cosign.pub written by cosign generate-key-pair)", err)
		}
		p.PublicKey = b
	}
	if *rootsFile != "" {
		b, err := os.ReadFile(*rootsFile)
		if err != nil {
			return fmt.Errorf("--fulcio-roots: %w (want the private Fulcio's root certificates, PEM)", err)
		}
		p.FulcioRoots = b
	}
	yml, err := admission.Generate(p, admission.Options{Images: images, Name: *name, Audit: *audit}, *format)
	if err != nil {
		return err
	}
	if *outFile == "" {
		_, err := out.Write(yml)
		return err
	}
	if err := os.WriteFile(*outFile, yml, 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(out, "wrote %s (%s)\n", *outFile, *format)
	return nil
}
