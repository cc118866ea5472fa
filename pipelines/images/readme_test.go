package images

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's image table is the users' copy of the defaults; keep them equal.
func TestREADMEImageTableMatchesDefaults(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Images\n")
	if start < 0 {
		t.Fatal("README has no ## Images section")
	}
	text = text[start+1:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| `([^`]+)` \\|").FindAllStringSubmatch(text, -1)
	readme := map[string]string{}
	for _, r := range rows {
		readme[r[1]] = r[2]
	}
	for _, im := range Defaults() {
		got, ok := readme[im.Name]
		if !ok {
			t.Errorf("README image table has no row for %q", im.Name)
			continue
		}
		if got != im.Ref {
			t.Errorf("README says %s = %s, code says %s", im.Name, got, im.Ref)
		}
		delete(readme, im.Name)
	}
	for n := range readme {
		t.Errorf("README lists image %q that the code does not have", n)
	}
}
