package model_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// compat is the old injector's corpus, beside the project's checkout.
const compat = "../../testdata/compat/salesforce"

func compatFile(t testing.TB, name string) config.Source {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(compat, name))
	if err != nil {
		t.Fatalf("the compatibility corpus must be beside the checkout: %v", err)
	}
	return config.Source{Name: name, Data: data}
}

func TestLoadSalesforceConfigsUnchanged(t *testing.T) {
	cfg, err := model.Load(compatFile(t, "sidecarconfigs.yaml"), compatFile(t, "mutationconfigs.yaml"))
	if err != nil {
		t.Fatalf("the old injector's real configs must load unchanged:\n%v", err)
	}
	var names []string
	for _, m := range cfg.Mutations {
		names = append(names, m.Name)
	}
	if got, want := strings.Join(names, ","), "keymaker,madkub,rsyslog,vault,simple,vaultReverse"; got != want {
		t.Errorf("mutations = %s, want %s", got, want)
	}
	madkub := cfg.Mutations[1]
	if got := len(madkub.Resolved.VolumeMounts); got != 5 {
		t.Errorf("madkub volumeMounts [ca clientcert servercert svcaccount] name %d mounts, want 5 (ca is mounted twice)", got)
	}
	vaultReverse := cfg.Mutations[5]
	if len(vaultReverse.Resolved.BeforePodInitContainers) != 1 || vaultReverse.Resolved.BeforePodInitContainers[0].Name != "consul-template-init" ||
		len(vaultReverse.Resolved.InitContainers) != 1 || vaultReverse.Resolved.InitContainers[0].Name != "vault-agent-init" {
		t.Errorf("vaultReverse: before=%v after=%v", vaultReverse.Resolved.BeforePodInitContainers, vaultReverse.Resolved.InitContainers)
	}
	for _, kind := range []model.Kind{model.Volume, model.Container} {
		for _, name := range []string{"aws-iam-credentials", "vault-agent"} {
			if defs := cfg.Sidecars.Lookup(kind, name); len(defs) == 1 && !defs[0].Templated() {
				t.Errorf("%s %q holds a template but was compiled as static", kind, name)
			}
		}
	}
}

// TestLoadOldFormToleratesMissingSidecars: the old injector skipped names
// of sidecars that do not exist, and its real mutation file relies on it
// (keymaker-client-refresher is defined nowhere). The old form loads with a
// warning; the native kind fails.
func TestLoadOldFormToleratesMissingSidecars(t *testing.T) {
	cfg, err := model.Load(compatFile(t, "sidecarconfigs.yaml"), compatFile(t, "mutationconfigs.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, w := range cfg.Warnings {
		warnings = append(warnings, w.Error())
	}
	want := []string{
		`mutationconfigs.yaml:6:18: mutation "keymaker": containers: no container named "keymaker-client-refresher" is defined (the old injector ignored this; in a SidecarInjector it is an error)`,
		`mutationconfigs.yaml:51:5: mutation "vaultReverse": "vaultReverse.k8s-integration.sfdc.com/inject" is not a valid annotation key, so no pod can carry it:`,
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(warnings, "\n"), w) {
			t.Errorf("warnings do not say\n  %s\ngot:\n  %s", w, strings.Join(warnings, "\n  "))
		}
	}
}

func TestLoadHelmConfigMaps(t *testing.T) {
	for _, dir := range []string{"helm-demo1", "helm-demo2"} {
		cfg, err := model.Load(compatFile(t, dir+"/configmap.yaml"))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if len(cfg.Mutations) != 2 {
			t.Errorf("%s: %d mutations, want 2", dir, len(cfg.Mutations))
		}
	}
}

