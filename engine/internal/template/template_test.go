package template

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "web-0",
			Namespace: "team-a",
			Annotations: map[string]string{
				"vault.k8s-integration.sfdc.com/role":    "web-role",
				"aws.k8s-integration.sfdc.com/iam-creds": "web-creds",
				"empty":                                  "",
			},
			Labels: map[string]string{"app": "web"},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: "web-sa",
			Containers: []corev1.Container{
				{Name: "app", Image: "app:1", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}},
				{Name: "proxy", Image: "proxy:2"},
			},
		},
	}
}

func TestExecute(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		// The old injector's configs.
		{"service account", "aws-iam-{% .Spec.ServiceAccountName %}", "aws-iam-web-sa"},
		{"index annotation", `{% index .Annotations "vault.k8s-integration.sfdc.com/role" %}`, "web-role"},
		{"index absent annotation", `[{% index .Annotations "absent" %}]`, "[]"},
		{"field absent annotation", `[{% .Annotations.absent %}]`, "[]"},
		{"metadata promoted", "{% .Name %}.{% .Namespace %} {% .Labels.app %}", "web-0.team-a web"},
		{"root variable", "{% $.Spec.ServiceAccountName %}", "web-sa"},
		{"other tools' templates are text", "{{ .Values.x }} {% .Name %} {{- y -}}", "{{ .Values.x }} web-0 {{- y -}}"},
		{"no actions", "plain: text", "plain: text"},
		{"trim markers", "a  {%- .Name -%}  b", "aweb-0b"},
		{"comment", "a{%/* note */%}b", "ab"},

		// Added functions.
		{"annotation", `{% annotation "vault.k8s-integration.sfdc.com/role" %}`, "web-role"},
		{"annotation default", `{% annotation "absent" "dflt" %}`, "dflt"},
		{"annotation empty takes default", `{% annotation "empty" "dflt" %}`, "dflt"},
		{"annotation absent, index", `[{% index .Annotations "absent" %}]`, "[]"},
		{"annotation empty without default", `[{% annotation "empty" %}]`, "[]"},
		{"label", `{% label "app" %}-{% label "tier" "backend" %}`, "web-backend"},
		{"required passes value", `{% required "need a role" (annotation "vault.k8s-integration.sfdc.com/role") %}`, "web-role"},
		{"toYaml sorted, no final newline", `{% toYaml (dict "b" 1 "a" (list "x" "z" "y")) %}`, "a:\n- x\n- z\n- \"y\"\nb: 1"},
		{"toYaml pod field", `{% toYaml (index .Spec.Containers 1) %}`, "image: proxy:2\nname: proxy\nresources: {}"},
		{"toYaml nindent", "x:{% toYaml (dict \"k\" \"v\") | nindent 2 %}", "x:\n  k: v"},
		{"fromYaml", `{% (fromYaml "a: {b: c}").a.b %}`, "c"},
		{"fromYaml list", `{% index (fromYaml "[x, z]") 1 %}`, "z"},
		{"fromYaml missing key", `[{% (fromYaml "a: 1").b %}]`, "[]"},
		{"toJson", `{% toJson (dict "b" 1 "a" "<x>") %}`, `{"a":"\u003cx\u003e","b":1}`},
		{"fromJson", `{% (fromJson "{\"a\": [1, 2]}").a %}`, "[1 2]"},
		{"json round trip", `{% toJson .Spec.Containers | fromJson | len %}`, "2"},

		// sprig.
		{"sprig strings", `{% .Name | upper | quote %} {% "a,b" | splitList "," | join "+" %}`, `"WEB-0" a+b`},
		{"sprig default", `{% index .Annotations "absent" | default "d" %}`, "d"},
		{"sprig sha", `{% sha256sum "x" | trunc 8 %}`, "2d711642"},
		{"sprig keys sorted", `{% keys (dict "b" 1 "c" 2 "a" 3) %}`, "[a b c]"},
		{"sprig values sorted", `{% values (dict "b" 1 "c" 2 "a" 3) %}`, "[3 1 2]"},
		{"sprig until", `{% range until 3 %}{% . %}{% end %}`, "012"},
		{"sprig untilStep", `{% untilStep 10 0 -3 %}`, "[10 7 4 1]"},
		{"sprig seq", `{% seq 3 %}|{% seq 5 3 %}|{% seq 0 2 6 %}`, "1 2 3|5 4 3|0 2 4 6"},
		{"sprig repeat", `{% repeat 3 "ab" %}`, "ababab"},
		{"sprig indent", "{% indent 2 \"a\\nb\" %}", "  a\n  b"},
		{"sprig replace", `{% replace "" "-" "ab" %}|{% "a.b.c" | replace "." "/" %}`, "-a-b-|a/b/c"},
		{"sprig regexReplaceAll", `{% regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" %}`, "-W-xxW-"},
		{"sprig regexReplaceAllLiteral", `{% regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" %}`, "-${1}-${1}-"},
		{"sprig wrapWith", `{% wrapWith 5 "\t" "Hello World" %}`, "Hello\tWorld"},
		{"sprig uniq", `{% list 1 2 1 3 | uniq %}`, "[1 2 3]"},
		{"sprig duration", `{% duration "95" %}`, "1m35s"},
		{"printf", `{% printf "%s-%d" .Name 3 %}`, "web-0-3"},
		{"printf verbs", `{% printf "%5.2f|%-4s|%%|%*d|%[1]v" 3.14159 "ab" 3 7 %}`, " 3.14|ab  |%|  7|3.14159"},

		// Language.
		{"range containers", `{% range .Spec.Containers %}{% .Name %};{% end %}`, "app;proxy;"},
		{"range map sorted", `{% range $k, $v := .Annotations %}{% $k %},{% end %}`, "aws.k8s-integration.sfdc.com/iam-creds,empty,vault.k8s-integration.sfdc.com/role,"},
		{"range int", `{% range 3 %}{% . %}{% end %}`, "012"},
		{"range break", `{% range $i := until 10 %}{% if eq $i 2 %}{% break %}{% end %}{% $i %}{% end %}`, "01"},
		{"range else", `{% range .Spec.InitContainers %}x{% else %}none{% end %}`, "none"},
		{"with", `{% with .Spec %}{% .ServiceAccountName %}{% end %}`, "web-sa"},
		{"define", `{% define "n" %}<{% . %}>{% end %}{% template "n" .Name %}{% template "n" "x" %}`, "<web-0><x>"},
		{"print struct", `{% (index .Spec.Containers 0).Ports %}`, "[{ 0 8080 TCP }]"},
		{"print pointer", `{% with $s := .Spec.SecurityContext %}{% $s %}{% else %}nil{% end %}`, "nil"},
		{"and or", `{% or (index .Annotations "absent") "fallback" %}`, "fallback"},
	}
	pod := testPod()
	pod.Spec.Containers[0].Ports[0].Protocol = corev1.ProtocolTCP
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := Parse(tt.name, tt.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := tm.Execute(pod)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// Twice: pooled instances must not keep state.
			if again, _ := tm.Execute(pod); again != got {
				t.Errorf("second execution gave %q, first %q", again, got)
			}
		})
	}
}

