package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// hashBase is a mutation using every input of an injection: each list,
// both options, annotationConfig. Each row of TestRecordHashCoversEveryInput
// changes one of them.
const hashBase = `
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata: {name: hash}
spec:
  sidecars:
    initContainers:
    - {name: init-a, image: example.com/init-a:1}
    - {name: init-b, image: example.com/init-b:1}
    containers:
    - {name: side-a, image: example.com/side-a:1}
    - {name: side-b, image: example.com/side-b:1}
    volumes:
    - {name: vol-a, emptyDir: {}}
    - {name: vol-b, emptyDir: {}}
    volumeMounts:
    - {name: vol-a, mountPath: /a}
    - {name: vol-b, mountPath: /b}
    imagePullSecrets:
    - {name: pull-a}
    - {name: pull-b}
  mutations:
  - name: m
    annotationNamespace: m.example.com
    annotationTrigger: inject
    initContainersBeforePodInitContainers: [init-a]
    initContainers: [init-a, init-b]
    containers: [side-a, side-b]
    volumes: [vol-a, vol-b]
    volumeMounts: [vol-a, vol-b]
    imagePullSecrets: [pull-a, pull-b]
    annotationConfig:
      volumeMounts:
      - {name: extra, containerRefs: [side-a]}
`

const hashPod = `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    m.example.com/inject: "true"
    m.example.com/extra: '[{"name":"vol-b","mountPath":"/extra"}]'
spec:
  containers:
  - {name: app, image: app}
`

// TestRecordHashCoversEveryInput changes each input of a mutation's
// injection in turn, the config's or the pod's, and requires the recorded
// hash to change with it: otherwise an upgrade would take the new config
// for the old one and leave the pod as it was.
func TestRecordHashCoversEveryInput(t *testing.T) {
	edits := []struct {
		name, old, new string
		// A second replacement, where one input takes two (a renamed
		// definition and its use).
		old2, new2 string
	}{
		{"an init container moved before the pod's own", "initContainersBeforePodInitContainers: [init-a]", "initContainersBeforePodInitContainers: [init-a, init-b]", "", ""},
		{"an init container moved after the pod's own", "initContainersBeforePodInitContainers: [init-a]", "initContainersBeforePodInitContainers: []", "", ""},
		{"containers reordered", "containers: [side-a, side-b]", "containers: [side-b, side-a]", "", ""},
		{"a container left out", "containers: [side-a, side-b]", "containers: [side-a]", "", ""},
		{"volumes reordered", "volumes: [vol-a, vol-b]", "volumes: [vol-b, vol-a]", "", ""},
		{"a volume mount left out", "volumeMounts: [vol-a, vol-b]", "volumeMounts: [vol-a]", "", ""},
		{"pull secrets reordered", "imagePullSecrets: [pull-a, pull-b]", "imagePullSecrets: [pull-b, pull-a]", "", ""},
		{"nativeSidecars", "    annotationTrigger: inject\n", "    annotationTrigger: inject\n    nativeSidecars: true\n", "", ""},
		{"implementsSidecarLifecycle", "    annotationTrigger: inject\n", "    annotationTrigger: inject\n    implementsSidecarLifecycle: true\n", "", ""},
		{"an init container's definition", "example.com/init-b:1", "example.com/init-b:2", "", ""},
		{"a container's definition", "example.com/side-b:1", "example.com/side-b:2", "", ""},
		{"a volume's definition", "{name: vol-b, emptyDir: {}}", "{name: vol-b, emptyDir: {medium: Memory}}", "", ""},
		{"a mount's definition", "{name: vol-b, mountPath: /b}", "{name: vol-b, mountPath: /bb}", "", ""},
		{"a pull secret's name", "- {name: pull-b}\n", "- {name: pull-c}\n", "imagePullSecrets: [pull-a, pull-b]", "imagePullSecrets: [pull-a, pull-c]"},
		{"annotationConfig's container", "containerRefs: [side-a]", "containerRefs: [side-b]", "", ""},
	}
	base := recordedHash(t, hashBase, hashPod)
	seen := map[string]string{base: "the base config"}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			if strings.Count(hashBase, e.old) != 1 {
				t.Fatalf("%q is not once in the base config", e.old)
			}
			cfg := strings.Replace(hashBase, e.old, e.new, 1)
			if e.old2 != "" {
				cfg = strings.Replace(cfg, e.old2, e.new2, 1)
			}
			h := recordedHash(t, cfg, hashPod)
			if other, ok := seen[h]; ok {
				t.Errorf("hash %s is the same as for %s", h, other)
			}
			seen[h] = e.name
		})
	}
	t.Run("the pod's annotationConfig mounts", func(t *testing.T) {
		h := recordedHash(t, hashBase, strings.Replace(hashPod, "/extra", "/other", 1))
		if other, ok := seen[h]; ok {
			t.Errorf("hash %s is the same as for %s", h, other)
		}
	})
}

// recordedHash injects pod with config and returns the hash the record
// gives the mutation.
func recordedHash(t *testing.T, cfg, pod string) string {
	t.Helper()
	inj, err := engine.Load(config.Source{Name: "config.yaml", Data: []byte(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	node := yaml.MustParse(pod)
	if rep := inj.Inject(node, engine.Options{}); !rep.Changed() {
		t.Fatalf("nothing injected: %+v", rep)
	}
	var rec struct {
		Mutations []struct{ Hash string } `json:"mutations"`
	}
	if err := json.Unmarshal([]byte(node.GetAnnotations()[engine.RecordAnnotation]), &rec); err != nil || len(rec.Mutations) != 1 {
		t.Fatalf("record %q: %v", node.GetAnnotations()[engine.RecordAnnotation], err)
	}
	return rec.Mutations[0].Hash
}
