package spans

import (
	"os"
	"testing"

	"github.com/paved-ci/paved/pipelines/results"
)

// testdata/check-run.jsonl is trimmed from the 370 spans of one real
// `dagger call ... check --dir=examples/hello-go ... summary` against
// engine v0.21.9 (2026-12-03): every stage span, every Container.withExec
// span and "resume withExec" span, one other engine call of each kind
// under a stage, and their ancestors; the dag.call and dag.inputs
// attributes were dropped for size. Build and test were warm (all execs
// cached); scan reran its two trivy execs and reused the DB download.
func TestCountRealCheckRun(t *testing.T) {
	f, err := os.Open("testdata/check-run.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := ReadJSONLines(f, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	c := Count(all)
	want := map[string]results.Cache{"build": {Hits: 3}, "test": {Hits: 1}, "scan": {Hits: 1, Misses: 2}}
	if len(c.Stages) != len(want) {
		t.Errorf("stages %v, want %v", c.Stages, want)
	}
	for name, w := range want {
		if c.Stages[name] != w {
			t.Errorf("%s = %+v, want %+v", name, c.Stages[name], w)
		}
	}
	// The module's own setup (SDK runtime, version detection) runs before
	// the first stage: one cached exec, one run.
	if c.Outside != (results.Cache{Hits: 1, Misses: 1}) || c.Spans != len(all) {
		t.Errorf("outside = %+v, spans %d", c.Outside, c.Spans)
	}
}

type tree struct{ spans []Span }

func (tr *tree) add(id, parent, name string, attrs map[string]any) {
	tr.spans = append(tr.spans, Span{ID: id, Parent: parent, Name: name, Attrs: attrs})
}

func call(cached bool) map[string]any {
	a := map[string]any{DigestAttr: "xxh3:1"}
	if cached {
		a[CachedAttr] = true
	}
	return a
}

func TestCountSynthetic(t *testing.T) {
	var tr tree
	tr.add("root", "", "check", nil)
	tr.add("mod", "root", "load module: paved", nil)
	tr.add("m1", "mod", ExecSpan, call(true)) // not a stage: outside
	tr.add("b", "root", "paved build", nil)
	tr.add("q", "b", "POST /query", nil)
	tr.add("b1", "q", ExecSpan, call(true))
	tr.add("b2", "q", ExecSpan, call(false))
	tr.add("b3", "q", ExecSpan, map[string]any{DigestAttr: "xxh3:2", CachedAttr: "true"}) // a string is not the engine's bool: a miss
	tr.add("b4", "q", "Container.from", call(true))                                       // not an exec
	tr.add("b5", "q", ExecSpan, map[string]any{CachedAttr: true})                         // no digest: not an engine call
	// A nested module that runs its own pipeline: its execs belong to its
	// nearest stage span.
	tr.add("inner", "q", "paved scan", nil)
	tr.add("s1", "inner", ExecSpan, call(false))
	// A second build span in the same trace (check, then ship) adds up.
	tr.add("b6", "root", "paved build", nil)
	tr.add("b7", "b6", ExecSpan, call(true))
	tr.add("t", "root", "paved test", nil) // ran, no exec
	tr.add("orphan", "lost", ExecSpan, call(false))
	tr.add("c1", "c2", "x", nil) // a parent cycle must not hang the walk
	tr.add("c2", "c1", "y", nil)
	tr.add("c3", "c1", ExecSpan, call(true))
	tr.add("odd", "root", "paved Build!", nil) // not a stage name
	tr.add("o1", "odd", ExecSpan, call(true))

	c := Count(tr.spans)
	want := map[string]results.Cache{"build": {Hits: 2, Misses: 2}, "scan": {Misses: 1}, "test": {}}
	if len(c.Stages) != 3 {
		t.Errorf("stages = %v", c.Stages)
	}
	for name, w := range want {
		if got, ok := c.Stages[name]; !ok || got != w {
			t.Errorf("%s = %+v (present %v), want %+v", name, got, ok, w)
		}
	}
	if c.Outside != (results.Cache{Hits: 3, Misses: 1}) {
		t.Errorf("outside = %+v, want the module-load, cycle and odd-name hits and the orphan miss", c.Outside)
	}
	if names := c.Names(); len(names) != 3 || names[0] != "build" || names[2] != "test" {
		t.Errorf("names = %v", names)
	}
}
