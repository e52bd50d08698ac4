// Package jsonpatch computes the JSON patch (RFC 6902) that turns one node
// tree into another, for the webhook's answer to the API server.
//
// The webhook keeps a copy of the pod before the engine mutates it and
// compares it with the result. The patch is minimal in the way that matters
// for review and for the API server: it adds what is new and replaces what
// changed, and never removes and re-adds an element that is still there.
// List elements are matched by their "name" field when they have one (the
// pod's containers, volumes, mounts, env), else by value, so an injected
// container or mount becomes one "add" and the pod's own containers are only
// touched where something was added inside them.
package jsonpatch

import (
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Op is a JSON patch operation name.
type Op string

// The operations Diff produces.
const (
	Add     Op = "add"
	Replace Op = "replace"
	Remove  Op = "remove"
)

// Operation is one step of a JSON patch. Value is nil for Remove.
type Operation struct {
	Op    Op
	Path  string // a JSON pointer (RFC 6901)
	Value *yaml.Node
}

// Diff returns the operations that turn before into after, in the order they
// must be applied. Neither tree is modified; the returned operations share
// nodes of after.
func Diff(before, after *yaml.Node) []Operation {
	d := differ{}
	d.diff(resolve(before), resolve(after))
	return d.ops
}

// differ accumulates operations while walking two trees. path holds the
// escaped reference tokens of the current location; a pointer string is
// built only when an operation is emitted, so unchanged subtrees cost no
// allocation.
type differ struct {
	path []string
	ops  []Operation
}

func (d *differ) emit(op Op, last string, value *yaml.Node) {
	var b strings.Builder
	for _, t := range d.path {
		b.WriteByte('/')
		b.WriteString(t)
	}
	b.WriteByte('/')
	b.WriteString(last)
	d.ops = append(d.ops, Operation{Op: op, Path: b.String(), Value: value})
}

// diff compares a and b found at d.path.
func (d *differ) diff(a, b *yaml.Node) {
	switch {
	case a.Kind != b.Kind:
		d.replaceHere(b)
	case a.Kind == yaml.MappingNode:
		d.diffMap(a, b)
	case a.Kind == yaml.SequenceNode:
		d.diffSeq(a, b)
	default:
		if !scalarEqual(a, b) {
			d.replaceHere(b)
		}
	}
}

// replaceHere replaces the value at d.path (the whole document when the
// path is empty).
func (d *differ) replaceHere(b *yaml.Node) {
	if len(d.path) == 0 {
		d.ops = append(d.ops, Operation{Op: Replace, Path: "", Value: b})
		return
	}
	last := d.path[len(d.path)-1]
	d.path = d.path[:len(d.path)-1]
	d.emit(Replace, last, b)
	d.path = append(d.path, last)
}

func (d *differ) diffMap(a, b *yaml.Node) {
	for i := 0; i+1 < len(b.Content); i += 2 {
		key := b.Content[i].Value
		bv := resolve(b.Content[i+1])
		av := lookup(a, key)
		if av == nil {
			d.emit(Add, escape(key), bv)
			continue
		}
		d.path = append(d.path, escape(key))
		d.diff(av, bv)
		d.path = d.path[:len(d.path)-1]
	}
	for i := 0; i+1 < len(a.Content); i += 2 {
		if key := a.Content[i].Value; lookup(b, key) == nil {
			d.emit(Remove, escape(key), nil)
		}
	}
}

// diffSeq aligns the two lists (common prefix and suffix first, a longest
// common subsequence for the rest) and walks the alignment left to right,
// so that each operation's index is the element's position at the moment
// the operation applies.
func (d *differ) diffSeq(a, b *yaml.Node) {
	as, bs := a.Content, b.Content
	pre := 0
	for pre < len(as) && pre < len(bs) && same(as[pre], bs[pre]) {
		pre++
	}
	suf := 0
	for suf < len(as)-pre && suf < len(bs)-pre && same(as[len(as)-1-suf], bs[len(bs)-1-suf]) {
		suf++
	}

	pos, length := 0, len(as) // position in, and length of, the list being patched
	keep := func(ai, bi int) {
		d.path = append(d.path, strconv.Itoa(pos))
		d.diff(resolve(as[ai]), resolve(bs[bi]))
		d.path = d.path[:len(d.path)-1]
		pos++
	}
	insert := func(bi int) {
		idx := strconv.Itoa(pos)
		if pos == length {
			idx = "-"
		}
		d.emit(Add, idx, resolve(bs[bi]))
		pos++
		length++
	}
	remove := func() {
		d.emit(Remove, strconv.Itoa(pos), nil)
		length--
	}

	for i := 0; i < pre; i++ {
		keep(i, i)
	}
	for _, step := range align(as[pre:len(as)-suf], bs[pre:len(bs)-suf]) {
		switch step.kind {
		case stepKeep:
			keep(pre+step.a, pre+step.b)
		case stepInsert:
			insert(pre + step.b)
		case stepRemove:
			remove()
		}
	}
	for i := suf; i > 0; i-- {
		keep(len(as)-i, len(bs)-i)
	}
}

type stepKind uint8

const (
	stepKeep stepKind = iota
	stepInsert
	stepRemove
)

type step struct {
	kind stepKind
	a, b int
}

// align returns an edit script from as to bs that keeps a longest common
// subsequence of matching elements. Injection leaves the middle part either
// empty on one side (pure inserts) or tiny, so the quadratic table is small.
func align(as, bs []*yaml.Node) []step {
	steps := make([]step, 0, len(as)+len(bs))
	if len(as) == 0 || len(bs) == 0 {
		for i := range as {
			steps = append(steps, step{kind: stepRemove, a: i})
		}
		for j := range bs {
			steps = append(steps, step{kind: stepInsert, b: j})
		}
		return steps
	}
	// lcs[i][j] is the LCS length of as[i:] and bs[j:].
	n, m := len(as), len(bs)
	lcs := make([]int, (n+1)*(m+1))
	at := func(i, j int) *int { return &lcs[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case same(as[i], bs[j]):
				*at(i, j) = *at(i+1, j+1) + 1
			case *at(i+1, j) >= *at(i, j+1):
				*at(i, j) = *at(i+1, j)
			default:
				*at(i, j) = *at(i, j+1)
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case same(as[i], bs[j]):
			steps = append(steps, step{kind: stepKeep, a: i, b: j})
			i++
			j++
		case *at(i+1, j) >= *at(i, j+1):
			steps = append(steps, step{kind: stepRemove, a: i})
			i++
		default:
			steps = append(steps, step{kind: stepInsert, b: j})
			j++
		}
	}
	for ; i < n; i++ {
		steps = append(steps, step{kind: stepRemove, a: i})
	}
	for ; j < m; j++ {
		steps = append(steps, step{kind: stepInsert, b: j})
	}
	return steps
}

// same reports whether two list elements are the same element, possibly
// changed: mappings with a "name" are the same when their names are equal;
// anything else when it is equal.
func same(a, b *yaml.Node) bool {
	a, b = resolve(a), resolve(b)
	if a.Kind == yaml.MappingNode && b.Kind == yaml.MappingNode {
		an, bn := lookup(a, "name"), lookup(b, "name")
		if an != nil || bn != nil {
			return an != nil && bn != nil && an.Kind == yaml.ScalarNode && bn.Kind == yaml.ScalarNode && an.Value == bn.Value
		}
	}
	return equal(a, b)
}

// equal reports whether two trees denote the same JSON value (key order
// aside).
func equal(a, b *yaml.Node) bool {
	a, b = resolve(a), resolve(b)
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
		return false
	}
	switch a.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(a.Content); i += 2 {
			bv := lookup(b, a.Content[i].Value)
			if bv == nil || !equal(a.Content[i+1], bv) {
				return false
			}
		}
		return true
	case yaml.SequenceNode:
		for i := range a.Content {
			if !equal(a.Content[i], b.Content[i]) {
				return false
			}
		}
		return true
	default:
		return scalarEqual(a, b)
	}
}

// scalarEqual compares text and type: "1" (a string) and 1 (a number)
// differ in JSON.
func scalarEqual(a, b *yaml.Node) bool {
	if a.Value != b.Value {
		return false
	}
	return a.Tag == b.Tag || a.ShortTag() == b.ShortTag()
}

// lookup returns the value of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// resolve looks through document and alias nodes to the value.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		case n.Kind == yaml.AliasNode && n.Alias != nil:
			n = n.Alias
		default:
			return n
		}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

// escape makes a map key a JSON pointer reference token (RFC 6901): "~"
// becomes "~0" and "/" becomes "~1", in that order.
func escape(key string) string {
	if !strings.ContainsAny(key, "~/") {
		return key
	}
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}
