package test

import (
	"context"
	"encoding/xml"
	"fmt"
	"path"
	"strings"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/build"
	"github.com/paved-ci/paved/pipelines/gotool"
)

// DockerReportPath is where a Dockerfile's test stage may leave JUnit XML.
const DockerReportPath = "/reports/junit.xml"

// DockerOptions configure tests of a Dockerfile app.
type DockerOptions struct {
	Dir        string
	Dockerfile string
	// Target is the stage to test in; default "test" when the Dockerfile
	// has one, else the final stage (then Command is required).
	Target string
	// Command runs in the target with sh -c ("npm test"). Without it the
	// target's own RUN steps are the tests.
	Command   string
	BuildArgs []dagger.BuildArg
	Secrets   []*dagger.Secret
}

// DockerResult of a test run.
type DockerResult struct {
	Target   string
	Command  string
	ExitCode int
	Output   string
	// JUnit is the report the tests left at DockerReportPath, if any.
	JUnit  *dagger.File
	Counts JUnitCounts
}

// Check turns a failed run into an error naming failing tests when a
// report names them.
func (r *DockerResult) Check() error {
	if r.ExitCode == 0 && r.Counts.Failures == 0 {
		return nil
	}
	if len(r.Counts.Failing) > 0 {
		return fmt.Errorf("%d failing:\n  %s", len(r.Counts.Failing), strings.Join(r.Counts.Failing, "\n  "))
	}
	return fmt.Errorf("test command %q exited %d:\n%s", r.Command, r.ExitCode, lastLines(r.Output, 20))
}

// Dockerfile runs the tests of a Dockerfile app on the engine's native
// platform.
func Dockerfile(ctx context.Context, src *dagger.Directory, opts DockerOptions) (*DockerResult, error) {
	if err := gotool.CheckDir(opts.Dir); err != nil {
		return nil, err
	}
	dir := gotool.CleanDir(opts.Dir)
	df := opts.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	body, err := src.File(path.Join(dir, df)).Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path.Join(dir, df), err)
	}
	stages := build.Stages(body)
	target := strings.ToLower(opts.Target)
	if target == "" {
		for _, s := range stages {
			if s == "test" {
				target = "test"
			}
		}
	} else if !contains(stages, target) {
		return nil, fmt.Errorf("test target %q is not a stage of %s (stages: %s)", opts.Target, path.Join(dir, df), strings.Join(stages, ", "))
	}
	if target == "" && opts.Command == "" {
		return nil, fmt.Errorf("%s has no stage named test and no test command was given: paved does not pass an app without tests. Add `FROM ... AS test` with a RUN of the tests, pass --test-command, or skip the stage with --skip=test", path.Join(dir, df))
	}
	if dir == "" {
		dir = "."
	}
	ctr := src.Directory(dir).DockerBuild(dagger.DirectoryDockerBuildOpts{
		Dockerfile: df, Target: target, BuildArgs: opts.BuildArgs, Secrets: opts.Secrets,
	})
	res := &DockerResult{Target: target, Command: opts.Command}
	if opts.Command != "" {
		ctr = ctr.WithExec([]string{"sh", "-c", opts.Command}, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		if res.ExitCode, err = ctr.ExitCode(ctx); err != nil {
			return nil, fmt.Errorf("running the test command: %w", err)
		}
		res.Output, _ = ctr.CombinedOutput(ctx)
	} else if _, err := ctr.Sync(ctx); err != nil {
		// the test stage's RUN failed: BuildKit's message carries its output
		return nil, fmt.Errorf("test stage %q of %s failed: %w", target, path.Join(dir, df), err)
	}
	if ok, _ := ctr.Exists(ctx, DockerReportPath); ok {
		res.JUnit = ctr.File(DockerReportPath)
		x, err := res.JUnit.Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", DockerReportPath, err)
		}
		if res.Counts, err = CountJUnit([]byte(x)); err != nil {
			return nil, fmt.Errorf("%s: %w", DockerReportPath, err)
		}
	}
	return res, nil
}

// JUnitCounts summarises a JUnit XML report from any tool.
type JUnitCounts struct {
	Tests, Failures, Skipped int
	Failing                  []string
}

// CountJUnit reads a JUnit XML report (<testsuites> or a lone <testsuite>,
// nested suites included, as pytest and node write them).
func CountJUnit(b []byte) (JUnitCounts, error) {
	type tc struct {
		Name      string    `xml:"name,attr"`
		Classname string    `xml:"classname,attr"`
		Failure   *struct{} `xml:"failure"`
		Error     *struct{} `xml:"error"`
		Skipped   *struct{} `xml:"skipped"`
	}
	type suite struct {
		Cases  []tc    `xml:"testcase"`
		Suites []suite `xml:"testsuite"`
	}
	var root struct {
		XMLName xml.Name
		suite
	}
	if err := xml.Unmarshal(b, &root); err != nil {
		return JUnitCounts{}, fmt.Errorf("not JUnit XML: %v", err)
	}
	if root.XMLName.Local != "testsuites" && root.XMLName.Local != "testsuite" {
		return JUnitCounts{}, fmt.Errorf("not JUnit XML: root element is <%s>, want <testsuites> or <testsuite>", root.XMLName.Local)
	}
	var c JUnitCounts
	var walk func(s suite)
	walk = func(s suite) {
		for _, t := range s.Cases {
			c.Tests++
			switch {
			case t.Failure != nil || t.Error != nil:
				c.Failures++
				name := t.Name
				if t.Classname != "" {
					name += " (" + t.Classname + ")"
				}
				c.Failing = append(c.Failing, name)
			case t.Skipped != nil:
				c.Skipped++
			}
		}
		for _, ss := range s.Suites {
			walk(ss)
		}
	}
	walk(root.suite)
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
