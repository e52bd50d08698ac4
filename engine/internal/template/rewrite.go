package template

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	ttemplate "text/template"
	"text/template/parse"

	corev1 "k8s.io/api/core/v1"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/suggest"
)

// podMethods (pod_methods.go) lists the pod's Go methods that templates may
// not call.
//go:generate go run ./internal/podmethods

var podType = reflect.TypeFor[corev1.Pod]()

// rewrite checks the parse trees of a template at load and instruments them
// for bounded execution:
//
//   - every range body and every defined template starts with a call of the
//     step function, which counts steps and checks the deadline;
//   - an action whose value is not statically a scalar pipes its value into
//     the output function, which measures it before formatting;
//   - a range over an integer literal above MaxSteps is refused;
//   - a defined template that calls itself, directly or not, or a template
//     that is not defined, is refused;
//   - a field of the pod that core/v1 Pod does not have is refused, with
//     the nearest field's name.
//
// It returns the rewriter, which holds the names of the functions the
// template uses and the pod's fields it reads.
func rewrite(t *ttemplate.Template, lim Limits) (*rewriter, *Error) {
	r := &rewriter{lim: lim, calls: map[string][]call{}, used: map[string]bool{}, reads: NoFields()}
	tmpls := t.Templates()
	// In the order of the text, so that the first error reported is stable.
	// Every template has a tree: AddParseTree gave each its own.
	slices.SortFunc(tmpls, func(a, b *ttemplate.Template) int { return cmp.Compare(a.Tree.Root.Pos, b.Tree.Root.Pos) })
	for _, tt := range tmpls {
		main := tt.Name() == internalName
		r.tree = tt.Tree
		r.name = tt.Name()
		r.list(tt.Tree.Root, main, main)
		if r.err != nil {
			return nil, r.err
		}
		if !main {
			root := tt.Tree.Root
			root.Nodes = append([]parse.Node{r.stepNode(root.Pos)}, root.Nodes...)
		}
	}
	if err := r.checkCalls(t); err != nil {
		return nil, err
	}
	return r, nil
}

type call struct {
	name string
	pos  parse.Pos
	tree *parse.Tree
}

type rewriter struct {
	lim   Limits
	tree  *parse.Tree
	name  string
	calls map[string][]call // template name -> templates it calls
	used  map[string]bool   // functions named
	err   *Error
	reads Fields // the pod's fields the template reads
}

func (r *rewriter) fail(pos parse.Pos, tree *parse.Tree, format string, args ...any) {
	if r.err == nil {
		r.err = &Error{Line: lineOf(tree, pos), Err: fmt.Errorf(format, args...)}
	}
}

func lineOf(tree *parse.Tree, pos parse.Pos) int {
	loc, _ := tree.ErrorContext(&parse.TextNode{Pos: pos})
	// loc is "name:line:col"
	parts := strings.Split(loc, ":")
	if len(parts) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(parts[len(parts)-2])
	return n
}

// list walks a list. dotPod says whether dot is the pod; main whether this is
// the main template (where $ is the pod).
func (r *rewriter) list(l *parse.ListNode, dotPod, main bool) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			r.pipe(n.Pipe, dotPod, main)
			if len(n.Pipe.Decl) == 0 && !r.scalar(n.Pipe, dotPod, main) {
				n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{
					NodeType: parse.NodeCommand,
					Pos:      n.Pos,
					Args:     []parse.Node{parse.NewIdentifier(outFunc).SetTree(r.tree).SetPos(n.Pos)},
				})
			}
		case *parse.IfNode:
			r.pipe(n.Pipe, dotPod, main)
			r.list(n.List, dotPod, main)
			r.list(n.ElseList, dotPod, main)
		case *parse.WithNode:
			r.pipe(n.Pipe, dotPod, main)
			r.list(n.List, false, main)
			r.list(n.ElseList, dotPod, main)
		case *parse.RangeNode:
			r.pipe(n.Pipe, dotPod, main)
			r.checkRange(n)
			r.list(n.List, false, main)
			n.List.Nodes = append([]parse.Node{r.stepNode(n.Pos)}, n.List.Nodes...)
			r.list(n.ElseList, dotPod, main)
		case *parse.TemplateNode:
			r.pipe(n.Pipe, dotPod, main)
			r.calls[r.name] = append(r.calls[r.name], call{name: n.Name, pos: n.Pos, tree: r.tree})
		}
	}
}

