package typednode

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/suggest"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Options tune Decode.
type Options struct {
	// Strict makes unknown fields and duplicate keys problems. Config
	// loading sets it; decoding objects from the API server does not.
	Strict bool
}

// Problem is one thing wrong with a node.
type Problem struct {
	Line, Column int // position in the YAML source; 0 for nodes built by hand
	// Path leads from the decoded node to the problem, like
	// volumeMounts[1].mountPath or metadata.labels["app.kubernetes.io/name"];
	// empty for the decoded node itself.
	Path    string
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", p.Line, p.Column)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error lists all the problems Decode found, in document order.
type Error struct {
	Problems []Problem
}

// Error returns the problems one per line, as
// "line L, column C: PATH: MESSAGE".
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Limits that keep hostile or broken input from exhausting the stack or
// memory: node trees deeper than maxDepth (only possible with aliases that
// form a cycle, or built by hand), and alias expansion ("billion laughs").
const (
	maxDepth           = 10000
	maxAliasExpansions = 1 << 20
)

// Decode stores the value of n in the Go value that out points to. A
// DocumentNode is decoded as its content. It returns an *Error holding every
// problem found; fields without problems are set even then. out must be a
// non-nil pointer; otherwise the error is not an *Error.
func Decode(n *yaml.Node, out any, opts Options) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("typednode: Decode needs a non-nil pointer, got %T", out)
	}
	if n != nil && n.Kind == yaml.DocumentNode {
		doc := n
		n = nil
		if len(doc.Content) > 0 {
			n = doc.Content[0]
		}
	}
	if n == nil || n.Kind == 0 && n.IsZero() {
		return nil // an empty document
	}
	d := decoder{strict: opts.Strict}
	d.path = d.pathBuf[:0]
	d.value(n, rv.Elem(), planFor(rv.Type().Elem()))
	if len(d.problems) > 0 {
		return &Error{Problems: d.problems}
	}
	return nil
}

// decoder holds the state of one Decode call.
type decoder struct {
	strict   bool
	problems []Problem
	// path is the way from the decoded node to the current one, kept as a
	// stack so that nothing is formatted unless there is a problem.
	path    []pathStep
	pathBuf [16]pathStep
	json    []byte // scratch for UnmarshalJSON's input

	depth          int
	aliasDepth     int // > 0 while decoding the target of an alias
	aliasExpansion int // nodes decoded under an alias
	aborted        bool
}

type pathStep struct {
	name  string // field name or map key
	index int    // sequence index, when isIndex
	kind  stepKind
}

type stepKind uint8

const (
	stepField stepKind = iota
	stepKey
	stepIndex
)

func (d *decoder) push(s pathStep) { d.path = append(d.path, s) }
func (d *decoder) pop()            { d.path = d.path[:len(d.path)-1] }

func (d *decoder) pathString() string {
	var b strings.Builder
	for i, s := range d.path {
		switch {
		case s.kind == stepIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case s.kind == stepKey && !plainKey(s.name):
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s.name))
			b.WriteByte(']')
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// plainKey reports whether a map key reads unambiguously after a dot.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (d *decoder) problem(n *yaml.Node, format string, args ...any) {
	d.problems = append(d.problems, Problem{
		Line:    n.Line,
		Column:  n.Column,
		Path:    d.pathString(),
		Message: fmt.Sprintf(format, args...),
	})
}

// mismatch reports a node of the wrong kind for the Go type.
func (d *decoder) mismatch(n *yaml.Node, want string) {
	d.problem(n, "expected %s, found %s", want, yamlnode.Describe(n))
}

