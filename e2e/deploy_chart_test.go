package e2e

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// The Helm chart (charts/sidecar-injector) and the kustomize base
// (examples/webhook) render what a user gets: these tests hold them to it
// without a cluster; apiserver_chart_test.go installs the chart in one.

const (
	chartDir         = "charts/sidecar-injector"
	defaultNamespace = "sidecar-injector"
)

// chartNamespaces are the namespaces of the golden values sets that are not
// rendered into the default one.
var chartNamespaces = map[string]string{"other-namespace": "platform-injector"}

// helmBinary is the pinned helm (make helm; SIDECAR_HELM under make test).
func helmBinary(t testing.TB) string {
	return fnTool(t, "SIDECAR_HELM", "bin/helm", "", "run make helm")
}

// helmRun runs helm with its config, cache and data in a folder of the
// test's own: nothing of the user's helm setup is read.
func helmRun(t testing.TB, args ...string) fnResult {
	t.Helper()
	home := t.TempDir()
	env := []string{"HELM_CONFIG_HOME=" + home, "HELM_CACHE_HOME=" + home, "HELM_DATA_HOME=" + home}
	return fnRun(t, fnRepoRoot(t), env, helmBinary(t), args...)
}

// TestHelmChartTemplate: for each values set of the chart's goldens
// (charts/sidecar-injector/testdata/NAME.values.yaml), `helm lint --strict`
// passes and `helm template` renders NAME.golden.yaml (generated keys and
// certificates masked; `make golden` refreshes them). What it renders is
// checked beyond the golden: every config it writes loads in the engine, a
// generated certificate names the Service and is signed by the CA the
// webhook configuration trusts, the webhooks leave out their own namespace,
// select only the pods the config's label triggers can need, and nothing
// names a namespace other than the release's.
func TestHelmChartTemplate(t *testing.T) {
	root := fnRepoRoot(t)
	sets, err := filepath.Glob(filepath.Join(root, chartDir, "testdata", "*.values.yaml"))
	if err != nil || len(sets) == 0 {
		t.Fatalf("no values sets under %s/testdata (%v)", chartDir, err)
	}
	if r := helmRun(t, "lint", "--strict", chartDir); r.Err != nil {
		t.Fatalf("helm lint --strict %s: %v\n%s%s", chartDir, r.Err, r.Stdout, r.Stderr)
	}
	for _, values := range sets {
		name := strings.TrimSuffix(filepath.Base(values), ".values.yaml")
		t.Run(name, func(t *testing.T) {
			ns := firstNonEmpty(chartNamespaces[name], defaultNamespace)
			if r := helmRun(t, "lint", "--strict", "--namespace", ns, chartDir, "-f", values); r.Err != nil {
				t.Fatalf("helm lint --strict -f %s: %v\n%s%s", values, r.Err, r.Stdout, r.Stderr)
			}
			r := helmRun(t, "template", "sidecar-injector", chartDir, "--namespace", ns, "-f", values)
			if r.Err != nil {
				t.Fatalf("helm template -f %s: %v\n%s", values, r.Err, r.Stderr)
			}
			objs := fnParse(t, r.Stdout)
			checkChart(t, objs, ns)
			checkNamespaceReferences(t, objs, ns)
			compareGoldenFile(t, filepath.Join(root, chartDir, "testdata", name+".golden.yaml"), []byte(maskGenerated(r.Stdout)))
		})
	}
}

// TestHelmChartSalesforceFiles: the old injector's real two files, passed
// as its users have them (--set-file), render into a config that loads, and
// the webhook configuration sends every pod (those mutations read
// annotations only).
func TestHelmChartSalesforceFiles(t *testing.T) {
	corpus := filepath.Join(fnRepoRoot(t), "engine", "testdata", "compat", "salesforce")
	r := helmRun(t, "template", "sidecar-injector", chartDir, "--namespace", defaultNamespace,
		"--set-file", "config.legacy.sidecarConfig="+filepath.Join(corpus, "sidecarconfigs.yaml"),
		"--set-file", "config.legacy.mutationConfig="+filepath.Join(corpus, "mutationconfigs.yaml"))
	if r.Err != nil {
		t.Fatalf("helm template: %v\n%s", r.Err, r.Stderr)
	}
	objs := fnParse(t, r.Stdout)
	checkChart(t, objs, defaultNamespace)
	if ex := parseWebhookExample(t, objs); len(ex.configMaps) != 1 {
		t.Errorf("%d ConfigMaps rendered, want the one holding the two files", len(ex.configMaps))
	}
}