func TestExecuteNilPod(t *testing.T) {
	tm, err := Parse("nil", `[{% .Name %}{% annotation "a" "d" %}{% index .Annotations "x" %}]`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tm.Execute(nil)
	if err != nil || got != "[d]" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"undefined function", "a: 1\nb: 2\nc: {% foo %}", 3, `function "foo" not defined`},
		{"removed function", "x\n{% now | date \"2006\" %}", 2, `function "now" is not available in sidecar templates (it reads the clock)`},
		{"unclosed action", "a\n{% .Name ", 2, "unclosed action"},
		{"unexpected end", "{% if .Name %}", 1, "unexpected EOF"},
		{"range over big literal", "a\nb\n{% range 1000000000 %}{% end %}", 3, "range over 1000000000 exceeds the limit of 100000 iterations"},
		{"recursive template", "{% define \"a\" %}{% template \"b\" %}{% end %}\n{% define \"b\" %}{% template \"a\" %}{% end %}", 2, `template "a" is called recursively`},
		{"self recursive", "\n{% define \"a\" %}{% template \"a\" . %}{% end %}", 2, `template "a" is called recursively`},
		{"pod method", "{% $b := .Marshal %}", 1, `method "Marshal" cannot be called: templates read the pod's fields, not its Go methods`},
		{"pod method in chain", "\n{% (index .Spec.Containers 0).Unmarshal (list) %}", 2, `method "Unmarshal" cannot be called`},
		{"pod method on variable", "{% range .Spec.Volumes %}{% .EmptyDir.SizeLimit.RoundUp 3 %}{% end %}", 1, `method "RoundUp" cannot be called`},
		{"pod method in if", "{% if $.CreationTimestamp.UnmarshalJSON (list) %}{% end %}", 1, `method "UnmarshalJSON" cannot be called`},
		{"internal function", `{% sidecarInjectorStep %}`, 1, `function "sidecarInjectorStep" not defined`},
		{"field typo", "\n{% .Spec.ServiceAcountName %}", 2, `the pod has no field "ServiceAcountName" in PodSpec (did you mean "ServiceAccountName"?)`},
		{"field typo in metadata", "{% .Annotatons %}", 1, `the pod has no field "Annotatons" in Pod (did you mean "Annotations"?)`},
		{"field typo through $", "{% range .Spec.Containers %}{% $.Spec.NodeNam %}{% end %}", 1, `the pod has no field "NodeNam" in PodSpec (did you mean "NodeName"?)`},
		{"field typo in an if", "{% if .Spec.HostNetwrk %}x{% end %}", 1, `the pod has no field "HostNetwrk" in PodSpec (did you mean "HostNetwork"?)`},
		{"undefined template", "a\n{% template \"nonexistent\" %}", 2, `template "nonexistent" is not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s", tt.text)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("got %v (%T), want *Error", err, err)
			}
			if te.Line != tt.line || !strings.Contains(te.Err.Error(), tt.msg) || te.Name != "s" {
				t.Errorf("got name %q line %d %q, want line %d containing %q", te.Name, te.Line, te.Err, tt.line, tt.msg)
			}
			if strings.Contains(err.Error(), "template:") {
				t.Errorf("message keeps text/template's prefix: %q", err)
			}
			if want := fmt.Sprintf("line %d: ", tt.line); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message %q does not start with %q", err, want)
			}
		})
	}
}

func TestExecuteErrors(t *testing.T) {
	sentinel := errors.New("x")
	_ = sentinel
	tests := []struct {
		name, text string
		want       string // the whole message
	}{
		{"required", "role:\n  {% required \"vault role annotation missing\" (index .Annotations \"vault\") %}",
			"line 2: error calling required: vault role annotation missing"},
		{"required nil", `{% required "need b" (fromYaml "a: 1").b %}`, "line 1: error calling required: need b"},
		{"fail", "\n\n{% fail \"stop here\" %}", "line 3: error calling fail: stop here"},
		{"bad field in a range", "{% range .Spec.Containers %}{% .Nope %}{% end %}", "line 1: can't evaluate field Nope in type v1.Container"},
		{"annotation absent", `{% annotation "absent" %}`, `line 1: error calling annotation: the pod has no annotation "absent" (give a default: annotation "absent" "DEFAULT")`},
		{"label absent", `{% label "team" %}`, `line 1: error calling label: the pod has no label "team" (give a default: label "team" "DEFAULT")`},
		{"annotation two defaults", `{% annotation "a" "b" "c" %}`, `line 1: error calling annotation: annotation "a": at most one default, got 2`},
		{"index out of range", "a\n{% index .Spec.Containers 5 %}", "line 2: error calling index: index out of range: 5"},
		{"bad yaml", `{% fromYaml "a: [" %}`, "line 1: error calling fromYaml: error converting YAML to JSON: yaml: line 1: did not find expected node content"},
		{"bad json", `{% fromJson "{" %}`, "line 1: error calling fromJson: unexpected end of JSON input"},
		{"in defined template", "{% define \"x\" %}\n\n{% fail \"deep\" %}{% end %}{% template \"x\" %}", "line 3: error calling fail: deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := Parse("e", tt.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := tm.Execute(testPod())
			if err == nil {
				t.Fatalf("no error, output %q", out)
			}
			var te *Error
			if !errors.As(err, &te) || te.Name != "e" {
				t.Fatalf("got %T %v, want *Error named e", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err, tt.want)
			}
			if errors.Is(err, errLimit) {
				t.Errorf("%v matches errLimit", err)
			}
		})
	}
}

// A function's own error stays reachable.
func TestExecuteErrorUnwraps(t *testing.T) {
	tm, err := Parse("u", `{% mustRegexFind "(" "x" %}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.Execute(nil)
	var te *Error
	if !errors.As(err, &te) || errors.Unwrap(te.Err) == nil {
		t.Fatalf("got %v, want an *Error wrapping the function's error", err)
	}
}

// annotation and label read the pod of their own execution, also when
// executions run at once.
func TestConcurrentExecutions(t *testing.T) {
	tm, err := Parse("c", `{% annotation "n" %}/{% label "n" %}/{% .Name %}`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				n := fmt.Sprint(g, "-", i)
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n,
					Annotations: map[string]string{"n": n}, Labels: map[string]string{"n": n}}}
				got, err := tm.Execute(pod)
				if want := n + "/" + n + "/" + n; err != nil || got != want {
					errs <- fmt.Errorf("got %q, %v, want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// With several mistakes, the first in the text is reported, every time.
func TestParseErrorStable(t *testing.T) {
	text := "{% define \"a\" %}{% .Marshal %}{% end %}\n{% define \"b\" %}{% .Unmarshal %}{% end %}\n{% define \"c\" %}{% .Size %}{% end %}"
	for range 20 {
		_, err := Parse("s", text)
		if err == nil || !strings.HasPrefix(err.Error(), `line 1: method "Marshal"`) {
			t.Fatalf("got %v", err)
		}
	}
}

// TestFields: what a template reads of the pod, which is all that is
// decoded of it for the template; anything that may pass the spec or the
// pod on whole reads all of it (nil).
func TestFields(t *testing.T) {
	set := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	all := map[string]bool(nil)
	tests := []struct {
		text      string
		top, spec map[string]bool
	}{
		{`aws-iam-{% .Spec.ServiceAccountName %}`, set("Spec"), set("ServiceAccountName")},
		{`{% index .Annotations "role" %}{% label "app" %}{% .Name %}`, set("Annotations", "Name"), set()},
		{`{% with .OwnerReferences %}{% (index . 0).Name %}{% end %}`, set("OwnerReferences"), set()},
		{`{% .ObjectMeta.Namespace %}{% $.Kind %}`, set("ObjectMeta", "Kind"), set()},
		{`{% len .Spec.Containers %}{% if .Spec.NodeName %}x{% end %}`, set("Spec"), set("Containers", "NodeName")},
		{`{% range .Spec.Volumes %}{% .Name %}{% end %}`, set("Spec"), set("Volumes")},
		{`{% range .Spec.Volumes %}{% $.Spec.Hostname %}{% end %}`, set("Spec"), set("Volumes", "Hostname")},
		{`{% (index .Spec.Containers 0).Name %}`, set("Spec"), set("Containers")},
		{`{% toJson . %}`, all, all},
		{`{% toYaml .Spec %}`, set("Spec"), all},
		{`{% $s := .Spec %}{% $s.NodeName %}`, set("Spec"), all},
		{`{% with .Spec %}{% .NodeName %}{% end %}`, set("Spec"), all},
		{`{% $ | toJson %}`, all, all},
		{`{% define "x" %}{% .Spec.NodeName %}{% end %}{% template "x" . %}`, all, all},
	}
	for _, tt := range tests {
		tmpl, err := Parse("t", tt.text)
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		got := tmpl.Fields()
		for _, c := range []struct {
			what      string
			got, want map[string]bool
		}{{"Top", got.Top, tt.top}, {"Spec", got.Spec, tt.spec}} {
			if fmt.Sprint(c.got) != fmt.Sprint(c.want) || (c.got == nil) != (c.want == nil) {
				t.Errorf("%s: Fields().%s = %v, want %v", tt.text, c.what, c.got, c.want)
			}
		}
	}
}
