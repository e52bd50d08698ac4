package mutate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// triggerConfig has a mutation that injects when a pod opts in by label or
// annotation, and one that injects unless the pod opts out.
const triggerConfig = `apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata:
  name: triggers
spec:
  sidecars:
    containers:
    - {name: opted-in, image: example.com/a:1}
    - {name: by-default, image: example.com/b:1}
  mutations:
  - {name: opt-in, annotationNamespace: in.example.com, annotationTrigger: inject, labelTrigger: true, containers: [opted-in]}
  - {name: default, annotationNamespace: default.example.com, annotationTrigger: inject, labelTrigger: true, injectByDefault: true, containers: [by-default]}
`

// TestHostileTriggerValues: whatever a pod's trigger label or annotation
// holds, through the function and the webhook alike, only the exact words
// true and enabled opt in, only the exact words false and disabled opt
// out, an opt-out wins wherever it is, and anything else (case, spaces,
// look-alike letters, control characters, sizes) injects nothing, not even
// a default.
func TestHostileTriggerValues(t *testing.T) {
	values := []string{
		"true", "enabled", "false", "disabled",
		"TRUE", "True", "Enabled", " true", "true ", "true\n", "\ttrue", "tru", "truee", "yes", "1", "on", "",
		"tru\u0435",  // a Cyrillic e
		"true\u200b", // a zero-width space
		"true\x00", "false\x00", "null", "~", `"true"`, "'true'", "[true]", "{true: 1}",
		strings.Repeat("true", 64<<10),
	}
	opt := func(v string) string {
		switch v {
		case "true", "enabled":
			return "in"
		case "false", "disabled":
			return "out"
		}
		return "unreadable"
	}
	for _, v := range values {
		for _, where := range []string{"annotation", "label", "both", "label, with the annotation true"} {
			name := fmt.Sprintf("%s %.20q", where, v)
			pod := &corev1.Pod{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team-a",
					Annotations: map[string]string{}, Labels: map[string]string{}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}},
			}
			for _, key := range []string{"in.example.com/inject", "default.example.com/inject"} {
				switch where {
				case "annotation":
					pod.Annotations[key] = v
				case "label":
					pod.Labels[key] = v
				case "both":
					pod.Annotations[key], pod.Labels[key] = v, v
				default:
					pod.Annotations[key], pod.Labels[key] = "true", v
				}
			}
			want := []string{"app"}
			if opt(v) == "in" {
				want = append(want, "opted-in", "by-default")
			}
			t.Run(name, func(t *testing.T) {
				for _, fe := range frontEnds {
					got := containerNames(fe.inject(t, triggerConfig, pod))
					if !slices.Equal(got, want) {
						t.Errorf("%s: containers %v, want %v (the value reads as %s)", fe.name, got, want, opt(v))
					}
				}
			})
		}
	}
	t.Run("says nothing", func(t *testing.T) {
		pod := hostilePod(benign)
		for _, fe := range frontEnds {
			if got := containerNames(fe.inject(t, triggerConfig, pod)); !slices.Equal(got, []string{"app", "by-default"}) {
				t.Errorf("%s: containers %v, want [app by-default]", fe.name, got)
			}
		}
	})
}

func containerNames(pod map[string]any) []string {
	spec, _ := pod["spec"].(map[string]any)
	list, _ := spec["containers"].([]any)
	var names []string
	for _, c := range list {
		m, _ := c.(map[string]any)
		names = append(names, fmt.Sprint(m["name"]))
	}
	return names
}
