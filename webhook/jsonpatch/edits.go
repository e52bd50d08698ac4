package jsonpatch

import (
	"fmt"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

// FromEdits translates the edits the engine reports, in their order, into
// patch operations. The operations share the edits' nodes.
func FromEdits(edits []engine.Edit) ([]Operation, error) {
	ops := make([]Operation, len(edits))
	for i, e := range edits {
		var op Op
		switch e.Op {
		case engine.EditAdd:
			op = Add
		case engine.EditReplace:
			op = Replace
		default:
			return nil, fmt.Errorf("edit %d at %q: unknown operation %v", i, e.Path, e.Op)
		}
		ops[i] = Operation{Op: op, Path: pointer(e.Path), Value: e.Value}
	}
	return ops, nil
}
