package jsonnode

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// MaxDepth is the deepest nesting of arrays and objects that Decode accepts
// and Encode writes. It keeps hostile input from exhausting the stack, and
// stops Encode on a node graph whose aliases form a cycle.
const MaxDepth = 10000

// YAML core schema tags, in the short form that yaml.v3's parser stores in
// Node.Tag.
const (
	tagStr       = "!!str"
	tagInt       = "!!int"
	tagFloat     = "!!float"
	tagBool      = "!!bool"
	tagNull      = "!!null"
	tagMap       = "!!map"
	tagSeq       = "!!seq"
	tagMerge     = "!!merge"
	tagBinary    = "!!binary"
	tagTimestamp = "!!timestamp"
)

// syntaxError is Decode's error for input that is not a single valid JSON
// value.
type syntaxError struct {
	Offset int    // byte offset in the input where the problem was found
	Line   int    // 1-based line of Offset
	Column int    // 1-based column of Offset, in bytes
	Msg    string // what was expected, for example "expected ':' after object key"
}

func (e *syntaxError) Error() string {
	return "offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Decode parses one JSON value (RFC 8259) and returns it as a node: a
// MappingNode, SequenceNode or ScalarNode, never a DocumentNode. Anything but
// white space after the value is an error, as is nesting deeper than
// MaxDepth. Errors give the byte offset of the problem.
//
// Invalid UTF-8 in strings, and \u escapes of lone UTF-16 surrogates, become
// U+FFFD, as with encoding/json.
func Decode(data []byte) (*yaml.Node, error) {
	return new(Decoder).Decode(data)
}

// A Decoder decodes as [Decode] does, into blocks of nodes that it keeps
// from one call to the next: a server that decodes an object per request
// and drops its tree when the request is answered need not allocate (and
// have collected) a few hundred nodes each time.
//
// The tree that Decode returns is made of the Decoder's blocks: it is valid
// until the next call of Decode on the same Decoder. Keep no node of it
// beyond that; the strings of its values are copies of the input, and may
// be kept. A Decoder is not safe for concurrent use; pool Decoders, not
// trees.
type Decoder struct {
	nodes    []yaml.Node
	contents []*yaml.Node
	children []*yaml.Node
	scratch  []byte
}

// Decode parses data as [Decode] does, into the Decoder's blocks.
func (d *Decoder) Decode(data []byte) (*yaml.Node, error) {
	estimate := estimateNodes(data)
	p := parser{
		data: data, text: string(data), line: 1,
		nodes:    reuse(d.nodes, estimate),
		contents: reuse(d.contents, estimate),
		children: reuse(d.children, min(estimate, 256)),
		scratch:  d.scratch[:0],
	}
	n, err := p.run(nil)
	// What the last block holds is overwritten by the next call; earlier
	// blocks, when the estimate fell short, go with the tree.
	d.nodes, d.contents, d.children, d.scratch = p.nodes, p.contents, p.children, p.scratch
	return n, err
}

// estimateNodes is the size of the node blocks that Decode makes for data,
// from the count of structural bytes: each object member is two nodes and
// holds one ':', each further array element or member follows a ','.
// Colons and commas inside strings make this an overestimate, which only
// costs memory.
func estimateNodes(data []byte) int {
	return bytes.Count(data, []byte{':'}) + bytes.Count(data, []byte{','}) + bytes.Count(data, []byte{'['}) + bytes.Count(data, []byte{'{'}) + 1
}

// DecodeCost is the most memory, in bytes, that a Decode of data allocates
// (a test holds it to what Decode does): its block of nodes, the links
// between them and the list of the children of the containers open (which
// grows by doubling), its copy of the text and the unescaped strings. A
// server can reserve it before decoding an object that a client sent. For
// a pod it is about ten times the size of its JSON; for hostile shapes,
// such as a long array of empty strings, up to seventy times.
func DecodeCost(data []byte) int64 {
	const link = int64(unsafe.Sizeof((*yaml.Node)(nil)))
	const perNode = int64(unsafe.Sizeof(yaml.Node{})) + 7*link
	return int64(estimateNodes(data))*perNode + 4*int64(len(data))
}

// An Outline names the parts of a JSON value that [DecodeOutline] builds.
// A nil Outline stands for the whole value. A non-nil one builds an object
// with only the members it names, each as the Outline it maps it to says;
// an array with no items; any other value whole.
//
// The engine reads a pod's metadata to decide whether to inject into it:
// an Outline of the metadata lets a server answer a large pod that asks
// for nothing without building its spec.
type Outline map[string]Outline

// DecodeOutline parses data as [Decode] does and checks all of it, with
// the same errors, but builds only what outline names (see [Outline]). It
// also returns the number of nodes that Decode would build for data.
// Strings are copies of their own, not slices of a copy of the input, so
// that the outline of a large input keeps little of it alive.
func DecodeOutline(data []byte, outline Outline) (*yaml.Node, int, error) {
	p := parser{data: data, line: 1}
	n, err := p.run(outline)
	return n, p.count, err
}

// reuse returns block emptied when it can hold size items, else a new
// block of that size. The old items are not cleared: each is overwritten
// whole when it is used again, and clearing memory that holds pointers
// costs a write barrier per pointer while the collector runs, as much
// again as the writes themselves.
func reuse[T any](block []T, size int) []T {
	if cap(block) < size {
		return make([]T, 0, size)
	}
	return block[:0]
}

// run parses the whole input, building it as o says.
func (p *parser) run(o Outline) (*yaml.Node, error) {
	p.skipSpace()
	n, err := p.value(o)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.data) {
		return nil, p.errorf("expected end of input after the top-level value")
	}
	return n, nil
}

