package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
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
  - {name: annotation, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [c]}
  - {name: label, annotationNamespace: l.example.com, annotationTrigger: inject, labelTrigger: true, containers: [c], ignoreNamespaces: [quiet]}
  - {name: default, annotationNamespace: d.example.com, annotationTrigger: inject, labelTrigger: true, injectByDefault: true, containers: [c]}
`

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// ExampleInjector_Trigger asks each mutation whether, and why, it applies
// to a pod known only by its metadata.
func ExampleInjector_Trigger() {
	inj, err := engine.Load(config.Source{Name: "platform.yaml", Data: []byte(triggerConfig)})
	if err != nil {
		fmt.Println(err)
		return
	}
	pod := engine.PodMeta{
		Annotation: mapLookup(map[string]string{"d.example.com/inject": "false"}),
		Label:      mapLookup(map[string]string{"l.example.com/inject": "true"}),
		Namespace:  "shop",
	}
	for _, m := range inj.Mutations() {
		t := inj.Trigger(&m, pod)
		fmt.Printf("%s: %v, %s\n", m.Name, t.Applies, t.Reason)
	}
	// Output:
	// annotation: false, no annotation "a.example.com/inject"
	// label: true, label "l.example.com/inject" is "true"
	// default: false, annotation "d.example.com/inject" is "false"
}

func TestTrigger(t *testing.T) {
	inj, err := engine.Load(config.Source{Name: "platform.yaml", Data: []byte(triggerConfig)})
	if err != nil {
		t.Fatal(err)
	}
	mutation := map[string]*v1alpha1.Mutation{}
	for _, m := range inj.Mutations() {
		mutation[m.Name] = &m
	}
	tests := []struct {
		mutation            string
		annotations, labels map[string]string
		namespace           string
		applies             bool
		reason, warning     string
	}{
		{mutation: "annotation", annotations: map[string]string{"a.example.com/inject": "enabled"}, applies: true, reason: `annotation "a.example.com/inject" is "enabled"`},
		{mutation: "annotation", labels: map[string]string{"a.example.com/inject": "true"}, reason: `no annotation "a.example.com/inject"`, warning: `label "a.example.com/inject" is ignored`},
		{mutation: "annotation", annotations: map[string]string{"a.example.com/inject": "True"}, reason: `has value "True"`, warning: `use "true" or "enabled"`},
		{mutation: "annotation", annotations: map[string]string{"a.example.com/inject": "true"}, namespace: "kube-system", reason: `namespace "kube-system" is in the injector's ignoreNamespaces`},
		{mutation: "label", labels: map[string]string{"l.example.com/inject": "true"}, applies: true, reason: `label "l.example.com/inject" is "true"`},
		{mutation: "label", labels: map[string]string{"l.example.com/inject": "true"}, namespace: "quiet", reason: `namespace "quiet" is in the mutation's ignoreNamespaces`},
		{mutation: "label", reason: `no annotation or label "l.example.com/inject"`},
		// Disagreement: an opt-out wins, wherever it is.
		{mutation: "label", annotations: map[string]string{"l.example.com/inject": "true"}, labels: map[string]string{"l.example.com/inject": "disabled"}, reason: `label "l.example.com/inject" is "disabled"`},
		{mutation: "label", annotations: map[string]string{"l.example.com/inject": "false"}, labels: map[string]string{"l.example.com/inject": "true"}, reason: `annotation "l.example.com/inject" is "false"`},
		{mutation: "label", annotations: map[string]string{"l.example.com/inject": "true"}, labels: map[string]string{"l.example.com/inject": ""}, reason: `label "l.example.com/inject" has value ""`, warning: "nothing injected"},
		{mutation: "default", applies: true, reason: "injected by default"},
		{mutation: "default", labels: map[string]string{"d.example.com/inject": "false"}, reason: `label "d.example.com/inject" is "false"`},
		{mutation: "default", annotations: map[string]string{"d.example.com/inject": "flase"}, reason: `has value "flase"`, warning: "nothing injected"},
		{mutation: "default", namespace: "kube-public", reason: `namespace "kube-public" is in the injector's ignoreNamespaces`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v %v %s", tt.mutation, tt.annotations, tt.labels, tt.namespace), func(t *testing.T) {
			pod := engine.PodMeta{Annotation: mapLookup(tt.annotations), Label: mapLookup(tt.labels), Namespace: tt.namespace}
			got := inj.Trigger(mutation[tt.mutation], pod)
			if got.Applies != tt.applies || !strings.Contains(got.Reason, tt.reason) || (tt.warning == "") != (got.Warning == "") || !strings.Contains(got.Warning, tt.warning) {
				t.Errorf("got %+v, want applies %v, reason %q, warning %q", got, tt.applies, tt.reason, tt.warning)
			}
		})
	}
}
