// Package report turns the one JSON report trivy writes (types.Report) into
// every format paved publishes: SARIF 2.1.0, a CycloneDX SBOM, a GitLab
// container-scanning report and a Markdown summary. trivy runs once; each
// format is derived here, in Go, from that report.
//
// Only trivy packages that build without GOEXPERIMENT=jsonv2 are imported
// (pkg/types, pkg/sbom/cyclonedx): Dagger modules compile this package.
// testdata/trivy-*.json are real trivy v0.74.0 reports; regenerate them
// with go generate (needs GOEXPERIMENT=jsonv2, set by the directive).
package report

//go:generate env GOEXPERIMENT=jsonv2 go test -run TestRealTrivyReports -update .

//lint:file-ignore SA1019 Severity is the severity trivy writes, gates (--severity) and reports on; VendorSeverity is per source.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aquasecurity/trivy/pkg/types"
)

// SchemaVersion is the trivy JSON report schema this package reads.
const SchemaVersion = 2

// Parse decodes trivy's JSON report (`trivy --format json`). A document
// that is not one is an error saying what it looks like instead.
func Parse(b []byte) (*types.Report, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("trivy report is empty (want the output of `trivy --format json`)")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("trivy report is not a JSON object: %v (want the output of `trivy --format json`)", err)
	}
	sv, ok := probe["SchemaVersion"]
	if !ok {
		return nil, fmt.Errorf("not a trivy JSON report: no SchemaVersion field%s (want the output of `trivy --format json`)", lookalike(probe))
	}
	var v int
	if err := json.Unmarshal(sv, &v); err != nil {
		return nil, fmt.Errorf("not a trivy JSON report: SchemaVersion is %s, want the number %d", sv, SchemaVersion)
	}
	if v != SchemaVersion {
		return nil, fmt.Errorf("trivy JSON report has SchemaVersion %d; paved reads version %d (use trivy 0.20 or newer)", v, SchemaVersion)
	}
	var r types.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("trivy JSON report does not decode: %v", err)
	}
	if r.ArtifactName == "" && r.ArtifactType == "" {
		return nil, errors.New("not a trivy JSON report: ArtifactName and ArtifactType are both missing")
	}
	return &r, nil
}

// lookalike names the format a non-trivy document seems to be in.
func lookalike(m map[string]json.RawMessage) string {
	switch {
	case m["bomFormat"] != nil:
		return " (this looks like a CycloneDX SBOM)"
	case m["runs"] != nil && m["version"] != nil:
		return " (this looks like a SARIF log)"
	case m["spdxVersion"] != nil:
		return " (this looks like an SPDX SBOM)"
	case m["vulnerabilities"] != nil && m["scan"] != nil:
		return " (this looks like a GitLab security report)"
	}
	return ""
}

// Severity is trivy's severity scale, ordered.
type Severity int

const (
	Unknown Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// Severities lists every severity from the highest down.
var Severities = []Severity{Critical, High, Medium, Low, Unknown}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for i, n := range severityNames {
		if u == n {
			return Severity(i), nil
		}
	}
	return Unknown, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames[:], ", "))
}

// severityOf maps a severity as trivy wrote it; anything unrecognised
// counts as UNKNOWN, as trivy itself does.
func severityOf(s string) Severity {
	v, err := ParseSeverity(s)
	if err != nil {
		return Unknown
	}
	return v
}

// Kind of finding.
type Kind string

const (
	Vulnerability    Kind = "vulnerability"
	Secret           Kind = "secret"
	Misconfiguration Kind = "misconfiguration"
	License          Kind = "license"
)

// Finding is one thing trivy reported, flattened across result classes so
// the gate and the summary treat them alike.
type Finding struct {
	Kind     Kind
	ID       string // CVE/GHSA ID, secret rule ID, check ID, license name
	Severity Severity
	Title    string
	Target   string // result target: lock file, OS, config file
	// Package and versions are set for vulnerabilities (and package licenses).
	Package          string
	InstalledVersion string
	FixedVersion     string
	// Path is where the finding is: the package path if trivy gave one,
	// else the target (a file for secrets and misconfigurations).
	Path string
	URL  string
}

// Fixable reports whether a fixed version is known.
func (f Finding) Fixable() bool { return f.FixedVersion != "" }

// Findings flattens a report. Misconfigurations count only when failed.
func Findings(r *types.Report) []Finding {
	n := 0
	for _, res := range r.Results {
		n += len(res.Vulnerabilities) + len(res.Secrets) + len(res.Misconfigurations) + len(res.Licenses)
	}
	out := make([]Finding, 0, n)
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			p := v.PkgPath
			if p == "" {
				p = res.Target
			}
			out = append(out, Finding{
				Kind: Vulnerability, ID: v.VulnerabilityID, Severity: severityOf(v.Severity), Title: v.Title,
				Target: res.Target, Package: v.PkgName, InstalledVersion: v.InstalledVersion,
				FixedVersion: v.FixedVersion, Path: p, URL: v.PrimaryURL,
			})
		}
		for _, s := range res.Secrets {
			out = append(out, Finding{
				Kind: Secret, ID: s.RuleID, Severity: severityOf(s.Severity), Title: s.Title,
				Target: res.Target, Path: res.Target,
			})
		}
		for _, m := range res.Misconfigurations {
			if m.Status != types.MisconfStatusFailure {
				continue
			}
			out = append(out, Finding{
				Kind: Misconfiguration, ID: m.ID, Severity: severityOf(m.Severity), Title: m.Title,
				Target: res.Target, Path: res.Target, URL: m.PrimaryURL,
			})
		}
		for _, l := range res.Licenses {
			p := l.FilePath
			if p == "" {
				p = res.Target
			}
			out = append(out, Finding{
				Kind: License, ID: l.Name, Severity: severityOf(l.Severity), Title: string(l.Category),
				Target: res.Target, Package: l.PkgName, Path: p, URL: l.Link,
			})
		}
	}
	return out
}

// Counts tallies findings by severity name.
func Counts(fs []Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.Severity.String()]++
	}
	return m
}

// SortFindings orders by severity (highest first), then fixable first,
// then ID, package and path, so outputs are stable.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Fixable() != b.Fixable() {
			return a.Fixable()
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return a.Path < b.Path
	})
}

// PackageCount is the number of packages the report lists. Zero means the
// report was produced without --list-all-pkgs and an SBOM from it would
// be empty.
func PackageCount(r *types.Report) int {
	n := 0
	for _, res := range r.Results {
		n += len(res.Packages)
	}
	return n
}
