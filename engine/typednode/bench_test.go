package typednode

import (
	"encoding/json"
	"testing"

	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
	corev1 "k8s.io/api/core/v1"
)

// BenchmarkDecodePod decodes the admission review's pod, already a node as
// the webhook holds it, into a corev1.Pod.
func BenchmarkDecodePod(b *testing.B) {
	pod := testPodJSON(b)
	n, err := jsonnode.Decode(pod)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var p corev1.Pod
		if err := Decode(n, &p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONUnmarshalPod is the same with encoding/json from the JSON
// bytes.
func BenchmarkJSONUnmarshalPod(b *testing.B) {
	pod := testPodJSON(b)
	b.ReportAllocs()
	for b.Loop() {
		var p corev1.Pod
		if err := json.Unmarshal(pod, &p); err != nil {
			b.Fatal(err)
		}
	}
}
