package spans

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	resource "go.opentelemetry.io/proto/otlp/resource/v1"
	trace "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// testdata/check-request.pb is the last trace export request, unchanged,
// that `dagger call ... check ... summary` (CLI and engine v0.21.9) sent
// to a loopback receiver on 2026-12-03: the top-level spans of the call.
func TestDecodeRealRequest(t *testing.T) {
	b, err := os.ReadFile("testdata/check-request.pb")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d spans, want 4: %+v", len(got), got)
	}
	byName := map[string]Span{}
	for _, s := range got {
		byName[s.Name] = s
		if s.TraceID != got[0].TraceID || len(s.TraceID) != 32 || len(s.ID) != 16 {
			t.Errorf("ids of %q: trace %q span %q", s.Name, s.TraceID, s.ID)
		}
	}
	check, post := byName["Paved.check"], byName["POST /query"]
	if check.Parent != post.ID || check.String(DigestAttr) != "xxh3:305cbd169041d75c" || check.Bool(CachedAttr) {
		t.Errorf("Paved.check = %+v", check)
	}
	if d := check.End.Sub(check.Start); d < 12*time.Second || d > 13*time.Second {
		t.Errorf("Paved.check took %v, the CLI showed 12.1s", d)
	}
	if post.Parent == "" || !post.Bool("dagger.io/ui.passthrough") {
		t.Errorf("POST /query = %+v", post)
	}
}

func id(n int, size int) []byte {
	b := make([]byte, size)
	b[size-1] = byte(n)
	return b
}

func str(s string) *common.AnyValue {
	return &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: s}}
}

// TestDecodeMatchesOfficialEncoder checks the hand-written reader against
// messages the OTLP protobuf types encode, with the fields it skips
// (resource, events, links, arrays) present.
func TestDecodeMatchesOfficialEncoder(t *testing.T) {
	start := time.Date(2026, 12, 3, 9, 0, 0, 123, time.UTC)
	req := &coltrace.ExportTraceServiceRequest{ResourceSpans: []*trace.ResourceSpans{
		{
			Resource: &resource.Resource{Attributes: []*common.KeyValue{{Key: "service.name", Value: str("dagger-cli")}}},
			ScopeSpans: []*trace.ScopeSpans{{
				Scope: &common.InstrumentationScope{Name: "dagger.io/dagql"},
				Spans: []*trace.Span{{
					TraceId: id(1, 16), SpanId: id(2, 8), ParentSpanId: id(3, 8), Name: "Container.withExec",
					StartTimeUnixNano: uint64(start.UnixNano()), EndTimeUnixNano: uint64(start.Add(1500 * time.Millisecond).UnixNano()),
					Attributes: []*common.KeyValue{
						{Key: CachedAttr, Value: &common.AnyValue{Value: &common.AnyValue_BoolValue{BoolValue: true}}},
						{Key: DigestAttr, Value: str("xxh3:abc")},
						{Key: "n", Value: &common.AnyValue{Value: &common.AnyValue_IntValue{IntValue: -7}}},
						{Key: "f", Value: &common.AnyValue{Value: &common.AnyValue_DoubleValue{DoubleValue: 2.5}}},
						{Key: "list", Value: &common.AnyValue{Value: &common.AnyValue_ArrayValue{ArrayValue: &common.ArrayValue{Values: []*common.AnyValue{str("x")}}}}},
					},
					Events: []*trace.Span_Event{{Name: "ev", TimeUnixNano: 5}},
					Links:  []*trace.Span_Link{{TraceId: id(9, 16), SpanId: id(9, 8)}},
					Status: &trace.Status{Code: trace.Status_STATUS_CODE_ERROR, Message: "exit code: 1"},
				}},
			}},
		},
		{ScopeSpans: []*trace.ScopeSpans{
			{Spans: []*trace.Span{{TraceId: id(1, 16), SpanId: id(3, 8), Name: "paved build", Status: &trace.Status{Code: trace.Status_STATUS_CODE_OK}}}},
			{Spans: []*trace.Span{{TraceId: id(1, 16), SpanId: id(4, 8), Name: "root"}}},
		}},
	}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d spans, want 3 from two resources and three scopes", len(got))
	}
	s := got[0]
	if s.TraceID != hex.EncodeToString(id(1, 16)) || s.ID != "0000000000000002" || s.Parent != "0000000000000003" || s.Name != "Container.withExec" {
		t.Errorf("ids/name: %+v", s)
	}
	if !s.Start.Equal(start) || s.End.Sub(s.Start) != 1500*time.Millisecond {
		t.Errorf("times: %v .. %v", s.Start, s.End)
	}
	if !s.Bool(CachedAttr) || s.String(DigestAttr) != "xxh3:abc" || s.Attrs["n"] != int64(-7) || s.Attrs["f"] != 2.5 || s.Attrs["list"] != nil || !s.Error {
		t.Errorf("attributes/status: %+v", s)
	}
	if got[1].Name != "paved build" || got[1].Parent != "" || got[1].Error || got[2].Name != "root" {
		t.Errorf("other spans: %+v", got[1:])
	}
}

func TestDecodeRejectsNonOTLP(t *testing.T) {
	good, _ := os.ReadFile("testdata/check-request.pb")
	for name, body := range map[string][]byte{
		"truncated": good[:len(good)/2],
		"json":      []byte(`{"resourceSpans": []}`),
		"varint":    {0x08, 0xff},
	} {
		if _, err := DecodeRequest(body); err == nil || !strings.Contains(err.Error(), "not an OTLP protobuf trace export") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if got, err := DecodeRequest(nil); err != nil || len(got) != 0 {
		t.Errorf("an empty request is valid and empty: %v %v", got, err)
	}
}

func TestJSONLinesRoundTrip(t *testing.T) {
	b, _ := os.ReadFile("testdata/check-request.pb")
	spans, _ := DecodeRequest(b)
	var buf bytes.Buffer
	if err := WriteJSONLines(&buf, spans); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSONLines(&buf, "x.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(spans) || back[2].Name != spans[2].Name || back[2].String(DigestAttr) != spans[2].String(DigestAttr) || !back[0].End.Equal(spans[0].End) {
		t.Errorf("round trip lost data:\n%+v\n%+v", spans, back)
	}
	if _, err := ReadJSONLines(strings.NewReader("{}\nnot json"), "bad.jsonl"); err == nil || !strings.Contains(err.Error(), "bad.jsonl: span 2") {
		t.Errorf("err = %v", err)
	}
}
