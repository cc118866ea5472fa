package report

//lint:file-ignore SA1019 Severity is the severity trivy writes, gates (--severity) and reports on; VendorSeverity is per source.

// The SARIF mapping below is trivy's own (pkg/report/sarif.go at v0.74.0,
// Apache-2.0, Copyright Aqua Security). That file lives in package
// pkg/report, which pulls in trivy's flag and cache packages and so needs
// GOEXPERIMENT=jsonv2; a Dagger module cannot import it. It is adapted
// here with two changes: rules are found through a map instead of trivy's
// linear scan (quadratic on large reports), and an unparsable URL no
// longer dereferences nil. The jsonv2 test compares the output with
// trivy's writer on real reports.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	containerName "github.com/google/go-containerregistry/pkg/name"
	"github.com/owenrumney/go-sarif/v2/sarif"

	ftypes "github.com/aquasecurity/trivy/pkg/fanal/types"
	"github.com/aquasecurity/trivy/pkg/types"
)

const (
	sarifOsPackageVulnerability        = "OsPackageVulnerability"
	sarifLanguageSpecificVulnerability = "LanguageSpecificPackageVulnerability"
	sarifConfigFiles                   = "Misconfiguration"
	sarifSecretFiles                   = "Secret"
	sarifLicenseFiles                  = "License"
	sarifUnknownIssue                  = "UnknownIssue"

	columnKind      = "utf16CodeUnits"
	builtinRulesURL = "https://github.com/aquasecurity/trivy/blob/main/pkg/fanal/secret/builtin-rules.go"
)

var pathRegex = regexp.MustCompile(`(?P<path>.+?)(?:\s*\((?:.*?)\).*?)?$`)

// SARIFOptions mirror trivy's SarifWriter fields.
type SARIFOptions struct {
	// Version is the trivy version written as the tool version; empty
	// takes it from the report.
	Version string
	// Target is the scanned path; when set, it becomes the ROOTPATH base
	// URI (trivy does this for filesystem scans).
	Target string
}

type sarifData struct {
	title            string
	vulnerabilityID  string
	shortDescription string
	fullDescription  string
	helpText         string
	helpMarkdown     string
	resourceClass    types.ResultClass
	severity         string
	url              *url.URL
	artifactLocation string
	locationMessage  string
	message          string
	cvssScore        string
	cvssData         map[string]any
	locations        []location
	// help fills helpText, helpMarkdown and the CVSS fields; set for
	// vulnerabilities, whose texts are long.
	help func(*sarifData)
}

type location struct{ startLine, endLine int }

type sarifWriter struct {
	run   *sarif.Run
	rules map[string]int
	// left counts a rule's findings still to come: only the last one's
	// texts are kept (as in trivy), so only it computes them.
	left map[string]int
}

func (sw *sarifWriter) addResult(d *sarifData) {
	idx, ok := sw.rules[d.vulnerabilityID]
	if !ok {
		idx = len(sw.run.Tool.Driver.Rules)
		sw.rules[d.vulnerabilityID] = idx
		sw.run.Tool.Driver.Rules = append(sw.run.Tool.Driver.Rules, sarif.NewRule(d.vulnerabilityID))
	}
	sw.left[d.vulnerabilityID]--
	if sw.left[d.vulnerabilityID] <= 0 {
		sw.setRule(sw.run.Tool.Driver.Rules[idx], d)
	}
	res := sarif.NewRuleResult(d.vulnerabilityID).
		WithRuleIndex(idx).
		WithMessage(sarif.NewTextMessage(d.message)).
		WithLevel(toSarifErrorLevel(d.severity)).
		WithLocations(toSarifLocations(d.locations, d.artifactLocation, d.locationMessage))
	sw.run.Results = append(sw.run.Results, res)
}

func (sw *sarifWriter) setRule(r *sarif.ReportingDescriptor, d *sarifData) {
	if d.help != nil {
		d.help(d)
	}
	r.
		WithName(toSarifRuleName(d.resourceClass)).
		WithDescription(d.vulnerabilityID).
		WithShortDescription(&sarif.MultiformatMessageString{Text: &d.shortDescription}).
		WithFullDescription(&sarif.MultiformatMessageString{Text: &d.fullDescription}).
		WithHelp(&sarif.MultiformatMessageString{Text: &d.helpText, Markdown: &d.helpMarkdown}).
		WithDefaultConfiguration(&sarif.ReportingConfiguration{Level: toSarifErrorLevel(d.severity)}).
		WithProperties(toProperties(d.title, d.severity, d.cvssScore, d.cvssData))
	if d.url != nil && d.url.String() != "" {
		r.WithHelpURI(d.url.String())
	}
}

