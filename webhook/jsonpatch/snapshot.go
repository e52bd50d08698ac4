package jsonpatch

import "sigs.k8s.io/kustomize/kyaml/yaml"

// Snapshot returns a deep copy of the tree under n, to diff against after n
// has been changed in place. It allocates all nodes in one block and all
// child lists in another: copying node by node (yaml.CopyYNode) costs a
// quarter of a request's time in the webhook, nearly all of it allocation.
func Snapshot(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	nodes, children := count(n)
	s := snapshotter{nodes: make([]yaml.Node, 0, nodes), children: make([]*yaml.Node, 0, children)}
	return s.copy(n)
}

type snapshotter struct {
	nodes    []yaml.Node
	children []*yaml.Node
}

func (s *snapshotter) copy(n *yaml.Node) *yaml.Node {
	s.nodes = append(s.nodes, *n)
	c := &s.nodes[len(s.nodes)-1]
	if len(n.Content) > 0 {
		start := len(s.children)
		s.children = append(s.children, n.Content...)
		// Full slice expression: an append to the copy's children must not
		// write into its neighbour's.
		c.Content = s.children[start:len(s.children):len(s.children)]
		for i, child := range c.Content {
			c.Content[i] = s.copy(child)
		}
	}
	return c
}

// count returns the number of nodes under n and of their children
// entries. An alias's target is counted where it stands in the tree, as
// CopyYNode does; Alias pointers are kept as they are.
func count(n *yaml.Node) (nodes, children int) {
	nodes, children = 1, len(n.Content)
	for _, c := range n.Content {
		a, b := count(c)
		nodes += a
		children += b
	}
	return nodes, children
}
