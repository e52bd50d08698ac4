package jsonnode

import (
	"encoding/json"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The benchmarks use the pod of the admission review fixture, compacted as
// the API server sends it.

func BenchmarkDecode(b *testing.B) {
	_, pod := testPod(b)
	b.SetBytes(int64(len(pod)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(pod); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	_, pod := testPod(b)
	n, err := Decode(pod)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pod)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip is Decode then Marshal: what the webhook pays on top of
// its own work.
func BenchmarkRoundTrip(b *testing.B) {
	_, pod := testPod(b)
	b.SetBytes(int64(len(pod)))
	b.ReportAllocs()
	for b.Loop() {
		n, err := Decode(pod)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Marshal(n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONRoundTripStdlib is the floor: encoding/json into generic Go
// values and back, which keeps neither key order nor positions.
func BenchmarkJSONRoundTripStdlib(b *testing.B) {
	_, pod := testPod(b)
	b.SetBytes(int64(len(pod)))
	b.ReportAllocs()
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(pod, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKyamlParseMarshalJSON is the round trip through YAML text that
// this package replaces.
func BenchmarkKyamlParseMarshalJSON(b *testing.B) {
	_, pod := testPod(b)
	text := string(pod)
	b.SetBytes(int64(len(pod)))
	b.ReportAllocs()
	for b.Loop() {
		n, err := yaml.Parse(text)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := n.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
