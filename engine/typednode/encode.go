package typednode

import (
	"cmp"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"

	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Encode returns the node of v as the API server would serialize it: fields
// in Go struct order, omitempty applied, exactly as encoding/json writes v
// and engine/jsonnode reads it back. The node is a mapping, sequence or
// scalar node, not a document, and carries no comments or positions.
//
// It walks v with the plans Decode uses rather than calling encoding/json,
// whose first call on a type works out encoders for every type reachable
// from it: for a Container, hundreds of types a config never sets, paid at
// every start of a short-lived KRM function. A test checks the two agree.
func Encode(v any) (*yaml.Node, error) {
	data, err := marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonnode.Decode(data)
}

// marshal returns the JSON encoding of v: what encoding/json.Marshal
// returns, or an error where it returns one. The one difference is in
// spelling, not meaning: the output of MarshalJSON methods is kept as they
// wrote it, where encoding/json compacts it and escapes HTML in it.
func marshal(v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 512)}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return []byte("null"), nil
	}
	if err := e.value(rv, planFor(rv.Type()), 0); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// encoder appends the JSON of one value to buf.
type encoder struct {
	buf     []byte
	scratch []byte // for values written twice, like ",string" strings
}

var isZeroerType = reflect.TypeFor[interface{ IsZero() bool }]()

func (e *encoder) value(v reflect.Value, p *plan, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("json: unsupported value: nesting deeper than %d levels (a cycle?) at %s", maxDepth, p.typ)
	}
	switch p.marshalKind() {
	case marshalJSON:
		return e.marshalJSON(v)
	case marshalText:
		return e.marshalText(v)
	case marshalJSONIfAddr:
		if v.CanAddr() {
			return e.marshalJSON(v.Addr())
		}
		// encoding/json encodes an unaddressable value as if its type
		// had no pointer methods.
		if v.Type().Implements(textMarshalerType) {
			return e.marshalText(v)
		}
	case marshalTextIfAddr:
		if v.CanAddr() {
			return e.marshalText(v.Addr())
		}
	}

	switch v.Kind() {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, v.Type().Bits()))
		}
		e.buf = jsonnode.AppendFloat(e.buf, f, v.Type().Bits())
	case reflect.String:
		e.buf = jsonnode.AppendString(e.buf, v.String())
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		elem := v.Elem()
		return e.value(elem, planFor(elem.Type()), depth+1)
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(v.Elem(), elemPlan(p), depth+1)
	case reflect.Struct:
		return e.structValue(v, p, depth)
	case reflect.Map:
		return e.mapValue(v, p, depth)
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if isByteSlice(v.Type()) {
			e.buf = append(e.buf, '"')
			e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes())
			e.buf = append(e.buf, '"')
			return nil
		}
		return e.list(v, p, depth)
	case reflect.Array:
		return e.list(v, p, depth)
	default:
		return fmt.Errorf("json: unsupported type: %s", v.Type())
	}
	return nil
}

// isByteSlice reports whether encoding/json writes a slice of type t as
// base64: bytes whose pointer has no marshaling method of its own.
func isByteSlice(t reflect.Type) bool {
	el := t.Elem()
	if el.Kind() != reflect.Uint8 {
		return false
	}
	pel := reflect.PointerTo(el)
	return !pel.Implements(jsonMarshalerType) && !pel.Implements(textMarshalerType)
}

// elemPlan is the plan of p's element type: built with p for the kinds
// Decode supports, looked up for the others (maps with non-string keys).
func elemPlan(p *plan) *plan {
	if p.elem != nil {
		return p.elem
	}
	return planFor(p.typ.Elem())
}

func (e *encoder) marshalJSON(v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	m, ok := v.Interface().(json.Marshaler)
	if !ok {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	b, err := m.MarshalJSON()
	if err != nil {
		return fmt.Errorf("json: error calling MarshalJSON for type %s: %w", v.Type(), err)
	}
	if !json.Valid(b) {
		return fmt.Errorf("json: error calling MarshalJSON for type %s: invalid JSON %q", v.Type(), b)
	}
	// encoding/json compacts the method's output; the node it becomes is
	// the same either way, and Marshal's callers read it as nodes.
	e.buf = append(e.buf, b...)
	return nil
}

func (e *encoder) marshalText(v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	m, ok := v.Interface().(encoding.TextMarshaler)
	if !ok {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	b, err := m.MarshalText()
	if err != nil {
		return fmt.Errorf("json: error calling MarshalText for type %s: %w", v.Type(), err)
	}
	e.buf = jsonnode.AppendString(e.buf, string(b))
	return nil
}

func (e *encoder) structValue(v reflect.Value, p *plan, depth int) error {
	e.buf = append(e.buf, '{')
	first := true
	for i := range p.fields() {
		f := &p.fields()[i]
		fv, ok := encodedField(v, f.index)
		if !ok {
			continue
		}
		if f.omitEmpty && isEmpty(fv) || f.omitZero && isZero(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = jsonnode.AppendString(e.buf, f.name)
		e.buf = append(e.buf, ':')
		if f.quoted {
			if err := e.quotedValue(fv, f.plan, depth+1); err != nil {
				return err
			}
			continue
		}
		if err := e.value(fv, f.plan, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// encodedField reaches the field at index, or reports that a nil embedded
// pointer on the way hides it (encoding/json then leaves it out).
func encodedField(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// quotedValue writes a ",string" field: its JSON text inside a string.
func (e *encoder) quotedValue(v reflect.Value, p *plan, depth int) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		v, p = v.Elem(), elemPlan(p)
	}
	if v.Kind() == reflect.String {
		e.scratch = jsonnode.AppendString(e.scratch[:0], v.String())
		e.buf = jsonnode.AppendString(e.buf, string(e.scratch))
		return nil
	}
	e.buf = append(e.buf, '"')
	if err := e.value(v, p, depth); err != nil {
		return err
	}
	e.buf = append(e.buf, '"')
	return nil
}

// isEmpty is encoding/json's test for omitempty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZero is encoding/json's test for omitzero: the value's IsZero method
// where it has one, else the zero value of its type.
func isZero(v reflect.Value) bool {
	t := v.Type()
	switch {
	case (t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface) && v.IsNil():
		return true
	case t.Implements(isZeroerType):
		if t.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil() {
			return true
		}
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case reflect.PointerTo(t).Implements(isZeroerType):
		if !v.CanAddr() {
			c := reflect.New(t).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

func (e *encoder) list(v reflect.Value, p *plan, depth int) error {
	ep := elemPlan(p)
	e.buf = append(e.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(v.Index(i), ep, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *encoder) mapValue(v reflect.Value, p *plan, depth int) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	type entry struct {
		key   string
		value reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, entry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
	ep := elemPlan(p)
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = jsonnode.AppendString(e.buf, en.key)
		e.buf = append(e.buf, ':')
		if err := e.value(en.value, ep, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// mapKey is the object key encoding/json writes for a map key: a string as
// it is, else its MarshalText, else an integer's digits.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		if err != nil {
			return "", fmt.Errorf("json: error calling MarshalText for type %s: %w", k.Type(), err)
		}
		return string(b), nil
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("json: unsupported type: %s", k.Type())
}
