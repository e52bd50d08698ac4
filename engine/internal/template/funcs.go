package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	ttemplate "text/template"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

// removed lists the sprig functions that are not available in templates,
// with the reason given to the user when a template names one.
var removed = byReason(map[string][]string{
	// The clock, the local time zone or the time zone database.
	"it reads the clock":                            {"now", "ago"},
	"it reads the clock and the local time zone":    {"date", "htmlDate"},
	"it reads the clock and the time zone database": {"date_in_zone", "dateInZone", "htmlDateInZone"},
	"it only makes sense with the clock":            {"date_modify", "dateModify", "must_date_modify", "mustDateModify"},
	"it depends on the local time zone":             {"toDate", "mustToDate"},
	"it reads the clock when given a date":          {"durationRound"},
	// Random sources, and key and certificate generation (random, and slow).
	"it is random": {"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randBytes", "randInt", "shuffle", "uuidv4"},
	"it uses a random salt and is slow by design":          {"bcrypt"},
	"it uses a random salt (bcrypt) and is slow by design": {"htpasswd"},
	"it uses a random IV":                                  {"encryptAES"},
	"it generates a random key (and is slow)":              {"genPrivateKey"},
	"it generates a random key and reads the clock":        {"genCA", "genSelfSignedCert", "genSignedCert"},
	"it uses a random serial number and reads the clock":   {"genCAWithKey", "genSelfSignedCertWithKey", "genSignedCertWithKey"},
	// Resource hazards.
	"it runs scrypt (32 MiB of memory and tens of milliseconds per call)": {"derivePassword"},
	// The host.
	"it reads the environment":                        {"env", "expandenv"},
	"it queries the network":                          {"getHostByName"},
	"its result depends on the host operating system": {"osBase", "osClean", "osDir", "osExt", "osIsAbs"},
})

// byReason turns lists of function names by reason into each name's reason.
func byReason(names map[string][]string) map[string]string {
	reasons := map[string]string{}
	for reason, list := range names {
		for _, name := range list {
			reasons[name] = reason
		}
	}
	return reasons
}

// Names of the functions the package adds to the parse tree. They are not
// known at parse time, so a template cannot name them.
const (
	stepFunc = "sidecarInjectorStep"
	outFunc  = "sidecarInjectorOut"
	stepVar  = "$-step" // cannot be written in a template
)

// maxQuadratic caps the length of lists given to functions that compare
// every element with every other.
const maxQuadratic = 2048

// funcsCache holds one function map per Limits.
var funcsCache sync.Map // Limits -> ttemplate.FuncMap

// funcMap returns the parse-time function map for the limits: every name a
// template may use. A value may be a *lazyGuard, whose function is built
// when a template names it (see resolveFunc). The functions that read the
// pod being rendered are placeholders, replaced per execution (see
// instance).
func funcMap(lim Limits) ttemplate.FuncMap {
	if fm, ok := funcsCache.Load(lim); ok {
		return fm.(ttemplate.FuncMap)
	}
	fm, _ := funcsCache.LoadOrStore(lim, buildFuncMap(lim))
	return fm.(ttemplate.FuncMap)
}

// lazyGuard is a function whose guard is built on first use. guard's
// reflection (a new function type and a MakeFunc per function) costs most
// of a millisecond over all of sprig, paid at every start of the KRM
// function, while a config's templates name a handful of functions.
type lazyGuard struct {
	once    sync.Once
	fn      any
	max     int
	guarded any
}

func lazy(fn any, max int) *lazyGuard {
	return &lazyGuard{fn: fn, max: max}
}

func (l *lazyGuard) get() any {
	l.once.Do(func() { l.guarded = guard(l.fn, l.max) })
	return l.guarded
}

// resolveFunc returns the function a funcMap value stands for.
func resolveFunc(v any) any {
	if l, ok := v.(*lazyGuard); ok {
		return l.get()
	}
	return v
}