// TestLoadConfigMapWithQuotedData: tools that re-serialize a ConfigMap
// (kustomize, kubectl get -o yaml) may write its data as double-quoted
// strings, escaping the quotes inside template actions; the data is the
// same and must load the same.
func TestLoadConfigMapWithQuotedData(t *testing.T) {
	literal := compatFile(t, "helm-demo2/configmap.yaml")
	quoted := config.Source{Name: "quoted.yaml", Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: quoted}
data:
  mutationconfig.yaml: "mutationConfigs:\n- name: m\n  annotationNamespace: aws.example.com\n  annotationTrigger: inject\n  volumes: [aws-iam-credentials]\n"
  sidecarconfig.yaml: "volumes:\n- name: aws-iam-credentials\n  secret:\n    secretName: aws-iam-{% index .Annotations \"aws.k8s-integration.sfdc.com/iam-creds\" %}\n"
`)}
	for _, src := range []config.Source{literal, quoted} {
		cfg, err := model.Load(src)
		if err != nil {
			t.Fatalf("%s: %v", src.Name, err)
		}
		if defs := cfg.Sidecars.Lookup(model.Volume, "aws-iam-credentials"); len(defs) != 1 || !defs[0].Templated() {
			t.Errorf("%s: the templated volume did not load as a template", src.Name)
		}
	}
}

func TestLoadBadMutationConfigNamesEachMissingSidecar(t *testing.T) {
	_, err := model.Load(compatFile(t, "sidecarconfigs.yaml"), compatFile(t, "mutationconfigs_bad.yaml"))
	if err == nil {
		t.Fatal("mutationconfigs_bad.yaml loaded without error")
	}
	want := []string{
		`mutationconfigs_bad.yaml:4:5: mutationConfigs[0]: unknown field "annotationTriggerForContainers" (did you mean "annotationTrigger"?)`,
		`mutationconfigs_bad.yaml:5:40: mutation "keymaker": initContainers: no init container named "keymaker-client123" is defined (did you mean "keymaker-client"?)`,
	}
	assertProblems(t, err, want)
}

// TestLoadErrors holds one row per kind of config error, with the message
// a user sees.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
		not   []string // what the error must not say (a problem reported twice)
	}{
		{
			name: "unknown field in a sidecar, with the nearest valid one",
			files: map[string]string{"sidecars.yaml": `
containers:
- name: shipper
  imagee: example.com/shipper:1
`},
			want: []string{`sidecars.yaml:3:3: container "shipper": unknown field "imagee" (did you mean "image"?)`},
		},
		{
			name: "unknown top-level field of the native kind",
			files: map[string]string{"native.yaml": `
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata: {name: x}
spec:
  sidecar: {}
`},
			want: []string{`native.yaml:5:3: spec: unknown field "sidecar" (did you mean "sidecars"?)`},
		},
		{
			name: "a name defined twice names both places",
			files: map[string]string{
				"team-a.yaml": "containers:\n- name: shipper\n  image: a\n",
				"team-b.yaml": "containers:\n- name: shipper\n  image: b\n",
			},
			want: []string{`team-b.yaml:2:9: container "shipper" is defined twice: first at team-a.yaml:2`},
		},
		{
			name: "a mutation defined twice",
			files: map[string]string{"m.yaml": `
containers: [{name: c, image: i}]
mutationConfigs:
- {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [c]}
- {name: m, annotationNamespace: b.example.com, annotationTrigger: inject, containers: [c]}
`},
			want: []string{`m.yaml:4:10: mutation "m" is defined twice: first at m.yaml:3`},
		},
		{
			name: "empty trigger",
			files: map[string]string{"m.yaml": `
mutationConfigs:
- name: m
  annotationNamespace: a.example.com
  annotationTrigger: ""
`},
			want: []string{`m.yaml:2:3: mutation "m": annotationTrigger is not set: set the annotation name that triggers it, for example inject (the pod then carries a.example.com/inject: "true")`},
		},
		{
			name: "template that does not parse, at its line",
			files: map[string]string{"s.yaml": `
containers:
- name: shipper
  image: example.com/shipper:1
  args:
  - '{% .Spec.ServiceAccountName | nosuchfunc %}'
`},
			want: []string{`s.yaml:5:`, `container "shipper": args[0]: template: `, `"nosuchfunc" not defined`},
		},
		{
			name: "a sidecar of another kind",
			files: map[string]string{"m.yaml": `
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata: {name: x}
spec:
  sidecars:
    volumes: [{name: logs, emptyDir: {}}]
  mutations:
  - {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [logs]}
`},
			want: []string{`mutation "m": containers: no container named "logs" is defined (there is a volume of that name: list it under volumes)`},
		},
		{
			name: "every problem of a file at once",
			files: map[string]string{"s.yaml": `
containers:
- name: a
  imagee: x
- image: y
- name: c
  ports: [{containerPort: eighty}]
`},
			want: []string{`s.yaml:3:3: container "a"`, `s.yaml:4:3: containers[1] has no name`, `s.yaml:6:27: container "c": ports[0].containerPort: expected an integer, found "eighty"`},
		},
		{
			name:  "unsupported kind",
			files: map[string]string{"x.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"},
			want:  []string{`x.yaml:1:1: unsupported config document apps/v1/Deployment`},
		},
		{
			name: "a ConfigMap's data holds the old form only",
			files: map[string]string{"cm.yaml": `
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data:
  sidecarconfig.yaml: |
    apiVersion: v1
    kind: ConfigMap
    data: {}
`},
			want: []string{`cm.yaml (ConfigMap x, data sidecarconfig.yaml):6:5: a ConfigMap's sidecarconfig.yaml and mutationconfig.yaml hold the old injector's sidecar and mutation files, not a ConfigMap document`},
		},
		{
			name:  "invalid YAML",
			files: map[string]string{"x.yaml": "containers:\n- name: a\n  image: [\n"},
			want:  []string{`x.yaml: invalid YAML: line`},
		},
		{
			name:  "unclosed action",
			files: map[string]string{"x.yaml": "containers:\n- name: a\n  image: '{% .Name'\n"},
			want:  []string{`x.yaml:3: template action "{% .Name'" is never closed with "%}"`},
		},
		{
			name: "annotationConfig refers to a container the mutation does not inject",
			files: map[string]string{"m.yaml": `
containers: [{name: c, image: i}]
mutationConfigs:
- name: m
  annotationNamespace: a.example.com
  annotationTrigger: inject
  containers: [c]
  annotationConfig:
    volumeMounts:
    - name: extra-mounts
      containerRefs: [d]
`},
			want: []string{`mutation "m": annotationConfig.volumeMounts[0].containerRefs: "d" is not one of the mutation's containers ["c"]`},
		},
		{
			name: "failurePolicy",
			files: map[string]string{"m.yaml": `
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata: {name: x}
spec:
  mutations:
  - {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, failurePolicy: Sometimes}
`},
			want: []string{`mutation "m": failurePolicy "Sometimes" is not Fail or Ignore`},
		},
		{
			// Label keys are stricter than annotation keys (no upper case in
			// the prefix), and labelTrigger is new: an error in every form.
			name: "a label trigger that is not a valid label key",
			files: map[string]string{"m.yaml": `
containers: [{name: c, image: i}]
mutationConfigs:
- {name: m, annotationNamespace: Logging.example.com, annotationTrigger: inject, labelTrigger: true, containers: [c]}
`},
			want: []string{`m.yaml:3:96: mutation "m": labelTrigger: "Logging.example.com/inject" is not a valid label key, so no pod can carry it: prefix part a lowercase RFC 1123 subdomain`},
		},
		{
			name: "labelTrigger and injectByDefault are booleans",
			files: map[string]string{"m.yaml": `
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata: {name: x}
spec:
  sidecars: {containers: [{name: c, image: i}]}
  mutations:
  - {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, labelTrigger: maybe, injectByDefault: 1, containers: [c]}
`},
			want: []string{`labelTrigger`, `injectByDefault`},
		},
		{
			name: "a value of the wrong type is reported once, not again as missing",
			files: map[string]string{"m.yaml": `
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
spec:
  sidecars: {containers: [{name: c, image: i}]}
  mutations:
  - {name: m, annotationNamespace: a.example.com, annotationTrigger: [inject], containers: [c]}
  workloadKinds:
  - {kind: [Rollout], podTemplatePath: spec.template}
`},
			want: []string{
				`m.yaml:6:70: spec.mutations[0].annotationTrigger: expected a string, found a list`,
				`m.yaml:8:12: spec.workloadKinds[0].kind: expected a string, found a list`,
			},
			not: []string{"is not set", "is required"},
		},
		{
			name: "a template action where a list or a mapping goes",
			files: map[string]string{"m.yaml": `
containers:
- name: a
  image: i
  args: "{% .Name %}"
  resources: "{% .Name %}"
mutationConfigs:
- {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [a]}
`},
			want: []string{
				`m.yaml:4:9: container "a": args: a template action renders one value (a string, a number or a boolean), and args is a list`,
				`m.yaml:5:14: container "a": resources: a template action renders one value (a string, a number or a boolean), and resources is a mapping`,
			},
		},
		{
			name: "a template action under an alias or a merge key",
			files: map[string]string{"m.yaml": `
containers:
- name: a
  image: i
  env: [&shared {name: X, value: "{% .Name %}"}]
- name: b
  image: i
  env: [*shared]
- name: c
  image: i
  securityContext:
    <<: {runAsUser: "{% .Spec.Priority %}"}
mutationConfigs:
- {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [a, b, c]}
`},
			want: []string{
				`m.yaml:7:9: container "b": a template action cannot be inside an anchor that an alias repeats: write it out where it is used`,
				`m.yaml:11:5: container "c": a template action cannot be inside a merged mapping (<<): write it out where it is used`,
			},
		},
		{
			name: "a mutation written through an alias and a merge key is checked at its own line",
			files: map[string]string{"m.yaml": `
defaults: &defaults
  annotationNamespace: a.example.com
  annotationTrigger: inject
containers: [{name: c, image: i}]
mutationConfigs:
- <<: *defaults
  name: m
  containers: [c, c]
`},
			want: []string{
				`m.yaml:1:1: unknown field "defaults"`,
				`m.yaml:8:19: mutation "m": containers: "c" is listed twice`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sources []config.Source
			for _, name := range sortedKeys(tt.files) {
				sources = append(sources, config.Source{Name: name, Data: []byte(strings.TrimPrefix(tt.files[name], "\n"))})
			}
			_, err := model.Load(sources...)
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error says %q:\n%v", w, err)
				}
			}
		})
	}
}

