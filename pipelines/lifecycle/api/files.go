package api

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/paved-ci/paved/pipelines/lifecycle"
)

// FixCommand regenerates every api.json; failure messages quote it.
const FixCommand = "go run ./ci/cmd/paved-platform api --write"

// Of extracts the API of module m in the repository at root.
func Of(root string, m lifecycle.Module) (*API, error) {
	a, err := Extract(filepath.Join(root, filepath.FromSlash(m.Source)), m.DaggerName, m.MainObject())
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	return a, nil
}

// Stale is a module whose checked-in api.json differs from its source.
type Stale struct {
	Module lifecycle.Module
	// Missing is set when there is no api.json at all.
	Missing bool
	Want    []byte
}

// Check compares every module's api.json with its source.
func Check(root string, mods []lifecycle.Module) ([]Stale, error) {
	var out []Stale
	for _, m := range mods {
		a, err := Of(root, m)
		if err != nil {
			return nil, err
		}
		want := a.Marshal()
		have, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.APIPath())))
		switch {
		case os.IsNotExist(err):
			out = append(out, Stale{Module: m, Missing: true, Want: want})
		case err != nil:
			return nil, err
		case !bytes.Equal(have, want):
			out = append(out, Stale{Module: m, Want: want})
		}
	}
	return out, nil
}

// Write regenerates the api.json of every module and returns the paths
// that changed.
func Write(root string, mods []lifecycle.Module) ([]string, error) {
	stale, err := Check(root, mods)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, s := range stale {
		p := s.Module.APIPath()
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(p)), s.Want, 0o644); err != nil {
			return changed, err
		}
		changed = append(changed, p)
	}
	return changed, nil
}

// Deprecations lists every deprecated element of a with its advice.
func (a *API) Deprecations() []Deprecation {
	var out []Deprecation
	for _, o := range a.Objects {
		if o.Deprecated != "" {
			out = append(out, Deprecation{o.Name, o.Deprecated})
		}
		for _, f := range o.Fields {
			if f.Deprecated != "" {
				out = append(out, Deprecation{o.Name + "." + f.Name, f.Deprecated})
			}
		}
		for _, fn := range o.Functions {
			if fn.Deprecated != "" {
				out = append(out, Deprecation{o.Name + "." + fn.Name, fn.Deprecated})
			}
			for _, arg := range fn.Args {
				if arg.Deprecated != "" {
					out = append(out, Deprecation{fmt.Sprintf("%s.%s(%s)", o.Name, fn.Name, arg.Name), arg.Deprecated})
				}
			}
		}
	}
	return out
}
