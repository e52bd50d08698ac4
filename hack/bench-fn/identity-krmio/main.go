// Command krm-identity-krmio-fn is the identity KRM function with
// sidecar-injector-fn's writer (fn/krmio) instead of kyaml's: a reference
// point for the benchmark, which separates what the writer saves from what
// injection costs. The benchmark's goal is measured against
// krm-identity-fn, the identity on kyaml alone.
package main

import (
	"bufio"
	"fmt"
	"os"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/sidecar-injector/sidecar-injector/fn/krmio"
)

func main() {
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	identity := framework.ResourceListProcessorFunc(func(*framework.ResourceList) error { return nil })
	_, err := krmio.Execute(identity, os.Stdin, out)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
