package report

//lint:file-ignore SA1019 Severity is the severity trivy writes, gates (--severity) and reports on; VendorSeverity is per source.

// The SARIF mapping below is trivy's own (pkg/report/sarif.go at v0.74.0,
// Apache-2.0, Copyright Aqua Security). That file lives in package
// pkg/report, which pulls in trivy's flag and cache packages and so needs
// GOEXPERIMENT=jsonv2; a Dagger module cannot import it. It is adapted
// here with the same texts, rules and locations, written differently: the
// JSON is appended by hand (compact, results before tool) instead of
// through go-sarif and encoding/json, rules are found through a map
// instead of a linear scan, and each rule's texts are built once. On a
// 10 000-finding report that is several times faster and smaller. The
// jsonv2 test checks the output is the same JSON as trivy's writer gives
// on real reports.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	containerName "github.com/google/go-containerregistry/pkg/name"

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

const sarifSchema = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json"

type location struct{ startLine, endLine int }

// sarifRule is a rule as trivy leaves it: the texts of its last finding.
type sarifRule struct {
	id, name, short, full, level string
	helpURI, helpText, helpMD    string
	props                        []byte
}

// ruleData builds a rule's texts; called only for a rule's last finding.
type ruleData struct {
	title, severity, short, full, url string
	class                             types.ResultClass
	// help returns helpText, helpMarkdown, the CVSS score and data.
	help func() (text, md, score string, cvss map[string]any)
}

type sarifWriter struct {
	w     jw
	n     int // results written
	rules []sarifRule
	index map[string]int
	left  map[string]int // findings of a rule still to come
}

// result appends one result; rd is evaluated only for a rule's last one.
func (sw *sarifWriter) result(id, severity string, rd func() ruleData, message []string, locs []location, artifact string, locMessage []string) error {
	idx, ok := sw.index[id]
	if !ok {
		idx = len(sw.rules)
		sw.index[id] = idx
		sw.rules = append(sw.rules, sarifRule{id: id})
	}
	sw.left[id]--
	if sw.left[id] <= 0 {
		if err := sw.setRule(&sw.rules[idx], rd()); err != nil {
			return err
		}
	}
	w := &sw.w
	w.comma(sw.n)
	sw.n++
	w.raw(`{"ruleId":`)
	w.str(id)
	w.raw(`,"ruleIndex":`)
	w.int(idx)
	w.raw(`,"level":`)
	w.str(toSarifErrorLevel(severity))
	w.raw(`,"message":{"text":`)
	w.strs(message...)
	w.raw(`},"locations":[`)
	if len(locs) == 0 {
		locs = []location{{startLine: 1, endLine: 1}}
	}
	for i, l := range locs {
		if l.startLine == 0 && l.endLine == 0 {
			l.startLine, l.endLine = 1, 1
		}
		w.comma(i)
		w.raw(`{"physicalLocation":{"artifactLocation":{"uri":`)
		w.str(artifact)
		w.raw(`,"uriBaseId":"ROOTPATH"},"region":{"startLine":`)
		w.int(l.startLine)
		w.raw(`,"startColumn":1,"endLine":`)
		w.int(l.endLine)
		w.raw(`,"endColumn":1}},"message":{"text":`)
		w.strs(locMessage...)
		w.raw(`}}`)
	}
	w.raw(`]}`)
	return nil
}

func (sw *sarifWriter) setRule(r *sarifRule, d ruleData) error {
	text, md, score, cvss := "", "", severityToScore(d.severity), map[string]any(nil)
	if d.help != nil {
		text, md, score, cvss = d.help()
	}
	props, err := json.Marshal(toProperties(d.title, d.severity, score, cvss))
	if err != nil {
		return fmt.Errorf("sarif: rule %s: %w", r.id, err)
	}
	r.name, r.short, r.full, r.level = toSarifRuleName(d.class), d.short, d.full, toSarifErrorLevel(d.severity)
	r.helpText, r.helpMD, r.props, r.helpURI = text, md, props, ""
	if u := toURI(d.url); u != nil {
		r.helpURI = u.String()
	}
	return nil
}

