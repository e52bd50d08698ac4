package model

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/template"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/typed"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
)

// Definition is one named sidecar definition, compiled at load.
//
// Its structure is fixed when the config loads: the YAML is parsed, and
// each scalar that holds template actions becomes a template of its own,
// whose output for a pod is that one scalar's value, never YAML. Whatever
// a pod holds, it cannot add a key, an item or a comment, nor change a
// neighbouring field. Where the field under the scalar is a number, a
// boolean or a quantity, the output is read as one.
type Definition struct {
	Kind   Kind
	Name   string
	Source Position

	// canonical is the definition as the API server would serialize it
	// (values normalized to their Kubernetes types, in the order the
	// author wrote the fields), with a probe value in each templated
	// scalar.
	canonical *yaml.Node
	// values are the templated scalars of canonical.
	values map[*yaml.Node]*value
	// onPath are the nodes of canonical that a rendering copies: those on
	// the way to a templated scalar, and a container's volumeMounts list
	// (injection appends to it). The rest is shared by every rendering.
	onPath map[*yaml.Node]bool
}

// value is one templated scalar of a definition.
type value struct {
	tmpl  *template.Template
	field string       // its path in the definition, for errors: ports[0].containerPort
	line  int          // its line in the config file
	typ   reflect.Type // the Go type under it, when not a plain string
	// omitEmpty: an empty string renders as no field at all, as it would
	// have written statically (value: "" is dropped by the API server too).
	omitEmpty bool
}

// Templated reports whether the definition is rendered against each pod.
func (d *Definition) Templated() bool { return len(d.values) > 0 }

// Fields returns the fields of the pod that the definition's templates can
// read. A static definition reads none.
func (d *Definition) Fields() template.Fields {
	fields := template.NoFields()
	for _, v := range d.values {
		fields.Add(v.tmpl.Fields())
	}
	return fields
}

// Render returns the definition for one pod (pod is only read when the
// definition is templated).
//
// The caller may change the node's own fields (add one to a container,
// such as restartPolicy) and the items of a container's volumeMounts list;
// the rest is shared by every pod it is injected into and must be left as
// it is. Copying whole sidecars for every pod cost more than anything else
// an injection does.
func (d *Definition) Render(pod *corev1.Pod) (*yaml.Node, error) {
	if !d.Templated() {
		return d.shallowCopy(), nil
	}
	r := &renderer{def: d, pod: pod}
	n := r.copy(d.canonical)
	if r.err != nil {
		return nil, r.err
	}
	return n, nil
}

// renderer renders the templated scalars of a definition while it is
// copied.
type renderer struct {
	def *Definition
	pod *corev1.Pod
	err error
}

// copy copies the nodes on the way to templated scalars, rendering those,
// and shares the rest. It returns nil for a field rendered away (an empty
// string where the field is omitted when empty).
func (r *renderer) copy(n *yaml.Node) *yaml.Node {
	if v := r.def.values[n]; v != nil {
		if r.err != nil {
			return n
		}
		out, err := v.render(r.def.Source.File, r.pod)
		if err != nil {
			r.err = err
			return n
		}
		return out
	}
	if !r.def.onPath[n] {
		return n
	}
	c := *n
	c.Content = make([]*yaml.Node, 0, len(n.Content))
	if n.Kind != yaml.MappingNode {
		for _, item := range n.Content {
			c.Content = append(c.Content, r.copy(item))
		}
		return &c
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := r.copy(n.Content[i+1]); v != nil {
			c.Content = append(c.Content, n.Content[i], v)
		}
	}
	return &c
}

// render renders the scalar for a pod: a string as it is, anything else
// read as its type.
func (v *value) render(file string, pod *corev1.Pod) (*yaml.Node, error) {
	at := Position{File: file, Line: v.line}
	s, err := v.tmpl.Execute(pod)
	if err != nil {
		if te, ok := err.(*template.Error); ok {
			err = te.Err
		}
		return nil, fmt.Errorf("%s: %s: %w", at, v.field, err)
	}
	if v.typ == nil {
		if s == "" && v.omitEmpty {
			return nil, nil
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s}, nil
	}
	n, err := typedScalar(v.typ, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: the template rendered %s: %w", at, v.field, clipQuote(s), err)
	}
	return n, nil
}

