package template

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Each hazard must fail with the limit error meant for it, without
// allocating much. The bound is generous: it guards correctness, it does not
// measure.
const hazardAlloc = 512 << 20 * raceSlowdown

// untimed are the default limits without the time limit, for tests of the
// other limits: on a loaded machine (or under the race detector) the time
// limit could trip first and hide the one under test.
func untimed() Limits {
	l := Limits{}.withDefaults()
	l.Timeout = time.Hour
	return l
}

func TestHazards(t *testing.T) {
	// A loop that spins stops at the step limit.
	const spinning = `template exceeds 100000 steps`
	fanout := func(levels int) string {
		// t0 calls t1 twice, t1 calls t2 twice...: 2^levels calls, no recursion.
		var b strings.Builder
		for i := range levels {
			fmt.Fprintf(&b, `{%% define "t%d" %%}{%% template "t%d" %%}{%% template "t%d" %%}{%% end %%}`, i, i+1, i+1)
		}
		fmt.Fprintf(&b, `{%% define "t%d" %%}{%% end %%}{%% template "t0" %%}`, levels)
		return b.String()
	}
	tests := []struct {
		name, text string
		want       string // regular expression the message must match
		line       int
	}{
		// Output.
		{"output from actions", `{% range until 100000 %}{% repeat 1000 "x" %}{% end %}`, "template output exceeds 1048576 bytes", 0},
		{"output from text", "{% range until 100000 %}" + strings.Repeat("y", 1000) + "{% end %}", "template output exceeds 1048576 bytes", 0},

		// Loops that output nothing but spin.
		{"nested until", "\n{% range until 100000 %}{% range until 100000 %}{% end %}{% end %}", spinning, 2},
		{"range over computed int", `{% range atoi "1000000000" %}{% end %}`, spinning, 1},
		{"range over int variable", `{% $n := 1000000000 %}{% range $n %}{% end %}`, spinning, 1},
		{"nested range over a list", `{% $l := until 100000 %}{% range $l %}{% range $l %}{% end %}{% end %}`, spinning, 1},
		{"nested range over a map", `{% $d := dict %}{% range $i := until 1000 %}{% $_ := set $d (toString $i) $i %}{% end %}{% range $d %}{% range $d %}{% end %}{% end %}`, spinning, 1},
		{"template fan-out", fanout(30), spinning, 1},

		// Functions that allocate on demand.
		{"until", `{% until 1000000000000 %}`, "list of 1000000000000 elements exceeds the limit of 100000", 1},
		{"until negative", `{% until -1000000000000 %}`, "exceeds the limit of 100000", 1},
		{"untilStep", `{% untilStep 0 9223372036854775807 1 %}`, "exceeds the limit of 100000", 1},
		{"untilStep negative", `{% untilStep 9223372036854775807 -9223372036854775808 -1 %}`, "exceeds the limit of 100000", 1},
		{"seq", `{% seq 1000000000 %}`, "exceeds the limit of 100000", 1},
		{"seq 3", `{% seq -9223372036854775807 1 9223372036854775806 %}`, "exceeds the limit of 100000", 1},
		{"repeat", `{% repeat 1000000000000 "x" %}`, "error calling repeat: result would exceed 1048576 bytes", 1},
		{"indent", `{% indent 1000000000000 "x" %}`, "error calling indent: result would exceed 1048576 bytes", 1},
		{"nindent", "{% nindent 1000 (repeat 2000 \"\\n\") %}", "error calling nindent: result would exceed 1048576 bytes", 1},
		{"replace empty", `{% $s := repeat 2000 "x" %}{% replace "" $s $s %}`, "error calling replace: result would exceed 1048576 bytes", 1},
		{"wrapWith", `{% wrapWith 1 (repeat 1000 "y") (repeat 100000 "x ") %}`, "error calling wrapWith: result could exceed 1048576 bytes", 1},
		{"regexReplaceAll", `{% $s := repeat 2000 "x" %}{% regexReplaceAll "" $s $s %}`, "error calling regexReplaceAll: result could exceed 1048576 bytes", 1},
		{"regexReplaceAll groups", `{% $s := repeat 100000 "x" %}{% regexReplaceAll "x+" $s (repeat 20 "$0") %}`, "error calling regexReplaceAll: result could exceed", 1},
		{"regexReplaceAllLiteral", `{% $s := repeat 2000 "x" %}{% regexReplaceAllLiteral "" $s $s %}`, "error calling regexReplaceAllLiteral: result could exceed", 1},
		{"printf widths", `{% printf "%0999999d%0999999d" 1 2 %}`, "error calling printf: result could exceed 1048576 bytes", 1},
		{"printf repeating an argument", `{% $s := repeat 100000 "x" %}{% printf (repeat 1000 "%[1]s") $s %}`, "error calling printf: result could exceed 1048576 bytes", 1},
		{"printf many widths", `{% printf (repeat 1000 "%0999999d") 1 %}`, "error calling printf: result could exceed 1048576 bytes", 1},
		{"printf star width", `{% printf (repeat 100 "%*d") 999999 1 %}`, "error calling printf: result could exceed 1048576 bytes", 1},
		{"join with a big separator", `{% join (repeat 100000 "x") (until 100000) %}`, "error calling join: result would exceed 1048576 bytes", 1},
		{"uniq", `{% uniq (until 100000) %}`, "error calling uniq: list of 100000 elements exceeds the limit of 2048", 1},

		// Values that double in a loop.
		{"string doubling", `{% $x := "ab" %}{% range until 64 %}{% $x = cat $x $x %}{% end %}{% $x %}`, "exceeds", 1},
		{"string doubling printf", `{% $x := "ab" %}{% range until 64 %}{% $x = printf "%s%s" $x $x %}{% end %}`, "exceeds", 1},
		{"list concat doubling", `{% $l := list 1 %}{% range until 64 %}{% $l = concat $l $l %}{% end %}`, "exceeds", 1},
		{"shared list printed", `{% $l := list 1 %}{% range until 64 %}{% $l = list $l $l %}{% end %}{% $l %}`, "exceeds the size limit", 1},
		{"shared list toJson", `{% $l := list 1 %}{% range until 64 %}{% $l = list $l $l %}{% end %}{% toJson $l %}`, "exceeds the size limit", 1},
		{"shared list toYaml", `{% $l := list 1 %}{% range until 64 %}{% $l = list $l $l %}{% end %}{% toYaml $l %}`, "exceeds the size limit", 1},
		{"shared dict deepCopy", `{% $d := dict %}{% range until 64 %}{% $d = dict "a" $d "b" $d %}{% end %}{% $c := deepCopy $d %}`, "exceeds", 1},
		{"deep nesting", `{% $d := dict %}{% range until 300 %}{% $d = dict "a" $d %}{% end %}{% toJson $d %}`, "nests deeper than 100 levels", 1},

		// Cycles: formatting them would recurse until the stack overflows.
		{"cyclic dict printed", `{% $d := dict %}{% $_ := set $d "self" $d %}{% $d %}`, "nests deeper", 1},
		{"cyclic dict printf", `{% $d := dict %}{% $_ := set $d "self" $d %}{% printf "%v" $d %}`, "nests deeper", 1},
		{"cyclic dict toString", `{% $d := dict %}{% $_ := set $d "self" $d %}{% toString $d %}`, "nests deeper", 1},
		{"cyclic dict int", `{% $d := dict %}{% $_ := set $d "self" $d %}{% int $d %}`, "nests deeper", 1},
		{"cyclic dict html", `{% $d := dict %}{% $_ := set $d "self" $d %}{% html $d %}`, "nests deeper", 1},
		{"cyclic dict toJson", `{% $d := dict %}{% $_ := set $d "self" $d %}{% toJson $d %}`, "nests deeper", 1},
		{"cyclic merge", `{% $d := dict %}{% $_ := merge $d (dict "a" $d) %}{% toYaml $d %}`, "nests deeper", 1},

		// Time: each iteration is legal and bounded, together they are too slow.
		{"slow iterations", `{% $s := repeat 200000 "ab" %}{% range until 100000 %}{% $x := regexReplaceAll "a" $s "c" %}{% end %}`, "template rendering exceeds the time limit of 1s", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limits := untimed()
			if strings.Contains(tt.want, "time limit") {
				limits = Limits{}.withDefaults()
			}
			tm, err := parseWithLimits("h", tt.text, limits)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			out, err := tm.Execute(testPod())
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("no error; output of %d bytes", len(out))
			}
			if !errors.Is(err, errLimit) {
				t.Errorf("%v does not match errLimit", err)
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("%T is not *Error", err)
			}
			if !regexp.MustCompile(tt.want).MatchString(err.Error()) || te.Line != tt.line {
				t.Errorf("got %q (line %d), want line %d and %q", err, te.Line, tt.line, tt.want)
			}
			if a := after.TotalAlloc - before.TotalAlloc; a > hazardAlloc {
				t.Errorf("allocated %d MiB", a>>20)
			}
			t.Logf("%v in %v, %d KiB allocated", err, took.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>10)
		})
	}
}

