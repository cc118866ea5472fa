package api_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/lifecycle"
	"github.com/paved-ci/paved/pipelines/lifecycle/api"
)

func extract(t *testing.T, v string) *api.API {
	t.Helper()
	a, err := api.Extract(filepath.Join("testdata", v), "shop", "Shop")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestExtract(t *testing.T) {
	a := extract(t, "v1")
	if a.Main != "Shop" || len(a.Objects) != 2 || a.Objects[0].Name != "Shop" || a.Objects[1].Name != "Order" {
		t.Fatalf("objects: %+v", a.Objects)
	}
	var names []string
	for _, f := range a.Objects[0].Functions {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "Buy,Legacy,List,Lookup,Ping,Refund" {
		t.Errorf("functions %s: unexported helper must be left out", got)
	}
	buy := a.Objects[0].Functions[0]
	want := []api.Arg{
		{Name: "item", Type: "string"},
		{Name: "qty", Type: "int", Optional: true},
		{Name: "currency", Type: "string", Optional: true, Default: "eur"},
		{Name: "coupon", Type: "string", Optional: true},
		{Name: "src", Type: "*dagger.Directory", Optional: true, DefaultPath: "/"},
	}
	if len(buy.Args) != len(want) {
		t.Fatalf("Buy args (context must be left out): %+v", buy.Args)
	}
	for i := range want {
		if buy.Args[i] != want[i] {
			t.Errorf("Buy arg %d = %+v, want %+v", i, buy.Args[i], want[i])
		}
	}
	if buy.Returns != "*Order" {
		t.Errorf("Buy returns %q", buy.Returns)
	}
	if f := a.Objects[0].Functions[5]; f.Name != "Refund" || f.Cache != "never" || f.Returns != "" {
		t.Errorf("Refund: %+v", f)
	}
	var fields []string
	for _, f := range a.Objects[1].Fields {
		fields = append(fields, f.Name+" "+f.Type)
	}
	if got := strings.Join(fields, ","); got != "ID string,Total int,Note string" {
		t.Errorf("Order fields %q: private and unexported fields must be left out", got)
	}
	// The JSON form round-trips.
	b, err := api.Unmarshal(a.Marshal(), "x")
	if err != nil || string(b.Marshal()) != string(a.Marshal()) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestCompareEveryKind(t *testing.T) {
	d := api.Compare(extract(t, "v1"), extract(t, "v2"))
	got := map[string]string{}
	for _, c := range d.Changes {
		got[c.What] = c.Level.String() + ": " + c.Why
	}
	want := map[string]string{
		"Shop.Refund":        "major: function removed",
		"Shop.List(limit)":   "major: argument removed",
		"Shop.List(sort)":    "major: required argument added",
		"Shop.Buy(qty)":      "major: optional argument made required",
		"Shop.Buy(item)":     "minor: required argument made optional",
		"Shop.Buy(currency)": `major: default changed from "eur" to "usd"`,
		"Shop.Buy(coupon)":   "major: type changed from string to []string",
		"Shop.Buy(src)":      `major: defaultPath changed from "/" to "."`,
		"Shop.Buy(gift)":     "minor: optional argument added",
		"Shop.Ping":          "major: return type changed from string to int",
		"Shop.Receipt":       "minor: function added",
		"Shop.Lookup(name)":  "minor: optional argument added",
		"Order.Note":         "major: field removed",
		"Order.Total":        "major: field type changed from int to float64",
		"Order.Currency":     "minor: field added",
		"Receipt":            "minor: object added",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected change %s: %s", k, v)
		}
	}
	if d.Level() != api.Major || len(d.Breaking()) != 10 || len(d.Additions()) != 6 {
		t.Errorf("level %s, %d breaking, %d additions", d.Level(), len(d.Breaking()), len(d.Additions()))
	}
	var deps []string
	for _, x := range d.NewDeprecations {
		deps = append(deps, x.What+" -> "+x.Advice)
	}
	sort.Strings(deps)
	if got := strings.Join(deps, "; "); got != "Shop.Legacy -> use Ping; Shop.Lookup(name) -> ids are enough" {
		t.Errorf("deprecations: %s", got)
	}
	if n := len(extract(t, "v2").Deprecations()); n != 2 {
		t.Errorf("Deprecations() lists %d, want 2", n)
	}
}

func TestCompareAdditionsOnly(t *testing.T) {
	v1 := extract(t, "v1")
	if d := api.Compare(v1, v1); len(d.Changes) != 0 || d.Level() != api.None {
		t.Fatalf("same API: %v", d.Changes)
	}
	// Dropping Refund backwards (v2 -> v1 direction) is an addition.
	less := extract(t, "v1")
	less.Objects[0].Functions = less.Objects[0].Functions[:5]
	if d := api.Compare(less, v1); d.Level() != api.Minor {
		t.Errorf("adding a function: level %s, changes %v", d.Level(), d.Changes)
	}
}

func TestExtractMissingMain(t *testing.T) {
	_, err := api.Extract(filepath.Join("testdata", "v1"), "shop", "Store")
	if err == nil || !strings.Contains(err.Error(), "no type Store") {
		t.Fatalf("err = %v", err)
	}
}

// repoRoot finds paved's checkout from the package folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module "+lifecycle.PavedModule+"\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("paved's go.mod not found above the test folder")
		}
		dir = parent
	}
}

