// Package api extracts a Dagger Go module's public API from its source,
// without an engine, and compares two versions of it: what a caller of
// `dagger call` or a dependent module can rely on.
package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// API is a module's public surface, as stored in api.json.
type API struct {
	Module string `json:"module"`
	// Main is the main object's Go type name.
	Main    string   `json:"main"`
	Objects []Object `json:"objects"`
}

// Object is the main object or a type a function returns.
type Object struct {
	Name       string     `json:"name"`
	Functions  []Function `json:"functions,omitempty"`
	Fields     []Field    `json:"fields,omitempty"`
	Deprecated string     `json:"deprecated,omitempty"`
}

// Function is an exported method.
type Function struct {
	Name       string `json:"name"`
	Args       []Arg  `json:"args,omitempty"`
	Returns    string `json:"returns,omitempty"`
	Deprecated string `json:"deprecated,omitempty"`
	// Cache is the +cache pragma ("never", "session", a duration).
	Cache string `json:"cache,omitempty"`
}

// Arg is a function argument as Dagger exposes it.
type Arg struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Optional    bool   `json:"optional,omitempty"`
	Default     string `json:"default,omitempty"`
	DefaultPath string `json:"defaultPath,omitempty"`
	Deprecated  string `json:"deprecated,omitempty"`
}

// Field is an exported field of a returned object.
type Field struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Deprecated string `json:"deprecated,omitempty"`
}

// Marshal is the canonical api.json body.
func (a *API) Marshal() []byte {
	b, _ := json.MarshalIndent(a, "", "  ")
	return append(b, '\n')
}

// Unmarshal reads an api.json body; name labels errors.
func Unmarshal(b []byte, name string) (*API, error) {
	var a API
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%s: not an api.json: %v", name, err)
	}
	if a.Main == "" {
		return nil, fmt.Errorf("%s: not an api.json: no \"main\" object", name)
	}
	return &a, nil
}

// Object returns the named object or nil.
func (a *API) Object(name string) *Object {
	for i := range a.Objects {
		if a.Objects[i].Name == name {
			return &a.Objects[i]
		}
	}
	return nil
}

type pkg struct {
	fset    *token.FileSet
	types   map[string]*ast.TypeSpec
	typeDoc map[string]*ast.CommentGroup
	methods map[string][]*ast.FuncDecl
	// constructor is the module's func New, whose arguments a caller passes
	// before the function name.
	constructor *ast.FuncDecl
	// comments of the file each method is in: the parser attaches no Doc
	// to parameters, so their pragmas are found by position.
	comments map[*ast.FuncDecl][]*ast.CommentGroup
}

// Constructor is the name under which the main object lists its
// constructor (func New): its arguments are part of the API like any
// function's.
const Constructor = "New"

// Extract reads the Go files of the module source in dir (the main
// package; generated internal/ code is not read) and returns the API served
// from the object named main.
func Extract(dir, module, main string) (*API, error) {
	p, err := parse(dir)
	if err != nil {
		return nil, err
	}
	if p.types[main] == nil {
		return nil, fmt.Errorf("module source %s: no type %s (the main object is the dagger.json name in PascalCase)", dir, main)
	}
	a := &API{Module: module, Main: main}
	seen := map[string]bool{}
	queue := []string{main}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		obj, refs := p.object(name)
		if name == main && p.constructor != nil {
			fn, _ := p.function(p.constructor)
			fn.Returns = ""
			obj.Functions = append([]Function{fn}, obj.Functions...)
		}
		a.Objects = append(a.Objects, obj)
		queue = append(queue, refs...)
	}
	sort.Slice(a.Objects[1:], func(i, j int) bool { return a.Objects[1+i].Name < a.Objects[1+j].Name })
	return a, nil
}

func parse(dir string) (*pkg, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("module source: %v", err)
	}
	p := &pkg{fset: token.NewFileSet(), types: map[string]*ast.TypeSpec{}, typeDoc: map[string]*ast.CommentGroup{}, methods: map[string][]*ast.FuncDecl{}, comments: map[*ast.FuncDecl][]*ast.CommentGroup{}}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(p.fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("module source: %v", err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				if d.Tok != token.TYPE {
					continue
				}
				for _, s := range d.Specs {
					ts := s.(*ast.TypeSpec)
					p.types[ts.Name.Name] = ts
					doc := ts.Doc
					if doc == nil && len(d.Specs) == 1 {
						doc = d.Doc
					}
					p.typeDoc[ts.Name.Name] = doc
				}
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == Constructor {
					p.constructor = d
					p.comments[d] = f.Comments
					continue
				}
				if d.Recv == nil || len(d.Recv.List) != 1 || !d.Name.IsExported() {
					continue
				}
				r := d.Recv.List[0].Type
				if st, ok := r.(*ast.StarExpr); ok {
					r = st.X
				}
				if id, ok := r.(*ast.Ident); ok {
					p.methods[id.Name] = append(p.methods[id.Name], d)
					p.comments[d] = f.Comments
				}
			}
		}
	}
	return p, nil
}

