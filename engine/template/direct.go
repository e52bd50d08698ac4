package template

import (
	"reflect"
	"strings"
	"text/template/parse"

	corev1 "k8s.io/api/core/v1"

	"github.com/sidecar-injector/sidecar-injector/engine/typednode"
)

// direct renders, without text/template, a template that is only text and
// actions reading a string from the pod: `{% .Spec.ServiceAccountName %}`,
// `{% index .Annotations "role" %}`. These are most of the templates real
// configs hold (the old injector's among them), and text/template's
// reflective evaluation of them costs more than the rest of rendering a
// sidecar on the webhook's path. Anything else is left to text/template,
// and so is any output over the size limit, so that errors are its own. A
// test renders templates both ways over many pods.
type direct struct {
	parts []directPart
}

// directPart is a piece of output: literal text, or a string read from the
// pod through field indexes (and a map key, for index).
type directPart struct {
	text   string
	field  []int // nil for text
	mapKey *string
	// path is the field's JSON path in the pod, for Data.Field and
	// Data.MapValue; nil when a field on the way has no JSON name.
	path []string
}

var (
	stringType    = reflect.TypeFor[string]()
	stringMapType = reflect.TypeFor[map[string]string]()
)

// compileDirect returns the direct form of a template parsed into trees,
// or nil when it has another shape: defined templates, variables, pipes,
// functions, control structures, a field that is not a plain string of
// the pod.
func compileDirect(trees map[string]*parse.Tree) *direct {
	if len(trees) != 1 {
		return nil
	}
	tree := trees[internalName]
	if tree == nil || tree.Root == nil {
		return nil
	}
	d := &direct{}
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			d.parts = append(d.parts, directPart{text: string(n.Text)})
		case *parse.ActionNode:
			p, ok := directAction(n.Pipe)
			if !ok {
				return nil
			}
			d.parts = append(d.parts, p)
		default:
			return nil
		}
	}
	return d
}

// directAction compiles `.A.B` (a string field) or `index .A.B "key"` (a
// map[string]string field and a literal key).
func directAction(p *parse.PipeNode) (directPart, bool) {
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) != 1 {
		return directPart{}, false
	}
	args := p.Cmds[0].Args
	switch a := args[0].(type) {
	case *parse.FieldNode:
		index, path, ok := podField(a.Ident, stringType)
		return directPart{field: index, path: path}, ok && len(args) == 1
	case *parse.IdentifierNode:
		if a.Ident != "index" || len(args) != 3 {
			return directPart{}, false
		}
		m, ok1 := args[1].(*parse.FieldNode)
		key, ok2 := args[2].(*parse.StringNode)
		if !ok1 || !ok2 {
			return directPart{}, false
		}
		index, path, ok := podField(m.Ident, stringMapType)
		k := key.Text
		return directPart{field: index, mapKey: &k, path: path}, ok
	}
	return directPart{}, false
}

// podField returns the index path of the pod field that a chain of field
// names reaches, when text/template would read exactly that field (no
// method of the same name, exported, through structs held by value) and
// its type is want; and its JSON path (nil when a field on the way has no
// JSON name).
func podField(names []string, want reflect.Type) (index []int, path []string, ok bool) {
	t := podType
	named := true
	for _, name := range names {
		if t.Kind() != reflect.Struct {
			return nil, nil, false
		}
		if _, ok := reflect.PointerTo(t).MethodByName(name); ok {
			return nil, nil, false
		}
		sf, ok := t.FieldByName(name)
		if !ok || !sf.IsExported() {
			return nil, nil, false
		}
		// A promoted field reached through an embedded pointer could be
		// nil: text/template's error, not ours. Each struct on the way
		// adds its JSON name, unless it is inlined (TypeMeta).
		inner := t
		for j, i := range sf.Index {
			if inner.Kind() != reflect.Struct {
				return nil, nil, false
			}
			f := inner.Field(i)
			switch jsonName, inline, ok := typednode.FieldName(f); {
			case !ok:
				named = false
			case !inline:
				path = append(path, jsonName)
			}
			if j < len(sf.Index)-1 {
				inner = f.Type
			}
		}
		index = append(index, sf.Index...)
		t = sf.Type
	}
	if !named {
		path = nil
	}
	return index, path, t == want
}

// execute renders the template against pod, or reports false when the
// output would exceed max bytes.
func (d *direct) execute(pod *corev1.Pod, max int) (string, bool) {
	return d.render(max, func(p *directPart) (string, bool) {
		v := reflect.ValueOf(pod).Elem().FieldByIndex(p.field)
		if p.mapKey == nil {
			return v.String(), true
		}
		return v.Interface().(map[string]string)[*p.mapKey], true
	})
}

// executeFields renders the template from the strings data gives by JSON
// path, or reports false when data cannot give one of them or the output
// would exceed max bytes.
func (d *direct) executeFields(data Data, max int) (string, bool) {
	return d.render(max, func(p *directPart) (string, bool) {
		switch {
		case p.path == nil:
			return "", false
		case p.mapKey == nil:
			return data.Field(p.path)
		default:
			return data.MapValue(p.path, *p.mapKey)
		}
	})
}

// render writes the parts, each field as read gives it, or reports false
// when read does or the output would exceed max bytes.
func (d *direct) render(max int, read func(*directPart) (string, bool)) (string, bool) {
	if len(d.parts) == 1 && d.parts[0].field != nil {
		s, ok := read(&d.parts[0])
		return s, ok && len(s) <= max
	}
	var b strings.Builder
	for i := range d.parts {
		p := &d.parts[i]
		if p.field == nil {
			b.WriteString(p.text)
		} else {
			s, ok := read(p)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		if b.Len() > max {
			return "", false
		}
	}
	return b.String(), true
}