// typedScalar reads rendered text as a value of type t (a number, a
// boolean, a quantity, an int-or-string) and returns its canonical node.
// The text is never parsed as YAML: it is one scalar, decimal when a
// number.
func typedScalar(t reflect.Type, s string) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s}
	switch k := t.Kind(); {
	case t == intOrStringType:
		if _, err := strconv.ParseInt(s, 10, 32); err == nil {
			n.Tag = yaml.NodeTagInt
		}
	case k >= reflect.Int && k <= reflect.Uint64:
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			n.Tag = yaml.NodeTagInt
		} else if _, err := strconv.ParseUint(s, 10, 64); err == nil {
			n.Tag = yaml.NodeTagInt
		}
	case k == reflect.Float32 || k == reflect.Float64:
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			n.Tag = yaml.NodeTagFloat
		}
	case k == reflect.Bool:
		if s == "true" || s == "false" {
			n.Tag = yaml.NodeTagBool
		}
	}
	ptr := reflect.New(t)
	if err := typed.Decode(n, ptr.Interface()); err != nil {
		if te, ok := err.(*typed.Error); ok && len(te.Problems) > 0 {
			return nil, fmt.Errorf("%s", te.Problems[0].Message)
		}
		return nil, err
	}
	return typed.Encode(ptr.Interface())
}

var (
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
	quantityType    = reflect.TypeFor[resource.Quantity]()
)

// clipQuote quotes rendered text for an error message, clipped: it may
// come from the pod, and be long.
func clipQuote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}

// newTyped returns a pointer to the Kubernetes type of a kind.
func newTyped(k Kind) any {
	switch k {
	case InitContainer, Container:
		return &corev1.Container{}
	case Volume:
		return &corev1.Volume{}
	case VolumeMount:
		return &corev1.VolumeMount{}
	default:
		return &corev1.LocalObjectReference{}
	}
}

// templated is a scalar of a definition's source that holds actions.
type templated struct {
	node      *yaml.Node // in the probe copy of the source
	line, col int        // of the scalar in the file
	path      []typed.Step
	text      string // the template: the scalar's value, actions restored
}

func pathString(path []typed.Step) string {
	var b strings.Builder
	for _, s := range path {
		if !s.IsKey {
			fmt.Fprintf(&b, "[%d]", s.Index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Key)
	}
	return b.String()
}

// compile builds a definition from its list item in document src.
// Problems are at their lines and columns in the file.
func compile(kind Kind, name string, pos Position, item *yaml.Node, src *doc) (*Definition, []*config.Problem) {
	probe := yaml.CopyYNode(item)
	found, probs := findTemplated(probe, src)
	if len(probs) > 0 {
		return nil, probs
	}
	target := newTyped(kind)
	values, probs := parseValues(name, found, reflect.TypeOf(target).Elem())
	if len(probs) > 0 {
		return nil, probs
	}
	// Decoded strictly with a stand-in in each templated scalar: an unknown
	// field is reported at its line whatever the templates render.
	if err := typed.Decode(probe, target); err != nil {
		return nil, src.typedProblems(err)
	}
	n, err := typed.Encode(target)
	if err != nil {
		return nil, []*config.Problem{{Message: err.Error()}}
	}
	followSource(n, item)
	d := &Definition{Kind: kind, Name: name, Source: pos, canonical: n}
	if len(found) == 0 {
		return d, nil
	}
	if p := d.bindValues(found, values); p != nil {
		return nil, []*config.Problem{p}
	}
	d.onPath = map[*yaml.Node]bool{}
	markPaths(n, d.values, d.onPath)
	if kind == InitContainer || kind == Container {
		if mounts := yamlnode.Field(n, "volumeMounts"); mounts != nil {
			d.onPath[n], d.onPath[mounts] = true, true
		}
	}
	return d, nil
}

// findTemplated lists the scalars of a definition's source that hold
// actions, and the actions that stand where no value can come from them
// (a key, an anchor an alias repeats, a merged mapping).
func findTemplated(probe *yaml.Node, d *doc) ([]templated, []*config.Problem) {
	var found []templated
	var probs []*config.Problem
	ph := d.ph
	problem := func(n *yaml.Node, msg string) {
		line, col := d.at(n)
		probs = append(probs, &config.Problem{Line: line, Column: col, Message: msg})
	}
	var walk func(n *yaml.Node, path []typed.Step)
	walk = func(n *yaml.Node, path []typed.Step) {
		switch n.Kind {
		case yaml.AliasNode:
			if target := jsonnode.FollowAlias(n); target != nil && ph.holdsActions(target) {
				problem(n, "a template action cannot be inside an anchor that an alias repeats: write it out where it is used")
			}
		case yaml.ScalarNode:
			if ph.holdsActions(n) {
				line, col := d.at(n)
				found = append(found, templated{node: n, line: line, col: col, path: slices.Clone(path), text: ph.restoreValue(n.Value, n.Style)})
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, append(path, typed.Step{Index: i}))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if ph.holdsActions(k) {
					ph.restoreValue(k.Value, k.Style) // reported here, not as unused
					problem(k, "a template action cannot be a key: an action renders a value, never YAML structure")
					continue
				}
				if jsonnode.IsMergeKey(k) && ph.holdsActions(n.Content[i+1]) {
					problem(k, "a template action cannot be inside a merged mapping (<<): write it out where it is used")
					continue
				}
				walk(n.Content[i+1], append(path, typed.Step{Key: k.Value, IsKey: true}))
			}
		}
	}
	walk(probe, nil)
	return found, probs
}

