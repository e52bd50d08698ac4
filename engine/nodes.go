package engine

import "sigs.k8s.io/kustomize/kyaml/yaml"

// Small operations on yaml nodes. The engine works on the nodes directly,
// not through kyaml's filters, because the webhook runs it once per pod
// and every allocation shows in its latency.

// field returns the value of key in mapping m, or nil.
func field(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// fieldPath follows keys from m.
func fieldPath(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		m = field(m, k)
	}
	return m
}

// stringField returns the string value of key in mapping m, or "".
func stringField(m *yaml.Node, key string) string {
	if v := field(m, key); v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		return v.Value
	}
	return ""
}

// ensureField returns the value of key in m, adding an empty node of the
// kind (a mapping or a sequence) at the end of m when the key is absent or
// null.
func ensureField(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "") {
				*v = *newCollection(kind)
			}
			return v
		}
	}
	v := newCollection(kind)
	m.Content = append(m.Content, newString(key), v)
	return v
}

// setField sets key of mapping m to value, replacing any value it has.
func setField(m *yaml.Node, key string, value *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = value
			return
		}
	}
	m.Content = append(m.Content, newString(key), value)
}

// removeField deletes key from mapping m.
func removeField(m *yaml.Node, key string) {
	if m == nil {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

func newString(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func newCollection(kind yaml.Kind) *yaml.Node {
	if kind == yaml.SequenceNode {
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
}

// items returns the items of a sequence, or nil for anything else.
func items(seq *yaml.Node) []*yaml.Node {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	return seq.Content
}

// indexByName returns the index of the item named name, or -1.
func indexByName(seq *yaml.Node, key, name string) int {
	for i, it := range items(seq) {
		if stringField(it, key) == name {
			return i
		}
	}
	return -1
}
