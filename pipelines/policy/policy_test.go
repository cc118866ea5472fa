package policy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aquasecurity/trivy/pkg/types"

	"github.com/paved-ci/paved/pipelines/policy"
	"github.com/paved-ci/paved/pipelines/scan/report"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var allScanners = []string{"vuln", "secret", "misconfig"}

// The real trivy v0.74.0 report of a source tree with vulnerable Go and
// npm modules, a leaked token and a root Dockerfile (see
// ../scan/report/trivy_real_test.go).
func fsReport(t testing.TB) *types.Report {
	t.Helper()
	b, err := os.ReadFile("../scan/report/testdata/trivy-fs.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func build(t *testing.T, p policy.Platform, files map[string]string) *policy.Config {
	t.Helper()
	c, err := policy.Build(p, bytesMap(files), now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func bytesMap(files map[string]string) map[string][]byte {
	m := map[string][]byte{}
	for k, v := range files {
		m[k] = []byte(v)
	}
	return m
}

func ids(fs []report.Finding) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		m[f.ID] = true
	}
	return m
}

func TestDefaultGateFailsOnHighAndAbove(t *testing.T) {
	r := fsReport(t)
	res := build(t, policy.DefaultPlatform(), nil).Evaluate(r, allScanners, now)
	if res.Pass {
		t.Fatal("gate passed a report with a CRITICAL finding")
	}
	want := 0
	for _, f := range report.Findings(r) {
		if f.Severity >= report.High {
			want++
		}
	}
	if len(res.Failed) != want {
		t.Errorf("failed = %d, want %d (every HIGH/CRITICAL finding)", len(res.Failed), want)
	}
	got := ids(res.Failed)
	for _, id := range []string{"CVE-2021-44906", "CVE-2021-23337", "CVE-2021-38561", "CVE-2022-32149", "CVE-2020-26160", "github-pat"} {
		if !got[id] {
			t.Errorf("%s did not fail the gate; failed: %v", id, got)
		}
	}
	for _, id := range []string{"CVE-2020-28500", "CVE-2023-28155"} { // MEDIUM
		if got[id] {
			t.Errorf("MEDIUM %s failed the HIGH gate", id)
		}
	}
	if res.Failed[0].Severity != report.Critical {
		t.Errorf("failures not sorted worst first: %v", res.Failed[0])
	}
	if res.Below != len(report.Findings(r))-want {
		t.Errorf("below threshold = %d", res.Below)
	}
	s := res.Summary()
	if !strings.Contains(s, "FAILED (threshold HIGH)") || !strings.Contains(s, "CVE-2021-44906") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestOnlyFixableSkipsUnfixedVulnerabilitiesOnly(t *testing.T) {
	p := policy.DefaultPlatform()
	p.OnlyFixable = true
	res := build(t, p, nil).Evaluate(fsReport(t), allScanners, now)
	got := ids(res.Failed)
	if got["CVE-2020-26160"] {
		t.Error("jwt-go CVE-2020-26160 has no fix but failed an only-fixable gate")
	}
	if !got["CVE-2021-44906"] || !got["github-pat"] {
		t.Errorf("fixable vulnerability or secret let through: %v", got)
	}
}

func TestExceptionsSuppressExpireAndWarn(t *testing.T) {
	c := build(t, policy.DefaultPlatform(), map[string]string{policy.ExceptionsFile: `
exceptions:
  - id: CVE-2021-38561
    package: golang.org/x/text
    reason: we never parse user-supplied language tags
    owner: team-payments@example.com
    expires: 2027-01-31
  - id: CVE-2022-32149
    package: golang.org/x/text
    reason: waiting for upstream
    owner: alice@example.com
    expires: 2026-11-20
  - id: CVE-2021-44906
    path: web/**
    reason: minimist only runs in the build
    owner: bob@example.com
    expires: 2026-12-03
  - id: CVE-2021-23337
    package: not-lodash
    reason: wrong package, must not match
    owner: carol@example.com
    expires: 2027-01-01
`})
	res := c.Evaluate(fsReport(t), allScanners, now)
	sup := map[string]policy.Suppressed{}
	for _, s := range res.Suppressed {
		sup[s.Finding.ID] = s
	}
	if s, ok := sup["CVE-2021-38561"]; !ok || s.Exception.Owner != "team-payments@example.com" || s.Exception.Where() != ".paved/exceptions.yaml:3" {
		t.Errorf("CVE-2021-38561 suppression = %+v", s)
	}
	if _, ok := sup["CVE-2021-44906"]; !ok {
		t.Error("path glob web/** did not suppress minimist in web/package-lock.json")
	}
	failed := ids(res.Failed)
	if !failed["CVE-2022-32149"] || sup["CVE-2022-32149"].Exception.ID != "" {
		t.Error("an expired exception still suppresses")
	}
	if !failed["CVE-2021-23337"] {
		t.Error("an exception for another package suppressed lodash")
	}
	if len(res.Expired) != 1 || res.Expired[0].ID != "CVE-2022-32149" {
		t.Errorf("expired = %+v", res.Expired)
	}
	if len(res.ExpiringSoon) != 1 || res.ExpiringSoon[0].ID != "CVE-2021-44906" {
		t.Errorf("expiring within 14 days = %+v, want CVE-2021-44906 (2026-12-03)", res.ExpiringSoon)
	}
	s := res.Summary()
	for _, w := range []string{"team-payments@example.com", "we never parse user-supplied language tags", "**expired** on 2026-11-20", "expires on 2026-12-03"} {
		if !strings.Contains(s, w) {
			t.Errorf("summary lacks %q:\n%s", w, s)
		}
	}
}

func TestGatePassesWhenEverythingAboveThresholdIsExcepted(t *testing.T) {
	p := policy.DefaultPlatform()
	p.Threshold = report.Critical
	c := build(t, p, map[string]string{
		policy.ExceptionsFile: `
exceptions:
  - {id: CVE-2021-44906, package: minimist, reason: build-time only, owner: bob, expires: 2027-01-01}
`,
		policy.TrivyIgnoreFile: "# reason: fake token in a test fixture\n# owner: sec-team\ngithub-pat exp:2027-01-01\n",
	})
	r := fsReport(t)
	res := c.Evaluate(r, allScanners, now)
	var crit []string
	for _, f := range res.Failed {
		crit = append(crit, f.ID+" "+f.Severity.String())
	}
	// Misconfiguration checks may add CRITICALs; the two excepted ones must not fail.
	if ids(res.Failed)["CVE-2021-44906"] || ids(res.Failed)["github-pat"] {
		t.Fatalf("excepted findings failed: %v", crit)
	}
	wantPass := len(res.Failed) == 0
	if res.Pass != wantPass {
		t.Errorf("Pass = %v with failures %v", res.Pass, crit)
	}
	if len(res.Suppressed) != 2 {
		t.Errorf("suppressed = %+v", res.Suppressed)
	}
}

func TestRequiredScannerMissingFails(t *testing.T) {
	p := policy.DefaultPlatform()
	p.RequiredScanners = []string{"vuln", "secret"}
	p.Threshold = report.Critical
	empty := &types.Report{SchemaVersion: 2, ArtifactName: "x"}
	res := build(t, p, nil).Evaluate(empty, []string{"vuln"}, now)
	if res.Pass || len(res.MissingScanners) != 1 || res.MissingScanners[0] != "secret" {
		t.Errorf("result = %+v, want a failure naming the secret scanner", res)
	}
	if res := build(t, p, nil).Evaluate(empty, []string{"vuln", "secret"}, now); !res.Pass {
		t.Errorf("clean report with all scanners failed: %+v", res)
	}
}

// Every malformed input is an error naming the file and line.
func TestMalformedInputsNameFileAndLine(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"yaml syntax", map[string]string{policy.ExceptionsFile: "exceptions:\n  - id: x\n\t- id: y\n"}, []string{".paved/exceptions.yaml:", "tab character", "invalid YAML"}},
		{"missing reason owner expires", map[string]string{policy.ExceptionsFile: "exceptions:\n  - id: CVE-1\n    package: p\n"},
			[]string{".paved/exceptions.yaml:2: exception CVE-1 has no reason, owner, expires"}},
		{"missing package and path", map[string]string{policy.ExceptionsFile: "exceptions:\n  - id: CVE-1\n    reason: r\n    owner: o\n    expires: 2027-01-01\n"},
			[]string{".paved/exceptions.yaml:2:", "package or path"}},
		{"bad date", map[string]string{policy.ExceptionsFile: "exceptions:\n  - id: CVE-1\n    package: p\n    reason: r\n    owner: o\n    expires: 31/12/2026\n"},
			[]string{".paved/exceptions.yaml:6:", `"31/12/2026" is not a date (want YYYY-MM-DD)`}},
		{"typo key", map[string]string{policy.ExceptionsFile: "exceptions:\n  - id: CVE-1\n    package: p\n    reason: r\n    owner: o\n    expiry: 2027-01-01\n"},
			[]string{".paved/exceptions.yaml:6:", `unknown key "expiry"`}},
		{"not a list", map[string]string{policy.ExceptionsFile: "exceptions: CVE-1\n"}, []string{".paved/exceptions.yaml:1:", "list"}},
		{"unknown severity", map[string]string{policy.AppPolicyFile: "\nthreshold: SEVERE\n"}, []string{".paved/policy.yaml:2:", `unknown severity "SEVERE"`}},
		{"bad bool", map[string]string{policy.AppPolicyFile: "onlyFixable: yes please\n"}, []string{".paved/policy.yaml:1:", "not true or false"}},
		{"unknown scanner", map[string]string{policy.AppPolicyFile: "scanners: [vuln, sast]\n"}, []string{".paved/policy.yaml:1:", `unknown scanner "sast"`}},
		{"trivyignore bad date", map[string]string{policy.TrivyIgnoreFile: "# a comment\nCVE-2021-1 exp:2027-01-01\n\n# reason: r\n# owner: o\nCVE-2021-2 exp:2027-13-01\n"},
			[]string{".trivyignore:6: exp:2027-13-01 is not a date"}},
		{"trivyignore yaml no id", map[string]string{policy.TrivyIgnoreYAMLFile: "vulnerabilities:\n  - owner: o\n    expired_at: 2027-01-01\n"},
			[]string{".trivyignore.yaml:2: entry has no id"}},
		{"duplicate key", map[string]string{policy.AppPolicyFile: "threshold: HIGH\nthreshold: LOW\n"}, []string{".paved/policy.yaml:2: threshold is set twice (first on line 1)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := policy.Build(policy.DefaultPlatform(), bytesMap(c.files), now)
			if err == nil {
				t.Fatal("malformed input accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !regexp.MustCompile(`\S+:\d+`).MatchString(err.Error()) {
				t.Errorf("error %q names no file:line", err)
			}
		})
	}
}

func TestAppPolicyMayOnlyTighten(t *testing.T) {
	p, err := policy.ParsePlatform("platform.yaml", []byte("threshold: HIGH\nrequiredScanners: [vuln, secret]\nmaxExceptionDays: 90\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ app, want string }{
		{"threshold: CRITICAL\n", ".paved/policy.yaml:1: threshold CRITICAL is looser than the platform's HIGH (platform.yaml)"},
		{"onlyFixable: true\n", "onlyFixable true is looser than the platform's onlyFixable false (platform.yaml)"},
		{"scanners: [vuln]\n", `drop "secret", which the platform requires`},
		{"maxExceptionDays: 365\n", "maxExceptionDays 365 is looser than the platform's 90 (platform.yaml)"},
		{"maxExceptionDays: 0\n", "maxExceptionDays 0 is looser than the platform's 90"},
	} {
		_, err := policy.Build(p, bytesMap(map[string]string{policy.AppPolicyFile: c.app}), now)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("app policy %q: error %v, want %q", c.app, err, c.want)
		}
	}
	c := build(t, p, map[string]string{policy.AppPolicyFile: "threshold: medium\nonlyFixable: false\nscanners: [vuln, secret, misconfig]\nmaxExceptionDays: 30\n"})
	e := c.Policy
	if e.Threshold != report.Medium || e.MaxExceptionDays != 30 || strings.Join(e.Scanners, ",") != "vuln,secret,misconfig" {
		t.Errorf("stricter app policy not applied: %+v", e)
	}
	res := c.Evaluate(fsReport(t), allScanners, now)
	if !ids(res.Failed)["CVE-2020-28500"] {
		t.Error("MEDIUM finding passed a MEDIUM threshold")
	}
}

func TestExceptionLongerThanPolicyAllows(t *testing.T) {
	p := policy.DefaultPlatform()
	p.File, p.MaxExceptionDays = "platform.yaml", 30
	_, err := policy.Build(p, bytesMap(map[string]string{policy.ExceptionsFile: `exceptions:
  - {id: CVE-1, package: p, reason: r, owner: o, expires: 2027-06-01}
  - {id: CVE-2, package: p, reason: r, owner: o, expires: 2026-12-20}
`}), now)
	if err == nil || !strings.Contains(err.Error(), ".paved/exceptions.yaml:2: exception CVE-1 expires 2027-06-01, 187 days from today; policy (platform.yaml) allows at most maxExceptionDays 30") {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), "CVE-2") {
		t.Errorf("an exception within the limit was rejected: %v", err)
	}
}

