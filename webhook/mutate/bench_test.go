package mutate

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
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
	req := readRequest(b, "../loadgen/testdata/bench-review.json")
	if r := h.Handle(context.Background(), req); !r.Allowed || len(r.AuditAnnotations) == 0 || len(r.Patch) == 0 {
		b.Fatalf("the benchmark review must be injected: %+v", r.Result)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Handle(context.Background(), req)
	}
}

// BenchmarkServe is the handler behind the HTTP adapter, as the server runs
// it, minus TLS and the network: the AdmissionReview read from the body and
// decoded, Handle, the answer encoded and written. Compare with
// BenchmarkServeNoop, the same adapter admitting everything unchanged (the
// load run's floor).
func BenchmarkServe(b *testing.B) {
	inj, err := engine.LoadFiles(filepath.Join(compat, "sidecarconfigs.yaml"), "../../engine/testdata/bench/mutations.yaml")
	if err != nil {
		b.Fatal(err)
	}
	benchmarkServe(b, &Handler{Injector: func() Injector { return inj }})
}

func BenchmarkServeNoop(b *testing.B) {
	benchmarkServe(b, admission.HandlerFunc(func(context.Context, *admission.Request) admission.Response { return admission.Allowed() }))
}

func benchmarkServe(b *testing.B, h admission.Handler) {
	review, err := os.ReadFile("../loadgen/testdata/bench-review.json")
	if err != nil {
		b.Fatal(err)
	}
	wh := &admission.Webhook{Handler: h}
	w := &discardResponse{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/mutate", bytes.NewReader(review))
		r.Header.Set("Content-Type", "application/json")
		clear(w.header)
		wh.ServeHTTP(w, r)
	}
}

// discardResponse is a ResponseWriter that keeps nothing, so that the
// benchmark measures the adapter, not a recorder.
type discardResponse struct{ header http.Header }

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardResponse) WriteHeader(int)             {}