// parser holds the state of one Decode call.
type parser struct {
	data []byte
	// text is data as a string, so that strings without escapes become
	// substrings of one allocation; empty, they are copies of their own.
	text      string
	pos       int
	line      int // line of pos
	lineStart int // offset of the first byte of line
	depth     int

	// nodes and contents are blocks from which nodes and Content slices are
	// carved, so that a whole tree costs a few allocations.
	nodes    []yaml.Node
	contents []*yaml.Node
	// children holds the children of the containers being parsed, innermost
	// last; a container copies its own into contents when it closes.
	children []*yaml.Node
	scratch  []byte // unescaping buffer

	// skipping is set while a value the outline leaves out is parsed:
	// it is checked and counted, nothing of it is built.
	skipping bool
	skipped  *yaml.Node // what newNode returns while skipping
	count    int        // nodes a whole Decode builds, skipped ones included
}

func (p *parser) errorf(format string, args ...any) *syntaxError {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	if p.pos >= len(p.data) {
		msg = "unexpected end of input: " + msg
	}
	return &syntaxError{Offset: p.pos, Line: p.line, Column: p.pos - p.lineStart + 1, Msg: msg}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\r':
		case '\n':
			p.line++
			p.lineStart = p.pos + 1
		default:
			return
		}
		p.pos++
	}
}

func (p *parser) newNode(kind yaml.Kind, tag string) *yaml.Node {
	p.count++
	if p.skipping {
		if p.skipped == nil {
			p.skipped = new(yaml.Node)
		}
		return p.skipped
	}
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]yaml.Node, 0, 2*cap(p.nodes)+16)
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	*n = yaml.Node{Kind: kind, Tag: tag, Line: p.line, Column: p.pos - p.lineStart + 1}
	return n
}

// closeContainer moves the children pushed since start into n.Content.
func (p *parser) closeContainer(n *yaml.Node, start int) {
	if p.skipping {
		return
	}
	kids := p.children[start:]
	p.children = p.children[:start]
	if len(kids) == 0 {
		return
	}
	if cap(p.contents)-len(p.contents) < len(kids) {
		p.contents = make([]*yaml.Node, 0, 2*cap(p.contents)+len(kids))
	}
	from := len(p.contents)
	p.contents = append(p.contents, kids...)
	// The capacity limit keeps an append to one node's Content from
	// overwriting its neighbour's.
	n.Content = p.contents[from:len(p.contents):len(p.contents)]
}

