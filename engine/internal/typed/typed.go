// Package typed decodes YAML nodes into Go values (Kubernetes API types
// above all) and encodes Go values into nodes, through JSON: a node is
// written as JSON by internal/jsonnode (which follows aliases and merge keys)
// and read by sigs.k8s.io/json, the API server's own case-sensitive decoder,
// so that fields mean exactly what they mean to the API server. A value is
// written by encoding/json and read back into nodes by jsonnode.
//
// What this package adds is the way back from a JSON error to the YAML
// source: every problem names the node it is about (its line and column)
// and its path, and an unknown field gets the nearest valid name as a
// suggestion.
package typed

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/suggest"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
)

// Problem is one thing wrong with a node.
type Problem struct {
	Line, Column int // position in the YAML source; 0 when unknown
	// Path leads from the decoded node to the problem, like
	// volumeMounts[1].mountPath; empty for the decoded node itself.
	Path    string
	Message string
	// First is, for a duplicate key, the line of its first occurrence.
	First int
	// Mismatch: the value has the wrong type, and its field was left as
	// it was.
	Mismatch bool
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", p.Line, p.Column)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	if p.First > 0 {
		fmt.Fprintf(&b, " (first at line %d)", p.First)
	}
	return b.String()
}

// Error lists the problems Decode found.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Decode stores the value of n in the value out points to, strictly: every
// unknown field, duplicate key and value of the wrong type is a Problem of
// the returned *Error. Fields without problems are set even then.
//
// A plain scalar read into a string (args: [8080, true]) keeps its text, as
// the injector's YAML configs have always been read (sigs.k8s.io/yaml does
// the same).
func Decode(n *yaml.Node, out any) error {
	n = content(n)
	if n == nil {
		return nil
	}
	t := reflect.TypeOf(out)
	coerce(n, t, 0)
	data, err := jsonnode.Marshal(n)
	if err != nil {
		return nodeError(n, err)
	}
	// encoding/json stops reporting at the first value of the wrong type,
	// and sigs.k8s.io/json then drops the unknown and duplicate fields: the
	// value at fault is nulled and the text decoded again, a few times at
	// most.
	e := &Error{}
	strictErrs, err := kjson.UnmarshalStrict(data, out)
	for tries := 0; err != nil; tries++ {
		tree, derr := jsonnode.Decode(data) // the columns of this text
		if derr != nil || tries == maxTypeProblems {
			e.Problems = append(e.Problems, Problem{Line: n.Line, Column: n.Column, Message: strings.TrimPrefix(err.Error(), "json: "), Mismatch: true})
			break
		}
		p, culprit := typeProblem(n, tree, err)
		p.Mismatch = true
		e.Problems = append(e.Problems, p)
		if culprit == nil || culprit == tree {
			break
		}
		*culprit = yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}
		if data, err = jsonnode.Marshal(tree); err != nil {
			break
		}
		strictErrs, err = kjson.UnmarshalStrict(data, out)
	}
	for _, se := range strictErrs {
		e.Problems = append(e.Problems, strictProblem(n, t, se))
	}
	if len(e.Problems) == 0 {
		return nil
	}
	slices.SortStableFunc(e.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return e
}

// maxTypeProblems bounds the decodes spent finding values of the wrong type.
const maxTypeProblems = 10

// DecodeLenient decodes n into out as the API server's objects are read by
// a client: unknown fields are ignored (a newer server's pod carries fields
// this program does not know) and the last of duplicate keys wins.
func DecodeLenient(n *yaml.Node, out any) error {
	n = content(n)
	if n == nil {
		return nil
	}
	data, err := jsonnode.Marshal(n)
	if err != nil {
		return err
	}
	return kjson.UnmarshalCaseSensitivePreserveInts(data, out)
}

// Encode returns the node encoding/json writes for v.
func Encode(v any) (*yaml.Node, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonnode.Decode(data)
}

// FieldName returns the JSON name of a struct field as encoding/json reads
// it, whether it is an embedded struct to inline, and false when the field
// is not encoded.
func FieldName(sf reflect.StructField) (name string, inline, ok bool) {
	if !sf.IsExported() && !sf.Anonymous {
		return "", false, false
	}
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return "", false, false
	}
	name, _, _ = strings.Cut(tag, ",")
	if name == "" {
		if sf.Anonymous {
			return "", true, true
		}
		name = sf.Name
	}
	return name, false, true
}

func content(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n == nil || n.Kind == 0 && n.IsZero() {
		return nil
	}
	return n
}

func nodeError(n *yaml.Node, err error) error {
	var ee *jsonnode.EncodeError
	if errors.As(err, &ee) {
		return &Error{Problems: []Problem{{Line: ee.Line, Column: ee.Column, Message: ee.Msg}}}
	}
	return &Error{Problems: []Problem{{Line: n.Line, Column: n.Column, Message: strings.TrimPrefix(err.Error(), "jsonnode: ")}}}
}

