package config

import (
	"fmt"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/template"
	"github.com/sidecar-injector/sidecar-injector/engine/typednode"
)

// Definition is one named sidecar definition, compiled at load: a static
// node, or a template rendered against each pod.
//
// The contract is a text template: a definition's text is rendered, then
// parsed as YAML. Parsing YAML on every pod is slow, so a definition whose
// actions all stand inside string fields is rendered field by field
// instead: only the templated strings are executed and set in a copy of the
// canonical node. That shortcut is taken only when its result provably
// equals the text path's (see safeScalar); otherwise the text path runs.
type Definition struct {
	Kind   Kind
	Name   string
	Source Position

	// canonical is the definition as the API server would serialize it
	// (field order of the Go type, defaults of omitempty), with tokens in
	// place of actions when templated.
	canonical *yaml.Node
	// scalars are the templated strings of canonical, when the definition
	// can be rendered field by field.
	scalars map[*yaml.Node]*scalarTemplate
	// text is the whole definition's template; nil when static.
	text *template.Template
	// onPath are the nodes of canonical that a rendering copies: those on
	// the way to a templated string, and a container's volumeMounts list
	// (injection appends to it). The rest is shared by every rendering.
	onPath map[*yaml.Node]bool
}

// scalarTemplate is one templated string of a definition.
type scalarTemplate struct {
	tmpl  *template.Template
	style yaml.Style // the style the string was written in
	flow  bool       // written inside a flow collection
	line  int        // line of the string in its file, for errors
}

// Templated reports whether the definition is rendered against each pod.
func (d *Definition) Templated() bool { return d.text != nil }

// Reads says what the definition's template can read of the pod (nothing
// for a static definition).
func (d *Definition) Reads() template.Reads {
	if d.text == nil {
		return template.Reads{}
	}
	return d.text.Reads()
}

// Render returns the definition for one pod. data is only read when the
// definition is templated.
//
// The caller may change the node's own fields (add one to a container,
// such as restartPolicy) and the items of a container's volumeMounts list;
// the rest of a static definition is shared by every pod it is injected
// into and must be left as it is. Copying whole sidecars for every pod
// cost more than anything else an injection does.
func (d *Definition) Render(data template.Data) (*yaml.Node, error) {
	if d.text == nil {
		return d.shallowCopy(), nil
	}
	if d.scalars != nil {
		r := &fieldRenderer{def: d, data: data}
		n := r.copy(d.canonical)
		if r.err != nil {
			return nil, r.err
		}
		if !r.unsafe {
			return n, nil
		}
	}
	return d.renderText(data)
}

// fieldRenderer renders the templated strings of a definition while it is
// copied.
type fieldRenderer struct {
	def    *Definition
	data   template.Data
	err    error
	unsafe bool // a rendered string would not read back as itself in YAML
}

// copy copies the nodes on the way to templated strings, rendering those,
// and shares the rest.
func (r *fieldRenderer) copy(n *yaml.Node) *yaml.Node {
	if st := r.def.scalars[n]; st != nil {
		c := *n
		if r.err == nil && !r.unsafe {
			r.render(st, &c)
		}
		return &c
	}
	if !r.def.onPath[n] {
		return n
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = r.copy(k)
	}
	return &c
}

func (r *fieldRenderer) render(st *scalarTemplate, copied *yaml.Node) {
	out, err := st.tmpl.Render(r.data)
	if err != nil {
		r.err = renderError(r.def.Source.File, st.line, err)
		return
	}
	if !safeScalar(st.style, st.flow, out) {
		r.unsafe = true
		return
	}
	copied.Value = out
}

// renderText is the contract's path: render the text, parse it as YAML,
// decode it strictly into its Kubernetes type.
func (d *Definition) renderText(data template.Data) (*yaml.Node, error) {
	out, err := d.text.Render(data)
	if err != nil {
		return nil, renderError(d.Source.File, d.Source.Line, err)
	}
	return d.parseRendered(out)
}

func (d *Definition) parseRendered(out string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("the rendered definition is not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the rendered definition is not a mapping")
	}
	typed := newTyped(d.Kind)
	if err := typednode.Decode(doc.Content[0], typed, typednode.Options{Strict: true}); err != nil {
		return nil, fmt.Errorf("the rendered definition is not a valid %s: %w", d.Kind, err)
	}
	n, err := typednode.Encode(typed)
	if err != nil {
		return nil, err
	}
	followSource(n, doc.Content[0])
	if name := yamlnode.String(n, "name"); name != d.Name {
		return nil, fmt.Errorf("the rendered definition is named %q, not %q", name, d.Name)
	}
	return n, nil
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

