package typednode

import (
	"cmp"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// planKind says how a Go type is decoded.
type planKind uint8

const (
	kindUnsupported planKind = iota
	kindJSONUnmarshaler
	kindTextUnmarshaler
	kindString
	kindBool
	kindInt
	kindUint
	kindFloat
	kindBytes
	kindEmptyInterface
	kindPointer
	kindSlice
	kindStringSlice // []string exactly: decoded without reflection per element
	kindArray
	kindMap
	kindStringMap // map[string]string exactly: labels, annotations
	kindStruct
)

// plan is how to decode and encode one Go type, worked out once per type.
type plan struct {
	kind planKind
	typ  reflect.Type
	elem *plan // of pointers, slices, arrays and map values

	// marshal says whether encoding calls a method of the value instead of
	// walking it (see marshalKind). Worked out on first encoding: the
	// method set comparisons cost, and most types are only decoded.
	marshalOnce sync.Once
	marshal     marshalKind

	// A struct's fields are worked out on first use: a config names a few
	// of a Container's hundred-odd nested types, and a short-lived KRM
	// function should not pay for the others at every start.
	structOnce sync.Once
	st         *structPlan
}

// structPlan is the part of a struct's plan built on first use.
type structPlan struct {
	fields []field
	byName map[string]int // field name -> index in fields
}

// marshalKind is how encoding/json would encode a value of a type through
// one of its methods.
type marshalKind uint8

const (
	marshalNone       marshalKind = iota
	marshalJSON                   // the type implements json.Marshaler
	marshalText                   // the type implements encoding.TextMarshaler
	marshalJSONIfAddr             // its pointer does; used when the value is addressable
	marshalTextIfAddr             // likewise for encoding.TextMarshaler
)

// field is a struct field as decoding and encoding see it: a name, how to
// reach it through embedded structs, and its json tag's options.
type field struct {
	name  string
	index []int // for reflect's FieldByIndex, through inlined structs
	plan  *plan

	omitEmpty bool
	omitZero  bool
	quoted    bool // the ",string" option, on a field where it applies
}

// fields returns the fields of the plan's type, a struct, building them on
// first use.
func (p *plan) fields() []field { return p.structPlan().fields }

func (p *plan) structPlan() *structPlan {
	p.structOnce.Do(func() {
		building := make(map[reflect.Type]*plan)
		st := &structPlan{fields: structFields(p.typ, building)}
		st.byName = make(map[string]int, len(st.fields))
		for i, f := range st.fields {
			st.byName[f.name] = i
		}
		publish(building)
		p.st = st
	})
	return p.st
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	stringSliceType     = reflect.TypeFor[[]string]()
	stringMapType       = reflect.TypeFor[map[string]string]()
)

// plans caches a *plan per reflect.Type. Plans are immutable once stored.
var plans sync.Map

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	building := make(map[reflect.Type]*plan)
	p := buildPlan(t, building)
	publish(building)
	return p
}

// publish stores complete plans. Two goroutines may build the same type;
// either result is correct.
func publish(building map[reflect.Type]*plan) {
	for t, bp := range building {
		plans.LoadOrStore(t, bp)
	}
}

// buildPlan works out the plan of t. building holds the plans under
// construction, so that a recursive type refers to its own plan.
func buildPlan(t reflect.Type, building map[reflect.Type]*plan) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &plan{typ: t}
	building[t] = p
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if pt := reflect.PointerTo(t); pt.NumMethod() > 0 {
			if pt.Implements(jsonUnmarshalerType) {
				p.kind = kindJSONUnmarshaler
				return p
			}
			if pt.Implements(textUnmarshalerType) {
				p.kind = kindTextUnmarshaler
				return p
			}
		}
	}
	switch t.Kind() {
	case reflect.String:
		p.kind = kindString
	case reflect.Bool:
		p.kind = kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.kind = kindInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.kind = kindUint
	case reflect.Float32, reflect.Float64:
		p.kind = kindFloat
	case reflect.Interface:
		if t.NumMethod() == 0 {
			p.kind = kindEmptyInterface
		}
	case reflect.Pointer:
		p.kind = kindPointer
		p.elem = buildPlan(t.Elem(), building)
	case reflect.Slice:
		p.elem = buildPlan(t.Elem(), building)
		switch {
		case t == stringSliceType:
			p.kind = kindStringSlice
		case t.Elem().Kind() == reflect.Uint8 && p.elem.kind == kindUint:
			p.kind = kindBytes
		default:
			p.kind = kindSlice
		}
	case reflect.Array:
		p.kind = kindArray
		p.elem = buildPlan(t.Elem(), building)
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			p.kind = kindMap
			if t == stringMapType {
				p.kind = kindStringMap
			}
			p.elem = buildPlan(t.Elem(), building)
		}
	case reflect.Struct:
		p.kind = kindStruct
	}
	return p
}

// marshalKind says how encoding/json would encode a value of the plan's
// type through one of its methods.
func (p *plan) marshalKind() marshalKind {
	p.marshalOnce.Do(func() { p.marshal = marshalKindOf(p.typ) })
	return p.marshal
}

