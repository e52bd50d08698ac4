package cluster_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sidecar-injector/sidecar-injector/e2e/cluster"
	"github.com/sidecar-injector/sidecar-injector/internal/testcert"
)

// The API server the harness starts is the pinned release, it stores what
// it is given, and it calls a mutating webhook served over the loopback.
func TestCluster(t *testing.T) {
	c := cluster.Start(t)
	ctx := t.Context()

	t.Run("version", func(t *testing.T) {
		v, err := c.Clientset.Discovery().ServerVersion()
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(v)
		t.Logf("/version: %s", js)
		if v.GitVersion != "v1.37.2" || v.Major != "1" || v.Minor != "37" {
			t.Errorf("/version = %s, want v1.37.2 (major 1, minor 37)", js)
		}
	})

	t.Run("namespace and pod", func(t *testing.T) {
		ns := c.CreateNamespace(t, "harness", nil)
		if _, err := c.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Fatalf("get namespace %s: %v", ns, err)
		}
		pods := c.Clientset.CoreV1().Pods(ns)
		if _, err := pods.Create(ctx, testPod("app"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod: %v", err)
		}
		got, err := pods.Get(ctx, "app", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get pod: %v", err)
		}
		if len(got.Spec.Containers) != 1 || got.Spec.Containers[0].Image != "registry.invalid/app:1" {
			t.Errorf("stored pod containers = %+v", got.Spec.Containers)
		}
	})

	t.Run("kubectl", func(t *testing.T) {
		out, err := c.Kubectl(t, "get", "namespace", "default", "-o", "name").CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl: %v\n%s", err, out)
		}
		if strings.TrimSpace(string(out)) != "namespace/default" {
			t.Errorf("kubectl get namespace default = %q", out)
		}
	})

	t.Run("mutating webhook over loopback TLS", func(t *testing.T) {
		testLoopbackWebhook(t, c)
	})
}

func testLoopbackWebhook(t *testing.T, c *cluster.Cluster) {
	ctx := t.Context()
	caPEM, serverCert := newServingCert(t)

	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		patch := `[{"op":"add","path":"/metadata/labels","value":{"harness-webhook":"called"}}]`
		pt := admissionv1.PatchTypeJSONPatch
		review.Response = &admissionv1.AdmissionResponse{
			UID: review.Request.UID, Allowed: true, Patch: []byte(patch), PatchType: &pt,
		}
		review.Request = nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// Only pods in this test's namespace go to the webhook.
	ns := c.CreateNamespace(t, "webhook", map[string]string{"harness-webhook": "on"})
	url := srv.URL + "/mutate"
	none := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	timeout := int32(10)
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "harness-" + ns},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "harness.sidecar-injector.dev",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			Rules:                   []admissionregistrationv1.RuleWithOperations{podCreate()},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"harness-webhook": "on"}},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	mwcs := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if _, err := mwcs.Create(ctx, mwc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create MutatingWebhookConfiguration: %v", err)
	}
	t.Cleanup(func() { _ = mwcs.Delete(t.Context(), mwc.Name, metav1.DeleteOptions{}) })

	called := func(p *corev1.Pod) bool { return p.Labels["harness-webhook"] == "called" }
	if _, err := c.WaitForPodMutation(ctx, ns, testPod("probe"), called); err != nil {
		t.Fatalf("the API server never called the webhook at %s: %v (webhook calls: %d)", url, err, calls.Load())
	}
	before := calls.Load()
	pod, err := c.Clientset.CoreV1().Pods(ns).Create(ctx, testPod("app"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}
	if !called(pod) {
		t.Errorf("stored pod labels = %v, want harness-webhook=called", pod.Labels)
	}
	if n := calls.Load() - before; n != 1 {
		t.Errorf("webhook called %d times for one pod, want 1", n)
	}

	// A pod outside the selected namespaces is not sent to the webhook.
	other := c.CreateNamespace(t, "plain", nil)
	before = calls.Load()
	pod, err = c.Clientset.CoreV1().Pods(other).Create(ctx, testPod("app"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod in %s: %v", other, err)
	}
	if called(pod) || calls.Load() != before {
		t.Errorf("pod in an unselected namespace went to the webhook (labels %v)", pod.Labels)
	}
}

func podCreate() admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"},
		},
	}
}

func testPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}},
		},
	}
}

// newServingCert makes a throwaway CA and a certificate it signs for the
// loopback addresses; it returns the CA in PEM (a webhook's caBundle) and
// the serving key pair.
func newServingCert(t *testing.T) (caPEM []byte, cert tls.Certificate) {
	t.Helper()
	files, err := testcert.Write(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err = os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	return caPEM, cert
}
