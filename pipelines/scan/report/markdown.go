package report

import (
	"fmt"
	"strings"

	"github.com/aquasecurity/trivy/pkg/types"
)

// TopN is how many findings the Markdown summary lists.
const TopN = 10

// Markdown is a short summary for a CI job page or a pull request
// comment: counts by severity and the top findings with fixed versions.
func Markdown(r *types.Report, top int) []byte {
	return markdown(r.ArtifactName, Findings(r), top)
}

// markdown sorts fs in place.
func markdown(artifact string, fs []Finding, top int) []byte {
	SortFindings(fs)
	counts := Counts(fs)
	var b strings.Builder
	fmt.Fprintf(&b, "### Scan: %s\n\n", mdEscape(artifact))
	if len(fs) == 0 {
		b.WriteString("No findings.\n")
		return []byte(b.String())
	}
	b.WriteString("| Severity | Findings |\n| --- | ---: |\n")
	for _, s := range Severities {
		fmt.Fprintf(&b, "| %s | %d |\n", s, counts[s.String()])
	}
	fixable := 0
	for _, f := range fs {
		if f.Fixable() {
			fixable++
		}
	}
	fmt.Fprintf(&b, "\n%d findings, %d with a fixed version.\n", len(fs), fixable)
	if top <= 0 {
		return []byte(b.String())
	}
	if top > len(fs) {
		top = len(fs)
	}
	fmt.Fprintf(&b, "\n**Top %d**\n\n| Severity | ID | Package / file | Installed | Fixed in |\n| --- | --- | --- | --- | --- |\n", top)
	for _, f := range fs[:top] {
		id := mdEscape(f.ID)
		if f.URL != "" && (strings.HasPrefix(f.URL, "https://") || strings.HasPrefix(f.URL, "http://")) {
			id = fmt.Sprintf("[%s](%s)", id, f.URL)
		}
		where := f.Package
		if where == "" {
			where = f.Path
		}
		fixed := f.FixedVersion
		if fixed == "" && f.Kind == Vulnerability {
			fixed = "no fix yet"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", f.Severity, id, mdEscape(where), mdEscape(f.InstalledVersion), mdEscape(fixed))
	}
	return []byte(b.String())
}

var mdReplacer = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;")

func mdEscape(s string) string { return mdReplacer.Replace(s) }
