package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"

	"github.com/paved-ci/paved/pipelines/scan/report"
)

// Default file names in an application repository.
const (
	AppPolicyFile       = ".paved/policy.yaml"
	ExceptionsFile      = ".paved/exceptions.yaml"
	TrivyIgnoreFile     = ".trivyignore"
	TrivyIgnoreYAMLFile = ".trivyignore.yaml"
)

// DateLayout is how expiry dates are written.
const DateLayout = "2006-01-02"

// Scanners trivy knows, as passed to --scanners.
var knownScanners = []string{"vuln", "secret", "misconfig", "license"}

// Platform is the policy platform staff own. Applications may tighten it,
// never loosen it.
type Platform struct {
	File string // where it was read from, for messages
	// Threshold: findings at or above it fail the gate. Default HIGH.
	Threshold report.Severity
	// OnlyFixable lets unfixable vulnerabilities pass. An app may turn it
	// off (stricter) but not on when the platform has it off.
	OnlyFixable bool
	// RequiredScanners must have run; an app cannot drop one.
	RequiredScanners []string
	// MaxExceptionDays bounds how far ahead an exception may expire;
	// 0 means no bound.
	MaxExceptionDays int
	// MandatedStages are golden-path stages a user may not skip
	// (scan, sign, ...).
	MandatedStages []string
	// RequireExceptionDetails makes every exception name its reason,
	// owner and expiry, also in trivy's own files (.trivyignore,
	// .trivyignore.yaml), which trivy accepts without them.
	RequireExceptionDetails bool

	line map[string]int // key → line, for messages
}

// App is an application's own policy (.paved/policy.yaml). Unset fields
// inherit the platform's.
type App struct {
	File             string
	Threshold        *report.Severity
	OnlyFixable      *bool
	Scanners         []string
	MaxExceptionDays *int

	line map[string]int
}

// DefaultPlatform is used when no platform policy file is given.
func DefaultPlatform() Platform {
	return Platform{Threshold: report.High, RequiredScanners: []string{"vuln"}}
}

// ParsePlatform reads a platform policy file:
//
//	threshold: HIGH
//	onlyFixable: false
//	requiredScanners: [vuln, secret]
//	maxExceptionDays: 90
func ParsePlatform(file string, b []byte) (Platform, error) {
	p := DefaultPlatform()
	p.File = file
	p.line = map[string]int{}
	root, err := parseDoc(file, b)
	if err != nil || root == nil {
		return p, err
	}
	err = eachKey(file, root, func(k string, kn, v *yaml.Node) error {
		p.line[k] = kn.Line
		switch k {
		case "threshold":
			s, err := severityNode(file, v)
			p.Threshold = s
			return err
		case "onlyFixable":
			b, err := boolNode(file, v)
			p.OnlyFixable = b
			return err
		case "requiredScanners":
			s, err := scannersNode(file, v)
			p.RequiredScanners = s
			return err
		case "maxExceptionDays":
			n, err := daysNode(file, v)
			p.MaxExceptionDays = n
			return err
		case "mandatedStages":
			s, err := stagesNode(file, v)
			p.MandatedStages = s
			return err
		case "requireExceptionDetails":
			b, err := boolNode(file, v)
			p.RequireExceptionDetails = b
			return err
		}
		return unknownKey(file, kn, "threshold, onlyFixable, requiredScanners, maxExceptionDays, mandatedStages, requireExceptionDetails")
	})
	return p, err
}

// ParseApp reads an application policy file:
//
//	threshold: MEDIUM
//	onlyFixable: false
//	scanners: [vuln, secret, misconfig]
//	maxExceptionDays: 30
func ParseApp(file string, b []byte) (App, error) {
	a := App{File: file, line: map[string]int{}}
	root, err := parseDoc(file, b)
	if err != nil || root == nil {
		return a, err
	}
	err = eachKey(file, root, func(k string, kn, v *yaml.Node) error {
		a.line[k] = kn.Line
		switch k {
		case "threshold":
			s, err := severityNode(file, v)
			a.Threshold = &s
			return err
		case "onlyFixable":
			b, err := boolNode(file, v)
			a.OnlyFixable = &b
			return err
		case "scanners":
			s, err := scannersNode(file, v)
			a.Scanners = s
			return err
		case "maxExceptionDays":
			n, err := daysNode(file, v)
			a.MaxExceptionDays = &n
			return err
		}
		return unknownKey(file, kn, "threshold, onlyFixable, scanners, maxExceptionDays")
	})
	return a, err
}

