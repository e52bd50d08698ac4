package typednode

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// cmpOptions compare API values by meaning: quantities by value and
// canonical text, times as instants.
var cmpOptions = cmp.Options{
	cmp.Comparer(func(a, b resource.Quantity) bool {
		return a.Cmp(b) == 0 && a.String() == b.String()
	}),
	cmp.Comparer(func(a, b metav1.Time) bool { return a.Equal(&b) }),
}

// Each fixture decodes, in strict mode, to what sigs.k8s.io/yaml (YAML to
// JSON, then encoding/json) gives for it.
func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file string
		new  func() any
	}{
		{"container.yaml", func() any { return new(corev1.Container) }},
		{"volumes.yaml", func() any { return new([]corev1.Volume) }},
		{"volumemounts.yaml", func() any { return new([]corev1.VolumeMount) }},
		{"imagepullsecrets.yaml", func() any { return new([]corev1.LocalObjectReference) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, want := tt.new(), tt.new()
			if err := Decode(parse(t, string(src)), got, Options{Strict: true}); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if err := sigsyaml.UnmarshalStrict(src, want); err != nil {
				t.Fatalf("sigs.k8s.io/yaml: %v", err)
			}
			if diff := cmp.Diff(want, got, cmpOptions); diff != "" {
				t.Errorf("Decode differs from sigs.k8s.io/yaml (-want +got):\n%s", diff)
			}
		})
	}
}

// Spot checks of the fixtures, so that the comparison above does not pass
// on two equally wrong decoders.
func TestDecodeContainerFields(t *testing.T) {
	c := containerFixture(t)
	checks := []struct {
		what      string
		got, want any
	}{
		{"image", c.Image, "registry.example.com/rsyslog:8.2404"},
		{"args", c.Args, []string{"-n", "-f", "/etc/rsyslog.conf"}},
		{"port", c.Ports[0].ContainerPort, int32(514)},
		{"protocol", c.Ports[0].Protocol, corev1.ProtocolUDP},
		{"fieldRef", c.Env[1].ValueFrom.FieldRef.FieldPath, "metadata.annotations['logging.example.com/target']"},
		{"divisor", c.Env[2].ValueFrom.ResourceFieldRef.Divisor.String(), "1Mi"},
		{"optional", c.Env[3].ValueFrom.SecretKeyRef.Optional, ptr.To(true)},
		{"env value", c.Env[4].Value, "42"},
		{"cpu request", c.Resources.Requests.Cpu().MilliValue(), int64(50)},
		{"memory limit", c.Resources.Limits.Memory().Value(), int64(128 << 20)},
		{"http port", c.LivenessProbe.HTTPGet.Port, intstr.FromInt32(8080)},
		{"named port", c.ReadinessProbe.TCPSocket.Port, intstr.FromString("syslog")},
		{"runAsUser", c.SecurityContext.RunAsUser, ptr.To[int64](10001)},
		{"drop", c.SecurityContext.Capabilities.Drop, []corev1.Capability{"ALL"}},
		{"restartPolicy", c.RestartPolicy, ptr.To(corev1.ContainerRestartPolicyAlways)},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.what, ch.got, ch.want)
		}
	}
	var vols []corev1.Volume
	src, err := os.ReadFile("testdata/volumes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := Decode(parse(t, string(src)), &vols, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	if got := *vols[2].Secret.DefaultMode; got != 0440 {
		t.Errorf("defaultMode 0440 (YAML octal) = %o", got)
	}
	if got := *vols[3].ConfigMap.DefaultMode; got != 420 {
		t.Errorf("defaultMode 420 = %d", got)
	}
	if vols[0].EmptyDir == nil || vols[0].EmptyDir.SizeLimit != nil {
		t.Errorf("emptyDir: {} = %#v", vols[0].EmptyDir)
	}
}

