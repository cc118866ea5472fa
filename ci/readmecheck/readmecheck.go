// Package readmecheck checks paved's Markdown pages (see Pages: the
// README, every page under docs/ and the examples' READMEs) against the
// repository. The `dagger call` lines are checked against the modules' Go
// source: the function, every flag and the first chained field must exist,
// so a page never drifts from the modules. Every relative link must point
// at an existing file and, with an #anchor, at a heading of that page.
package readmecheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// Command is one `dagger call` line.
type Command struct {
	File   string
	Line   int
	Module string   // repository-relative module source folder
	Tokens []string // after "call"
}

// Extract finds dagger call lines inside fenced code blocks, joining
// continued lines (trailing backslash).
func Extract(file string, text []byte) []Command {
	var out []Command
	in := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	n, start := 0, 0
	var cont strings.Builder
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "```") {
			in = !in
			cont.Reset()
			continue
		}
		if !in {
			continue
		}
		l = strings.TrimPrefix(l, "- ") // a YAML list item: script lines
		if cont.Len() > 0 {
			cont.WriteString(" " + strings.TrimSuffix(l, "\\"))
			if strings.HasSuffix(l, "\\") {
				continue
			}
			l = cont.String()
			cont.Reset()
		} else if strings.HasPrefix(l, "dagger ") && strings.HasSuffix(l, "\\") {
			start = n
			cont.WriteString(strings.TrimSuffix(l, "\\"))
			continue
		} else {
			start = n
		}
		if !strings.HasPrefix(l, "dagger ") || !strings.Contains(l, " call ") {
			continue
		}
		f := fields(l)
		mod := ""
		var rest []string
		for i := 1; i < len(f); i++ {
			switch {
			case f[i] == "-m" && i+1 < len(f):
				mod = f[i+1]
				i++
			case f[i] == "call":
				rest = f[i+1:]
				i = len(f)
			}
		}
		// -m may also follow "call"
		for len(rest) >= 2 && rest[0] == "-m" {
			mod, rest = rest[1], rest[2:]
		}
		// drop a trailing comment or pipe
		for i, t := range rest {
			if t == "#" || t == "|" || t == "&&" || t == ">" {
				rest = rest[:i]
				break
			}
		}
		out = append(out, Command{File: file, Line: start, Module: moduleDir(mod), Tokens: rest})
	}
	return out
}

// fields splits a shell line into words: quotes are removed, and a
// ${VAR:+--flag=...} expansion becomes the flags it may produce.
func fields(l string) []string {
	var out []string
	for _, w := range strings.Fields(l) {
		if strings.HasPrefix(w, "${") && strings.Contains(w, "--") {
			for _, m := range flagInSh.FindAllString(w, -1) {
				out = append(out, m+"=x")
			}
			continue
		}
		out = append(out, strings.Trim(w, `"'`))
	}
	return out
}

var (
	remote   = regexp.MustCompile(`^github\.com/paved-ci/paved(/modules/[a-z-]+)?(@\S+)?$`)
	flagInSh = regexp.MustCompile(`--[a-z][a-z0-9-]*`)
)

// moduleDir maps a -m value to the module's Go source folder; "" means
// the module of the nearest dagger.json (resolved in Check).
func moduleDir(m string) string {
	if m == "" {
		return ""
	}
	if m == "." {
		return "modules/golden"
	}
	if r := remote.FindStringSubmatch(m); r != nil {
		if r[1] == "" {
			return "modules/golden"
		}
		return strings.TrimPrefix(r[1], "/")
	}
	return strings.TrimPrefix(filepath.Clean(m), "./")
}

type fn struct {
	params map[string]bool // flag name → is bool
	ret    string          // returned struct type, "" if none of the module's
}

type module struct {
	// ctor is the module's constructor (func New), nil without one: its
	// flags come before the function name.
	ctor    *fn
	funcs   map[string]map[string]fn // type → kebab name → fn
	structs map[string]map[string]bool
}

func load(root, dir string) (*module, error) {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") || filepath.Base(n) == "dagger.gen.go" {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	m := &module{funcs: map[string]map[string]fn{}, structs: map[string]map[string]bool{}}
	{
		for _, f := range files {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.GenDecl:
					for _, s := range d.Specs {
						ts, ok := s.(*ast.TypeSpec)
						if !ok {
							continue
						}
						st, ok := ts.Type.(*ast.StructType)
						if !ok {
							continue
						}
						fields := map[string]bool{}
						for _, fl := range st.Fields.List {
							for _, n := range fl.Names {
								if n.IsExported() {
									fields[kebab(n.Name)] = true
								}
							}
						}
						m.structs[ts.Name.Name] = fields
					}
				case *ast.FuncDecl:
					if d.Recv == nil && d.Name.Name == "New" {
						c := params(d)
						m.ctor = &c
						continue
					}
					if d.Recv == nil || !d.Name.IsExported() {
						continue
					}
					recv := typeName(d.Recv.List[0].Type)
					f := params(d)
					if d.Type.Results != nil && len(d.Type.Results.List) > 0 {
						f.ret = typeName(d.Type.Results.List[0].Type)
					}
					if m.funcs[recv] == nil {
						m.funcs[recv] = map[string]fn{}
					}
					m.funcs[recv][kebab(d.Name.Name)] = f
				}
			}
		}
	}
	return m, nil
}

