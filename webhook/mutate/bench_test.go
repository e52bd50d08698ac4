package mutate

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

// BenchmarkHandle is the handler's cost per request on the load
// benchmark's review: JSON to node, copy, the engine's injection, the
// patch and its encoding. Compare with the engine's BenchmarkInject to
// see what the adapter adds.
func BenchmarkHandle(b *testing.B) {
	inj, err := engine.LoadFiles(filepath.Join(compat, "sidecarconfigs.yaml"), "../../engine/testdata/bench/mutations.yaml")
	if err != nil {
		b.Fatal(err)
	}
	h := &Handler{Injector: func() Injector { return inj }}
	t := &testing.T{}
	req := readRequest(t, "../loadgen/testdata/bench-review.json")
	if r := h.Handle(context.Background(), req); !r.Allowed || len(r.AuditAnnotations) == 0 || len(r.Patch) == 0 {
		b.Fatalf("the benchmark review must be injected: %+v", r.Result)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(context.Background(), req)
	}
}
