package jsonpatch

import (
	"fmt"
	"unicode/utf8"

	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
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
		buf = appendString(buf, op.Path)
		if op.Op != Remove {
			buf = append(buf, `,"value":`...)
			var err error
			if buf, err = jsonnode.Encode(buf, op.Value); err != nil {
				return nil, fmt.Errorf("encoding the value of %s %s: %w", op.Op, op.Path, err)
			}
		}
		buf = append(buf, '}')
	}
	return append(buf, ']'), nil
}

// appendString appends s as a JSON string. Paths come from keys of decoded
// JSON or of engine-built nodes; invalid UTF-8 is replaced, as
// encoding/json does.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c < 0x20:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, `\ufffd`...)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