// value decodes n into v, whose plan is p.
func (d *decoder) value(n *yaml.Node, v reflect.Value, p *plan) {
	if d.aborted {
		return
	}
	if d.aliasDepth > 0 {
		d.aliasExpansion++
		if d.aliasExpansion > maxAliasExpansions {
			d.problem(n, "aliases expand to more than %d nodes", maxAliasExpansions)
			d.aborted = true
			return
		}
	}
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		d.problem(n, "nesting deeper than %d levels (or an alias cycle)", maxDepth)
		d.aborted = true
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			d.problem(n, "alias *%s refers to no node", n.Value)
			return
		}
		d.aliasDepth++
		d.value(n.Alias, v, p)
		d.aliasDepth--
		return
	case yaml.ScalarNode:
		if isNull(n) {
			switch p.kind {
			case kindPointer, kindSlice, kindStringSlice, kindBytes, kindMap, kindStringMap, kindEmptyInterface:
				v.SetZero()
			}
			return
		}
	}

	switch p.kind {
	case kindString:
		if n.Kind != yaml.ScalarNode {
			d.mismatch(n, "a string")
			return
		}
		v.SetString(n.Value)
	case kindStruct:
		if n.Kind != yaml.MappingNode {
			d.mismatch(n, "a mapping")
			return
		}
		d.structValue(n, v, p)
	case kindPointer:
		if v.IsNil() {
			v.Set(reflect.New(p.typ.Elem()))
		}
		d.value(n, v.Elem(), p.elem)
	case kindSlice:
		if n.Kind != yaml.SequenceNode {
			d.mismatch(n, "a list")
			return
		}
		s := reflect.MakeSlice(p.typ, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.push(pathStep{index: i, kind: stepIndex})
			d.value(c, s.Index(i), p.elem)
			d.pop()
		}
		v.Set(s)
	case kindStringSlice:
		d.stringSlice(n, v)
	case kindStringMap:
		d.stringMap(n, v)
	case kindMap:
		d.mapValue(n, v, p)
	case kindInt:
		d.intValue(n, v)
	case kindUint:
		d.uintValue(n, v)
	case kindFloat:
		d.floatValue(n, v)
	case kindBool:
		d.boolValue(n, v)
	case kindJSONUnmarshaler:
		d.jsonUnmarshaler(n, v)
	case kindTextUnmarshaler:
		if n.Kind != yaml.ScalarNode {
			d.mismatch(n, "a scalar")
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.problem(n, "cannot decode %q as %s: %v", n.Value, p.typ, err)
		}
	case kindBytes:
		d.bytesValue(n, v, p)
	case kindArray:
		if n.Kind != yaml.SequenceNode {
			d.mismatch(n, "a list")
			return
		}
		for i := 0; i < v.Len(); i++ {
			if i < len(n.Content) {
				d.push(pathStep{index: i, kind: stepIndex})
				d.value(n.Content[i], v.Index(i), p.elem)
				d.pop()
			} else {
				v.Index(i).SetZero()
			}
		}
	case kindEmptyInterface:
		if x := d.anyValue(n); x != nil {
			v.Set(reflect.ValueOf(x))
		} else {
			v.SetZero()
		}
	default:
		d.problem(n, "cannot decode into Go type %s", p.typ)
	}
}

// isNull reports whether n is a YAML null: null, ~, an empty plain scalar,
// or a node tagged !!null.
func isNull(n *yaml.Node) bool {
	switch n.Tag {
	case "!!null":
		return true
	case "!!str", "!!int", "!!float", "!!bool":
		return false
	}
	return n.ShortTag() == "!!null"
}

// follow returns the node an alias refers to (n itself for other nodes).
func follow(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// isMergeKey reports whether k is the merge key <<.
func isMergeKey(k *yaml.Node) bool {
	switch k.Tag {
	case "!!merge":
		return true
	case "!!str":
		return false
	}
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// pairs returns the key and value nodes of mapping n, alternating. Merge
// keys are expanded: the mapping's own pairs come first, then merged pairs
// whose key neither the mapping nor an earlier merged mapping has.
func (d *decoder) pairs(n *yaml.Node) []*yaml.Node {
	hasMerge := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMergeKey(follow(n.Content[i])) {
			hasMerge = true
			break
		}
	}
	if !hasMerge {
		return n.Content[:len(n.Content)&^1]
	}
	var own, merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMergeKey(follow(n.Content[i])) {
			merged = d.mergeSources(merged, n.Content[i+1], 0)
			continue
		}
		own = append(own, n.Content[i], n.Content[i+1])
	}
	seen := make(map[string]bool, len(own)/2)
	for i := 0; i < len(own); i += 2 {
		if k := follow(own[i]); k.Kind == yaml.ScalarNode {
			seen[k.Value] = true
		}
	}
	out := own
	for i := 0; i < len(merged); i += 2 {
		k := follow(merged[i])
		if k.Kind != yaml.ScalarNode || seen[k.Value] {
			continue
		}
		seen[k.Value] = true
		out = append(out, merged[i], merged[i+1])
	}
	return out
}