// Effective is the policy the gate applies: the platform's, tightened by
// the app's.
type Effective struct {
	Threshold        report.Severity
	OnlyFixable      bool
	Scanners         []string // scanners to run: required ∪ app's
	RequiredScanners []string
	MaxExceptionDays int
	Platform         string // file names, for messages
	App              string
}

// Merge applies an app policy on top of the platform's. An app setting
// looser than the platform is an error naming both values and files.
func Merge(p Platform, a *App) (Effective, error) {
	e := Effective{
		Threshold: p.Threshold, OnlyFixable: p.OnlyFixable,
		RequiredScanners: append([]string(nil), p.RequiredScanners...),
		MaxExceptionDays: p.MaxExceptionDays, Platform: label(p.File, "platform policy (defaults)"),
	}
	e.Scanners = append([]string(nil), p.RequiredScanners...)
	if a == nil {
		return e, nil
	}
	e.App = label(a.File, "app policy")
	var errs []error
	at := func(k string) string { return fmt.Sprintf("%s:%d", e.App, a.line[k]) }
	if a.Threshold != nil {
		if *a.Threshold > p.Threshold {
			errs = append(errs, fmt.Errorf("%s: threshold %s is looser than the platform's %s (%s); an app may only lower the threshold", at("threshold"), *a.Threshold, p.Threshold, e.Platform))
		} else {
			e.Threshold = *a.Threshold
		}
	}
	if a.OnlyFixable != nil {
		if *a.OnlyFixable && !p.OnlyFixable {
			errs = append(errs, fmt.Errorf("%s: onlyFixable true is looser than the platform's onlyFixable false (%s); unfixable findings must fail too", at("onlyFixable"), e.Platform))
		} else {
			e.OnlyFixable = *a.OnlyFixable
		}
	}
	if a.Scanners != nil {
		for _, r := range p.RequiredScanners {
			if !contains(a.Scanners, r) {
				errs = append(errs, fmt.Errorf("%s: scanners [%s] drop %q, which the platform requires (requiredScanners [%s] in %s)", at("scanners"), strings.Join(a.Scanners, ", "), r, strings.Join(p.RequiredScanners, ", "), e.Platform))
			}
		}
		for _, s := range a.Scanners {
			if !contains(e.Scanners, s) {
				e.Scanners = append(e.Scanners, s)
			}
		}
	}
	if a.MaxExceptionDays != nil {
		if p.MaxExceptionDays > 0 && (*a.MaxExceptionDays == 0 || *a.MaxExceptionDays > p.MaxExceptionDays) {
			errs = append(errs, fmt.Errorf("%s: maxExceptionDays %d is looser than the platform's %d (%s)", at("maxExceptionDays"), *a.MaxExceptionDays, p.MaxExceptionDays, e.Platform))
		} else {
			e.MaxExceptionDays = *a.MaxExceptionDays
		}
	}
	return e, errors.Join(errs...)
}

// Exception suppresses findings with its ID at its package or path.
type Exception struct {
	ID      string
	Package string // exact name or glob
	Path    string // doublestar glob; a directory matches everything under it
	Reason  string
	Owner   string
	Expires time.Time // stops suppressing at 00:00 UTC that day, as trivy's exp:
	File    string
	Line    int
	// AnyPlace is set for .trivyignore entries: they match the ID
	// anywhere, as trivy does.
	AnyPlace bool
	// Missing lists the details an entry of trivy's own files lacks
	// ("reason", "owner", "expiry"): trivy accepts such entries, and so
	// does paved unless the platform policy requires them. A zero Expires
	// never expires.
	Missing []string
}

// Where is "file:line".
func (x Exception) Where() string { return fmt.Sprintf("%s:%d", x.File, x.Line) }

