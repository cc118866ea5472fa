package spans

import (
	"sort"
	"strings"

	"github.com/paved-ci/paved/pipelines/results"
)

// Span names and attributes as the Dagger engine v0.21 writes them
// (github.com/dagger/otel-go attrs.go; core/telemetry.go sets the cached
// flag on a call the engine answered from its cache).
const (
	// StagePrefix starts the name of the span paved opens around each
	// stage (pipelines/pipeline.Run): "paved build", "paved test".
	StagePrefix = "paved "
	// ExecSpan is the engine's span for a Container.withExec call.
	ExecSpan = "Container.withExec"
	// CachedAttr marks a call span the engine served from its cache.
	CachedAttr = "dagger.io/dag.cached"
	// DigestAttr is on every engine call span; a span without it with the
	// same name is not an engine call (a module could name a span anything).
	DigestAttr = "dagger.io/dag.digest"
)

// Counts is what a trace says about a run's stages.
type Counts struct {
	// Stages maps each stage seen as a span to its exec count; a stage
	// whose span holds no exec has a zero count.
	Stages map[string]results.Cache
	// Outside counts execs under no stage span (module loading, version
	// detection before the first stage).
	Outside results.Cache
	// Spans is how many spans the trace had.
	Spans int
}

// Count attributes each engine exec span to the nearest "paved <stage>"
// span above it and counts those marked cached as hits, the others as
// misses. It counts only what the engine marks: an exec the engine found
// in its cache but left unmarked (it does so while lazy work is pending)
// is a miss, and a call the engine had already reported in the session is
// not reported, so not counted, again.
func Count(all []Span) Counts {
	byID := make(map[string]*Span, len(all))
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	c := Counts{Stages: map[string]results.Cache{}, Spans: len(all)}
	for _, s := range all {
		if name, ok := stageName(s.Name); ok {
			if _, seen := c.Stages[name]; !seen {
				c.Stages[name] = results.Cache{}
			}
		}
	}
	for _, s := range all {
		if s.Name != ExecSpan || s.String(DigestAttr) == "" {
			continue
		}
		target := &c.Outside
		var stage results.Cache
		name, found := stageOf(s, byID)
		if found {
			stage = c.Stages[name]
			target = &stage
		}
		if s.Bool(CachedAttr) {
			target.Hits++
		} else {
			target.Misses++
		}
		if found {
			c.Stages[name] = stage
		}
	}
	return c
}

// stageOf walks up the parents of s to the nearest stage span. The walk is
// bounded so a malformed trace with a parent cycle cannot hang it.
func stageOf(s Span, byID map[string]*Span) (string, bool) {
	p := byID[s.Parent]
	for range len(byID) {
		if p == nil {
			return "", false
		}
		if name, ok := stageName(p.Name); ok {
			return name, true
		}
		p = byID[p.Parent]
	}
	return "", false
}

// stageName accepts "paved build" and "paved image-scan" but not "paved"
// or "load module: paved": stage names are one lower-case word.
func stageName(span string) (string, bool) {
	name, ok := strings.CutPrefix(span, StagePrefix)
	if !ok || name == "" {
		return "", false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return "", false
		}
	}
	return name, true
}

// Names lists the stages in c, sorted.
func (c Counts) Names() []string {
	out := make([]string, 0, len(c.Stages))
	for n := range c.Stages {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
