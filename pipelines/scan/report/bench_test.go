package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	ftypes "github.com/aquasecurity/trivy/pkg/fanal/types"
	"github.com/aquasecurity/trivy/pkg/types"

	"github.com/paved-ci/paved/pipelines/policy"
	"github.com/paved-ci/paved/pipelines/scan/report"
)

// bigReport grows the real fs report to n vulnerabilities: 100 lock files,
// vulnsPerPkg findings per package (real texts), 1 000 distinct IDs.
func bigReport(tb testing.TB, n, vulnsPerPkg int) *types.Report {
	tb.Helper()
	base := load(tb, "trivy-fs.json")
	var tmpl []types.DetectedVulnerability
	var lang types.Result
	for _, res := range base.Results {
		if len(res.Vulnerabilities) > 0 && res.Class == types.ClassLangPkg {
			tmpl = append(tmpl, res.Vulnerabilities...)
			lang = res
		}
	}
	r := *base
	r.Results = nil
	const files = 100
	per := n / files
	for f := 0; f < files; f++ {
		res := lang
		res.Target = fmt.Sprintf("services/svc%03d/package-lock.json", f)
		res.Vulnerabilities = make([]types.DetectedVulnerability, 0, per)
		res.Packages = nil
		for i := 0; i < per; i++ {
			v := tmpl[i%len(tmpl)]
			v.VulnerabilityID = fmt.Sprintf("CVE-2024-%05d", (f*per+i)%1000)
			p := i / vulnsPerPkg
			v.PkgName = fmt.Sprintf("pkg%03d", p)
			v.PkgID = v.PkgName + "@" + v.InstalledVersion
			v.Fingerprint = ""
			res.Vulnerabilities = append(res.Vulnerabilities, v)
			if i%vulnsPerPkg == 0 {
				res.Packages = append(res.Packages, ftypes.Package{ID: v.PkgID, Name: v.PkgName, Version: v.InstalledVersion,
					Locations: []ftypes.Location{{StartLine: p + 1, EndLine: p + 1}}})
			}
		}
		r.Results = append(r.Results, res)
	}
	return &r
}

func gateConfig(tb testing.TB) *policy.Config {
	tb.Helper()
	c, err := policy.Build(policy.DefaultPlatform(), map[string][]byte{policy.ExceptionsFile: []byte(`
exceptions:
  - {id: CVE-2024-00001, package: pkg001, reason: r, owner: o, expires: 2027-01-01}
  - {id: CVE-2024-00002, path: "services/svc00*/**", reason: r, owner: o, expires: 2027-01-01}
`)}, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkGateAndConvert10k: the work after trivy — gate plus every
// format — for a 10 000-finding report over 2 000 packages (5 findings a
// package, typical of large images), and over 10 000 packages (the worst
// case for the SBOM).
func BenchmarkGateAndConvert10k(b *testing.B) {
	for _, per := range []int{5, 1} {
		b.Run(fmt.Sprintf("pkgs=%d", 10000/per), func(b *testing.B) { benchGateAndConvert(b, bigReport(b, 10000, per)) })
	}
}

func benchGateAndConvert(b *testing.B, r *types.Report) {
	c := gateConfig(b)
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// as scan.Judge: convert, then gate the same findings
		out, err := report.Convert(ctx, r, report.Options{})
		if err != nil {
			b.Fatal(err)
		}
		res := c.EvaluateFindings(out.Findings, []string{"vuln", "secret", "misconfig"}, now)
		if res.Pass {
			b.Fatal("gate passed")
		}
		_ = res.Summary()
		if len(out.SARIF) == 0 || len(out.CycloneDX) == 0 {
			b.Fatal("empty output")
		}
	}
}

func BenchmarkEach10k(b *testing.B) {
	r := bigReport(b, 10000, 5)
	ctx := context.Background()
	c := gateConfig(b)
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	raw, err := json.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		fn   func() error
	}{
		{"Parse", func() error { _, err := report.Parse(raw); return err }},
		{"Gate", func() error { c.Evaluate(r, nil, now); return nil }},
		{"SARIF", func() error { _, err := report.SARIF(r, report.SARIFOptions{}); return err }},
		{"CycloneDX", func() error { _, err := report.CycloneDX(ctx, r, ""); return err }},
		{"GitLab", func() error { _, err := report.GitLab(r, report.GitLabOptions{}); return err }},
		{"Markdown", func() error { report.Markdown(r, report.TopN); return nil }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := bc.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBigReportShape(t *testing.T) {
	for _, per := range []int{1, 5} {
		r := bigReport(t, 10000, per)
		if n, p := len(report.Findings(r)), report.PackageCount(r); n != 10000 || p != 10000/per {
			t.Fatalf("findings = %d, packages = %d", n, p)
		}
	}
}
