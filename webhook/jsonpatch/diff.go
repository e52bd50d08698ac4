// Package jsonpatch builds the JSON patch (RFC 6902) of the webhook's
// answer to the API server: the patch that turns the object as it came
// into the object as the engine left it.
//
// The engine lists the edits it makes, and [FromEdits] translates them:
// the cheap way, as nothing needs comparing. Where the engine cannot list
// them all (see engine.Report.EditsComplete), [Diff] compares the tree with
// a [Snapshot] taken of it as it came.
//
// The patch of Diff is minimal in the way that matters for review and for
// the API server: it adds what is new and replaces what changed, and never
// removes and re-adds an element that is still there. List elements are
// matched by their "name" field when they have one (the pod's containers,
// volumes, mounts, env), else by value, so an injected container or mount
// becomes one "add" and the pod's own containers are only touched where
// something was added inside them.
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

// Diff returns the operations that turn the tree before was taken of into
// after, in the order they must be applied. after is not modified; the
// returned operations share its nodes.
func Diff(before *Snapshot, after *yaml.Node) []Operation {
	d := differ{s: before}
	d.diff(0, resolve(after))
	return d.ops
}

// differ accumulates operations while walking the snapshot and the tree
// together. path holds the reference tokens of the current location,
// unescaped; the pointer string is built (and escaped) only when an
// operation is emitted, so unchanged subtrees cost no allocation.
type differ struct {
	s     *Snapshot
	path  []string
	ops   []Operation
	names []*yaml.Node // scratch for diffSeq, used as a stack
	steps []step       // scratch for align, used as a stack
}

func (d *differ) emit(op Op, last string, value *yaml.Node) {
	d.ops = append(d.ops, Operation{Op: op, Path: pointer(d.path, last), Value: value})
}

// diff compares snapshot node bi with a, found at d.path.
func (d *differ) diff(bi int32, a *yaml.Node) {
	b := &d.s.nodes[bi]
	switch {
	case a.Kind != b.kind:
		d.replaceHere(a)
	case a.Kind == yaml.MappingNode:
		d.diffMap(b, a)
	case a.Kind == yaml.SequenceNode:
		d.diffSeq(b, a)
	default:
		if !d.s.scalarEqual(b, a) {
			d.replaceHere(a)
		}
	}
}

// replaceHere replaces the value at d.path (the whole document when the
// path is empty).
func (d *differ) replaceHere(a *yaml.Node) {
	if len(d.path) == 0 {
		d.ops = append(d.ops, Operation{Op: Replace, Path: "", Value: a})
		return
	}
	last := d.path[len(d.path)-1]
	d.path = d.path[:len(d.path)-1]
	d.emit(Replace, last, a)
	d.path = append(d.path, last)
}

func (d *differ) diffMap(b *snapNode, a *yaml.Node) {
	matched := 0
	for i := 0; i+1 < len(a.Content); i += 2 {
		key := a.Content[i].Value
		av := resolve(a.Content[i+1])
		bi := d.s.findKey(b, key)
		if bi < 0 {
			d.emit(Add, key, av)
			continue
		}
		matched++
		d.path = append(d.path, key)
		d.diff(bi, av)
		d.path = d.path[:len(d.path)-1]
	}
	if matched == int(b.count) {
		return
	}
	for c := b.first; c < b.first+b.count; c++ {
		if key := d.s.key(&d.s.nodes[c]); lookup(a, key) == nil {
			d.emit(Remove, key, nil)
		}
	}
}

// diffSeq aligns the two lists (common prefix and suffix first, a longest
// common subsequence for the rest) and walks the alignment left to right,
// so that each operation's index is the element's position at the moment
// the operation applies.
//
// Elements are the same element when both are mappings with the same
// "name", or, when neither has a name, when they are equal.
func (d *differ) diffSeq(b *snapNode, a *yaml.Node) {
	olds := d.s.nodes[b.first : b.first+b.count]
	// The names of the new elements live on the scratch stack until this
	// call returns; the calls below push above them.
	base := len(d.names)
	for _, c := range a.Content {
		d.names = append(d.names, nameOf(c))
	}
	news := d.names[base:]
	defer func() { d.names = d.names[:base] }()
	same := func(i, j int) bool {
		on, nn := d.s.nameOf(&olds[i]), news[j]
		if on == nil || nn == nil {
			return on == nil && nn == nil && d.s.equal(&olds[i], a.Content[j])
		}
		return d.s.scalarEqual(on, nn)
	}

	pos, length := 0, len(olds) // position in, and length of, the list being patched
	keep := func(ai, bi int) {
		d.path = append(d.path, strconv.Itoa(pos))
		d.diff(b.first+int32(ai), resolve(a.Content[bi]))
		d.path = d.path[:len(d.path)-1]
		pos++
	}
	insert := func(bi int) {
		idx := strconv.Itoa(pos)
		if pos == length {
			idx = "-"
		}
		d.emit(Add, idx, resolve(a.Content[bi]))
		pos++
		length++
	}
	remove := func() {
		d.emit(Remove, strconv.Itoa(pos), nil)
		length--
	}
	sbase := len(d.steps)
	d.steps = align(d.steps, len(olds), len(a.Content), same)
	steps := d.steps[sbase:]
	defer func() { d.steps = d.steps[:sbase] }()
	for _, step := range steps {
		switch step.kind {
		case stepKeep:
			keep(step.a, step.b)
		case stepInsert:
			insert(step.b)
		case stepRemove:
			remove()
		}
	}
}

