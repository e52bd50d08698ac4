package engine_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// FuzzInject injects into arbitrary resources: whatever the input, the
// engine must not panic, and every container the user wrote must still be
// there afterwards. Seeds: every golden input; the corpus under
// testdata/fuzz/FuzzInject adds what earlier fuzzing found.
func FuzzInject(f *testing.F) {
	cases, err := goldencase.All("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		data, err := os.ReadFile(c.Input())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	configs, _ := filepath.Glob("testdata/*/config*.yaml")
	inj, err := engine.LoadFiles(configs[0])
	if err != nil {
		f.Fatal(err)
	}
	all := map[string]*engine.Injector{}
	for _, c := range configs {
		if i, err := engine.LoadFiles(c); err == nil {
			all[c] = i
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		node, err := yaml.Parse(string(data))
		if err != nil {
			return
		}
		before := containerNames(node)
		for name := range injectedNames(node) {
			delete(before, name) // injected before: the function may replace it
		}
		for _, i := range append([]*engine.Injector{inj}, values(all)...) {
			for _, upgrade := range []bool{false, true} {
				i.Inject(node, engine.Options{Namespace: "fuzz", Upgrade: upgrade})
				after := containerNames(node)
				for name := range before {
					if !after[name] {
						t.Fatalf("user container %q lost by injection", name)
					}
				}
			}
		}
	})
}

// containerNames lists the names of every container of every pod template
// in a resource, wherever it is.
func containerNames(n *yaml.RNode) map[string]bool {
	names := map[string]bool{}
	var walk func(*yaml.Node)
	walk = func(y *yaml.Node) {
		if y.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(y.Content); i += 2 {
				k, v := y.Content[i], y.Content[i+1]
				if (k.Value == "containers" || k.Value == "initContainers") && v.Kind == yaml.SequenceNode {
					for _, c := range v.Content {
						if nm := yaml.NewRNode(c).Field("name"); nm != nil && nm.Value != nil {
							names[k.Value+"/"+yaml.GetValue(nm.Value)] = true
						}
					}
				}
			}
		}
		for _, c := range y.Content {
			walk(c)
		}
	}
	walk(n.YNode())
	return names
}

// injectedNames lists the containers that a record annotation anywhere in
// the resource says the injector added.
func injectedNames(n *yaml.RNode) map[string]bool {
	names := map[string]bool{}
	var walk func(*yaml.Node)
	walk = func(y *yaml.Node) {
		if y.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(y.Content); i += 2 {
				if y.Content[i].Value != engine.RecordAnnotation {
					continue
				}
				var rec struct {
					Mutations []struct {
						InitContainers map[string]string `json:"initContainers"`
						Containers     map[string]string `json:"containers"`
					} `json:"mutations"`
				}
				if json.Unmarshal([]byte(y.Content[i+1].Value), &rec) == nil {
					for _, m := range rec.Mutations {
						for c := range m.InitContainers {
							names["initContainers/"+c] = true
						}
						for c := range m.Containers {
							names["containers/"+c] = true
						}
					}
				}
			}
		}
		for _, c := range y.Content {
			walk(c)
		}
	}
	walk(n.YNode())
	return names
}

func values(m map[string]*engine.Injector) []*engine.Injector {
	out := make([]*engine.Injector, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
