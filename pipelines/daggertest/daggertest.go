// Package daggertest runs paved's Dagger glue against the real
// dagger.io/dagger client without an engine: a recording connection
// (dagger.WithConn) keeps every GraphQL query the SDK sends and answers
// each leaf field with canned JSON.
//
// Tests built on it check the queries paved sends — image addresses,
// mounts, arguments, order — not what an engine would do with them. Their
// names say so (TestQuery...).
package daggertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"dagger.io/dagger"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Leaf is a leaf field the SDK asked for.
type Leaf struct {
	// Path is the chain of field names from the root to the leaf, e.g.
	// ["container", "from", "withExec", "stdout"]. An inline fragment
	// (node(id:){... on Service{endpoint}}) adds no element: ["node",
	// "endpoint"].
	Path []string
	// Fields is the same chain with arguments as parsed.
	Fields []*ast.Field
	// Query is the whole query text.
	Query string
}

// Name is the leaf's field name.
func (l Leaf) Name() string { return l.Path[len(l.Path)-1] }

// Arg returns the raw text of argument name on the field at depth i
// (negative i counts from the leaf), or "".
func (l Leaf) Arg(i int, name string) string {
	if i < 0 {
		i += len(l.Fields)
	}
	if i < 0 || i >= len(l.Fields) {
		return ""
	}
	for _, a := range l.Fields[i].Arguments {
		if a.Name == name {
			return a.Value.Raw
		}
	}
	return ""
}

// LastArg returns the raw text of the argument name on the deepest field
// of the path that has it, or "" (e.g. the platform a container or a
// Dockerfile build was asked for).
func (l Leaf) LastArg(name string) string {
	for i := len(l.Fields) - 1; i >= 0; i-- {
		if v := l.Arg(i, name); v != "" {
			return v
		}
	}
	return ""
}

// Answer returns the JSON value for a leaf, and whether it handled it.
// Unhandled leaves get Default.
type Answer func(Leaf) (any, bool)

// Conn is a recording engineconn.EngineConn.
type Conn struct {
	mu      sync.Mutex
	queries []string
	answers []Answer
	n       int
}

// New returns a real dagger.Client whose queries are recorded by the
// returned Conn. answers are tried in order before Default.
func New(t testing.TB, answers ...Answer) (*dagger.Client, *Conn) {
	t.Helper()
	c := &Conn{answers: answers}
	client, err := dagger.Connect(t.Context(), dagger.WithConn(c))
	if err != nil {
		t.Fatalf("connecting the dagger client to the recording conn: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client, c
}

// Host implements engineconn.EngineConn.
func (c *Conn) Host() string { return "paved.recording" }

// Close implements engineconn.EngineConn.
func (c *Conn) Close() error { return nil }

// Do answers one GraphQL request.
func (c *Conn) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var gql struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(body, &gql); err != nil {
		return nil, fmt.Errorf("daggertest: request is not GraphQL JSON: %v", err)
	}
	data, err := c.answer(gql.Query)
	var out []byte
	if err != nil {
		e := map[string]any{"message": err.Error()}
		var ea ErrorAnswer
		if errors.As(err, &ea) && ea.Extensions != nil {
			e["extensions"] = ea.Extensions
		}
		out, _ = json.Marshal(map[string]any{"errors": []map[string]any{e}})
	} else {
		out, _ = json.Marshal(map[string]any{"data": data})
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(out)),
		Request:    req,
	}, nil
}

