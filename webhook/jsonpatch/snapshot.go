package jsonpatch

import (
	"hash/maphash"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Snapshot is an image of a node tree taken before the tree is changed in
// place, to diff against afterwards. It keeps, for each node, its kind and
// hashes (of the whole subtree, of its "name"), plus the text of mapping
// keys; nothing in it is a pointer. A deep copy of
// the nodes would do, but costs as much as the engine's injection: a pod is
// a few hundred nodes full of pointers, and every one of them costs a write
// barrier and GC scanning under load. A snapshot is two pointer-free
// blocks.
//
// Hashes are seeded per snapshot (hash/maphash), so the content of a pod
// cannot be chosen to make two different values look equal.
type Snapshot struct {
	nodes []snapNode // nodes[0] is the root; a node's children are contiguous
	keys  []byte     // the text of mapping keys
	seed  maphash.Seed
}

type snapNode struct {
	kind    yaml.Kind
	hasName bool   // a mapping with a scalar "name" field
	hash    uint64 // of the whole subtree
	name    uint64 // hash of the "name" field's value when hasName
	// keys[keyOff : keyOff+keyLen] is the mapping key this node is the
	// value of.
	keyOff, keyLen int32
	first          int32 // index of the first child
	count          int32 // number of children (of values, for a mapping)
}

// Take returns a snapshot of the tree under n.
func Take(n *yaml.Node) *Snapshot {
	n = resolve(n)
	nodes, keyBytes := size(n)
	s := &Snapshot{
		nodes: make([]snapNode, 1, nodes),
		keys:  make([]byte, 0, keyBytes),
		seed:  maphash.MakeSeed(),
	}
	s.fill(0, n)
	return s
}

// fill records n at index i, its children in a block reserved after the
// nodes taken so far.
func (s *Snapshot) fill(i int32, n *yaml.Node) uint64 {
	kind := n.Kind
	children := n.Content
	step := 1
	if kind == yaml.MappingNode {
		step = 2
	}
	count := int32(len(children) / step)
	first := int32(len(s.nodes))
	s.nodes = s.nodes[:len(s.nodes)+int(count)]
	s.nodes[i] = snapNode{kind: kind, first: first, count: count}

	if kind != yaml.MappingNode && kind != yaml.SequenceNode {
		h := s.scalarHash(n)
		s.nodes[i].hash = h
		return h
	}
	h := mix(uint64(kind), uint64(count))
	for c := int32(0); c < count; c++ {
		ci := first + c
		child := resolve(children[int(c)*step+step-1])
		ch := s.fill(ci, child)
		if kind == yaml.MappingNode {
			k := children[int(c)*2].Value
			kh := maphash.String(s.seed, k)
			s.nodes[ci].keyOff, s.nodes[ci].keyLen = int32(len(s.keys)), int32(len(k))
			s.keys = append(s.keys, k...)
			h = mix(h, kh)
		}
		h = mix(h, ch)
	}
	if kind == yaml.MappingNode {
		if name := lookup(n, "name"); name != nil && name.Kind == yaml.ScalarNode {
			s.nodes[i].hasName = true
			s.nodes[i].name = maphash.String(s.seed, name.Value)
		}
	}
	s.nodes[i].hash = h
	return h
}

// treeHash hashes an after-tree node as fill hashes a snapshot's.
func (s *Snapshot) treeHash(n *yaml.Node) uint64 {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		h := mix(uint64(n.Kind), uint64(len(n.Content)/2))
		for i := 0; i+1 < len(n.Content); i += 2 {
			h = mix(h, maphash.String(s.seed, n.Content[i].Value))
			h = mix(h, s.treeHash(n.Content[i+1]))
		}
		return h
	case yaml.SequenceNode:
		h := mix(uint64(n.Kind), uint64(len(n.Content)))
		for _, c := range n.Content {
			h = mix(h, s.treeHash(c))
		}
		return h
	default:
		return s.scalarHash(n)
	}
}

// scalarHash covers text and type: "1" (a string) and 1 (a number) differ
// in JSON.
func (s *Snapshot) scalarHash(n *yaml.Node) uint64 {
	var tag uint64
	switch t := n.ShortTag(); t {
	case "!!str":
		tag = 1
	case "!!int":
		tag = 2
	case "!!bool":
		tag = 3
	case "!!null":
		tag = 4
	case "!!float":
		tag = 5
	default:
		tag = maphash.String(s.seed, t)
	}
	return mix(maphash.String(s.seed, n.Value), tag)
}

func (s *Snapshot) key(n *snapNode) string {
	return string(s.keys[n.keyOff : n.keyOff+n.keyLen])
}

// mix combines two 64-bit hashes, order-dependently.
func mix(h, x uint64) uint64 {
	h ^= x + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
	return h * 0xff51afd7ed558ccd
}

// size counts the nodes under n and the bytes of its mapping keys.
func size(n *yaml.Node) (nodes, keyBytes int) {
	nodes = 1
	step := 1
	if n.Kind == yaml.MappingNode {
		step = 2
	}
	for i := step - 1; i < len(n.Content); i += step {
		if step == 2 {
			keyBytes += len(n.Content[i-1].Value)
		}
		a, b := size(resolve(n.Content[i]))
		nodes += a
		keyBytes += b
	}
	return nodes, keyBytes
}
