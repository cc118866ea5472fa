package release

import (
	"regexp"
	"strings"
)

// Commit is a conventional commit (https://www.conventionalcommits.org).
type Commit struct {
	Hash    string
	Type    string // feat, fix, perf, ...; "" when the header is not conventional
	Scope   string
	Subject string
	// Breaking is set by "type!:" or a BREAKING CHANGE footer.
	Breaking bool
	// BreakingNote is the BREAKING CHANGE footer's text.
	BreakingNote string
	// Migration is the body paragraph starting with "Migration:", without that word.
	Migration string
}

var header = regexp.MustCompile(`^([a-zA-Z]+)(?:\(([^)]*)\))?(!)?: *(.+)$`)

// ParseCommit reads a commit message. A non-conventional header is kept as
// Subject with an empty Type (it does not bump the version).
func ParseCommit(hash, msg string) Commit {
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	head, body, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	c := Commit{Hash: hash, Subject: strings.TrimSpace(head)}
	if m := header.FindStringSubmatch(c.Subject); m != nil {
		c.Type, c.Scope, c.Breaking, c.Subject = strings.ToLower(m[1]), m[2], m[3] == "!", strings.TrimSpace(m[4])
	}
	for _, para := range strings.Split(strings.TrimSpace(body), "\n\n") {
		para = strings.TrimSpace(para)
		for _, key := range []string{"BREAKING CHANGE:", "BREAKING-CHANGE:"} {
			if i := strings.Index(para, key); i >= 0 && (i == 0 || para[i-1] == '\n') && c.Type != "" {
				c.Breaking = true
				c.BreakingNote = strings.TrimSpace(para[i+len(key):])
			}
		}
		if rest, ok := strings.CutPrefix(para, "Migration:"); ok {
			c.Migration = strings.TrimSpace(rest)
		}
	}
	return c
}

// Bump is the version part a set of commits raises.
type Bump int

const (
	NoBump Bump = iota
	PatchBump
	MinorBump
	MajorBump
)

func (b Bump) String() string { return [...]string{"none", "patch", "minor", "major"}[b] }

// Bump is what this commit asks for: breaking → major, feat → minor,
// fix and perf → patch, anything else nothing.
func (c Commit) Bump() Bump {
	switch {
	case c.Breaking:
		return MajorBump
	case c.Type == "feat":
		return MinorBump
	case c.Type == "fix" || c.Type == "perf":
		return PatchBump
	}
	return NoBump
}
