package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/daggertest"
)

// A real JUnit report from node's test runner (node is on the build
// machines; the test skips where it is not).
func TestCountJUnitReadsNodesReport(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: node's JUnit reporter not exercised")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.test.mjs"), []byte(`import test from 'node:test';
import assert from 'node:assert';
test('adds', () => assert.equal(1 + 1, 2));
test('breaks', () => assert.equal(1 + 1, 3));
test('later', { skip: 'not yet' }, () => {});
test('group', async (t) => { await t.test('inner ok', () => {}); });
`), 0o644)
	out := filepath.Join(dir, "junit.xml")
	cmd := exec.Command(node, "--test", "--test-reporter=junit", "--test-reporter-destination="+out, "a.test.mjs")
	cmd.Dir = dir
	cmd.Run() // exits 1: one test fails on purpose
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("node wrote no report: %v", err)
	}
	c, err := CountJUnit(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tests != 4 || c.Failures != 1 || c.Skipped != 1 || len(c.Failing) != 1 || !strings.HasPrefix(c.Failing[0], "breaks") {
		t.Errorf("%+v", c)
	}
}

func TestCountJUnitReadsOurOwnReportAndRejectsOtherXML(t *testing.T) {
	rep, err := ParseJSON(realRun(t).json)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := rep.JUnit()
	c, err := CountJUnit(x)
	if err != nil {
		t.Fatal(err)
	}
	tests, failed, _ := rep.Counts()
	if c.Tests != tests+len(rep.BuildFailures) || c.Failures != failed+len(rep.BuildFailures) {
		t.Errorf("counted %+v from a report of %d tests, %d failed, %d build failures", c, tests, failed, len(rep.BuildFailures))
	}
	if _, err := CountJUnit([]byte("<html></html>")); err == nil || !strings.Contains(err.Error(), "<html>") {
		t.Errorf("html accepted: %v", err)
	}
	if _, err := CountJUnit([]byte("{}")); err == nil {
		t.Error("JSON accepted")
	}
}

const dockerfileWithTest = `FROM node:22-alpine AS deps
RUN npm ci
FROM deps AS Test
RUN npm test
FROM node:22-alpine
COPY --from=deps /app /app
`

func dockerAnswers(df string, extra ...daggertest.Answer) []daggertest.Answer {
	return append(extra,
		daggertest.On("exists", true),
		daggertest.OnPath(df, "file", "contents"),
	)
}

func TestQueryDockerTestBuildsTheTestStageWithSecrets(t *testing.T) {
	client, conn := daggertest.New(t, dockerAnswers(dockerfileWithTest,
		func(l daggertest.Leaf) (any, bool) {
			if l.Name() == "contents" && strings.Contains(l.Query, "junit.xml") {
				return `<testsuites><testcase name="t1"/><testcase name="t2"><failure/></testcase></testsuites>`, true
			}
			return nil, false
		})...)
	secret := client.Secret("env://NPM_TOKEN")
	res, err := Dockerfile(t.Context(), client.Directory(), DockerOptions{Dir: "examples/node-api", Secrets: []*dagger.Secret{secret}})
	if err != nil {
		t.Fatal(err)
	}
	q := conn.AssertQueried(t, `directory(path:"examples/node-api"){dockerBuild(`, `dockerfile:"Dockerfile"`, `target:"test"`, `secrets:["id`)
	if !strings.Contains(q, `secret(uri:\"env://NPM_TOKEN\")`) {
		t.Error("the secret is not passed by reference")
	}
	if res.Target != "test" || res.Counts.Failures != 1 {
		t.Errorf("%+v", res)
	}
	if err := res.Check(); err == nil || !strings.Contains(err.Error(), "1 failing") || !strings.Contains(err.Error(), "t2") {
		t.Errorf("check: %v", err)
	}
}

func TestQueryDockerTestNeedsATestStageOrCommand(t *testing.T) {
	client, _ := daggertest.New(t, dockerAnswers("FROM alpine\nRUN true\n")...)
	_, err := Dockerfile(t.Context(), client.Directory(), DockerOptions{Dir: "app"})
	if err == nil || !strings.Contains(err.Error(), "no stage named test") || !strings.Contains(err.Error(), "--test-command") {
		t.Errorf("err %v", err)
	}
	_, err = Dockerfile(t.Context(), client.Directory(), DockerOptions{Dir: "app", Target: "unit"})
	if err == nil || !strings.Contains(err.Error(), `test target "unit" is not a stage`) {
		t.Errorf("err %v", err)
	}
}

func TestQueryDockerTestCommandFailureShowsItsOutput(t *testing.T) {
	client, conn := daggertest.New(t, dockerAnswers("FROM python:3.12-slim\n",
		daggertest.On("exitCode", 2),
		daggertest.On("combinedOutput", "collected 3 items\nFAILED tests/test_api.py::test_items\n"),
		func(l daggertest.Leaf) (any, bool) {
			if l.Name() == "exists" && strings.Contains(l.Query, "junit.xml") {
				return false, true
			}
			return nil, false
		})...)
	res, err := Dockerfile(t.Context(), client.Directory(), DockerOptions{Command: "pytest -q"})
	if err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `withExec(args:["sh","-c","pytest -q"], expect:ANY)`)
	if err := res.Check(); err == nil || !strings.Contains(err.Error(), "FAILED tests/test_api.py::test_items") || !strings.Contains(err.Error(), "exited 2") {
		t.Errorf("check: %v", err)
	}
}