// SARIF renders the report as SARIF 2.1.0, as `trivy --format sarif` would.
func SARIF(r *types.Report, opts SARIFOptions) ([]byte, error) {
	doc, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, fmt.Errorf("sarif: %w", err)
	}
	version := opts.Version
	if version == "" {
		version = r.Trivy.Version
	}
	run := sarif.NewRunWithInformationURI("Trivy", "https://github.com/aquasecurity/trivy")
	run.Tool.Driver.WithVersion(version)
	run.Tool.Driver.WithFullName("Trivy Vulnerability Scanner")
	if r.ArtifactType == ftypes.TypeContainerImage {
		run.Properties = sarif.Properties{
			"imageName":   r.ArtifactName,
			"repoTags":    r.Metadata.RepoTags,
			"repoDigests": r.Metadata.RepoDigests,
			"imageID":     r.Metadata.ImageID,
		}
	}
	sw := &sarifWriter{run: run, rules: map[string]int{}, left: map[string]int{}}
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			sw.left[v.VulnerabilityID]++
		}
		for _, m := range res.Misconfigurations {
			sw.left[m.ID]++
		}
		for _, sec := range res.Secrets {
			sw.left[sec.RuleID]++
		}
		for _, l := range res.Licenses {
			sw.left[l.PkgName+":"+l.Name]++
		}
	}

	for _, res := range r.Results {
		target := toPathURI(res.Target, res.Class)
		locs := packageLocations(res.Packages)

		for i := range res.Vulnerabilities {
			vuln := &res.Vulnerabilities[i] // the help closure keeps a pointer, not a copy
			fullDescription := vuln.Description
			if fullDescription == "" {
				fullDescription = vuln.Title
			}
			path := target
			if vuln.PkgPath != "" {
				path = toPathURI(vuln.PkgPath, res.Class)
			}
			sw.addResult(&sarifData{
				title:            "vulnerability",
				vulnerabilityID:  vuln.VulnerabilityID,
				severity:         vuln.Severity,
				url:              toURI(vuln.PrimaryURL),
				resourceClass:    res.Class,
				artifactLocation: uriString(path),
				locationMessage:  fmt.Sprintf("%v: %v@%v", path, vuln.PkgName, vuln.InstalledVersion),
				locations:        locs[vuln.PkgName+"@"+vuln.InstalledVersion],
				shortDescription: vuln.Title,
				fullDescription:  fullDescription,
				message: fmt.Sprintf("Package: %v\nInstalled Version: %v\nVulnerability %v\nSeverity: %v\nFixed Version: %v\nLink: [%v](%v)",
					vuln.PkgName, vuln.InstalledVersion, vuln.VulnerabilityID, vuln.Severity, vuln.FixedVersion, vuln.VulnerabilityID, vuln.PrimaryURL),
				help: func(d *sarifData) {
					d.cvssData, d.cvssScore = toCVSSData(*vuln)
					d.helpText = fmt.Sprintf("Vulnerability %v\nSeverity: %v\nPackage: %v\nFixed Version: %v\nLink: [%v](%v)\n%v",
						vuln.VulnerabilityID, vuln.Severity, vuln.PkgName, vuln.FixedVersion, vuln.VulnerabilityID, vuln.PrimaryURL, vuln.Description)
					d.helpMarkdown = fmt.Sprintf("**Vulnerability %v**\n| Severity | Package | Fixed Version | Link |\n| --- | --- | --- | --- |\n|%v|%v|%v|[%v](%v)|\n\n%v",
						vuln.VulnerabilityID, vuln.Severity, vuln.PkgName, vuln.FixedVersion, vuln.VulnerabilityID, vuln.PrimaryURL, vuln.Description)
				},
			})
		}
		for _, misconf := range res.Misconfigurations {
			locationURI := clearURI(res.Target)
			sw.addResult(&sarifData{
				title:            "misconfiguration",
				vulnerabilityID:  misconf.ID,
				severity:         misconf.Severity,
				cvssScore:        severityToScore(misconf.Severity),
				url:              toURI(misconf.PrimaryURL),
				resourceClass:    res.Class,
				artifactLocation: uriString(locationURI),
				locationMessage:  locationURI,
				locations:        []location{{startLine: misconf.CauseMetadata.StartLine, endLine: misconf.CauseMetadata.EndLine}},
				shortDescription: misconf.Title,
				fullDescription:  misconf.Description,
				helpText: fmt.Sprintf("Misconfiguration %v\nType: %s\nSeverity: %v\nCheck: %v\nMessage: %v\nLink: [%v](%v)\n%s",
					misconf.ID, misconf.Type, misconf.Severity, misconf.Title, misconf.Message, misconf.ID, misconf.PrimaryURL, misconf.Description),
				helpMarkdown: fmt.Sprintf("**Misconfiguration %v**\n| Type | Severity | Check | Message | Link |\n| --- | --- | --- | --- | --- |\n|%v|%v|%v|%s|[%v](%v)|\n\n%v",
					misconf.ID, misconf.Type, misconf.Severity, misconf.Title, misconf.Message, misconf.ID, misconf.PrimaryURL, misconf.Description),
				message: fmt.Sprintf("Artifact: %v\nType: %v\nVulnerability %v\nSeverity: %v\nMessage: %v\nLink: [%v](%v)",
					locationURI, res.Type, misconf.ID, misconf.Severity, misconf.Message, misconf.ID, misconf.PrimaryURL),
			})
		}
		for _, secret := range res.Secrets {
			sw.addResult(&sarifData{
				title:            "secret",
				vulnerabilityID:  secret.RuleID,
				severity:         secret.Severity,
				cvssScore:        severityToScore(secret.Severity),
				url:              toURI(builtinRulesURL),
				resourceClass:    res.Class,
				artifactLocation: uriString(target),
				locationMessage:  target,
				locations:        []location{{startLine: secret.StartLine, endLine: secret.EndLine}},
				shortDescription: secret.Title,
				fullDescription:  secret.Match,
				helpText: fmt.Sprintf("Secret %v\nSeverity: %v\nMatch: %s",
					secret.Title, secret.Severity, secret.Match),
				helpMarkdown: fmt.Sprintf("**Secret %v**\n| Severity | Match |\n| --- | --- |\n|%v|%v|",
					secret.Title, secret.Severity, secret.Match),
				message: fmt.Sprintf("Artifact: %v\nType: %v\nSecret %v\nSeverity: %v\nMatch: %v",
					res.Target, res.Type, secret.Title, secret.Severity, secret.Match),
			})
		}
		for _, license := range res.Licenses {
			id := fmt.Sprintf("%s:%s", license.PkgName, license.Name)
			desc := fmt.Sprintf("%s in %s", license.Name, license.PkgName)
			sw.addResult(&sarifData{
				title:            "license",
				vulnerabilityID:  id,
				severity:         license.Severity,
				cvssScore:        severityToScore(license.Severity),
				url:              toURI(license.Link),
				resourceClass:    res.Class,
				artifactLocation: uriString(target),
				shortDescription: desc,
				fullDescription:  desc,
				helpText: fmt.Sprintf("License %s\nClassification: %s\nPkgName: %s\nPath: %s",
					license.Name, license.Category, license.PkgName, license.FilePath),
				helpMarkdown: fmt.Sprintf("**License %s**\n| PkgName | Classification | Path |\n| --- | --- | --- |\n|%s|%s|%s|",
					license.Name, license.PkgName, license.Category, license.FilePath),
				message: fmt.Sprintf("Artifact: %s\nLicense %s\nPkgName: %s\n Classification: %s\n Path: %s",
					res.Target, license.Name, license.PkgName, license.Category, license.FilePath),
			})
		}
	}
	run.ColumnKind = columnKind
	if opts.Target != "" {
		rootPath := pathToFileURI(opts.Target)
		run.OriginalUriBaseIDs = map[string]*sarif.ArtifactLocation{"ROOTPATH": {URI: &rootPath}}
	}
	doc.AddRun(run)
	// compact: indenting would double the cost on large reports
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("sarif: %w", err)
	}
	return b, nil
}

