package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sidecar-injector/sidecar-injector/e2e/cluster"
)

// engineCases are the engine's golden cases (engine/testdata/<case>/).
const engineCases = "../engine/testdata"

// Parity, the product's promise: the same config and the same pod give the
// same injected pod through the function (offline, GitOps) and through the
// webhook (at runtime).
//
// For every pod of the engine's golden cases that a Deployment can carry
// (each Pod and Deployment of a case's input.yaml, except what the list in
// parityDocs leaves out and says why):
//
//   - offline: the pod template is put in a Deployment, the real function
//     binary injects it with the case's config, and the injected template
//     is created as a Pod through the API server with no webhook in the
//     way;
//   - runtime: the template as written is created as a Pod through the same
//     API server, whose webhook (the real binary, with the same config) then
//     injects it.
//
// Both stored pods have been through the same API server defaults, so they
// must be equal: labels, annotations (status and record included) and the
// whole spec. Where the function refuses a pod (a template that fails), the
// webhook must deny it with the same error. The webhook's admission
// warnings must be the function's warnings.
func TestParityGolden(t *testing.T) {
	c := apiServer(t)
	cases := parityCases(t)

	// Offline: the function, then the API server with no webhook
	// registered yet.
	for _, pc := range cases {
		for _, d := range pc.docs {
			d.runFunction(t, pc, false)
			ensureNamespace(t, c, d.namespace)
			if d.fnErr != "" {
				continue
			}
			stored, _, err := createWithWarnings(t, c, d.namespace, podFromTemplate(d.fnTemplate, "parity-"))
			if err != nil {
				t.Errorf("%s: the API server refused the pod the function injected: %v", d, err)
				continue
			}
			d.offline = typedPod(t, stored)
		}
	}

	// Runtime: one webhook process per case, each reached by the pods of
	// its case only.
	var hooks []hook
	var probe *parityDoc
	for _, pc := range cases {
		pc.webhook = startWebhook(t, []string{pc.configDir})
		hooks = append(hooks, hook{name: pc.name + ".parity.e2e.sidecar-injector.dev", url: pc.webhook.URL, caBundle: pc.webhook.CABundle, route: pc.route})
		for _, d := range pc.docs {
			if probe == nil && d.offline != nil && d.offline.Annotations[recordAnnotation] != "" {
				probe = d
			}
		}
	}
	if probe == nil {
		t.Fatal("no golden case injects anything: the parity test would prove nothing")
	}
	registerWebhooks(t, c, "e2e-parity-"+cases[0].route, hooks...)
	// One configuration: when one of its webhooks is in effect, all are.
	waitForInjection(t, c, probe.namespace, typedPod(t, podFromTemplate(probe.template, "probe-")))

	var compared, injected, denied int
	for _, pc := range cases {
		t.Run(pc.name, func(t *testing.T) {
			before := pc.webhook.admissions(t)
			for _, d := range pc.docs {
				t.Run(d.id, func(t *testing.T) {
					stored, warnings, err := createWithWarnings(t, c, d.namespace, podFromTemplate(d.template, "parity-"))
					d.check(t, stored, warnings, err)
					compared++
					switch {
					case d.fnErr != "":
						denied++
					case d.offline.Annotations[recordAnnotation] != "":
						injected++
					}
				})
			}
			if n := pc.webhook.admissions(t) - before; n != len(pc.docs) {
				t.Errorf("the webhook answered %d admission requests for %d pods", n, len(pc.docs))
			}
		})
	}
	t.Logf("parity: %d pods of %d golden cases compared (%d injected, %d denied, the rest left as written)", compared, len(cases), injected, denied)
	if injected == 0 || denied == 0 {
		t.Errorf("the golden cases no longer cover both an injection and a denial (%d injected, %d denied)", injected, denied)
	}
}

// parityCase is one golden case: its config, copied into a folder that
// both the function and the webhook load (so that messages name the same
// files), and its pods.
type parityCase struct {
	name      string
	configDir string
	route     string
	docs      []*parityDoc
	webhook   *webhookProcess
}

// parityDoc is one pod template of a case.
type parityDoc struct {
	caseName, id string
	namespace    string
	// template is the pod template as written (metadata and spec), labelled
	// for the case's webhook.
	template map[string]any

	// What the function made of it: the injected template, or its error
	// output and its warnings.
	fnTemplate map[string]any
	fnErr      string
	fnWarnings []string

	// offline is the stored pod created from fnTemplate.
	offline *corev1.Pod
}

func (d *parityDoc) String() string { return d.caseName + ": " + d.id }

