package template

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	ttemplate "text/template"
	"text/template/parse"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Delimiters of template actions: the old injector's.
const (
	LeftDelim  = "{%"
	RightDelim = "%}"
)

// Limits bound the rendering of one template on one pod. A zero field takes
// its default.
type Limits struct {
	// MaxOutput caps the rendered text, in bytes (default 1 MiB). It also
	// caps any single value a function produces (a string's bytes, a list's
	// or a map's elements) and the measured size of any value given to a
	// function or printed (see the package documentation).
	MaxOutput int
	// Timeout caps the wall time of one execution (default 1 s). It is
	// checked at every loop iteration, every call of a defined template and
	// every eighth write of output.
	Timeout time.Duration
	// MaxSteps caps the loop iterations (all range loops together) plus the
	// calls of defined templates of one execution (default 100000). It also
	// caps the length of lists made by until, untilStep and seq, and a range
	// over an integer literal above it is refused at parse.
	MaxSteps int
}

// withDefaults gives each zero field its default; Limits{}.withDefaults()
// are the limits Parse uses.
func (l Limits) withDefaults() Limits {
	if l.MaxOutput <= 0 {
		l.MaxOutput = 1 << 20
	}
	if l.Timeout <= 0 {
		l.Timeout = time.Second
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = 100_000
	}
	return l
}

// errLimit matches (with errors.Is) every error caused by a bound of
// Limits being hit.
var errLimit = errors.New("template limit exceeded")

