package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	// ImportPath and FailedBuild carry compile errors (Go 1.24+:
	// build-output events are keyed by ImportPath).
	ImportPath  string
	FailedBuild string
	Test        string
	Elapsed     float64
	Output      string
}

// Case is one test's outcome.
type Case struct {
	Package string
	Name    string
	Status  string // pass, fail, skip
	Elapsed time.Duration
	Output  string
}

// Report is a whole `go test -json` run, read back.
type Report struct {
	Cases []Case
	// BuildFailures are packages that failed without a failing test:
	// compile errors, TestMain exits, panics outside a test.
	BuildFailures map[string]string
	Elapsed       map[string]time.Duration
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

// ParseJSON reads `go test -json` output. Lines that are not JSON (a build
// error printed before test2json starts) are kept as package output.
func ParseJSON(b []byte) (*Report, error) {
	type key struct{ pkg, test string }
	cases := map[key]*Case{}
	var order []key
	pkgOut := map[string]*strings.Builder{}
	pkgFail := map[string]bool{}
	pkgHasFailingTest := map[string]bool{}
	buildOut := map[string]*strings.Builder{}
	failedBuild := map[string]string{}
	r := &Report{BuildFailures: map[string]string{}, Elapsed: map[string]time.Duration{}}
	var stray strings.Builder
	sawEvent := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e event
		if line[0] != '{' || json.Unmarshal(line, &e) != nil {
			stray.Write(line)
			stray.WriteByte('\n')
			continue
		}
		sawEvent = true
		if e.Action == "build-output" || e.Action == "build-fail" {
			if buildOut[e.ImportPath] == nil {
				buildOut[e.ImportPath] = &strings.Builder{}
			}
			buildOut[e.ImportPath].WriteString(e.Output)
			continue
		}
		if e.Test == "" {
			if pkgOut[e.Package] == nil {
				pkgOut[e.Package] = &strings.Builder{}
			}
			switch e.Action {
			case "output", "build-output":
				pkgOut[e.Package].WriteString(e.Output)
			case "fail":
				pkgFail[e.Package] = true
				r.Elapsed[e.Package] = seconds(e.Elapsed)
				if e.FailedBuild != "" {
					failedBuild[e.Package] = e.FailedBuild
				}
			case "pass", "skip":
				r.Elapsed[e.Package] = seconds(e.Elapsed)
			}
			continue
		}
		k := key{e.Package, e.Test}
		c := cases[k]
		if c == nil {
			c = &Case{Package: e.Package, Name: e.Test}
			cases[k] = c
			order = append(order, k)
		}
		switch e.Action {
		case "output":
			c.Output += e.Output
		case "pass", "fail", "skip":
			c.Status = e.Action
			c.Elapsed = seconds(e.Elapsed)
			if e.Action == "fail" {
				pkgHasFailingTest[e.Package] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading go test -json output: %w", err)
	}
	if !sawEvent {
		msg := strings.TrimSpace(stray.String())
		if msg == "" {
			return nil, fmt.Errorf("go test printed nothing: no package was tested (is the module empty?)")
		}
		r.BuildFailures["(go test)"] = msg
		return r, nil
	}
	for _, k := range order {
		c := cases[k]
		if c.Status == "" {
			// started but never finished: the binary died (panic, timeout, os.Exit)
			c.Status = "fail"
			pkgHasFailingTest[c.Package] = true
		}
		r.Cases = append(r.Cases, *c)
	}
	for p := range pkgFail {
		if !pkgHasFailingTest[p] {
			out := ""
			if b := buildOut[failedBuild[p]]; b != nil {
				out = b.String()
			}
			if pkgOut[p] != nil {
				out += pkgOut[p].String()
			}
			if s := strings.TrimSpace(stray.String()); s != "" {
				out = s + "\n" + out
			}
			r.BuildFailures[p] = strings.TrimSpace(out)
		}
	}
	return r, nil
}

// JUnit renders the report as JUnit XML (Ant/Jenkins style), one
// testsuite per package. GitLab, GitHub annotations and Jenkins read it.
func (r *Report) JUnit() ([]byte, error) {
	type failure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",chardata"`
	}
	type skipped struct {
		Message string `xml:"message,attr"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      string   `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Skipped   *skipped `xml:"skipped,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type testsuite struct {
		Name      string     `xml:"name,attr"`
		Tests     int        `xml:"tests,attr"`
		Failures  int        `xml:"failures,attr"`
		Errors    int        `xml:"errors,attr"`
		Skipped   int        `xml:"skipped,attr"`
		Time      string     `xml:"time,attr"`
		ID        int        `xml:"id,attr"`
		Package   string     `xml:"package,attr"`
		Hostname  string     `xml:"hostname,attr"`
		Timestamp string     `xml:"timestamp,attr"`
		Props     *struct{}  `xml:"properties"`
		Cases     []testcase `xml:"testcase"`
		SystemOut string     `xml:"system-out"`
		SystemErr string     `xml:"system-err"`
	}
	type testsuites struct {
		XMLName xml.Name    `xml:"testsuites"`
		Suites  []testsuite `xml:"testsuite"`
	}
	byPkg := map[string]*testsuite{}
	var pkgs []string
	suite := func(p string) *testsuite {
		if s := byPkg[p]; s != nil {
			return s
		}
		s := &testsuite{Name: p, Package: p, Hostname: "paved", Timestamp: "1970-01-01T00:00:00", Props: &struct{}{}, Time: fmtSeconds(r.Elapsed[p])}
		byPkg[p] = s
		pkgs = append(pkgs, p)
		return s
	}
	for _, c := range r.Cases {
		s := suite(c.Package)
		tc := testcase{Name: c.Name, Classname: c.Package, Time: fmtSeconds(c.Elapsed)}
		s.Tests++
		switch c.Status {
		case "fail":
			s.Failures++
			tc.Failure = &failure{Message: "test failed", Type: "go.test", Body: c.Output}
		case "skip":
			s.Skipped++
			tc.Skipped = &skipped{Message: firstLines(skipReason(c.Output), 1)}
		}
		s.Cases = append(s.Cases, tc)
	}
	for p, out := range r.BuildFailures {
		s := suite(p)
		s.Errors++
		s.Tests++
		s.Cases = append(s.Cases, testcase{Name: "[build]", Classname: p, Time: "0.000",
			Failure: &failure{Message: "package failed to build or run", Type: "go.build", Body: out}})
	}
	sort.Strings(pkgs)
	var doc testsuites
	for i, p := range pkgs {
		s := byPkg[p]
		s.ID = i
		doc.Suites = append(doc.Suites, *s)
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

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func fmtSeconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, " | ")
}
