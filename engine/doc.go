// Package engine injects sidecars into Kubernetes workloads held as kyaml
// resource nodes.
//
// It is the one place where injection logic lives. The KRM function (fn/)
// and the admission webhook (webhook/) are thin adapters: they translate
// their wire formats (a ResourceList, an AdmissionReview) into calls of
// [Injector.Inject] and turn the returned [Report] into function results or
// an admission response. The engine knows nothing of HTTP, AdmissionReview
// or ResourceList.
//
// A typical caller loads the configuration once and injects many times:
//
//	inj, err := engine.LoadFiles("sidecars.yaml", "mutations.yaml")
//	if err != nil { ... } // every problem of every file, with file and line
//	report := inj.Inject(resource, engine.Options{Namespace: "team-a"})
//	if err := report.Err(); err != nil { ... } // resource left unchanged
//
// An Injector is immutable and safe for concurrent use.
package engine