func buildFuncMap(lim Limits) ttemplate.FuncMap {
	max := lim.MaxOutput
	fm := ttemplate.FuncMap{}
	sprigFuncs := sprig.HermeticTxtFuncMap()
	for name, fn := range sprigFuncs {
		if _, ok := removed[name]; ok {
			continue
		}
		fm[name] = lazy(fn, max)
	}

	// text/template's printing built-ins format their arguments deeply:
	// measure them first.
	for name, fn := range map[string]any{
		"print":    fmt.Sprint,
		"println":  fmt.Sprintln,
		"html":     ttemplate.HTMLEscaper,
		"js":       ttemplate.JSEscaper,
		"urlquery": ttemplate.URLQueryEscaper,
	} {
		fm[name] = lazy(fn, max)
	}

	// Functions whose output can be a product of their inputs' sizes.
	fm["printf"] = lazy(func(format string, args ...any) (string, error) {
		argSize := 0
		for _, a := range args {
			if size := measure(a, max); size > argSize {
				argSize = size
			}
		}
		if printfBound(format, argSize) > max {
			return "", limitf("result could exceed %d bytes", max)
		}
		return fmt.Sprintf(format, args...), nil
	}, max)
	join := sprigFuncs["join"].(func(string, any) string)
	fm["join"] = lazy(func(sep string, list any) (string, error) {
		n := 1
		if v := reflect.ValueOf(list); v.Kind() == reflect.Slice || v.Kind() == reflect.Array {
			n = v.Len()
		}
		if len(sep) > 0 && n > 1 && n-1 > max/len(sep) {
			return "", limitf("result would exceed %d bytes", max)
		}
		return join(sep, list), nil
	}, max)

	// Functions that allocate on demand: bounded versions.
	fm["repeat"] = func(count int, s string) (string, error) {
		if count < 0 {
			return "", fmt.Errorf("negative count %d", count)
		}
		if len(s) > 0 && count > max/len(s) {
			return "", limitf("result would exceed %d bytes", max)
		}
		return strings.Repeat(s, count), nil
	}
	fm["until"] = func(count int) ([]int, error) {
		step := 1
		if count < 0 {
			step = -1
		}
		return untilStep(0, count, step, lim.MaxSteps)
	}
	fm["untilStep"] = func(start, stop, step int) ([]int, error) {
		return untilStep(start, stop, step, lim.MaxSteps)
	}
	fm["seq"] = func(params ...int) (string, error) { return seq(lim, params...) }
	fm["indent"] = func(spaces int, s string) (string, error) { return indent(spaces, s, max) }
	fm["nindent"] = func(spaces int, s string) (string, error) {
		r, err := indent(spaces, s, max)
		return "\n" + r, err
	}
	wrapWith := sprigFuncs["wrapWith"].(func(int, string, string) string)
	fm["wrapWith"] = func(l int, sep, s string) (string, error) {
		// At most one separator per byte of input.
		if len(sep) > 0 && len(s) > 0 && (len(s)+1) > (max-len(s))/len(sep) {
			return "", limitf("result could exceed %d bytes", max)
		}
		return checkString(wrapWith(l, sep, s), max)
	}
	fm["replace"] = func(old, new, src string) (string, error) {
		n := 0
		if old == "" {
			n = utf8.RuneCountInString(src) + 1
		} else {
			n = strings.Count(src, old)
		}
		if d := len(new) - len(old); d > 0 && n > (max-len(src))/d {
			return "", limitf("result would exceed %d bytes", max)
		}
		return strings.ReplaceAll(src, old, new), nil
	}
	for name, literal := range map[string]bool{"RegexReplaceAll": false, "RegexReplaceAllLiteral": true} {
		// sprig's regexReplaceAll panics on a bad expression (text/template
		// reports it), mustRegexReplaceAll returns the error.
		fm[strings.ToLower(name[:1])+name[1:]] = func(re, s, repl string) (string, error) {
			return regexReplace(regexp.MustCompile(re), s, repl, literal, max)
		}
		fm["must"+name] = func(re, s, repl string) (string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return "", err
			}
			return regexReplace(r, s, repl, literal, max)
		}
	}
	for _, name := range []string{"uniq", "mustUniq"} {
		fn := reflect.ValueOf(resolveFunc(fm[name]))
		fm[name] = func(list any) (any, error) {
			if v := reflect.ValueOf(list); (v.Kind() == reflect.Slice || v.Kind() == reflect.Array) && v.Len() > maxQuadratic {
				return nil, limitf("list of %d elements exceeds the limit of %d (the function is quadratic)", v.Len(), maxQuadratic)
			}
			r := fn.Call([]reflect.Value{reflect.ValueOf(&list).Elem()})
			if len(r) == 2 && !r[1].IsNil() {
				return nil, r[1].Interface().(error)
			}
			return r[0].Interface(), nil
		}
	}

	// sprig's keys and values follow Go's random map order.
	fm["keys"] = lazy(func(dicts ...map[string]any) []string {
		var ks []string
		for _, d := range dicts {
			ks = slices.AppendSeq(ks, maps.Keys(d))
		}
		slices.Sort(ks)
		return ks
	}, max)
	fm["values"] = lazy(func(d map[string]any) []any {
		ks := slices.Sorted(maps.Keys(d))
		vs := make([]any, len(ks))
		for i, k := range ks {
			vs[i] = d[k]
		}
		return vs
	}, max)

	// Additions.
	fm["toJson"] = lazy(func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}, max)
	fm["fromJson"] = func(s string) (any, error) {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, err
		}
		return v, nil
	}
	fm["toYaml"] = lazy(func(v any) (string, error) {
		b, err := yaml.Marshal(v)
		return strings.TrimSuffix(string(b), "\n"), err
	}, max)
	fm["fromYaml"] = func(s string) (any, error) {
		var v any
		if err := yaml.Unmarshal([]byte(s), &v); err != nil {
			return nil, err
		}
		return v, nil
	}
	fm["required"] = lazy(func(msg string, v any) (any, error) {
		if s, ok := v.(string); v == nil || ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}, max)
	// Placeholders: the real ones are bound to the pod per execution.
	fm["annotation"] = func(key string, def ...string) (string, error) { return "", nil }
	fm["label"] = func(key string, def ...string) (string, error) { return "", nil }
	return fm
}

