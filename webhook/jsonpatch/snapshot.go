package jsonpatch

import "sigs.k8s.io/kustomize/kyaml/yaml"

// Snapshot is an image of a node tree taken before the tree is changed in
// place, to diff against afterwards: for each node its kind, its place
// among its parent's children, and the text of its key, value and type,
// all in two blocks of which only the small table of type names holds
// pointers. A deep copy of the nodes would do, but costs as much as the
// engine's injection: a pod is a few hundred nodes full of pointers, and
// under load every one of them costs write barriers and garbage-collector
// scanning.
type Snapshot struct {
	nodes []snapNode // nodes[0] is the root; a node's children are contiguous
	text  []byte     // mapping keys and scalar values
	tags  []string   // the scalar types seen ("!!str", "!!int", ...)
}

type snapNode struct {
	kind yaml.Kind
	tag  int32 // a scalar's type: tags[tag]
	// text[keyOff:keyOff+keyLen] is the mapping key this node is the value
	// of; text[valOff:valOff+valLen] a scalar's value.
	keyOff, keyLen int32
	valOff, valLen int32
	first, count   int32 // children: nodes[first:first+count] (values, for a mapping)
}

// Take returns a snapshot of the tree under n.
func Take(n *yaml.Node) *Snapshot {
	n = resolve(n)
	nodes, textBytes := size(n)
	s := &Snapshot{nodes: make([]snapNode, 1, nodes), text: make([]byte, 0, textBytes)}
	s.fill(0, n)
	return s
}

// fill records n at index i, and its children in a block reserved after
// the nodes taken so far.
func (s *Snapshot) fill(i int32, n *yaml.Node) {
	step := 1
	if n.Kind == yaml.MappingNode {
		step = 2
	}
	count := int32(len(n.Content) / step)
	first := int32(len(s.nodes))
	s.nodes = s.nodes[:len(s.nodes)+int(count)]
	s.nodes[i] = snapNode{kind: n.Kind, first: first, count: count}

	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		for c := int32(0); c < count; c++ {
			ci := first + c
			s.fill(ci, resolve(n.Content[int(c)*step+step-1]))
			if step == 2 {
				s.nodes[ci].keyOff, s.nodes[ci].keyLen = s.add(n.Content[int(c)*2].Value)
			}
		}
	default:
		s.nodes[i].valOff, s.nodes[i].valLen = s.add(n.Value)
		s.nodes[i].tag = s.tagCode(n.ShortTag())
	}
}

func (s *Snapshot) add(text string) (off, n int32) {
	off = int32(len(s.text))
	s.text = append(s.text, text...)
	return off, int32(len(text))
}

func (s *Snapshot) tagCode(tag string) int32 {
	for i, t := range s.tags {
		if t == tag {
			return int32(i)
		}
	}
	s.tags = append(s.tags, tag)
	return int32(len(s.tags) - 1)
}

func (s *Snapshot) key(n *snapNode) string { return string(s.text[n.keyOff : n.keyOff+n.keyLen]) }

// scalarEqual compares text and type: "1" (a string) and 1 (a number)
// differ in JSON.
func (s *Snapshot) scalarEqual(b *snapNode, a *yaml.Node) bool {
	return int(b.valLen) == len(a.Value) && string(s.text[b.valOff:b.valOff+b.valLen]) == a.Value &&
		s.tags[b.tag] == a.ShortTag()
}

// findKey returns the index of the value under key in mapping b, or -1.
func (s *Snapshot) findKey(b *snapNode, key string) int32 {
	for c := b.first; c < b.first+b.count; c++ {
		n := &s.nodes[c]
		if int(n.keyLen) == len(key) && string(s.text[n.keyOff:n.keyOff+n.keyLen]) == key {
			return c
		}
	}
	return -1
}

// nameOf returns the node holding a mapping's scalar "name" field, or nil.
func (s *Snapshot) nameOf(b *snapNode) *snapNode {
	if b.kind != yaml.MappingNode {
		return nil
	}
	c := s.findKey(b, "name")
	if c < 0 || s.nodes[c].kind != yaml.ScalarNode {
		return nil
	}
	return &s.nodes[c]
}

// equal reports whether the snapshot's node and a hold the same JSON
// value (key order aside).
func (s *Snapshot) equal(b *snapNode, a *yaml.Node) bool {
	a = resolve(a)
	if a.Kind != b.kind {
		return false
	}
	switch a.Kind {
	case yaml.MappingNode:
		if len(a.Content)/2 != int(b.count) {
			return false
		}
		for i := 0; i+1 < len(a.Content); i += 2 {
			c := s.findKey(b, a.Content[i].Value)
			if c < 0 || !s.equal(&s.nodes[c], a.Content[i+1]) {
				return false
			}
		}
		return true
	case yaml.SequenceNode:
		if len(a.Content) != int(b.count) {
			return false
		}
		for i, c := range a.Content {
			if !s.equal(&s.nodes[b.first+int32(i)], c) {
				return false
			}
		}
		return true
	default:
		return s.scalarEqual(b, a)
	}
}

// size counts the nodes under n and the bytes of its keys and values.
func size(n *yaml.Node) (nodes, textBytes int) {
	nodes, textBytes = 1, len(n.Value)
	step := 1
	if n.Kind == yaml.MappingNode {
		step = 2
	}
	for i := step - 1; i < len(n.Content); i += step {
		if step == 2 {
			textBytes += len(n.Content[i-1].Value)
		}
		a, b := size(resolve(n.Content[i]))
		nodes += a
		textBytes += b
	}
	return nodes, textBytes
}