func TestParseRefusesBigRangeLiteral(t *testing.T) {
	_, err := Parse("r", "{% range 1000000000 %}{% end %}")
	if err == nil || err.Error() != "line 1: range over 1000000000 exceeds the limit of 100000 iterations" {
		t.Fatalf("got %v", err)
	}
	// At the limit is fine.
	if _, err := Parse("r", "{% range 100000 %}{% end %}"); err != nil {
		t.Fatal(err)
	}
}

func TestCustomLimits(t *testing.T) {
	lim := Limits{MaxOutput: 10, Timeout: 50 * time.Millisecond, MaxSteps: 1_000_000_000}

	tm, err := parseWithLimits("l", "{% range until 1000000 %}{% range until 1000000 %}{% end %}{% end %}", lim)
	if err != nil {
		t.Fatal(err)
	}
	// Without the time limit this would run 10^12 iterations: only the
	// limit can end it.
	_, err = tm.Execute(nil)
	if err == nil || !errors.Is(err, errLimit) || !strings.Contains(err.Error(), "time limit of 50ms") {
		t.Fatalf("got %v", err)
	}

	tm, err = parseWithLimits("l", "0123456789{% .Name %}", lim)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := tm.Execute(nil); err != nil || out != "0123456789" {
		t.Errorf("at the limit: %q, %v", out, err)
	}
	if _, err := tm.Execute(testPod()); err == nil || err.Error() != "template output exceeds 10 bytes" {
		t.Errorf("over the limit: %v", err)
	}

	// Zero fields take the defaults.
	tm, err = parseWithLimits("l", "x", Limits{MaxSteps: 7})
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxOutput: 1 << 20, Timeout: time.Second, MaxSteps: 7}
	if tm.limits != want {
		t.Errorf("Limits() = %+v, want %+v", tm.limits, want)
	}
}

// The hazards above must not be confused with ordinary use near the limits.
func TestNearLimits(t *testing.T) {
	for _, text := range []string{
		`{% range until 100000 %}{% end %}`,
		`{% range $i := until 300 %}{% range until 300 %}{% end %}{% end %}`,
		`{% len (repeat 1048576 "x") %}`,
		`{% $l := list 1 %}{% range until 12 %}{% $l = list $l $l %}{% end %}{% len (toJson $l) %}`,
	} {
		tm, err := parseWithLimits("n", text, untimed())
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if _, err := tm.Execute(testPod()); err != nil {
			t.Errorf("%s: %v", text, err)
		}
	}
}
