// Package typednode decodes YAML nodes into Go values, Kubernetes API types
// above all (corev1.Container, corev1.Volume, corev1.Pod), and encodes Go
// values back into nodes.
//
// The engine keeps resources and configuration as kyaml nodes, so that
// comments, field order and positions survive, but it needs typed views of
// parts of them: a sidecar's containers, a pod's spec for templates. Going
// through YAML or JSON text for that would lose the line numbers that a
// config error must show, and would be slow on the webhook's path. [Decode]
// walks the node tree directly, with a decoding plan per Go type cached for
// the life of the process, and reports every problem of the node at once,
// each with its line, column and path. [Encode] walks a value with the same
// plans and gives the node encoding/json would (a test holds the two
// together).
//
// Plans are built as types are met: a struct's fields when a value of it is
// first decoded or encoded. A config names a few of the hundreds of types
// reachable from a Container, and a KRM function starts afresh for every
// `kustomize build`.
//
// # Fields
//
// Struct fields follow encoding/json's rules and `json` tags: the tag's
// name, or the Go field name when the tag has none; "-" skips the field;
// embedded structs without a tag name are inlined (Kubernetes writes these
// as `json:",inline"`, which means the same); options such as omitempty do
// not matter when decoding. Names match exactly: unlike encoding/json, and
// like the API server and yaml.v2, there is no case-insensitive fallback
// (in strict mode a near miss is reported with a suggestion).
//
// # Scalars
//
// The decoder accepts what the previous injector, built on yaml.v2, accepted,
// so that its configs load unchanged:
//
//   - string: any scalar, its text kept as written (args: [true, 0x1F, 1.0]
//     gives "true", "0x1F", "1.0").
//   - int and uint kinds: plain integers in any YAML spelling (0x1F, 0o17,
//     017, 1_000, +5), floats with an integral value (1.0, 1e3), and quoted
//     strings of a decimal integer ("123"). A value out of the field's range
//     is an error.
//   - float kinds: any plain number (including .inf and .nan), and quoted
//     strings of a decimal number.
//   - bool: YAML 1.1's booleans as yaml.v2 read them: true/false, yes/no,
//     on/off, y/n, each in lower, Title or UPPER case, quoted or not.
//   - []byte: a base64 string (as encoding/json), or a sequence of integers.
//   - any (interface{}): mappings become map[string]any, sequences []any,
//     scalars by their YAML 1.2 core type: string, int64 (float64 when out
//     of int64's range), float64, bool or nil.
//   - types implementing json.Unmarshaler (resource.Quantity,
//     intstr.IntOrString, metav1.Time, ...): the node is written as JSON with
//     engine/jsonnode and handed to UnmarshalJSON, so cpu: 500m, port: 8080
//     and port: http mean what they mean to the API server. Other types
//     implementing encoding.TextUnmarshaler get a scalar's text.
//
// A null (null, ~, an empty value) sets pointers, slices, maps and
// interfaces to nil and leaves every other value as it was, which for a
// freshly declared value is its zero value (as encoding/json does).
//
// Aliases are followed, and merge keys (<<) merge as in YAML: a mapping's own
// keys win over merged ones, earlier merged mappings over later ones.
//
// # Strictness
//
// Decode returns an *Error listing every problem it found. Type mismatches
// are always problems. With Options.Strict, an unknown field (with the
// nearest valid name as a suggestion) and a duplicate key are problems too;
// without it, unknown fields are ignored (a pod from a newer API server
// carries fields this program does not know) and the last of duplicate keys
// wins.
package typednode
