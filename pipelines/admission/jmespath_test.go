package admission

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A JMESPath subset, enough to evaluate the conditions Generate writes the
// way Kyverno would: field paths, flatten projections (a[].b[]), pipes,
// filters ([?x == 'v' || ...]), raw string and JSON literals, and the
// functions length and type. Anything else is an error, so a generated
// expression outside the subset fails the test instead of passing by luck.
// Kyverno's own packages are far too heavy for paved's dependency budget.

type jmes struct {
	src string
	pos int
}

// jmesEval evaluates expr against data (JSON-decoded: map[string]any,
// []any, float64, string, bool, nil).
func jmesEval(expr string, data any) (any, error) {
	p := &jmes{src: expr}
	ast, err := p.pipe()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("jmespath %q: unexpected %q at %d", expr, p.src[p.pos:], p.pos)
	}
	return ast(data)
}

type jnode func(any) (any, error)

func (p *jmes) space() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *jmes) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *jmes) errorf(format string, args ...any) error {
	return fmt.Errorf("jmespath %q at %d: %s", p.src, p.pos, fmt.Sprintf(format, args...))
}

// binary parses next (op next)* and folds the operands with join.
func (p *jmes) binary(op string, next func() (jnode, error), join func(l, r jnode) jnode) (jnode, error) {
	left, err := next()
	if err != nil {
		return nil, err
	}
	for {
		p.space()
		rest := p.src[p.pos:]
		if !strings.HasPrefix(rest, op) || op == "|" && strings.HasPrefix(rest, "||") {
			return left, nil
		}
		p.pos += len(op)
		right, err := next()
		if err != nil {
			return nil, err
		}
		left = join(left, right)
	}
}

// pipe := or ('|' or)*; a pipe ends a projection.
func (p *jmes) pipe() (jnode, error) {
	return p.binary("|", p.or, func(l, r jnode) jnode {
		return func(d any) (any, error) {
			v, err := l(d)
			if err != nil {
				return nil, err
			}
			return r(v)
		}
	})
}

// or := cmp ('||' cmp)*: the left value if truthy, else the right.
func (p *jmes) or() (jnode, error) {
	return p.binary("||", p.cmp, func(l, r jnode) jnode {
		return func(d any) (any, error) {
			v, err := l(d)
			if err != nil || truthy(v) {
				return v, err
			}
			return r(d)
		}
	})
}

// cmp := path ('==' path)*
func (p *jmes) cmp() (jnode, error) {
	return p.binary("==", p.path, func(l, r jnode) jnode {
		return func(d any) (any, error) {
			a, err := l(d)
			if err != nil {
				return nil, err
			}
			b, err := r(d)
			if err != nil {
				return nil, err
			}
			return reflect.DeepEqual(a, b), nil
		}
	})
}

// path := primary ('.' ident | '[]' | '[?' pipe ']')*. After '[]' the rest
// of the path applies to each element, dropping nulls (a projection).
func (p *jmes) path() (jnode, error) {
	cur, err := p.primary()
	if err != nil {
		return nil, err
	}
	type step struct {
		field   string
		flatten bool
		filter  jnode
	}
	var steps []step
	for {
		switch {
		case p.eat("."):
			id := p.ident()
			if id == "" {
				return nil, p.errorf("want a field name after '.'")
			}
			steps = append(steps, step{field: id})
		case p.eat("[]"):
			steps = append(steps, step{flatten: true})
		case p.eat("[?"):
			f, err := p.pipe()
			if err != nil {
				return nil, err
			}
			if !p.eat("]") {
				return nil, p.errorf("unclosed filter")
			}
			steps = append(steps, step{filter: f})
		default:
			return func(d any) (any, error) {
				v, err := cur(d)
				if err != nil {
					return nil, err
				}
				projecting := false
				for _, s := range steps {
					switch {
					case s.flatten:
						l, ok := v.([]any)
						if !ok {
							return nil, nil
						}
						var flat []any
						for _, e := range l {
							if sub, ok := e.([]any); ok {
								flat = append(flat, sub...)
							} else if e != nil {
								flat = append(flat, e)
							}
						}
						v, projecting = flat, true
					case s.filter != nil:
						if projecting {
							return nil, fmt.Errorf("jmespath: filter inside a projection is outside the subset (pipe first)")
						}
						l, ok := v.([]any)
						if !ok {
							return nil, nil
						}
						var kept []any
						for _, e := range l {
							ok, err := s.filter(e)
							if err != nil {
								return nil, err
							}
							if truthy(ok) {
								kept = append(kept, e)
							}
						}
						v, projecting = kept, true
					case projecting:
						l := v.([]any)
						var out []any
						for _, e := range l {
							if f := field(e, s.field); f != nil {
								out = append(out, f)
							}
						}
						v = out
					default:
						v = field(v, s.field)
					}
				}
				if l, ok := v.([]any); ok && l == nil {
					v = []any{}
				}
				return v, nil
			}, nil
		}
	}
}

