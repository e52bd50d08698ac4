package jsonnode

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Marshal returns the compact JSON encoding of n. See Encode.
func Marshal(n *yaml.Node) ([]byte, error) {
	return Encode(make([]byte, 0, encodedSizeHint(n, 0)), n)
}

// Encode appends the compact JSON encoding of n to buf and returns the
// extended buffer. On error it returns buf unchanged and the error.
//
// A DocumentNode encodes as its content (null when empty), an AliasNode as
// the node it refers to, a nil node as null. Mapping keys must be scalars and
// always become JSON strings of their text; merge keys (<<) are expanded as
// YAML does: the mapping's own keys win over merged ones, and earlier merged
// mappings over later ones. Duplicate keys are written as they are.
//
// A scalar is encoded by its tag, as yaml.v3 reports it with
// [yaml.Node.ShortTag]. yaml.v3's parser stores the resolved short tag in
// every node it makes (!!str for quoted scalars, !!int for a plain 42); nodes
// built by hand often leave Tag empty, and then a plain scalar resolves as
// yaml.v3 resolves it (42 is an int, true a bool, ~ a null) while a quoted,
// literal or folded one is a string:
//
//   - !!str, !!binary, !!timestamp and tags outside the core schema: a JSON
//     string of the text.
//   - !!int, !!float: the text itself when it is already a JSON number (so
//     numbers from Decode survive byte for byte, however long); otherwise the
//     value as encoding/json writes an int64, uint64 or float64 (0x1F is
//     written 31, 1_000 is 1000, .5 is 0.5). Infinities, NaN and text that is
//     not a number are errors.
//   - !!bool: true or false (true, True, TRUE, false, False, FALSE; anything
//     else is an error).
//   - !!null: null.
func Encode(buf []byte, n *yaml.Node) ([]byte, error) {
	var e encoder
	out, err := e.node(buf, n, 0)
	if err != nil {
		return buf, err
	}
	return out, nil
}

// EncodeError reports a node that has no JSON encoding.
type EncodeError struct {
	Line, Column int // position of the node, when it has one
	Msg          string
}

