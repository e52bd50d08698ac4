package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOnePod is the in-process cost of one KRM run over one pod
// (config load, injection, I/O): the part of the startup tax that is ours
// rather than the process's. `make bench` measures whole processes.
func BenchmarkOnePod(b *testing.B) {
	input, err := os.ReadFile(filepath.Join("testdata", "golden", "krm-configmap-form", "stdin.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if code := Run(nil, bytes.NewReader(input), io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