// TestCheckedInAPIIsCurrent fails when a module's source changed without
// its api.json, so API changes show up in review.
func TestCheckedInAPIIsCurrent(t *testing.T) {
	root := repoRoot(t)
	mods, err := lifecycle.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range mods {
		seen[m.Name] = true
		a, err := api.Of(root, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Objects) == 0 || len(a.Objects[0].Functions) == 0 {
			t.Errorf("module %s: no function extracted", m.Name)
		}
	}
	for _, n := range []string{lifecycle.Root, "build", "test"} {
		if !seen[n] {
			t.Errorf("module %s not discovered (found %v)", n, mods)
		}
	}
	stale, err := api.Check(root, mods)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		what := "stale"
		if s.Missing {
			what = "missing"
		}
		t.Errorf("%s is %s: run `%s` from the repository root and commit it", s.Module.APIPath(), what, api.FixCommand)
	}
}

func BenchmarkExtractBuild(b *testing.B) {
	dir := filepath.Join("..", "..", "..", "modules", "build")
	for b.Loop() {
		if _, err := api.Extract(dir, "build", "Build"); err != nil {
			b.Fatal(err)
		}
	}
}

// writeModule writes a one-file module source and extracts its API.
func writeModule(t *testing.T, src string) *api.API {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := api.Extract(dir, "shop", "Shop")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const shopWithConstructor = `package main

type Shop struct {
	// +private
	Region string
}

func New(
	ctx context.Context,
	// Injected by Dagger.
	ws *dagger.Workspace,
	// +optional
	source *dagger.Directory,
	region string,
) (*Shop, error) {
	return &Shop{Region: region}, nil
}

func (m *Shop) Ping() string { return "pong" }
`

// The constructor's arguments are API (callers pass them before the
// function name); the Workspace Dagger injects is not, nor +private fields.
func TestExtractConstructor(t *testing.T) {
	a := writeModule(t, shopWithConstructor)
	fns := a.Objects[0].Functions
	if len(fns) != 2 || fns[0].Name != api.Constructor || fns[1].Name != "Ping" {
		t.Fatalf("functions: %+v", fns)
	}
	want := []api.Arg{{Name: "source", Type: "*dagger.Directory", Optional: true}, {Name: "region", Type: "string"}}
	if len(fns[0].Args) != 2 || fns[0].Args[0] != want[0] || fns[0].Args[1] != want[1] {
		t.Errorf("constructor args = %+v, want %+v", fns[0].Args, want)
	}
	if fns[0].Returns != "" || len(a.Objects) != 1 || len(a.Objects[0].Fields) != 0 {
		t.Errorf("constructor returns %q; objects %+v", fns[0].Returns, a.Objects)
	}

	// Making region optional is a minor change; dropping it is breaking.
	optional := writeModule(t, strings.Replace(shopWithConstructor, "\tregion string,", "\t// +optional\n\tregion string,", 1))
	if d := api.Compare(a, optional); d.Level() != api.Minor {
		t.Errorf("optional constructor arg: level %s, %v", d.Level(), d.Changes)
	}
	dropped := writeModule(t, strings.Replace(shopWithConstructor, "\tregion string,\n", "", 1))
	if d := api.Compare(a, dropped); d.Level() != api.Major {
		t.Errorf("removed constructor arg: level %s, %v", d.Level(), d.Changes)
	}
}
