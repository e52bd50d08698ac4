package engine_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// TestTemplatesReadMetadata: templates read annotations and labels as the
// trigger reads them (a scalar as written, the last of duplicate keys;
// null as empty, as encoding/json read it), the other keys templates read decoded as the API server
// would, those they do not read not at all; a value that is no string is
// an error that names it.
func TestTemplatesReadMetadata(t *testing.T) {
	inj, err := engine.Load(config.Source{Name: "c.yaml", Data: []byte(`
containers:
- name: reader
  image: example.com/reader:1
  env:
  - {name: VALUE, value: '{% index .Annotations "x.io/value" %}|{% index .Labels "team" %}|{% .Name %}|{% with .OwnerReferences %}{% (index . 0).Kind %}{% end %}'}
mutationConfigs:
- {name: reader, annotationNamespace: x.io, annotationTrigger: inject, containers: [reader]}
`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, meta, want, wantErr string
	}{
		{name: "strings", meta: `labels: {team: a}
  annotations: {x.io/value: "v"}`, want: "v|a|web|"},
		{name: "number and boolean as written", meta: `labels: {team: true}
  annotations: {x.io/value: 0123}`, want: "0123|true|web|"},
		{name: "null is empty", meta: `labels: {team: null}
  annotations: {x.io/value: ~}`, want: "||web|"},
		{name: "last of duplicate keys", meta: `labels: {team: a, team: b}
  annotations: {x.io/value: first, x.io/value: last}`, want: "last|b|web|"},
		{name: "rest of the metadata decoded", meta: `ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: u}]`, want: "||web|ReplicaSet"},
		{name: "mapping value", meta: `annotations: {x.io/value: {nested: v}}`,
			wantErr: `reading the pod's metadata for templates: metadata.annotations.x.io/value is a mapping, not a string`},
		{name: "list label", meta: `labels: {team: [a]}`,
			wantErr: `reading the pod's metadata for templates: metadata.labels.team is a list, not a string`},
		{name: "wrong type in a key templates read", meta: `ownerReferences: many`,
			wantErr: `reading the pod's metadata for templates: json: cannot unmarshal string into Go struct field ObjectMeta.ownerReferences of type []v1.OwnerReference`},
		{name: "a key no template reads is not decoded", meta: `generation: many`, want: "||web|"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta := strings.Replace("  "+tc.meta, "annotations: {", "annotations: {x.io/inject: \"true\", ", 1)
			if !strings.Contains(meta, "annotations:") {
				meta += "\n  annotations: {x.io/inject: \"true\"}"
			}
			n := yaml.MustParse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n" + meta + "\nspec:\n  containers: [{name: app, image: example.com/app:1}]\n")
			rep := inj.Inject(n, engine.Options{})
			if tc.wantErr != "" {
				if err := rep.Err(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err := rep.Err(); err != nil {
				t.Fatal(err)
			}
			v, err := n.Pipe(yaml.Lookup("spec", "containers", "[name=reader]", "env", "[name=VALUE]", "value"))
			if err != nil || v == nil {
				t.Fatalf("no VALUE: %v\n%s", err, n.MustString())
			}
			if got := v.YNode().Value; got != tc.want {
				t.Errorf("VALUE = %q, want %q", got, tc.want)
			}
		})
	}
}