func assertProblems(t *testing.T, err error, want []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say\n  %s\ngot:\n%v", w, err)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

// TestLoadRefusesConfigsThatCannotInject runs the table of configs that
// no front end may take (fn/cli, fn/function and webhook/reload run it too).
func TestLoadRefusesConfigsThatCannotInject(t *testing.T) {
	cases, err := goldencase.Refused("testdata/refused")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.Path), func(t *testing.T) {
			data, err := os.ReadFile(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = model.Load(config.Source{Name: filepath.Base(c.Path), Data: data})
			if err == nil || !strings.Contains(err.Error(), c.Want) {
				t.Fatalf("error %v, want one saying\n  %s", err, c.Want)
			}
		})
	}
}

// A sidecar reads in the order its author wrote it, merge keys included:
// merged fields stand where the merge key does.
func TestLoadDefinitionFollowsMergedFieldOrder(t *testing.T) {
	src := `
containers:
- &base {name: base, image: i, imagePullPolicy: Always}
- name: t
  args: [x]
  <<: *base
  workingDir: /w
mutationConfigs:
- {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [t]}
`
	cfg, err := model.Load(config.Source{Name: "x.yaml", Data: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Mutations[0].Resolved.Containers[0].Render(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := yaml.String(n)
	if err != nil {
		t.Fatal(err)
	}
	want := "name: t\nargs:\n- x\nimage: i\nimagePullPolicy: Always\nworkingDir: /w\n"
	if got != want {
		t.Errorf("rendered\n%s\nwant\n%s", got, want)
	}
}
