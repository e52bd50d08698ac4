package engine_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

// benchPod is the realistic pod of the old injector's AdmissionReview,
// triggering both benchmark mutations.
func benchPod(b *testing.B) []byte {
	b.Helper()
	var review struct {
		Request struct {
			Object map[string]any `json:"object"`
		} `json:"request"`
	}
	readJSON(b, filepath.Join(compat, "admissionreview.json"), &review)
	meta := review.Request.Object["metadata"].(map[string]any)
	annotations := meta["annotations"].(map[string]any)
	delete(annotations, "madkub.k8s-integration.sfdc.com/inject")
	annotations["vault.k8s-integration.sfdc.com/inject"] = "true"
	annotations["vault.k8s-integration.sfdc.com/role"] = "keymaker-reader"
	out, err := json.Marshal(review.Request.Object)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkInject is the engine's cost per pod: a realistic pod already
// held as a resource node, two mutations, templated sidecars that read the
// pod. Compare with BenchmarkJSONRoundTrip, the least any injector does.
func BenchmarkInject(b *testing.B) {
	inj, err := engine.LoadFiles(filepath.Join(compat, "sidecarconfigs.yaml"), "testdata/bench/mutations.yaml")
	if err != nil {
		b.Fatal(err)
	}
	pod, err := yaml.ConvertJSONToYamlNode(string(benchPod(b)))
	if err != nil {
		b.Fatal(err)
	}
	if rep := inj.Inject(pod.Copy(), engine.Options{Namespace: "keymaker"}); len(rep.Injected) != 2 || rep.Err() != nil {
		b.Fatalf("the benchmark pod must get both mutations: %+v", rep)
	}
	// Each iteration needs a pod not yet injected. Copies are made with the
	// clock stopped, a batch at a time: stopping it for every pod costs
	// more than injecting (it reads the memory statistics), and copies made
	// all up front would leave a heap of b.N pods for the collector to scan
	// inside the measurement.
	const batch = 256
	pods := make([]*yaml.RNode, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			for k := range pods {
				pods[k] = pod.Copy()
			}
			b.StartTimer()
		}
		inj.Inject(pods[i%batch], engine.Options{Namespace: "keymaker"})
	}
}

// BenchmarkJSONRoundTrip is the floor: the same pod's JSON decoded into
// map[string]any with encoding/json and encoded back.
func BenchmarkJSONRoundTrip(b *testing.B) {
	data := benchPod(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}
