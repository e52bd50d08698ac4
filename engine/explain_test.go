package engine_test

import (
	"fmt"
	"slices"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// TestExplainChangesNothing: asking for decisions gives the same resource
// and report, and a workload gets one decision per mutation, in config
// order, saying what the report says.
func TestExplainChangesNothing(t *testing.T) {
	forEachGoldenCase(t, func(t *testing.T, c goldencase.Case, inj *engine.Injector) {
		var mutations []string
		for _, m := range inj.Mutations() {
			mutations = append(mutations, m.Name)
		}
		plain, err := c.Documents()
		if err != nil {
			t.Fatal(err)
		}
		explained, _ := c.Documents()
		for i := range plain {
			opts := engine.Options{Namespace: c.Namespace, Upgrade: c.Upgrade}
			want := inj.Inject(yaml.NewRNode(plain[i]), opts)
			opts.Explain = true
			got := inj.Inject(yaml.NewRNode(explained[i]), opts)
			if a, b := yaml.NewRNode(plain[i]).MustString(), yaml.NewRNode(explained[i]).MustString(); a != b {
				t.Errorf("document %d: Explain changed the output:\n%s\nwant:\n%s", i+1, b, a)
			}
			if len(got.Injected) != len(want.Injected) || len(got.Warnings) != len(want.Warnings) || len(got.Errors) != len(want.Errors) {
				t.Errorf("document %d: Explain changed the report: %+v, want %+v", i+1, got, want)
			}
			if !got.Workload {
				if len(got.Decisions) > 0 {
					t.Errorf("document %d: decisions for a resource that is no workload: %+v", i+1, got.Decisions)
				}
				continue
			}
			var decided []string
			for _, d := range got.Decisions {
				decided = append(decided, d.Mutation)
				injected := slices.ContainsFunc(got.Injected, func(in engine.Injection) bool { return in.Mutation == d.Mutation })
				if injected != (d.Outcome == engine.OutcomeInjected) || d.Reason == "" {
					t.Errorf("document %d: decision %+v, while the report's injections are %+v", i+1, d, got.Injected)
				}
			}
			if fmt.Sprint(decided) != fmt.Sprint(mutations) {
				t.Errorf("document %d: decisions for %v, want one for each of %v", i+1, decided, mutations)
			}
		}
	})
}
