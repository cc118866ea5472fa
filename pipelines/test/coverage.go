package test

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
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

// ParseProfile reads a `go test -coverprofile` file. A block listed twice
// (several packages' profiles merged) counts once, covered if any run
// covered it.
func ParseProfile(b []byte) (Coverage, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	type block struct{ stmts, count int }
	blocks := map[string]block{}
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		if line == 1 {
			if !strings.HasPrefix(t, "mode: ") {
				return Coverage{}, fmt.Errorf("cover profile line 1: %q is not a mode line; is this a go test -coverprofile file?", t)
			}
			continue
		}
		// file.go:1.2,3.4 stmts count
		f := strings.Fields(t)
		if len(f) != 3 {
			return Coverage{}, fmt.Errorf("cover profile line %d: %q: want \"file:range statements count\"", line, t)
		}
		st, err1 := strconv.Atoi(f[1])
		n, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			return Coverage{}, fmt.Errorf("cover profile line %d: %q: statements and count must be numbers", line, t)
		}
		b := blocks[f[0]]
		b.stmts = st
		b.count += n
		blocks[f[0]] = b
	}
	if err := sc.Err(); err != nil {
		return Coverage{}, err
	}
	var c Coverage
	for _, b := range blocks {
		c.Statements += b.stmts
		if b.count > 0 {
			c.Covered += b.stmts
		}
	}
	return c, nil
}