// value parses the value at p.pos, which is not white space, building it
// as o says.
func (p *parser) value(o Outline) (*yaml.Node, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("expected a value")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(o)
	case c == '[':
		return p.array(o)
	case c == '"':
		n := p.newNode(yaml.ScalarNode, tagStr)
		s, err := p.str()
		n.Value = s
		return n, err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true", tagBool)
	case c == 'f':
		return p.literal("false", tagBool)
	case c == 'n':
		return p.literal("null", tagNull)
	}
	return nil, p.errorf("expected a value (object, array, string, number, true, false or null)")
}

func (p *parser) literal(word, tag string) (*yaml.Node, error) {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return nil, p.errorf("expected a value (object, array, string, number, true, false or null)")
	}
	n := p.newNode(yaml.ScalarNode, tag)
	n.Value = word
	p.pos += len(word)
	return n, nil
}

func (p *parser) object(o Outline) (*yaml.Node, error) {
	n, start, more, err := p.open(yaml.MappingNode, tagMap, '}')
	if err != nil {
		return nil, err
	}
	for more {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("expected '\"' to begin an object key")
		}
		key := p.newNode(yaml.ScalarNode, tagStr)
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		key.Value = s
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("expected ':' after object key")
		}
		p.pos++
		p.skipSpace()
		sub, keep := Outline(nil), true
		if o != nil && !p.skipping {
			sub, keep = o[s]
		}
		// A member the outline leaves out is checked and counted, not built.
		outer := p.skipping
		p.skipping = outer || !keep
		val, err := p.value(sub)
		if err != nil {
			return nil, err
		}
		p.skipping = outer
		if keep && !p.skipping {
			p.children = append(p.children, key, val)
		}
		if more, err = p.next('}', "object member"); err != nil {
			return nil, err
		}
	}
	p.closeContainer(n, start)
	return n, nil
}

func (p *parser) array(o Outline) (*yaml.Node, error) {
	n, start, more, err := p.open(yaml.SequenceNode, tagSeq, ']')
	if err != nil {
		return nil, err
	}
	if o != nil && !p.skipping {
		// An outlined array is built without its items.
		p.skipping = true
		defer func() { p.skipping = false }()
	}
	for more {
		val, err := p.value(nil)
		if err != nil {
			return nil, err
		}
		if !p.skipping {
			p.children = append(p.children, val)
		}
		if more, err = p.next(']', "array element"); err != nil {
			return nil, err
		}
	}
	p.closeContainer(n, start)
	return n, nil
}

// open starts the object or array at p.pos: a node of the kind, where its
// children start in p.children, and whether it has any (an empty one is
// read whole).
func (p *parser) open(kind yaml.Kind, tag string, closing byte) (n *yaml.Node, start int, more bool, err error) {
	if p.depth++; p.depth > MaxDepth {
		return nil, 0, false, p.errorf("nesting deeper than %d arrays and objects", MaxDepth)
	}
	n = p.newNode(kind, tag)
	p.pos++ // '{' or '['
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == closing {
		p.pos++
		p.depth--
		return n, len(p.children), false, nil
	}
	return n, len(p.children), true, nil
}

// next reads what follows an object member or an array element: a comma,
// and there is more, or the closing byte of the container.
func (p *parser) next(closing byte, after string) (more bool, err error) {
	p.skipSpace()
	if p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
			return true, nil
		case closing:
			p.pos++
			p.depth--
			return false, nil
		}
	}
	return false, p.errorf("expected ',' or '%c' after %s", closing, after)
}

// number scans a number per RFC 8259. Its text is kept as it is; the tag
// is the one yaml.v3 would resolve the same plain text to: !!int when it fits
// an int64 or a uint64, !!float otherwise.
func (p *parser) number() (*yaml.Node, error) {
	n := p.newNode(yaml.ScalarNode, tagInt)
	end, float, missing := scanNumber(p.data, p.pos)
	if missing != "" {
		p.pos = end
		return nil, p.errorf("expected a digit %s", missing)
	}
	n.Value = p.substring(p.pos, end)
	p.pos = end
	if float || len(n.Value) > 18 && !fitsInt64OrUint64(n.Value) {
		n.Tag = tagFloat
	}
	return n, nil
}

