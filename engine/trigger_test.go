package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

const triggerConfig = `
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata: {name: platform}
spec:
  sidecars: {containers: [{name: c, image: example.com/c:1}]}
  mutations:
  - {name: annotation, annotationNamespace: logging.example.com, annotationTrigger: inject, containers: [c]}
  - {name: label, annotationNamespace: mesh.example.com, annotationTrigger: inject, labelTrigger: true, containers: [c], ignoreNamespaces: [quiet]}
  - {name: default, annotationNamespace: vault.example.com, annotationTrigger: inject, labelTrigger: true, injectByDefault: true, containers: [c]}
`

// podWith is a Pod with the given annotations, labels and namespace.
func podWith(annotations, labels map[string]string, namespace string) *yaml.RNode {
	pod := yaml.MustParse("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: app, image: app}]}\n")
	if err := pod.SetAnnotations(annotations); err != nil {
		panic(err)
	}
	if err := pod.SetLabels(labels); err != nil {
		panic(err)
	}
	if err := pod.SetNamespace(namespace); err != nil {
		panic(err)
	}
	return pod
}

// ExampleReport_Decisions asks, with Options.Explain, what each mutation
// does with a pod and why.
func ExampleReport_Decisions() {
	inj, err := engine.Load(config.Source{Name: "platform.yaml", Data: []byte(triggerConfig)})
	if err != nil {
		fmt.Println(err)
		return
	}
	pod := podWith(map[string]string{"vault.example.com/inject": "false"}, map[string]string{"mesh.example.com/inject": "true"}, "shop")
	for _, d := range inj.Inject(pod, engine.Options{Explain: true}).Decisions {
		fmt.Printf("%s: %s: %s\n", d.Mutation, d.Outcome, d.Reason)
	}
	// Output:
	// annotation: not injected: no annotation "logging.example.com/inject"
	// label: injected: label "mesh.example.com/inject" is "true"
	// default: not injected: annotation "vault.example.com/inject" is "false"
}

// TestTrigger: each mutation's verdict on a pod, by its annotations,
// labels and namespace, and the warning for a trigger that cannot be what
// the user meant.
func TestTrigger(t *testing.T) {
	inj, err := engine.Load(config.Source{Name: "platform.yaml", Data: []byte(triggerConfig)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mutation            string
		annotations, labels map[string]string
		namespace           string
		applies             bool
		reason, warning     string
	}{
		{mutation: "annotation", annotations: map[string]string{"logging.example.com/inject": "enabled"}, applies: true, reason: `annotation "logging.example.com/inject" is "enabled"`},
		{mutation: "annotation", labels: map[string]string{"logging.example.com/inject": "true"}, reason: `no annotation "logging.example.com/inject"`, warning: `label "logging.example.com/inject" is ignored`},
		{mutation: "annotation", annotations: map[string]string{"logging.example.com/inject": "True"}, reason: `has value "True"`, warning: `use "true" or "enabled"`},
		{mutation: "annotation", annotations: map[string]string{"logging.example.com/inject": "true"}, namespace: "kube-system", reason: `namespace "kube-system" is in the injector's ignoreNamespaces`},
		{mutation: "label", labels: map[string]string{"mesh.example.com/inject": "true"}, applies: true, reason: `label "mesh.example.com/inject" is "true"`},
		{mutation: "label", labels: map[string]string{"mesh.example.com/inject": "true"}, namespace: "quiet", reason: `namespace "quiet" is in the mutation's ignoreNamespaces`},
		{mutation: "label", reason: `no annotation or label "mesh.example.com/inject"`},
		// Disagreement: an opt-out wins, wherever it is.
		{mutation: "label", annotations: map[string]string{"mesh.example.com/inject": "true"}, labels: map[string]string{"mesh.example.com/inject": "disabled"}, reason: `label "mesh.example.com/inject" is "disabled"`},
		{mutation: "label", annotations: map[string]string{"mesh.example.com/inject": "false"}, labels: map[string]string{"mesh.example.com/inject": "true"}, reason: `annotation "mesh.example.com/inject" is "false"`},
		{mutation: "label", annotations: map[string]string{"mesh.example.com/inject": "true"}, labels: map[string]string{"mesh.example.com/inject": ""}, reason: `label "mesh.example.com/inject" has value ""`, warning: "nothing injected"},
		{mutation: "default", applies: true, reason: "injected by default"},
		{mutation: "default", labels: map[string]string{"vault.example.com/inject": "false"}, reason: `label "vault.example.com/inject" is "false"`},
		{mutation: "default", annotations: map[string]string{"vault.example.com/inject": "flase"}, reason: `has value "flase"`, warning: "nothing injected"},
		{mutation: "default", namespace: "kube-public", reason: `namespace "kube-public" is in the injector's ignoreNamespaces`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v %v %s", tt.mutation, tt.annotations, tt.labels, tt.namespace), func(t *testing.T) {
			report := inj.Inject(podWith(tt.annotations, tt.labels, tt.namespace), engine.Options{Explain: true})
			var got engine.Decision
			for _, d := range report.Decisions {
				if d.Mutation == tt.mutation {
					got = d
				}
			}
			var warning string
			for _, w := range report.Warnings {
				if w.Mutation == tt.mutation {
					warning = w.Message
				}
			}
			applies := got.Outcome == engine.OutcomeInjected
			if applies != tt.applies || !strings.Contains(got.Reason, tt.reason) || (tt.warning == "") != (warning == "") || !strings.Contains(warning, tt.warning) {
				t.Errorf("got %+v and warning %q, want applies %v, reason %q, warning %q", got, warning, tt.applies, tt.reason, tt.warning)
			}
		})
	}
}
