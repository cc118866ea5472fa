package gotool

import (
	"reflect"
	"strings"
	"testing"
)

func TestLocalDirs(t *testing.T) {
	cases := []struct {
		name, dir, gomod string
		want             []string
	}{
		{"root module", "", "module x\n", []string{"."}},
		{"app alone", "services/api", "module x\n\nrequire golang.org/x/mod v0.1.0\n", []string{"services/api"}},
		{"sibling replace", "services/api", "module x\n\nreplace example.com/shared => ../../libs/shared\n", []string{"libs/shared", "services/api"}},
		{"replace inside the module and a version replace", "services/api", "module x\n\nreplace (\n\texample.com/a => ./third_party/a\n\texample.com/b => example.com/c v1.0.0\n)\n", []string{"services/api"}},
		{"replace of the repository root covers all", "services/api", "module x\n\nreplace example.com/root => ../..\n", []string{"."}},
	}
	for _, c := range cases {
		got, err := LocalDirs(c.dir, []byte(c.gomod))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestLocalDirsRefusesReplaceOutsideTheSource(t *testing.T) {
	_, err := LocalDirs("api", []byte("module x\n\nreplace example.com/up => ../../elsewhere\n"))
	if err == nil || !strings.Contains(err.Error(), "api/go.mod: replace example.com/up => ../../elsewhere points outside the source") || !strings.Contains(err.Error(), "--source") {
		t.Errorf("err = %v", err)
	}
	if _, err := LocalDirs("api", []byte("module x\nreplace (\n")); err == nil || !strings.Contains(err.Error(), "api/go.mod") {
		t.Errorf("bad go.mod: err = %v", err)
	}
}
