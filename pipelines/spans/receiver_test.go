package spans

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"strings"
	"testing"
)

func post(t *testing.T, url, ctype, encoding string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestReceiver(t *testing.T) {
	r, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.URL(), "http://127.0.0.1:") || !strings.HasSuffix(r.URL(), "/v1/traces") {
		t.Errorf("URL = %s: loopback only", r.URL())
	}
	env := strings.Join(r.Env(), " ")
	if !strings.Contains(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="+r.URL()) || !strings.Contains(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf") {
		t.Errorf("Env = %s", env)
	}
	body, _ := os.ReadFile("testdata/check-request.pb")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()

	if code := post(t, r.URL(), "application/x-protobuf", "", body); code != 200 {
		t.Errorf("protobuf: %d", code)
	}
	if code := post(t, r.URL(), "application/x-protobuf", "gzip", gz.Bytes()); code != 200 {
		t.Errorf("gzip protobuf: %d", code)
	}
	logs := strings.Replace(r.URL(), "/v1/traces", "/v1/logs", 1)
	if code := post(t, logs, "application/x-protobuf", "", []byte("whatever")); code != 200 {
		t.Errorf("logs are acknowledged and dropped: %d", code)
	}
	if code := post(t, r.URL(), "application/json", "", []byte(`{}`)); code != 400 {
		t.Errorf("json: %d, want 400", code)
	}
	if code := post(t, r.URL(), "application/x-protobuf", "", body[:len(body)/2]); code != 400 {
		t.Errorf("truncated: %d, want 400", code)
	}
	if resp, err := http.Get(r.URL()); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", resp, err)
	}
	if r.Requests() != 2 {
		t.Errorf("%d accepted trace requests, want 2", r.Requests())
	}
	spans, problems := r.Close()
	if len(spans) != 8 {
		t.Errorf("%d spans, want 4 from each accepted request", len(spans))
	}
	if len(problems) != 2 || !strings.Contains(problems[0], "http/protobuf") || !strings.Contains(problems[1], "not an OTLP protobuf") {
		t.Errorf("problems = %q", problems)
	}
	if _, err := http.Get(r.URL()); err == nil {
		t.Error("the receiver still listens after Close")
	}
}
