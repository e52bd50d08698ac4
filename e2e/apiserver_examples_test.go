package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// The workloads of the kustomize example (examples/kustomize: a
// Deployment, a StatefulSet, a CronJob whose egress proxy is a native
// sidecar, a Pod), as the GitOps repo renders them with the function, pass
// the API server's validation: the workloads themselves (the API server
// validates their pod templates), the pods their controllers would create,
// and a Job made from the CronJob's job template. The same pods written
// without sidecars and injected by the webhook at runtime come out the same.
func TestAPIServerExamplePods(t *testing.T) {
	c := apiServer(t)
	rendered := fnKustomizeBuild(t, "examples/kustomize")
	if rendered.Err != nil {
		t.Fatalf("kustomize build examples/kustomize: %v\n%s", rendered.Err, rendered.Stderr)
	}
	base := fnKustomizeBuild(t, "examples/kustomize/base")
	if base.Err != nil {
		t.Fatalf("kustomize build examples/kustomize/base: %v\n%s", base.Err, base.Stderr)
	}
	wh := startWebhook(t, []string{filepath.Join(fnRepoRoot(t), "examples", "kustomize", "sidecar-injector.yaml")})
	route := routeID(t, "examples")
	registerWebhooks(t, c, "e2e-"+route, hook{name: "examples.e2e.sidecar-injector.dev", url: wh.URL, caBundle: wh.CABundle, route: route})
	// A fresh namespace stands in for the example's shop: none of its
	// sidecars depends on the namespace.
	ns := c.CreateNamespace(t, "examples", nil)
	uninjected := fnIndex(t, fnParse(t, base.Stdout))
	waitForInjection(t, c, ns, typedPod(t, routeObject(podsOf(t, toObject(t, uninjected["Pod/debug"]))[0].pod, route)))

	// What each workload's pod holds once injected; the CronJob's proxy is a
	// native sidecar (an init container with restartPolicy Always).
	want := map[string]struct {
		initContainers, containers []string
		nativeSidecars             []string
	}{
		"Deployment/web": {[]string{"log-spool-init"}, []string{"web", "log-shipper"}, nil},
		"Deployment/api": {nil, []string{"api"}, nil},
		"StatefulSet/db": {[]string{"log-spool-init"}, []string{"postgres", "log-shipper"}, nil},
		"CronJob/report": {[]string{"egress-proxy"}, []string{"report"}, []string{"egress-proxy"}},
		"Job/report":     {[]string{"egress-proxy"}, []string{"report"}, []string{"egress-proxy"}},
		"Pod/debug":      {[]string{"log-spool-init"}, []string{"shell", "log-shipper"}, nil},
	}
	seen := map[string]bool{}
	for _, n := range withJobOfCronJob(t, fnParse(t, rendered.Stdout)) {
		id := n.GetKind() + "/" + n.GetName()
		t.Run(id, func(t *testing.T) {
			obj := toObject(t, n)
			// A Pod is created below, as every workload's pod is.
			if obj.GetKind() != "Pod" {
				if _, err := createObject(t, c, ns, obj); err != nil {
					t.Fatalf("the API server refused %s as rendered by the function: %v", id, err)
				}
			}
			if obj.GetKind() == "Service" {
				return
			}
			w, ok := want[id]
			if !ok {
				t.Fatalf("no expectation for %s", id)
			}
			seen[id] = true
			for _, cp := range podsOf(t, obj) {
				stored, err := createObject(t, c, ns, cp.pod)
				if err != nil {
					t.Fatalf("the API server refused the pod of %s: %v", cp.from, err)
				}
				offline := typedPod(t, stored)
				checkPod(t, offline, w.initContainers, w.containers, volumeNames(offline.Spec.Volumes))
				checkNativeSidecars(t, offline, w.nativeSidecars)

				// The same pod written without sidecars, injected at
				// runtime by the webhook.
				srcID := id
				if obj.GetKind() == "Job" {
					srcID = "CronJob/" + obj.GetName() // made from the CronJob
				}
				src, ok := uninjected[srcID]
				if !ok {
					t.Fatalf("%s is not in the base", srcID)
				}
				srcObj := toObject(t, src)
				if obj.GetKind() == "Job" {
					srcObj = jobOfCronJob(t, srcObj)
				}
				runtimePod := routeObject(podsOf(t, srcObj)[0].pod, route)
				stored, err = createObject(t, c, ns, runtimePod)
				if err != nil {
					t.Fatalf("the API server refused the uninjected pod of %s sent through the webhook: %v", cp.from, err)
				}
				if d := podDiff(offline, typedPod(t, stored)); d != "" {
					t.Errorf("%s: the pod injected by the function (-) and by the webhook (+) differ:\n%s", cp.from, d)
				}
			}
		})
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("the example no longer renders %s", id)
		}
	}
}

// withJobOfCronJob appends, for each CronJob, the Job its controller would
// create from its job template (named as the CronJob).
func withJobOfCronJob(t *testing.T, nodes []*kyaml.RNode) []*kyaml.RNode {
	t.Helper()
	out := slices.Clone(nodes)
	for _, n := range nodes {
		if n.GetKind() != "CronJob" {
			continue
		}
		job := jobOfCronJob(t, toObject(t, n))
		data, err := job.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		jn, err := kyaml.Parse(string(data))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, jn)
	}
	return out
}

// jobOfCronJob is the Job a CronJob's controller creates.
func jobOfCronJob(t *testing.T, cronJob *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	spec, found, err := unstructured.NestedMap(cronJob.Object, "spec", "jobTemplate", "spec")
	if err != nil || !found {
		t.Fatalf("CronJob/%s: no spec.jobTemplate.spec (%v)", cronJob.GetName(), err)
	}
	job := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   map[string]any{"name": cronJob.GetName()},
		"spec":       spec,
	}}
	return job
}

// checkNativeSidecars checks that exactly the named init containers have
// restartPolicy Always.
func checkNativeSidecars(t *testing.T, pod *corev1.Pod, want []string) {
	t.Helper()
	var got []string
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			got = append(got, c.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("native sidecars (init containers with restartPolicy Always) = %v, want %v", got, want)
	}
}

// podDiff compares two stored pods as the injector sees them: labels (less
// the test's routing label), annotations and the spec, in their JSON form.
// It returns "" when they are equal.
func podDiff(a, b *corev1.Pod) string {
	return cmp.Diff(comparablePod(a), comparablePod(b))
}

func comparablePod(p *corev1.Pod) map[string]any {
	labels := map[string]string{}
	for k, v := range p.Labels {
		if k != routeLabel {
			labels[k] = v
		}
	}
	// The JSON form: what the API server stores, without Go's zero values.
	var spec map[string]any
	data, err := json.Marshal(p.Spec)
	if err == nil {
		err = json.Unmarshal(data, &spec)
	}
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{
		"labels":      labels,
		"annotations": p.Annotations,
		"spec":        spec,
	}
}