// parseValues parses the template of each templated scalar and puts a
// stand-in value of the field's type (t is the definition's Go type) in
// its place in the probe. A scalar under an unknown field gets no value:
// decoding reports the field.
func parseValues(name string, found []templated, t reflect.Type) ([]*value, []*config.Problem) {
	values := make([]*value, len(found))
	var probs []*config.Problem
	for i, f := range found {
		v := &value{field: pathString(f.path), line: f.line}
		ft, omitEmpty := fieldType(t, f.path)
		if ft == nil {
			continue
		}
		switch {
		case ft.Kind() == reflect.String:
			v.omitEmpty = omitEmpty
		case ft == intOrStringType || ft == quantityType:
			v.typ = ft
			f.node.Value, f.node.Tag = "1", yaml.NodeTagInt
		case ft.Kind() == reflect.Bool:
			v.typ = ft
			f.node.Value, f.node.Tag = "true", yaml.NodeTagBool
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Uint64:
			v.typ = ft
			f.node.Value, f.node.Tag = "1", yaml.NodeTagInt
		default:
			probs = append(probs, &config.Problem{Line: f.line, Column: f.col, Message: fmt.Sprintf(
				"%s: a template action renders one value (a string, a number or a boolean), and %s is %s", v.field, v.field, typed.Describe(ft))})
			continue
		}
		tmpl, err := template.Parse(name, f.text)
		if err != nil {
			first := f.line
			if f.node.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				first++ // a block scalar's text starts below its indicator
			}
			p := templateProblem(err, first)
			p.Message = v.field + ": " + p.Message
			probs = append(probs, p)
			continue
		}
		v.tmpl = tmpl
		values[i] = v
	}
	return values, probs
}

// bindValues ties each templated scalar's value to its node in the
// canonical definition. A number or a boolean that a template renders
// without reading the pod is checked now rather than at the first pod.
func (d *Definition) bindValues(found []templated, values []*value) *config.Problem {
	d.values = map[*yaml.Node]*value{}
	for i, f := range found {
		target := typed.Node(d.canonical, pathString(f.path))
		if target == nil || values[i] == nil {
			return &config.Problem{Line: f.line, Message: fmt.Sprintf("%s: a templated field that the definition's type drops", pathString(f.path))}
		}
		d.values[target] = values[i]
		if typ := values[i].typ; typ != nil {
			if s, err := values[i].tmpl.Execute(&corev1.Pod{}); err == nil {
				if _, err := typedScalar(typ, s); err != nil {
					return &config.Problem{Line: f.line, Message: fmt.Sprintf("%s: the template renders %s for a pod with nothing set: %v", values[i].field, clipQuote(s), err)}
				}
			}
		}
	}
	return nil
}

// fieldType follows a path of JSON names and indexes from struct type t
// and returns the Go type there, dereferenced (nil when the path names no
// field), and whether its field is omitted when empty.
func fieldType(t reflect.Type, path []typed.Step) (reflect.Type, bool) {
	ft := typed.TypeAt(t, path)
	last := len(path) - 1
	if ft == nil || last < 0 || !path[last].IsKey {
		return ft, false
	}
	if parent := typed.TypeAt(t, path[:last]); parent.Kind() == reflect.Struct {
		sf, _ := typed.Field(parent, path[last].Key)
		_, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		return ft, slices.Contains(strings.Split(opts, ","), "omitempty")
	}
	return ft, false
}

