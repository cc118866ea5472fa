package report

//lint:file-ignore SA1019 Severity is the severity trivy writes, gates (--severity) and reports on; VendorSeverity is per source.

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/aquasecurity/trivy/pkg/types"
)

// GitLabSchemaVersion is the security report schema the GitLab output
// follows (container-scanning-report-format.json).
const GitLabSchemaVersion = "15.2.1"

const gitlabSchemaURL = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.1/dist/container-scanning-report-format.json"

// GitLabReport is a GitLab container-scanning report (schema 15.2.1).
type GitLabReport struct {
	Version         string                `json:"version"`
	Schema          string                `json:"schema,omitempty"`
	Scan            GitLabScan            `json:"scan"`
	Vulnerabilities []GitLabVulnerability `json:"vulnerabilities"`
}

type GitLabScan struct {
	Analyzer  GitLabTool `json:"analyzer"`
	Scanner   GitLabTool `json:"scanner"`
	Type      string     `json:"type"`       // container_scanning
	StartTime string     `json:"start_time"` // 2006-01-02T15:04:05, UTC
	EndTime   string     `json:"end_time"`
	Status    string     `json:"status"` // success | failure
}

type GitLabTool struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	URL     string       `json:"url,omitempty"`
	Version string       `json:"version"`
	Vendor  GitLabVendor `json:"vendor"`
}

type GitLabVendor struct {
	Name string `json:"name"`
}

type GitLabVulnerability struct {
	ID          string             `json:"id"`
	Name        string             `json:"name,omitempty"`
	Description string             `json:"description,omitempty"`
	Severity    string             `json:"severity,omitempty"`
	Solution    string             `json:"solution,omitempty"`
	Identifiers []GitLabIdentifier `json:"identifiers"`
	Links       []GitLabLink       `json:"links,omitempty"`
	Location    GitLabLocation     `json:"location"`
}

type GitLabIdentifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	URL   string `json:"url,omitempty"`
	Value string `json:"value"`
}

type GitLabLink struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
}

type GitLabLocation struct {
	Dependency         GitLabDependency `json:"dependency"`
	OperatingSystem    string           `json:"operating_system"`
	Image              string           `json:"image"`
	DefaultBranchImage string           `json:"default_branch_image,omitempty"`
}

type GitLabDependency struct {
	Package GitLabPackage `json:"package"`
	Version string        `json:"version"`
}

type GitLabPackage struct {
	Name string `json:"name"`
}

// Schema limits (maxLength) on strings GitLab would reject.
const (
	gitlabNameMax        = 255
	gitlabDescriptionMax = 1048576
	gitlabSolutionMax    = 7000
)

