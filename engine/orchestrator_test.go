package engine_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// TestOrchestratorAnnotationsUnseen: the bookkeeping annotations kpt and
// kustomize put on what they hand a function are not the pod's: a template
// over the annotations renders, and the record hashes, the same with and
// without them.
func TestOrchestratorAnnotationsUnseen(t *testing.T) {
	inj, err := engine.Load(config.Source{Name: "c.yaml", Data: []byte(`
containers:
- name: reader
  image: example.com/reader:1
  env:
  - {name: ANNOTATIONS, value: '{% toJson .Annotations %}'}
mutationConfigs:
- {name: reader, annotationNamespace: reader.example.com, annotationTrigger: inject, containers: [reader]}
`)})
	if err != nil {
		t.Fatal(err)
	}
	const pod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    reader.example.com/inject: "true"
%s
spec:
  containers: [{name: app, image: example.com/app:1}]
`
	render := func(extra string) (string, string) {
		t.Helper()
		n := yaml.MustParse(fmtPod(pod, extra))
		if rep := inj.Inject(n, engine.Options{}); rep.Err() != nil || len(rep.Injected) != 1 {
			t.Fatalf("not injected: %+v", rep)
		}
		env, err := n.Pipe(yaml.Lookup("spec", "containers", "[name=reader]", "env", "[name=ANNOTATIONS]", "value"))
		if err != nil || env == nil {
			t.Fatalf("no ANNOTATIONS value: %v", err)
		}
		return env.YNode().Value, n.GetAnnotations()[engine.RecordAnnotation]
	}
	wantValue, wantRecord := render("")
	gotValue, gotRecord := render(`    config.kubernetes.io/index: "0"
    config.kubernetes.io/path: pod.yaml
    internal.config.kubernetes.io/path: pod.yaml
    internal.config.kubernetes.io/annotations-migration-resource-id: "0"
    config.k8s.io/id: "1"`)
	if gotValue != wantValue || gotRecord != wantRecord {
		t.Errorf("with the orchestrators' annotations:\n%s\n%s\nwithout:\n%s\n%s", gotValue, gotRecord, wantValue, wantRecord)
	}
	if wantValue != `{"reader.example.com/inject":"true"}` {
		t.Errorf("the template saw %s", wantValue)
	}
}

func fmtPod(pod, extra string) string {
	if extra == "" {
		return strings.Replace(pod, "%s\n", "", 1)
	}
	return strings.Replace(pod, "%s", extra, 1)
}
