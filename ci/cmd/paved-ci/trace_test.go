package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paved-ci/paved/pipelines/results"
	"github.com/paved-ci/paved/pipelines/spans"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	trace "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestHelperDagger stands in for the dagger CLI when the trace tests run
// this test binary as the wrapped command: it exports a results directory
// and sends spans to the endpoint in its environment, as dagger does.
func TestHelperDagger(t *testing.T) {
	mode := os.Getenv("PAVED_CI_FAKE_DAGGER")
	if mode == "" {
		t.Skip("PAVED_CI_FAKE_DAGGER is not set: this test is the fake dagger the trace tests run as their command, not a test of its own")
	}
	dir := os.Getenv("FAKE_RESULTS")
	run := results.New(time.Unix(0, 0))
	run.Add(results.Stage{Name: "build", Status: results.Passed})
	run.Add(results.Stage{Name: "test", Status: results.Failed})
	run.Add(results.Stage{Name: "scan", Status: results.Skipped})
	if err := run.Write(dir); err != nil {
		panic(err)
	}
	if mode != "silent" {
		req := exportRequest(mode == "cached-whole")
		b, _ := proto.Marshal(req)
		resp, err := http.Post(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), "application/x-protobuf", bytes.NewReader(b))
		if err != nil || resp.StatusCode != 200 || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") != "http/protobuf" {
			panic("export failed")
		}
	}
	code, _ := strconv.Atoi(os.Getenv("FAKE_EXIT"))
	os.Stdout.WriteString("dagger output\n")
	os.Exit(code)
}

// exportRequest is a check run: build asks for three execs, two of them
// cached; test for one that ran; scan was skipped. wholeCached leaves out
// the stage spans, as when the engine answers the module call from cache.
func exportRequest(wholeCached bool) *coltrace.ExportTraceServiceRequest {
	var list []*trace.Span
	add := func(id, parent byte, name string, cached bool) {
		s := &trace.Span{TraceId: bytes.Repeat([]byte{1}, 16), SpanId: []byte{0, 0, 0, 0, 0, 0, 0, id}, Name: name}
		if parent != 0 {
			s.ParentSpanId = []byte{0, 0, 0, 0, 0, 0, 0, parent}
		}
		if name == spans.ExecSpan {
			s.Attributes = append(s.Attributes, &common.KeyValue{Key: spans.DigestAttr, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: "xxh3:" + name}}})
		}
		if cached {
			s.Attributes = append(s.Attributes, &common.KeyValue{Key: spans.CachedAttr, Value: &common.AnyValue{Value: &common.AnyValue_BoolValue{BoolValue: true}}})
		}
		list = append(list, s)
	}
	add(1, 0, "check", false)
	add(2, 1, "Paved.check", wholeCached)
	if !wholeCached {
		add(3, 2, "paved build", false)
		add(4, 3, spans.ExecSpan, true)
		add(5, 3, spans.ExecSpan, true)
		add(6, 3, spans.ExecSpan, false)
		add(7, 2, "paved test", false)
		add(8, 7, spans.ExecSpan, false)
	}
	return &coltrace.ExportTraceServiceRequest{ResourceSpans: []*trace.ResourceSpans{{ScopeSpans: []*trace.ScopeSpans{{Spans: list}}}}}
}

func traceCall(t *testing.T, mode string, exit int, env map[string]string, extra ...string) (string, int, string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "paved-results")
	t.Setenv("PAVED_CI_FAKE_DAGGER", mode)
	t.Setenv("FAKE_RESULTS", dir)
	t.Setenv("FAKE_EXIT", strconv.Itoa(exit))
	args := append([]string{"trace", "--results", dir}, extra...)
	args = append(args, "--", os.Args[0], "-test.run=^TestHelperDagger$")
	code, stdout, stderr := call(env, args...)
	return dir, code, stdout, stderr
}

func TestTraceWritesCacheCounts(t *testing.T) {
	saved := filepath.Join(t.TempDir(), "spans.jsonl")
	dir, code, stdout, stderr := traceCall(t, "spans", 0, nil, "--save-spans", saved)
	if code != exitOK || !strings.Contains(stdout, "dagger output") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	run, err := results.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	build, test, scan := run.Stages[0].Cache, run.Stages[1].Cache, run.Stages[2].Cache
	if build == nil || *build != (results.Cache{Hits: 2, Misses: 1}) || test == nil || *test != (results.Cache{Misses: 1}) || scan != nil {
		t.Errorf("cache counts build %+v test %+v scan %+v", build, test, scan)
	}
	for _, want := range []string{"8 spans", "  build                     2     1\n", "  test                      0     1\n", "cache counts written to " + filepath.Join(dir, "results.json")} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if back, err := spans.ReadJSONLines(f, saved); err != nil || len(back) != 8 {
		t.Errorf("--save-spans: %d spans, %v", len(back), err)
	}
}

func TestTraceKeepsTheCommandsExitStatus(t *testing.T) {
	dir, code, _, stderr := traceCall(t, "spans", 3, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
	if code != 3 {
		t.Errorf("exit %d, want the command's 3\n%s", code, stderr)
	}
	if run, _ := results.Read(dir); run == nil || run.Stages[0].Cache == nil {
		t.Error("a failed command's results still get their cache counts")
	}
	if !strings.Contains(stderr, "OTEL_EXPORTER_OTLP_ENDPOINT is set; the command's traces go to paved-ci") {
		t.Errorf("no warning about the redirected traces:\n%s", stderr)
	}
}

func TestTraceWithoutUsableSpans(t *testing.T) {
	for mode, want := range map[string]string{
		"silent":       "received no spans",
		"cached-whole": `no "paved <stage>" span among 2: Dagger answered the whole call from its cache`,
	} {
		dir, code, _, stderr := traceCall(t, mode, 0, nil)
		if code != exitOK || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want 0 and %q", mode, code, stderr, want)
		}
		if run, _ := results.Read(dir); run == nil || run.Stages[0].Cache != nil {
			t.Errorf("%s: results.json must be left without cache counts", mode)
		}
	}
}

func TestTraceMissingResultsIsAWarning(t *testing.T) {
	t.Setenv("PAVED_CI_FAKE_DAGGER", "spans")
	t.Setenv("FAKE_RESULTS", t.TempDir())
	t.Setenv("FAKE_EXIT", "0")
	code, _, stderr := call(nil, "trace", "--results", "/does/not/exist", "--", os.Args[0], "-test.run=^TestHelperDagger$")
	if code != exitOK || !strings.Contains(stderr, "/does/not/exist has no results.json") || !strings.Contains(stderr, "cache counts not recorded") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

func TestTraceBadInvocations(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trace"}, "no command to run: put it after --"},
		{[]string{"trace", "--results", "x", "--"}, "no command to run"},
		{[]string{"trace", "--", "/no/such/dagger", "call"}, "cannot run /no/such/dagger"},
		{[]string{"trace", "--bogus"}, "flag provided but not defined"},
	} {
		code, _, stderr := call(nil, c.args...)
		if code != exitError || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitError, c.want)
		}
	}
	if code, _, stderr := call(nil, "trace", "-h"); code != exitOK || !strings.Contains(stderr, "-save-spans") {
		t.Errorf("trace -h: %d %q", code, stderr)
	}
}
