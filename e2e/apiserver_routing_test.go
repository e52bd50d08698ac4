package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	sigsyaml "sigs.k8s.io/yaml"
)

// What a webhook configuration may route to the webhook besides pods in
// AdmissionReview v1: reviews in v1beta1 (answered in v1beta1), and
// workloads, whose pod template the webhook injects; the pods of an injected
// template then pass through the webhook unchanged.
func TestAPIServerRouting(t *testing.T) {
	c := apiServer(t)
	ctx := t.Context()
	wh := startWebhook(t, []string{filepath.Join(injectFixtures, "config.yaml")})
	beta, deployments, pods := routeID(t, "v1beta1"), routeID(t, "deployments"), routeID(t, "pods")
	registerWebhooks(t, c, "e2e-"+beta,
		hook{name: "v1beta1.e2e.sidecar-injector.dev", url: wh.URL, caBundle: wh.CABundle, route: beta, reviewVersions: []string{"v1beta1"}},
		hook{name: "deployments.e2e.sidecar-injector.dev", url: wh.URL, caBundle: wh.CABundle, route: deployments, rules: []admissionregistrationv1.RuleWithOperations{createRule("apps", "v1", "deployments")}},
		hook{name: "pods.e2e.sidecar-injector.dev", url: wh.URL, caBundle: wh.CABundle, route: pods},
	)
	ns := c.CreateNamespace(t, "routing", nil)
	triggered := readPod(t, filepath.Join(injectFixtures, "triggered.yaml"))
	waitForInjection(t, c, ns, routed(triggered, beta))

	t.Run("AdmissionReview v1beta1", func(t *testing.T) {
		stored, err := createPod(ctx, c, ns, routed(triggered, beta))
		if err != nil {
			t.Fatalf("create pod: %v", err)
		}
		checkPod(t, stored, []string{"log-spool-init"}, []string{"web", "log-shipper"}, []string{"log-spool"})
		// The webhook's request log names the review's version.
		if logs := wh.Logs(); !strings.Contains(logs, "apiVersion=admission.k8s.io/v1beta1") {
			t.Errorf("the webhook logged no v1beta1 review:\n%s", lastLines(logs, 10))
		}
	})

	t.Run("Deployment", func(t *testing.T) {
		var deploy appsv1.Deployment
		data, err := os.ReadFile(filepath.Join(injectFixtures, "deployment.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := sigsyaml.UnmarshalStrict(data, &deploy); err != nil {
			t.Fatal(err)
		}
		// The configuration selects the Deployment by its own labels.
		deploy.Labels = map[string]string{routeLabel: deployments}
		api := c.Clientset.AppsV1().Deployments(ns)
		injected := func(d *appsv1.Deployment) bool { return d.Spec.Template.Annotations[recordAnnotation] != "" }
		// The new webhook of the configuration is in effect with the
		// others; a dry run shows it.
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			d, err := api.Create(ctx, deploy.DeepCopy(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return err == nil && injected(d), nil
		})
		if err != nil {
			t.Fatalf("the Deployment's template was never injected: %v", err)
		}
		stored, err := api.Create(ctx, deploy.DeepCopy(), metav1.CreateOptions{FieldValidation: "Strict"})
		if err != nil {
			t.Fatalf("create Deployment: %v", err)
		}
		tmpl := stored.Spec.Template
		checkPod(t, &corev1.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec}, []string{"log-spool-init"}, []string{"web", "log-shipper"}, []string{"log-spool"})
		if tmpl.Annotations["logging.example.com/status"] != "injected" {
			t.Errorf("template annotations %v, want the status", tmpl.Annotations)
		}

		// The pod the ReplicaSet would create from it goes through the
		// webhook unchanged.
		pod := routed(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "web-", Labels: tmpl.Labels, Annotations: tmpl.Annotations}, Spec: tmpl.Spec}, pods)
		unchanged := wh.metric(t, "admission_responses_total", `outcome="unchanged"`)
		got, err := createPod(ctx, c, ns, pod)
		if err != nil {
			t.Fatalf("create the Deployment's pod: %v", err)
		}
		if n := wh.metric(t, "admission_responses_total", `outcome="unchanged"`) - unchanged; n != 1 {
			t.Errorf("the webhook left the pod unchanged %v times, want 1", n)
		}
		checkPod(t, got, []string{"log-spool-init"}, []string{"web", "log-shipper"}, []string{"log-spool"})
		if got.Annotations[recordAnnotation] != tmpl.Annotations[recordAnnotation] {
			t.Errorf("record %q, the template's is %q", got.Annotations[recordAnnotation], tmpl.Annotations[recordAnnotation])
		}
	})
}
