package typed

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func parse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

func TestDecodeProblems(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // Problem.String() of each, in order
		mismatch  bool
	}{
		{
			name: "unknown fields at their keys, with suggestions",
			src:  "name: c\nimagee: i\nresources:\n  limts: {}\nvolumeMounts:\n- name: v\n  mountPth: /x\n",
			want: []string{
				`line 2, column 1: unknown field "imagee" (did you mean "image"?)`,
				`line 4, column 3: resources: unknown field "limts" (did you mean "limits"?)`,
				`line 7, column 3: volumeMounts[0]: unknown field "mountPth" (did you mean "mountPath"?)`,
			},
		},
		{
			name: "duplicate keys at the second, with the first's line",
			src:  "name: c\nimage: i\nenv:\n- name: A\n  name: B\nimage: j\n",
			want: []string{
				`line 5, column 3: env[0]: duplicate key "name" (first at line 4)`,
				`line 6, column 1: duplicate key "image" (first at line 2)`,
			},
		},
		{
			name: "every value of the wrong type, and the unknown fields beside them",
			src:  "name: [c]\nports:\n- containerPort: http\n- containerPort: 99999999999\nstdin: maybe\nenvv: []\n",
			want: []string{
				`line 1, column 7: name: expected a string, found a list`,
				`line 3, column 18: ports[0].containerPort: expected an integer, found "http"`,
				`line 4, column 18: ports[1].containerPort: value 99999999999 is out of range for int32`,
				`line 5, column 8: stdin: expected a boolean (true or false), found "maybe"`,
				`line 6, column 1: unknown field "envv" (did you mean "env"?)`,
			},
			mismatch: true,
		},
		{
			name: "merged and aliased fields point at where they are written",
			src:  "base: &b {imagePullPolcy: Always}\nc:\n  <<: *b\n  name: c\n",
			want: []string{`line 1, column 11: unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := parse(t, tc.src).Content[0]
			if c := n.Content; len(c) == 4 && c[0].Value == "base" { // the merge case
				n = c[3]
			}
			var got corev1.Container
			err := Decode(n, &got)
			te, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %v, want an *Error", err)
			}
			var lines []string
			for _, p := range te.Problems {
				lines = append(lines, p.String())
			}
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			if mismatch := slices.ContainsFunc(te.Problems, func(p Problem) bool { return p.Mismatch }); mismatch != tc.mismatch {
				t.Errorf("Mismatch = %v, want %v", mismatch, tc.mismatch)
			}
		})
	}
}

// The scalars YAML configs have always been allowed to write decode as
// they did under the previous injector.
func TestDecodeYAMLScalars(t *testing.T) {
	src := `name: c
args: [--port, 8080, true, 1.5, "quoted"]
stdin: yes
tty: Off
ports: [{containerPort: 0x1F90}, {containerPort: "8081"}, {containerPort: 8082.0}]
resources: {limits: {cpu: 0.5, memory: 64Mi}}
`
	var got corev1.Container
	if err := Decode(parse(t, src), &got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Args, " ") != "--port 8080 true 1.5 quoted" || !got.Stdin || got.TTY {
		t.Errorf("args %q, stdin %v, tty %v", got.Args, got.Stdin, got.TTY)
	}
	if p := got.Ports; len(p) != 3 || p[0].ContainerPort != 8080 || p[1].ContainerPort != 8081 || p[2].ContainerPort != 8082 {
		t.Errorf("ports %+v", p)
	}
	if cpu := got.Resources.Limits.Cpu().String(); cpu != "500m" {
		t.Errorf("cpu %s", cpu)
	}
}

// A pod from the API server may carry fields this program does not know:
// DecodeLenient ignores them, and the last of duplicate keys wins.
func TestDecodeLenient(t *testing.T) {
	var got corev1.PodSpec
	if err := DecodeLenient(parse(t, "futureField: 1\nserviceAccountName: a\nserviceAccountName: b\n"), &got); err != nil {
		t.Fatal(err)
	}
	if got.ServiceAccountName != "b" {
		t.Errorf("serviceAccountName %q", got.ServiceAccountName)
	}
	if err := DecodeLenient(parse(t, "serviceAccountName: [a]\n"), &got); err == nil {
		t.Error("a list for a string: no error")
	}
}

func TestEncodeIsEncodingJSON(t *testing.T) {
	vm := corev1.VolumeMount{Name: "logs", MountPath: "/var/log", ReadOnly: true}
	n, err := Encode(&vm)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(&vm)
	var back corev1.VolumeMount
	if err := Decode(n, &back); err != nil || back.Name != vm.Name || back.MountPath != vm.MountPath || !back.ReadOnly {
		t.Errorf("round trip: %+v, %v (JSON %s)", back, err, want)
	}
	if got := yaml.NewRNode(n).MustString(); got != "name: logs\nreadOnly: true\nmountPath: /var/log\n" {
		t.Errorf("encoded\n%s", got)
	}
}