// compile builds a definition from its list item. Problems carry lines of
// the item's source (not offset).
func compile(kind Kind, name string, pos Position, item *yaml.Node, text string, ph *placeholders) (*Definition, []*Problem) {
	d := &Definition{Kind: kind, Name: name, Source: pos}
	tokens := ph.tokensIn(text)
	if len(tokens) == 0 {
		typed := newTyped(kind)
		if err := typednode.Decode(item, typed, typednode.Options{Strict: true}); err != nil {
			return nil, typedProblems(err)
		}
		n, err := typednode.Encode(typed)
		if err != nil {
			return nil, []*Problem{{Message: err.Error()}}
		}
		followSource(n, item)
		d.canonical = n
		return d, nil
	}
	tmpl, err := template.Parse(name, ph.restore(text))
	if err != nil {
		return nil, []*Problem{templateProblem(err, item.Line)}
	}
	d.text = tmpl
	d.compileFields(item, text, tokens, ph)
	if d.scalars == nil {
		// Only rendering tells whether the text is a valid definition; a pod
		// with nothing set finds most mistakes (unknown fields) at load.
		if out, err := tmpl.Execute(&corev1.Pod{}); err == nil {
			if _, err := d.parseRendered(out); err != nil {
				return nil, []*Problem{{Line: item.Line, Message: fmt.Sprintf("rendered for an empty pod: %v", err)}}
			}
		}
	}
	return d, nil
}

// compileFields prepares field-by-field rendering, or leaves d.scalars nil
// when the definition needs the text path: an action alone on its line (it
// may shape the YAML), an action in a key, a comment or a field that is not
// a plain string.
func (d *Definition) compileFields(item *yaml.Node, text string, tokens []int, ph *placeholders) {
	for _, t := range tokens {
		if ph.actions[t].structural {
			return
		}
	}
	typed := newTyped(d.Kind)
	if typednode.Decode(item, typed, typednode.Options{Strict: true}) != nil {
		return
	}
	canonical, err := typednode.Encode(typed)
	if err != nil || !sameShapeWithProbe(d.Kind, canonical, text, ph) {
		return
	}
	styles := map[int]*yaml.Node{} // token -> the source scalar holding it
	var flows map[*yaml.Node]bool
	walkScalars(item, false, func(n *yaml.Node, flow bool) {
		for _, t := range ph.tokensIn(n.Value) {
			styles[t] = n
			if flow {
				if flows == nil {
					flows = map[*yaml.Node]bool{}
				}
				flows[n] = true
			}
		}
	})
	scalars := map[*yaml.Node]*scalarTemplate{}
	found := 0
	ok := true
	walkCanonical(canonical, func(n *yaml.Node, isKey bool) {
		ts := ph.tokensIn(n.Value)
		if len(ts) == 0 || !ok {
			return
		}
		if isKey || n.Tag != "!!str" {
			ok = false
			return
		}
		src := styles[ts[0]]
		if src == nil {
			ok = false
			return
		}
		tmpl, err := template.Parse(d.Name, ph.restore(n.Value))
		if err != nil {
			ok = false // an action split across fields: the text path handles it
			return
		}
		found += len(ts)
		scalars[n] = &scalarTemplate{tmpl: tmpl, style: src.Style, flow: flows[src], line: src.Line + d.Source.Line - item.Line}
	})
	if !ok || found != len(tokens) {
		return
	}
	followSource(canonical, item)
	d.canonical, d.scalars = canonical, scalars
	d.onPath = map[*yaml.Node]bool{}
	markPaths(canonical, scalars, d.onPath)
	if d.Kind == InitContainer || d.Kind == Container {
		if mounts := yamlnode.Field(canonical, "volumeMounts"); mounts != nil {
			d.onPath[canonical], d.onPath[mounts] = true, true
		}
	}
}

// sameShapeWithProbe checks that every templated field is a string field:
// the item's text with each action replaced by "1" must decode to the same
// shape, strings in the same places. A field of another type (an
// IntOrString port, say) would read "8080" as a number on the text path.
func sameShapeWithProbe(kind Kind, canonical *yaml.Node, text string, ph *placeholders) bool {
	probe := text
	for _, a := range ph.actions {
		probe = strings.ReplaceAll(probe, a.token, "1")
	}
	var doc yaml.Node
	if yaml.Unmarshal([]byte(probe), &doc) != nil || len(doc.Content) == 0 {
		return false
	}
	typed := newTyped(kind)
	if typednode.Decode(doc.Content[0], typed, typednode.Options{Strict: true}) != nil {
		return false
	}
	probed, err := typednode.Encode(typed)
	if err != nil {
		return false
	}
	return sameShape(canonical, probed)
}