// packageLocations indexes package line locations by name@version; the
// first package with a name and version wins, as in trivy.
func packageLocations(pkgs []ftypes.Package) map[string][]location {
	m := make(map[string][]location, len(pkgs))
	for _, p := range pkgs {
		k := p.Name + "@" + p.Version
		if _, ok := m[k]; ok {
			continue
		}
		var ls []location
		for _, l := range p.Locations {
			ls = append(ls, location{startLine: l.StartLine, endLine: l.EndLine})
		}
		m[k] = ls
	}
	return m
}

func pathToFileURI(path string) string {
	absPath, _ := filepath.Abs(path)
	slashPath := filepath.ToSlash(absPath)
	if !strings.HasPrefix(slashPath, "/") {
		slashPath = "/" + slashPath
	}
	return fmt.Sprintf("file://%s/", slashPath)
}

func toSarifLocations(locations []location, artifactLocation, locationMessage string) []*sarif.Location {
	if len(locations) == 0 {
		locations = []location{{startLine: 1, endLine: 1}}
	}
	sarifLocs := make([]*sarif.Location, 0, len(locations))
	for _, l := range locations {
		if l.startLine == 0 && l.endLine == 0 {
			l.startLine, l.endLine = 1, 1
		}
		region := sarif.NewRegion().WithStartLine(l.startLine).WithEndLine(l.endLine).WithStartColumn(1).WithEndColumn(1)
		loc := sarif.NewPhysicalLocation().
			WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactLocation).WithUriBaseId("ROOTPATH")).
			WithRegion(region)
		sarifLocs = append(sarifLocs, sarif.NewLocation().WithMessage(sarif.NewTextMessage(locationMessage)).WithPhysicalLocation(loc))
	}
	return sarifLocs
}

