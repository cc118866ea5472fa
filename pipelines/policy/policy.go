// Package policy is paved's scan gate, without an engine: it judges the
// findings of one trivy report against the platform's policy, the
// application's (stricter-only) policy and the application's exceptions,
// and says what failed, what was suppressed and by whom, and which
// exceptions have expired or expire soon.
package policy

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/aquasecurity/trivy/pkg/types"

	"github.com/paved-ci/paved/pipelines/scan/report"
)

// ExpiryWarning is how far ahead expiring exceptions are listed.
const ExpiryWarning = 14 * 24 * time.Hour

// Suppressed is a finding an exception let pass.
type Suppressed struct {
	Finding   report.Finding
	Exception Exception
}

// Result is the gate's verdict.
type Result struct {
	Pass        bool
	Threshold   report.Severity
	OnlyFixable bool
	// Failed are the unsuppressed findings at or above the threshold
	// (fixable ones only, with OnlyFixable), highest first.
	Failed []report.Finding
	// Suppressed would have failed but for an exception.
	Suppressed []Suppressed
	// Expired exceptions no longer suppress anything.
	Expired []Exception
	// ExpiringSoon are exceptions ending within ExpiryWarning.
	ExpiringSoon []Exception
	// MissingScanners were required but did not run.
	MissingScanners []string
	// Counts of all findings by severity, suppressed or not.
	Counts map[string]int
	// Below is the number of findings the threshold let pass.
	Below int
}

// Evaluate judges a report. ran lists the scanners trivy ran (--scanners);
// a required scanner missing from it fails the gate.
func (c *Config) Evaluate(r *types.Report, ran []string, now time.Time) *Result {
	return c.EvaluateFindings(report.Findings(r), ran, now)
}

// EvaluateFindings is Evaluate on flattened findings.
func (c *Config) EvaluateFindings(fs []report.Finding, ran []string, now time.Time) *Result {
	res := &Result{Threshold: c.Policy.Threshold, OnlyFixable: c.Policy.OnlyFixable, Counts: report.Counts(fs)}
	active := make([]Exception, 0, len(c.Exceptions))
	for _, x := range c.Exceptions {
		switch {
		case !x.Expires.IsZero() && !now.Before(x.Expires):
			res.Expired = append(res.Expired, x)
		default:
			active = append(active, x)
			if !x.Expires.IsZero() && x.Expires.Sub(now) <= ExpiryWarning {
				res.ExpiringSoon = append(res.ExpiringSoon, x)
			}
		}
	}
	byID := make(map[string][]int, len(active))
	for i, x := range active {
		k := strings.ToUpper(x.ID)
		byID[k] = append(byID[k], i)
	}
	for _, f := range fs {
		if f.Severity < c.Policy.Threshold || (c.Policy.OnlyFixable && f.Kind == report.Vulnerability && !f.Fixable()) {
			res.Below++
			continue
		}
		if x, ok := match(active, byID[strings.ToUpper(f.ID)], f); ok {
			res.Suppressed = append(res.Suppressed, Suppressed{Finding: f, Exception: x})
			continue
		}
		res.Failed = append(res.Failed, f)
	}
	report.SortFindings(res.Failed)
	for _, s := range c.Policy.RequiredScanners {
		if !contains(ran, s) {
			res.MissingScanners = append(res.MissingScanners, s)
		}
	}
	res.Pass = len(res.Failed) == 0 && len(res.MissingScanners) == 0
	return res
}

func match(xs []Exception, idx []int, f report.Finding) (Exception, bool) {
	for _, i := range idx {
		x := xs[i]
		if x.AnyPlace && x.Path == "" && x.Package == "" {
			return x, true
		}
		if x.Package != "" && !matchPackage(x.Package, f.Package) {
			continue
		}
		if x.Path != "" && !matchPath(x.Path, f.Path) && !matchPath(x.Path, f.Target) {
			continue
		}
		return x, true
	}
	return Exception{}, false
}

func matchPackage(pattern, name string) bool {
	if pattern == name {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// matchPath matches a doublestar glob, or a directory prefix.
func matchPath(pattern, p string) bool {
	if p == "" {
		return false
	}
	if ok, _ := doublestar.Match(pattern, p); ok {
		return true
	}
	dir := strings.TrimSuffix(pattern, "/")
	return strings.HasPrefix(p, dir+"/")
}

// Summary is the gate's verdict for a CI log or job summary, in Markdown.
func (r *Result) Summary() string {
	var b strings.Builder
	verdict := "passed"
	if !r.Pass {
		verdict = "FAILED"
	}
	fix := ""
	if r.OnlyFixable {
		fix = ", fixable only"
	}
	fmt.Fprintf(&b, "### Policy gate %s (threshold %s%s)\n", verdict, r.Threshold, fix)
	for _, s := range r.MissingScanners {
		fmt.Fprintf(&b, "\n- required scanner **%s** did not run", s)
	}
	if len(r.MissingScanners) > 0 {
		b.WriteString("\n")
	}
	if len(r.Failed) > 0 {
		fmt.Fprintf(&b, "\n**%d failing findings**\n\n| Severity | ID | Package / file | Installed | Fixed in |\n| --- | --- | --- | --- | --- |\n", len(r.Failed))
		for i, f := range r.Failed {
			if i == 50 {
				fmt.Fprintf(&b, "| … | %d more | | | |\n", len(r.Failed)-i)
				break
			}
			where := f.Package
			if where == "" {
				where = f.Path
			}
			fixed := f.FixedVersion
			if fixed == "" && f.Kind == report.Vulnerability {
				fixed = "no fix yet"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", f.Severity, esc(f.ID), esc(where), esc(f.InstalledVersion), esc(fixed))
		}
	}
	if len(r.Suppressed) > 0 {
		fmt.Fprintf(&b, "\n**%d suppressed**\n\n| ID | Package / file | Owner | Reason | Expires | Exception |\n| --- | --- | --- | --- | --- | --- |\n", len(r.Suppressed))
		for _, s := range r.Suppressed {
			where := s.Finding.Package
			if where == "" {
				where = s.Finding.Path
			}
			x := s.Exception
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", esc(s.Finding.ID), esc(where), esc(orNone(x.Owner, "no owner")), esc(orNone(x.Reason, "no reason")), expiry(x), esc(x.Where()))
		}
	}
	for _, x := range r.Expired {
		fmt.Fprintf(&b, "\n- exception %s (%s, owner %s) **expired** on %s and no longer suppresses", esc(x.ID), esc(x.Where()), esc(x.Owner), x.Expires.Format(DateLayout))
	}
	for _, x := range r.ExpiringSoon {
		fmt.Fprintf(&b, "\n- exception %s (%s, owner %s) expires on %s", esc(x.ID), esc(x.Where()), esc(x.Owner), x.Expires.Format(DateLayout))
	}
	if len(r.Expired)+len(r.ExpiringSoon) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

var escaper = strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;")

func orNone(s, none string) string {
	if s == "" {
		return "(" + none + ")"
	}
	return s
}

// expiry is the date an exception stops suppressing, or "(no expiry)".
func expiry(x Exception) string {
	if x.Expires.IsZero() {
		return "(no expiry)"
	}
	return x.Expires.Format(DateLayout)
}

func esc(s string) string { return escaper.Replace(s) }
