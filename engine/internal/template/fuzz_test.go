package template

import (
	"errors"
	"testing"
	"time"
)

// Whatever the text, Parse and Execute return (no panic, no hang), errors
// are *Error, and the output respects the limit.
func FuzzParseExecute(f *testing.F) {
	for _, s := range []string{
		"aws-iam-{% .Spec.ServiceAccountName %}",
		`{% index .Annotations "vault.k8s-integration.sfdc.com/role" %}`,
		`{% range $i, $c := .Spec.Containers %}{% $i %}={% $c.Name %}{% end %}`,
		`{% $d := dict "a" 1 %}{% $_ := set $d "b" $d %}{% toYaml $d %}`,
		`{% define "x" %}{% . %}{% end %}{% template "x" .Labels %}`,
		`{% printf "%[1]*d" 5 1 %}{% join "," (until 3) %}`,
		`{% required "m" "" %}{% fromYaml "a: [1" %}`,
		"{{ x }} {%- /* c */ -%} {% with .Spec %}{% .ServiceAccountName %}{% end %}",
	} {
		f.Add(s)
	}
	lim := Limits{MaxOutput: 1 << 16, Timeout: 200 * time.Millisecond, MaxSteps: 10_000}
	pod := testPod()
	f.Fuzz(func(t *testing.T, text string) {
		tm, err := parseWithLimits("f", text, lim)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Parse error %T %v", err, err)
			}
			return
		}
		start := time.Now()
		out, err := tm.Execute(pod)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("took %v", took)
		}
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Execute error %T %v", err, err)
			}
			return
		}
		if len(out) > lim.MaxOutput {
			t.Errorf("output of %d bytes", len(out))
		}
	})
}