// mergeSources appends the pairs that the value v of a merge key brings:
// those of a mapping (its own merges expanded), or of each mapping of a
// sequence, in order.
func (d *decoder) mergeSources(pairs []*yaml.Node, v *yaml.Node, depth int) []*yaml.Node {
	if d.aborted {
		return pairs
	}
	if depth > maxDepth {
		d.problem(v, "merge keys nest deeper than %d levels", maxDepth)
		d.aborted = true
		return pairs
	}
	r := follow(v)
	// Merging through aliases can multiply pairs like aliases multiply
	// nodes: count them against the same budget.
	if r != nil && (r != v || depth > 0) {
		d.aliasExpansion += len(r.Content)
		if d.aliasExpansion > maxAliasExpansions {
			d.problem(v, "aliases expand to more than %d nodes", maxAliasExpansions)
			d.aborted = true
			return pairs
		}
	}
	switch {
	case r != nil && r.Kind == yaml.MappingNode:
		// The merged mapping's own keys win over those it merges itself.
		var nested []*yaml.Node
		for i := 0; i+1 < len(r.Content); i += 2 {
			if isMergeKey(follow(r.Content[i])) {
				nested = append(nested, r.Content[i+1])
				continue
			}
			pairs = append(pairs, r.Content[i], r.Content[i+1])
		}
		for _, m := range nested {
			pairs = d.mergeSources(pairs, m, depth+1)
		}
	case r != nil && r.Kind == yaml.SequenceNode:
		for _, m := range r.Content {
			if fm := follow(m); fm == nil || fm.Kind != yaml.MappingNode {
				d.problem(m, "a merge key (<<) takes a mapping or a list of mappings, found %s", yamlnode.Describe(fm))
				continue
			}
			pairs = d.mergeSources(pairs, m, depth+1)
		}
	default:
		d.problem(v, "a merge key (<<) takes a mapping or a list of mappings, found %s", yamlnode.Describe(r))
	}
	return pairs
}

// key returns the text of mapping key k, or false after reporting a key
// that is not a scalar.
func (d *decoder) key(k *yaml.Node) (string, bool) {
	r := follow(k)
	if r == nil || r.Kind != yaml.ScalarNode {
		d.problem(k, "a mapping key must be a scalar, found %s", yamlnode.Describe(r))
		return "", false
	}
	return r.Value, true
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, p *plan) {
	pairs := d.pairs(n)
	st := p.structPlan()
	// In strict mode, the key node that set each field, to report
	// duplicates.
	var setBy []*yaml.Node
	if d.strict {
		setBy = make([]*yaml.Node, len(st.fields))
	}
	for i := 0; i < len(pairs); i += 2 {
		k := pairs[i]
		name, ok := d.key(k)
		if !ok {
			continue
		}
		fi, ok := st.byName[name]
		if !ok {
			if d.strict {
				d.unknownField(k, name, p)
			}
			continue
		}
		if d.strict {
			if first := setBy[fi]; first != nil {
				d.problem(k, "duplicate key %q (first at line %d)", name, first.Line)
				continue
			}
			setBy[fi] = k
		}
		f := &st.fields[fi]
		var fv reflect.Value
		if len(f.index) == 1 {
			fv = v.Field(f.index[0])
		} else {
			fv = fieldByIndex(v, f.index)
		}
		d.push(pathStep{name: name})
		d.value(pairs[i+1], fv, f.plan)
		d.pop()
	}
}

// fieldByIndex is reflect.Value.FieldByIndex, allocating the embedded
// structs that pointers lead to.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func (d *decoder) unknownField(k *yaml.Node, name string, p *plan) {
	fields := p.fields()
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	d.problem(k, "unknown field %q%s", name, suggest.DidYouMean(name, names))
}

// duplicates tracks the keys of one mapping decoded into a Go map, in strict
// mode.
type duplicates map[string]*yaml.Node

func (d *decoder) checkDuplicate(seen duplicates, k *yaml.Node, key string) bool {
	if seen == nil {
		return true
	}
	if first, dup := seen[key]; dup {
		d.problem(k, "duplicate key %q (first at line %d)", key, first.Line)
		return false
	}
	seen[key] = k
	return true
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, p *plan) {
	if n.Kind != yaml.MappingNode {
		d.mismatch(n, "a mapping")
		return
	}
	pairs := d.pairs(n)
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(p.typ, len(pairs)/2))
	}
	var seen duplicates
	if d.strict {
		seen = make(duplicates)
	}
	keyType := p.typ.Key()
	for i := 0; i < len(pairs); i += 2 {
		key, ok := d.key(pairs[i])
		if !ok || !d.checkDuplicate(seen, pairs[i], key) {
			continue
		}
		elem := reflect.New(p.typ.Elem()).Elem()
		d.push(pathStep{name: key, kind: stepKey})
		d.value(pairs[i+1], elem, p.elem)
		d.pop()
		kv := reflect.New(keyType).Elem()
		kv.SetString(key)
		v.SetMapIndex(kv, elem)
	}
}