// TestHelmChartRefusesBadValues: values that cannot make a working install
// fail the render with a message that says which.
func TestHelmChartRefusesBadValues(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"config.sidecars.imagePullSecrets[0].name=registry", "config.mutations is empty"},
		{"config.existingConfigMap=x,config.legacy.sidecarConfig=y", "set existingConfigMap or legacy, not both"},
		{"config.legacy.sidecarConfig=x", "set both sidecarConfig and mutationConfig"},
		{"certificate.source=vault", "certificate/source"},
		{"webhook.failurePolicy=Sometimes", "webhook/failurePolicy"},
	} {
		r := helmRun(t, "template", "x", chartDir, "--set", tc.set)
		if r.Err == nil || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("helm template --set %s: err %v, stderr %q; want a failure saying %q", tc.set, r.Err, r.Stderr, tc.want)
		}
	}
}

// checkChart checks what the chart rendered into namespace ns.
func checkChart(t *testing.T, objs []*kyaml.RNode, ns string) {
	t.Helper()
	ex := parseWebhookExample(t, objs)
	own := map[string]map[string]string{ns: ex.namespaces[ns]}
	for _, k := range []string{"ServiceAccount", "Deployment", "Service", "MutatingWebhookConfiguration", "NetworkPolicy"} {
		if ex.kinds[k] == 0 {
			t.Errorf("the chart renders no %s (it renders %v)", k, ex.kinds)
		}
	}
	var configs []string
	for name, data := range ex.configMaps {
		dir := t.TempDir()
		for file, text := range data {
			writeFile(t, filepath.Join(dir, file), []byte(text))
		}
		inj, err := engine.LoadFiles(dir)
		if err != nil {
			t.Errorf("ConfigMap %s: its config does not load: %v", name, err)
			continue
		}
		configs = append(configs, name)
		for _, mwc := range ex.webhookConfigs {
			checkObjectSelectors(t, mwc, inj)
		}
	}
	for _, mwc := range ex.webhookConfigs {
		checkWebhooks(t, mwc, own, labels.Set{"sidecar-injector.dev/injection": "enabled"})
		for _, w := range mwc.Webhooks {
			if s := w.ClientConfig.Service; s == nil || s.Namespace != ns {
				t.Errorf("webhook %s: clientConfig.service %+v, want the Service in %s", w.Name, s, ns)
			}
			if len(w.ClientConfig.CABundle) > 0 {
				checkChartTLS(t, objs, w.ClientConfig.CABundle, w.ClientConfig.Service)
			}
		}
	}
	for _, d := range ex.deployments {
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.ConfigMap != nil && !slices.Contains(configs, v.ConfigMap.Name) && len(ex.configMaps) > 0 {
				t.Errorf("Deployment %s mounts ConfigMap %s, which the chart does not render", d.Name, v.ConfigMap.Name)
			}
		}
	}
}