// SARIF renders the report as SARIF 2.1.0: the same document as
// `trivy --format sarif`, compact.
func SARIF(r *types.Report, opts SARIFOptions) ([]byte, error) {
	version := opts.Version
	if version == "" {
		version = r.Trivy.Version
	}
	sw := &sarifWriter{index: map[string]int{}, left: map[string]int{}}
	size := 1024
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			sw.left[v.VulnerabilityID]++
			size += 560 + 2*len(res.Target) + 4*len(v.PkgName) + 3*len(v.VulnerabilityID) + 2*len(v.PrimaryURL)
		}
		for _, m := range res.Misconfigurations {
			sw.left[m.ID]++
			size += 600 + len(m.Message)
		}
		for _, sec := range res.Secrets {
			sw.left[sec.RuleID]++
			size += 600 + len(sec.Match)
		}
		for _, l := range res.Licenses {
			sw.left[l.PkgName+":"+l.Name]++
			size += 600
		}
	}
	sw.w.b = make([]byte, 0, size)
	w := &sw.w
	w.raw(`{"version":"2.1.0","$schema":"` + sarifSchema + `","runs":[{"results":[`)

	uris := map[string]string{}
	uri := func(s string) string {
		u, ok := uris[s]
		if !ok {
			u = uriString(s)
			uris[s] = u
		}
		return u
	}
	for _, res := range r.Results {
		target := toPathURI(res.Target, res.Class)
		locs := packageLocations(res.Packages)

		for i := range res.Vulnerabilities {
			vuln := &res.Vulnerabilities[i] // closures keep a pointer, not a copy
			path := target
			if vuln.PkgPath != "" {
				path = toPathURI(vuln.PkgPath, res.Class)
			}
			rd := func() ruleData {
				full := vuln.Description
				if full == "" {
					full = vuln.Title
				}
				return ruleData{title: "vulnerability", severity: vuln.Severity, short: vuln.Title, full: full, url: vuln.PrimaryURL, class: res.Class,
					help: func() (string, string, string, map[string]any) {
						cvss, score := toCVSSData(*vuln)
						return fmt.Sprintf("Vulnerability %v\nSeverity: %v\nPackage: %v\nFixed Version: %v\nLink: [%v](%v)\n%v",
								vuln.VulnerabilityID, vuln.Severity, vuln.PkgName, vuln.FixedVersion, vuln.VulnerabilityID, vuln.PrimaryURL, vuln.Description),
							fmt.Sprintf("**Vulnerability %v**\n| Severity | Package | Fixed Version | Link |\n| --- | --- | --- | --- |\n|%v|%v|%v|[%v](%v)|\n\n%v",
								vuln.VulnerabilityID, vuln.Severity, vuln.PkgName, vuln.FixedVersion, vuln.VulnerabilityID, vuln.PrimaryURL, vuln.Description),
							score, cvss
					}}
			}
			err := sw.result(vuln.VulnerabilityID, vuln.Severity, rd,
				[]string{"Package: ", vuln.PkgName, "\nInstalled Version: ", vuln.InstalledVersion, "\nVulnerability ", vuln.VulnerabilityID,
					"\nSeverity: ", vuln.Severity, "\nFixed Version: ", vuln.FixedVersion, "\nLink: [", vuln.VulnerabilityID, "](", vuln.PrimaryURL, ")"},
				locs[vuln.PkgName+"@"+vuln.InstalledVersion], uri(path),
				[]string{path, ": ", vuln.PkgName, "@", vuln.InstalledVersion})
			if err != nil {
				return nil, err
			}
		}
		for i := range res.Misconfigurations {
			misconf := &res.Misconfigurations[i]
			locationURI := clearURI(res.Target)
			rd := func() ruleData {
				return ruleData{title: "misconfiguration", severity: misconf.Severity, short: misconf.Title, full: misconf.Description, url: misconf.PrimaryURL, class: res.Class,
					help: func() (string, string, string, map[string]any) {
						return fmt.Sprintf("Misconfiguration %v\nType: %s\nSeverity: %v\nCheck: %v\nMessage: %v\nLink: [%v](%v)\n%s",
								misconf.ID, misconf.Type, misconf.Severity, misconf.Title, misconf.Message, misconf.ID, misconf.PrimaryURL, misconf.Description),
							fmt.Sprintf("**Misconfiguration %v**\n| Type | Severity | Check | Message | Link |\n| --- | --- | --- | --- | --- |\n|%v|%v|%v|%s|[%v](%v)|\n\n%v",
								misconf.ID, misconf.Type, misconf.Severity, misconf.Title, misconf.Message, misconf.ID, misconf.PrimaryURL, misconf.Description),
							severityToScore(misconf.Severity), nil
					}}
			}
			err := sw.result(misconf.ID, misconf.Severity, rd,
				[]string{"Artifact: ", locationURI, "\nType: ", string(res.Type), "\nVulnerability ", misconf.ID, "\nSeverity: ", misconf.Severity,
					"\nMessage: ", misconf.Message, "\nLink: [", misconf.ID, "](", misconf.PrimaryURL, ")"},
				[]location{{startLine: misconf.CauseMetadata.StartLine, endLine: misconf.CauseMetadata.EndLine}}, uri(locationURI),
				[]string{locationURI})
			if err != nil {
				return nil, err
			}
		}
		for i := range res.Secrets {
			secret := &res.Secrets[i]
			rd := func() ruleData {
				return ruleData{title: "secret", severity: secret.Severity, short: secret.Title, full: secret.Match, url: builtinRulesURL, class: res.Class,
					help: func() (string, string, string, map[string]any) {
						return fmt.Sprintf("Secret %v\nSeverity: %v\nMatch: %s", secret.Title, secret.Severity, secret.Match),
							fmt.Sprintf("**Secret %v**\n| Severity | Match |\n| --- | --- |\n|%v|%v|", secret.Title, secret.Severity, secret.Match),
							severityToScore(secret.Severity), nil
					}}
			}
			err := sw.result(secret.RuleID, secret.Severity, rd,
				[]string{"Artifact: ", res.Target, "\nType: ", string(res.Type), "\nSecret ", secret.Title, "\nSeverity: ", secret.Severity, "\nMatch: ", secret.Match},
				[]location{{startLine: secret.StartLine, endLine: secret.EndLine}}, uri(target),
				[]string{target})
			if err != nil {
				return nil, err
			}
		}
		for i := range res.Licenses {
			license := &res.Licenses[i]
			id := fmt.Sprintf("%s:%s", license.PkgName, license.Name)
			desc := fmt.Sprintf("%s in %s", license.Name, license.PkgName)
			rd := func() ruleData {
				return ruleData{title: "license", severity: license.Severity, short: desc, full: desc, url: license.Link, class: res.Class,
					help: func() (string, string, string, map[string]any) {
						return fmt.Sprintf("License %s\nClassification: %s\nPkgName: %s\nPath: %s",
								license.Name, license.Category, license.PkgName, license.FilePath),
							fmt.Sprintf("**License %s**\n| PkgName | Classification | Path |\n| --- | --- | --- |\n|%s|%s|%s|",
								license.Name, license.PkgName, license.Category, license.FilePath),
							severityToScore(license.Severity), nil
					}}
			}
			err := sw.result(id, license.Severity, rd,
				[]string{"Artifact: ", res.Target, "\nLicense ", license.Name, "\nPkgName: ", license.PkgName,
					"\n Classification: ", string(license.Category), "\n Path: ", license.FilePath},
				nil, uri(target), []string{""})
			if err != nil {
				return nil, err
			}
		}
	}

	w.raw(`],"tool":{"driver":{"fullName":"Trivy Vulnerability Scanner","informationUri":"https://github.com/aquasecurity/trivy","name":"Trivy","rules":[`)
	for i, rule := range sw.rules {
		w.comma(i)
		w.raw(`{"id":`)
		w.str(rule.id)
		w.raw(`,"name":`)
		w.str(rule.name)
		w.raw(`,"shortDescription":{"text":`)
		w.str(rule.short)
		w.raw(`},"fullDescription":{"text":`)
		w.str(rule.full)
		w.raw(`},"defaultConfiguration":{"level":`)
		w.str(rule.level)
		w.raw(`}`)
		if rule.helpURI != "" {
			w.raw(`,"helpUri":`)
			w.str(rule.helpURI)
		}
		w.raw(`,"help":{"text":`)
		w.str(rule.helpText)
		w.raw(`,"markdown":`)
		w.str(rule.helpMD)
		w.raw(`},"properties":`)
		w.bytes(rule.props)
		w.raw(`}`)
	}
	w.raw(`],"version":`)
	w.str(version)
	w.raw(`}},"columnKind":"` + columnKind + `"`)
	if opts.Target != "" {
		w.raw(`,"originalUriBaseIds":{"ROOTPATH":{"uri":`)
		w.str(pathToFileURI(opts.Target))
		w.raw(`}}`)
	}
	if r.ArtifactType == ftypes.TypeContainerImage {
		props, err := json.Marshal(map[string]any{
			"imageName":   r.ArtifactName,
			"repoTags":    r.Metadata.RepoTags,
			"repoDigests": r.Metadata.RepoDigests,
			"imageID":     r.Metadata.ImageID,
		})
		if err != nil {
			return nil, fmt.Errorf("sarif: %w", err)
		}
		w.raw(`,"properties":`)
		w.bytes(props)
	}
	w.raw(`}]}`)
	return w.b, nil
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

func toProperties(title, severity, cvssScore string, cvssData map[string]any) map[string]any {
	p := map[string]any{
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
