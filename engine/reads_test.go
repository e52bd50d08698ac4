package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// TestPodReadsRenderAlike holds the shortcut to the contract: rendering
// every triggered mutation of every golden case from the parts of the spec
// and metadata the templates read gives what rendering from the whole pod
// gives.
func TestPodReadsRenderAlike(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*/input.yaml")
	compared := 0
	for _, in := range inputs {
		configs, _ := filepath.Glob(filepath.Join(filepath.Dir(in), "config*.yaml"))
		inj, err := LoadFiles(configs...)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			p, ok := findPodTemplate(doc.Content[0], inj.cfg.WorkloadKinds)
			if !ok {
				continue
			}
			for _, m := range inj.cfg.Mutations {
				whole, errWhole := inj.render(m, &podData{p: p, ns: "ns"})
				part, errPart := inj.render(m, &podData{p: p, ns: "ns", reads: inj.podReads})
				if (errWhole == nil) != (errPart == nil) {
					t.Errorf("%s: mutation %s: whole spec error %v, read part error %v", in, m.Name, errWhole, errPart)
					continue
				}
				if errWhole == nil && whole.hash != part.hash {
					t.Errorf("%s: mutation %s renders differently from the part of the spec its templates read", in, m.Name)
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
	inputs, _ := filepath.Glob("testdata/*/input.yaml")
	for _, in := range inputs {
		configs, _ := filepath.Glob(filepath.Join(filepath.Dir(in), "config*.yaml"))
		inj, err := LoadFiles(configs...)
		if err != nil {
			t.Fatal(err)
		}
		before := renderStatic(t, inj)
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []Options{{}, {Upgrade: true}, {}, {Upgrade: true}} {
			var out bytes.Buffer
			dec := yaml.NewDecoder(bytes.NewReader(data))
			for {
				var doc yaml.Node
				if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				node := yaml.NewRNode(&doc)
				inj.Inject(node, opts)
				inj.Inject(node, Options{Upgrade: !opts.Upgrade})
				out.WriteString(node.MustString() + "---\n")
			}
			data = out.Bytes()
		}
		if after := renderStatic(t, inj); after != before {
			t.Errorf("%s: injecting changed the shared sidecar definitions:\n%s", in, after)
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
				n, err := def.Render(&corev1.Pod{})
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
