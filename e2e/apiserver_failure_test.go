package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// The webhook is down: under failurePolicy Fail the API server refuses the
// pod with its own message (it could not call the webhook); under Ignore it
// admits the pod as it came, without sidecars.
func TestAPIServerWebhookDown(t *testing.T) {
	c := apiServer(t)
	ctx := t.Context()
	wh := startWebhook(t, []string{filepath.Join(injectFixtures, "config.yaml")})
	failRoute, ignoreRoute := routeID(t, "down-fail"), routeID(t, "down-ignore")
	const failHook, ignoreHook = "fail.e2e.sidecar-injector.dev", "ignore.e2e.sidecar-injector.dev"
	registerWebhooks(t, c, "e2e-"+failRoute,
		hook{name: failHook, url: wh.URL, caBundle: wh.CABundle, route: failRoute},
		hook{name: ignoreHook, url: wh.URL, caBundle: wh.CABundle, route: ignoreRoute, ignore: true},
	)
	ns := c.CreateNamespace(t, "down", nil)
	pod := readPod(t, filepath.Join(injectFixtures, "triggered.yaml"))
	// Both webhooks inject while the server runs.
	waitForInjection(t, c, ns, routed(pod, failRoute))
	waitForInjection(t, c, ns, routed(pod, ignoreRoute))

	wh.stop(t)

	t.Run("failurePolicy Fail denies", func(t *testing.T) {
		p := routed(pod, failRoute)
		stored, err := createPod(ctx, c, ns, p)
		if err == nil {
			t.Fatalf("pod admitted with containers %v while its webhook is down, want it denied", names(stored.Spec.Containers))
		}
		// The API server's own words: it failed calling the webhook, at
		// its URL, because nothing listens there.
		msg := statusError(err)
		for _, want := range []string{
			`failed calling webhook "` + failHook + `"`,
			wh.URL,
			"connection refused",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("API server's message %q\ndoes not say %q", msg, want)
			}
		}
		if !apierrors.IsInternalError(err) {
			t.Errorf("error reason %q, want InternalError (%v)", apierrors.ReasonForError(err), err)
		}
	})

	t.Run("failurePolicy Ignore admits bare", func(t *testing.T) {
		p := routed(pod, ignoreRoute)
		stored, err := createPod(ctx, c, ns, p)
		if err != nil {
			t.Fatalf("pod denied while its webhook, of failurePolicy Ignore, is down: %v", err)
		}
		checkPod(t, stored, nil, []string{"web"}, nil)
		if _, ok := stored.Annotations[recordAnnotation]; ok {
			t.Errorf("a pod admitted without the webhook carries the record %q", stored.Annotations[recordAnnotation])
		}
		if len(stored.Annotations) != len(p.Annotations) {
			t.Errorf("annotations = %v, want the pod's own %v", stored.Annotations, p.Annotations)
		}
	})
}