// parityCases reads the golden cases and picks their pods.
func parityCases(t *testing.T) []*parityCase {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(engineCases, "*", "input.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden cases in %s: %v", engineCases, err)
	}
	var cases []*parityCase
	for _, in := range inputs {
		dir := filepath.Dir(in)
		pc := &parityCase{name: filepath.Base(dir), route: routeID(t, filepath.Base(dir))}
		var opts struct {
			Namespace string `json:"namespace"`
			Upgrade   bool   `json:"upgrade"`
		}
		if data, err := os.ReadFile(filepath.Join(dir, "options.yaml")); err == nil {
			if err := sigsyaml.UnmarshalStrict(data, &opts); err != nil {
				t.Fatalf("%s/options.yaml: %v", dir, err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if opts.Upgrade {
			t.Logf("parity: %s left out: it shows the function's upgrade, which the webhook never does", pc.name)
			continue
		}
		pc.docs = parityDocs(t, pc, in, opts.Namespace)
		if len(pc.docs) == 0 {
			continue
		}
		pc.configDir = t.TempDir()
		configs, _ := filepath.Glob(filepath.Join(dir, "config*.yaml"))
		for _, f := range configs {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(pc.configDir, filepath.Base(f)), data)
		}
		cases = append(cases, pc)
	}
	return cases
}

// parityDocs picks the pod templates of a case's input that a Deployment
// can carry. The namespace is the resource's own, else the case's
// (options.yaml), else default: the pod runs there in both paths.
func parityDocs(t *testing.T, pc *parityCase, input, caseNamespace string) []*parityDoc {
	t.Helper()
	data, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	var docs []*parityDoc
	for _, n := range fnParse(t, string(data)) {
		obj := toObject(t, n)
		id := obj.GetKind() + "/" + obj.GetName()
		var tmpl map[string]any
		switch {
		case obj.GetAPIVersion() == "v1" && obj.GetKind() == "Pod":
			tmpl = map[string]any{"metadata": map[string]any{}, "spec": obj.Object["spec"]}
			meta := tmpl["metadata"].(map[string]any)
			if l := obj.GetLabels(); l != nil {
				meta["labels"] = toAnyMap(l)
			}
			if a := obj.GetAnnotations(); a != nil {
				meta["annotations"] = toAnyMap(a)
			}
		case obj.GetAPIVersion() == "apps/v1" && obj.GetKind() == "Deployment":
			tmpl, _, _ = unstructured.NestedMap(obj.Object, "spec", "template")
		default:
			continue // not a Pod or a Deployment
		}
		if tmpl == nil {
			t.Fatalf("%s %s: no pod template", pc.name, id)
		}
		pod := &unstructured.Unstructured{Object: tmpl}
		if _, ok := pod.GetAnnotations()[recordAnnotation]; ok {
			t.Logf("parity: %s %s left out: it arrives injected by another config, which the function upgrades and the webhook leaves as it is (by design)", pc.name, id)
			continue
		}
		if rp, _, _ := unstructured.NestedString(tmpl, "spec", "restartPolicy"); rp != "" && rp != "Always" {
			t.Logf("parity: %s %s left out: restartPolicy %s, which a Deployment cannot carry", pc.name, id, rp)
			continue
		}
		ns := firstNonEmpty(obj.GetNamespace(), caseNamespace, "default")
		docs = append(docs, &parityDoc{
			caseName: pc.name, id: id, namespace: ns,
			template: routeObject(pod, pc.route).Object,
		})
	}
	return docs
}

func toAnyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// runFunction injects the template, carried by a Deployment in its
// namespace, with the real function binary. retried is for its own use.
func (d *parityDoc) runFunction(t *testing.T, pc *parityCase, retried bool) {
	t.Helper()
	labels, _, _ := unstructured.NestedStringMap(d.template, "metadata", "labels")
	deploy := map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": "parity", "namespace": d.namespace},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{routeLabel: labels[routeLabel]}},
			"template": d.template,
		},
	}
	data, err := sigsyaml.Marshal(deploy)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "deployment.yaml")
	writeFile(t, file, data)
	r := fnRun(t, "", nil, fnBinary(t), pc.configDir, file)
	for _, line := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(line, "warning: ") {
			d.fnWarnings = append(d.fnWarnings, line)
		}
	}
	if r.Err != nil {
		if r.Stderr == "" {
			t.Fatalf("%s: the function failed without a message: %v", d, r.Err)
		}
		d.fnErr = r.Stderr
		return
	}
	out := fnParse(t, r.Stdout)
	if len(out) != 1 {
		t.Fatalf("%s: the function printed %d resources for one Deployment:\n%s", d, len(out), r.Stdout)
	}
	d.fnTemplate, _, _ = unstructured.NestedMap(toObject(t, out[0]).Object, "spec", "template")
	if d.fnTemplate == nil {
		t.Fatalf("%s: no pod template in the function's output:\n%s", d, r.Stdout)
	}

	// Some golden inputs mount volumes they do not define (they show what
	// the injector does with a mount at a path it would use), which the API
	// server refuses whatever the injector did. Where injection did not
	// define them either, they are added to the pod as written, as
	// emptyDirs, on both paths, and the function runs again.
	if undefined := undefinedVolumes(d.fnTemplate); len(undefined) > 0 && !retried {
		t.Logf("parity: %s mounts volumes it does not define, %v, which the API server refuses: added as emptyDir volumes on both paths", d, undefined)
		vols, _, _ := unstructured.NestedSlice(d.template, "spec", "volumes")
		for _, name := range undefined {
			vols = append(vols, map[string]any{"name": name, "emptyDir": map[string]any{}})
		}
		if err := unstructured.SetNestedSlice(d.template, vols, "spec", "volumes"); err != nil {
			t.Fatal(err)
		}
		d.fnTemplate, d.fnWarnings = nil, nil
		d.runFunction(t, pc, true)
	}
}