// marshalKindOf follows encoding/json's order: json.Marshaler before
// encoding.TextMarshaler, a method of the type before one of its pointer.
func marshalKindOf(t reflect.Type) marshalKind {
	if t.NumMethod() == 0 && (t.Kind() == reflect.Pointer || reflect.PointerTo(t).NumMethod() == 0) {
		return marshalNone
	}
	addressable := t.Kind() != reflect.Pointer
	switch {
	case addressable && reflect.PointerTo(t).Implements(jsonMarshalerType) && !t.Implements(jsonMarshalerType):
		return marshalJSONIfAddr
	case t.Implements(jsonMarshalerType):
		return marshalJSON
	case addressable && reflect.PointerTo(t).Implements(textMarshalerType) && !t.Implements(textMarshalerType):
		return marshalTextIfAddr
	case t.Implements(textMarshalerType):
		return marshalText
	}
	return marshalNone
}

// structFields lists the fields of struct type t that decoding can set, by
// encoding/json's rules: embedded structs without a tag name are inlined; of
// several fields with the same name, the least deeply embedded wins, then a
// tagged one; a tie leaves the name out.
func structFields(t reflect.Type, building map[reflect.Type]*plan) []field {
	type candidate struct {
		field
		depth  int
		tagged bool
		typ    reflect.Type
	}
	type level struct {
		typ   reflect.Type
		index []int
	}
	candidates := make([]candidate, 0, t.NumField())
	visited := map[reflect.Type]bool{}
	current := []level{{typ: t}}
	for depth := 0; len(current) > 0; depth++ {
		var next []level
		for _, l := range current {
			if visited[l.typ] {
				continue
			}
			visited[l.typ] = true
			for i := 0; i < l.typ.NumField(); i++ {
				sf := l.typ.Field(i)
				ft := sf.Type
				if sf.Anonymous && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				name, opts, ok := jsonTag(sf)
				if !ok {
					continue
				}
				index := append(append(make([]int, 0, len(l.index)+1), l.index...), i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					// Inlined. An unexported embedded pointer could
					// not be allocated, so its fields are out of reach.
					if !sf.IsExported() && sf.Type.Kind() == reflect.Pointer {
						continue
					}
					next = append(next, level{typ: ft, index: index})
					continue
				}
				c := candidate{field: field{name: name, index: index}, depth: depth, tagged: name != "", typ: sf.Type}
				c.omitEmpty, c.omitZero, c.quoted = tagOptions(opts, sf.Type)
				if c.name == "" {
					c.name = sf.Name
				}
				candidates = append(candidates, c)
			}
		}
		current = next
	}

	// Pick the dominant field of each name.
	slices.SortStableFunc(candidates, func(a, b candidate) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(a.depth, b.depth); c != 0 {
			return c
		}
		switch {
		case a.tagged && !b.tagged:
			return -1
		case b.tagged && !a.tagged:
			return 1
		}
		return 0
	})
	fields := make([]field, 0, len(candidates))
	for i := 0; i < len(candidates); {
		j := i + 1
		for j < len(candidates) && candidates[j].name == candidates[i].name {
			j++
		}
		group := candidates[i:j]
		i = j
		if len(group) > 1 && group[1].depth == group[0].depth && group[1].tagged == group[0].tagged {
			continue // ambiguous
		}
		fields = append(fields, group[0].field)
		fields[len(fields)-1].plan = buildPlan(group[0].typ, building)
	}
	// Declaration order reads best in suggestions and keeps iteration
	// deterministic.
	slices.SortFunc(fields, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return fields
}

// tagOptions reads a json tag's options as encoding/json does: ",string"
// applies to fields of scalar kinds and to unnamed pointers to them.
func tagOptions(opts string, t reflect.Type) (omitEmpty, omitZero, quoted bool) {
	for opt := range strings.SplitSeq(opts, ",") {
		switch opt {
		case "omitempty":
			omitEmpty = true
		case "omitzero":
			omitZero = true
		case "string":
			quoted = true
		}
	}
	if quoted {
		if t.Name() == "" && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.String:
		default:
			quoted = false
		}
	}
	return omitEmpty, omitZero, quoted
}

// validTagName reports whether encoding/json would use name from a tag.
// jsonTag reads struct field sf's json tag as encoding/json does: the
// name it gives (empty when there is none or it is not valid), the
// options, and false for a field it leaves out ("-").
func jsonTag(sf reflect.StructField) (name, opts string, ok bool) {
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return "", "", false
	}
	name, opts, _ = strings.Cut(tag, ",")
	if !validTagName(name) {
		name = ""
	}
	return name, opts, true
}

// FieldName is the name encoding/json gives struct field sf in JSON, or
// reports that sf is an embedded struct whose fields it inlines into the
// parent's (inline), or that it leaves sf out (ok is false).
func FieldName(sf reflect.StructField) (name string, inline, ok bool) {
	name, _, ok = jsonTag(sf)
	if !ok {
		return "", false, false
	}
	if name == "" {
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous && ft.Kind() == reflect.Struct {
			return "", true, true
		}
		name = sf.Name
	}
	return name, false, true
}

func validTagName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c > 0x7f && c != 0xFFFD:
		default:
			return false
		}
	}
	return true
}