func (c *Conn) answer(q string) (map[string]any, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		return nil, fmt.Errorf("daggertest: query does not parse: %v", err)
	}
	// Record the query with arguments in name order: the SDK writes them
	// in map order, and assertions must not depend on that.
	var norm strings.Builder
	for _, op := range doc.Operations {
		render(&norm, op.SelectionSet)
	}
	c.mu.Lock()
	c.queries = append(c.queries, norm.String())
	c.mu.Unlock()
	out := map[string]any{}
	for _, op := range doc.Operations {
		if err := c.fill(out, op.SelectionSet, nil, q); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *Conn) fill(dst map[string]any, set ast.SelectionSet, parents []*ast.Field, q string) error {
	for _, sel := range set {
		if frag, ok := sel.(*ast.InlineFragment); ok {
			// node(id:){... on Service{...}}: the SDK loads an object by
			// ID this way; its fields belong to the enclosing object.
			if err := c.fill(dst, frag.SelectionSet, parents, q); err != nil {
				return err
			}
			continue
		}
		f, ok := sel.(*ast.Field)
		if !ok {
			return fmt.Errorf("daggertest: named fragments are not supported")
		}
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		chain := append(append([]*ast.Field(nil), parents...), f)
		if len(f.SelectionSet) > 0 {
			obj := map[string]any{}
			if err := c.fill(obj, f.SelectionSet, chain, q); err != nil {
				return err
			}
			dst[key] = obj
			continue
		}
		leaf := Leaf{Fields: chain, Query: q}
		for _, p := range chain {
			leaf.Path = append(leaf.Path, p.Name)
		}
		v, err := c.leaf(leaf)
		if err != nil {
			return err
		}
		dst[key] = v
	}
	return nil
}

// ErrorAnswer makes the engine answer a query with a GraphQL error;
// Extensions are sent as the engine sends them (an exec failure:
// {"_type": "EXEC_ERROR", "cmd": [...], "exitCode": 1, "stdout": ..., "stderr": ...}).
type ErrorAnswer struct {
	Message    string
	Extensions map[string]any
}

func (e ErrorAnswer) Error() string { return e.Message }

// ExecFailure answers like an engine whose exec of cmd exited with code.
func ExecFailure(code int, stdout, stderr string, cmd ...string) ErrorAnswer {
	c := make([]any, len(cmd))
	for i, a := range cmd {
		c[i] = a
	}
	return ErrorAnswer{
		Message:    fmt.Sprintf("process %q did not complete successfully: exit code: %d", strings.Join(cmd, " "), code),
		Extensions: map[string]any{"_type": "EXEC_ERROR", "cmd": c, "exitCode": code, "stdout": stdout, "stderr": stderr},
	}
}

func (c *Conn) leaf(l Leaf) (any, error) {
	for _, a := range c.answers {
		if v, ok := a(l); ok {
			if e, isErr := v.(ErrorAnswer); isErr {
				return nil, e
			}
			return v, nil
		}
	}
	return c.Default(l), nil
}

// Default answers a leaf the tests did not: IDs (id, sync, and start and
// stop, which return the service's ID) are made from the query path so
// that a later query that passes the object as an argument shows where it
// came from; strings are empty, exit codes zero.
func (c *Conn) Default(l Leaf) any {
	switch l.Name() {
	case "id", "sync", "start", "stop":
		c.mu.Lock()
		c.n++
		n := c.n
		c.mu.Unlock()
		return fmt.Sprintf("id%d:%s", n, describe(l.Fields[:len(l.Fields)-1]))
	case "exitCode":
		return 0
	case "contents":
		// a file the code wrote itself (directory.withNewFile(...).file)
		// reads back as written
		if v, ok := writtenContents(l.Fields); ok {
			return v
		}
	case "entries", "glob", "args", "envVariables", "exposedPorts", "mounts", "platformVariants":
		return []any{}
	}
	return ""
}

func writtenContents(fields []*ast.Field) (string, bool) {
	for i := len(fields) - 2; i >= 1; i-- {
		f, nf := fields[i-1], fields[i]
		if f.Name != "withNewFile" || nf.Name != "file" {
			continue
		}
		var path, contents string
		for _, a := range f.Arguments {
			switch a.Name {
			case "path":
				path = a.Value.Raw
			case "contents":
				contents = a.Value.Raw
			}
		}
		for _, a := range nf.Arguments {
			if a.Name == "path" && a.Value.Raw == path {
				return contents, true
			}
		}
	}
	return "", false
}