// The admission review's pod decodes to what encoding/json makes of it, both
// from the node jsonnode builds (the webhook's path) and from YAML text.
func TestDecodePodMatchesEncodingJSON(t *testing.T) {
	pod := testPodJSON(t)
	var want corev1.Pod
	if err := json.Unmarshal(pod, &want); err != nil {
		t.Fatal(err)
	}
	fromJSON, err := jsonnode.Decode(pod)
	if err != nil {
		t.Fatal(err)
	}
	yamlText, err := sigsyaml.JSONToYAML(pod)
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]*yaml.Node{"json node": fromJSON, "yaml node": parse(t, string(yamlText))} {
		for _, strict := range []bool{false, true} {
			var got corev1.Pod
			if err := Decode(n, &got, Options{Strict: strict}); err != nil {
				t.Fatalf("%s, strict %v: %v", name, strict, err)
			}
			if diff := cmp.Diff(want, got, cmpOptions); diff != "" {
				t.Errorf("%s, strict %v: differs from encoding/json (-want +got):\n%s", name, strict, diff)
			}
		}
	}
}

func TestDecodeLenientScalars(t *testing.T) {
	type target struct {
		S    string             `json:"s"`
		SS   []string           `json:"ss"`
		I    int32              `json:"i"`
		I64  int64              `json:"i64"`
		U    uint8              `json:"u"`
		F    float64            `json:"f"`
		F32  float32            `json:"f32"`
		B    bool               `json:"b"`
		P    *int               `json:"p"`
		Raw  []byte             `json:"raw"`
		Arr  [2]int             `json:"arr"`
		Q    resource.Quantity  `json:"q"`
		IOS  intstr.IntOrString `json:"ios"`
		Time metav1.Time        `json:"time"`
		M    map[string]int     `json:"m"`
	}
	tests := []struct {
		yaml string
		want target
	}{
		{`s: true`, target{S: "true"}},
		{`s: 0x1F`, target{S: "0x1F"}},
		{`s: 1.0`, target{S: "1.0"}},
		{`s: "quoted"`, target{S: "quoted"}},
		{`s: ""`, target{S: ""}},
		{`s: !!binary aGk=`, target{S: "aGk="}},
		{`ss: [true, 123, 1.50, null, yes, ~, "x"]`, target{SS: []string{"true", "123", "1.50", "", "yes", "", "x"}}},
		{`i: 42`, target{I: 42}},
		{`i: "42"`, target{I: 42}},
		{`i: 0x1F`, target{I: 31}},
		{`i: 0o17`, target{I: 15}},
		{`i: 017`, target{I: 15}},
		{`i: 1_000`, target{I: 1000}},
		{`i: +7`, target{I: 7}},
		{`i: -2147483648`, target{I: math.MinInt32}},
		{`i: 3.0`, target{I: 3}},
		{`i: 1e3`, target{I: 1000}},
		{`i64: 9223372036854775807`, target{I64: math.MaxInt64}},
		{`u: 255`, target{U: 255}},
		{`u: "7"`, target{U: 7}},
		{`f: 1.5`, target{F: 1.5}},
		{`f: 2`, target{F: 2}},
		{`f: "2.5"`, target{F: 2.5}},
		{`f: .5`, target{F: 0.5}},
		{`f: 0x10`, target{F: 16}},
		{`f: -.inf`, target{F: math.Inf(-1)}},
		{`f32: 3.25`, target{F32: 3.25}},
		{`b: true`, target{B: true}},
		{`b: True`, target{B: true}},
		{`b: yes`, target{B: true}},
		{`b: "on"`, target{B: true}},
		{`b: Y`, target{B: true}},
		{`b: off`, target{B: false}},
		{`b: "false"`, target{B: false}},
		{`p: 5`, target{P: ptr.To(5)}},
		{`raw: aGVsbG8=`, target{Raw: []byte("hello")}},
		{"raw: |\n  aGVs\n  bG8=", target{Raw: []byte("hello")}},
		{`raw: [104, 105]`, target{Raw: []byte("hi")}},
		{`arr: [1, 2, 3]`, target{Arr: [2]int{1, 2}}},
		{`q: 500m`, target{Q: resource.MustParse("500m")}},
		{`q: 1`, target{Q: resource.MustParse("1")}},
		{`q: 0.5`, target{Q: resource.MustParse("500m")}},
		{`q: .5`, target{Q: resource.MustParse("500m")}},
		{`q: 1Gi`, target{Q: resource.MustParse("1Gi")}},
		{`ios: 8080`, target{IOS: intstr.FromInt32(8080)}},
		{`ios: "8080"`, target{IOS: intstr.FromString("8080")}},
		{`ios: http`, target{IOS: intstr.FromString("http")}},
		{`time: 2024-05-01T10:00:00Z`, target{Time: metav1.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}},
		{`m: {a: 1, "b.c/d": 2}`, target{M: map[string]int{"a": 1, "b.c/d": 2}}},
	}
	for _, tt := range tests {
		var got target
		if err := Decode(parse(t, tt.yaml), &got, Options{Strict: true}); err != nil {
			t.Errorf("%s: %v", tt.yaml, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpOptions); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.yaml, diff)
		}
	}
}

