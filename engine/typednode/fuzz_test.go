package typednode

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// FuzzDecodePod decodes arbitrary YAML into a Pod: no panic, and every
// failure is an *Error with at least one problem.
func FuzzDecodePod(f *testing.F) {
	f.Add(testPodJSON(f))
	f.Add([]byte("spec:\n  containers:\n  - name: a\n    ports: [{containerPort: 0x50}]\n    resources: {limits: {cpu: 1}}\n"))
	f.Add([]byte("a: &a {b: 1}\nmetadata: {<<: *a, labels: {x: *a}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return
		}
		for _, strict := range []bool{false, true} {
			var pod corev1.Pod
			err := Decode(&doc, &pod, Options{Strict: strict})
			if err == nil {
				continue
			}
			e, ok := err.(*Error)
			if !ok || len(e.Problems) == 0 {
				t.Fatalf("error %v (%T) is not an *Error with problems", err, err)
			}
		}
	})
}
