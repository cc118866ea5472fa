package ci

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// TestFailure is one failed or errored test case from a JUnit XML report.
type TestFailure struct {
	Suite, Class, Name string
	// File and Line locate the failure when the report or its text says
	// where (Line 0: unknown).
	File    string
	Line    int
	Message string
	Detail  string
	Error   bool // <error> rather than <failure>
}

// Title is the test's display name.
func (f TestFailure) Title() string {
	switch {
	case f.Class != "" && f.Name != "":
		return f.Class + "." + f.Name
	case f.Name != "":
		return f.Name
	}
	return f.Suite
}

// JUnit is what ReadJUnit extracts.
type JUnit struct {
	Tests    int
	Failures []TestFailure
}

// fileLine finds "name.ext:LINE:" as Go's testing, pytest and most runners
// print it at the start of a failure line.
var fileLine = regexp.MustCompile(`(?m)^\s*([^\s:]+\.[A-Za-z0-9]+):(\d+):`)

// ReadJUnit parses a JUnit XML file (<testsuites> or a bare <testsuite>,
// nested suites allowed) by streaming its tokens, so unknown elements and
// attributes of the many JUnit dialects are ignored rather than rejected.
func ReadJUnit(path string) (*JUnit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseJUnit(f, path)
}

func parseJUnit(r io.Reader, name string) (*JUnit, error) {
	dec := xml.NewDecoder(r)
	out := &JUnit{}
	var suites []string
	var tc *TestFailure // the current test case
	var inResult *TestFailure
	var detail strings.Builder
	sawRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not a readable JUnit XML file: %v", name, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !sawRoot {
				sawRoot = true
				if t.Name.Local != "testsuites" && t.Name.Local != "testsuite" {
					return nil, fmt.Errorf("%s: root element is <%s>, expected <testsuites> or <testsuite>", name, t.Name.Local)
				}
			}
			switch t.Name.Local {
			case "testsuite":
				suites = append(suites, attr(t, "name"))
			case "testcase":
				out.Tests++
				tc = &TestFailure{Class: attr(t, "classname"), Name: attr(t, "name"), File: attr(t, "file")}
				if len(suites) > 0 {
					tc.Suite = suites[len(suites)-1]
				}
				tc.Line, _ = strconv.Atoi(attr(t, "line"))
			case "failure", "error":
				if tc != nil && inResult == nil {
					f := *tc
					f.Error = t.Name.Local == "error"
					f.Message = attr(t, "message")
					inResult = &f
					detail.Reset()
				}
			}
		case xml.CharData:
			if inResult != nil {
				detail.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "failure", "error":
				if inResult != nil {
					inResult.Detail = strings.TrimSpace(detail.String())
					loc := fileLine.FindStringSubmatchIndex(inResult.Detail)
					if inResult.Line == 0 && loc != nil {
						d := inResult.Detail
						if name := d[loc[2]:loc[3]]; inResult.File == "" || filepath.Base(inResult.File) == name {
							inResult.File = name
						}
						inResult.Line, _ = strconv.Atoi(d[loc[4]:loc[5]])
					}
					// go-junit-report and gotestsum write message="Failed":
					// the located line says more.
					if m := strings.TrimSpace(inResult.Message); m == "" || strings.EqualFold(m, "failed") {
						if loc != nil {
							inResult.Message = firstLine(inResult.Detail[loc[1]:])
						} else if m == "" {
							inResult.Message = firstLine(inResult.Detail)
						}
					}
					out.Failures = append(out.Failures, *inResult)
					inResult = nil
				}
			case "testcase":
				tc = nil
			case "testsuite":
				if len(suites) > 0 {
					suites = suites[:len(suites)-1]
				}
			}
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%s: empty JUnit XML file", name)
	}
	return out, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// Source maps file names from reports to paths relative to the checked-out
// repository, which is what CI annotations need.
type Source struct {
	Root string // repository root on disk ("" or "." = working directory)
	// module is the Go module path read from Root/go.mod, if any.
	module string
	read   bool
}

func (s *Source) goModule() string {
	if s.read {
		return s.module
	}
	s.read = true
	b, err := os.ReadFile(filepath.Join(s.root(), "go.mod"))
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "module" {
			s.module = strings.Trim(f[1], `"`)
			break
		}
	}
	return s.module
}

func (s *Source) root() string {
	if s == nil || s.Root == "" {
		return "."
	}
	return s.Root
}

// RepoPath turns a path relative to the root into one relative to the
// working directory, which is the repository root in a CI step: GitHub
// annotations name files from there, and --source may be a subdirectory.
func (s *Source) RepoPath(rel string) string {
	abs, err := filepath.Abs(filepath.Join(s.root(), filepath.FromSlash(rel)))
	if err != nil {
		return rel
	}
	wd, err := os.Getwd()
	if err != nil {
		return rel
	}
	r, err := filepath.Rel(wd, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return rel
	}
	return filepath.ToSlash(r)
}

// exists reports whether rel names a regular file under the root.
func (s *Source) exists(rel string) bool {
	fi, err := os.Stat(filepath.Join(s.root(), filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular()
}

// Locate returns a repository-relative slash path for a file a report
// names, or "" when it is not a file of the checkout. Go test reports name
// only the base file ("x_test.go") and the package import path as class:
// the module path from go.mod turns that into a directory.
func (s *Source) Locate(file, class string) string {
	if file == "" {
		return ""
	}
	f := filepath.ToSlash(strings.TrimPrefix(file, "file://"))
	if filepath.IsAbs(filepath.FromSlash(f)) {
		abs, err := filepath.Abs(s.root())
		if err != nil {
			return ""
		}
		rel, err := filepath.Rel(abs, filepath.FromSlash(f))
		if err != nil || strings.HasPrefix(rel, "..") {
			return ""
		}
		f = filepath.ToSlash(rel)
	}
	f = strings.TrimPrefix(f, "./")
	if s.exists(f) {
		return f
	}
	if mod := s.goModule(); mod != "" && !strings.Contains(f, "/") {
		dir := ""
		switch {
		case class == mod:
		case strings.HasPrefix(class, mod+"/"):
			dir = strings.TrimPrefix(class, mod+"/") + "/"
		default:
			return ""
		}
		if s.exists(dir + f) {
			return dir + f
		}
	}
	return ""
}