// stringMap decodes map[string]string, the type of labels and annotations,
// without reflection per entry.
func (d *decoder) stringMap(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.mismatch(n, "a mapping")
		return
	}
	pairs := d.pairs(n)
	m := v.Interface().(map[string]string)
	if m == nil {
		m = make(map[string]string, len(pairs)/2)
		v.Set(reflect.ValueOf(m))
	}
	var seen duplicates
	if d.strict {
		seen = make(duplicates)
	}
	for i := 0; i < len(pairs); i += 2 {
		key, ok := d.key(pairs[i])
		if !ok || !d.checkDuplicate(seen, pairs[i], key) {
			continue
		}
		val := follow(pairs[i+1])
		if val == nil || val.Kind != yaml.ScalarNode {
			d.push(pathStep{name: key, kind: stepKey})
			d.mismatch(pairs[i+1], "a string")
			d.pop()
			continue
		}
		if isNull(val) {
			m[key] = ""
		} else {
			m[key] = val.Value
		}
	}
}

// stringSlice decodes []string, the type of command and args.
func (d *decoder) stringSlice(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.mismatch(n, "a list")
		return
	}
	s := make([]string, len(n.Content))
	for i, c := range n.Content {
		c = follow(c)
		if c == nil || c.Kind != yaml.ScalarNode {
			d.push(pathStep{index: i, kind: stepIndex})
			d.mismatch(n.Content[i], "a string")
			d.pop()
			continue
		}
		if !isNull(c) {
			s[i] = c.Value
		}
	}
	v.Set(reflect.ValueOf(s))
}

func (d *decoder) intValue(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.mismatch(n, "an integer")
		return
	}
	i, err := parseInt(n)
	if err == nil && v.OverflowInt(i) {
		err = strconv.ErrRange
	}
	switch err {
	case nil:
		v.SetInt(i)
	case strconv.ErrRange:
		d.problem(n, "value %s is out of range for %s", n.Value, v.Type())
	default:
		d.problem(n, "expected an integer, found %s", yamlnode.Describe(n))
	}
}

// parseInt reads an integer scalar: a YAML integer in any spelling, a float
// with an integral value, or a quoted decimal integer. Its error is
// strconv.ErrRange or strconv.ErrSyntax.
func parseInt(n *yaml.Node) (int64, error) {
	s := n.Value
	switch n.ShortTag() {
	case "!!str":
		i, err := strconv.ParseInt(s, 10, 64)
		return i, unwrapNumError(err)
	case "!!int":
		// Base 0 reads YAML's spellings: 0x1F, 0o17, and 017 as octal
		// like yaml.v2 and yaml.v3 do.
		i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
		return i, unwrapNumError(err)
	case "!!float":
		f, err := parseFloat(s)
		if err != nil || f != math.Trunc(f) {
			return 0, strconv.ErrSyntax
		}
		if f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, strconv.ErrRange
		}
		return int64(f), nil
	}
	return 0, strconv.ErrSyntax
}

func (d *decoder) uintValue(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.mismatch(n, "an integer")
		return
	}
	u, err := parseUint(n)
	if err == nil && v.OverflowUint(u) {
		err = strconv.ErrRange
	}
	switch err {
	case nil:
		v.SetUint(u)
	case strconv.ErrRange:
		d.problem(n, "value %s is out of range for %s", n.Value, v.Type())
	default:
		d.problem(n, "expected a non-negative integer, found %s", yamlnode.Describe(n))
	}
}

func parseUint(n *yaml.Node) (uint64, error) {
	s := n.Value
	switch n.ShortTag() {
	case "!!str":
		u, err := strconv.ParseUint(s, 10, 64)
		return u, unwrapNumError(err)
	case "!!int":
		plain := strings.TrimPrefix(strings.ReplaceAll(s, "_", ""), "+")
		if strings.HasPrefix(plain, "-") {
			return 0, strconv.ErrRange
		}
		u, err := strconv.ParseUint(plain, 0, 64)
		return u, unwrapNumError(err)
	case "!!float":
		f, err := parseFloat(s)
		if err != nil || f != math.Trunc(f) {
			return 0, strconv.ErrSyntax
		}
		if f < 0 || f >= math.MaxUint64 {
			return 0, strconv.ErrRange
		}
		return uint64(f), nil
	}
	return 0, strconv.ErrSyntax
}

func unwrapNumError(err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err
	}
	return err
}

// parseFloat reads a YAML float: a number, or .inf, -.inf, .nan and their
// capitalized forms.
func parseFloat(s string) (float64, error) {
	switch s {
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return math.Inf(1), nil
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1), nil
	case ".nan", ".NaN", ".NAN":
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		// strconv's own spellings (Inf, NaN, infinity) are not YAML's.
		if err == nil || unwrapNumError(err) != strconv.ErrRange {
			return 0, strconv.ErrSyntax
		}
		return 0, strconv.ErrRange
	}
	return f, nil
}

