// Package jsonnode converts JSON text to YAML nodes and back, without going
// through YAML text.
//
// The webhook receives pods as JSON and must hand them to the engine as kyaml
// nodes ([yaml.Node], usable with [yaml.NewRNode]), then send the result back
// as JSON. Going through YAML text (yaml.Parse of the JSON, then MarshalJSON)
// costs about fourteen times an encoding/json round trip; this package parses
// JSON straight into a node tree and writes a node tree straight out as JSON.
//
// # Decoding
//
// [Decode] builds the value node itself (a mapping, sequence or scalar node),
// not a document node. Objects become mapping nodes with their keys in input
// order, arrays sequence nodes, strings scalars tagged !!str (style 0: a YAML
// encoder quotes them where the text would otherwise read as another type),
// numbers !!int or !!float with their text kept exactly, true and false
// !!bool, null !!null. Every node carries the line and column (1-based,
// column counted in bytes) where its value starts.
//
// Duplicate keys are kept: the mapping holds both pairs in input order, so
// that the node is a faithful image of the input (the API server rejects such
// objects anyway, and config loading reports them).
//
// The nodes share memory with each other: a node tree is allocated in a few
// blocks, and unescaped strings are slices of one copy of the input. Keeping
// any node alive keeps its whole tree alive. A [Decoder] keeps its blocks
// for its next call, for a server that decodes an object per request.
//
// # Encoding
//
// [Encode] and [Marshal] write any node tree (from [Decode], from a YAML
// parser, or built by hand) as compact JSON, byte for byte what
// encoding/json's Marshal writes for the equivalent Go value with the same
// key order, including its escaping of <, > and & and its replacement of
// invalid UTF-8. See [Encode] for how scalars map to JSON.
package jsonnode
