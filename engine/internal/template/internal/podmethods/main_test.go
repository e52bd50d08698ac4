package main

import (
	"bytes"
	"os"
	"testing"
)

// TestUpToDate keeps pod_methods.go equal to what the generator writes for
// the k8s.io/api version in go.mod.
func TestUpToDate(t *testing.T) {
	have, err := os.ReadFile("../../pod_methods.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, source()) {
		t.Error("engine/internal/template/pod_methods.go is out of date with the pod's Go types: run go generate ./engine/internal/template")
	}
}
