package jsonpatch

import (
	"fmt"
	"strings"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

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
