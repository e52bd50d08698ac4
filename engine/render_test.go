package engine

import (
	"fmt"
	"testing"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// TestPodKeys: the keys of a pod's metadata and spec that are decoded for
// templates are those some template of the config reads (nil: all).
func TestPodKeys(t *testing.T) {
	all := map[string]bool(nil)
	for _, tc := range []struct {
		value      string
		meta, spec map[string]bool
	}{
		{`static`, map[string]bool{}, map[string]bool{}},
		{`{% index .Annotations "a" %}{% label "b" %}`, map[string]bool{"annotations": true}, map[string]bool{}},
		{`{% .Name %}-{% .Namespace %}-{% .Spec.ServiceAccountName %}`, map[string]bool{"name": true, "namespace": true}, map[string]bool{"serviceAccountName": true}},
		{`{% with .OwnerReferences %}{% (index . 0).Name %}{% end %}`, map[string]bool{"ownerReferences": true}, map[string]bool{}},
		{`{% .ObjectMeta.Generation %}`, all, map[string]bool{}},
		{`{% toJson . %}`, all, all},
	} {
		inj, err := Load(config.Source{Name: "c.yaml", Data: fmt.Appendf(nil, `
containers:
- name: reader
  image: example.com/reader:1
  env:
  - {name: VALUE, value: '%s'}
mutationConfigs:
- {name: reader, annotationNamespace: x.io, annotationTrigger: inject, containers: [reader]}
`, tc.value)})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what      string
			got, want map[string]bool
		}{{"meta", inj.keys.meta, tc.meta}, {"spec", inj.keys.spec, tc.spec}} {
			if fmt.Sprint(c.got) != fmt.Sprint(c.want) || (c.got == nil) != (c.want == nil) {
				t.Errorf("%s: %s keys = %v, want %v", tc.value, c.what, c.got, c.want)
			}
		}
	}
}
