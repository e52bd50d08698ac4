package engine

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/randfill"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
	"github.com/sidecar-injector/sidecar-injector/engine/template"
	"github.com/sidecar-injector/sidecar-injector/engine/typednode"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// TestPodReadsRenderAlike holds the shortcut to the contract: rendering
// every triggered mutation of every golden case from the parts of the spec
// and metadata the templates read gives what rendering from the whole pod
// gives.
func TestPodReadsRenderAlike(t *testing.T) {
	cases, err := goldencase.All("testdata")
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, c := range cases {
		inj, err := LoadFiles(c.Configs...)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := c.Documents()
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range docs {
			p, ok := findPodTemplate(doc.Content[0], inj.cfg.WorkloadKinds)
			if !ok {
				continue
			}
			for _, m := range inj.cfg.Mutations {
				whole, errWhole := inj.render(m, &podData{p: p, ns: "ns"})
				part, errPart := inj.render(m, &podData{p: p, ns: "ns", reads: inj.podReads})
				if (errWhole == nil) != (errPart == nil) {
					t.Errorf("%s: mutation %s: whole spec error %v, read part error %v", c.Name, m.Name, errWhole, errPart)
					continue
				}
				if errWhole == nil && whole.hash != part.hash {
					t.Errorf("%s: mutation %s renders differently from the part of the pod its templates read", c.Name, m.Name)
				}
				compared++
			}
		}
	}
	if compared == 0 {
		t.Fatal("nothing compared")
	}
}

// TestSharedDefinitionsStayUnchanged: sidecar definitions (all of a
// static one, the untemplated parts of a templated one) are shared by
// every pod they are injected into (Definition.Render). Injecting
// every golden case, again over its output as the webhook and as the
// function would, and mounting into earlier sidecars must leave every
// definition as it was loaded.
func TestSharedDefinitionsStayUnchanged(t *testing.T) {
	cases, err := goldencase.All("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		inj, err := LoadFiles(c.Configs...)
		if err != nil {
			t.Fatal(err)
		}
		before := renderStatic(t, inj)
		data, err := os.ReadFile(c.Input())
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []Options{{}, {Upgrade: true}, {}, {Upgrade: true}} {
			docs, err := goldencase.Documents(data)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			for _, doc := range docs {
				node := yaml.NewRNode(doc)
				inj.Inject(node, opts)
				inj.Inject(node, Options{Upgrade: !opts.Upgrade})
				out.WriteString(node.MustString() + "---\n")
			}
			data = out.Bytes()
		}
		if after := renderStatic(t, inj); after != before {
			t.Errorf("%s: injecting changed the shared sidecar definitions:\n%s", c.Name, after)
		}
	}
}