// params lists a function's CLI flags (kebab name → is a bool).
func params(d *ast.FuncDecl) fn {
	f := fn{params: map[string]bool{}}
	for _, p := range d.Type.Params.List {
		isBool := false
		if id, ok := p.Type.(*ast.Ident); ok && id.Name == "bool" {
			isBool = true
		}
		for _, n := range p.Names {
			if n.Name != "ctx" {
				f.params[kebab(n.Name)] = isBool
			}
		}
	}
	return f
}

// flags consumes the --flags of f from tokens[i:] and returns the index of
// the first token that is not one; what names f in errors.
func flags(where, what string, f fn, tokens []string, i int) (int, error) {
	for ; i < len(tokens); i++ {
		t := tokens[i]
		if !strings.HasPrefix(t, "--") {
			break
		}
		flag, _, hasValue := strings.Cut(strings.TrimPrefix(t, "--"), "=")
		isBool, ok := f.params[flag]
		if !ok {
			return i, fmt.Errorf("%s: %s has no argument --%s", where, what, flag)
		}
		if !hasValue && !isBool {
			i++ // value in the next token
		}
	}
	return i, nil
}

func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}

// kebab turns a Go name into the CLI's form: ContinueOnFailure → continue-on-failure.
func kebab(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// readModule reads the dagger.json in dir (relative to root) and returns
// its Go source folder and name.
func readModule(root, dir string) (src, name string, err error) {
	p := filepath.Join(root, dir, "dagger.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return "", "", err
	}
	var cfg struct{ Name, Source string }
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", "", fmt.Errorf("%s: %v", p, err)
	}
	rel, _ := filepath.Rel(root, filepath.Join(root, dir, cfg.Source))
	return filepath.ToSlash(rel), cfg.Name, nil
}

// nearest finds the dagger.json at or above the page's folder (for
// README.md and docs/, the root module's) and returns its module's
// source folder and name.
func nearest(root, file string) (dir, name string, err error) {
	for d := filepath.Dir(filepath.Join(root, file)); ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "dagger.json")); err == nil {
			rel, _ := filepath.Rel(root, d)
			return readModule(root, rel)
		}
		if d == root || filepath.Dir(d) == d {
			return "", "", fmt.Errorf("no dagger.json above %s", file)
		}
	}
}

// Check verifies one command against the module source under root.
func Check(root string, c Command) error {
	where := fmt.Sprintf("%s:%d", c.File, c.Line)
	modName := ""
	if c.Module == "" {
		dir, name, err := nearest(root, c.File)
		if err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		c.Module, modName = dir, name
	} else if src, name, err := readModule(root, c.Module); err == nil {
		c.Module, modName = src, name // a folder with a dagger.json
	} else {
		modName = mainName(root, c.Module)
	}
	m, err := load(root, c.Module)
	if err != nil {
		return fmt.Errorf("%s: module %s: %v", where, c.Module, err)
	}
	mainType := ""
	for t := range m.funcs {
		if _, isStruct := m.structs[t]; isStruct && strings.EqualFold(t, strings.ReplaceAll(modName, "-", "")) {
			mainType = t
		}
	}
	if mainType == "" {
		return fmt.Errorf("%s: module %s has no main object type", where, c.Module)
	}
	i := 0
	if len(c.Tokens) > 0 && strings.HasPrefix(c.Tokens[0], "--") {
		if m.ctor == nil {
			return fmt.Errorf("%s: module %s has no constructor, so no flag before the function name (%s)", where, c.Module, c.Tokens[0])
		}
		if i, err = flags(where, "the constructor of "+c.Module, *m.ctor, c.Tokens, 0); err != nil {
			return err
		}
	}
	if i >= len(c.Tokens) {
		return fmt.Errorf("%s: no function after call", where)
	}
	name := c.Tokens[i]
	f, ok := m.funcs[mainType][name]
	if !ok {
		return fmt.Errorf("%s: module %s has no function %q", where, c.Module, name)
	}
	if i, err = flags(where, fmt.Sprintf("function %s of %s", name, c.Module), f, c.Tokens, i+1); err != nil {
		return err
	}
	if i < len(c.Tokens) && f.ret != "" {
		if fields, ok := m.structs[f.ret]; ok {
			next := c.Tokens[i]
			if _, isFunc := m.funcs[f.ret][next]; !fields[next] && !isFunc {
				return fmt.Errorf("%s: %s returns %s, which has no field or function %q", where, name, f.ret, next)
			}
		}
	}
	return nil
}

// mainName is the module's main object: its dagger.json name in Go case.
func mainName(root, dir string) string {
	if dir == "modules/golden" {
		return "paved"
	}
	return filepath.Base(dir)
}
