package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/fn/function"
)

// printExplanation writes what the engine decided for one resource, a line
// per mutation (--explain):
//
//	apps/v1 Deployment shop/web (web.yaml):
//	  mutation "logging": injected: annotation "logging.example.com/inject" is "true"; added containers [log-shipper]
//	  mutation "egress": not injected: no annotation "egress.example.com/inject"
func printExplanation(w io.Writer, name string, r *engine.Report) {
	if !r.Workload && len(r.Errors) == 0 {
		fmt.Fprintf(w, "%s: no pod template, passed through\n", name)
		return
	}
	fmt.Fprintf(w, "%s:\n", name)
	printDecisions(w, r)
}

func printDecisions(w io.Writer, r *engine.Report) {
	for _, d := range r.Decisions {
		line := fmt.Sprintf("  mutation %q: %s: %s", d.Mutation, d.Outcome, d.Reason)
		for _, in := range r.Injected {
			if in.Mutation == d.Mutation && d.Outcome == engine.OutcomeInjected {
				if added := function.Added(in); added != "" {
					line += "; added " + added
				}
			}
		}
		fmt.Fprintln(w, line)
	}
	for _, err := range r.Errors {
		if len(r.Decisions) == 0 { // not about one mutation: the engine's own failure
			fmt.Fprintf(w, "  error: %v\n", err)
		}
	}
}

// printChange writes what injecting would change in one resource
// (--check): the decisions, then a unified diff of its YAML.
func printChange(w io.Writer, name string, r *engine.Report, before, after string) {
	fmt.Fprintf(w, "%s would change:\n", name)
	printDecisions(w, r)
	diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(before), B: difflib.SplitLines(after),
		FromFile: "now", ToFile: "injected", Context: 3,
	})
	fmt.Fprint(w, indent(diff))
}

func indent(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "")
}
