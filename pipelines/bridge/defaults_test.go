package bridge

import (
	"errors"
	"testing"
)

// dir stands in for a module's *dagger.Directory: any comparable pointer.
type dir struct{ name string }

func TestSourceAndDir(t *testing.T) {
	fn, ctor, ws := &dir{"fn"}, &dir{"ctor"}, &dir{"ws"}
	cases := []struct {
		name     string
		fnSource *dir
		dir      string
		o        Origin[*dir]
		want     *dir
		wantDir  string
	}{
		{"function source wins", fn, "app", Origin[*dir]{Given: ctor, Workspace: ws, WorkspacePath: "services/api"}, fn, "app"},
		{"function source keeps an empty dir", fn, "", Origin[*dir]{Workspace: ws, WorkspacePath: "services/api"}, fn, ""},
		{"constructor source", nil, "", Origin[*dir]{Given: ctor, Workspace: ws, WorkspacePath: "services/api"}, ctor, ""},
		{"workspace: dir from where dagger ran", nil, "", Origin[*dir]{Workspace: ws, WorkspacePath: "services/api"}, ws, "services/api"},
		{"workspace root", nil, "", Origin[*dir]{Workspace: ws, WorkspacePath: "."}, ws, ""},
		{"workspace path cleaned", nil, "", Origin[*dir]{Workspace: ws, WorkspacePath: "/services/api/"}, ws, "services/api"},
		{"workspace with an explicit dir", nil, "examples/hello-go", Origin[*dir]{Workspace: ws, WorkspacePath: "docs"}, ws, "examples/hello-go"},
	}
	for _, c := range cases {
		got, gotDir, err := SourceAndDir(c.fnSource, c.dir, c.o)
		if err != nil || got != c.want || gotDir != c.wantDir {
			t.Errorf("%s: got (%v, %q, %v), want (%v, %q)", c.name, got, gotDir, err, c.want, c.wantDir)
		}
	}
	if _, _, err := SourceAndDir[*dir](nil, "", Origin[*dir]{}); !errors.Is(err, ErrNoSource) {
		t.Errorf("no source anywhere: err = %v, want ErrNoSource", err)
	}
}

func TestOr(t *testing.T) {
	if got := Or("fn", "ctor"); got != "fn" {
		t.Errorf("Or given = %q", got)
	}
	if got := Or("", "ctor"); got != "ctor" {
		t.Errorf("Or empty = %q", got)
	}
	if got := OrList([]string{"a"}, []string{"b", "c"}); len(got) != 1 || got[0] != "a" {
		t.Errorf("OrList given = %v", got)
	}
	if got := OrList(nil, []string{"b", "c"}); len(got) != 2 {
		t.Errorf("OrList empty = %v", got)
	}
}
