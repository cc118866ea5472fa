package gitmeta

import (
	"strconv"
	"strings"
)

// Semver is a parsed vMAJOR.MINOR.PATCH[-PRE][+BUILD] tag.
type Semver struct {
	Major, Minor, Patch int
	Pre                 string // without the "-"
	Raw                 string
}

// ParseSemver parses a tag with or without the leading v. ok is false for
// anything that is not semver 2.0.0 (leading zeros included).
func ParseSemver(tag string) (Semver, bool) {
	s := strings.TrimPrefix(tag, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if !validIdents(s[i+1:], false) {
			return Semver{}, false
		}
		s = s[:i]
	}
	var pre string
	if i := strings.IndexByte(s, '-'); i >= 0 {
		pre = s[i+1:]
		if !validIdents(pre, true) {
			return Semver{}, false
		}
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Semver{}, false
	}
	var n [3]int
	for i, p := range parts {
		if !numeric(p) {
			return Semver{}, false
		}
		n[i], _ = strconv.Atoi(p)
	}
	return Semver{Major: n[0], Minor: n[1], Patch: n[2], Pre: pre, Raw: tag}, true
}

func numeric(p string) bool {
	if p == "" || (len(p) > 1 && p[0] == '0') || len(p) > 9 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validIdents(s string, noLeadingZero bool) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		allDigits := true
		for _, c := range id {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				allDigits = false
			default:
				return false
			}
		}
		if noLeadingZero && allDigits && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// Compare orders a and b by semver precedence: -1, 0 or 1.
func Compare(a, b Semver) int {
	for _, d := range [3]int{a.Major - b.Major, a.Minor - b.Minor, a.Patch - b.Patch} {
		if d != 0 {
			return sign(d)
		}
	}
	switch {
	case a.Pre == b.Pre:
		return 0
	case a.Pre == "":
		return 1
	case b.Pre == "":
		return -1
	}
	ap, bp := strings.Split(a.Pre, "."), strings.Split(b.Pre, ".")
	for i := 0; i < len(ap) && i < len(bp); i++ {
		an, aerr := strconv.Atoi(ap[i])
		bn, berr := strconv.Atoi(bp[i])
		switch {
		case aerr == nil && berr == nil:
			if an != bn {
				return sign(an - bn)
			}
		case aerr == nil:
			return -1 // numeric identifiers sort first
		case berr == nil:
			return 1
		default:
			if c := strings.Compare(ap[i], bp[i]); c != 0 {
				return c
			}
		}
	}
	return sign(len(ap) - len(bp))
}

func sign(d int) int {
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}

// HighestSemver returns the tag of highest precedence among tags that
// parse, or "".
func HighestSemver(tags []string) string {
	var best Semver
	found := false
	for _, t := range tags {
		v, ok := ParseSemver(t)
		if !ok {
			continue
		}
		if !found || Compare(v, best) > 0 {
			best, found = v, true
		}
	}
	if !found {
		return ""
	}
	return best.Raw
}