// pipe refuses, anywhere in a pipeline, the methods of the pod's Go types
// and the fields the pod does not have. dotPod and main say whether dot
// and $ are the pod.
func (r *rewriter) pipe(p *parse.PipeNode, dotPod, main bool) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			r.arg(a, dotPod, main)
		}
	}
}

func (r *rewriter) arg(n parse.Node, dotPod, main bool) {
	var names, podFields []string
	switch n := n.(type) {
	case *parse.FieldNode:
		names = n.Ident
		if dotPod {
			podFields = n.Ident
			r.reads.read(n.Ident)
		}
	case *parse.VariableNode:
		names = n.Ident[1:]
		if main && n.Ident[0] == "$" {
			podFields = n.Ident[1:]
			r.reads.read(n.Ident[1:])
		}
	case *parse.DotNode:
		if dotPod {
			r.reads.read(nil)
		}
	case *parse.ChainNode:
		r.arg(n.Node, dotPod, main)
		names = n.Field
	case *parse.PipeNode:
		r.pipe(n, dotPod, main)
	case *parse.IdentifierNode:
		r.used[n.Ident] = true
	}
	for _, name := range names {
		if podMethods[name] {
			r.fail(n.Position(), r.tree, "method %q cannot be called: templates read the pod's fields, not its Go methods", name)
			return
		}
	}
	r.checkFields(n.Position(), podFields)
}

// checkFields refuses a chain of field names read from the pod that
// core/v1 Pod does not have: text/template would only find out on every
// pod. Map keys (.Annotations.x) are data, not checked.
func (r *rewriter) checkFields(pos parse.Pos, names []string) {
	t := podType
	for _, name := range names {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		sf, ok := t.FieldByName(name)
		if !ok || !sf.IsExported() {
			r.fail(pos, r.tree, "the pod has no field %q in %s%s", name, t.Name(), suggest.DidYouMean(name, exportedFields(t)))
			return
		}
		t = sf.Type
	}
}

// exportedFields lists the fields a template can name on struct type t,
// promoted ones included.
func exportedFields(t reflect.Type) []string {
	var out []string
	for _, f := range reflect.VisibleFields(t) {
		if f.IsExported() && !f.Anonymous {
			out = append(out, f.Name)
		}
	}
	return out
}

// stepNode is `{% $-step := step %}`: a declaration, so nothing is printed.
func (r *rewriter) stepNode(pos parse.Pos) *parse.ActionNode {
	return &parse.ActionNode{
		NodeType: parse.NodeAction,
		Pos:      pos,
		Pipe: &parse.PipeNode{
			NodeType: parse.NodePipe,
			Pos:      pos,
			Decl:     []*parse.VariableNode{{NodeType: parse.NodeVariable, Pos: pos, Ident: []string{stepVar}}},
			Cmds: []*parse.CommandNode{{
				NodeType: parse.NodeCommand,
				Pos:      pos,
				Args:     []parse.Node{parse.NewIdentifier(stepFunc).SetTree(r.tree).SetPos(pos)},
			}},
		},
	}
}

func (r *rewriter) checkRange(n *parse.RangeNode) {
	if len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
		return
	}
	num, ok := n.Pipe.Cmds[0].Args[0].(*parse.NumberNode)
	if !ok {
		return
	}
	if (num.IsInt && num.Int64 > int64(r.lim.MaxSteps)) || (num.IsUint && num.Uint64 > uint64(r.lim.MaxSteps)) {
		r.fail(n.Pos, r.tree, "range over %s exceeds the limit of %d iterations", num.Text, r.lim.MaxSteps)
	}
}

