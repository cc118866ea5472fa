package api

import (
	"fmt"
	"sort"
)

// Level is how much a change matters to callers.
type Level int

const (
	None Level = iota
	// Patch: nothing a caller can see.
	Patch
	// Minor: additions; old calls keep working.
	Minor
	// Major: an existing call can fail or behave differently.
	Major
)

func (l Level) String() string {
	return [...]string{"none", "patch", "minor", "major"}[l]
}

// Change is one difference between two APIs.
type Change struct {
	Level Level
	// What is a dotted path: Object.Function, Object.Function(arg), Object.field.
	What string
	Why  string
}

func (c Change) String() string { return fmt.Sprintf("%s: %s", c.What, c.Why) }

// Deprecation is an API element marked +deprecated, with its advice.
type Deprecation struct {
	What   string
	Advice string
}

// Diff is the comparison of a released API with the current one.
type Diff struct {
	Changes []Change
	// NewDeprecations are deprecated now and were not before.
	NewDeprecations []Deprecation
}

// Level is the highest level among the changes.
func (d Diff) Level() Level {
	l := None
	for _, c := range d.Changes {
		l = max(l, c.Level)
	}
	return l
}

// Breaking lists the changes that break callers.
func (d Diff) Breaking() []Change { return d.only(Major) }

// Additions lists the minor changes.
func (d Diff) Additions() []Change { return d.only(Minor) }

func (d Diff) only(l Level) []Change {
	var out []Change
	for _, c := range d.Changes {
		if c.Level == l {
			out = append(out, c)
		}
	}
	return out
}

// Compare lists what changed from old to cur. Objects are matched by name;
// the main object's rename is a break like any other removal.
func Compare(old, cur *API) Diff {
	var d Diff
	add := func(l Level, what, f string, a ...any) {
		d.Changes = append(d.Changes, Change{Level: l, What: what, Why: fmt.Sprintf(f, a...)})
	}
	if old.Main != cur.Main {
		add(Major, old.Main, "main object renamed to %s", cur.Main)
	}
	for _, oo := range old.Objects {
		co := cur.Object(oo.Name)
		if co == nil {
			add(Major, oo.Name, "object removed")
			continue
		}
		compareObject(oo, *co, add, &d)
	}
	for _, co := range cur.Objects {
		if old.Object(co.Name) == nil {
			add(Minor, co.Name, "object added")
			for _, f := range co.Functions {
				deprecated(&d, co.Name+"."+f.Name, "", f.Deprecated)
			}
		}
	}
	sort.SliceStable(d.Changes, func(i, j int) bool { return d.Changes[i].Level > d.Changes[j].Level })
	return d
}

func deprecated(d *Diff, what, old, cur string) {
	if cur != "" && old == "" {
		d.NewDeprecations = append(d.NewDeprecations, Deprecation{What: what, Advice: cur})
	}
}

func compareObject(oo, co Object, add func(Level, string, string, ...any), d *Diff) {
	deprecated(d, co.Name, oo.Deprecated, co.Deprecated)
	fields := map[string]Field{}
	for _, f := range co.Fields {
		fields[f.Name] = f
	}
	for _, of := range oo.Fields {
		what := oo.Name + "." + of.Name
		cf, ok := fields[of.Name]
		switch {
		case !ok:
			add(Major, what, "field removed")
		case cf.Type != of.Type:
			add(Major, what, "field type changed from %s to %s", of.Type, cf.Type)
		default:
			deprecated(d, what, of.Deprecated, cf.Deprecated)
		}
		delete(fields, of.Name)
	}
	for _, f := range co.Fields {
		if _, ok := fields[f.Name]; ok {
			add(Minor, oo.Name+"."+f.Name, "field added")
		}
	}
	fns := map[string]Function{}
	for _, f := range co.Functions {
		fns[f.Name] = f
	}
	for _, of := range oo.Functions {
		what := oo.Name + "." + of.Name
		cf, ok := fns[of.Name]
		delete(fns, of.Name)
		if !ok {
			add(Major, what, "function removed")
			continue
		}
		deprecated(d, what, of.Deprecated, cf.Deprecated)
		if cf.Returns != of.Returns {
			add(Major, what, "return type changed from %s to %s", of.Returns, cf.Returns)
		}
		compareArgs(what, of.Args, cf.Args, add, d)
	}
	for _, f := range co.Functions {
		if _, ok := fns[f.Name]; ok {
			add(Minor, oo.Name+"."+f.Name, "function added")
			deprecated(d, oo.Name+"."+f.Name, "", f.Deprecated)
		}
	}
}

func compareArgs(fn string, old, cur []Arg, add func(Level, string, string, ...any), d *Diff) {
	args := map[string]Arg{}
	for _, a := range cur {
		args[a.Name] = a
	}
	for _, oa := range old {
		what := fmt.Sprintf("%s(%s)", fn, oa.Name)
		ca, ok := args[oa.Name]
		delete(args, oa.Name)
		if !ok {
			add(Major, what, "argument removed")
			continue
		}
		deprecated(d, what, oa.Deprecated, ca.Deprecated)
		if ca.Type != oa.Type {
			add(Major, what, "type changed from %s to %s", oa.Type, ca.Type)
		}
		switch {
		case oa.Optional && !ca.Optional:
			add(Major, what, "optional argument made required")
		case !oa.Optional && ca.Optional:
			add(Minor, what, "required argument made optional")
		}
		if oa.Optional && ca.Optional && oa.Default != ca.Default {
			add(Major, what, "default changed from %q to %q", oa.Default, ca.Default)
		}
		if oa.DefaultPath != ca.DefaultPath && oa.Optional && ca.Optional {
			add(Major, what, "defaultPath changed from %q to %q", oa.DefaultPath, ca.DefaultPath)
		}
	}
	for _, a := range cur {
		if _, ok := args[a.Name]; !ok {
			continue
		}
		what := fmt.Sprintf("%s(%s)", fn, a.Name)
		deprecated(d, what, "", a.Deprecated)
		if a.Optional {
			add(Minor, what, "optional argument added")
		} else {
			add(Major, what, "required argument added")
		}
	}
}
