package report

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestJSONStringEscapingMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "é ü 漢字 🚀", "bad \xff\xfe utf8 \xc3", "line\u2028sep\u2029para",
		"Package: lodash\nLink: [CVE](https://x/?a=1&b=2)",
	} {
		for _, c := range []struct {
			name string
			got  func(*jw)
			want string
		}{
			{"str", func(w *jw) { w.str(s) }, s},
			{"strs", func(w *jw) { w.strs(s, "|", s) }, s + "|" + s},
		} {
			var w jw
			c.got(&w)
			want, _ := json.Marshal(c.want)
			// encoding/json writes invalid UTF-8 as \ufffd, or (built with
			// GOEXPERIMENT=jsonv2) as U+FFFD itself: compare values then
			if utf8.ValidString(s) && string(w.b) != string(want) {
				t.Errorf("%s(%q) = %s, want %s", c.name, s, w.b, want)
			}
			var a, b string
			if err := json.Unmarshal(w.b, &a); err != nil {
				t.Errorf("%s(%q) = %s is not a JSON string: %v", c.name, s, w.b, err)
			}
			_ = json.Unmarshal(want, &b)
			if a != b {
				t.Errorf("%s(%q) decodes to %q, want %q", c.name, s, a, b)
			}
		}
	}
}
