package report

import (
	"encoding/json"
	"testing"
)

func TestJSONStringEscapingMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "é ü 漢字 🚀", "bad \xff\xfe utf8 \xc3", "line\u2028sep\u2029para",
		"Package: lodash\nLink: [CVE](https://x/?a=1&b=2)",
	} {
		want, _ := json.Marshal(s)
		var w jw
		w.str(s)
		if string(w.b) != string(want) {
			t.Errorf("str(%q) = %s, want %s", s, w.b, want)
		}
		var w2 jw
		w2.strs(s, "|", s)
		if want2, _ := json.Marshal(s + "|" + s); string(w2.b) != string(want2) {
			t.Errorf("strs(%q) = %s, want %s", s, w2.b, want2)
		}
	}
}
