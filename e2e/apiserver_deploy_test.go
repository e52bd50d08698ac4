package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sidecar-injector/sidecar-injector/e2e/cluster"
)

// The webhook's deploy manifests (examples/webhook, a kustomize base)
// render with the pinned kustomize, the API server accepts every one of
// them (kubectl apply --dry-run=server), they are what DESIGN.md asks for,
// and the Deployment's command line, with its ConfigMap and certificate
// mounted as the kubelet would, starts the real binary, whose probes then
// answer.
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
	if _, err := os.Stat(filepath.Join(root, "examples", "webhook", "kustomization.yaml")); err != nil {
		t.Fatalf("examples/webhook is not there (%v): the webhook's deploy manifests, a kustomize base, are part of the contract (DESIGN.md)", err)
	}
	r := fnRun(t, root, nil, fnKustomize(t), "build", "examples/webhook")
	if r.Err != nil {
		t.Fatalf("kustomize build examples/webhook: %v\n%s", r.Err, r.Stderr)
	}
	ex := parseWebhookExample(t, fnParse(t, r.Stdout))
	for _, k := range []string{"Namespace", "ServiceAccount", "Deployment", "PodDisruptionBudget", "Service", "ConfigMap", "MutatingWebhookConfiguration", "Certificate"} {
		if ex.kinds[k] == 0 {
			t.Errorf("examples/webhook renders no %s (it renders %v)", k, ex.kinds)
		}
	}

	t.Run("kubectl apply --dry-run=server", func(t *testing.T) {
		crds := filepath.Join("testdata", "apiserver", "webhook-example", "cert-manager-crds.yaml")
		kubectl(t, c, "apply", "-f", crds)
		kubectl(t, c, "wait", "--for=condition=Established", "--timeout=60s",
			"crd/certificates.cert-manager.io", "crd/issuers.cert-manager.io", "crd/clusterissuers.cert-manager.io")
		// A server-side dry run of a Namespace creates nothing, so the
		// namespaced objects after it would find no namespace: the
		// Namespaces are created for real first.
		for ns := range ex.namespaces {
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
		if list.Kind != "List" || len(list.Items) != ex.count {
			t.Errorf("the API server answered with a %s of %d objects for the %d rendered", list.Kind, len(list.Items), ex.count)
		}
	})

	t.Run("webhook configuration", func(t *testing.T) {
		for _, mwc := range ex.webhookConfigs {
			checkExampleWebhooks(t, mwc, ex.namespaces)
		}
	})

	t.Run("deployment", func(t *testing.T) {
		if len(ex.deployments) != 1 {
			t.Fatalf("examples/webhook renders %d Deployments, want 1", len(ex.deployments))
		}
		d := ex.deployments[0]
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
			t.Errorf("Deployment %s: replicas %v, want 2 or more", d.Name, d.Spec.Replicas)
		}
		for _, ctr := range d.Spec.Template.Spec.Containers {
			if ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil {
				t.Errorf("container %s: readiness probe %v, liveness probe %v: want both", ctr.Name, ctr.ReadinessProbe != nil, ctr.LivenessProbe != nil)
			}
			if !runsAsNonRoot(&d.Spec.Template.Spec, &ctr) {
				t.Errorf("container %s: runAsNonRoot is not true", ctr.Name)
			}
			if ctr.SecurityContext == nil || ctr.SecurityContext.ReadOnlyRootFilesystem == nil || !*ctr.SecurityContext.ReadOnlyRootFilesystem {
				t.Errorf("container %s: readOnlyRootFilesystem is not true", ctr.Name)
			}
		}
		runExampleDeployment(t, d, ex.configMaps)
	})
}

// webhookExample is the rendered examples/webhook.
type webhookExample struct {
	count          int
	kinds          map[string]int
	namespaces     map[string]map[string]string // name → labels
	configMaps     map[string]map[string]string // name → data
	deployments    []*appsv1.Deployment
	webhookConfigs []*admissionregistrationv1.MutatingWebhookConfiguration
}

func parseWebhookExample(t *testing.T, nodes []*kyaml.RNode) *webhookExample {
	t.Helper()
	ex := &webhookExample{
		count: len(nodes), kinds: map[string]int{},
		namespaces: map[string]map[string]string{}, configMaps: map[string]map[string]string{},
	}
	for _, n := range nodes {
		ex.kinds[n.GetKind()]++
		switch n.GetKind() {
		case "Namespace":
			ex.namespaces[n.GetName()] = n.GetLabels()
		case "ConfigMap":
			ex.configMaps[n.GetName()] = n.GetDataMap()
		case "Deployment":
			var d appsv1.Deployment
			decodeStrict(t, n, &d)
			ex.deployments = append(ex.deployments, &d)
		case "MutatingWebhookConfiguration":
			var mwc admissionregistrationv1.MutatingWebhookConfiguration
			decodeStrict(t, n, &mwc)
			ex.webhookConfigs = append(ex.webhookConfigs, &mwc)
		}
	}
	return ex
}

func decodeStrict(t *testing.T, n *kyaml.RNode, into any) {
	t.Helper()
	text, err := n.String()
	if err != nil {
		t.Fatal(err)
	}
	if err := sigsyaml.UnmarshalStrict([]byte(text), into); err != nil {
		t.Fatalf("%s %s: %v", n.GetKind(), n.GetName(), err)
	}
}

// checkExampleWebhooks checks each webhook for sideEffects None, a timeout,
// reinvocation IfNeeded, and a namespace selector that leaves out the
// example's own namespaces (with the labels they are rendered with, plus
// the name label the API server gives every namespace) but takes an
// ordinary one.
func checkExampleWebhooks(t *testing.T, mwc *admissionregistrationv1.MutatingWebhookConfiguration, own map[string]map[string]string) {
	checkWebhooks(t, mwc, own, nil)
}