// followSource puts the fields of canonical (the Kubernetes type's
// serialization: values normalized, fields in the Go type's order) back in
// the order the author wrote them in source, and drops the empty mappings
// the serialization adds (resources: {}), so that an injected sidecar reads
// like its config in a reviewed manifest. The API server stores the same
// pod either way.
func followSource(canonical, source *yaml.Node) {
	source = jsonnode.FollowAlias(source)
	switch {
	case source == nil:
	case canonical.Kind == yaml.SequenceNode:
		if source.Kind == yaml.SequenceNode && len(source.Content) == len(canonical.Content) {
			for i := range canonical.Content {
				followSource(canonical.Content[i], source.Content[i])
			}
		}
	case canonical.Kind == yaml.MappingNode:
		written, err := jsonnode.Pairs(source) // as decoded: merge keys expanded
		if err != nil {
			return
		}
		type pair struct {
			k, v *yaml.Node
			at   int
		}
		pairs := make([]pair, 0, len(canonical.Content)/2)
		for i := 0; i+1 < len(canonical.Content); i += 2 {
			k, v := canonical.Content[i], canonical.Content[i+1]
			at := -1
			for j := 0; j+1 < len(written); j += 2 {
				if written[j].Value == k.Value {
					at = j
					followSource(v, written[j+1])
					break
				}
			}
			if at < 0 {
				if v.Kind == yaml.MappingNode && len(v.Content) == 0 {
					continue // added by serialization, not written by the author
				}
				at = len(written) + i
			}
			pairs = append(pairs, pair{k, v, at})
		}
		slices.SortStableFunc(pairs, func(a, b pair) int { return a.at - b.at })
		canonical.Content = canonical.Content[:0]
		for _, p := range pairs {
			canonical.Content = append(canonical.Content, p.k, p.v)
		}
	}
}

// markPaths marks the nodes on the way from n to any of targets, and
// reports whether n leads to one.
func markPaths(n *yaml.Node, targets map[*yaml.Node]*value, onPath map[*yaml.Node]bool) bool {
	if targets[n] != nil {
		return true
	}
	leads := false
	for _, c := range n.Content {
		if markPaths(c, targets, onPath) {
			leads = true
		}
	}
	if leads {
		onPath[n] = true
	}
	return leads
}

// shallowCopy copies what injection may change of a static definition:
// the mapping itself and, in a container, its volumeMounts list. Their
// child lists are cloned too, so that appending to them never writes into
// the shared definition.
func (d *Definition) shallowCopy() *yaml.Node {
	top := *d.canonical
	top.Content = slices.Clone(d.canonical.Content)
	if mounts := yamlnode.Field(&top, "volumeMounts"); mounts != nil && (d.Kind == InitContainer || d.Kind == Container) {
		c := *mounts
		c.Content = slices.Clone(mounts.Content)
		yamlnode.Set(&top, "volumeMounts", &c)
	}
	return &top
}

// typedProblems turns a typed decode error of the document into problems
// at their lines and columns in the file.
func (d *doc) typedProblems(err error) []*config.Problem {
	te, ok := err.(*typed.Error)
	if !ok {
		return []*config.Problem{{File: d.file, Message: err.Error()}}
	}
	out := make([]*config.Problem, 0, len(te.Problems))
	for _, p := range te.Problems {
		msg := p.Message
		if p.Path != "" {
			msg = p.Path + ": " + msg
		}
		if p.First > 0 {
			first, _ := d.pos(p.First, 0)
			msg += fmt.Sprintf(" (first at line %d)", first)
		}
		line, col := d.pos(p.Line, p.Column)
		out = append(out, &config.Problem{File: d.file, Line: line, Column: col, Message: msg})
	}
	return out
}

// templateProblem places a template parse error at its line in the source:
// the template's line 1 is the scalar text's first line.
func templateProblem(err error, line int) *config.Problem {
	if te, ok := err.(*template.Error); ok && te.Line > 0 {
		return &config.Problem{Line: line + te.Line - 1, Message: fmt.Sprintf("template: %v", te.Err)}
	}
	return &config.Problem{Line: line, Message: fmt.Sprintf("template: %v", err)}
}
