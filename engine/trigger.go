package engine

import (
	"fmt"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
)

// verdict is what one mutation's trigger says of one pod.
type verdict struct {
	applies bool
	// reason says why, for a person: `annotation "x/inject" is "true"`,
	// `injected by default`, `namespace "kube-system" is ignored`, ...
	reason string
	// warning, when set, is a trigger that cannot be what the user meant:
	// a value that is none of true, enabled, false, disabled, or a label
	// the mutation does not read.
	warning string
}

// trigger evaluates mutation m's trigger on a pod's metadata (nil reads
// as a pod without annotations or labels) in namespace ("" when unknown:
// no namespace is ignored then).
//
// The key <annotationNamespace>/<annotationTrigger> is read from the pod's
// annotations and, with labelTrigger, from its labels. An opt-out (false,
// disabled) wherever it is read wins over everything, inject-by-default
// included; then a value that reads as neither injects nothing (a typo of
// "false" must not inject); then an opt-in (true, enabled) injects; a pod
// that says nothing gets the mutation only when it injects by default.
// Ignored namespaces are never injected.
func (in *Injector) trigger(m *v1alpha1.Mutation, meta *yaml.Node, namespace string) verdict {
	key := m.TriggerKey()
	type value struct{ where, v string }
	var values []value
	if v, ok := metaValue(meta, "annotations", key); ok {
		values = append(values, value{"annotation", v})
	}
	label, hasLabel := metaValue(meta, "labels", key)
	if hasLabel && m.LabelTrigger {
		values = append(values, value{"label", label})
	}

	var t verdict
	var on, unknown *value
	for i, v := range values {
		switch v.v {
		case "false", "disabled":
			return verdict{reason: fmt.Sprintf("%s %q is %q", v.where, key, v.v)}
		case "true", "enabled":
			on = &values[i]
		default:
			unknown = &values[i]
		}
	}
	switch {
	case unknown != nil:
		t.reason = fmt.Sprintf("%s %q has value %q", unknown.where, key, unknown.v)
		t.warning = t.reason + `: use "true" or "enabled" to inject, "false" or "disabled" not to; nothing injected`
		return t
	case on != nil:
		t.applies, t.reason = true, fmt.Sprintf("%s %q is %q", on.where, key, on.v)
	case m.InjectByDefault:
		t.applies, t.reason = true, "injected by default"
	case m.LabelTrigger:
		t.reason = fmt.Sprintf("no annotation or label %q", key)
	default:
		t.reason = fmt.Sprintf("no annotation %q", key)
	}
	if hasLabel && !m.LabelTrigger && len(values) == 0 {
		t.warning = fmt.Sprintf("label %q is ignored: this mutation reads its trigger from annotations only (set labelTrigger: true on it to read labels too)", key)
	}
	if t.applies && namespace != "" {
		switch {
		case slices.Contains(m.IgnoreNamespaces, namespace):
			t.applies, t.reason = false, fmt.Sprintf("namespace %q is in the mutation's ignoreNamespaces", namespace)
		case slices.Contains(in.cfg.IgnoreNamespaces, namespace):
			t.applies, t.reason = false, fmt.Sprintf("namespace %q is in the injector's ignoreNamespaces", namespace)
		}
	}
	return t
}

// triggerFields are the fields of a pod's metadata that a mutation reads its
// trigger from.
func triggerFields(labelTrigger bool) []string {
	if labelTrigger {
		return []string{"annotations", "labels"}
	}
	return []string{"annotations"}
}