// Error is a template that failed to parse or to render.
type Error struct {
	// Name is the name given to Parse.
	Name string
	// Line is the 1-based line of the template text the error is about, or
	// 0 when it is not about one line (for example the output limit).
	Line int
	// Err says what went wrong, without any location.
	Err error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Template is a parsed template. It is safe for concurrent use.
type Template struct {
	name   string
	limits Limits
	base   *ttemplate.Template
	pod    bool      // whether it uses annotation or label
	pool   sync.Pool // of *instance
	fields Fields    // the pod's fields the template can read
}

// Fields returns the fields of the pod that the template can read.
func (t *Template) Fields() Fields { return t.fields }

// Fields are fields of the pod that templates can read, as Go names: Top
// the pod's own (its metadata's are promoted: .Annotations, .Name), Spec
// those of its spec (.Spec.ServiceAccountName). A nil map stands for every
// field: the pod or .Spec passed on whole (to a function, to a defined
// template).
//
// The engine decodes only these of a pod for its templates: decoding what
// no template reads (a pod's containers above all) cost more than the rest
// of an injection.
type Fields struct{ Top, Spec map[string]bool }

// NoFields is what a template that reads nothing of the pod reads.
func NoFields() Fields { return Fields{Top: map[string]bool{}, Spec: map[string]bool{}} }

// Add adds to f the fields o reads.
func (f *Fields) Add(o Fields) {
	union := func(a, b map[string]bool) map[string]bool {
		if a == nil || b == nil {
			return nil
		}
		maps.Copy(a, b)
		return a
	}
	f.Top, f.Spec = union(f.Top, o.Top), union(f.Spec, o.Spec)
}

// read adds a chain of field names read from the pod: none is the whole
// pod.
func (f *Fields) read(names []string) {
	switch {
	case len(names) == 0:
		f.Top, f.Spec = nil, nil
		return
	case f.Top != nil:
		f.Top[names[0]] = true
	}
	switch {
	case names[0] != "Spec" || f.Spec == nil:
	case len(names) == 1:
		f.Spec = nil
	default:
		f.Spec[names[1]] = true
	}
}

// internalName is the name given to text/template, so that its messages
// can be taken apart reliably whatever the user's name.
const internalName = "sidecar-injector-template"

// Parse parses text as a template with the default limits. name is for the
// caller's messages only.
func Parse(name, text string) (*Template, error) {
	return parseWithLimits(name, text, Limits{})
}

// parseWithLimits parses text as a template that renders within limits.
func parseWithLimits(name, text string, limits Limits) (*Template, error) {
	lim := limits.withDefaults()
	// Parse against the shared function map; the template then gets only
	// the functions it names, which keeps it and its copies small.
	trees, err := parse.Parse(internalName, text, LeftDelim, RightDelim, funcMap(lim), builtinNames)
	if err != nil {
		return nil, parseError(name, err)
	}
	base := ttemplate.New(internalName).Delims(LeftDelim, RightDelim).Option("missingkey=zero")
	for n, tree := range trees {
		if _, err := base.AddParseTree(n, tree); err != nil {
			return nil, parseError(name, err)
		}
	}
	rw, rerr := rewrite(base, lim)
	if rerr != nil {
		rerr.Name = name
		return nil, rerr
	}
	fm := ttemplate.FuncMap{
		stepFunc: func() (string, error) { return "", nil }, // bound per execution
		outFunc:  func(v any) (string, error) { return printable(v, lim.MaxOutput) },
	}
	all := funcMap(lim)
	for n := range rw.used {
		if fn, ok := all[n]; ok {
			fm[n] = resolveFunc(fn)
		}
	}
	base.Funcs(fm)
	t := &Template{name: name, limits: lim, base: base, pod: rw.used["annotation"] || rw.used["label"], fields: rw.reads}
	t.pool.New = t.newInstance
	return t, nil
}

// builtinNames are text/template's built-in functions, for parse.Parse.
var builtinNames = map[string]any{
	"and": true, "call": true, "html": true, "index": true, "slice": true, "js": true,
	"len": true, "not": true, "or": true, "print": true, "printf": true, "println": true,
	"urlquery": true, "eq": true, "ge": true, "gt": true, "le": true, "lt": true, "ne": true,
}

// instance is a copy of the template whose pod-reading functions are bound
// to its own state. text/template binds functions at parse time, so each
// concurrent execution needs one; they are pooled.
type instance struct {
	tmpl *ttemplate.Template
	st   *state
}

type state struct {
	pod      *corev1.Pod
	steps    int
	maxSteps int
	deadline time.Time
	timeout  time.Duration
	out      output
}

// output is the capped, deadline-checking writer of one execution.
type output struct {
	buf    []byte
	max    int
	writes int
	st     *state
}

func (o *output) Write(p []byte) (int, error) {
	if len(o.buf)+len(p) > o.max {
		return 0, limitf("template output exceeds %d bytes", o.max)
	}
	if o.writes++; o.writes%8 == 0 {
		if err := o.st.checkTime(); err != nil {
			return 0, err
		}
	}
	o.buf = append(o.buf, p...)
	return len(p), nil
}

func (s *state) checkTime() error {
	if time.Now().After(s.deadline) {
		return limitf("template rendering exceeds the time limit of %v", s.timeout)
	}
	return nil
}

func (s *state) step() (string, error) {
	s.steps++
	if s.steps > s.maxSteps {
		return "", limitf("template exceeds %d steps (loop iterations and template calls)", s.maxSteps)
	}
	return "", s.checkTime()
}

func (t *Template) newInstance() any {
	c, err := t.base.Clone()
	if err != nil {
		panic(err) // text/template's Clone does not fail
	}
	st := &state{maxSteps: t.limits.MaxSteps, timeout: t.limits.Timeout}
	st.out = output{max: t.limits.MaxOutput, st: st}
	fm := ttemplate.FuncMap{stepFunc: st.step}
	if t.pod {
		fm["annotation"] = func(key string, def ...string) (string, error) {
			return lookupKey("annotation", st.pod.Annotations, key, def)
		}
		fm["label"] = func(key string, def ...string) (string, error) {
			return lookupKey("label", st.pod.Labels, key, def)
		}
	}
	c.Funcs(fm)
	return &instance{tmpl: c, st: st}
}

// Execute renders the template against pod (an empty pod when nil).
// Errors are *Error.
func (t *Template) Execute(pod *corev1.Pod) (out string, err error) {
	if pod == nil {
		pod = &corev1.Pod{}
	}
	in := t.pool.Get().(*instance)
	defer func() {
		// text/template re-panics what it does not expect; a template must
		// not take the caller down. The instance is dropped.
		if r := recover(); r != nil {
			out, err = "", &Error{Name: t.name, Err: fmt.Errorf("template execution panicked: %v", r)}
		}
	}()
	st := in.st
	st.pod = pod
	st.steps = 0
	st.deadline = time.Now().Add(t.limits.Timeout)
	st.out.buf = st.out.buf[:0]
	st.out.writes = 0
	err = in.tmpl.Execute(&st.out, pod)
	var res string
	if err == nil {
		res = string(st.out.buf)
	}
	st.pod = nil
	if cap(st.out.buf) > 64<<10 {
		st.out.buf = nil // do not keep big buffers in the pool
	}
	t.pool.Put(in)
	if err != nil {
		return "", execError(t.name, err)
	}
	return res, nil
}

// parseError turns text/template's "template: t:3: msg" into an *Error.
func parseError(name string, err error) *Error {
	msg := err.Error()
	line := 0
	if rest, ok := strings.CutPrefix(msg, "template: "+internalName+":"); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, rest[i+2:]
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "template: ")
	}
	if fn, ok := strings.CutPrefix(msg, `function "`); ok {
		if fn, ok := strings.CutSuffix(fn, `" not defined`); ok {
			if why, ok := removed[fn]; ok {
				msg = fmt.Sprintf("function %q is not available in sidecar templates (%s)", fn, why)
			}
		}
	}
	return &Error{Name: name, Line: line, Err: errors.New(msg)}
}

// execError turns text/template's
// `template: t:2:5: executing "t" at <required "...">: error calling required: msg`
// into an *Error with the line and the message after the context.
func execError(name string, err error) *Error {
	var le *limitError
	limit := errors.As(err, &le)
	var ee ttemplate.ExecError
	if !errors.As(err, &ee) {
		return &Error{Name: name, Err: err}
	}
	msg := ee.Err.Error()
	line := 0
	if rest, ok := strings.CutPrefix(msg, "template: "+internalName+":"); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line = n
			}
		}
		if i := strings.Index(rest, " at <"); i >= 0 {
			if j := strings.Index(rest[i:], ">: "); j >= 0 {
				msg = rest[i+j+3:]
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "template: ")
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	if limit && (strings.HasPrefix(msg, "error calling "+stepFunc+": ") || strings.HasPrefix(msg, "error calling "+outFunc+": ")) {
		return &Error{Name: name, Line: line, Err: le}
	}
	return &Error{Name: name, Line: line, Err: &execMsg{msg: msg, err: errors.Unwrap(ee.Err)}}
}

// execMsg is a rendering error's message, without location, that still
// unwraps to the error a function returned.
type execMsg struct {
	msg string
	err error
}

func (e *execMsg) Error() string { return e.msg }
func (e *execMsg) Unwrap() error { return e.err }
