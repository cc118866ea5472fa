package build

import (
	"fmt"
	"sort"
	"strings"
)

// Platform is an OCI platform "os/arch[/variant]" that Go can target.
type Platform struct {
	OS, Arch, Variant string
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Arch
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// DefaultPlatforms are built when the user names none.
var DefaultPlatforms = []string{"linux/amd64", "linux/arm64"}

// goArch maps OCI os/arch to what Go supports for container images. Only
// linux targets make sense for a container base image.
var goArch = map[string][]string{
	"amd64":   nil,
	"arm64":   {"v8"},
	"arm":     {"v6", "v7"},
	"386":     nil,
	"ppc64le": nil,
	"s390x":   nil,
	"riscv64": nil,
}

// ParsePlatform validates one platform string.
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 {
		return Platform{}, fmt.Errorf("platform %q: want os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm/v7", s)
	}
	p := Platform{OS: parts[0], Arch: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	if p.OS != "linux" {
		return Platform{}, fmt.Errorf("platform %q: paved builds Linux container images; the os must be linux", s)
	}
	variants, ok := goArch[p.Arch]
	if !ok {
		return Platform{}, fmt.Errorf("platform %q: unknown architecture %q (known: %s)", s, p.Arch, strings.Join(knownArches(), ", "))
	}
	if p.Variant != "" && !contains(variants, p.Variant) {
		if len(variants) == 0 {
			return Platform{}, fmt.Errorf("platform %q: architecture %s takes no variant", s, p.Arch)
		}
		return Platform{}, fmt.Errorf("platform %q: unknown variant %q for %s (known: %s)", s, p.Variant, p.Arch, strings.Join(variants, ", "))
	}
	if p.Arch == "arm" && p.Variant == "" {
		p.Variant = "v7"
	}
	return p, nil
}

// ParsePlatforms validates a list and refuses duplicates. An empty list
// gives DefaultPlatforms.
func ParsePlatforms(in []string) ([]Platform, error) {
	if len(in) == 0 {
		in = DefaultPlatforms
	}
	var out []Platform
	seen := map[string]bool{}
	for _, s := range in {
		p, err := ParsePlatform(s)
		if err != nil {
			return nil, err
		}
		if seen[p.String()] {
			return nil, fmt.Errorf("platform %q is listed twice", s)
		}
		seen[p.String()] = true
		out = append(out, p)
	}
	return out, nil
}

// GoEnv is the environment that makes the Go toolchain cross-compile for p.
func (p Platform) GoEnv() map[string]string {
	env := map[string]string{"GOOS": p.OS, "GOARCH": p.Arch}
	switch {
	case p.Arch == "arm":
		env["GOARM"] = strings.TrimPrefix(p.Variant, "v")
	case p.Arch == "arm64" && p.Variant != "":
		env["GOARM64"] = p.Variant + ".0"
	}
	return env
}

func knownArches() []string {
	var out []string
	for a := range goArch {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