// scanNumber scans the RFC 8259 number that starts at s[i]. It returns
// where it ends and whether it has a fraction or an exponent; or, when it
// is not a number, where a digit is missing and where it was expected.
func scanNumber[T string | []byte](s T, i int) (end int, float bool, missing string) {
	digits := func() {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		digits()
	default:
		return i, false, "after '-'"
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return i, true, "after the decimal point"
		}
		digits()
		float = true
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return i, true, "in the exponent"
		}
		digits()
		float = true
	}
	return i, float, ""
}

func fitsInt64OrUint64(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// plainInString[c] is true for the bytes that stand for themselves in a
// JSON string: ASCII, printable, not '"' nor '\\'.
var plainInString = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans the string starting at the '"' at p.pos and returns its value.
func (p *parser) str() (string, error) {
	d := p.data
	start := p.pos + 1
	// Fast path: no escapes and valid UTF-8, so the value is a substring.
	// Nearly every byte of a pod's strings is plain: one table lookup each.
	for i := start; i < len(d); {
		if plainInString[d[i]] {
			i++
			continue
		}
		switch c := d[i]; {
		case c == '"':
			p.pos = i + 1
			return p.substring(start, i), nil
		case c == '\\' || c < 0x20:
			return p.strSlow(start, i)
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				return p.strSlow(start, i)
			}
			i += size
		}
	}
	p.pos = len(d)
	return "", p.errorf("expected '\"' to end a string")
}

// strSlow continues str from i, the first byte that needs more than copying.
func (p *parser) strSlow(start, i int) (string, error) {
	d := p.data
	b := append(p.scratch[:0], d[start:i]...)
	defer func() { p.scratch = b }()
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			if p.skipping {
				return "", nil
			}
			return string(b), nil
		case c < 0x20:
			p.pos = i
			return "", p.errorf("invalid control character %q in string (escape it)", c)
		case c < utf8.RuneSelf && c != '\\':
			b = append(b, c)
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d[i:i+size]...)
			}
			i += size
		default: // backslash
			var err error
			if b, i, err = p.escape(b, i); err != nil {
				return "", err
			}
		}
	}
	p.pos = len(d)
	return "", p.errorf("expected '\"' to end a string")
}

// escape appends the character that the escape sequence at data[i] (a
// backslash) stands for to b, and returns where the sequence ends.
func (p *parser) escape(b []byte, i int) ([]byte, int, error) {
	d := p.data
	if i+1 >= len(d) {
		p.pos = len(d)
		return b, i, p.errorf("expected an escape sequence after '\\'")
	}
	switch e := d[i+1]; e {
	case '"', '\\', '/':
		b = append(b, e)
	case 'b':
		b = append(b, '\b')
	case 'f':
		b = append(b, '\f')
	case 'n':
		b = append(b, '\n')
	case 'r':
		b = append(b, '\r')
	case 't':
		b = append(b, '\t')
	case 'u':
		r, ok := hex4(d[i+2:])
		if !ok {
			p.pos = i
			return b, i, p.errorf("expected four hex digits after \\u")
		}
		i += 6
		if utf16.IsSurrogate(r) {
			// A high surrogate followed by an escaped low one is one
			// character; any other surrogate is replaced.
			r2, ok := rune(-1), false
			if i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
				r2, ok = hex4(d[i+2:])
			}
			if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
				r = dec
				i += 6
			} else {
				r = utf8.RuneError
			}
		}
		return utf8.AppendRune(b, r), i, nil
	default:
		p.pos = i
		return b, i, p.errorf("invalid escape character %q after '\\' in string", rune(e))
	}
	return b, i + 2, nil
}

// substring is data[start:end] as a string: nothing while skipping, a
// slice of text when there is one, else a copy.
func (p *parser) substring(start, end int) string {
	switch {
	case p.skipping:
		return ""
	case p.text != "":
		return p.text[start:end]
	}
	return string(p.data[start:end])
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
