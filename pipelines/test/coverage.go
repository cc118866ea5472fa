package test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/tools/cover"
)

// Coverage is the statement coverage of a cover profile.
type Coverage struct {
	Statements, Covered int
}

// Percent is the covered share in percent, 0 when there is nothing to cover.
func (c Coverage) Percent() float64 {
	if c.Statements == 0 {
		return 0
	}
	return 100 * float64(c.Covered) / float64(c.Statements)
}

// String is how CI tools read coverage (GitLab's coverage regex too):
// "coverage: 81.3% of statements".
func (c Coverage) String() string {
	return fmt.Sprintf("coverage: %.1f%% of statements", c.Percent())
}

// ParseProfile reads a `go test -coverprofile` file with golang.org/x/tools/cover
// (what `go tool cover` uses). A block listed twice (several packages'
// profiles merged) counts once, covered if any run covered it.
func ParseProfile(b []byte) (Coverage, error) {
	profiles, err := cover.ParseProfilesFromReader(bytes.NewReader(b))
	if err != nil {
		return Coverage{}, fmt.Errorf("cover profile%s: %w (is this a go test -coverprofile file? it starts with a mode line such as \"mode: set\")", lineOf(b, err), err)
	}
	var c Coverage
	for _, p := range profiles {
		for _, bl := range p.Blocks {
			c.Statements += bl.NumStmt
			if bl.Count > 0 {
				c.Covered += bl.NumStmt
			}
		}
	}
	return c, nil
}

// quotedLine finds the line x/tools/cover quotes in its error.
var quotedLine = regexp.MustCompile(`line "((?:[^"\\]|\\.)*)"`)

// lineOf is " line N" for the profile line err quotes, so the error says
// where; "" when it quotes none.
func lineOf(b []byte, err error) string {
	m := quotedLine.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == m[1] {
			return fmt.Sprintf(" line %d", i+1)
		}
	}
	return ""
}
