// Command krm-identity-linked-fn is the identity KRM function with the
// engine linked in and never called: a reference point for the benchmark.
// Linking the engine brings its dependencies (Kubernetes' core/v1 types and
// apimachinery, sprig) and runs their package initializers at every start;
// this binary pays exactly that and nothing else, so the benchmark can tell
// the price of the dependencies from the price of injecting. The goal is
// measured against krm-identity-fn, the identity on kyaml alone.
package main

import (
	"bufio"
	"fmt"
	"os"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"

	// Linked for its initializers and size only.
	_ "github.com/sidecar-injector/sidecar-injector/engine"
)

func main() {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	rw := &kio.ByteReadWriter{Reader: os.Stdin, Writer: out, KeepReaderAnnotations: true}
	identity := framework.ResourceListProcessorFunc(func(*framework.ResourceList) error { return nil })
	err := framework.Execute(identity, rw)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
