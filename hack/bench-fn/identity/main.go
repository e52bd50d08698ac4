// Command krm-identity-fn is the floor of the function benchmark: a KRM
// function on kyaml's framework that reads a ResourceList and writes it back
// unchanged. It does the same I/O as sidecar-injector-fn (kio reader and
// writer, buffered stdout) and nothing else, so the ratio of the two shows
// what injection itself costs.
package main

import (
	"bufio"
	"fmt"
	"os"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
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