// coerce retags the scalars that YAML configs have always been allowed to
// write for a field of t (the previous injector read them with yaml.v2) and
// that JSON would refuse: any plain scalar for a string (args: [8080, true]
// keeps its text), YAML 1.1's booleans (yes, off, ...) for a bool, an
// integral float (8080.0) or a quoted decimal ("8080") for an integer, a
// quoted decimal for a float.
func coerce(n *yaml.Node, t reflect.Type, depth int) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || depth > jsonnode.MaxDepth || n.Kind == yaml.AliasNode || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return // an alias may stand for values of other types elsewhere
	}
	switch k := t.Kind(); {
	case n.Kind == yaml.ScalarNode:
		coerceScalar(n, k)
	case n.Kind == yaml.SequenceNode && (k == reflect.Slice || k == reflect.Array):
		for _, c := range n.Content {
			coerce(c, t.Elem(), depth+1)
		}
	case n.Kind == yaml.MappingNode && k == reflect.Map:
		for i := 1; i < len(n.Content); i += 2 {
			coerce(n.Content[i], t.Elem(), depth+1)
		}
	case n.Kind == yaml.MappingNode && k == reflect.Struct:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if sf, ok := Field(t, n.Content[i].Value); ok {
				coerce(n.Content[i+1], sf.Type, depth+1)
			}
		}
	}
}

func coerceScalar(n *yaml.Node, k reflect.Kind) {
	tag, plain := n.ShortTag(), n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
	switch {
	case k == reflect.String && plain && (tag == yaml.NodeTagInt || tag == yaml.NodeTagFloat || tag == yaml.NodeTagBool):
		n.Tag = yaml.NodeTagString
	case k == reflect.Bool && tag == yaml.NodeTagString:
		switch n.Value {
		case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON":
			n.Tag, n.Value = yaml.NodeTagBool, "true"
		case "n", "N", "no", "No", "NO", "off", "Off", "OFF":
			n.Tag, n.Value = yaml.NodeTagBool, "false"
		}
	case k >= reflect.Int && k <= reflect.Uint64 && (tag == yaml.NodeTagFloat || tag == yaml.NodeTagString):
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			n.Tag, n.Value = yaml.NodeTagInt, strconv.FormatFloat(f, 'f', -1, 64)
		}
	case (k == reflect.Float32 || k == reflect.Float64) && tag == yaml.NodeTagString:
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			n.Tag = yaml.NodeTagFloat
		}
	}
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// Field finds the field of struct type t whose JSON name is name, through
// inlined structs.
func Field(t reflect.Type, name string) (sf reflect.StructField, found bool) {
	eachField(t, func(f reflect.StructField, json string) bool {
		sf, found = f, json == name
		return !found
	})
	return sf, found
}

// eachField calls yield with each field of struct type t that
// encoding/json encodes and its JSON name, those of inlined structs in their
// place, until yield returns false; it reports whether yield always returned
// true.
func eachField(t reflect.Type, yield func(reflect.StructField, string) bool) bool {
	for i := range t.NumField() {
		sf := t.Field(i)
		json, inline, ok := FieldName(sf)
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case !ok:
		case inline && ft.Kind() == reflect.Struct:
			if !eachField(ft, yield) {
				return false
			}
		case !yield(sf, json):
			return false
		}
	}
	return true
}

// Step is one step of a path: a mapping key or a sequence index.
type Step struct {
	Key   string
	Index int
	IsKey bool
}

// strictProblem places an unknown or duplicate field that sigs.k8s.io/json
// reports by its path (a.b[1].c) at its key in the source.
func strictProblem(root *yaml.Node, t reflect.Type, err error) Problem {
	var fe kjson.FieldError
	if !errors.As(err, &fe) {
		return Problem{Line: root.Line, Column: root.Column, Message: err.Error()}
	}
	// The field's name may hold dots itself (a ConfigMap's data key
	// sidecarconfig.yaml): the split taken is the last one whose key is
	// there, else the last dot.
	full := fe.FieldPath()
	parentPath, name := splitField(full, strings.LastIndexByte(full, '.'))
	for i := strings.LastIndexByte(full, '.'); ; i = strings.LastIndexByte(full[:i], '.') {
		pp, n := splitField(full, i)
		if parent, _ := resolve(root, pp); parent != nil && len(keysNamed(parent, n)) > 0 {
			parentPath, name = pp, n
			break
		}
		if i < 0 {
			break
		}
	}
	parent, steps := resolve(root, parentPath)
	var keys []*yaml.Node
	if parent != nil {
		keys = keysNamed(parent, name)
	}
	p := Problem{Line: root.Line, Column: root.Column, Path: parentPath}
	if len(keys) > 0 {
		last := keys[len(keys)-1]
		p.Line, p.Column = last.Line, last.Column
	}
	if strings.HasPrefix(err.Error(), "duplicate") {
		if len(keys) > 1 {
			p.First = keys[0].Line
		}
		p.Message = fmt.Sprintf("duplicate key %q", name)
		return p
	}
	var names []string
	if st := TypeAt(t, steps); st != nil && st.Kind() == reflect.Struct {
		eachField(st, func(_ reflect.StructField, json string) bool {
			names = append(names, json)
			return true
		})
	}
	p.Message = fmt.Sprintf("unknown field %q%s", name, suggest.DidYouMean(name, names))
	return p
}

