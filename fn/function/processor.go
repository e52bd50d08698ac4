package function

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

// Process is the KRM function (a framework.ResourceListProcessorFunc): it
// loads the functionConfig, injects every item in place and appends the
// results to rl.Results. It returns the results as an error when any of
// them is an error, so that the process exits non-zero and kpt and
// kustomize stop.
func Process(rl *framework.ResourceList) error {
	src, err := configSource(rl.FunctionConfig)
	var inj *engine.Injector
	if err == nil {
		inj, err = engine.Load(src)
	}
	if err != nil {
		rl.Results = append(rl.Results, ConfigErrorResults(err, rl.FunctionConfig)...)
		return rl.Results
	}
	rl.Results = append(rl.Results, ConfigWarningResults(inj, rl.FunctionConfig)...)
	rl.Results = append(rl.Results, injectItems(inj, rl.Items)...)
	if rl.Results.ExitCode() != 0 {
		return rl.Results
	}
	return nil
}

// injectItems runs the engine over every item, changing the items in
// place, and returns one info result per injected mutation, a warning
// result per engine warning and an error result per engine error. Every
// item is processed even after an error, so that one run reports every
// problem.
func injectItems(inj *engine.Injector, items []*yaml.RNode) framework.Results {
	var results framework.Results
	for _, item := range items {
		report := InjectOne(inj, item, engine.Options{Upgrade: true})
		results = append(results, ReportResults(report, item, fileFromAnnotations(item))...)
	}
	return results
}

// InjectOne calls the engine on one item and turns a panic into an error: a
// bug in the engine must fail the run with the resource named, never crash
// it with a stack trace and a half-written ResourceList. The function runs
// with opts.Upgrade, so that a config change flows through.
func InjectOne(inj *engine.Injector, item *yaml.RNode, opts engine.Options) (report *engine.Report) {
	defer func() {
		if r := recover(); r != nil {
			report = &engine.Report{Errors: []error{
				fmt.Errorf("internal error in the injection engine (please report it): %v", r),
			}}
		}
	}()
	report = inj.Inject(item, opts)
	if report == nil {
		report = &engine.Report{}
	}
	return report
}

// splitErrors undoes errors.Join, so that each problem becomes one result.
func splitErrors(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []error{err}
}
