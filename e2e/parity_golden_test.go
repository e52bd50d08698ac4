package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sidecar-injector/sidecar-injector/e2e/cluster"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// engineCases are the engine's golden cases (engine/testdata/<case>/).
const engineCases = "../engine/testdata"

// Parity, the product's promise: the same config and the same pod give the
// same injected pod through the function (offline, GitOps) and through the
// webhook (at runtime).
//
// For every pod of the engine's golden cases that a Deployment can carry
// (each Pod and Deployment of a case's input.yaml, except what parityDocs
// leaves out and says why):
//
//   - offline: the pod template is put in a Deployment, which the real
//     function binary injects with the case's config, run two ways: on its
//     own (`sidecar-injector-fn CONFIG FILE`) and as a kustomize transformer
//     (the pinned kustomize hands it the config as its functionConfig, with
//     every map's keys sorted); each injected template is created as a Pod
//     through the API server with no webhook in the way;
//   - runtime: the template as written is created as a Pod through the same
//     API server, whose webhook (the real binary, with the same config
//     files) then injects it.
//
// The stored pods have been through the same API server defaults, so they
// must be equal: labels, annotations (status and record included) and the
// whole spec. Where the function refuses a pod (a template that fails), the
// webhook must deny it with the same error. The webhook's admission
// warnings must be the standalone function's warnings.
func TestParityGolden(t *testing.T) {
	c := apiServer(t)
	cases := parityCases(t)

	// Offline: the function, then the API server with no webhook
	// registered yet.
	for _, pc := range cases {
		for _, d := range pc.docs {
			d.runOffline(t, pc)
			ensureNamespace(t, c, d.namespace)
			for _, o := range d.offline {
				if o.err != "" {
					continue
				}
				stored, _, err := createWithWarnings(t, c, d.namespace, podFromTemplate(o.template, "parity-"))
				if err != nil {
					t.Errorf("%s: the API server refused the pod the %s injected: %v", d, o.how, err)
					continue
				}
				o.stored = typedPod(t, stored)
			}
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
			if probe == nil && d.injected() {
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

	var compared, injected, denied, viaKustomize int
	for _, pc := range cases {
		t.Run(pc.name, func(t *testing.T) {
			before := pc.webhook.admissions(t)
			for _, d := range pc.docs {
				t.Run(d.id, func(t *testing.T) {
					stored, warnings, err := createWithWarnings(t, c, d.namespace, podFromTemplate(d.template, "parity-"))
					for _, o := range d.offline {
						o.check(t, stored, warnings, err)
					}
					compared++
					viaKustomize += len(d.offline) - 1
					switch {
					case d.offline[0].err != "":
						denied++
					case d.injected():
						injected++
					}
				})
			}
			if n := pc.webhook.admissions(t) - before; n != len(pc.docs) {
				t.Errorf("the webhook answered %d admission requests for %d pods", n, len(pc.docs))
			}
		})
	}
	t.Logf("parity: %d pods of %d golden cases compared (%d injected, %d denied, the rest left as written); %d also through kustomize", compared, len(cases), injected, denied, viaKustomize)
	if injected == 0 || denied == 0 || viaKustomize == 0 {
		t.Errorf("the golden cases no longer cover an injection, a denial and the kustomize path (%d injected, %d denied, %d through kustomize)", injected, denied, viaKustomize)
	}
}

// parityCase is one golden case: its config, copied into a folder that
// both the function and the webhook load (so that messages name the same
// files), and its pods.
type parityCase struct {
	name      string
	configDir string
	// transformer is the case's config with the annotation that makes it a
	// kustomize transformer running the function, or "" when the config is
	// not one document.
	transformer string
	route       string
	docs        []*parityDoc
	webhook     *webhookProcess
}

// parityDoc is one pod template of a case.
type parityDoc struct {
	caseName, id string
	namespace    string
	// template is the pod template as written (metadata and spec), labelled
	// for the case's webhook.
	template map[string]any
	// offline is what the function made of it, standalone first, then
	// under kustomize when the case's config can be a transformer.
	offline []*offlineResult
}

// offlineResult is what one way of running the function made of a pod
// template.
type offlineResult struct {
	how      string         // "function" or "function under kustomize"
	template map[string]any // the injected template, nil when it refused
	err      string         // its error output when it refused
	warnings []string       // its warning lines (standalone only)
	stored   *corev1.Pod    // the Pod created from template
}

// injected reports whether the function injected something into the pod.
func (d *parityDoc) injected() bool {
	o := d.offline[0]
	return o.stored != nil && o.stored.Annotations[recordAnnotation] != ""
}

func (d *parityDoc) String() string { return d.caseName + ": " + d.id }

// parityCases reads the golden cases and picks their pods.
func parityCases(t *testing.T) []*parityCase {
	t.Helper()
	golden, err := goldencase.All(engineCases)
	if err != nil {
		t.Fatal(err)
	}
	var cases []*parityCase
	for _, g := range golden {
		pc := &parityCase{name: g.Name, route: routeID(t, g.Name)}
		if g.Upgrade {
			t.Logf("parity: %s left out: it shows the function's upgrade, which the webhook never does", pc.name)
			continue
		}
		pc.docs = parityDocs(t, pc, g.Input(), g.Namespace)
		if len(pc.docs) == 0 {
			continue
		}
		pc.configDir = t.TempDir()
		for _, f := range g.Configs {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(pc.configDir, filepath.Base(f)), data)
		}
		pc.transformer = kustomizeTransformer(t, pc.name, g.Configs)
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
		var spec struct {
			Spec corev1.PodSpec `json:"spec"`
		}
		if b, err := json.Marshal(tmpl); err != nil || json.Unmarshal(b, &spec) != nil || len(spec.Spec.Containers) == 0 {
			t.Logf("parity: %s %s left out: its spec is no pod spec the API server takes (the engine's own golden case shows the error)", pc.name, id)
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

// runOffline injects the template, carried by a Deployment in its
// namespace, with the real function binary, standalone and under
// kustomize.
//
// Some golden inputs mount volumes they do not define (they show what the
// injector does with a mount at a path it would use), which the API server
// refuses whatever the injector did. Where injection did not define them
// either, they are added to the pod as written, as emptyDirs, on every path,
// and the function runs again.
func (d *parityDoc) runOffline(t *testing.T, pc *parityCase) {
	t.Helper()
	deployment := d.deployment(t)
	standalone := d.runStandalone(t, pc, deployment)
	if standalone.template != nil {
		if undefined := undefinedVolumes(standalone.template); len(undefined) > 0 {
			t.Logf("parity: %s mounts volumes it does not define, %v, which the API server refuses: added as emptyDir volumes on every path", d, undefined)
			vols, _, _ := unstructured.NestedSlice(d.template, "spec", "volumes")
			for _, name := range undefined {
				vols = append(vols, map[string]any{"name": name, "emptyDir": map[string]any{}})
			}
			if err := unstructured.SetNestedSlice(d.template, vols, "spec", "volumes"); err != nil {
				t.Fatal(err)
			}
			deployment = d.deployment(t)
			standalone = d.runStandalone(t, pc, deployment)
		}
	}
	d.offline = []*offlineResult{standalone}
	if pc.transformer != "" {
		d.offline = append(d.offline, d.runKustomize(t, pc, deployment))
	}
}

// deployment writes the Deployment that carries the template and returns
// its file.
func (d *parityDoc) deployment(t *testing.T) string {
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
	return file
}

// runStandalone runs `sidecar-injector-fn CONFIG FILE`.
func (d *parityDoc) runStandalone(t *testing.T, pc *parityCase, deployment string) *offlineResult {
	t.Helper()
	o := &offlineResult{how: "function"}
	r := fnRun(t, "", nil, fnBinary(t), pc.configDir, deployment)
	for _, line := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(line, "warning: ") {
			o.warnings = append(o.warnings, line)
		}
	}
	o.template, o.err = d.offlineTemplate(t, o.how, r)
	return o
}

// runKustomize runs kustomize build over a kustomization of the Deployment
// with the case's config as a transformer.
func (d *parityDoc) runKustomize(t *testing.T, pc *parityCase, deployment string) *offlineResult {
	t.Helper()
	o := &offlineResult{how: "function under kustomize"}
	dir := t.TempDir()
	for name, from := range map[string]string{"deployment.yaml": deployment, "injector.yaml": pc.transformer} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), data)
	}
	writeFile(t, filepath.Join(dir, "kustomization.yaml"), []byte("resources: [deployment.yaml]\ntransformers: [injector.yaml]\n"))
	r := fnRun(t, "", nil, fnKustomize(t), "build", "--enable-alpha-plugins", "--enable-exec", dir)
	o.template, o.err = d.offlineTemplate(t, o.how, r)
	return o
}

// offlineTemplate reads the injected template from a run's output, or
// returns its error output when it failed.
func (d *parityDoc) offlineTemplate(t *testing.T, how string, r fnResult) (map[string]any, string) {
	t.Helper()
	if r.Err != nil {
		if r.Stderr == "" {
			t.Fatalf("%s: the %s failed without a message: %v", d, how, r.Err)
		}
		return nil, r.Stderr
	}
	out := fnParse(t, r.Stdout)
	if len(out) != 1 {
		t.Fatalf("%s: the %s printed %d resources for one Deployment:\n%s", d, how, len(out), r.Stdout)
	}
	tmpl, _, _ := unstructured.NestedMap(toObject(t, out[0]).Object, "spec", "template")
	if tmpl == nil {
		t.Fatalf("%s: no pod template in the %s's output:\n%s", d, how, r.Stdout)
	}
	return tmpl, ""
}

// kustomizeTransformer writes a case's config as a kustomize transformer
// that runs the function binary, or returns "" when the config is not a
// single document (a transformer is one functionConfig).
func kustomizeTransformer(t *testing.T, name string, configs []string) string {
	t.Helper()
	if len(configs) != 1 {
		t.Logf("parity: %s not run through kustomize: its config is %d files, and a transformer is one document", name, len(configs))
		return ""
	}
	data, err := os.ReadFile(configs[0])
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := kio.FromBytes(data)
	if err != nil {
		t.Logf("parity: %s not run through kustomize: its config is YAML only once its templates are rendered, which kustomize cannot read (%v)", name, err)
		return ""
	}
	if len(nodes) != 1 {
		t.Logf("parity: %s not run through kustomize: its config holds %d documents, and a transformer is one", name, len(nodes))
		return ""
	}
	bin, err := filepath.Abs(fnBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].PipeE(kyaml.SetAnnotation("config.kubernetes.io/function", "exec:\n  path: "+bin+"\n")); err != nil {
		t.Fatal(err)
	}
	text, err := nodes[0].String()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "injector.yaml")
	writeFile(t, file, []byte(text))
	return file
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
// with what this offline run did.
func (o *offlineResult) check(t *testing.T, stored *unstructured.Unstructured, warnings []string, err error) {
	t.Helper()
	if o.err != "" {
		if err == nil {
			t.Errorf("the %s refused the pod:\n%s\nthe webhook admitted it with containers %v", o.how, o.err, names(typedPod(t, stored).Spec.Containers))
			return
		}
		// The webhook says "sidecar-injector: <the engine's error>"; the
		// function prints the same error after naming the resource, where
		// the config's location is its file's, or under kustomize the
		// functionConfig's.
		msg := statusError(err)
		_, engineErr, ok := strings.Cut(msg, "sidecar-injector: ")
		if !ok {
			t.Errorf("the webhook's denial %q does not carry the injector's message", msg)
			return
		}
		for _, part := range withoutLocation(engineErr) {
			if !strings.Contains(o.err, part) {
				t.Errorf("the webhook denied the pod with\n  %s\nthe %s refused it with\n  %s", engineErr, o.how, strings.TrimSpace(o.err))
				break
			}
		}
		return
	}
	if err != nil {
		t.Errorf("the webhook path refused the pod the %s injected: %v\nthe %s's template:\n%s", o.how, err, o.how, toJSON(o.template))
		return
	}
	if o.stored == nil {
		return // refused by the API server, reported above
	}
	if diff := podDiff(o.stored, typedPod(t, stored)); diff != "" {
		t.Errorf("the pod injected by the %s (-) and by the webhook (+) differ:\n%s", o.how, diff)
	}
	if o.how != "function" {
		return
	}
	// Warnings: the webhook's, less its prefix, are the function's.
	var got []string
	for _, w := range warnings {
		if s, ok := strings.CutPrefix(w, "sidecar-injector: "); ok {
			got = append(got, s)
		}
	}
	if len(got) != len(o.warnings) {
		t.Errorf("the webhook warned %q, the function %q", got, o.warnings)
	}
	for _, w := range got {
		if !slices.ContainsFunc(o.warnings, func(f string) bool { return strings.HasSuffix(f, ": "+w) }) {
			t.Errorf("the webhook warned %q, which the function did not (it warned %q)", w, o.warnings)
		}
	}
}

// locationRE is a config location in an engine error: "FILE:LINE: " or
// "FILE:LINE:COLUMN: ", where FILE may be "functionConfig Kind/name".
var locationRE = regexp.MustCompile(`(functionConfig )?\S+:\d+(:\d+)?: `)

// withoutLocation splits an engine error around its first config location:
// `mutation "m": sidecar "s": config.yaml:10: error calling required: ...`
// gives `mutation "m": sidecar "s": ` and `error calling required: ...`.
func withoutLocation(msg string) []string {
	loc := locationRE.FindStringIndex(msg)
	if loc == nil {
		return []string{msg}
	}
	return []string{msg[:loc[0]], msg[loc[1]:]}
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
