package engine

import (
	"slices"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// EditOp says how an [Edit] changed a resource.
type EditOp uint8

const (
	// EditAdd put Value in a new place: into a list at the position the
	// path ends with ("-" is after the last item), or under a key the
	// mapping did not have.
	EditAdd EditOp = iota + 1
	// EditReplace put Value in place of the value under an existing key.
	EditReplace
)

func (op EditOp) String() string {
	switch op {
	case EditAdd:
		return "add"
	case EditReplace:
		return "replace"
	}
	return "EditOp(" + strconv.Itoa(int(op)) + ")"
}

// Edit is one change that [Injector.Inject] made to a resource.
type Edit struct {
	Op EditOp
	// Path leads from the resource (the content of a document node) to
	// the place changed: mapping keys, and list positions as decimal
	// numbers. Its last element is the key or position that Value went
	// to. A position counts the list as it was when the edit was made, so
	// edits apply one after the other, in order.
	Path []string
	// Value is the node the edit put there, the resource's own: what the
	// same call added inside it afterwards (a mount that a later mutation
	// gave an injected container) is part of it, not an edit of its own.
	// Read it after Inject returns, before changing the resource again.
	Value *yaml.Node
}

// editor makes the changes of one injection to a pod template, and lists
// them as edits, so that a caller need not compare the resource before and
// after to learn what changed (the webhook answers with them as a JSON
// patch, and a pod is a few hundred nodes to compare).
type editor struct {
	base  []string // the pod template's path in the resource
	edits []Edit
	// added holds the nodes that an edit put in place whole, and the nodes
	// inside them that the editor has reached since: what is put inside
	// them is part of that edit's Value.
	added []*yaml.Node
	// tokens holds the edits' paths, one after the other: a pod's dozen
	// edits cost one allocation for their paths, not one each.
	tokens []string
	// lost is set when a change was made that no edit describes, because
	// the resource is not shaped as a Kubernetes object (a list where a
	// mapping belongs); such a resource never comes from the API server.
	lost bool
}

func newEditor(p *podTemplate) *editor {
	// Room for what two mutations of a few sidecars do.
	return &editor{
		base:   p.path,
		edits:  make([]Edit, 0, 16),
		added:  make([]*yaml.Node, 0, 32),
		tokens: make([]string, 0, 64),
	}
}

// complete reports whether the edits describe every change made.
func (e *editor) complete() bool { return !e.lost }

// ensure returns the collection of the given kind under key of mapping m
// (whose path in the pod template is path), creating it when it is absent
// or null, as yamlnode.Ensure does.
func (e *editor) ensure(m *yaml.Node, key string, kind yaml.Kind, path ...string) *yaml.Node {
	before := yamlnode.Field(m, key)
	if before != nil && before.Kind == kind {
		// There already, the common case: nothing to create, and no need
		// to look for the key again.
		if e.isAdded(m) {
			e.added = append(e.added, before)
		}
		return before
	}
	var beforeKind yaml.Kind
	if before != nil {
		beforeKind = before.Kind
	}
	v := yamlnode.Ensure(m, key, kind)
	switch {
	case e.isAdded(m):
		e.added = append(e.added, v)
	case m.Kind != yaml.MappingNode || v.Kind != kind:
		e.lost = true
	case before == nil:
		e.record(m, EditAdd, v, path, key)
	case beforeKind != kind:
		e.record(m, EditReplace, v, path, key)
	}
	return v
}

// appendItem appends item to the list under key of mapping m, creating
// the list when needed.
func (e *editor) appendItem(m *yaml.Node, key string, item *yaml.Node, path ...string) {
	seq := e.ensure(m, key, yaml.SequenceNode, path...)
	seq.Content = append(seq.Content, item)
	e.record(seq, EditAdd, item, path, key, "-")
}

// insertItem inserts item at position at of the list under key of
// mapping m, creating the list when needed.
func (e *editor) insertItem(m *yaml.Node, key string, at int, item *yaml.Node, path ...string) {
	seq := e.ensure(m, key, yaml.SequenceNode, path...)
	seq.Content = slices.Insert(seq.Content, at, item)
	e.record(seq, EditAdd, item, path, key, strconv.Itoa(at))
}

// set sets key of mapping m to value.
func (e *editor) set(m *yaml.Node, key string, value *yaml.Node, path ...string) {
	op := EditAdd
	if yamlnode.Field(m, key) != nil {
		op = EditReplace
	}
	yamlnode.Set(m, key, value)
	if m.Kind != yaml.MappingNode {
		e.lost = true
		return
	}
	e.record(m, op, value, path, key)
}

// setAnnotation sets a pod annotation, creating metadata (absent, or null
// as an empty `metadata:` reads) and annotations as needed. A new metadata
// goes first in the template, where people look for it.
func (e *editor) setAnnotation(p *podTemplate, key, value string) {
	if yamlnode.Field(p.template, "metadata") == nil {
		meta := yamlnode.NewCollection(yaml.MappingNode)
		p.template.Content = append([]*yaml.Node{yamlnode.NewString("metadata"), meta}, p.template.Content...)
		e.record(p.template, EditAdd, meta, nil, "metadata")
	}
	meta := e.ensure(p.template, "metadata", yaml.MappingNode)
	annotations := e.ensure(meta, "annotations", yaml.MappingNode, "metadata")
	e.set(annotations, key, yamlnode.NewString(value), "metadata", "annotations")
}

// record lists an edit made inside the collection in, at path and then
// last, unless in is inside something added whole.
func (e *editor) record(in *yaml.Node, op EditOp, value *yaml.Node, path []string, last ...string) {
	inside := e.isAdded(in)
	e.added = append(e.added, value)
	if inside {
		return
	}
	from := len(e.tokens)
	e.tokens = append(append(append(e.tokens, e.base...), path...), last...)
	// Capped, so that nothing appended to one path runs into the next.
	full := e.tokens[from:len(e.tokens):len(e.tokens)]
	e.edits = append(e.edits, Edit{Op: op, Path: full, Value: value})
}

func (e *editor) isAdded(n *yaml.Node) bool { return slices.Contains(e.added, n) }