// followSource puts the fields of canonical (the Kubernetes type's
// serialization: values normalized, fields in the Go type's order) back in
// the order the author wrote them in source, and drops the empty mappings
// the serialization adds (resources: {}), so that an injected sidecar reads
// like its config in a reviewed manifest. The API server stores the same
// pod either way.
func followSource(canonical, source *yaml.Node) {
	if source.Kind == yaml.AliasNode && source.Alias != nil {
		source = source.Alias
	}
	switch canonical.Kind {
	case yaml.SequenceNode:
		if source.Kind == yaml.SequenceNode && len(source.Content) == len(canonical.Content) {
			for i := range canonical.Content {
				followSource(canonical.Content[i], source.Content[i])
			}
		}
	case yaml.MappingNode:
		if source.Kind != yaml.MappingNode {
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
			for j := 0; j+1 < len(source.Content); j += 2 {
				if source.Content[j].Value == k.Value {
					at = j
					followSource(v, source.Content[j+1])
					break
				}
			}
			if at < 0 {
				if v.Kind == yaml.MappingNode && len(v.Content) == 0 {
					continue // added by serialization, not written by the author
				}
				at = len(source.Content) + i
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

func sameShape(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.Tag != b.Tag || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !sameShape(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// safeScalar reports whether a rendered string, set as it is, equals what
// the text path gives: the rendered text placed in the source scalar of
// that style and read back by a YAML parser.
func safeScalar(style yaml.Style, flow bool, s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false // newlines and control characters change folding or need escapes
		}
	}
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		return !strings.ContainsAny(s, `"\`)
	case style&yaml.SingleQuotedStyle != 0:
		return !strings.Contains(s, "'")
	case style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return s != "" && s[len(s)-1] != ' '
	}
	// A plain scalar: it must stay one plain string, with nothing a YAML
	// parser would read as structure, a comment or null.
	if s == "" || s != strings.TrimSpace(s) || strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`") {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	if flow && strings.ContainsAny(s, ",[]{}") {
		return false
	}
	switch s {
	case "~", "null", "Null", "NULL":
		return false
	}
	return true
}

// walkScalars calls fn for each scalar of a parsed source node, saying
// whether it stands inside a flow collection.
func walkScalars(n *yaml.Node, flow bool, fn func(*yaml.Node, bool)) {
	flow = flow || n.Style&yaml.FlowStyle != 0
	if n.Kind == yaml.ScalarNode {
		fn(n, flow)
	}
	for _, c := range n.Content {
		walkScalars(c, flow, fn)
	}
}

// walkCanonical calls fn for each scalar of a canonical node, saying
// whether it is a mapping key.
func walkCanonical(n *yaml.Node, fn func(n *yaml.Node, isKey bool)) {
	switch n.Kind {
	case yaml.ScalarNode:
		fn(n, false)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			fn(n.Content[i], true)
			walkCanonical(n.Content[i+1], fn)
		}
	default:
		for _, c := range n.Content {
			walkCanonical(c, fn)
		}
	}
}

// markPaths marks the nodes on the way from n to any of targets, and
// reports whether n leads to one.
func markPaths(n *yaml.Node, targets map[*yaml.Node]*scalarTemplate, onPath map[*yaml.Node]bool) bool {
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
	if d.Kind == InitContainer || d.Kind == Container {
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == "volumeMounts" {
				mounts := *top.Content[i+1]
				mounts.Content = slices.Clone(mounts.Content)
				top.Content[i+1] = &mounts
			}
		}
	}
	return &top
}

// renderError places a template's execution error at its line in the
// config file: the template's line 1 is firstLine.
func renderError(file string, firstLine int, err error) error {
	if te, ok := err.(*template.Error); ok && te.Line > 0 {
		return fmt.Errorf("%s: %w", Position{File: file, Line: firstLine + te.Line - 1}, te.Err)
	}
	return fmt.Errorf("%s: %w", Position{File: file, Line: firstLine}, err)
}

// typedProblems turns a typed decode error into problems at their lines.
func typedProblems(err error) []*Problem {
	te, ok := err.(*typednode.Error)
	if !ok {
		return []*Problem{{Message: err.Error()}}
	}
	out := make([]*Problem, 0, len(te.Problems))
	for _, p := range te.Problems {
		msg := p.Message
		if p.Path != "" {
			msg = p.Path + ": " + msg
		}
		out = append(out, &Problem{Line: p.Line, Column: p.Column, Message: msg})
	}
	return out
}

// templateProblem places a template parse error at its line in the source:
// the template's line 1 is the item's first line.
func templateProblem(err error, itemLine int) *Problem {
	if te, ok := err.(*template.Error); ok && te.Line > 0 {
		return &Problem{Line: itemLine + te.Line - 1, Message: fmt.Sprintf("template: %v", te.Err)}
	}
	return &Problem{Line: itemLine, Message: fmt.Sprintf("template: %v", err)}
}
