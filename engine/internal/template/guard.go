package template

import (
	"fmt"
	"reflect"
)

// maxDepth caps the nesting of any value given to a function or printed:
// deeper values are refused (they are also how a cyclic value shows).
const maxDepth = 100

// limitError is a bound being hit. It matches errLimit.
type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == errLimit }

func limitf(format string, args ...any) error {
	return &limitError{msg: fmt.Sprintf(format, args...)}
}

// checkSize measures vs as if they were fully written out: every node
// counts one unit plus its depth, strings their length, and a value
// reachable twice counts twice. It fails when the total exceeds max or a
// value nests deeper than maxDepth, which stops shared (exponential) and
// cyclic structures before something formats or copies them. Its cost is at
// most proportional to max.
func checkSize(max int, vs ...reflect.Value) error {
	z := sizer{budget: max, max: max}
	for _, v := range vs {
		if !z.walk(v, 0) {
			return z.err
		}
	}
	return nil
}

type sizer struct {
	budget, max int
	err         error
}

func (z *sizer) walk(v reflect.Value, depth int) bool {
	if depth > maxDepth {
		z.err = limitf("value nests deeper than %d levels (is it cyclic?)", maxDepth)
		return false
	}
	z.budget -= 1 + depth
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() && !z.walk(v.Elem(), depth+1) {
			return false
		}
	case reflect.String:
		z.budget -= v.Len()
	case reflect.Struct:
		for i := range v.NumField() {
			if !z.walk(v.Field(i), depth+1) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		if isScalar(v.Type().Elem()) {
			z.budget -= v.Len()
			break
		}
		for i := range v.Len() {
			if !z.walk(v.Index(i), depth+1) {
				return false
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if !z.walk(it.Key(), depth+1) || !z.walk(it.Value(), depth+1) {
				return false
			}
		}
	}
	if z.budget < 0 {
		z.err = limitf("value exceeds the size limit of %d (shared parts count each time they are reached)", z.max)
		return false
	}
	return true
}

func isScalar(t reflect.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	}
	return false
}

// checkString fails when s is longer than max.
func checkString(s string, max int) (string, error) {
	if len(s) > max {
		return "", limitf("result exceeds %d bytes", max)
	}
	return s, nil
}

// guard wraps a function so that its non-scalar arguments are measured
// before the call (checkSize) and its result's size is checked after it.
// Functions with only scalar parameters and a scalar result, whose cost and
// output are small, are returned as they are.
func guard(fn any, max int) any {
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	deep := false
	for i := range ft.NumIn() {
		t := ft.In(i)
		if ft.IsVariadic() && i == ft.NumIn()-1 {
			t = t.Elem()
		}
		if !isScalar(t) {
			deep = true
		}
	}
	grows := false
	switch ft.Out(0).Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array, reflect.Interface:
		grows = true
	}
	if !deep && !grows {
		return fn
	}
	hasErr := ft.NumOut() == 2
	in := make([]reflect.Type, ft.NumIn())
	for i := range in {
		in[i] = ft.In(i)
	}
	wt := reflect.FuncOf(in, []reflect.Type{ft.Out(0), errorType}, ft.IsVariadic())
	zero := reflect.Zero(ft.Out(0))
	fail := func(err error) []reflect.Value {
		return []reflect.Value{zero, reflect.ValueOf(&err).Elem()}
	}
	noErr := reflect.Zero(errorType)
	return reflect.MakeFunc(wt, func(args []reflect.Value) []reflect.Value {
		if deep {
			if err := checkSize(max, args...); err != nil {
				return fail(fmt.Errorf("argument: %w", err))
			}
		}
		var out []reflect.Value
		if ft.IsVariadic() {
			out = fv.CallSlice(args)
		} else {
			out = fv.Call(args)
		}
		if hasErr && !out[1].IsNil() {
			return out
		}
		if err := checkResult(out[0], max); err != nil {
			return fail(err)
		}
		return []reflect.Value{out[0], noErr}
	}).Interface()
}

// checkResult checks the size of a function's result: a string's length, a
// collection's element count (its elements were measured as arguments or
// come from bounded input).
func checkResult(v reflect.Value, max int) error {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		if v.Len() > max {
			return limitf("result exceeds %d bytes", max)
		}
	case reflect.Slice, reflect.Array, reflect.Map:
		if v.Len() > max {
			return limitf("result exceeds %d elements", max)
		}
	}
	return nil
}