func (d *decoder) floatValue(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.mismatch(n, "a number")
		return
	}
	var f float64
	var err error
	switch n.ShortTag() {
	case "!!float", "!!int":
		f, err = parseFloat(n.Value)
		if err == strconv.ErrSyntax {
			// An integer in YAML's other spellings, like 0x1F.
			var i int64
			if i, err = strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
				f = float64(i)
			}
		}
	case "!!str":
		f, err = strconv.ParseFloat(n.Value, 64)
		if err == nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
			err = strconv.ErrSyntax
		}
	default:
		err = strconv.ErrSyntax
	}
	err = unwrapNumError(err)
	if err == nil && v.OverflowFloat(f) {
		err = strconv.ErrRange
	}
	switch err {
	case nil:
		v.SetFloat(f)
	case strconv.ErrRange:
		d.problem(n, "value %s is out of range for %s", n.Value, v.Type())
	default:
		d.problem(n, "expected a number, found %s", yamlnode.Describe(n))
	}
}

func (d *decoder) boolValue(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.mismatch(n, "a boolean")
		return
	}
	switch n.Value {
	case "true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON":
		v.SetBool(true)
	case "false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF":
		v.SetBool(false)
	default:
		d.problem(n, "expected a boolean (true or false), found %s", yamlnode.Describe(n))
	}
}

func (d *decoder) bytesValue(n *yaml.Node, v reflect.Value, p *plan) {
	switch n.Kind {
	case yaml.ScalarNode:
		b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(n.Value))
		if err != nil {
			d.problem(n, "expected base64 data: %v", err)
			return
		}
		v.SetBytes(b)
	case yaml.SequenceNode:
		s := reflect.MakeSlice(p.typ, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.push(pathStep{index: i, kind: stepIndex})
			d.value(c, s.Index(i), p.elem)
			d.pop()
		}
		v.Set(s)
	default:
		d.mismatch(n, "base64 data")
	}
}

func (d *decoder) jsonUnmarshaler(n *yaml.Node, v reflect.Value) {
	var err error
	if d.json, err = jsonnode.Encode(d.json[:0], n); err != nil {
		if ee, ok := err.(*jsonnode.EncodeError); ok {
			d.problem(n, "%s", ee.Msg)
		} else {
			d.problem(n, "%v", err)
		}
		return
	}
	if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(d.json); err != nil {
		what := "a mapping"
		switch n.Kind {
		case yaml.ScalarNode:
			what = strconv.Quote(n.Value)
		case yaml.SequenceNode:
			what = "a list"
		}
		d.problem(n, "cannot decode %s as %s: %v", what, v.Type(), err)
	}
}

// anyValue decodes n into the value encoding/json would give an interface{},
// with integers kept as int64.
func (d *decoder) anyValue(n *yaml.Node) any {
	if d.aborted {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		pairs := d.pairs(n)
		m := make(map[string]any, len(pairs)/2)
		var seen duplicates
		if d.strict {
			seen = make(duplicates)
		}
		for i := 0; i < len(pairs); i += 2 {
			key, ok := d.key(pairs[i])
			if !ok || !d.checkDuplicate(seen, pairs[i], key) {
				continue
			}
			d.push(pathStep{name: key, kind: stepKey})
			m[key] = d.anyChild(pairs[i+1])
			d.pop()
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			d.push(pathStep{index: i, kind: stepIndex})
			s[i] = d.anyChild(c)
			d.pop()
		}
		return s
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
		case "!!int":
			plain := strings.ReplaceAll(n.Value, "_", "")
			if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
				return i
			}
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return f
			}
			if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
				return float64(u)
			}
			d.problem(n, "expected an integer, found %s", yamlnode.Describe(n))
			return nil
		case "!!float":
			f, err := parseFloat(n.Value)
			if err != nil {
				d.problem(n, "expected a number, found %s", yamlnode.Describe(n))
				return nil
			}
			return f
		}
		return n.Value
	}
	d.problem(n, "cannot decode a node of kind %d", n.Kind)
	return nil
}

// anyChild decodes a child node of an interface value, through value so that
// aliases, depth and expansion limits apply.
func (d *decoder) anyChild(n *yaml.Node) any {
	var x any
	d.value(n, reflect.ValueOf(&x).Elem(), anyPlan)
	return x
}

var anyPlan = planFor(reflect.TypeFor[any]())
