// Package function adapts a KRM ResourceList to the sidecar injection engine.
//
// It holds no injection logic: it turns the ResourceList's functionConfig
// into an engine config source, hands every item to
// [engine.Injector.Inject], and turns each [engine.Report] into KRM function
// results (info per injection, warnings, errors). Items are changed in place
// and never added, removed or reordered, so every resource the orchestrator
// sent comes back, the Kptfile and the orchestrators' annotations included.
//
// [Process] plugs into kyaml's fn/framework as a
// framework.ResourceListProcessorFunc; [InjectOne] and
// [ReportResults] are the same step, one resource at a time, for callers
// that loaded the configuration themselves (the standalone mode).
//
// Nothing here may touch kyaml's OpenAPI schema (kio/filters.FormatFilter,
// the merge and walk packages, framework's template and schema processors):
// parsing it costs more than a small run and would be paid on every
// `kustomize build`. TestNoOpenAPISchemaParse guards this.
package function
