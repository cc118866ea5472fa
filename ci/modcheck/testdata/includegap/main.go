// A module whose include list loads pipelines/ but not internal/, which the
// tests of paved's build package import: go mod tidy (dagger develop) fails
// on the engine, and modcheck must fail the same way.
package main

import (
	"github.com/paved-ci/paved/pipelines/build"
)

type Includegap struct{}

// Binary is where the golden path puts the binary in the image.
func (m *Includegap) Binary() string { return build.BinPath }
