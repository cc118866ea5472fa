package admission

import (
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/trust"
)

const testPEM = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"

var teamImages = Options{Images: []string{"registry.example.com/team/**"}}

func TestGenerateValidatesAgainstSchemas(t *testing.T) {
	policies := map[string]trust.Policy{
		"key, all attestations, HIGH": {PublicKey: []byte(testPEM), Require: []string{"cyclonedx", "vuln", "slsaprovenance1"}, MaxSeverity: "HIGH"},
		"key, severity only, NONE":    {PublicKey: []byte(testPEM), MaxSeverity: "none"},
		"key, signature only":         {PublicKey: []byte(testPEM)},
		"keyless exact, CRITICAL":     {Identity: "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main", Issuer: "https://token.actions.githubusercontent.com", Require: []string{"https://example.com/custom/v1"}, MaxSeverity: "CRITICAL"},
		"keyless regexps":             {IdentityRegexp: "^https://github.com/acme/", IssuerRegexp: "^https://token.actions.githubusercontent.com$", Require: []string{"sbom"}},
	}
	for name, p := range policies {
		for _, audit := range []bool{false, true} {
			o := teamImages
			o.Audit = audit
			out, err := Generate(p, o, FormatBoth)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			kinds, err := validateYAML(t, out)
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
			if len(kinds) != 2 {
				t.Errorf("%s: format both gave %v", name, kinds)
			}
		}
	}
	// The schemas do refuse what the clusters would not take: a misspelt
	// field, a wrong enum value, a missing name, a wrong apiVersion.
	good, err := Generate(policies["keyless regexps"], teamImages, FormatBoth)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{
		{"subjectRegExp:", "subjectRegexp:"},
		{"issuerRegExp:", "issuerRegex:"},
		{"failureAction: Enforce", "failureAction: Deny"},
		{"name: paved-verify\n", "title: paved-verify\n"},
		{"apiVersion: kyverno.io/v1", "apiVersion: kyverno.io/v2"},
		{"predicateType:", "predicate:"},
	} {
		bad := strings.Replace(string(good), c[0], c[1], 1)
		if bad == string(good) {
			t.Fatalf("%q is not in the output", c[0])
		}
		if _, err := validateYAML(t, []byte(bad)); err == nil {
			t.Errorf("replacing %q by %q still validates", c[0], c[1])
		}
	}
}
