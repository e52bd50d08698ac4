package e2e

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

const injectFixtures = "testdata/apiserver/inject"

// The API server sends each new pod to the real webhook over TLS and stores
// what it answers: triggered pods with their sidecars, volumes and status,
// everything else as it came. A sidecar whose template fails on the pod
// denies the pod with a message naming the sidecar.
func TestAPIServerInjection(t *testing.T) {
	c := apiServer(t)
	ctx := t.Context()
	wh := startWebhook(t, []string{filepath.Join(injectFixtures, "config.yaml")})
	route := routeID(t, "inject")
	registerWebhooks(t, c, "e2e-"+route, hook{name: "inject.e2e.sidecar-injector.dev", url: wh.URL, caBundle: wh.CABundle, route: route})
	ns := c.CreateNamespace(t, "inject", nil)
	triggered := readPod(t, filepath.Join(injectFixtures, "triggered.yaml"))
	waitForInjection(t, c, ns, routed(triggered, route))

	const status = "logging.example.com/status"
	cases := []struct {
		name      string
		pod       string // fixture file
		namespace string // "" is a fresh namespace
		// what the stored pod has
		initContainers, containers, volumes []string
		annotations                         map[string]string // each must be there with that value
		record                              bool              // the injector's record annotation is there
		// or, when set, the pod is denied with a message holding each of these
		denied []string
	}{{
		name: "triggered pod gets its sidecars", pod: "triggered.yaml",
		initContainers: []string{"log-spool-init"},
		containers:     []string{"web", "log-shipper"},
		volumes:        []string{"log-spool"},
		annotations:    map[string]string{status: "injected"},
		record:         true,
	}, {
		name: "untriggered pod is untouched", pod: "untriggered.yaml",
		containers: []string{"api"},
	}, {
		name: "trigger set to disabled", pod: "disabled.yaml",
		containers: []string{"api"},
	}, {
		name: "triggered pod in an ignored namespace is untouched", pod: "triggered.yaml", namespace: "kube-system",
		containers: []string{"web"},
	}, {
		name: "template that fails on the pod denies it", pod: "vault-without-role.yaml",
		denied: []string{
			`admission webhook "inject.e2e.sidecar-injector.dev" denied the request`,
			`mutation "vault": sidecar "vault-agent"`,
			"config.yaml:28: args[0]: error calling required: the pod needs annotation vault.example.com/role",
		},
	}, {
		name: "the same template given what it requires", pod: "vault-with-role.yaml",
		containers:  []string{"app", "vault-agent"},
		annotations: map[string]string{"vault.example.com/status": "injected"},
		record:      true,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			namespace := tc.namespace
			if namespace == "" {
				namespace = c.CreateNamespace(t, "inject", nil)
			}
			pod := routed(readPod(t, filepath.Join(injectFixtures, tc.pod)), route)
			// Named by the server: the test may run again on the same one.
			pod.GenerateName, pod.Name = pod.Name+"-", ""
			before := wh.admissions(t)
			stored, err := createPod(ctx, c, namespace, pod)
			if n := wh.admissions(t) - before; n != 1 {
				t.Errorf("the webhook answered %d admission requests for one pod, want 1", n)
			}
			if tc.denied != nil {
				if err == nil {
					t.Fatalf("pod admitted with containers %v, want it denied", names(stored.Spec.Containers))
				}
				if !apierrors.IsForbidden(err) {
					t.Errorf("denial is %q (reason %q), want Forbidden", err, apierrors.ReasonForError(err))
				}
				for _, want := range tc.denied {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("denial %q\ndoes not say %q", err, want)
					}
				}
				list, listErr := c.Clientset.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: routeLabel + "=" + route})
				if listErr != nil || len(list.Items) != 0 {
					t.Errorf("a denied pod was stored (list: %v)", listErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("create pod %s in %s: %v", pod.GenerateName, namespace, err)
			}
			// What the API server stored, not just what it answered.
			stored, err = c.Clientset.CoreV1().Pods(namespace).Get(ctx, stored.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkPod(t, stored, tc.initContainers, tc.containers, tc.volumes)
			for k, v := range tc.annotations {
				if got := stored.Annotations[k]; got != v {
					t.Errorf("annotation %s = %q, want %q", k, got, v)
				}
			}
			if tc.annotations == nil && !tc.record {
				// Untouched: the annotations are the fixture's, exactly.
				if !maps.Equal(stored.Annotations, pod.Annotations) {
					t.Errorf("annotations = %v, want the pod's own %v", stored.Annotations, pod.Annotations)
				}
			}
			if got := stored.Annotations[recordAnnotation] != ""; got != tc.record {
				t.Errorf("record annotation present = %v, want %v (annotations %v)", got, tc.record, stored.Annotations)
			}
		})
	}

	// kubectl apply --dry-run=server shows the pod as the webhook makes it
	// and stores nothing.
	t.Run("kubectl apply --dry-run=server", func(t *testing.T) {
		pod := routed(triggered, route)
		pod.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		pod.Name = "dry-run"
		data, err := sigsyaml.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "pod.yaml")
		writeFile(t, file, data)
		out, err := c.Kubectl(t, "apply", "--dry-run=server", "-n", ns, "-o", "json", "-f", file).Output()
		if err != nil {
			t.Fatalf("kubectl apply --dry-run=server: %v\n%s", err, stderrOf(err))
		}
		var shown corev1.Pod
		if err := json.Unmarshal(out, &shown); err != nil {
			t.Fatalf("kubectl output: %v\n%s", err, out)
		}
		checkPod(t, &shown, []string{"log-spool-init"}, []string{"web", "log-shipper"}, []string{"log-spool"})
		if shown.Annotations[status] != "injected" || shown.Annotations[recordAnnotation] == "" {
			t.Errorf("kubectl shows annotations %v, want the status and the record", shown.Annotations)
		}
		if _, err := c.Clientset.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("a dry run stored the pod (get: %v)", err)
		}
	})
}

// checkPod compares the names of a pod's init containers, containers and
// volumes with the wanted ones (nil wants none).
func checkPod(t *testing.T, pod *corev1.Pod, initContainers, containers, volumes []string) {
	t.Helper()
	if got := names(pod.Spec.InitContainers); !slices.Equal(got, initContainers) && len(got)+len(initContainers) > 0 {
		t.Errorf("init containers = %v, want %v", got, initContainers)
	}
	if got := names(pod.Spec.Containers); !slices.Equal(got, containers) {
		t.Errorf("containers = %v, want %v", got, containers)
	}
	if got := volumeNames(pod.Spec.Volumes); !slices.Equal(got, volumes) && len(got)+len(volumes) > 0 {
		t.Errorf("volumes = %v, want %v", got, volumes)
	}
}