// nameOf returns the scalar "name" field of a mapping, or nil.
func nameOf(n *yaml.Node) *yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	if name := lookup(n, "name"); name != nil && name.Kind == yaml.ScalarNode {
		return name
	}
	return nil
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

// align appends to steps an edit script from a list of n elements to one
// of m that keeps a longest common subsequence of the same elements
// (same(i, j) says whether old element i is new element j). The common
// prefix and suffix are matched first; injection leaves the middle either
// empty on one side (pure inserts) or tiny, so the quadratic table stays
// small.
func align(steps []step, n, m int, same func(i, j int) bool) []step {
	pre := 0
	for pre < n && pre < m && same(pre, pre) {
		steps = append(steps, step{kind: stepKeep, a: pre, b: pre})
		pre++
	}
	suf := 0
	for suf < n-pre && suf < m-pre && same(n-1-suf, m-1-suf) {
		suf++
	}
	mn, mm := n-pre-suf, m-pre-suf // the middle's lengths
	switch {
	case mn == 0:
		for j := range mm {
			steps = append(steps, step{kind: stepInsert, b: pre + j})
		}
	case mm == 0:
		for i := range mn {
			steps = append(steps, step{kind: stepRemove, a: pre + i})
		}
	default:
		// lcs[i*(mm+1)+j] is the LCS length of the middles from i and j on.
		lcs := make([]int, (mn+1)*(mm+1))
		at := func(i, j int) int { return lcs[i*(mm+1)+j] }
		match := make([]bool, mn*mm)
		for i := mn - 1; i >= 0; i-- {
			for j := mm - 1; j >= 0; j-- {
				if same(pre+i, pre+j) {
					match[i*mm+j] = true
					lcs[i*(mm+1)+j] = at(i+1, j+1) + 1
				} else {
					lcs[i*(mm+1)+j] = max(at(i+1, j), at(i, j+1))
				}
			}
		}
		i, j := 0, 0
		for i < mn && j < mm {
			switch {
			case match[i*mm+j]:
				steps = append(steps, step{kind: stepKeep, a: pre + i, b: pre + j})
				i++
				j++
			case at(i+1, j) >= at(i, j+1):
				steps = append(steps, step{kind: stepRemove, a: pre + i})
				i++
			default:
				steps = append(steps, step{kind: stepInsert, b: pre + j})
				j++
			}
		}
		for ; i < mn; i++ {
			steps = append(steps, step{kind: stepRemove, a: pre + i})
		}
		for ; j < mm; j++ {
			steps = append(steps, step{kind: stepInsert, b: pre + j})
		}
	}
	for k := suf; k > 0; k-- {
		steps = append(steps, step{kind: stepKeep, a: n - k, b: m - k})
	}
	return steps
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

// pointer returns the JSON pointer (RFC 6901) of the reference tokens, then
// last.
func pointer(tokens []string, last string) string {
	var b strings.Builder
	writePointer(&b, tokens)
	b.WriteByte('/')
	writeEscaped(&b, last)
	return b.String()
}

// writePointer writes the JSON pointer (RFC 6901) of the reference tokens.
func writePointer(b *strings.Builder, tokens []string) {
	for _, t := range tokens {
		b.WriteByte('/')
		writeEscaped(b, t)
	}
}

// writeEscaped writes a map key as a JSON pointer reference token (RFC
// 6901): "~" becomes "~0" and "/" becomes "~1".
func writeEscaped(b *strings.Builder, key string) {
	start := 0
	for i := 0; i < len(key); i++ {
		var escaped string
		switch key[i] {
		case '~':
			escaped = "~0"
		case '/':
			escaped = "~1"
		default:
			continue
		}
		b.WriteString(key[start:i])
		b.WriteString(escaped)
		start = i + 1
	}
	b.WriteString(key[start:])
}
