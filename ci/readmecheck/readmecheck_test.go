package readmecheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// page is one checked page and its text.
type page struct {
	rel  string
	text []byte
}

// readPages reads every page readmecheck checks.
func readPages(t *testing.T, root string) []page {
	t.Helper()
	rels, err := Pages(root)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]page, len(rels))
	for i, rel := range rels {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = page{rel, b}
	}
	return out
}

func TestEveryREADMECommandMatchesTheModules(t *testing.T) {
	root, _ := filepath.Abs("../..")
	total := 0
	for _, p := range readPages(t, root) {
		for _, c := range Extract(p.rel, p.text) {
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

// docsPages lists docs/ on its own, so a page Pages would miss fails here.
func docsPages(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(strings.ToLower(d.Name()), ".md") {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no pages under docs/")
	}
	return out
}

func TestEveryDocsPageIsCheckedAndLinkedFromTheREADME(t *testing.T) {
	root, _ := filepath.Abs("../..")
	pages, err := Pages(root)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	for _, p := range pages {
		checked[p] = true
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, l := range Links("README.md", readme) {
		if f, _, ok := Resolve(l); ok {
			linked[f] = true
		}
	}
	for _, p := range docsPages(t, root) {
		if !checked[p] {
			t.Errorf("%s is not among the pages readmecheck checks", p)
		}
		if !linked[p] {
			t.Errorf("%s is not linked from README.md", p)
		}
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(b), "\n", 2)
		if !strings.HasPrefix(lines[0], "# ") {
			t.Errorf("%s does not start with a # Title", p)
		}
		back := false
		for _, l := range Links(p, b) {
			if f, _, ok := Resolve(l); ok && f == "README.md" {
				back = true
			}
		}
		if !back {
			t.Errorf("%s has no link back to README.md", p)
		}
	}
}

func TestEveryLinkPointsAtAFile(t *testing.T) {
	root, _ := filepath.Abs("../..")
	total := 0
	for _, p := range readPages(t, root) {
		for _, l := range Links(p.rel, p.text) {
			if _, _, ok := Resolve(l); ok {
				total++
			}
			if err := CheckLink(root, l); err != nil {
				t.Error(err)
			}
		}
	}
	if total < 20 {
		t.Errorf("found only %d relative links in the pages", total)
	}
}

func TestCheckLinkCatchesBrokenLinks(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# paved\n\n## Quick start\n")
	write("examples/app/main.go", "package main\n")
	page := "# Guide\n\n" +
		"[back](../README.md) [start](../README.md#quick-start) [app](../examples/app) [src](../examples/app/main.go#L1)\n" + // 1-4 fine
		"[top](#guide) [sub](#on-a-real-engine-ciengine-check) [again](#step-1) [web](https://example.com/x#y) [mail](mailto:a@b.c)\n" + // 5-9 fine
		"[gone](../README.md#quick-starts)\n" + // 10
		"[missing](missing.md)\n" + // 11
		"[self](#nowhere)\n" + // 12
		"[dir](../examples#top)\n" + // 13
		"[out](../../elsewhere.md)\n" + // 14
		"[ref]: ../READ.md\n" + // 15
		"`[code](nothere.md)` and\n" +
		"```md\n[fenced](nothere.md)\n## Not a heading\n```\n" +
		"## On a real engine: `ci/engine-check`\n" +
		"## Step\n## Step\n"
	write("docs/guide.md", page)
	links := Links("docs/guide.md", []byte(page))
	if len(links) != 15 {
		t.Fatalf("found %d links, want 15: %v", len(links), links)
	}
	want := map[int]string{
		9:  "no heading with anchor #quick-starts",
		10: "no file docs/missing.md",
		11: "docs/guide.md has no heading with anchor #nowhere",
		12: "not a Markdown page",
		13: "outside the repository",
		14: "no file READ.md",
	}
	for i, l := range links {
		err := CheckLink(root, l)
		switch {
		case want[i] == "" && err != nil:
			t.Errorf("link %d %q: unexpected %v", i+1, l.Target, err)
		case want[i] != "" && (err == nil || !strings.Contains(err.Error(), want[i])):
			t.Errorf("link %d %q: err %v, want %q", i+1, l.Target, err, want[i])
		}
	}
	if Anchors([]byte(page))["not-a-heading"] {
		t.Error("a heading inside a code block counted")
	}
}

func TestSlug(t *testing.T) {
	for h, want := range map[string]string{
		"Signing and verifying":                                          "signing-and-verifying",
		"On a real engine: `ci/engine-check`":                            "on-a-real-engine-ciengine-check",
		"`paved` (root: `dagger call -m github.com/paved-ci/paved …`)":   "paved-root-dagger-call--m-githubcompaved-cipaved-",
		"API compatibility (`api.json`)":                                 "api-compatibility-apijson",
		"paved: ✅ passed":                                                "paved--passed",
		"Company registries: private CA, plain HTTP, several registries": "company-registries-private-ca-plain-http-several-registries",
		"See [Images](images.md)":                                        "see-images",
		"paved's own CI":                                                 "paveds-own-ci",
	} {
		if got := Slug(h); got != want {
			t.Errorf("Slug(%q) = %q, want %q", h, got, want)
		}
	}
}

func TestDocsPagesUseTheRootModule(t *testing.T) {
	root, _ := filepath.Abs("../..")
	cmds := Extract("docs/guide.md", []byte("```sh\ndagger call check --source=. summary\ndagger call chekc --source=.\n```\n"))
	if len(cmds) != 2 {
		t.Fatalf("extracted %d commands", len(cmds))
	}
	if err := Check(root, cmds[0]); err != nil {
		t.Errorf("a docs page's command is not checked against the root module: %v", err)
	}
	if err := Check(root, cmds[1]); err == nil || !strings.Contains(err.Error(), "modules/golden") {
		t.Errorf("a docs page's misspelt function: %v", err)
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
		"dagger call --image-mirror=m.example.com --source . check --dir=x summary\n" +
		"dagger call --image-mirorr=m.example.com check summary\n" +
		"dagger call -m github.com/paved-ci/paved/modules/build@v1.0.0 --source=. go\n" +
		"```\n"
	cmds := Extract("README.md", []byte(md))
	if len(cmds) != 8 {
		t.Fatalf("extracted %d commands", len(cmds))
	}
	want := []string{"no argument --colour", `no function "chekc"`, `no field or function "nonsense"`, "", "",
		"", "the constructor of modules/golden has no argument --image-mirorr", "has no constructor"}
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
