package engine

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/suggest"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// Outcome is what one mutation did with one workload.
type Outcome string

const (
	// OutcomeInjected: the mutation added its sidecars in this call, or
	// replaced what an older config had injected (Options.Upgrade).
	OutcomeInjected Outcome = "injected"
	// OutcomeCurrent: the mutation applies and the pod has what it injects
	// already: injected before, from the same config, or the pod's own.
	OutcomeCurrent Outcome = "current"
	// OutcomeNotInjected: the mutation does not apply to the pod.
	OutcomeNotInjected Outcome = "not injected"
	// OutcomeSkipped: the mutation failed under failurePolicy Ignore and
	// was left out; the others applied.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeFailed: the mutation failed under failurePolicy Fail, so the
	// resource is left unchanged.
	OutcomeFailed Outcome = "failed"
)

// Decision says what one mutation did with one workload and why, for the
// person asking why a pod has, or has not, a sidecar
// (`sidecar-injector-fn --explain`).
type Decision struct {
	Mutation string
	Outcome  Outcome
	// Reason is a sentence: `annotation "logging.example.com/inject" is
	// "true"`, `namespace "kube-system" is ignored`, ...
	Reason string
}

// decide records mutation m's decision when the caller asked for them
// (Options.Explain). A later decision for m replaces the earlier one and
// adds its reason to the earlier reason (why it applies, then what came of
// it).
func (r *Report) decide(m string, outcome Outcome, reason string) {
	if !r.explaining() {
		return
	}
	for i := range r.Decisions {
		if d := &r.Decisions[i]; d.Mutation == m {
			d.Outcome = outcome
			if reason != "" {
				d.Reason += "; " + reason
			}
			return
		}
	}
	r.Decisions = append(r.Decisions, Decision{Mutation: m, Outcome: outcome, Reason: reason})
}

// explaining reports whether the caller asked for decisions
// (Options.Explain): Inject then starts Decisions as an empty slice, not nil.
func (r *Report) explaining() bool { return r.Decisions != nil }

// notTriggered records why mutation m does not apply; when the pod carries
// a key one edit away from the trigger's, where m reads it (annotations,
// and labels with labelTrigger), the reason asks whether it was meant.
func (r *Report) notTriggered(m *model.Mutation, meta *yaml.Node, reason string) {
	var near []string
	for _, field := range triggerFields(m.LabelTrigger) {
		keys := yamlnode.Field(meta, field)
		if keys == nil || keys.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(keys.Content); i += 2 {
			if k := keys.Content[i].Value; k != m.TriggerKey() && suggest.OneEdit(k, m.TriggerKey()) {
				near = append(near, fmt.Sprintf("%s %q", strings.TrimSuffix(field, "s"), k))
			}
		}
	}
	if len(near) > 0 {
		reason += fmt.Sprintf(" (the pod has %s: did you mean %q?)", strings.Join(near, " and "), m.TriggerKey())
	}
	r.decide(m.Name, OutcomeNotInjected, reason)
}