// object describes a type and names the local types it exposes.
func (p *pkg) object(name string) (Object, []string) {
	obj := Object{Name: name, Deprecated: pragmas(p.typeDoc[name])["deprecated"]}
	var refs []string
	if st, ok := p.types[name].Type.(*ast.StructType); ok {
		for _, f := range st.Fields.List {
			prag := pragmas(f.Doc)
			if _, private := prag["private"]; private {
				continue
			}
			for _, n := range f.Names {
				if !n.IsExported() {
					continue
				}
				t := p.expr(f.Type)
				obj.Fields = append(obj.Fields, Field{Name: n.Name, Type: t, Deprecated: prag["deprecated"]})
				refs = append(refs, p.local(f.Type)...)
			}
		}
	}
	methods := p.methods[name]
	sort.Slice(methods, func(i, j int) bool { return methods[i].Name.Name < methods[j].Name.Name })
	for _, m := range methods {
		fn, r := p.function(m)
		refs = append(refs, r...)
		obj.Functions = append(obj.Functions, fn)
	}
	return obj, refs
}

// function describes a method or the constructor and names the local
// types it returns. Arguments Dagger injects (the caller's Workspace) are
// not part of the API.
func (p *pkg) function(m *ast.FuncDecl) (Function, []string) {
	prag := pragmas(m.Doc)
	fn := Function{Name: m.Name.Name, Deprecated: prag["deprecated"], Cache: prag["cache"]}
	var refs []string
	prev := m.Type.Params.Opening
	for _, f := range m.Type.Params.List {
		doc := between(p.comments[m], prev, f.Pos())
		prev = f.End()
		t := p.expr(f.Type)
		if t == "context.Context" || t == "*dagger.Workspace" {
			continue
		}
		ap := pragmas(doc)
		for _, n := range f.Names {
			a := Arg{Name: n.Name, Type: t, Default: ap["default"], DefaultPath: ap["defaultPath"], Deprecated: ap["deprecated"]}
			_, opt := ap["optional"]
			_, def := ap["default"]
			_, defPath := ap["defaultPath"]
			a.Optional = opt || def || defPath
			fn.Args = append(fn.Args, a)
		}
	}
	if m.Type.Results != nil {
		var rs []string
		for _, r := range m.Type.Results.List {
			t := p.expr(r.Type)
			if t == "error" {
				continue
			}
			rs = append(rs, t)
			refs = append(refs, p.local(r.Type)...)
		}
		fn.Returns = strings.Join(rs, ", ")
	}
	return fn, refs
}

// local names the struct types of this package that e mentions.
func (p *pkg) local(e ast.Expr) []string {
	var out []string
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.IsExported() {
			if ts := p.types[id.Name]; ts != nil {
				out = append(out, id.Name)
			}
		}
		_, sel := n.(*ast.SelectorExpr)
		return !sel
	})
	return out
}

func (p *pkg) expr(e ast.Expr) string {
	var b bytes.Buffer
	printer.Fprint(&b, p.fset, e)
	return b.String()
}

// between joins the comment groups lying between two positions.
func between(cgs []*ast.CommentGroup, from, to token.Pos) *ast.CommentGroup {
	out := &ast.CommentGroup{}
	for _, cg := range cgs {
		if cg.Pos() > from && cg.End() <= to {
			out.List = append(out.List, cg.List...)
		}
	}
	return out
}

// pragmas reads "+name" and "+name=value" lines of a comment; quoted values
// are unquoted.
func pragmas(cg *ast.CommentGroup) map[string]string {
	out := map[string]string{}
	if cg == nil {
		return out
	}
	for _, c := range cg.List {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(c.Text, "//"), "/*"))
		if !strings.HasPrefix(line, "+") {
			continue
		}
		k, v, _ := strings.Cut(line[1:], "=")
		v = strings.TrimSpace(v)
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		if k == "deprecated" && v == "" {
			v = "deprecated"
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}
