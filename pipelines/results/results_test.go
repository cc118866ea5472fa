package results

import (
	"strings"
	"testing"
	"time"
)

func TestSetCache(t *testing.T) {
	r := New(time.Unix(0, 0))
	r.Add(Stage{Name: "build", Status: Passed})
	r.Add(Stage{Name: "test", Status: Failed})
	r.Add(Stage{Name: "scan", Status: Skipped})
	unmatched := r.SetCache(map[string]Cache{"build": {Hits: 3, Misses: 1}, "test": {}, "scan": {Hits: 9}, "lint": {Misses: 2}})
	if c := r.Stages[0].Cache; c == nil || *c != (Cache{Hits: 3, Misses: 1}) {
		t.Errorf("build cache = %+v", c)
	}
	if c := r.Stages[1].Cache; c == nil || *c != (Cache{}) {
		t.Errorf("test ran without execs: want a zero count, got %+v", c)
	}
	if r.Stages[2].Cache != nil {
		t.Error("a skipped stage has no cache count, even if a span of that name was seen")
	}
	if strings.Join(unmatched, ",") != "lint,scan" {
		t.Errorf("unmatched = %v", unmatched)
	}
}

func TestCacheRoundTripAndOmitted(t *testing.T) {
	dir := t.TempDir()
	r := New(time.Unix(0, 0))
	r.Add(Stage{Name: "build", Status: Passed, Cache: &Cache{Hits: 2}})
	r.Add(Stage{Name: "test", Status: Passed})
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := back.Stages[0].Cache; c == nil || c.Hits != 2 || c.Misses != 0 {
		t.Errorf("read back %+v", c)
	}
	if back.Stages[1].Cache != nil {
		t.Error("an untraced stage must read back without a cache count")
	}
}
