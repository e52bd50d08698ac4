// Package yamlnode holds the small operations on yaml nodes that the
// engine uses. The engine works on nodes directly, not through kyaml's
// filters, because the webhook runs it once per pod and every allocation
// shows in its latency.
package yamlnode

import (
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Field returns the value of key in mapping m, or nil. A key present twice
// reads as the API server and kubectl read it (encoding/json,
// sigs.k8s.io/yaml): the last one wins.
func Field(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := len(m.Content) - 2; i >= 0; i -= 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Path follows keys from m.
func Path(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		m = Field(m, k)
	}
	return m
}

// String returns the string value of key in mapping m, or "".
func String(m *yaml.Node, key string) string {
	if v := Field(m, key); v != nil && v.Kind == yaml.ScalarNode && !yaml.IsYNodeTaggedNull(v) {
		return v.Value
	}
	return ""
}

// Ensure returns the value of key in m, adding an empty node of the
// kind (a mapping or a sequence) at the end of m when the key is absent or
// null.
func Ensure(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := len(m.Content) - 2; i >= 0; i -= 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if yaml.IsYNodeTaggedNull(v) || v.Kind == yaml.ScalarNode && v.Value == "" {
				*v = *NewCollection(kind)
			}
			return v
		}
	}
	v := NewCollection(kind)
	m.Content = append(m.Content, NewString(key), v)
	return v
}

// Set sets key of mapping m to value, replacing the value it has (the last
// one, which is the one read, when the key is present twice).
func Set(m *yaml.Node, key string, value *yaml.Node) {
	for i := len(m.Content) - 2; i >= 0; i -= 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = value
			return
		}
	}
	m.Content = append(m.Content, NewString(key), value)
}

// Remove deletes key from mapping m, every time it is there.
func Remove(m *yaml.Node, key string) {
	if m == nil {
		return
	}
	for i := len(m.Content) - 2; i >= 0; i -= 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
		}
	}
}

func NewString(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func NewCollection(kind yaml.Kind) *yaml.Node {
	if kind == yaml.SequenceNode {
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
}

// Items returns the items of a sequence, or nil for anything else.
func Items(seq *yaml.Node) []*yaml.Node {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	return seq.Content
}

// IndexByKey returns the index of the item named name, or -1.
func IndexByKey(seq *yaml.Node, key, name string) int {
	for i, it := range Items(seq) {
		if String(it, key) == name {
			return i
		}
	}
	return -1
}

// Describe names what a node is, for error messages: "a mapping", "a
// list", a scalar's value quoted (cut at 40 bytes: a message should not
// carry a long value, which may be a secret), "nothing" for null.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if yaml.IsYNodeTaggedNull(n) {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
	return "a document"
}
