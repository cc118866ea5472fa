package readmecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEveryREADMECommandMatchesTheModules(t *testing.T) {
	root, _ := filepath.Abs("../..")
	files, _ := filepath.Glob(filepath.Join(root, "examples", "*", "README.md"))
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for _, c := range Extract(rel, b) {
			total++
			if err := Check(root, c); err != nil {
				t.Error(err)
			}
		}
	}
	if total < 5 {
		t.Errorf("found only %d dagger call lines in the READMEs", total)
	}
}

func TestCheckCatchesDrift(t *testing.T) {
	root, _ := filepath.Abs("../..")
	md := "```sh\n" +
		"dagger call check --source=. --colour=red summary\n" +
		"dagger call chekc --source=.\n" +
		"dagger -m ./modules/test call go --source=. --race nonsense\n" +
		"dagger call check --source=. --dir=x results export --path=y\n" +
		"dagger call -m github.com/paved-ci/paved/modules/build@v1.0.0 go --source=. --platforms linux/amd64\n" +
		"```\n"
	cmds := Extract("README.md", []byte(md))
	if len(cmds) != 5 {
		t.Fatalf("extracted %d commands", len(cmds))
	}
	want := []string{"no argument --colour", `no function "chekc"`, `no field or function "nonsense"`, "", ""}
	for i, c := range cmds {
		err := Check(root, c)
		switch {
		case want[i] == "" && err != nil:
			t.Errorf("line %d: unexpected %v", c.Line, err)
		case want[i] != "" && (err == nil || !strings.Contains(err.Error(), want[i])):
			t.Errorf("line %d: err %v, want %q", c.Line, err, want[i])
		}
	}
	multi := Extract("README.md", []byte("```sh\ndagger call -m \"github.com/paved-ci/paved@${V}\" ship \\\n  --source=\"${S}\" \\\n  ${P:+\"--platfroms=${P}\"} \\\n  results export --path=x\n```\n"))
	if len(multi) != 1 {
		t.Fatalf("continued command: %d extracted", len(multi))
	}
	if err := Check(root, multi[0]); err == nil || !strings.Contains(err.Error(), "--platfroms") {
		t.Errorf("a misspelt flag inside a shell expansion was not caught: %v", err)
	}
	custom := Extract("examples/custom-pipeline/README.md", []byte("```sh\ndagger call check --source=../.. --dir=x --race\n```\n"))
	if err := Check(root, custom[0]); err == nil || !strings.Contains(err.Error(), "no argument --race") || !strings.Contains(err.Error(), "custom-pipeline/.dagger") {
		t.Errorf("a README's own module is not the one checked: %v", err)
	}
	if kebab("ContinueOnFailure") != "continue-on-failure" || kebab("TestJson") != "test-json" || kebab("imagesFile") != "images-file" {
		t.Error("kebab")
	}
}