// undefinedVolumes lists the volumes a pod template's containers mount but
// its volumes do not define.
func undefinedVolumes(tmpl map[string]any) []string {
	vols, _, _ := unstructured.NestedSlice(tmpl, "spec", "volumes")
	defined := map[string]bool{}
	for _, v := range vols {
		if m, ok := v.(map[string]any); ok {
			defined[fmt.Sprint(m["name"])] = true
		}
	}
	var undefined []string
	for _, field := range []string{"initContainers", "containers"} {
		cs, _, _ := unstructured.NestedSlice(tmpl, "spec", field)
		for _, c := range cs {
			mounts, _, _ := unstructured.NestedSlice(c.(map[string]any), "volumeMounts")
			for _, m := range mounts {
				name := fmt.Sprint(m.(map[string]any)["name"])
				if !defined[name] && !slices.Contains(undefined, name) {
					undefined = append(undefined, name)
				}
			}
		}
	}
	return undefined
}

// check compares what the API server did with the pod through the webhook
// with what the function did.
func (d *parityDoc) check(t *testing.T, stored *unstructured.Unstructured, warnings []string, err error) {
	t.Helper()
	if d.fnErr != "" {
		if err == nil {
			t.Fatalf("the function refused the pod:\n%s\nthe webhook admitted it with containers %v", d.fnErr, names(typedPod(t, stored).Spec.Containers))
		}
		// The webhook says "sidecar-injector: <the engine's error>"; the
		// function prints the same error after naming the resource.
		msg := statusError(err)
		_, engineErr, ok := strings.Cut(msg, "sidecar-injector: ")
		if !ok {
			t.Fatalf("the webhook's denial %q does not carry the injector's message", msg)
		}
		if !strings.Contains(d.fnErr, engineErr) {
			t.Errorf("the webhook denied the pod with\n  %s\nthe function refused it with\n  %s", engineErr, strings.TrimSpace(d.fnErr))
		}
		return
	}
	if err != nil {
		t.Fatalf("the webhook path refused the pod the function injected: %v\nthe function's template:\n%s", err, toJSON(d.fnTemplate))
	}
	if diff := podDiff(d.offline, typedPod(t, stored)); diff != "" {
		t.Errorf("the pod injected by the function (-) and by the webhook (+) differ:\n%s", diff)
	}
	// Warnings: the webhook's, less its prefix, are the function's.
	var got []string
	for _, w := range warnings {
		if s, ok := strings.CutPrefix(w, "sidecar-injector: "); ok {
			got = append(got, s)
		}
	}
	if len(got) != len(d.fnWarnings) {
		t.Errorf("the webhook warned %q, the function %q", got, d.fnWarnings)
	}
	for _, w := range got {
		if !slices.ContainsFunc(d.fnWarnings, func(f string) bool { return strings.HasSuffix(f, ": "+w) }) {
			t.Errorf("the webhook warned %q, which the function did not (it warned %q)", w, d.fnWarnings)
		}
	}
}

// createWithWarnings creates obj as createObject does and also returns the
// warnings the API server passed on (admission webhooks' included).
func createWithWarnings(t *testing.T, c *cluster.Cluster, namespace string, obj *unstructured.Unstructured) (*unstructured.Unstructured, []string, error) {
	t.Helper()
	w := &warningRecorder{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = w
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gvr, ok := resources[obj.GetKind()]
	if !ok {
		t.Fatalf("no API resource known for kind %s", obj.GetKind())
	}
	obj = obj.DeepCopy()
	obj.SetNamespace(namespace)
	stored, err := client.Resource(gvr).Namespace(namespace).Create(t.Context(), obj, metav1.CreateOptions{FieldValidation: "Strict"})
	return stored, w.list(), err
}

// warningRecorder keeps the warnings of API responses.
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string
}

func (w *warningRecorder) HandleWarningHeader(code int, _ string, text string) {
	if code != 299 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.warnings = append(w.warnings, text)
}

func (w *warningRecorder) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.warnings)
}
