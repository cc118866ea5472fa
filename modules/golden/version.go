package main

import (
	_ "embed"

	"github.com/paved-ci/paved/pipelines/version"
)

// release is this module's VERSION file, which paved-platform release
// writes: run records name it instead of "dev".
//
//go:embed VERSION
var release string

func init() { version.Stamp(release) }