// checkWebhooks is checkExampleWebhooks where an ordinary namespace
// carries the given labels (an opt-in label, for a configuration that
// selects only namespaces carrying it).
func checkWebhooks(t *testing.T, mwc *admissionregistrationv1.MutatingWebhookConfiguration, own map[string]map[string]string, ordinary labels.Set) {
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
		for ns, nsLabels := range own {
			set := labels.Set{"kubernetes.io/metadata.name": ns}
			for k, v := range nsLabels {
				set[k] = v
			}
			if sel.Matches(set) {
				t.Errorf("webhook %s: namespaceSelector %s selects its own namespace %s (labels %v)", w.Name, sel, ns, set)
			}
		}
		shop := labels.Merge(labels.Set{"kubernetes.io/metadata.name": "shop"}, ordinary)
		if !sel.Matches(shop) {
			t.Errorf("webhook %s: namespaceSelector %s does not select an ordinary namespace (%v)", w.Name, sel, shop)
		}
	}
}

func runsAsNonRoot(pod *corev1.PodSpec, c *corev1.Container) bool {
	if c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil {
		return *c.SecurityContext.RunAsNonRoot
	}
	return pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot
}

// runExampleDeployment runs the real binary with the webhook container's
// command line, as the kubelet would: its ConfigMap volumes are folders
// laid out as mounted ConfigMaps holding the example's data, its Secret
// volumes hold a certificate made here (tls.crt, tls.key, ca.crt, as
// cert-manager writes them), and its paths under a mount point are
// rewritten to those folders. Only the ports (and the address, the
// loopback) are the test's. Then each HTTP probe of the container must
// answer 200.
func runExampleDeployment(t *testing.T, d *appsv1.Deployment, configMaps map[string]map[string]string) {
	t.Helper()
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("Deployment %s has %d containers, want the webhook alone", d.Name, len(spec.Containers))
	}
	ctr := spec.Containers[0]
	cert := newServingCert(t)

	// Mount point → local folder.
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]string{}
	for _, m := range ctr.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			t.Fatalf("container %s mounts %s, which the pod does not define", ctr.Name, m.Name)
		}
		src := t.TempDir()
		switch {
		case v.ConfigMap != nil:
			data, ok := configMaps[v.ConfigMap.Name]
			if !ok {
				t.Fatalf("volume %s: ConfigMap %s is not in the example", v.Name, v.ConfigMap.Name)
			}
			for key, value := range data {
				writeFile(t, filepath.Join(src, key), []byte(value))
			}
			src = newConfigMapMount(t, src).dir
		case v.Secret != nil:
			for name, from := range map[string]string{"tls.crt": cert.CertFile, "tls.key": cert.KeyFile} {
				data, err := os.ReadFile(from)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(src, name), data)
			}
			writeFile(t, filepath.Join(src, "ca.crt"), cert.CAPEM)
		}
		mounts[filepath.Clean(m.MountPath)] = src
	}

	// The command line, with paths under mounts rewritten and the ports
	// and address replaced.
	args := append([]string{}, ctr.Args...)
	if len(ctr.Command) > 1 {
		args = append(append([]string{}, ctr.Command[1:]...), args...)
	}
	ports := freePorts(t, 2)
	local := map[int32]int{8443: ports[0], 9090: ports[1]} // the flags' defaults
	var kept []string
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		switch name {
		case "port", "metrics-port", "bind-address":
			if !hasValue && i+1 < len(args) {
				i++
				value = args[i]
			}
			if n, err := strconv.Atoi(value); err == nil && name != "bind-address" {
				if name == "port" {
					local[int32(n)] = ports[0]
				} else {
					local[int32(n)] = ports[1]
				}
			}
			continue
		}
		kept = append(kept, rewritePaths(args[i], mounts))
	}
	kept = append(kept, "--bind-address", "127.0.0.1", "--port", strconv.Itoa(ports[0]), "--metrics-port", strconv.Itoa(ports[1]))
	t.Logf("the Deployment's command line, run here: %s", strings.Join(kept, " "))
	wh := runWebhook(t, cert, ports[0], ports[1], kept)

	// Its probes answer.
	for kind, p := range map[string]*corev1.Probe{"startup": ctr.StartupProbe, "readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe} {
		if p == nil || p.HTTPGet == nil {
			continue
		}
		port := p.HTTPGet.Port.IntVal
		if p.HTTPGet.Port.StrVal != "" {
			port = 0
			for _, cp := range ctr.Ports {
				if cp.Name == p.HTTPGet.Port.StrVal {
					port = cp.ContainerPort
				}
			}
		}
		lp, ok := local[port]
		if !ok {
			t.Errorf("%s probe: port %s is neither --port nor --metrics-port", kind, p.HTTPGet.Port.String())
			continue
		}
		scheme := strings.ToLower(string(p.HTTPGet.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		url := fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, lp, p.HTTPGet.Path)
		resp, err := cert.client(t).Get(url)
		if err != nil {
			t.Errorf("%s probe %s (port %s): %v", kind, url, p.HTTPGet.Port.String(), err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s probe %s (port %s): %s", kind, url, p.HTTPGet.Port.String(), resp.Status)
		}
	}
	wh.stop(t)
}

// rewritePaths replaces a mount point at the start of an argument, or of
// its value after "=", by the local folder.
func rewritePaths(arg string, mounts map[string]string) string {
	prefix, value := "", arg
	if name, v, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(name, "-") {
		prefix, value = name+"=", v
	}
	for mountPath, dir := range mounts {
		if value == mountPath || strings.HasPrefix(value, mountPath+"/") {
			return prefix + dir + strings.TrimPrefix(value, mountPath)
		}
	}
	return arg
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
