// A module with a hand-written go.mod and no go.sum, as paved once had:
// the engine cannot load it, and modcheck must fail it.
package main

import (
	"github.com/paved-ci/paved/pipelines/build"
)

type Handwritten struct{}

// Binary is where the golden path puts the binary in the image.
func (m *Handwritten) Binary() string { return build.BinPath }