func renderStatic(t *testing.T, inj *Injector) string {
	t.Helper()
	var parts []string
	seen := map[*config.Definition]bool{}
	for _, m := range inj.cfg.Mutations {
		for _, list := range definitionLists(m) {
			for _, def := range list {
				if seen[def] {
					continue
				}
				seen[def] = true
				// A templated definition shares its static parts too: render
				// it for a pod with nothing set to see them.
				n, err := def.Render(template.Typed(&corev1.Pod{}))
				out := fmt.Sprint(err)
				if err == nil {
					out = yaml.NewRNode(n).MustString()
				}
				parts = append(parts, def.Source.String()+" "+def.Name+":\n"+out)
			}
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "")
}

// TestTemplatesReadNodesAsTheDecodedPod holds the shortcut of templates
// that only read strings of the pod: read from the pod's nodes, they render
// what they render from the decoded pod, on random pods and on nodes that
// only the decoder can read (numbers, duplicate keys, aliases, a map that is
// not one), where the nodes must be left to it.
func TestTemplatesReadNodesAsTheDecodedPod(t *testing.T) {
	templates := []string{
		`{% .Spec.ServiceAccountName %}`,
		`aws-iam-{% .Spec.ServiceAccountName %}`,
		`{% index .Annotations "role" %}`,
		`{% .Name %}/{% .Namespace %}/{% .ObjectMeta.GenerateName %}`,
		`{% index .Labels "app" %}-{% index .Spec.NodeSelector "zone" %}`,
		`{% .Kind %} {% .APIVersion %} {% .Status.Message %} {% .Spec.Hostname %}`,
	}
	var cfg strings.Builder
	cfg.WriteString("apiVersion: sidecar-injector.dev/v1alpha1\nkind: SidecarInjector\nmetadata: {name: reads}\nspec:\n  sidecars:\n    containers:\n    - name: agent\n      image: example.com/agent:1\n      env:\n")
	for i, text := range templates {
		fmt.Fprintf(&cfg, "      - {name: V%d, value: '%s'}\n", i, text)
	}
	cfg.WriteString("  mutations:\n  - {name: agent, annotationNamespace: agent.example.com, annotationTrigger: inject, containers: [agent]}\n")
	inj, err := Load(config.Source{Name: "reads.yaml", Data: []byte(cfg.String())})
	if err != nil {
		t.Fatal(err)
	}

	var pods []*yaml.Node
	fill := randfill.NewWithSeed(11).NilChance(0.3).NumElements(0, 3)
	for i := range 60 {
		// The metadata and the spec's strings: the rest of a random pod
		// (quantities, raw JSON) does not encode, and no template reads it.
		p := &corev1.Pod{}
		fill.Fill(&p.ObjectMeta)
		p.ManagedFields = nil
		fill.Fill(&p.Spec.ServiceAccountName)
		fill.Fill(&p.Spec.Hostname)
		fill.Fill(&p.Spec.NodeSelector)
		if i%2 == 0 { // keys the templates look up
			p.Annotations = map[string]string{"role": p.Name}
			p.Labels = map[string]string{"app": p.GenerateName}
			p.Spec.NodeSelector = map[string]string{"zone": p.Namespace}
		}
		if i%3 == 0 {
			p.Namespace = "" // filled in from the request
		}
		n, err := typednode.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		pods = append(pods, n)
	}
	awkward := []string{
		`{kind: Pod, metadata: {name: 7, annotations: {role: 1.5}}, spec: {serviceAccountName: true}}`,
		`{kind: Pod, metadata: {name: a, name: b, labels: {app: x, app: y}}, spec: {serviceAccountName: a, serviceAccountName: b}}`,
		`{kind: Pod, metadata: {name: &n sa, generateName: *n, annotations: {role: *n}}, spec: {serviceAccountName: *n}}`,
		`{kind: Pod, metadata: {annotations: "role", labels: [app]}, spec: {nodeSelector: {zone: [a]}}}`,
		`{kind: Pod, metadata: {annotations: {role: null, other: {a: b}}}, spec: {hostname: null}}`,
		`{kind: Pod, metadata: null, spec: null}`,
		`{kind: Pod, metadata: {namespace: null, labels: {1: one, app: two}}, spec: {serviceAccountName: ""}}`,
		`{kind: Pod, metadata: {annotations: {<<: {role: merged}}}, spec: {}}`,
		`{kind: Pod, metadata: {name: !!binary aGk=, annotations: {role: !custom r}}, spec: {serviceAccountName: !!str 5}}`,
	}
	for _, doc := range awkward {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		pods = append(pods, n.Content[0])
	}

	def := inj.cfg.Mutations[0].Containers[0]
	for i, pod := range pods {
		if yamlnode.Field(pod, "kind") == nil {
			yamlnode.Set(pod, "kind", yamlnode.NewString("Pod"))
		}
		p, ok := findPodTemplate(pod, inj.cfg.WorkloadKinds)
		if !ok {
			t.Fatalf("pod %d is not a workload", i)
		}
		data := &podData{p: p, ns: "request-ns", reads: inj.podReads}
		fromNodes, errNodes := def.Render(data)
		if i < len(pods)-len(awkward) && data.pod != nil {
			t.Errorf("pod %d: decoded, though its nodes hold only plain strings", i)
		}
		decoded, errDecoded := def.Render(decodedOnly{&podData{p: p, ns: "request-ns", reads: inj.podReads}})
		if (errNodes == nil) != (errDecoded == nil) {
			t.Errorf("pod %d: from nodes error %v, from the decoded pod error %v", i, errNodes, errDecoded)
			continue
		}
		if errNodes != nil {
			continue
		}
		got := yaml.NewRNode(fromNodes).MustString()
		want := yaml.NewRNode(decoded).MustString()
		if got != want {
			t.Errorf("pod %d:\nfrom nodes:\n%s\nfrom the decoded pod:\n%s", i, got, want)
		}
	}
}

// decodedOnly is a pod that templates can only read decoded.
type decodedOnly struct{ *podData }

func (decodedOnly) Field([]string) (string, bool)            { return "", false }
func (decodedOnly) MapValue([]string, string) (string, bool) { return "", false }
