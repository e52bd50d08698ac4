// Package jsonpatch writes the JSON patch (RFC 6902) of the webhook's
// answer to the API server: the edits the engine lists as it injects,
// which turn the object as it came into the object as the engine left it.
package jsonpatch

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

// Op is a JSON patch operation name.
type Op string

// The operations the engine's edits translate into.
const (
	Add     Op = "add"
	Replace Op = "replace"
)

// Operation is one step of a JSON patch.
type Operation struct {
	Op    Op
	Path  string // a JSON pointer (RFC 6901)
	Value *yaml.Node
}

// FromEdits translates the edits the engine reports, in their order, into
// patch operations. The operations share the edits' nodes.
func FromEdits(edits []engine.Edit) ([]Operation, error) {
	ops := make([]Operation, len(edits))
	// The pointers are written one after the other into one string, which
	// each operation's Path is a part of.
	var b strings.Builder
	size := 0
	for _, e := range edits {
		for _, t := range e.Path {
			size += len(t) + 1 // and its escapes, rare
		}
	}
	b.Grow(size)
	ends := make([]int, len(edits))
	for i, e := range edits {
		switch e.Op {
		case engine.EditAdd:
			ops[i].Op = Add
		case engine.EditReplace:
			ops[i].Op = Replace
		default:
			return nil, fmt.Errorf("edit %d at %q: unknown operation %v", i, e.Path, e.Op)
		}
		ops[i].Value = e.Value
		writePointer(&b, e.Path)
		ends[i] = b.Len()
	}
	all, start := b.String(), 0
	for i, end := range ends {
		ops[i].Path, start = all[start:end], end
	}
	return ops, nil
}

// writePointer writes the JSON pointer (RFC 6901) of the reference tokens:
// in each, "~" becomes "~0" and "/" becomes "~1".
func writePointer(b *strings.Builder, tokens []string) {
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(t))
	}
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
