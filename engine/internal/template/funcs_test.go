package template

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/Masterminds/sprig/v3"
)

// Every function a template names that is not available fails at parse,
// saying why.
func TestRemovedFunctionsFailAtParse(t *testing.T) {
	fm := funcMap(Limits{}.withDefaults())
	for name := range removed {
		t.Run(name, func(t *testing.T) {
			if _, ok := fm[name]; ok {
				t.Fatalf("%s is in the function map", name)
			}
			_, err := Parse("r", "ok: 1\nbad: {% "+name+" %}")
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Parse: got %v, want *Error", err)
			}
			want := fmt.Sprintf("line 2: function %q is not available in sidecar templates (%s)", name, removed[name])
			if err.Error() != want {
				t.Errorf("got  %q\nwant %q", err, want)
			}
			// Also as an argument, not only as a command.
			if _, err := Parse("r", "{% list 1 ("+name+") %}"); err == nil || !strings.Contains(err.Error(), "not available") {
				t.Errorf("as an argument: %v", err)
			}
		})
	}
}

// Every sprig function is either kept or removed on purpose; the removed
// list names only sprig functions and includes sprig's own non-hermetic set.
func TestEverySprigFunctionDecided(t *testing.T) {
	fm := funcMap(Limits{}.withDefaults())
	all := sprig.GenericFuncMap()
	for name := range all {
		_, kept := fm[name]
		_, gone := removed[name]
		if kept == gone {
			t.Errorf("%s: kept %v, removed %v", name, kept, gone)
		}
	}
	for name := range removed {
		if _, ok := all[name]; !ok {
			t.Errorf("removed %q is not a sprig function", name)
		}
	}
	hermetic := sprig.HermeticTxtFuncMap()
	for name := range all {
		if _, ok := hermetic[name]; !ok {
			if _, ok := removed[name]; !ok {
				t.Errorf("sprig's non-hermetic %q is not removed", name)
			}
		}
	}
	for _, name := range []string{"annotation", "label", "required", "toYaml", "fromYaml", "toJson", "fromJson"} {
		if _, ok := fm[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
}

// The same template and pod give the same output, every time, from any
// instance: nothing depends on map order or on the host.
func TestDeterministic(t *testing.T) {
	const text = `{% $d := dict "z" 1 "a" (list 3 1 2) "m" (dict "y" "2" "x" "1") -%}
keys: {% keys $d | join "," %}
values: {% values $d %}
print: {% $d %}
json: {% toJson $d %}
yaml: {% toYaml $d | nindent 2 %}
range:{% range $k, $v := $d %} {% $k %}{% end %}
annotations: {% .Annotations %}
merged: {% merge (dict "b" 1) (dict "a" 2 "b" 3) | toJson %}
picked: {% pick $d "a" "m" | toJson %}
url: {% urlParse "https://u@h:1/p?q=1#f" | toJson %}
regex: {% regexFindAll "[0-9]+" "a1b22c333" -1 %}
split: {% split "," "a,b,c" | toJson %}
hash: {% .Name | sha256sum | trunc 12 %} {% .Name | b64enc %} {% adler32sum .Name %}
semver: {% semverCompare ">=1.2" "1.3.0" %} {% (semver "1.2.3").Minor %}
epoch: {% unixEpoch .CreationTimestamp.Time %} {% duration "3600" %}
pod: {% toJson .Spec.Containers %}`
	var first string
	for i := range 20 {
		tm, err := Parse("d", text)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tm.Execute(testPod())
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = out
			t.Log(out)
		} else if out != first {
			t.Fatalf("run %d differs:\n%s\nfirst:\n%s", i, out, first)
		}
	}
}

// The bounded replacements behave as sprig's originals within the limits.
func TestBoundedFunctionsMatchSprig(t *testing.T) {
	s := sprig.TxtFuncMap()
	fm := funcMap(Limits{}.withDefaults())
	call := func(fn any, args ...any) any {
		in := make([]reflect.Value, len(args))
		for i, a := range args {
			in[i] = reflect.ValueOf(a)
		}
		out := reflect.ValueOf(resolveFunc(fn)).Call(in)
		if len(out) == 2 && !out[1].IsNil() {
			t.Fatalf("%v: %v", args, out[1].Interface())
		}
		return out[0].Interface()
	}
	same := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", what, got, want)
		}
	}
	for a := -6; a <= 6; a++ {
		same(fmt.Sprint("until ", a), call(fm["until"], a), call(s["until"], a))
		same(fmt.Sprint("seq ", a), call(fm["seq"], a), call(s["seq"], a))
		for b := -6; b <= 6; b++ {
			same(fmt.Sprint("seq ", a, b), call(fm["seq"], a, b), call(s["seq"], a, b))
			for c := -3; c <= 3; c++ {
				same(fmt.Sprint("untilStep ", a, b, c), call(fm["untilStep"], a, b, c), call(s["untilStep"], a, b, c))
				same(fmt.Sprint("seq ", a, c, b), call(fm["seq"], a, c, b), call(s["seq"], a, c, b))
			}
		}
	}
	for _, str := range []string{"", "a", "a\nb", "\n", "héllo wörld\n\n x", "a.b..c"} {
		for n := 0; n < 4; n++ {
			same("repeat", call(fm["repeat"], n, str), call(s["repeat"], n, str))
			same("indent", call(fm["indent"], n, str), call(s["indent"], n, str))
			same("nindent", call(fm["nindent"], n, str), call(s["nindent"], n, str))
			same("wrapWith", call(fm["wrapWith"], n, "|", str), call(s["wrapWith"], n, "|", str))
		}
		for _, old := range []string{"", ".", "a", "\n"} {
			same("replace", call(fm["replace"], old, "<>", str), call(s["replace"], old, "<>", str))
		}
		for _, re := range []string{"", "a", "(.)", `\b`, "^", "$", "x*"} {
			for _, repl := range []string{"", "-", "[$1]", "$$", "${1}x"} {
				same("regexReplaceAll", call(fm["regexReplaceAll"], re, str, repl), regexp.MustCompile(re).ReplaceAllString(str, repl))
				same("regexReplaceAllLiteral", call(fm["regexReplaceAllLiteral"], re, str, repl), regexp.MustCompile(re).ReplaceAllLiteralString(str, repl))
			}
		}
	}
}
