// Package jsonpatch computes the JSON patch (RFC 6902) that turns a node
// tree as it was into the same tree after it was changed in place, for the
// webhook's answer to the API server.
//
// The webhook takes a [Snapshot] of the pod before the engine mutates it
// and diffs the result against it. The patch is minimal in the way that
// matters for review and for the API server: it adds what is new and
// replaces what changed, and never removes and re-adds an element that is
// still there. List elements are matched by their "name" field when they
// have one (the pod's containers, volumes, mounts, env), else by value, so
// an injected container or mount becomes one "add" and the pod's own
// containers are only touched where something was added inside them.
package jsonpatch

import (
	"hash/maphash"
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
	ids   []ident // scratch for diffSeq, used as a stack
	steps []step  // scratch for align, used as a stack
}

func (d *differ) emit(op Op, last string, value *yaml.Node) {
	var b strings.Builder
	for _, t := range d.path {
		b.WriteByte('/')
		writeEscaped(&b, t)
	}
	b.WriteByte('/')
	writeEscaped(&b, last)
	d.ops = append(d.ops, Operation{Op: op, Path: b.String(), Value: value})
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
		if d.s.scalarHash(a) != b.hash {
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
		bi := d.findKey(b, key)
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

// findKey returns the index of the value under key in snapshot mapping b,
// or -1.
func (d *differ) findKey(b *snapNode, key string) int32 {
	for c := b.first; c < b.first+b.count; c++ {
		n := &d.s.nodes[c]
		if int(n.keyLen) == len(key) && string(d.s.keys[n.keyOff:n.keyOff+n.keyLen]) == key {
			return c
		}
	}
	return -1
}

// ident says which list element a node is: its "name" when it has one,
// else its whole value.
type ident struct {
	named bool
	hash  uint64
}

func (d *differ) snapIdent(n *snapNode) ident {
	if n.hasName {
		return ident{true, n.name}
	}
	return ident{false, n.hash}
}

func (d *differ) treeIdent(n *yaml.Node) ident {
	n = resolve(n)
	if n.Kind == yaml.MappingNode {
		if name := lookup(n, "name"); name != nil && name.Kind == yaml.ScalarNode {
			return ident{true, maphash.String(d.s.seed, name.Value)}
		}
	}
	return ident{false, d.s.treeHash(n)}
}

// diffSeq aligns the two lists (common prefix and suffix first, a longest
// common subsequence for the rest) and walks the alignment left to right,
// so that each operation's index is the element's position at the moment
// the operation applies.
func (d *differ) diffSeq(b *snapNode, a *yaml.Node) {
	// as and bs live on the scratch stack until this call returns; the
	// calls below push above them.
	base := len(d.ids)
	for i := int32(0); i < b.count; i++ {
		d.ids = append(d.ids, d.snapIdent(&d.s.nodes[b.first+i]))
	}
	for _, c := range a.Content {
		d.ids = append(d.ids, d.treeIdent(c))
	}
	as, bs := d.ids[base:base+int(b.count)], d.ids[base+int(b.count):]
	defer func() { d.ids = d.ids[:base] }()

	pos, length := 0, len(as) // position in, and length of, the list being patched
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
	d.steps = align(d.steps, as, bs)
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
// subsequence of the same elements. The common prefix and suffix are
// matched first; injection leaves the middle either empty on one side
// (pure inserts) or tiny, so the quadratic table stays small.
//
// The steps are appended to steps, which is returned.
func align(steps []step, as, bs []ident) []step {
	pre := 0
	for pre < len(as) && pre < len(bs) && as[pre] == bs[pre] {
		steps = append(steps, step{kind: stepKeep, a: pre, b: pre})
		pre++
	}
	suf := 0
	for suf < len(as)-pre && suf < len(bs)-pre && as[len(as)-1-suf] == bs[len(bs)-1-suf] {
		suf++
	}
	ma, mb := as[pre:len(as)-suf], bs[pre:len(bs)-suf]
	n, m := len(ma), len(mb)
	switch {
	case n == 0:
		for j := range mb {
			steps = append(steps, step{kind: stepInsert, b: pre + j})
		}
	case m == 0:
		for i := range ma {
			steps = append(steps, step{kind: stepRemove, a: pre + i})
		}
	default:
		// lcs[i*(m+1)+j] is the LCS length of ma[i:] and mb[j:].
		lcs := make([]int, (n+1)*(m+1))
		at := func(i, j int) int { return lcs[i*(m+1)+j] }
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				switch {
				case ma[i] == mb[j]:
					lcs[i*(m+1)+j] = at(i+1, j+1) + 1
				default:
					lcs[i*(m+1)+j] = max(at(i+1, j), at(i, j+1))
				}
			}
		}
		i, j := 0, 0
		for i < n && j < m {
			switch {
			case ma[i] == mb[j]:
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
		for ; i < n; i++ {
			steps = append(steps, step{kind: stepRemove, a: pre + i})
		}
		for ; j < m; j++ {
			steps = append(steps, step{kind: stepInsert, b: pre + j})
		}
	}
	for k := suf; k > 0; k-- {
		steps = append(steps, step{kind: stepKeep, a: len(as) - k, b: len(bs) - k})
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

// writeEscaped writes a map key as a JSON pointer reference token (RFC
// 6901): "~" becomes "~0" and "/" becomes "~1".
func writeEscaped(b *strings.Builder, key string) {
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '~':
			b.WriteString("~0")
		case '/':
			b.WriteString("~1")
		default:
			b.WriteByte(c)
		}
	}
}
