package jsonpatch

import (
	"fmt"

	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
)

// Marshal writes ops as a JSON patch document. An empty ops gives nil, which
// the admission response carries as "no patch".
func Marshal(ops []Operation) ([]byte, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	buf := make([]byte, 0, 256*len(ops))
	buf = append(buf, '[')
	for i, op := range ops {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"op":"`...)
		buf = append(buf, op.Op...)
		buf = append(buf, `","path":`...)
		buf = jsonnode.AppendString(buf, op.Path)
		buf = append(buf, `,"value":`...)
		var err error
		if buf, err = jsonnode.Encode(buf, op.Value); err != nil {
			return nil, fmt.Errorf("encoding the value of %s %s: %w", op.Op, op.Path, err)
		}
		buf = append(buf, '}')
	}
	return append(buf, ']'), nil
}