func TestDecodeInterface(t *testing.T) {
	var got any
	src := "a: [1, -2, 1.5, 0x10, 18446744073709551615, true, null, text, '7', .inf]\nb: {c: d}\n"
	if err := Decode(parse(t, src), &got, Options{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": []any{int64(1), int64(-2), 1.5, int64(16), float64(math.MaxUint64), true, nil, "text", "7", math.Inf(1)},
		"b": map[string]any{"c": "d"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A null sets pointers, slices, maps and interfaces to nil and leaves other
// values alone.
func TestDecodeNulls(t *testing.T) {
	type target struct {
		S   string            `json:"s"`
		I   int               `json:"i"`
		P   *int              `json:"p"`
		L   []string          `json:"l"`
		M   map[string]string `json:"m"`
		A   any               `json:"a"`
		Sub struct{ X int }   `json:"sub"`
		Q   resource.Quantity `json:"q"`
	}
	full := func() target {
		v := target{S: "s", I: 1, P: ptr.To(2), L: []string{"x"}, M: map[string]string{"k": "v"}, A: "a", Q: resource.MustParse("1")}
		v.Sub.X = 3
		return v
	}
	got := full()
	src := "s: ~\ni: null\np: ~\nl: null\nm:\na: ~\nsub: ~\nq: ~\n"
	if err := Decode(parse(t, src), &got, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	want := full()
	want.P, want.L, want.M, want.A = nil, nil, nil, nil
	if diff := cmp.Diff(want, got, cmpOptions); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A quoted "null" is a string.
	var s struct {
		S string `json:"s"`
	}
	if err := Decode(parse(t, `s: "null"`), &s, Options{}); err != nil || s.S != "null" {
		t.Errorf(`"null" into a string = %q, %v`, s.S, err)
	}
}

func TestDecodeAliasesAndMerges(t *testing.T) {
	src := `
defaults: &defaults
  image: registry.example.com/agent:1
  imagePullPolicy: Always
  env: &env
  - {name: A, value: a}
ports: &ports {containerPort: 9000}
containers:
- <<: *defaults
  name: first
- <<: [{image: ignored, workingDir: /w}, *defaults]
  name: second
  image: registry.example.com/agent:2
  env: *env
  ports: [*ports]
`
	var cfg struct {
		Defaults   any                `json:"defaults"`
		Ports      any                `json:"ports"`
		Containers []corev1.Container `json:"containers"`
	}
	if err := Decode(parse(t, src), &cfg, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	env := []corev1.EnvVar{{Name: "A", Value: "a"}}
	want := []corev1.Container{
		{Name: "first", Image: "registry.example.com/agent:1", ImagePullPolicy: corev1.PullAlways, Env: env},
		{Name: "second", Image: "registry.example.com/agent:2", ImagePullPolicy: corev1.PullAlways, Env: env,
			WorkingDir: "/w", Ports: []corev1.ContainerPort{{ContainerPort: 9000}}},
	}
	if diff := cmp.Diff(want, cfg.Containers); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if m, ok := cfg.Defaults.(map[string]any); !ok || m["image"] != "registry.example.com/agent:1" {
		t.Errorf("anchored mapping into any = %#v", cfg.Defaults)
	}
}

func TestDecodeDuplicateKeys(t *testing.T) {
	src := "name: a\nimage: x\nname: b\n"
	var c corev1.Container
	if err := Decode(parse(t, src), &c, Options{}); err != nil || c.Name != "b" {
		t.Errorf("non-strict: name %q, %v; want the last value and no error", c.Name, err)
	}
	err := Decode(parse(t, src), &c, Options{Strict: true})
	want := `line 3, column 1: duplicate key "name" (first at line 1)`
	if err == nil || err.Error() != want {
		t.Errorf("strict: %v, want %s", err, want)
	}
}

func TestDecodeFieldRules(t *testing.T) {
	type Inner struct {
		A string `json:"a"`
		B string // untagged in both, so that go vet accepts the clash
	}
	type Other struct {
		B string
		C string `json:"c"`
	}
	type PtrEmbedded struct {
		D string `json:"d"`
	}
	type target struct {
		Inner `json:",inline"`
		Other
		*PtrEmbedded
		Named   Inner  `json:"named"`
		Skipped string `json:"-"`
		Dash    string `json:"-,"`
		NoTag   string
		private string
		A       string `json:"top"` // the tag renames it: "a" is still Inner's
	}
	src := "a: 1\nc: 3\nd: 4\nnamed: {a: x}\n-: dash\nNoTag: plain\ntop: t\n"
	var got target
	if err := Decode(parse(t, src), &got, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	want := target{Inner: Inner{A: "1"}, Other: Other{C: "3"}, PtrEmbedded: &PtrEmbedded{D: "4"},
		Named: Inner{A: "x"}, Dash: "dash", NoTag: "plain", A: "t"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(target{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// "B" is ambiguous between Inner and Other at the same depth: like
	// encoding/json, neither gets it.
	err := Decode(parse(t, "B: 2\nskipped: s\nprivate: p"), &got, Options{Strict: true})
	wantErr := `line 1, column 1: unknown field "B"` + "\n" +
		`line 2, column 1: unknown field "skipped"` + "\n" +
		`line 3, column 1: unknown field "private"`
	if err == nil || err.Error() != wantErr {
		t.Errorf("error:\n%v\nwant:\n%s", err, wantErr)
	}
	var viaJSON target
	if err := json.Unmarshal([]byte(`{"B":"2"}`), &viaJSON); err != nil || viaJSON.Inner.B != "" || viaJSON.Other.B != "" {
		t.Errorf("encoding/json sets an ambiguous field: %+v %v", viaJSON, err)
	}
}

// Every message a user can see, with its position and path.
func TestDecodeErrors(t *testing.T) {
	type podLike struct {
		Spec corev1.PodSpec `json:"spec"`
	}
	tests := []struct {
		name, yaml string
		into       func() any
		strict     bool
		want       string
	}{
		{"unknown field with suggestion", "name: a\nimagee: nginx\n", newContainer, true,
			`line 2, column 1: unknown field "imagee" (did you mean "image"?)`},
		{"unknown field, swapped letters", "nmae: a\n", newContainer, true,
			`line 1, column 1: unknown field "nmae" (did you mean "name"?)`},
		{"unknown field, wrong case", "ImagePullPolicy: Always\n", newContainer, true,
			`line 1, column 1: unknown field "ImagePullPolicy" (did you mean "imagePullPolicy"?)`},
		{"unknown field without suggestion", "flavour: vanilla\n", newContainer, true,
			`line 1, column 1: unknown field "flavour"`},
		{"unknown fields ignored when not strict", "flavour: vanilla\nimagee: x\n", newContainer, false, ``},
		{"nested path", "spec:\n  containers:\n  - name: a\n    volumeMounts:\n    - name: v\n      mountPath: /v\n    - name: w\n      mountPaht: /w\n",
			func() any { return new(podLike) }, true,
			`line 8, column 7: spec.containers[0].volumeMounts[1]: unknown field "mountPaht" (did you mean "mountPath"?)`},
		{"mapping expected", "securityContext: [a]\n", newContainer, false,
			`line 1, column 18: securityContext: expected a mapping, found a list`},
		{"mapping expected, scalar found", "resources: lots\n", newContainer, false,
			`line 1, column 12: resources: expected a mapping, found "lots"`},
		{"sequence expected", "ports: {containerPort: 80}\n", newContainer, false,
			`line 1, column 8: ports: expected a list, found a mapping`},
		{"string expected", "image: {name: x}\nargs: [a, [b]]\n", newContainer, false,
			"line 1, column 8: image: expected a string, found a mapping\n" +
				"line 2, column 11: args[1]: expected a string, found a list"},
		{"integer expected", "ports:\n- containerPort: eighty\n", newContainer, false,
			`line 2, column 18: ports[0].containerPort: expected an integer, found "eighty"`},
		{"fraction into integer", "ports:\n- containerPort: 80.5\n", newContainer, false,
			`line 2, column 18: ports[0].containerPort: expected an integer, found "80.5"`},
		{"overflow", "ports:\n- containerPort: 2147483648\n", newContainer, false,
			`line 2, column 18: ports[0].containerPort: value 2147483648 is out of range for int32`},
		{"quoted overflow", "ports:\n- containerPort: \"99999999999999999999\"\n", newContainer, false,
			`line 2, column 18: ports[0].containerPort: value 99999999999999999999 is out of range for int32`},
		{"boolean expected", "stdin: maybe\n", newContainer, false,
			`line 1, column 8: stdin: expected a boolean (true or false), found "maybe"`},
		{"quantity", "resources:\n  limits:\n    cpu: lots\n", newContainer, false,
			`line 3, column 10: resources.limits.cpu: cannot decode "lots" as resource.Quantity: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`},
		{"int-or-string", "livenessProbe:\n  httpGet:\n    port: [1]\n", newContainer, false,
			`line 3, column 11: livenessProbe.httpGet.port: cannot decode a list as intstr.IntOrString: json: cannot unmarshal array into Go value of type int32`},
		{"map key path", "metadata:\n  labels:\n    app.kubernetes.io/name: [x]\n    plain: {}\n", func() any { return new(corev1.Pod) }, false,
			"line 3, column 29: metadata.labels[\"app.kubernetes.io/name\"]: expected a string, found a list\n" +
				"line 4, column 12: metadata.labels.plain: expected a string, found a mapping"},
		{"map key not a scalar", "? [a]\n: b\n", func() any { return new(map[string]string) }, false,
			`line 1, column 3: a mapping key must be a scalar, found a list`},
		{"bad merge", "<<: [a]\nname: x\n", newContainer, false,
			`line 1, column 6: a merge key (<<) takes a mapping or a list of mappings, found "a"`},
		{"bad base64", "Raw: '%%%'\n", func() any { return new(struct{ Raw []byte }) }, false,
			`line 1, column 6: Raw: expected base64 data: illegal base64 data at input byte 0`},
		{"top-level mismatch", "- a\n", newContainer, false,
			`line 1, column 1: expected a mapping, found a list`},
		{"infinity into a quantity", "resources:\n  limits:\n    cpu: .inf\n", newContainer, false,
			`line 3, column 10: resources.limits.cpu: !!float ".inf" has no JSON encoding`},
		{"unsupported type", "C: 1\n", func() any { return new(struct{ C chan int }) }, false,
			`line 1, column 4: C: cannot decode into Go type chan int`},
		{"number expected", "F: [1]\nG: abc\n", func() any { return new(struct{ F, G float64 }) }, false,
			"line 1, column 4: F: expected a number, found a list\n" +
				`line 2, column 4: G: expected a number, found "abc"`},
		{"float32 overflow", "F: 1e300\n", func() any { return new(struct{ F float32 }) }, false,
			`line 1, column 4: F: value 1e300 is out of range for float32`},
		{"negative into unsigned", "U: -1\nV: \"-2\"\n", func() any { return new(struct{ U, V uint }) }, false,
			"line 1, column 4: U: value -1 is out of range for uint\n" +
				`line 2, column 4: V: expected a non-negative integer, found "-2"`},
		{"non-empty interface", "S: x\n", func() any { return new(struct{ S fmt.Stringer }) }, false,
			`line 1, column 4: S: cannot decode into Go type fmt.Stringer`},
		{"all problems at once", "name: [a]\nimagee: x\nports:\n- containerPort: x\n  protocol: [TCP]\nstdin: 3\n", newContainer, true,
			"line 1, column 7: name: expected a string, found a list\n" +
				"line 2, column 1: unknown field \"imagee\" (did you mean \"image\"?)\n" +
				"line 4, column 18: ports[0].containerPort: expected an integer, found \"x\"\n" +
				"line 5, column 13: ports[0].protocol: expected a string, found a list\n" +
				"line 6, column 8: stdin: expected a boolean (true or false), found \"3\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Decode(parse(t, tt.yaml), tt.into(), Options{Strict: tt.strict})
			got := ""
			if err != nil {
				got = err.Error()
				if _, ok := err.(*Error); !ok {
					t.Errorf("error is a %T, want *Error", err)
				}
			}
			if got != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func newContainer() any { return new(corev1.Container) }

func TestDecodeProblemFields(t *testing.T) {
	err := Decode(parse(t, "name: a\nvolumeMounts:\n- name: v\n  mountPath: [x]\n"), new(corev1.Container), Options{})
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %v is a %T", err, err)
	}
	want := []Problem{{Line: 4, Column: 14, Path: "volumeMounts[0].mountPath", Message: "expected a string, found a list"}}
	if diff := cmp.Diff(want, e.Problems); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeArguments(t *testing.T) {
	n := parse(t, "a: b")
	var c corev1.Container
	for _, out := range []any{nil, c, (*corev1.Container)(nil)} {
		err := Decode(n, out, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), "typednode: Decode needs a non-nil pointer") {
			t.Errorf("Decode into %T: %v", out, err)
		}
	}
	dangling := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "name", Line: 1, Column: 1},
		{Kind: yaml.AliasNode, Value: "nowhere", Line: 1, Column: 7},
	}}
	err := Decode(dangling, &c, Options{})
	if want := "line 1, column 7: name: alias *nowhere refers to no node"; err == nil || err.Error() != want {
		t.Errorf("dangling alias: %v, want %s", err, want)
	}
	if err := Decode(nil, &c, Options{}); err != nil {
		t.Errorf("Decode(nil): %v", err)
	}
	if err := Decode(parse(t, ""), &c, Options{Strict: true}); err != nil {
		t.Errorf("Decode of an empty document: %v", err)
	}
}

func TestDecodeLimits(t *testing.T) {
	// A billion laughs: nine levels of ten aliases each.
	var b strings.Builder
	b.WriteString("a0: &a0 [x]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	var v map[string]any
	err := Decode(parse(t, b.String()), &v, Options{})
	if err == nil || !strings.Contains(err.Error(), "aliases expand to more than 1048576 nodes") {
		t.Errorf("billion laughs: %v", err)
	}

	// Merge keys that double at each level.
	b.Reset()
	b.WriteString("m0: &m0 {k: v}\n")
	for i := 1; i <= 25; i++ {
		fmt.Fprintf(&b, "m%d: &m%d {<<: [*m%d, *m%d]}\n", i, i, i-1, i-1)
	}
	b.WriteString("spec: {<<: *m25}\n")
	var pod corev1.Pod
	err = Decode(parse(t, b.String()), &pod, Options{})
	if err == nil || !strings.Contains(err.Error(), "aliases expand to more than 1048576 nodes") {
		t.Errorf("merge bomb: %v", err)
	}

	// An alias cycle in a node built by hand.
	cycle := parse(t, "[x]").Content[0]
	cycle.Content = append(cycle.Content, &yaml.Node{Kind: yaml.AliasNode, Alias: cycle})
	var x any
	err = Decode(cycle, &x, Options{})
	if err == nil || !strings.Contains(err.Error(), "nesting deeper than 10000 levels (or an alias cycle)") {
		t.Errorf("alias cycle: %v", err)
	}
}