func toSarifRuleName(class types.ResultClass) string {
	switch class {
	case types.ClassOSPkg:
		return sarifOsPackageVulnerability
	case types.ClassLangPkg:
		return sarifLanguageSpecificVulnerability
	case types.ClassConfig:
		return sarifConfigFiles
	case types.ClassSecret:
		return sarifSecretFiles
	case types.ClassLicense, types.ClassLicenseFile:
		return sarifLicenseFiles
	default:
		return sarifUnknownIssue
	}
}

func toSarifErrorLevel(severity string) string {
	switch severity {
	case "CRITICAL", "HIGH":
		return "error"
	case "MEDIUM":
		return "warning"
	case "LOW", "UNKNOWN":
		return "note"
	default:
		return "none"
	}
}

// toPathURI turns an OS result target ("alpine:3.20 (alpine 3.20.3)")
// into a repository path; other targets are files already.
func toPathURI(input string, class types.ResultClass) string {
	if class != types.ClassOSPkg {
		return input
	}
	if m := pathRegex.FindStringSubmatch(input); m != nil {
		input = m[pathRegex.SubexpIndex("path")]
	}
	if ref, err := containerName.ParseReference(input); err == nil {
		input = ref.Context().RepositoryStr()
	}
	return clearURI(input)
}

// clearURI rewrites Terraform module sources into browsable URLs.
func clearURI(s string) string {
	s = strings.ReplaceAll(s, "\\", "/")
	switch {
	case strings.HasPrefix(s, "git@github.com:"):
		s = strings.ReplaceAll(s, "git@github.com:", "github.com/")
		s = strings.ReplaceAll(s, ".git", "")
		s = strings.ReplaceAll(s, "?ref=", "/tree/")
	case strings.HasPrefix(s, "git::https:/") && !strings.HasPrefix(s, "git::https://"):
		s = strings.TrimPrefix(s, "git::https:/")
		s = strings.ReplaceAll(s, ".git", "")
	case strings.HasPrefix(s, "git::ssh://"):
		if _, u, ok := strings.Cut(s, "@"); ok {
			s = u
		}
		s = strings.ReplaceAll(s, ".git", "")
	case strings.HasPrefix(s, "git::"):
		s = strings.TrimPrefix(s, "git::")
		s = strings.ReplaceAll(s, ".git", "")
	case strings.HasPrefix(s, "hg::"):
		s = strings.TrimPrefix(s, "hg::")
		s = strings.ReplaceAll(s, ".hg", "")
	case strings.HasPrefix(s, "s3::"):
		s = strings.TrimPrefix(s, "s3::")
	case strings.HasPrefix(s, "gcs::"):
		s = strings.TrimPrefix(s, "gcs::")
	}
	return s
}

func toURI(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

// uriString is url.Parse(s).String() as trivy writes artifact locations,
// or s itself when it does not parse.
func uriString(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.String()
	}
	return s
}

func toCVSSData(vuln types.DetectedVulnerability) (map[string]any, string) {
	score := severityToScore(vuln.Severity)
	data := make(map[string]any)
	if cvss, ok := vuln.CVSS[vuln.SeveritySource]; ok {
		data["cvssv2_vector"] = cvss.V2Vector
		data["cvssv2_score"] = cvss.V2Score
		data["cvssv3_vector"] = cvss.V3Vector
		data["cvssv3_baseScore"] = cvss.V3Score
		data["cvssv40_vector"] = cvss.V40Vector
		data["cvssv40_baseScore"] = cvss.V40Score
		if cvss.V3Score != 0 {
			score = fmt.Sprintf("%.1f", cvss.V3Score)
		}
	}
	return data, score
}

func severityToScore(severity string) string {
	switch severity {
	case "CRITICAL":
		return "9.5"
	case "HIGH":
		return "8.0"
	case "MEDIUM":
		return "5.5"
	case "LOW":
		return "2.0"
	default:
		return "0.0"
	}
}

func toProperties(title, severity, cvssScore string, cvssData map[string]any) sarif.Properties {
	p := sarif.Properties{
		"tags":              []string{title, "security", severity},
		"precision":         "very-high",
		"security-severity": cvssScore,
	}
	for k, v := range cvssData {
		switch x := v.(type) {
		case string:
			if x == "" {
				continue
			}
		case float64:
			if x == 0 {
				continue
			}
		}
		p[k] = v
	}
	return p
}