// isHTTPURL is the schema's ^(https?|ftp)://.+ for links and identifiers.
func isHTTPURL(s string) bool {
	for _, p := range []string{"https://", "http://", "ftp://"} {
		if len(s) > len(p) && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// GitLabOptions fill what the trivy report cannot say.
type GitLabOptions struct {
	// Image is the image reference shown in GitLab; empty uses the
	// report's artifact name.
	Image string
	// AnalyzerVersion is paved's version.
	AnalyzerVersion string
	// End is when the scan ended; zero uses the report time.
	End time.Time
}

// GitLab renders the report's vulnerabilities as a GitLab
// container-scanning report. Secrets and misconfigurations have no place
// in that schema and go to SARIF instead.
func GitLab(r *types.Report, opts GitLabOptions) ([]byte, error) {
	image := opts.Image
	if image == "" {
		image = r.ArtifactName
	}
	if image == "" {
		image = "unknown"
	}
	osName := "unknown"
	if os := r.Metadata.OS; os != nil && os.Family != "" {
		osName = strings.TrimSpace(string(os.Family) + " " + os.Name)
	}
	start := r.CreatedAt.UTC()
	if start.IsZero() {
		start = time.Now().UTC()
	}
	end := opts.End.UTC()
	if opts.End.IsZero() || end.Before(start) {
		end = start
	}
	av := opts.AnalyzerVersion
	if av == "" {
		av = "dev"
	}
	tv := r.Trivy.Version
	if tv == "" {
		tv = "unknown"
	}
	// Written by hand in the shape of GitLabReport (see jw): the tests
	// decode it into GitLabReport and validate it against the schema.
	size := 1024
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			size += 420 + len(v.Title) + len(v.Description) + 2*len(v.PkgName) + 2*len(v.VulnerabilityID) + len(v.PrimaryURL) + len(image) + len(res.Target)
			for _, ref := range v.References {
				size += len(ref) + 10
			}
		}
	}
	w := &jw{b: make([]byte, 0, size)}
	w.raw(`{"version":"` + GitLabSchemaVersion + `","schema":"` + gitlabSchemaURL + `","scan":{"analyzer":{"id":"paved","name":"paved","version":`)
	w.str(av)
	w.raw(`,"vendor":{"name":"paved"}},"scanner":{"id":"trivy","name":"Trivy","url":"https://github.com/aquasecurity/trivy","version":`)
	w.str(tv)
	w.raw(`,"vendor":{"name":"Aqua Security"}},"type":"container_scanning","start_time":"` + start.Format("2006-01-02T15:04:05") +
		`","end_time":"` + end.Format("2006-01-02T15:04:05") + `","status":"success"},"vulnerabilities":[`)
	seen := map[string]bool{}
	n := 0
	for _, res := range r.Results {
		os := osName
		if res.Class == types.ClassLangPkg {
			// a language package's "system" is its lock file type and path
			os = strings.TrimSpace(string(res.Type) + " " + res.Target)
		}
		if os == "" {
			os = "unknown"
		}
		for i := range res.Vulnerabilities {
			v := &res.Vulnerabilities[i]
			id := gitlabID(r.ArtifactName, res.Target, v)
			if seen[id] {
				continue // trivy can list one CVE twice for one package (several sources)
			}
			seen[id] = true
			w.comma(n)
			n++
			w.raw(`{"id":`)
			w.str(id)
			w.raw(`,"name":`)
			if v.Title != "" {
				w.str(truncate(v.Title, gitlabNameMax))
			} else {
				w.str(truncate(v.VulnerabilityID+" in "+v.PkgName, gitlabNameMax))
			}
			if v.Description != "" {
				w.raw(`,"description":`)
				w.str(truncate(v.Description, gitlabDescriptionMax))
			}
			w.raw(`,"severity":"` + gitlabSeverity(v.Severity) + `"`)
			if v.FixedVersion != "" {
				w.raw(`,"solution":`)
				w.strs("Upgrade ", truncate(v.PkgName, gitlabSolutionMax/2), " to ", truncate(v.FixedVersion, gitlabSolutionMax/4))
			}
			w.raw(`,"identifiers":[`)
			for j, gi := range gitlabIdentifiers(v) {
				w.comma(j)
				w.raw(`{"type":`)
				w.str(gi.Type)
				w.raw(`,"name":`)
				w.str(gi.Name)
				if gi.URL != "" {
					w.raw(`,"url":`)
					w.str(gi.URL)
				}
				w.raw(`,"value":`)
				w.str(gi.Value)
				w.byte('}')
			}
			w.byte(']')
			links := 0
			for _, ref := range v.References {
				if !isHTTPURL(ref) {
					continue
				}
				if links == 0 {
					w.raw(`,"links":[`)
				}
				w.comma(links)
				links++
				w.raw(`{"url":`)
				w.str(ref)
				w.byte('}')
			}
			if links > 0 {
				w.byte(']')
			}
			w.raw(`,"location":{"dependency":{"package":{"name":`)
			w.str(v.PkgName)
			w.raw(`},"version":`)
			w.str(v.InstalledVersion)
			w.raw(`},"operating_system":`)
			w.str(os)
			w.raw(`,"image":`)
			w.str(image)
			w.raw(`}}`)
		}
	}
	w.raw(`]}`)
	return w.b, nil
}

// gitlabID is trivy's fingerprint when it has one, else a stable hash;
// GitLab tracks a finding across pipelines by it.
func gitlabID(artifact, target string, v *types.DetectedVulnerability) string {
	if v.Fingerprint != "" {
		return v.Fingerprint
	}
	h := sha256.Sum256([]byte(artifact + "\x00" + target + "\x00" + v.PkgID + "\x00" + v.PkgName + "\x00" + v.InstalledVersion + "\x00" + v.VulnerabilityID))
	return fmt.Sprintf("%x", h[:16])
}

func gitlabSeverity(s string) string {
	switch severityOf(s) {
	case Critical:
		return "Critical"
	case High:
		return "High"
	case Medium:
		return "Medium"
	case Low:
		return "Low"
	}
	return "Unknown"
}

func gitlabIdentifiers(v *types.DetectedVulnerability) []GitLabIdentifier {
	id := v.VulnerabilityID
	typ := "trivy"
	switch {
	case strings.HasPrefix(id, "CVE-"):
		typ = "cve"
	case strings.HasPrefix(id, "GHSA-"):
		typ = "ghsa"
	}
	gi := GitLabIdentifier{Type: typ, Name: id, Value: id}
	if isHTTPURL(v.PrimaryURL) {
		gi.URL = v.PrimaryURL
	}
	out := []GitLabIdentifier{gi}
	for _, vid := range v.VendorIDs {
		if vid != "" && vid != id {
			out = append(out, GitLabIdentifier{Type: "vendor", Name: vid, Value: vid})
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// cut on a rune boundary
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
