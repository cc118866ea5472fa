// Package version says which paved a run used, for run records.
package version

import (
	"runtime/debug"
	"strings"
)

// Module is paved's Go module path.
const Module = "github.com/paved-ci/paved"

// Fallback is reported when neither Go nor a module's VERSION file knows
// the version: a tree build of paved itself.
const Fallback = "dev"

// stamped is the version a Dagger module read from its VERSION file.
var stamped string

// Stamp records the content of a module's VERSION file, which the module
// embeds: inside a Dagger module paved is built from source through a
// replace directive, so Go records no version. paved-platform release
// writes the tag's version there ("v1.2.0" at the tag, "v1.2.0+dev" after).
func Stamp(file string) {
	stamped = strings.TrimSpace(file)
}

// Get returns paved's version: the module version Go recorded (a program
// that requires paved, or go run ...@vX), else the stamped VERSION, else
// Fallback.
func Get() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == Module && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == Module && d.Replace == nil && d.Version != "" && d.Version != "(devel)" {
				return d.Version
			}
		}
	}
	if stamped != "" {
		return stamped
	}
	return Fallback
}