// describe renders a field chain compactly: container(platform:"linux/amd64").from(address:"x").
func describe(fields []*ast.Field) string {
	var parts []string
	for _, f := range fields {
		parts = append(parts, f.Name+args(f))
	}
	return strings.Join(parts, ".")
}

// args renders a field's arguments sorted by name: (a:1, b:"x").
func args(f *ast.Field) string {
	if len(f.Arguments) == 0 {
		return ""
	}
	as := make([]string, 0, len(f.Arguments))
	for _, a := range f.Arguments {
		as = append(as, a.Name+":"+a.Value.String())
	}
	sort.Strings(as)
	return "(" + strings.Join(as, ", ") + ")"
}

// render writes a selection set in the SDK's compact form with sorted
// arguments: container(platform:"x"){from(address:"y"){id}}.
func render(b *strings.Builder, set ast.SelectionSet) {
	for i, sel := range set {
		if i > 0 {
			b.WriteByte(' ')
		}
		if frag, ok := sel.(*ast.InlineFragment); ok {
			b.WriteString("... on " + frag.TypeCondition + "{")
			render(b, frag.SelectionSet)
			b.WriteByte('}')
			continue
		}
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		if f.Alias != "" && f.Alias != f.Name {
			b.WriteString(f.Alias + ":")
		}
		b.WriteString(f.Name + args(f))
		if len(f.SelectionSet) > 0 {
			b.WriteByte('{')
			render(b, f.SelectionSet)
			b.WriteByte('}')
		}
	}
}

// Queries returns every query recorded so far, normalised: the selection
// only (no "query Query" prefix), arguments sorted by name and separated
// by ", ".
func (c *Conn) Queries() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.queries...)
}

// Matching returns the recorded queries that contain every fragment.
func (c *Conn) Matching(fragments ...string) []string {
	var out []string
	for _, q := range c.Queries() {
		if containsAll(q, fragments) {
			out = append(out, q)
		}
	}
	return out
}

// AssertQueried fails the test unless one recorded query contains every
// fragment. It checks the query text the SDK sent, not a run.
func (c *Conn) AssertQueried(t testing.TB, fragments ...string) string {
	t.Helper()
	if m := c.Matching(fragments...); len(m) > 0 {
		return m[0]
	}
	var short []string
	for _, q := range c.Queries() {
		if len(q) > 600 {
			q = q[:300] + " ... " + q[len(q)-300:]
		}
		short = append(short, q)
	}
	t.Errorf("no query contains all of %q; queries sent (long ones cut):\n%s", fragments, strings.Join(short, "\n---\n"))
	return ""
}

// AssertNotQueried fails the test if any recorded query contains fragment.
func (c *Conn) AssertNotQueried(t testing.TB, fragment string) {
	t.Helper()
	for _, q := range c.Queries() {
		if strings.Contains(q, fragment) {
			t.Errorf("a query contains %q but must not:\n%s", fragment, q)
		}
	}
}

// All concatenates every query, for order checks with strings.Index.
func (c *Conn) All() string { return strings.Join(c.Queries(), "\n") }

func containsAll(s string, frags []string) bool {
	for _, f := range frags {
		if !strings.Contains(s, f) {
			return false
		}
	}
	return true
}

// On answers leaves named name with v (for any path).
func On(name string, v any) Answer {
	return func(l Leaf) (any, bool) {
		if l.Name() == name {
			return v, true
		}
		return nil, false
	}
}

// OnPath answers a leaf whose path contains every element of path, in
// order, ending at the leaf.
func OnPath(v any, path ...string) Answer {
	return func(l Leaf) (any, bool) {
		if len(path) == 0 || l.Name() != path[len(path)-1] {
			return nil, false
		}
		i := 0
		for _, p := range l.Path {
			if i < len(path) && p == path[i] {
				i++
			}
		}
		if i == len(path) {
			return v, true
		}
		return nil, false
	}
}
