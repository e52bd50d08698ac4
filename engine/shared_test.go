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

	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

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
	seen := map[*model.Definition]bool{}
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