func TestTrivyIgnoreYAMLPaths(t *testing.T) {
	c := build(t, policy.DefaultPlatform(), map[string]string{policy.TrivyIgnoreYAMLFile: `
vulnerabilities:
  - id: CVE-2021-23337
    paths: ["web/package-lock.json"]
    statement: template() is never called with user input
    owner: web-team
    expired_at: 2027-01-01
  - id: CVE-2021-38561
    paths: ["other/go.mod"]
    statement: elsewhere
    owner: web-team
    expired_at: 2027-01-01
`})
	res := c.Evaluate(fsReport(t), allScanners, now)
	sup := ids(nil)
	for _, s := range res.Suppressed {
		sup[s.Finding.ID] = true
		if s.Exception.File != ".trivyignore.yaml" || s.Exception.Line != 3 {
			t.Errorf("suppressed by %s", s.Exception.Where())
		}
	}
	if !sup["CVE-2021-23337"] || sup["CVE-2021-38561"] {
		t.Errorf("suppressed = %v", sup)
	}
}

func TestLoadNeverPassesOnUnreadableInput(t *testing.T) {
	dir := t.TempDir()
	if c, err := policy.Load("", dir, now); err != nil || c.Policy.Threshold != report.High {
		t.Fatalf("empty repo: %v %+v", err, c)
	}
	if _, err := policy.Load(filepath.Join(dir, "missing-platform.yaml"), dir, now); err == nil || !strings.Contains(err.Error(), "missing-platform.yaml") {
		t.Errorf("missing platform file: %v", err)
	}
	// a directory where the exceptions file should be cannot be read
	if err := os.MkdirAll(filepath.Join(dir, ".paved", "exceptions.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Load("", dir, now); err == nil || !strings.Contains(err.Error(), ".paved/exceptions.yaml: cannot read") {
		t.Errorf("unreadable exceptions file: %v", err)
	}
	os.Remove(filepath.Join(dir, ".paved", "exceptions.yaml"))
	must(t, os.WriteFile(filepath.Join(dir, ".paved", "exceptions.yaml"), []byte("exceptions:\n  - {id: CVE-2021-38561, package: golang.org/x/text, reason: r, owner: o, expires: 2027-01-01}\n"), 0o644))
	plat := filepath.Join(dir, "platform.yaml")
	must(t, os.WriteFile(plat, []byte("threshold: critical\n"), 0o644))
	c, err := policy.Load(plat, dir, now)
	if err != nil || c.Policy.Threshold != report.Critical || len(c.Exceptions) != 1 {
		t.Fatalf("Load: %v %+v", err, c)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A team coming from trivy-action keeps its plain .trivyignore (IDs only,
// as trivy takes it): the entries suppress as trivy's would and are listed
// as exceptions without owner or expiry — until the platform policy
// requires those details, then the error names each line lacking them.
func TestPlainTrivyIgnoreMigrates(t *testing.T) {
	r := fsReport(t)
	plain := "# from trivy-action\nCVE-2021-44906\nCVE-2021-23337\nCVE-2021-38561\nCVE-2022-32149\nCVE-2020-26160\ngithub-pat\n"
	cfg := build(t, policy.DefaultPlatform(), map[string]string{policy.TrivyIgnoreFile: plain})
	res := cfg.Evaluate(r, allScanners, now)
	if got := ids(res.Failed); got["CVE-2021-44906"] || got["github-pat"] {
		t.Errorf("plain .trivyignore entries did not suppress: failed %v", got)
	}
	if len(res.Suppressed) == 0 || len(res.Expired) != 0 || len(res.ExpiringSoon) != 0 {
		t.Fatalf("suppressed %d, expired %d, expiring %d: an entry with no expiry never expires", len(res.Suppressed), len(res.Expired), len(res.ExpiringSoon))
	}
	if m := res.Suppressed[0].Exception.Missing; strings.Join(m, ",") != "reason,owner,expiry" {
		t.Errorf("missing details %v", m)
	}
	sum := res.Summary()
	for _, w := range []string{"(no owner)", "(no reason)", "(no expiry)", ".trivyignore:2"} {
		if !strings.Contains(sum, w) {
			t.Errorf("summary lacks %q:\n%s", w, sum)
		}
	}
	// Expiry is honoured when given, as trivy's exp: is.
	dated := build(t, policy.DefaultPlatform(), map[string]string{policy.TrivyIgnoreFile: "CVE-2021-44906 exp:2026-11-01\n"})
	if res := dated.Evaluate(r, allScanners, now); len(res.Expired) != 1 || !ids(res.Failed)["CVE-2021-44906"] {
		t.Errorf("an expired .trivyignore entry still suppresses: %+v", res.Expired)
	}

	strict := policy.DefaultPlatform()
	strict.RequireExceptionDetails = true
	strict.File = "platform.yaml"
	_, err := policy.Build(strict, bytesMap(map[string]string{
		policy.TrivyIgnoreFile:     "# reason: r\n# owner: o\nCVE-1 exp:2027-01-01\n\n# owner: o\nCVE-2\n",
		policy.TrivyIgnoreYAMLFile: "vulnerabilities:\n  - id: CVE-3\n    statement: s\n",
	}), now)
	if err == nil {
		t.Fatal("requireExceptionDetails accepted entries without owner and expiry")
	}
	for _, w := range []string{
		".trivyignore:6: exception CVE-2 has no reason, expiry; the platform policy (platform.yaml) sets requireExceptionDetails",
		".trivyignore.yaml:2: exception CVE-3 has no owner, expiry",
		"expired_at: YYYY-MM-DD",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "CVE-1 ") {
		t.Errorf("the complete entry was refused: %v", err)
	}
	// A bound on exception length needs an expiry to check.
	bounded := policy.DefaultPlatform()
	bounded.MaxExceptionDays = 30
	if _, err := policy.Build(bounded, bytesMap(map[string]string{policy.TrivyIgnoreFile: "CVE-9\n"}), now); err == nil ||
		!strings.Contains(err.Error(), ".trivyignore:1: exception CVE-9 has no expiry; policy allows exceptions of at most maxExceptionDays 30") {
		t.Errorf("maxExceptionDays with no expiry: %v", err)
	}
	// The platform file spells it requireExceptionDetails.
	p, err := policy.ParsePlatform("platform.yaml", []byte("requireExceptionDetails: true\n"))
	if err != nil || !p.RequireExceptionDetails {
		t.Errorf("requireExceptionDetails not read: %+v %v", p, err)
	}
}