// splitField splits a field path at the dot at i into the parent's path and
// the field's name; i < 0 or past the end: a field of the root.
func splitField(full string, i int) (string, string) {
	if i < 0 || i >= len(full) {
		return "", full
	}
	return full[:i], full[i+1:]
}

// Node returns the node at path (as sigs.k8s.io/json and Problem write
// it: spec.mutations[2].name) from n, aliases followed, as decoding reads
// it: through aliases and merge keys. It is nil when the path leads
// nowhere.
func Node(n *yaml.Node, path string) *yaml.Node {
	n, _ = resolve(n, path)
	return jsonnode.FollowAlias(n)
}

// resolve follows path (as sigs.k8s.io/json writes it) from n, through
// aliases and merge keys; it returns the node there (nil when the path
// leads nowhere) and the steps. A key may hold dots: the longest key that
// matches is taken.
func resolve(n *yaml.Node, path string) (*yaml.Node, []Step) {
	var steps []Step
	for path != "" {
		n = jsonnode.FollowAlias(n)
		if n == nil {
			return nil, steps
		}
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			i, err := strconv.Atoi(path[1:max(end, 1)])
			if end < 0 || err != nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return nil, steps
			}
			steps = append(steps, Step{Index: i})
			n, path = n.Content[i], path[end+1:]
			continue
		}
		path = strings.TrimPrefix(path, ".")
		if n.Kind != yaml.MappingNode {
			return nil, steps
		}
		pairs, _ := jsonnode.Pairs(n)
		var next *yaml.Node
		key := ""
		for i := 0; i+1 < len(pairs); i += 2 {
			k := pairs[i].Value
			rest, ok := strings.CutPrefix(path, k)
			if ok && (rest == "" || rest[0] == '.' || rest[0] == '[') && len(k) > len(key) {
				key, next = k, pairs[i+1]
			}
		}
		if next == nil {
			return nil, steps
		}
		steps = append(steps, Step{Key: key, IsKey: true})
		n, path = next, path[len(key):]
	}
	return n, steps
}

// keysNamed lists the key nodes of mapping m named name, in the order in
// which they win (see jsonnode.Pairs).
func keysNamed(m *yaml.Node, name string) []*yaml.Node {
	pairs, _ := jsonnode.Pairs(m)
	var out []*yaml.Node
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i].Value == name {
			out = append(out, pairs[i])
		}
	}
	return out
}

// TypeAt follows steps from type t and returns the type there,
// dereferenced; nil when they lead nowhere.
func TypeAt(t reflect.Type, steps []Step) reflect.Type {
	for _, s := range steps {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Struct && s.IsKey:
			sf, ok := Field(t, s.Key)
			if !ok {
				return nil
			}
			t = sf.Type
		case t.Kind() == reflect.Map || t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
			t = t.Elem()
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// typeProblem places the value that encoding/json could not read into its
// Go type at its node in the source. tree is the JSON text decoded: the text
// is one line, so a value's column is its offset, and the value at fault is
// the last one that starts before the error's offset. It returns the value
// at fault in tree too.
func typeProblem(root, tree *yaml.Node, err error) (Problem, *yaml.Node) {
	var ute *json.UnmarshalTypeError
	if !errors.As(err, &ute) {
		return Problem{Line: root.Line, Column: root.Column, Message: strings.TrimPrefix(err.Error(), "json: ")}, nil
	}
	path, culprit := lastBefore(tree, int(ute.Offset), "")
	p := Problem{Line: root.Line, Column: root.Column, Path: path}
	found := "a JSON " + ute.Value
	if n, _ := resolve(root, path); n != nil {
		p.Line, p.Column = n.Line, n.Column
		found = yamlnode.Describe(jsonnode.FollowAlias(n))
	}
	p.Message = fmt.Sprintf("expected %s, found %s", Describe(ute.Type), found)
	if strings.HasPrefix(ute.Value, "number ") {
		p.Message = fmt.Sprintf("value %s is out of range for %s", strings.TrimPrefix(ute.Value, "number "), ute.Type)
	}
	return p, culprit
}

// lastBefore returns the path and node of the last value in tree that
// starts before offset (a 0-based byte offset in the one-line JSON text).
func lastBefore(n *yaml.Node, offset int, path string) (string, *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := len(n.Content) - 2; i >= 0; i -= 2 {
			if v := n.Content[i+1]; v.Column-1 < offset {
				k := n.Content[i].Value
				if path != "" {
					k = path + "." + k
				}
				return lastBefore(v, offset, k)
			}
		}
	case yaml.SequenceNode:
		for i := len(n.Content) - 1; i >= 0; i-- {
			if v := n.Content[i]; v.Column-1 < offset {
				return lastBefore(v, offset, path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	return path, n
}

// Describe names what a Go type takes, for messages: "a list", "an
// integer".
func Describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}
