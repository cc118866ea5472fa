package policy

import (
	"strings"
	"testing"
)

func TestPlatformMandatedStages(t *testing.T) {
	p, err := ParsePlatform("platform.yaml", []byte("threshold: HIGH\nmandatedStages: [scan, sign]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.MandatedStages, ",") != "scan,sign" {
		t.Errorf("mandated %v", p.MandatedStages)
	}
	for doc, want := range map[string]string{
		"mandatedStages: scan\n":          "platform.yaml:1: mandatedStages must be a list",
		"mandatedStages: [scan, build]\n": `platform.yaml:1: mandatedStages: "build" is not a stage that can be skipped`,
	} {
		if _, err := ParsePlatform("platform.yaml", []byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", doc, err, want)
		}
	}
}
