package test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/gtr"
	"github.com/jstemmer/go-junit-report/v2/junit"
	"github.com/jstemmer/go-junit-report/v2/parser/gotest"
)

// Case is one test's outcome.
type Case struct {
	Package string
	Name    string
	Status  string // pass, fail, skip
	Elapsed time.Duration
	Output  string
}

// Report is a whole `go test -json` run, read back by go-junit-report (the
// ecosystem's converter, what GitLab and Jenkins users already read), with
// paved's own view on top: failing tests by name, and packages that failed
// without a failing test.
type Report struct {
	Cases []Case
	// BuildFailures are packages that failed without a failing test:
	// compile errors, TestMain exits, panics outside a test.
	BuildFailures map[string]string
	Elapsed       map[string]time.Duration

	gtr gtr.Report
}

// Counts returns totals.
func (r *Report) Counts() (tests, failed, skipped int) {
	for _, c := range r.Cases {
		tests++
		switch c.Status {
		case "fail":
			failed++
		case "skip":
			skipped++
		}
	}
	return
}

// Failing lists "Package.Test" for failing tests, and "Package (build)"
// for packages that failed without one.
func (r *Report) Failing() []string {
	var out []string
	for _, c := range r.Cases {
		if c.Status == "fail" {
			out = append(out, c.Name+" ("+c.Package+")")
		}
	}
	var pkgs []string
	for p := range r.BuildFailures {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		out = append(out, p+" (package failed: "+firstLines(r.BuildFailures[p], 3)+")")
	}
	return out
}

// ParseJSON reads `go test -json` output. Output that is no test event
// at all (go could not even start: no module, a bad go.mod) is kept as a
// failure of the whole run.
func ParseJSON(b []byte) (*Report, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("go test printed nothing: no package was tested (is the module empty?)")
	}
	// a zero timestamp keeps the JUnit file the same for the same run
	g, err := gotest.NewJSONParser(gotest.TimestampFunc(func() time.Time { return time.Time{} })).Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading go test -json output: %w", err)
	}
	r := &Report{BuildFailures: map[string]string{}, Elapsed: map[string]time.Duration{}, gtr: g}
	for _, p := range g.Packages {
		r.Elapsed[p.Name] = p.Duration
		failedTest := false
		for _, t := range p.Tests {
			c := Case{Package: p.Name, Name: t.Name, Elapsed: t.Duration, Output: strings.Join(t.Output, "\n")}
			switch t.Result {
			case gtr.Pass:
				c.Status = "pass"
			case gtr.Skip:
				c.Status = "skip"
			default: // fail, or started and never finished (panic, timeout, os.Exit)
				c.Status = "fail"
				failedTest = true
			}
			r.Cases = append(r.Cases, c)
		}
		var out []string
		for _, e := range []gtr.Error{p.BuildError, p.RunError} {
			if e.Name != "" {
				out = append(out, e.Output...)
			}
		}
		if (p.BuildError.Name != "" || p.RunError.Name != "") && !failedTest {
			msg := strings.TrimSpace(strings.Join(out, "\n"))
			if msg == "" {
				msg = strings.TrimSpace(strings.Join(p.Output, "\n"))
			}
			if p.Name == "" {
				r.BuildFailures["(go test)"] = msg
				continue
			}
			r.BuildFailures[p.Name] = msg
		}
	}
	if len(g.Packages) == 0 {
		// not one package line: go itself failed before testing
		r.BuildFailures["(go test)"] = strings.TrimSpace(string(b))
	}
	return r, nil
}

// JUnit renders the report as JUnit XML with go-junit-report's writer,
// one testsuite per package, in the shape the Ant/Jenkins schema wants
// (paved's test checks it): failures typed go.test, a package that failed
// without a failing test as one [build] case, and a fixed timestamp.
func (r *Report) JUnit() ([]byte, error) {
	suites := junit.CreateFromReport(r.gtr, "paved")
	var out junit.Testsuites
	for _, s := range suites.Suites {
		s.Package = s.Name
		s.Timestamp = "1970-01-01T00:00:00"
		s.Properties = nil
		s.Tests, s.Failures, s.Errors, s.Skipped = 0, 0, 0, 0
		cases := s.Testcases
		s.Testcases = nil
		for _, tc := range cases {
			switch {
			case tc.Error != nil && (tc.Error.Message == "Build error" || tc.Error.Message == "Runtime error"):
				tc.Name = "[build]"
				tc.Failure = &junit.Result{Message: "package failed to build or run", Type: "go.build", Data: r.BuildFailures[s.Name]}
				tc.Error = nil
				if tc.Failure.Data == "" {
					// a test failed too: the package's error output is in its cases
					continue
				}
			case tc.Error != nil: // started, never finished
				tc.Failure = &junit.Result{Message: "test did not finish", Type: "go.test", Data: tc.Error.Data}
				tc.Error = nil
			case tc.Failure != nil:
				tc.Failure.Message, tc.Failure.Type = "test failed", "go.test"
			case tc.Skipped != nil:
				tc.Skipped = &junit.Result{Message: firstLines(skipReason(tc.Skipped.Data), 1)}
			}
			s.AddTestcase(tc)
		}
		out.AddSuite(s)
	}
	// the schema wants properties before the cases, and system-out and
	// system-err on every suite; go-junit-report leaves them out when empty
	type suite struct {
		Name      string           `xml:"name,attr"`
		Tests     int              `xml:"tests,attr"`
		Failures  int              `xml:"failures,attr"`
		Errors    int              `xml:"errors,attr"`
		Skipped   int              `xml:"skipped,attr"`
		Time      string           `xml:"time,attr"`
		ID        int              `xml:"id,attr"`
		Package   string           `xml:"package,attr"`
		Hostname  string           `xml:"hostname,attr"`
		Timestamp string           `xml:"timestamp,attr"`
		Props     struct{}         `xml:"properties"`
		Cases     []junit.Testcase `xml:"testcase"`
		SystemOut string           `xml:"system-out"`
		SystemErr string           `xml:"system-err"`
	}
	doc := struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []suite  `xml:"testsuite"`
	}{}
	for i, s := range out.Suites {
		st := suite{Name: s.Name, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Time: s.Time,
			ID: i, Package: s.Package, Hostname: s.Hostname, Timestamp: s.Timestamp, Cases: s.Testcases}
		if s.SystemOut != nil {
			st.SystemOut = s.SystemOut.Data
		}
		doc.Suites = append(doc.Suites, st)
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func skipReason(out string) string {
	// go test prints "    x_test.go:12: reason\n--- SKIP: ..."; keep the reason
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(l, "--- ") {
			return l
		}
	}
	return "skipped"
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, " | ")
}
