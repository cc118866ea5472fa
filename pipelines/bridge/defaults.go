package bridge

import (
	"errors"

	"github.com/paved-ci/paved/pipelines/gotool"
)

// A module's constructor sets what every function shares (source, images,
// Go module access, registry trust) once; each function keeps its own
// arguments, which win when given. These resolve the two.

// Or returns the function's own argument when it was given, else the
// constructor's.
func Or[T comparable](fn, ctor T) T {
	var zero T
	if fn != zero {
		return fn
	}
	return ctor
}

// OrList is Or for repeatable arguments: a given list replaces the
// constructor's whole list.
func OrList[T any](fn, ctor []T) []T {
	if len(fn) > 0 {
		return fn
	}
	return ctor
}

// ErrNoSource is returned when no source was given and dagger was not called
// inside a repository that could serve as one.
var ErrNoSource = errors.New("no source: pass --source=<repository root> (before the function name, or to the function)")

// Origin is where a module's default source came from.
type Origin[D comparable] struct {
	// Given is the constructor's --source.
	Given D
	// Workspace is the repository dagger was called in (the workspace
	// boundary), used when no source was given.
	Workspace D
	// WorkspacePath is the folder dagger was called from, relative to
	// Workspace: the default --dir, so a call from services/api in a
	// monorepo builds services/api.
	WorkspacePath string
}

// SourceAndDir picks a function's source and app folder: the function's
// --source, else the constructor's, else the workspace. Only with the
// workspace does an empty dir default to the folder dagger was called from;
// an explicit --source keeps dir relative to it.
func SourceAndDir[D comparable](fnSource D, dir string, o Origin[D]) (D, string, error) {
	var zero D
	switch {
	case fnSource != zero:
		return fnSource, dir, nil
	case o.Given != zero:
		return o.Given, dir, nil
	case o.Workspace != zero:
		if dir == "" {
			dir = gotool.CleanDir(o.WorkspacePath)
		}
		return o.Workspace, dir, nil
	}
	return zero, "", ErrNoSource
}
