// Package readmecheck checks the `dagger call` lines in paved's READMEs
// against the modules' Go source: the function, every flag and the first
// chained field must exist, so a README never drifts from the modules.
package readmecheck

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
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

// Extract finds dagger call lines inside fenced code blocks.
func Extract(file string, text []byte) []Command {
	var out []Command
	in := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "```") {
			in = !in
			continue
		}
		if !in || !strings.HasPrefix(l, "dagger ") || !strings.Contains(l, " call ") {
			continue
		}
		f := strings.Fields(l)
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
		out = append(out, Command{File: file, Line: n, Module: moduleDir(mod), Tokens: rest})
	}
	return out
}

var remote = regexp.MustCompile(`^github\.com/paved-ci/paved(/modules/[a-z-]+)?(@\S+)?$`)

// moduleDir maps a -m value to the module's Go source folder.
func moduleDir(m string) string {
	if m == "" || m == "." {
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
					if d.Recv == nil || !d.Name.IsExported() {
						continue
					}
					recv := typeName(d.Recv.List[0].Type)
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

// Check verifies one command against the module source under root.
func Check(root string, c Command) error {
	where := fmt.Sprintf("%s:%d", c.File, c.Line)
	m, err := load(root, c.Module)
	if err != nil {
		return fmt.Errorf("%s: module %s: %v", where, c.Module, err)
	}
	mainType := ""
	for t := range m.funcs {
		if _, isStruct := m.structs[t]; isStruct && strings.EqualFold(t, mainName(root, c.Module)) {
			mainType = t
		}
	}
	if mainType == "" {
		return fmt.Errorf("%s: module %s has no main object type", where, c.Module)
	}
	if len(c.Tokens) == 0 {
		return fmt.Errorf("%s: no function after call", where)
	}
	name := c.Tokens[0]
	f, ok := m.funcs[mainType][name]
	if !ok {
		return fmt.Errorf("%s: module %s has no function %q", where, c.Module, name)
	}
	i := 1
	for ; i < len(c.Tokens); i++ {
		t := c.Tokens[i]
		if !strings.HasPrefix(t, "--") {
			break
		}
		flag, _, hasValue := strings.Cut(strings.TrimPrefix(t, "--"), "=")
		isBool, ok := f.params[flag]
		if !ok {
			return fmt.Errorf("%s: function %s of %s has no argument --%s", where, name, c.Module, flag)
		}
		if !hasValue && !isBool {
			i++ // value in the next token
		}
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
