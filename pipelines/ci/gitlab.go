package ci

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"
)

// GitLab report artifact paths, relative to the project directory. The
// component template declares exactly these under artifacts:reports.
var gitlabPaths = map[string]string{
	"dotenv":             "paved-reports/paved.env",
	"junit":              "paved-reports/junit.xml",
	"container_scanning": "paved-reports/gl-container-scanning-report.json",
	"cyclonedx":          "paved-reports/gl-sbom.cdx.json",
	"coverage_report":    "paved-reports/cobertura-coverage.xml",
}

// GitLabReportPath returns the fixed path of a GitLab report type
// (dotenv, junit, container_scanning, cyclonedx, coverage_report).
func GitLabReportPath(report string) string { return gitlabPaths[report] }

// GitLabReports lists the report types in a stable order.
var GitLabReports = []string{"dotenv", "junit", "container_scanning", "cyclonedx", "coverage_report"}

// gitlabSources maps a GitLab report type to the results kinds that may
// feed it, in order of preference, and a check that the file really is of
// that format: GitLab rejects a malformed report (and for some types fails
// the job), so a wrong file is left out with a warning instead.
var gitlabSources = map[string]struct {
	kinds []string
	check func([]byte) error
}{
	"junit":              {[]string{"junit"}, xmlRoot("testsuites", "testsuite")},
	"container_scanning": {[]string{"gitlab-container-scanning", "container-scanning"}, jsonHas("vulnerabilities")},
	"cyclonedx":          {[]string{"cyclonedx", "sbom"}, cyclonedx},
	"coverage_report":    {[]string{"cobertura", "coverage"}, xmlRoot("coverage")},
}

// GitLabOptions configure WriteGitLab.
type GitLabOptions struct {
	Dir    string    // project directory the paths are relative to ("" = .)
	Stdout io.Writer // log summary
	Stderr io.Writer // warnings
}

// WriteGitLab writes the dotenv report and copies the report files to the
// paths the component declares, then prints the terminal summary. Values
// or files that cannot be used are left out with a warning on Stderr;
// warnings are also returned.
func WriteGitLab(b *Bundle, o GitLabOptions) ([]string, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	var warns []string
	warn := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		warns = append(warns, s)
		fmt.Fprintln(o.Stderr, "paved: warning: "+s)
	}
	// Clear earlier reports so a stale file never passes for this run's.
	for _, r := range GitLabReports {
		p := filepath.Join(o.Dir, filepath.FromSlash(gitlabPaths[r]))
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return warns, err
		}
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "paved-reports"), 0o755); err != nil {
		return warns, err
	}
	written := map[string]bool{}
	for _, r := range GitLabReports[1:] {
		src := gitlabSources[r]
		var from, kind string
		for _, k := range src.kinds {
			if p, ok := b.File(k); ok {
				from, kind = p, k
				break
			}
		}
		if from == "" {
			continue
		}
		body, err := os.ReadFile(from)
		if err != nil {
			return warns, err
		}
		if err := src.check(body); err != nil {
			warn("%s report not passed to GitLab: %s file %s is %v", r, kind, b.Run.Files[kind], err)
			continue
		}
		if err := os.WriteFile(filepath.Join(o.Dir, filepath.FromSlash(gitlabPaths[r])), body, 0o644); err != nil {
			return warns, err
		}
		written[r] = true
	}
	sbom := ""
	if written["cyclonedx"] {
		sbom = gitlabPaths["cyclonedx"]
	}
	env, errs := EncodeDotenv(GitLabVariables(b, sbom))
	for _, e := range errs {
		warn("%v", e)
	}
	if err := os.WriteFile(filepath.Join(o.Dir, filepath.FromSlash(gitlabPaths["dotenv"])), env, 0o644); err != nil {
		return warns, err
	}
	return warns, Terminal(o.Stdout, b)
}

var dotenvKey = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// dotenvLimit is GitLab's default dotenv artifact size limit (5 KiB).
const dotenvLimit = 5 * 1024

// EncodeDotenv writes variables in the dotenv form GitLab's parser reads
// (Ci::ParseDotenvArtifactService): one KEY=VALUE a line, key and value
// stripped, no quote removal, no escapes, no blank or comment lines. The
// variables are then expanded like any non-raw CI variable, so `$` is
// written as `$$` (the runner's escape for a literal dollar). Quoting
// would not round-trip: GitLab keeps the quotes as part of the value.
// A value GitLab cannot carry (a newline, or spaces, which its docs
// forbid, or leading/trailing blanks it would strip) is left out, with one
// error each; the rest are written.
func EncodeDotenv(vars []Output) ([]byte, []error) {
	var buf bytes.Buffer
	var errs []error
	for _, v := range vars {
		switch {
		case !dotenvKey.MatchString(v.Name):
			errs = append(errs, fmt.Errorf("dotenv variable %q left out: GitLab allows only letters, digits and _ in names", v.Name))
			continue
		case strings.ContainsAny(v.Value, "\r\n"):
			errs = append(errs, fmt.Errorf("dotenv variable %s left out: its value has a line break, which GitLab's dotenv report cannot carry", v.Name))
			continue
		case strings.ContainsAny(v.Value, " \t\v\f"):
			errs = append(errs, fmt.Errorf("dotenv variable %s left out: its value has blanks, which GitLab's dotenv report does not allow", v.Name))
			continue
		case !utf8.ValidString(v.Value):
			errs = append(errs, fmt.Errorf("dotenv variable %s left out: its value is not UTF-8", v.Name))
			continue
		}
		line := v.Name + "=" + strings.ReplaceAll(v.Value, "$", "$$") + "\n"
		if buf.Len()+len(line) > dotenvLimit {
			errs = append(errs, fmt.Errorf("dotenv variable %s left out: the report would pass GitLab's 5 KiB limit", v.Name))
			continue
		}
		buf.WriteString(line)
	}
	return buf.Bytes(), errs
}

func xmlRoot(names ...string) func([]byte) error {
	return func(b []byte) error {
		dec := xml.NewDecoder(bytes.NewReader(b))
		for {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("not XML with a <%s> root: %v", strings.Join(names, "> or <"), err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, n := range names {
					if se.Name.Local == n {
						return nil
					}
				}
				return fmt.Errorf("XML with root <%s>, not <%s>", se.Name.Local, strings.Join(names, "> or <"))
			}
		}
	}
}

func jsonHas(field string) func([]byte) error {
	return func(b []byte) error {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("not a JSON object: %v", err)
		}
		if _, ok := m[field]; !ok {
			return fmt.Errorf("JSON without %q", field)
		}
		return nil
	}
}

func cyclonedx(b []byte) error {
	var m struct {
		BOMFormat string `json:"bomFormat"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("not CycloneDX JSON: %v", err)
	}
	if m.BOMFormat != "CycloneDX" {
		return fmt.Errorf("JSON with bomFormat %q, not CycloneDX JSON", m.BOMFormat)
	}
	return nil
}
