package typednode

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// testPodJSON returns the pod of the admission review fixture, compacted as
// the API server sends it.
func testPodJSON(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile("testdata/admissionreview.json")
	if err != nil {
		tb.Fatal(err)
	}
	var review struct {
		Request struct {
			Object json.RawMessage `json:"object"`
		} `json:"request"`
	}
	if err := json.Unmarshal(data, &review); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, review.Request.Object); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// parse returns the node of a YAML document.
func parse(tb testing.TB, src string) *yaml.Node {
	tb.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		tb.Fatalf("parse: %v\n%s", err, src)
	}
	return &doc
}

// containerFixture decodes testdata/container.yaml, a container that sets
// fields of every kind, strictly.
func containerFixture(t *testing.T) corev1.Container {
	t.Helper()
	src, err := os.ReadFile("testdata/container.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c corev1.Container
	if err := Decode(parse(t, string(src)), &c, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	return c
}
