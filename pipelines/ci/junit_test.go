package ci

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseJUnitDialects(t *testing.T) {
	// pytest style: a bare <testsuite>, file/line attributes, <error>.
	j, err := parseJUnit(strings.NewReader(`<testsuite name="pytest" tests="2">
  <testcase classname="tests.test_app" name="test_ok" file="tests/test_app.py" line="3"/>
  <testcase classname="tests.test_app" name="test_bad" file="tests/test_app.py" line="9">
    <failure message="assert 1 == 2">tests/test_app.py:11: AssertionError</failure>
  </testcase>
</testsuite>`), "p")
	if err != nil {
		t.Fatal(err)
	}
	if j.Tests != 2 || len(j.Failures) != 1 {
		t.Fatalf("%+v", j)
	}
	f := j.Failures[0]
	if f.File != "tests/test_app.py" || f.Line != 9 || f.Message != "assert 1 == 2" || f.Suite != "pytest" {
		t.Errorf("%+v", f)
	}
	// Nested suites and a failure with text only.
	j, err = parseJUnit(strings.NewReader(`<testsuites><testsuite name="outer"><testsuite name="inner">
  <testcase name="t1"><failure>    x_test.go:5: boom
more</failure></testcase></testsuite>
  <testcase name="t2"><skipped/></testcase></testsuite></testsuites>`), "n")
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Failures) != 1 || j.Failures[0].Suite != "inner" || j.Failures[0].File != "x_test.go" || j.Failures[0].Line != 5 || j.Failures[0].Message != "boom" || j.Tests != 2 {
		t.Errorf("%+v", j)
	}
}

func TestParseJUnitRejects(t *testing.T) {
	for body, want := range map[string]string{
		"":                       "empty JUnit",
		"<html></html>":          "root element is <html>",
		"<testsuites><testcase>": "not a readable JUnit XML",
	} {
		if _, err := parseJUnit(strings.NewReader(body), "j.xml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

func TestUnreadableJUnitIsReportedNotFatal(t *testing.T) {
	dir := sample(t, nil)
	writeFile(t, filepath.Join(dir, "junit.xml"), "<html/>")
	b := load(t, dir)
	if md := Markdown(b); !strings.Contains(md, "JUnit report unreadable") {
		t.Errorf("summary hides the bad report:\n%s", md)
	}
}

func TestLocate(t *testing.T) {
	src := checkout(t)
	for _, c := range []struct{ file, class, want string }{
		{"greet_test.go", "example.com/hello/internal/greet", "internal/greet/greet_test.go"},
		{"internal/greet/greet_test.go", "", "internal/greet/greet_test.go"},
		{"./go.mod", "", "go.mod"},
		{filepath.Join(src.Root, "go.mod"), "", "go.mod"},
		{"greet_test.go", "other.org/x", ""},
		{"usr/lib/libssl.so.3", "", ""},
		{"/etc/passwd", "", ""},
		{"", "", ""},
	} {
		if got := src.Locate(c.file, c.class); got != c.want {
			t.Errorf("Locate(%q, %q) = %q, want %q", c.file, c.class, got, c.want)
		}
	}
}

func BenchmarkReadJUnit(b *testing.B) {
	var w strings.Builder
	w.WriteString(`<testsuites><testsuite name="big">`)
	for i := 0; i < 5000; i++ {
		if i%10 == 0 {
			fmt.Fprintf(&w, `<testcase classname="p" name="T%d"><failure message="m">    x_test.go:%d: bad</failure></testcase>`, i, i)
		} else {
			fmt.Fprintf(&w, `<testcase classname="p" name="T%d"/>`, i)
		}
	}
	w.WriteString(`</testsuite></testsuites>`)
	body := w.String()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := parseJUnit(strings.NewReader(body), "b"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkdown(b *testing.B) {
	bundle := load(b, sample(b, nil))
	for b.Loop() {
		_ = Markdown(bundle)
	}
}

// With --source pointing at a subdirectory, annotations still name files
// from the repository root (the working directory of a CI step).
func TestRepoPathFromSubdirectory(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "services/api/go.mod"), "module example.com/api\n")
	writeFile(t, filepath.Join(repo, "services/api/h/h_test.go"), "package h\n")
	t.Chdir(repo)
	src := &Source{Root: "services/api"}
	p := src.Locate("h_test.go", "example.com/api/h")
	if p != "h/h_test.go" {
		t.Fatalf("Locate = %q", p)
	}
	if got := src.RepoPath(p); got != "services/api/h/h_test.go" {
		t.Errorf("RepoPath = %q", got)
	}
	outside := &Source{Root: t.TempDir()}
	if got := outside.RepoPath("x.go"); got != "x.go" {
		t.Errorf("root outside the working directory: %q", got)
	}
}
