package engine

import (
	"fmt"
	"slices"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
)

// PodMeta is what a mutation's trigger reads of a pod. Annotation and Label
// answer one key each, so that a caller reads them from whatever it holds:
// the engine from the pod's nodes, the webhook from a request's metadata
// before it decodes the pod. A nil function reads as a pod without that key.
type PodMeta struct {
	Annotation func(key string) (string, bool)
	Label      func(key string) (string, bool)
	// Namespace the pod runs in, "" when unknown: no namespace is ignored then.
	Namespace string
}

// Trigger is the verdict of one mutation's trigger on one pod.
type Trigger struct {
	Applies bool
	// Reason says why, for a person: `annotation "x/inject" is "true"`,
	// `injected by default`, `namespace "kube-system" is ignored`, ...
	Reason string
	// Warning, when set, is a trigger that cannot be what the user meant:
	// a value that is none of true, enabled, false, disabled, or a label
	// the mutation does not read.
	Warning string
}

// Trigger evaluates mutation m's trigger on a pod.
//
// The key <annotationNamespace>/<annotationTrigger> is read from the pod's
// annotations and, with labelTrigger, from its labels. An opt-out (false,
// disabled) wherever it is read wins over everything, inject-by-default
// included; then a value that reads as neither injects nothing (a typo of
// "false" must not inject); then an opt-in (true, enabled) injects; a pod
// that says nothing gets the mutation only when it injects by default.
// Ignored namespaces are never injected.
func (in *Injector) Trigger(m *v1alpha1.Mutation, pod PodMeta) Trigger {
	key := m.TriggerKey()
	type value struct{ where, v string }
	var values []value
	if v, ok := lookup(pod.Annotation, key); ok {
		values = append(values, value{"annotation", v})
	}
	label, hasLabel := lookup(pod.Label, key)
	if hasLabel && m.LabelTrigger {
		values = append(values, value{"label", label})
	}

	var t Trigger
	var on, unknown *value
	for i, v := range values {
		switch v.v {
		case "false", "disabled":
			return Trigger{Reason: fmt.Sprintf("%s %q is %q", v.where, key, v.v)}
		case "true", "enabled":
			on = &values[i]
		default:
			unknown = &values[i]
		}
	}
	switch {
	case unknown != nil:
		t.Reason = fmt.Sprintf("%s %q has value %q", unknown.where, key, unknown.v)
		t.Warning = t.Reason + `: use "true" or "enabled" to inject, "false" or "disabled" not to; nothing injected`
		return t
	case on != nil:
		t.Applies, t.Reason = true, fmt.Sprintf("%s %q is %q", on.where, key, on.v)
	case m.InjectByDefault:
		t.Applies, t.Reason = true, "injected by default"
	case m.LabelTrigger:
		t.Reason = fmt.Sprintf("no annotation or label %q", key)
	default:
		t.Reason = fmt.Sprintf("no annotation %q", key)
	}
	if hasLabel && !m.LabelTrigger && len(values) == 0 {
		t.Warning = fmt.Sprintf("label %q is ignored: this mutation reads its trigger from annotations only (set labelTrigger: true on it to read labels too)", key)
	}
	if t.Applies && pod.Namespace != "" {
		switch {
		case slices.Contains(m.IgnoreNamespaces, pod.Namespace):
			t.Applies, t.Reason = false, fmt.Sprintf("namespace %q is in the mutation's ignoreNamespaces", pod.Namespace)
		case slices.Contains(in.cfg.IgnoreNamespaces, pod.Namespace):
			t.Applies, t.Reason = false, fmt.Sprintf("namespace %q is in the injector's ignoreNamespaces", pod.Namespace)
		}
	}
	return t
}

func lookup(get func(string) (string, bool), key string) (string, bool) {
	if get == nil {
		return "", false
	}
	return get(key)
}

// triggerFields are the fields of a pod's metadata that a mutation reads its
// trigger from.
func triggerFields(labelTrigger bool) []string {
	if labelTrigger {
		return []string{"annotations", "labels"}
	}
	return []string{"annotations"}
}
