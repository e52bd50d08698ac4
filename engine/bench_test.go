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
	// Each iteration needs a pod not yet injected: copies are made before
	// the clock starts.
	pods := make([]*yaml.RNode, b.N)
	for i := range pods {
		pods[i] = pod.Copy()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inj.Inject(pods[i], engine.Options{Namespace: "keymaker"})
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
