// Package version says which paved a run used, for run records.
package version

import "runtime/debug"

// Module is paved's Go module path.
const Module = "github.com/paved-ci/paved"

// Fallback is used when the build carries no module version: inside a
// Dagger module paved is built from source through a replace directive.
// The release of the root module sets it.
var Fallback = "dev"

// Get returns paved's version: the module version Go recorded (a program
// that requires paved, or go run ...@vX), else Fallback.
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
	return Fallback
}