// checkObjectSelectors: where every mutation of inj reads its trigger from
// labels, the webhooks together select exactly the pods that can need
// them (a pod labelled to opt in to any mutation, any pod not opting out
// of an inject-by-default one) and no other; otherwise they select every
// pod.
func checkObjectSelectors(t *testing.T, mwc *admissionregistrationv1.MutatingWebhookConfiguration, inj *engine.Injector) {
	t.Helper()
	allLabel := true
	for _, m := range inj.Mutations() {
		allLabel = allLabel && m.LabelTrigger
	}
	selected := func(podLabels labels.Set) bool {
		for _, w := range mwc.Webhooks {
			sel, err := metav1.LabelSelectorAsSelector(w.ObjectSelector)
			if err != nil {
				t.Fatalf("webhook %s: objectSelector: %v", w.Name, err)
			}
			if w.ObjectSelector == nil || sel.Matches(podLabels) {
				return true
			}
		}
		return false
	}
	unlabelled := labels.Set{"app": "web"}
	anyDefault := false
	for _, m := range inj.Mutations() {
		anyDefault = anyDefault || m.InjectByDefault
		for _, v := range []string{"true", "enabled"} {
			if !selected(labels.Set{"app": "web", m.TriggerKey(): v}) {
				t.Errorf("%s: a pod labelled %s=%s is not sent to the webhook", mwc.Name, m.TriggerKey(), v)
			}
		}
	}
	switch {
	case !allLabel && !selected(unlabelled):
		t.Errorf("%s: a mutation reads annotations only, yet an unlabelled pod is not sent to the webhook: its annotation would be ignored", mwc.Name)
	case allLabel && !anyDefault && selected(unlabelled):
		t.Errorf("%s: every mutation has labelTrigger, yet an unlabelled pod is sent to the webhook (an outage would block it)", mwc.Name)
	case allLabel && anyDefault && !selected(unlabelled):
		t.Errorf("%s: an inject-by-default mutation, yet an unlabelled pod is not sent to the webhook", mwc.Name)
	}
}

// checkChartTLS checks the chart's generated Secret: its certificate names
// the Service and is signed by caBundle.
func checkChartTLS(t *testing.T, objs []*kyaml.RNode, caBundle []byte, svc *admissionregistrationv1.ServiceReference) {
	t.Helper()
	var secret *corev1.Secret
	for _, n := range objs {
		if n.GetKind() == "Secret" {
			secret = &corev1.Secret{}
			decodeStrict(t, n, secret)
		}
	}
	if secret == nil {
		t.Fatal("the webhook configuration carries a caBundle but the chart renders no Secret")
	}
	block, _ := pem.Decode(secret.Data["tls.crt"])
	if block == nil {
		t.Fatalf("Secret %s: tls.crt is not PEM", secret.Name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caBundle) {
		t.Fatal("caBundle holds no PEM certificate")
	}
	host := fmt.Sprintf("%s.%s.svc", svc.Name, svc.Namespace)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
		t.Errorf("Secret %s: the certificate does not serve %s under the webhook's caBundle: %v", secret.Name, host, err)
	}
	if !bytes.Equal(secret.Data["ca.crt"], caBundle) {
		t.Errorf("Secret %s: ca.crt is not the webhook configuration's caBundle", secret.Name)
	}
}

// checkNamespaceReferences walks every string of every object and fails on
// one that names a namespace other than ns: a namespace field, a service
// host (NAME.NAMESPACE.svc), a NAMESPACE/NAME reference, a namespace
// selector's values. Object, container and webhook names and labels may
// say what they like.
func checkNamespaceReferences(t *testing.T, objs []*kyaml.RNode, ns string) {
	t.Helper()
	others := []string{defaultNamespace, "platform-injector"}
	others = slices.DeleteFunc(others, func(s string) bool { return s == ns })
	for _, n := range objs {
		obj := toObject(t, n)
		where := obj.GetKind() + "/" + obj.GetName()
		walkStrings(obj.Object, "", func(path, s string) {
			for _, other := range others {
				host := regexp.MustCompile(`(^|\.)` + regexp.QuoteMeta(other) + `\.svc(\.|$)`)
				switch {
				case strings.HasSuffix(path, ".namespace") && s == other,
					strings.Contains(path, "namespaceSelector") && s == other,
					host.MatchString(s),
					strings.HasPrefix(s, other+"/") && strings.HasPrefix(path, ".metadata.annotations"):
					t.Errorf("%s: %s is %q, which names namespace %s; the install is in %s", where, path, s, other, ns)
				}
			}
		})
		if ns != defaultNamespace && obj.GetKind() == "MutatingWebhookConfiguration" {
			var mwc admissionregistrationv1.MutatingWebhookConfiguration
			decodeStrict(t, n, &mwc)
			for _, w := range mwc.Webhooks {
				sel, _ := metav1.LabelSelectorAsSelector(w.NamespaceSelector)
				if sel.Matches(labels.Set{"kubernetes.io/metadata.name": ns}) {
					t.Errorf("%s: webhook %s selects its own namespace %s", where, w.Name, ns)
				}
			}
		}
	}
}

