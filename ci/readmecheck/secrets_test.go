package readmecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/lifecycle/api"
)

// docs/secrets.md is where a user learns that a secret can come from
// Vault or 1Password: every secret argument of every module is on it, so
// a new one cannot ship undocumented.
func TestEverySecretArgumentIsOnTheSecretsPage(t *testing.T) {
	root, _ := filepath.Abs("../..")
	page, err := os.ReadFile(filepath.Join(root, "docs/secrets.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "modules/*/api.json"))
	files = append(files, filepath.Join(root, "api.json"))
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		a, err := api.Unmarshal(b, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range a.Objects {
			for _, fn := range o.Functions {
				for _, arg := range fn.Args {
					if !strings.Contains(arg.Type, "Secret") {
						continue
					}
					found++
					if !strings.Contains(string(page), "--"+kebab(arg.Name)) {
						t.Errorf("%s: %s --%s is a secret, and docs/secrets.md does not name it", filepath.Base(filepath.Dir(f)), kebab(fn.Name), kebab(arg.Name))
					}
				}
			}
		}
	}
	if found < 10 {
		t.Fatalf("only %d secret arguments found in the api.json files", found)
	}
}
