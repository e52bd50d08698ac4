package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// GitOps, then runtime: kpt renders the example package (its Kptfile runs
// the function), the workloads go to the API server, and the pods their
// controllers create reach the webhook, with the same config, already
// injected. The webhook leaves them as they are: no second copy of any
// sidecar, the record as the function wrote it.
func TestGitOpsKptThenWebhook(t *testing.T) {
	c := apiServer(t)
	pkg := fnKptPackage(t)
	fnMustKpt(t, pkg, "fn", "render", "--allow-exec", filepath.Base(pkg))

	wh := startWebhook(t, []string{filepath.Join(pkg, "sidecar-injector.yaml")})
	route := routeID(t, "gitops")
	registerWebhooks(t, c, "e2e-"+route, hook{name: "gitops.e2e.sidecar-injector.dev", url: wh.URL, caBundle: wh.CABundle, route: route, reinvoke: true})
	// A fresh namespace stands in for the package's shop (the sidecars do
	// not depend on it), so that the test can run again on the same server.
	ns := c.CreateNamespace(t, "gitops", nil)
	// The webhook is in effect once it injects the package's web pod as
	// written before rendering.
	source := fnIndex(t, fnParse(t, readText(t, filepath.Join(fnRepoRoot(t), "examples", "kpt", "web-deployment.yaml"))))
	waitForInjection(t, c, ns, typedPod(t, routeObject(podsOf(t, toObject(t, source["Deployment/web"]))[0].pod, route)))

	cases := []struct {
		file, id                   string
		initContainers, containers []string
	}{
		{"web-deployment.yaml", "Deployment/web", nil, []string{"web", "log-shipper"}},
		{"report-cronjob.yaml", "CronJob/report", []string{"egress-proxy"}, []string{"report"}},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			rendered := fnIndex(t, fnParse(t, readText(t, filepath.Join(pkg, tc.file))))[tc.id]
			if rendered == nil {
				t.Fatalf("%s is not in the rendered %s", tc.id, tc.file)
			}
			workload := toObject(t, rendered)
			if _, err := createObject(t, c, ns, workload); err != nil {
				t.Fatalf("the API server refused %s as kpt rendered it: %v", tc.id, err)
			}
			pod := podsOf(t, workload)[0].pod
			renderedPod := typedPod(t, pod)
			if renderedPod.Annotations[recordAnnotation] == "" {
				t.Fatalf("kpt did not inject %s (annotations %v)", tc.id, renderedPod.Annotations)
			}

			// The pod with the webhook in the way ...
			admissions := wh.admissions(t)
			unchanged := wh.metric(t, "admission_responses_total", `outcome="unchanged"`)
			stored, err := createObject(t, c, ns, routeObject(pod, route))
			if err != nil {
				t.Fatalf("create the pod of %s: %v", tc.id, err)
			}
			got := typedPod(t, stored)
			if n := wh.admissions(t) - admissions; n != 1 {
				t.Errorf("the webhook answered %d admission requests for the pod, want 1", n)
			}
			if n := wh.metric(t, "admission_responses_total", `outcome="unchanged"`) - unchanged; n != 1 {
				t.Errorf("the webhook left the pod unchanged %v times, want 1", n)
			}
			// ... is the pod kpt rendered: each sidecar once, the record as
			// the function wrote it,
			checkPod(t, got, tc.initContainers, tc.containers, volumeNames(renderedPod.Spec.Volumes))
			if got.Annotations[recordAnnotation] != renderedPod.Annotations[recordAnnotation] {
				t.Errorf("record annotation changed:\n  rendered %s\n  stored   %s", renderedPod.Annotations[recordAnnotation], got.Annotations[recordAnnotation])
			}
			if !slices.Equal(names(got.Spec.Containers), names(renderedPod.Spec.Containers)) ||
				!slices.Equal(names(got.Spec.InitContainers), names(renderedPod.Spec.InitContainers)) {
				t.Errorf("containers %v and init containers %v, kpt rendered %v and %v",
					names(got.Spec.Containers), names(got.Spec.InitContainers), names(renderedPod.Spec.Containers), names(renderedPod.Spec.InitContainers))
			}
			// ... and, field for field, the same pod created with no webhook.
			bare, err := createObject(t, c, ns, pod)
			if err != nil {
				t.Fatalf("create the pod of %s without the webhook: %v", tc.id, err)
			}
			if d := podDiff(typedPod(t, bare), got); d != "" {
				t.Errorf("the webhook changed the rendered pod (-without, +with the webhook):\n%s", d)
			}
		})
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