func field(v any, name string) any {
	if m, ok := v.(map[string]any); ok {
		return m[name]
	}
	return nil
}

func (p *jmes) ident() string {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && p.pos > start {
			p.pos++
			continue
		}
		break
	}
	return p.src[start:p.pos]
}

// primary := '@' | 'raw' | `json` | '[?' ... (a filter of @) | fn(args) | ident
func (p *jmes) primary() (jnode, error) {
	p.space()
	switch {
	case p.eat("@"):
		return func(d any) (any, error) { return d, nil }, nil
	case p.eat("'"):
		end := strings.IndexByte(p.src[p.pos:], '\'')
		if end < 0 {
			return nil, p.errorf("unclosed raw string")
		}
		s := p.src[p.pos : p.pos+end]
		p.pos += end + 1
		return func(any) (any, error) { return s, nil }, nil
	case p.eat("`"):
		end := strings.IndexByte(p.src[p.pos:], '`')
		if end < 0 {
			return nil, p.errorf("unclosed literal")
		}
		var lit any
		if err := json.Unmarshal([]byte(p.src[p.pos:p.pos+end]), &lit); err != nil {
			return nil, p.errorf("literal: %v", err)
		}
		p.pos += end + 1
		return func(any) (any, error) { return lit, nil }, nil
	case strings.HasPrefix(p.src[p.pos:], "[?"):
		// A path starting with a filter applies to the current node.
		return func(d any) (any, error) { return d, nil }, nil
	}
	id := p.ident()
	if id == "" {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	if !p.eat("(") {
		return func(d any) (any, error) { return field(d, id), nil }, nil
	}
	arg, err := p.pipe()
	if err != nil {
		return nil, err
	}
	if !p.eat(")") {
		return nil, p.errorf("%s takes one argument here", id)
	}
	switch id {
	case "length":
		return func(d any) (any, error) {
			v, err := arg(d)
			if err != nil {
				return nil, err
			}
			switch x := v.(type) {
			case []any:
				return float64(len(x)), nil
			case map[string]any:
				return float64(len(x)), nil
			case string:
				return float64(len([]rune(x))), nil
			}
			// Kyverno fails the substitution, hence the rule.
			return nil, fmt.Errorf("jmespath: length of %T", v)
		}, nil
	case "type":
		return func(d any) (any, error) {
			v, err := arg(d)
			if err != nil {
				return nil, err
			}
			switch v.(type) {
			case []any:
				return "array", nil
			case map[string]any:
				return "object", nil
			case string:
				return "string", nil
			case float64:
				return "number", nil
			case bool:
				return "boolean", nil
			}
			return "null", nil
		}, nil
	}
	return nil, p.errorf("function %s is outside the subset", id)
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func TestJMESPathSubset(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"scanner":{"result":{"Results":[
		{"Vulnerabilities":[{"Severity":"HIGH"},{"Severity":"LOW"}]},
		{"Target":"no findings"},
		{"Vulnerabilities":[{"Severity":"CRITICAL"}]}]}}}`), &doc); err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]any{
		"scanner.result.Results[].Vulnerabilities[] | length(@)":                                                   3.0,
		"scanner.result.Results[].Vulnerabilities[] | [?Severity == 'CRITICAL'] | length(@)":                       1.0,
		"scanner.result.Results[].Vulnerabilities[] | [?Severity == 'HIGH' || Severity == 'CRITICAL'] | length(@)": 2.0,
		"scanner.result.Results[].Vulnerabilities[] | [?Severity == 'MEDIUM'] | length(@)":                         0.0,
		"scanner.result.Results[].Vulnerabilities[].Severity":                                                      []any{"HIGH", "LOW", "CRITICAL"},
		"type(scanner.result.Results)":                                                                             "array",
		"type(scanner.result.Nope)":                                                                                "null",
		"length(`[1, 2]`)":                                                                                         2.0,
	} {
		got, err := jmesEval(expr, doc)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v (%v), want %v", expr, got, err, want)
		}
	}
	for _, expr := range []string{
		"scanner.result.Nope[].Vulnerabilities[] | length(@)", // length(null) fails, as in Kyverno
		"scanner.result.Results[].Vulnerabilities[][?Severity == 'HIGH']",
		"max(scanner)",
		"scanner.",
		"scanner ]",
	} {
		if v, err := jmesEval(expr, doc); err == nil {
			t.Errorf("%s: no error, got %v", expr, v)
		}
	}
}