// lookupKey implements annotation and label: without a default, a key the
// pod does not have fails the rendering (and the mutation, under its
// failurePolicy) rather than render as nothing; with one, an absent or
// empty value gives the default.
func lookupKey(what string, m map[string]string, key string, def []string) (string, error) {
	if len(def) > 1 {
		return "", fmt.Errorf("%s %q: at most one default, got %d", what, key, len(def))
	}
	v, ok := m[key]
	switch {
	case v == "" && len(def) == 1:
		return def[0], nil
	case !ok:
		return "", fmt.Errorf("the pod has no %s %q (give a default: %s %q \"DEFAULT\")", what, key, what, key)
	}
	return v, nil
}

// printable renders a value the way text/template prints it, after checking
// its size. A missing value prints as the empty string.
func printable(v any, max int) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() && !rv.Type().Implements(stringerType) && !rv.Type().Implements(errorType) {
		rv = rv.Elem()
	}
	if err := checkSize(max, rv); err != nil {
		return "", err
	}
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return "", nil
	}
	return checkString(fmt.Sprint(rv.Interface()), max)
}

var (
	stringerType = reflect.TypeFor[fmt.Stringer]()
	errorType    = reflect.TypeFor[error]()
)

// untilStep is sprig's untilStep, with the element count checked before
// anything is allocated (and without sprig's overflow near the int limits).
func untilStep(start, stop, step, maxCount int) ([]int, error) {
	var n uint64
	switch {
	case step > 0 && stop > start:
		d := uint64(stop) - uint64(start)
		n = d / uint64(step)
		if d%uint64(step) != 0 {
			n++
		}
	case step < 0 && stop < start:
		d := uint64(start) - uint64(stop)
		s := uint64(-(step + 1)) + 1
		n = d / s
		if d%s != 0 {
			n++
		}
	default:
		return []int{}, nil
	}
	if n > uint64(maxCount) {
		return nil, limitf("list of %d elements exceeds the limit of %d", n, maxCount)
	}
	v := make([]int, n)
	for i := range v {
		v[i] = start + i*step
	}
	return v, nil
}