func walkStrings(v any, path string, visit func(path, s string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			walkStrings(x, path+"."+k, visit)
		}
	case []any:
		for i, x := range v {
			walkStrings(x, fmt.Sprintf("%s[%d]", path, i), visit)
		}
	case string:
		visit(path, v)
	}
}

// generatedRE matches the generated certificate and key of a chart-made
// Secret and the caBundle: they change with every render.
var generatedRE = regexp.MustCompile(`(?m)^(\s*(?:ca\.crt|tls\.crt|tls\.key|caBundle): )\S+$`)

func maskGenerated(s string) string { return generatedRE.ReplaceAllString(s, "${1}GENERATED") }

// compareGoldenFile compares got with a golden file, or rewrites it under
// -update.
func compareGoldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if fnUpdate() {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make golden)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from what renders now (run make golden and review the diff):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines where two texts differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, a, b)
		}
	}
	return "(same lines, different bytes)"
}

// TestKustomizeBaseAnyNamespace: examples/webhook built by an overlay that
// sets another namespace (as its README says: namespace plus the
// namespace-references transformer) names no other namespace anywhere, and
// its webhook configuration leaves its own namespace out.
func TestKustomizeBaseAnyNamespace(t *testing.T) {
	root := fnRepoRoot(t)
	overlay, err := os.MkdirTemp(root, ".overlay-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(overlay) })
	writeFile(t, filepath.Join(overlay, "kustomization.yaml"), []byte(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: platform-injector
resources:
- ../examples/webhook
transformers:
- ../examples/webhook/namespace-references
components:
- ../examples/webhook/servicemonitor
`))
	r := fnRun(t, root, nil, fnKustomize(t), "build", overlay)
	if r.Err != nil {
		t.Fatalf("kustomize build: %v\n%s", r.Err, r.Stderr)
	}
	objs := fnParse(t, r.Stdout)
	checkNamespaceReferences(t, objs, "platform-injector")
	ex := parseWebhookExample(t, objs)
	if _, ok := ex.namespaces["platform-injector"]; !ok || len(ex.namespaces) != 1 {
		t.Errorf("namespaces rendered: %v, want platform-injector alone", ex.namespaces)
	}
	for _, mwc := range ex.webhookConfigs {
		checkExampleWebhooks(t, mwc, ex.namespaces)
	}
	if ex.kinds["ServiceMonitor"] != 1 || ex.kinds["NetworkPolicy"] != 1 {
		t.Errorf("kinds rendered: %v, want a ServiceMonitor (the component) and a NetworkPolicy", ex.kinds)
	}

	// The base as it is: the same check for its own namespace, and its
	// objectSelector is the one its config's label triggers allow.
	r = fnRun(t, root, nil, fnKustomize(t), "build", "examples/webhook")
	if r.Err != nil {
		t.Fatalf("kustomize build examples/webhook: %v\n%s", r.Err, r.Stderr)
	}
	objs = fnParse(t, r.Stdout)
	checkNamespaceReferences(t, objs, defaultNamespace)
	ex = parseWebhookExample(t, objs)
	for name, data := range ex.configMaps {
		var sources []config.Source
		for file, text := range data {
			sources = append(sources, config.Source{Name: file, Data: []byte(text)})
		}
		inj, err := engine.Load(sources...)
		if err != nil {
			t.Fatalf("ConfigMap %s: %v", name, err)
		}
		for _, mwc := range ex.webhookConfigs {
			checkObjectSelectors(t, mwc, inj)
		}
	}
}
