package images

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The documentation's image table (docs/images.md, linked from the README)
// is the users' copy of the defaults; keep them equal.
func TestREADMEImageTableMatchesDefaults(t *testing.T) {
	const page = "../../docs/images.md"
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.HasPrefix(text, "# Images\n") {
		t.Fatalf("%s does not start with the # Images heading", page)
	}
	// the section under the title, up to its first subsection if it gets one
	if end := strings.Index(text, "\n## "); end >= 0 {
		text = text[:end]
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| `([^`]+)` \\|").FindAllStringSubmatch(text, -1)
	readme := map[string]string{}
	for _, r := range rows {
		readme[r[1]] = r[2]
	}
	for _, im := range Defaults() {
		got, ok := readme[im.Name]
		if !ok {
			t.Errorf("%s image table has no row for %q", page, im.Name)
			continue
		}
		if got != im.Ref {
			t.Errorf("%s says %s = %s, code says %s", page, im.Name, got, im.Ref)
		}
		delete(readme, im.Name)
	}
	for n := range readme {
		t.Errorf("%s lists image %q that the code does not have", page, n)
	}
}
