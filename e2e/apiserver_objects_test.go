package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sidecar-injector/sidecar-injector/e2e/cluster"
)

// Workloads as manifests (kyaml nodes from kustomize, kpt or the function)
// turned into API objects, and the pods their controllers would create.

// resources maps the kinds the tests create to their API resources.
var resources = map[string]schema.GroupVersionResource{
	"Pod":         {Version: "v1", Resource: "pods"},
	"Service":     {Version: "v1", Resource: "services"},
	"Deployment":  {Group: "apps", Version: "v1", Resource: "deployments"},
	"StatefulSet": {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"DaemonSet":   {Group: "apps", Version: "v1", Resource: "daemonsets"},
	"ReplicaSet":  {Group: "apps", Version: "v1", Resource: "replicasets"},
	"Job":         {Group: "batch", Version: "v1", Resource: "jobs"},
	"CronJob":     {Group: "batch", Version: "v1", Resource: "cronjobs"},
}

// toObject converts a manifest to an unstructured object.
func toObject(t *testing.T, n *kyaml.RNode) *unstructured.Unstructured {
	t.Helper()
	text, err := n.String()
	if err != nil {
		t.Fatal(err)
	}
	data, err := sigsyaml.YAMLToJSON([]byte(text))
	if err != nil {
		t.Fatalf("%s/%s: %v", n.GetKind(), n.GetName(), err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		t.Fatalf("%s/%s: %v", n.GetKind(), n.GetName(), err)
	}
	return obj
}

// createObject creates obj in namespace through the dynamic client, with
// strict field validation: a field the API server does not know fails the
// request instead of being dropped.
func createObject(t *testing.T, c *cluster.Cluster, namespace string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	t.Helper()
	stored, _, err := createWithWarnings(t, c, namespace, obj)
	return stored, err
}

// controllerPod is a pod a workload's controller would create, named for
// the test's messages.
type controllerPod struct {
	from string // e.g. "CronJob/report"
	pod  *unstructured.Unstructured
}

// podsOf returns the pod a workload's controller would create from its pod
// template (for a Pod, the Pod itself), with the additions the controller
// makes that validation depends on: a StatefulSet's pod gets a volume per
// volume claim template. The pod has no name but a generateName, as a
// controller's pod when admission sees it (a Pod is given one too, so that
// a test can create it more than once).
func podsOf(t *testing.T, obj *unstructured.Unstructured) []controllerPod {
	t.Helper()
	from := obj.GetKind() + "/" + obj.GetName()
	var path []string
	switch obj.GetKind() {
	case "Pod":
		p := obj.DeepCopy()
		p.SetGenerateName(p.GetName() + "-")
		p.SetName("")
		p.SetNamespace("") // the test's
		return []controllerPod{{from: from, pod: p}}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template"}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		path = []string{"spec", "template"}
	default:
		return nil
	}
	tmpl, found, err := unstructured.NestedMap(obj.Object, path...)
	if err != nil || !found {
		t.Fatalf("%s: no pod template at %s (%v)", from, strings.Join(path, "."), err)
	}
	pod := podFromTemplate(tmpl, strings.ToLower(obj.GetName())+"-")
	if obj.GetKind() == "StatefulSet" {
		// The controller puts a volume per claim first, then the
		// template's volumes.
		claims, _, _ := unstructured.NestedSlice(obj.Object, "spec", "volumeClaimTemplates")
		var vols []any
		for _, c := range claims {
			name, _, _ := unstructured.NestedString(c.(map[string]any), "metadata", "name")
			vols = append(vols, map[string]any{"name": name, "persistentVolumeClaim": map[string]any{
				"claimName": fmt.Sprintf("%s-%s-0", name, obj.GetName()),
			}})
		}
		own, _, _ := unstructured.NestedSlice(pod.Object, "spec", "volumes")
		if err := unstructured.SetNestedSlice(pod.Object, append(vols, own...), "spec", "volumes"); err != nil {
			t.Fatal(err)
		}
	}
	return []controllerPod{{from: from, pod: pod}}
}

// podFromTemplate makes a Pod of a pod template (metadata and spec).
func podFromTemplate(tmpl map[string]any, generateName string) *unstructured.Unstructured {
	tmpl = runtime.DeepCopyJSON(tmpl)
	meta, _ := tmpl["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	delete(meta, "name")
	delete(meta, "creationTimestamp")
	meta["generateName"] = generateName
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata":   meta,
		"spec":       tmpl["spec"],
	}}
}

// typedPod converts an unstructured Pod.
func typedPod(t *testing.T, obj *unstructured.Unstructured) *corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &pod); err != nil {
		t.Fatalf("%s: %v", obj.GetName(), err)
	}
	return &pod
}

// routeObject labels a Pod for the webhook of route.
func routeObject(pod *unstructured.Unstructured, route string) *unstructured.Unstructured {
	p := pod.DeepCopy()
	if p.Object["metadata"] == nil {
		// An empty `metadata:` in a manifest, which the API server stores
		// as an empty mapping: SetLabels would silently set nothing on it.
		p.Object["metadata"] = map[string]any{}
	}
	labels := p.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[routeLabel] = route
	p.SetLabels(labels)
	return p
}

// toJSON is for messages.
func toJSON(v any) string {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
