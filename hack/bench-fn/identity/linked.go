//go:build linked

// Built with -tags linked, the identity links the engine in and never
// calls it: a reference point for the benchmark (krm-identity-linked-fn).
// Linking the engine brings its dependencies (Kubernetes' core/v1 types and
// apimachinery, sprig) and runs their package initializers at every start;
// that binary pays exactly that and nothing else, so the benchmark can tell
// the price of the dependencies from the price of injecting. It is not the
// contract's floor: no template can run in it, so the linker drops the
// methods a running text/template would need (see contract.go).

package main

import _ "github.com/sidecar-injector/sidecar-injector/engine"