// seq is sprig's seq, bounded.
func seq(lim Limits, params ...int) (string, error) {
	var start, end, step int
	switch len(params) {
	case 1, 2:
		start, end, step = 1, params[0], 1
		if len(params) == 2 {
			start, end = params[0], params[1]
		}
		if end < start {
			step = -1
		}
		end += step
	case 3:
		start, step, end = params[0], params[1], params[2]
		inc := 1
		if end < start {
			inc = -1
			if step > 0 {
				return "", nil
			}
		}
		end += inc
	default:
		return "", nil
	}
	v, err := untilStep(start, end, step, lim.MaxSteps)
	if err != nil {
		return "", err
	}
	var b []byte
	for i, n := range v {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(n), 10)
		if len(b) > lim.MaxOutput {
			return "", limitf("result exceeds %d bytes", lim.MaxOutput)
		}
	}
	return string(b), nil
}

func indent(spaces int, s string, max int) (string, error) {
	if spaces < 0 {
		return "", fmt.Errorf("negative indent %d", spaces)
	}
	lines := strings.Count(s, "\n") + 1
	if spaces > 0 && lines > (max-len(s))/spaces {
		return "", limitf("result would exceed %d bytes", max)
	}
	pad := strings.Repeat(" ", spaces)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
}

// regexReplace replaces every match of re in s, refusing when the result
// could exceed max bytes. A first pass bounds the size: each match expands
// to at most the replacement's length plus, per '$' in it, the match's.
func regexReplace(re *regexp.Regexp, s, repl string, literal bool, max int) (string, error) {
	dollars := 0
	if !literal {
		dollars = strings.Count(repl, "$")
	}
	bound := len(s)
	re.ReplaceAllStringFunc(s, func(m string) string {
		if bound <= max {
			bound += len(repl) + dollars*len(m)
		}
		return ""
	})
	if bound > max {
		return "", limitf("result could exceed %d bytes", max)
	}
	if literal {
		return re.ReplaceAllLiteralString(s, repl), nil
	}
	return re.ReplaceAllString(s, repl), nil
}

// measure returns the size checkSize gives v, at most max+1.
func measure(v any, max int) int {
	z := sizer{budget: max, max: max}
	if !z.walk(reflect.ValueOf(v), 0) {
		return max + 1
	}
	return max - z.budget
}

// printfBound bounds the length of fmt.Sprintf(format, args...) when no
// argument prints longer than argSize: each verb prints at most its width or
// precision (fmt refuses more than 10^6) plus an argument.
func printfBound(format string, argSize int) int {
	const maxWidth = 1_000_000
	n := len(format)
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		w, cur := 0, 0
	verb:
		for i++; i < len(format); i++ {
			switch c := format[i]; {
			case c >= '0' && c <= '9':
				cur = min(cur*10+int(c-'0'), maxWidth)
			case c == '*':
				cur = maxWidth
			case c == '.' || c == '[' || c == ']':
				w, cur = max(w, cur), 0
			case c == '+' || c == '-' || c == '#' || c == ' ':
			default:
				break verb
			}
		}
		n += max(w, cur) + argSize
		if n < 0 || n > 1<<40 {
			return 1 << 40
		}
	}
	return n
}
