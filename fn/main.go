// Command sidecar-injector-fn is the sidecar injector as a KRM function.
//
// Run without arguments it is a KRM function: a ResourceList on stdin, the
// same ResourceList with sidecars injected (and results) on stdout. This is
// how `kustomize build --enable-alpha-plugins --enable-exec` and
// `kpt fn render --allow-exec` call it.
//
// Run with arguments it is a tool for people:
//
//	sidecar-injector-fn CONFIG [FILE...|-]
//
// prints the injected resources of FILEs (or stdin) and the results on
// stderr. `sidecar-injector-fn --help` says more.
//
// The logic lives in the packages below: [function] adapts a ResourceList to
// the engine, [cli] parses the command line. This file only wires the
// process to them.
package main

import (
	"os"

	"github.com/sidecar-injector/sidecar-injector/fn/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
