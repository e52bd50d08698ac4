package model_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
)

// TestLoadPositionsAroundActions: template actions are replaced by tokens
// of another length and without their line breaks before the YAML is
// parsed, yet every problem is at its line and column in the user's file.
// Each want is every problem and warning of the load, positions counted by
// hand in the source.
func TestLoadPositionsAroundActions(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{
			name: "old form: actions before problems on the same line",
			file: `
containers:
- name: a
  image: i
  env: [{name: A, value: "{% .Name %}"}, {nme: B}]
  args: ["{% .Namespace %}-{% .Name %}", "{% .Name %}", {x: 1}]
- {name: b, image: "{% .Name %}", ports: [{containerPort: eighty}]}
mutationConfigs:
- {name: m, annotationNamespace: "{% .Name %}.example.com", annotationTrigger: inject, containers: [a, b, c]}
`,
			want: []string{
				`s.yaml:4:43: container "a": env[1]: unknown field "nme" (did you mean "name"?)`,
				`s.yaml:5:57: container "a": args[2]: expected a string, found a mapping`,
				`s.yaml:6:59: container "b": ports[0].containerPort: expected an integer, found "eighty"`,
				`s.yaml:8: the template action {% .Name %} is not in a value of a sidecar definition: actions render values of sidecars only, not keys, comments or mutation settings`,
				`warning: s.yaml:8:107: mutation "m": containers: no container named "c" is defined (the old injector ignored this; in a SidecarInjector it is an error)`,
			},
		},
		{
			name: "old form: multi-line actions above problems",
			file: `
containers:
- name: a
  image: i
  args:
  - "{% if .Spec.NodeName
      %}x{% end %}"
  imagee: j
- name: b
  image: "{%
     .Name %}"
  workingDir: '{% if
    .Spec.NodeName %}{% nosuchfunc %}{% end %}'
- name: c
  image: i
  {% if .Spec.NodeName
  %}
  imagge: k
  {% end %}
mutationConfigs:
- {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [a, b, c, d]}
volumes:
- {name: v, emptyDir: {}}
- {name: v, emptyDir: {}}
`,
			want: []string{
				`s.yaml:7:3: container "a": unknown field "imagee" (did you mean "image"?)`,
				`s.yaml:12: container "b": workingDir: template: function "nosuchfunc" not defined`,
				`s.yaml:15: the template action {% if .Spec.NodeName stands alone on its line: an action renders a value, never YAML structure, so it cannot add or remove fields or items. Put the condition inside the value (value: '{% if ... %}a{% else %}b{% end %}'), or make one sidecar per variant and one mutation per trigger`,
				`s.yaml:17:3: container "c": unknown field "imagge" (did you mean "image"?)`,
				`s.yaml:18: the template action {% end %} stands alone on its line: an action renders a value, never YAML structure, so it cannot add or remove fields or items. Put the condition inside the value (value: '{% if ... %}a{% else %}b{% end %}'), or make one sidecar per variant and one mutation per trigger`,
				`s.yaml:23:10: volume "v" is defined twice: first at s.yaml:22`,
				`warning: s.yaml:20:98: mutation "m": containers: no container named "d" is defined (the old injector ignored this; in a SidecarInjector it is an error)`,
			},
		},
		{
			name: "SidecarInjector: both",
			file: `
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata: {name: x, annotations: {note: "{% if
  .X %}"}}
spec:
  sidecars:
    containers:
    - {name: a, image: "{% .Name %}", ports: [{containerPort: eighty}]}
    - {name: b, image: "{%
      .Name %}", imagee: j}
  mutations:
  - {name: m, annotationNamespace: "{% .Name %}", annotationTrigger: inject, containers: [a, c], failurePolicy: Sometimes}
  workloadKinds:
  - {kind: Rollout, podTemplatePath: spec..template}
`,
			want: []string{
				`s.yaml:3: the template action {% if is not in a value of a sidecar definition: actions render values of sidecars only, not keys, comments or mutation settings`,
				`s.yaml:8:63: container "a": ports[0].containerPort: expected an integer, found "eighty"`,
				`s.yaml:10:18: container "b": unknown field "imagee" (did you mean "image"?)`,
				`s.yaml:12: the template action {% .Name %} is not in a value of a sidecar definition: actions render values of sidecars only, not keys, comments or mutation settings`,
				`s.yaml:12:94: mutation "m": containers: no container named "c" is defined`,
				`s.yaml:12:113: mutation "m": failurePolicy "Sometimes" is not Fail or Ignore`,
				`s.yaml:14:38: spec.workloadKinds[0].podTemplatePath "spec..template" has an empty segment`,
			},
		},
		{
			name: "ConfigMap: a block scalar holding such a file, below a multi-line action",
			file: `
apiVersion: v1
kind: ConfigMap
metadata: {name: x, annotations: {note: "{% if
  .X %}"}}
data:
  sidecarconfig.yaml: |
    containers:
    - name: a
      image: i
      env: [{name: A, value: "{% .Name %}"}, {nme: B}]
      args:
      - "{% if .Spec.NodeName
          %}x{% end %}"
      imagee: j
    - name: b
      image: "{% nosuchfunc %}"
  mutationconfig.yaml: |
    mutationConfigs:
    - {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [a, b, c]}
`,
			want: []string{
				`s.yaml:3: the template action {% if is not in a value of a sidecar definition: actions render values of sidecars only, not keys, comments or mutation settings`,
				`s.yaml (ConfigMap x, data sidecarconfig.yaml):10:47: container "a": env[1]: unknown field "nme" (did you mean "name"?)`,
				`s.yaml (ConfigMap x, data sidecarconfig.yaml):14:7: container "a": unknown field "imagee" (did you mean "image"?)`,
				`s.yaml (ConfigMap x, data sidecarconfig.yaml):16: container "b": image: template: function "nosuchfunc" not defined`,
				`warning: s.yaml (ConfigMap x, data mutationconfig.yaml):19:99: mutation "m": containers: no container named "c" is defined (the old injector ignored this; in a SidecarInjector it is an error)`,
			},
		},
		{
			name: "ConfigMap: a duplicate key below a multi-line action names its first line in the file",
			file: `
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data:
  sidecarconfig.yaml: |
    containers:
    - name: a
      image: "{% if
        .Spec.NodeName %}y{% end %}"
      image: j
  mutationconfig.yaml: |
    mutationConfigs:
    - {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [a]}
`,
			want: []string{
				`s.yaml (ConfigMap x, data sidecarconfig.yaml):10:7: container "a": duplicate key "image" (first at line 8)`,
			},
		},
		{
			name: "a template error in a block scalar: its first line is below the indicator",
			file: `
containers:
- name: a
  image: "{% if
    .Spec.NodeName %}x{% end %}"
  command:
  - |
    echo
    {% nosuchfunc %}
`,
			want: []string{`s.yaml:8: container "a": command[0]: template: function "nosuchfunc" not defined`},
		},
		{
			name: "YAML syntax error below a multi-line action",
			file: `
containers:
- name: a
  image: "{% if
    .X %}y{% end %}"
  args: [x, @y]
`,
			want: []string{`s.yaml: invalid YAML: line 5: found character that cannot start any token`},
		},
		{
			name: "YAML syntax error in a ConfigMap's block scalar, below multi-line actions",
			file: `
apiVersion: v1
kind: ConfigMap
metadata: {name: x, annotations: {note: "{% if
  .X %}"}}
data:
  sidecarconfig.yaml: |
    containers:
    - name: a
      image: "{% if
        .X %}y{% end %}"
      args: [x, @y]
  mutationconfig.yaml: |
    mutationConfigs: []
`,
			want: []string{
				`s.yaml:3: the template action {% if is not in a value of a sidecar definition: actions render values of sidecars only, not keys, comments or mutation settings`,
				`s.yaml (ConfigMap x, data sidecarconfig.yaml): invalid YAML: line 11: found character that cannot start any token`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := model.Load(config.Source{Name: "s.yaml", Data: []byte(strings.TrimPrefix(tt.file, "\n"))})
			e, ok := err.(*config.Error)
			if !ok {
				t.Fatalf("error %v, want a *config.Error", err)
			}
			var got []string
			for _, p := range e.Problems {
				got = append(got, p.Error())
			}
			for _, w := range e.Warnings {
				got = append(got, "warning: "+w.Error())
			}
			want := slices.Clone(tt.want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// A template's errors at injection name the line of its scalar, below a
// multi-line action too.
func TestRenderErrorLineBelowMultiLineAction(t *testing.T) {
	src := `containers:
- name: a
  image: "{% if
    .Spec.NodeName %}x{% end %}"
  ports: [{containerPort: "{% .Spec.NodeName %}1"}]
mutationConfigs:
- {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [a]}
`
	cfg, err := model.Load(config.Source{Name: "s.yaml", Data: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Mutations[0].Resolved.Containers[0].Render(&corev1.Pod{Spec: corev1.PodSpec{NodeName: "n"}})
	if want := `s.yaml:5: ports[0].containerPort: the template rendered "n1"`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want one starting %s", err, want)
	}
}