// ParseExceptions reads the exceptions file:
//
//	exceptions:
//	  - id: CVE-2021-38561
//	    package: golang.org/x/text
//	    reason: we never parse user-supplied language tags
//	    owner: team-payments@example.com
//	    expires: 2026-12-31
//
// id, reason, owner, expires and one of package/path are required.
func ParseExceptions(file string, b []byte) ([]Exception, error) {
	root, err := parseDoc(file, b)
	if err != nil || root == nil {
		return nil, err
	}
	var list *yaml.Node
	err = eachKey(file, root, func(k string, kn, v *yaml.Node) error {
		if k != "exceptions" {
			return unknownKey(file, kn, "exceptions")
		}
		list = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	if list == nil || (list.Kind == yaml.ScalarNode && list.Tag == "!!null") {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: exceptions must be a list of entries (- id: ...)", file, list.Line)
	}
	var out []Exception
	var errs []error
	for _, item := range list.Content {
		x, err := exceptionNode(file, item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, x)
	}
	return out, errors.Join(errs...)
}

func exceptionNode(file string, n *yaml.Node) (Exception, error) {
	x := Exception{File: file, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return x, fmt.Errorf("%s:%d: an exception must be a mapping with id, package or path, reason, owner, expires", file, n.Line)
	}
	var errs []error
	err := eachKey(file, n, func(k string, kn, v *yaml.Node) error {
		if k == "expires" {
			t, err := dateNode(file, v)
			x.Expires = t
			return err
		}
		s, err := stringNode(file, k, v)
		if err != nil {
			return err
		}
		switch k {
		case "id":
			x.ID = s
		case "package":
			x.Package = s
		case "path":
			if !doublestar.ValidatePattern(s) {
				return fmt.Errorf("%s:%d: path %q is not a valid glob pattern", file, v.Line, s)
			}
			x.Path = s
		case "reason":
			x.Reason = s
		case "owner":
			x.Owner = s
		default:
			return unknownKey(file, kn, "id, package, path, reason, owner, expires")
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	var missing []string
	if x.ID == "" {
		missing = append(missing, "id")
	}
	if x.Package == "" && x.Path == "" {
		missing = append(missing, "package or path")
	}
	if x.Reason == "" {
		missing = append(missing, "reason")
	}
	if x.Owner == "" {
		missing = append(missing, "owner")
	}
	if x.Expires.IsZero() && err == nil {
		missing = append(missing, "expires")
	}
	if len(missing) > 0 {
		what := "exception"
		if x.ID != "" {
			what = "exception " + x.ID
		}
		errs = append(errs, fmt.Errorf("%s:%d: %s has no %s (every exception needs id, package or path, reason, owner and expires: YYYY-MM-DD)", file, n.Line, what, strings.Join(missing, ", ")))
	}
	return x, errors.Join(errs...)
}

// ParseTrivyIgnore reads trivy's .trivyignore: one ID a line, optional
// exp:YYYY-MM-DD. paved asks of these entries what it asks of any
// exception, written as comments directly above the entry:
//
//	# reason: the vulnerable parser is never reached
//	# owner: team-payments@example.com
//	CVE-2021-38561 exp:2026-12-31
func ParseTrivyIgnore(file string, b []byte) ([]Exception, error) {
	var out []Exception
	var errs []error
	var reason, owner string
	for i, line := range strings.Split(string(b), "\n") {
		ln := i + 1
		line = strings.TrimSpace(line)
		if line == "" {
			reason, owner = "", ""
			continue
		}
		if c, ok := strings.CutPrefix(line, "#"); ok {
			c = strings.TrimSpace(c)
			if v, ok := cutKey(c, "reason:"); ok {
				reason = v
			} else if v, ok := cutKey(c, "owner:"); ok {
				owner = v
			}
			continue
		}
		f := strings.Fields(line)
		x := Exception{ID: f[0], File: file, Line: ln, Reason: reason, Owner: owner, AnyPlace: true}
		reason, owner = "", ""
		for _, fld := range f[1:] {
			if d, ok := strings.CutPrefix(fld, "exp:"); ok {
				t, err := time.Parse(DateLayout, d)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s:%d: exp:%s is not a date (want exp:YYYY-MM-DD)", file, ln, d))
					continue
				}
				x.Expires = t
			}
		}
		if x.Reason == "" {
			x.Missing = append(x.Missing, "reason")
		}
		if x.Owner == "" {
			x.Missing = append(x.Missing, "owner")
		}
		if x.Expires.IsZero() {
			x.Missing = append(x.Missing, "expiry")
		}
		out = append(out, x)
	}
	return out, errors.Join(errs...)
}

func cutKey(s, key string) (string, bool) {
	if len(s) >= len(key) && strings.EqualFold(s[:len(key)], key) {
		return strings.TrimSpace(s[len(key):]), true
	}
	return "", false
}

// ParseTrivyIgnoreYAML reads trivy's .trivyignore.yaml. Each entry needs
// expired_at and statement (the reason), plus an owner key, which trivy
// ignores and paved requires.
func ParseTrivyIgnoreYAML(file string, b []byte) ([]Exception, error) {
	root, err := parseDoc(file, b)
	if err != nil || root == nil {
		return nil, err
	}
	var out []Exception
	var errs []error
	err = eachKey(file, root, func(k string, kn, v *yaml.Node) error {
		switch k {
		case "vulnerabilities", "misconfigurations", "secrets", "licenses":
		default:
			return unknownKey(file, kn, "vulnerabilities, misconfigurations, secrets, licenses")
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return nil
		}
		if v.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s:%d: %s must be a list", file, v.Line, k)
		}
		for _, item := range v.Content {
			xs, err := trivyIgnoreEntry(file, item)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, xs...)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

func trivyIgnoreEntry(file string, n *yaml.Node) ([]Exception, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: an entry must be a mapping with id, paths, expired_at, statement, owner", file, n.Line)
	}
	x := Exception{File: file, Line: n.Line}
	var paths, purls []string
	err := eachKey(file, n, func(k string, kn, v *yaml.Node) error {
		switch k {
		case "expired_at":
			t, err := dateNode(file, v)
			x.Expires = t
			return err
		case "paths", "purls":
			if v.Kind != yaml.SequenceNode {
				return fmt.Errorf("%s:%d: %s must be a list of strings", file, v.Line, k)
			}
			for _, p := range v.Content {
				s, err := stringNode(file, k, p)
				if err != nil {
					return err
				}
				if k == "paths" {
					if !doublestar.ValidatePattern(s) {
						return fmt.Errorf("%s:%d: path %q is not a valid glob pattern", file, p.Line, s)
					}
					paths = append(paths, s)
				} else {
					purls = append(purls, s)
				}
			}
			return nil
		}
		s, err := stringNode(file, k, v)
		if err != nil {
			return err
		}
		switch k {
		case "id":
			x.ID = s
		case "statement":
			x.Reason = s
		case "owner":
			x.Owner = s
		default:
			return unknownKey(file, kn, "id, paths, purls, expired_at, statement, owner")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(purls) > 0 {
		return nil, fmt.Errorf("%s:%d: purls are not supported by paved's gate; use paths, or package in %s", file, n.Line, ExceptionsFile)
	}
	if x.ID == "" {
		return nil, fmt.Errorf("%s:%d: entry has no id", file, n.Line)
	}
	if x.Reason == "" {
		x.Missing = append(x.Missing, "reason")
	}
	if x.Owner == "" {
		x.Missing = append(x.Missing, "owner")
	}
	if x.Expires.IsZero() {
		x.Missing = append(x.Missing, "expiry")
	}
	if len(paths) == 0 {
		x.AnyPlace = true
		return []Exception{x}, nil
	}
	out := make([]Exception, 0, len(paths))
	for _, p := range paths {
		y := x
		y.Path = p
		out = append(out, y)
	}
	return out, nil
}

// Config is a loaded, validated gate configuration.
type Config struct {
	Policy     Effective
	Exceptions []Exception
}

// Load reads the platform policy file (empty path: defaults) and the app
// files under repoDir. Missing app files are fine; any other read error
// is returned, so the gate never passes on a file it could not read.
func Load(platformFile, repoDir string, now time.Time) (*Config, error) {
	p := DefaultPlatform()
	if platformFile != "" {
		b, err := os.ReadFile(platformFile)
		if err != nil {
			return nil, fmt.Errorf("platform policy %s: %v", platformFile, err)
		}
		if p, err = ParsePlatform(platformFile, b); err != nil {
			return nil, err
		}
	}
	read := func(rel string) ([]byte, string, error) {
		if repoDir == "" {
			return nil, rel, nil
		}
		full := filepath.Join(repoDir, filepath.FromSlash(rel))
		b, err := os.ReadFile(full)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, rel, nil
		}
		if err != nil {
			return nil, rel, fmt.Errorf("%s: cannot read: %v", rel, err)
		}
		return b, rel, nil
	}
	files := map[string][]byte{}
	for _, rel := range []string{AppPolicyFile, ExceptionsFile, TrivyIgnoreFile, TrivyIgnoreYAMLFile} {
		b, _, err := read(rel)
		if err != nil {
			return nil, err
		}
		files[rel] = b
	}
	return Build(p, files, now)
}

// Build validates and merges an already parsed platform policy with app
// files given by their repository-relative names (AppPolicyFile, ...);
// a nil entry is a missing file.
func Build(p Platform, files map[string][]byte, now time.Time) (*Config, error) {
	var errs []error
	var app *App
	if b := files[AppPolicyFile]; b != nil {
		a, err := ParseApp(AppPolicyFile, b)
		if err != nil {
			errs = append(errs, err)
		} else {
			app = &a
		}
	}
	eff, err := Merge(p, app)
	if err != nil {
		errs = append(errs, err)
	}
	var xs []Exception
	for _, f := range []struct {
		name  string
		parse func(string, []byte) ([]Exception, error)
	}{
		{ExceptionsFile, ParseExceptions},
		{TrivyIgnoreFile, ParseTrivyIgnore},
		{TrivyIgnoreYAMLFile, ParseTrivyIgnoreYAML},
	} {
		b := files[f.name]
		if b == nil {
			continue
		}
		got, err := f.parse(f.name, b)
		if err != nil {
			errs = append(errs, err)
		}
		xs = append(xs, got...)
	}
	if p.RequireExceptionDetails {
		for _, x := range xs {
			if len(x.Missing) > 0 {
				errs = append(errs, fmt.Errorf("%s: exception %s has no %s; the platform policy (%s) sets requireExceptionDetails: %s", x.Where(), x.ID, strings.Join(x.Missing, ", "), eff.Platform, howToComplete(x)))
			}
		}
	}
	if eff.MaxExceptionDays > 0 {
		limit := today(now).AddDate(0, 0, eff.MaxExceptionDays)
		for _, x := range xs {
			if x.Expires.IsZero() {
				if !p.RequireExceptionDetails {
					errs = append(errs, fmt.Errorf("%s: exception %s has no expiry; policy allows exceptions of at most maxExceptionDays %d: %s", x.Where(), x.ID, eff.MaxExceptionDays, howToComplete(x)))
				}
				continue
			}
			if x.Expires.After(limit) {
				days := int(x.Expires.Sub(today(now)).Hours() / 24)
				src := eff.Platform
				if app != nil && app.MaxExceptionDays != nil {
					src = eff.App
				}
				errs = append(errs, fmt.Errorf("%s: exception %s expires %s, %d days from today; policy (%s) allows at most maxExceptionDays %d (expires no later than %s)",
					x.Where(), x.ID, x.Expires.Format(DateLayout), days, src, eff.MaxExceptionDays, limit.Format(DateLayout)))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.SliceStable(xs, func(i, j int) bool {
		if xs[i].File != xs[j].File {
			return xs[i].File < xs[j].File
		}
		return xs[i].Line < xs[j].Line
	})
	return &Config{Policy: eff, Exceptions: xs}, nil
}

// howToComplete says how to add the missing details in x's own file.
func howToComplete(x Exception) string {
	if x.File == TrivyIgnoreYAMLFile {
		return "give the entry statement, owner and expired_at: YYYY-MM-DD"
	}
	return `write "# reason: ..." and "# owner: ..." on the lines above the ID and "exp:YYYY-MM-DD" after it`
}

func today(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// --- YAML helpers: every error carries file:line ---

func parseDoc(file string, b []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlErr(file, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of keys to values at the top level", file, root.Line)
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlErr turns yaml.v3's "yaml: line N: msg" into "file:N: msg".
func yamlErr(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s (invalid YAML)", file, m[1], msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %s (invalid YAML)", file, strings.TrimPrefix(msg, "yaml: "))
}

func eachKey(file string, m *yaml.Node, fn func(k string, kn, v *yaml.Node) error) error {
	seen := map[string]int{}
	var errs []error
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn, v := m.Content[i], m.Content[i+1]
		if prev, dup := seen[kn.Value]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: %s is set twice (first on line %d)", file, kn.Line, kn.Value, prev))
			continue
		}
		seen[kn.Value] = kn.Line
		if err := fn(kn.Value, kn, v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func unknownKey(file string, kn *yaml.Node, known string) error {
	return fmt.Errorf("%s:%d: unknown key %q (known: %s)", file, kn.Line, kn.Value, known)
}

func stringNode(file, key string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return "", fmt.Errorf("%s:%d: %s must be a string", file, v.Line, key)
	}
	return strings.TrimSpace(v.Value), nil
}

func severityNode(file string, v *yaml.Node) (report.Severity, error) {
	if v.Kind != yaml.ScalarNode {
		return report.Unknown, fmt.Errorf("%s:%d: threshold must be a severity name", file, v.Line)
	}
	s, err := report.ParseSeverity(v.Value)
	if err != nil {
		return report.Unknown, fmt.Errorf("%s:%d: threshold: %v", file, v.Line, err)
	}
	return s, nil
}

func boolNode(file string, v *yaml.Node) (bool, error) {
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		return false, fmt.Errorf("%s:%d: %q is not true or false", file, v.Line, v.Value)
	}
	return b, nil
}

func daysNode(file string, v *yaml.Node) (int, error) {
	n, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || err != nil || n < 0 {
		return 0, fmt.Errorf("%s:%d: maxExceptionDays %q is not a whole number of days (0 = no limit)", file, v.Line, v.Value)
	}
	return n, nil
}

func dateNode(file string, v *yaml.Node) (time.Time, error) {
	if v.Kind != yaml.ScalarNode {
		return time.Time{}, fmt.Errorf("%s:%d: want a date YYYY-MM-DD", file, v.Line)
	}
	t, err := time.Parse(DateLayout, v.Value)
	if err != nil {
		// trivy's expired_at also accepts a full timestamp
		if ts, err2 := time.Parse(time.RFC3339, v.Value); err2 == nil {
			return ts.UTC(), nil
		}
		return time.Time{}, fmt.Errorf("%s:%d: %q is not a date (want YYYY-MM-DD)", file, v.Line, v.Value)
	}
	return t, nil
}

func scannersNode(file string, v *yaml.Node) ([]string, error) {
	var items []*yaml.Node
	switch v.Kind {
	case yaml.SequenceNode:
		items = v.Content
	case yaml.ScalarNode: // "vuln,secret" as trivy's --scanners
		for _, s := range strings.Split(v.Value, ",") {
			items = append(items, &yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(s), Line: v.Line})
		}
	default:
		return nil, fmt.Errorf("%s:%d: scanners must be a list", file, v.Line)
	}
	out := []string{}
	for _, it := range items {
		s := strings.ToLower(strings.TrimSpace(it.Value))
		if s == "vulnerability" {
			s = "vuln"
		}
		if !contains(knownScanners, s) {
			return nil, fmt.Errorf("%s:%d: unknown scanner %q (want %s)", file, it.Line, it.Value, strings.Join(knownScanners, ", "))
		}
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// skippableStages are the stage names a platform can mandate.
var skippableStages = []string{"lint", "test", "scan", "sign", "publish"}

func stagesNode(file string, v *yaml.Node) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: mandatedStages must be a list, e.g. [scan, sign]", file, v.Line)
	}
	var out []string
	for _, n := range v.Content {
		if n.Kind != yaml.ScalarNode || !contains(skippableStages, n.Value) {
			return nil, fmt.Errorf("%s:%d: mandatedStages: %q is not a stage that can be skipped (%s)", file, n.Line, n.Value, strings.Join(skippableStages, ", "))
		}
		out = append(out, n.Value)
	}
	return out, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func label(file, def string) string {
	if file == "" {
		return def
	}
	return file
}