func (e *EncodeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("jsonnode: line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return "jsonnode: " + e.Msg
}

func encodeErrorf(n *yaml.Node, format string, args ...any) error {
	return &EncodeError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

var (
	errTooDeep        = errors.New("jsonnode: nesting deeper than MaxDepth (or an alias cycle)")
	errTooManyAliases = errors.New("jsonnode: aliases expand to more than 1048576 nodes")
)

// maxAliasExpansion bounds the nodes written through aliases and merge keys,
// which YAML can nest to expand exponentially ("billion laughs").
const maxAliasExpansion = 1 << 20

// encoder holds the state of one Encode call.
type encoder struct {
	aliasDepth int // > 0 while writing the target of an alias
	expanded   int // nodes written through aliases or merged in
}

func (e *encoder) node(b []byte, n *yaml.Node, depth int) ([]byte, error) {
	if n == nil {
		return append(b, "null"...), nil
	}
	if depth > MaxDepth {
		return b, errTooDeep
	}
	if e.aliasDepth > 0 {
		e.expanded++
		if e.expanded > maxAliasExpansion {
			return b, errTooManyAliases
		}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return encodeScalar(b, n)
	case yaml.MappingNode:
		return e.mapping(b, n, depth)
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, c := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.node(b, c, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return append(b, "null"...), nil
		}
		return e.node(b, n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return b, encodeErrorf(n, "alias *%s refers to no node", n.Value)
		}
		e.aliasDepth++
		b, err := e.node(b, n.Alias, depth+1)
		e.aliasDepth--
		return b, err
	case 0:
		if n.IsZero() {
			return append(b, "null"...), nil
		}
	}
	return b, encodeErrorf(n, "node of unknown kind %d", n.Kind)
}

// FollowAlias follows alias nodes, MaxDepth of them at most (a cycle can
// only be built by hand), to the node they refer to.
func FollowAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i <= MaxDepth; i++ {
		n = n.Alias
	}
	return n
}

// IsMergeKey reports whether k, a mapping key, is YAML's merge key << (a
// quoted "<<" is a plain key).
func IsMergeKey(k *yaml.Node) bool {
	switch k.Tag {
	case tagMerge:
		return true
	case tagStr:
		return false
	}
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == tagMerge
}

func (e *encoder) mapping(b []byte, n *yaml.Node, depth int) ([]byte, error) {
	if len(n.Content)%2 != 0 {
		return b, encodeErrorf(n, "mapping node has an odd number of children")
	}
	pairs := n.Content
	for i := 0; i < len(n.Content); i += 2 {
		if IsMergeKey(FollowAlias(n.Content[i])) {
			var err error
			if pairs, err = e.pairs(n, depth); err != nil {
				return b, err
			}
			break
		}
	}
	b = append(b, '{')
	for i := 0; i < len(pairs); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		k := FollowAlias(pairs[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			return b, encodeErrorf(pairs[i], "mapping key is not a scalar")
		}
		b = AppendString(b, k.Value)
		b = append(b, ':')
		var err error
		if b, err = e.node(b, pairs[i+1], depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// Pairs returns the key and value nodes of mapping m as Encode writes them,
// aliases followed and merge keys (<<) expanded as YAML does: in the place
// of a merge key, the pairs of the mappings it merges, except those whose
// key the mapping has itself or got from an earlier merge. A key the
// mapping has twice is written twice.
func Pairs(m *yaml.Node) ([]*yaml.Node, error) {
	m = FollowAlias(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, errors.New("jsonnode: Pairs of a node that is not a mapping")
	}
	var e encoder
	return e.pairs(m, 0)
}

// pairs returns the pairs mapping m writes (see Pairs): the one place where
// merge keys are expanded.
func (e *encoder) pairs(m *yaml.Node, depth int) ([]*yaml.Node, error) {
	if depth > MaxDepth {
		return nil, errTooDeep
	}
	if len(m.Content)%2 != 0 {
		return nil, encodeErrorf(m, "mapping node has an odd number of children")
	}
	own := make(map[string]bool, len(m.Content)/2)
	for i := 0; i < len(m.Content); i += 2 {
		k := FollowAlias(m.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, encodeErrorf(m.Content[i], "mapping key is not a scalar")
		}
		if !IsMergeKey(k) {
			own[k.Value] = true
		}
	}
	out := make([]*yaml.Node, 0, len(m.Content))
	merged := map[string]bool{}
	for i := 0; i < len(m.Content); i += 2 {
		k, v := FollowAlias(m.Content[i]), m.Content[i+1]
		if !IsMergeKey(k) {
			out = append(out, k, v)
			continue
		}
		// A merge key's value: a mapping, or a sequence of mappings.
		sources := []*yaml.Node{v}
		if r := FollowAlias(v); r != nil && r.Kind == yaml.SequenceNode {
			sources = r.Content
		}
		for _, src := range sources {
			src = FollowAlias(src)
			if src == nil || src.Kind != yaml.MappingNode {
				return nil, encodeErrorf(cmp.Or(src, v), "merge key value must be a mapping or a sequence of mappings")
			}
			if e.expanded += len(src.Content); e.expanded > maxAliasExpansion {
				return nil, errTooManyAliases
			}
			pairs, err := e.pairs(src, depth+1)
			if err != nil {
				return nil, err
			}
			for j := 0; j < len(pairs); j += 2 {
				if key := pairs[j].Value; !own[key] && !merged[key] {
					merged[key] = true
					out = append(out, pairs[j], pairs[j+1])
				}
			}
		}
	}
	return out, nil
}

func encodeScalar(b []byte, n *yaml.Node) ([]byte, error) {
	tag := n.Tag
	switch tag {
	case tagStr, tagInt, tagFloat, tagBool, tagNull:
	default:
		tag = n.ShortTag()
	}
	switch tag {
	case tagInt:
		return appendInt(b, n)
	case tagFloat:
		return appendFloat(b, n)
	case tagBool:
		switch n.Value {
		case "true", "True", "TRUE":
			return append(b, "true"...), nil
		case "false", "False", "FALSE":
			return append(b, "false"...), nil
		}
		return b, encodeErrorf(n, "!!bool %q is not true or false", n.Value)
	case tagNull:
		return append(b, "null"...), nil
	}
	return AppendString(b, n.Value), nil
}

func appendInt(b []byte, n *yaml.Node) ([]byte, error) {
	s := n.Value
	if isJSONNumber(s) && strings.IndexAny(s, ".eE") < 0 {
		return append(b, s...), nil
	}
	// YAML spellings: a sign, 0x, 0o, 0b or a leading 0 (octal), and
	// underscores between digits, as yaml.v3 resolves them.
	plain := strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return strconv.AppendInt(b, i, 10), nil
	}
	if u, err := strconv.ParseUint(strings.TrimPrefix(plain, "+"), 0, 64); err == nil {
		return strconv.AppendUint(b, u, 10), nil
	}
	return b, encodeErrorf(n, "!!int %q is not an integer JSON can hold", s)
}

func appendFloat(b []byte, n *yaml.Node) ([]byte, error) {
	s := n.Value
	if isJSONNumber(s) {
		return append(b, s...), nil
	}
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case ".inf", ".nan":
		return b, encodeErrorf(n, "!!float %q has no JSON encoding", s)
	}
	plain := strings.ReplaceAll(s, "_", "")
	f, err := strconv.ParseFloat(plain, 64)
	if err != nil {
		// An integer spelled the YAML way, like 0x1F, tagged !!float.
		i, ierr := strconv.ParseInt(plain, 0, 64)
		if ierr != nil {
			return b, encodeErrorf(n, "!!float %q is not a number", s)
		}
		f = float64(i)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, encodeErrorf(n, "!!float %q has no JSON encoding", s)
	}
	return appendFloat64(b, f), nil
}

// appendFloat64 appends f the way encoding/json writes a float64: the
// shortest text that reads back as the same float, in exponent form only
// for very large or very small magnitudes, with a two-digit exponent
// trimmed to one. f must be finite.
func appendFloat64(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 becomes 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// isJSONNumber reports whether s is a number in RFC 8259 syntax.
func isJSONNumber(s string) bool {
	end, _, missing := scanNumber(s, 0)
	return missing == "" && end == len(s)
}

// plainASCII[c] is true for the ASCII bytes that encoding/json writes as
// they are in a string: printable, and not '"', '\\', '<', '>' or '&'.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string exactly as encoding/json does with
// HTML escaping on: <, > and & as \u003c, \u003e, \u0026; U+2028 and U+2029
// escaped; control characters as \b, \f, \n, \r, \t or \u00XX; each byte of
// invalid UTF-8 as \ufffd. Encoders of Go values that build on this package
// use it so that their output and Marshal's agree byte for byte.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// encodedSizeHint estimates the size of n's encoding, to allocate Marshal's
// buffer once in the common case. It stops counting deep down: the buffer
// grows as needed anyway.
func encodedSizeHint(n *yaml.Node, depth int) int {
	if n == nil || depth > 64 {
		return 16
	}
	size := len(n.Value) + 3 // quotes and a separator
	for _, c := range n.Content {
		size += encodedSizeHint(c, depth+1)
	}
	return size
}
