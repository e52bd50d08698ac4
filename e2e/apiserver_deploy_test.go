package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sidecar-injector/sidecar-injector/e2e/cluster"
)

// The webhook's deploy manifests (examples/webhook, a kustomize base)
// render with the pinned kustomize and the API server accepts every one of
// them (kubectl apply --dry-run=server).
//
// cert-manager's Certificate (and Issuer) are custom resources the test
// API server does not have. Rather than leave them out, which would let a
// broken Certificate through, the test installs minimal stand-in CRDs
// (testdata/apiserver/webhook-example/cert-manager-crds.yaml) that know
// the kinds and require the fields the example depends on, and applies
// everything.
func TestAPIServerWebhookExample(t *testing.T) {
	c := apiServer(t)
	root := fnRepoRoot(t)
	dir := filepath.Join(root, "examples", "webhook")
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err != nil {
		t.Fatalf("examples/webhook is not there (%v): the webhook's deploy manifests, a kustomize base, are part of the contract (DESIGN.md)", err)
	}
	r := fnRun(t, root, nil, fnKustomize(t), "build", "examples/webhook")
	if r.Err != nil {
		t.Fatalf("kustomize build examples/webhook: %v\n%s", r.Err, r.Stderr)
	}
	nodes := fnParse(t, r.Stdout)
	kinds := map[string]int{}
	var namespaces []string
	for _, n := range nodes {
		kinds[n.GetKind()]++
		if n.GetKind() == "Namespace" {
			namespaces = append(namespaces, n.GetName())
		}
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "Deployment", "PodDisruptionBudget", "Service", "ConfigMap", "MutatingWebhookConfiguration", "Certificate"} {
		if kinds[k] == 0 {
			t.Errorf("examples/webhook renders no %s (it renders %v)", k, kinds)
		}
	}

	crds := filepath.Join("testdata", "apiserver", "webhook-example", "cert-manager-crds.yaml")
	kubectl(t, c, "apply", "-f", crds)
	kubectl(t, c, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/certificates.cert-manager.io", "crd/issuers.cert-manager.io", "crd/clusterissuers.cert-manager.io")

	// A server-side dry run of a Namespace creates nothing, so the
	// namespaced objects after it would find no namespace: the Namespaces
	// are created for real first.
	for _, ns := range namespaces {
		ensureNamespace(t, c, ns)
	}
	rendered := filepath.Join(t.TempDir(), "webhook.yaml")
	writeFile(t, rendered, []byte(r.Stdout))
	out := kubectl(t, c, "apply", "--dry-run=server", "-o", "json", "-f", rendered)
	var list struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("kubectl output: %v\n%s", err, out)
	}
	if list.Kind != "List" || len(list.Items) != len(nodes) {
		t.Errorf("the API server answered with a %s of %d objects for the %d rendered", list.Kind, len(list.Items), len(nodes))
	}

	// The example's ConfigMap, mounted as the Deployment mounts it, is a
	// config the real webhook serves.
	for _, n := range nodes {
		if n.GetKind() != "ConfigMap" {
			continue
		}
		data := n.GetDataMap()
		if len(data) == 0 {
			t.Errorf("ConfigMap %s has no data", n.GetName())
			continue
		}
		src := t.TempDir()
		for key, value := range data {
			writeFile(t, filepath.Join(src, key), []byte(value))
		}
		startWebhook(t, []string{newConfigMapMount(t, src).dir})
	}

	// What DESIGN.md asks of the webhook configuration.
	for _, n := range nodes {
		if n.GetKind() != "MutatingWebhookConfiguration" {
			continue
		}
		text, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		if err := sigsyaml.UnmarshalStrict([]byte(text), &mwc); err != nil {
			t.Fatalf("MutatingWebhookConfiguration %s: %v", n.GetName(), err)
		}
		checkExampleWebhooks(t, &mwc, namespaces)
	}
}

// checkExampleWebhooks checks each webhook for sideEffects None, a
// timeout, reinvocation IfNeeded and a namespace selector that leaves out
// the webhook's own namespaces.
func checkExampleWebhooks(t *testing.T, mwc *admissionregistrationv1.MutatingWebhookConfiguration, own []string) {
	t.Helper()
	if len(mwc.Webhooks) == 0 {
		t.Errorf("MutatingWebhookConfiguration %s has no webhooks", mwc.Name)
	}
	for _, w := range mwc.Webhooks {
		if w.SideEffects == nil || *w.SideEffects != admissionregistrationv1.SideEffectClassNone {
			t.Errorf("webhook %s: sideEffects %v, want None", w.Name, w.SideEffects)
		}
		if w.TimeoutSeconds == nil {
			t.Errorf("webhook %s: no timeoutSeconds", w.Name)
		}
		if w.ReinvocationPolicy == nil || *w.ReinvocationPolicy != admissionregistrationv1.IfNeededReinvocationPolicy {
			t.Errorf("webhook %s: reinvocationPolicy %v, want IfNeeded", w.Name, w.ReinvocationPolicy)
		}
		if w.NamespaceSelector == nil {
			t.Errorf("webhook %s: no namespaceSelector (its own namespace must be left out)", w.Name)
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(w.NamespaceSelector)
		if err != nil {
			t.Errorf("webhook %s: namespaceSelector: %v", w.Name, err)
			continue
		}
		// The API server labels every namespace with its name.
		for _, ns := range own {
			if sel.Matches(labels.Set{"kubernetes.io/metadata.name": ns}) {
				t.Errorf("webhook %s: namespaceSelector %s selects its own namespace %s", w.Name, sel, ns)
			}
		}
	}
}

// kubectl runs kubectl against the cluster and returns its stdout, failing
// t when it fails.
func kubectl(t *testing.T, c *cluster.Cluster, args ...string) []byte {
	t.Helper()
	out, err := c.Kubectl(t, args...).Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderrOf(err))
	}
	return out
}
