package e2e

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// A second mutating webhook changes the pod after the injector did, so the
// API server calls the injector again (reinvocationPolicy IfNeeded). The
// injector sees its own record and leaves the pod as it is: the sidecars are
// there once, not twice.
func TestAPIServerReinvocation(t *testing.T) {
	c := apiServer(t)
	ctx := t.Context()
	wh := startWebhook(t, []string{filepath.Join(injectFixtures, "config.yaml")})
	labeler := startLabeler(t)
	route := routeID(t, "reinvoke")
	// Webhooks of one configuration are called in their order: the
	// injector first, then the labeler, whose change makes the API server
	// reinvoke the injector.
	registerWebhooks(t, c, "e2e-"+route,
		hook{name: "inject.e2e.sidecar-injector.dev", url: wh.URL, caBundle: wh.CABundle, route: route, reinvoke: true},
		hook{name: "label.e2e.sidecar-injector.dev", url: labeler.url, caBundle: labeler.ca, route: route},
	)
	ns := c.CreateNamespace(t, "reinvoke", nil)
	pod := routed(readPod(t, filepath.Join(injectFixtures, "triggered.yaml")), route)
	waitForInjection(t, c, ns, pod)

	admissions, patched, unchanged := wh.admissions(t), wh.metric(t, "admission_responses_total", `outcome="patched"`), wh.metric(t, "admission_responses_total", `outcome="unchanged"`)
	labelerCalls := labeler.calls.Load()
	stored, err := createPod(ctx, c, ns, pod)
	if err != nil {
		t.Fatalf("create pod: %v", err)
	}

	if got := stored.Labels[labelerLabel]; got != "called" {
		t.Errorf("label %s = %q: the second webhook did not run (labels %v)", labelerLabel, got, stored.Labels)
	}
	if n := labeler.calls.Load() - labelerCalls; n != 1 {
		t.Errorf("the second webhook was called %d times, want 1", n)
	}
	// Called twice: once to inject, once again after the labeler's change.
	if n := wh.admissions(t) - admissions; n != 2 {
		t.Errorf("the injector answered %d admission requests for one pod, want 2 (the call and the reinvocation)", n)
	}
	if n := wh.metric(t, "admission_responses_total", `outcome="patched"`) - patched; n != 1 {
		t.Errorf("the injector patched the pod %v times, want 1", n)
	}
	if n := wh.metric(t, "admission_responses_total", `outcome="unchanged"`) - unchanged; n != 1 {
		t.Errorf("the injector left the pod unchanged %v times, want 1 (the reinvocation)", n)
	}
	// Injected once.
	checkPod(t, stored, []string{"log-spool-init"}, []string{"web", "log-shipper"}, []string{"log-spool"})
	if got := len(stored.Spec.Containers[0].VolumeMounts); got != 1 {
		t.Errorf("the app container has %d volume mounts, want 1: %+v", got, stored.Spec.Containers[0].VolumeMounts)
	}
	var record struct {
		Mutations []struct{ Name string } `json:"mutations"`
	}
	if err := json.Unmarshal([]byte(stored.Annotations[recordAnnotation]), &record); err != nil {
		t.Fatalf("record annotation %q: %v", stored.Annotations[recordAnnotation], err)
	}
	if len(record.Mutations) != 1 || record.Mutations[0].Name != "logging" {
		t.Errorf("record lists %+v, want the logging mutation once", record.Mutations)
	}
}

// labelerLabel is what the second webhook adds.
const labelerLabel = "e2e.sidecar-injector.dev/second-webhook"

// labeler is a minimal mutating webhook served over TLS in the test: it
// adds labelerLabel=called to every pod and counts its calls.
type labeler struct {
	url   string
	ca    []byte
	calls atomic.Int32
}

func startLabeler(t *testing.T) *labeler {
	t.Helper()
	cert := newServingCert(t)
	kp, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	l := &labeler{ca: cert.CAPEM}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.calls.Add(1)
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad AdmissionReview", http.StatusBadRequest)
			return
		}
		// The pods here all carry routeLabel, so /metadata/labels exists.
		patch := `[{"op":"add","path":"/metadata/labels/e2e.sidecar-injector.dev~1second-webhook","value":"called"}]`
		pt := admissionv1.PatchTypeJSONPatch
		review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true, Patch: []byte(patch), PatchType: &pt}
		review.Request = nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	l.url = srv.URL + "/label"
	return l
}