// scalar reports whether the pipeline's value is statically known to be a
// string, number or bool, which text/template may print directly.
func (r *rewriter) scalar(p *parse.PipeNode, dotPod, main bool) bool {
	if len(p.Cmds) == 0 {
		return false
	}
	c := p.Cmds[len(p.Cmds)-1]
	switch a := c.Args[0].(type) {
	case *parse.StringNode, *parse.NumberNode, *parse.BoolNode:
		return len(c.Args) == 1
	case *parse.FieldNode, *parse.VariableNode:
		return len(c.Args) == 1 && isScalar(resolve(podField(a, dotPod, main), nil, 0))
	case *parse.IdentifierNode:
		switch a.Ident {
		case "eq", "ne", "lt", "le", "gt", "ge", "not", "len":
			return true
		case "index":
			// index of a statically typed pod field, e.g. index .Annotations "k"
			return len(c.Args) >= 3 && isScalar(resolve(podField(c.Args[1], dotPod, main), nil, len(c.Args)-2))
		}
		if fn, ok := funcMap(r.lim)[a.Ident]; ok {
			return isScalar(reflect.TypeOf(resolveFunc(fn)).Out(0))
		}
	}
	return false
}

// podField returns the type of a field of the pod that n reads (.X.Y where
// dot is the pod, $.X.Y in the main template), nil when n reads something
// else or the type cannot be known statically.
func podField(n parse.Node, dotPod, main bool) reflect.Type {
	switch n := n.(type) {
	case *parse.FieldNode:
		if dotPod {
			return resolve(podType, n.Ident, 0)
		}
	case *parse.VariableNode:
		if main && n.Ident[0] == "$" && len(n.Ident) > 1 {
			return resolve(podType, n.Ident[1:], 0)
		}
	}
	return nil
}

// resolve follows field names from type t as text/template would, then
// indexes idx times; it returns nil when the result cannot be known
// statically (a method, an interface, an unknown field).
func resolve(t reflect.Type, fields []string, idx int) reflect.Type {
	if t == nil {
		return nil
	}
	for _, f := range fields {
		if _, ok := reflect.PointerTo(t).MethodByName(f); ok {
			return nil
		}
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			sf, ok := t.FieldByName(f)
			if !ok || !sf.IsExported() {
				return nil
			}
			t = sf.Type
		case reflect.Map:
			if t.Key().Kind() != reflect.String {
				return nil
			}
			t = t.Elem()
		default:
			return nil
		}
	}
	for range idx {
		switch t.Kind() {
		case reflect.Map, reflect.Slice, reflect.Array:
			t = t.Elem()
		default:
			return nil
		}
	}
	if t.Kind() == reflect.String && (t.Implements(stringerType) || reflect.PointerTo(t).Implements(stringerType)) {
		return nil
	}
	return t
}

// checkCalls refuses a call of a template that is not defined, and a
// defined template that calls itself: depth is then bounded by the number
// of templates.
func (r *rewriter) checkCalls(t *ttemplate.Template) *Error {
	for _, calls := range r.calls {
		for _, c := range calls {
			if t.Lookup(c.name) == nil {
				return &Error{Line: lineOf(c.tree, c.pos), Err: fmt.Errorf("template %q is not defined", c.name)}
			}
		}
	}
	const (
		unseen = iota
		active
		done
	)
	mark := map[string]int{}
	var visit func(name string) *call
	visit = func(name string) *call {
		mark[name] = active
		for i := range r.calls[name] {
			c := &r.calls[name][i]
			switch mark[c.name] {
			case active:
				return c
			case unseen:
				if bad := visit(c.name); bad != nil {
					return bad
				}
			}
		}
		mark[name] = done
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(r.calls)) {
		if mark[name] == unseen {
			if c := visit(name); c != nil {
				return &Error{
					Line: lineOf(c.tree, c.pos),
					Err:  fmt.Errorf("template %q is called recursively; recursive templates are not allowed", c.name),
				}
			}
		}
	}
	return nil
}
