package config

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/template"
)

// TestFieldRenderingEqualsTextRendering holds the shortcut to the
// contract: for every templated definition rendered field by field, and
// for pods whose values are awkward in YAML, the result equals rendering
// the text and parsing it, or both fail.
func TestFieldRenderingEqualsTextRendering(t *testing.T) {
	cfg, err := Load(Source{Name: "defs.yaml", Data: []byte(`
containers:
- name: plain
  image: example.com/a:{% label "version" %}
  args: ["--role={% annotation "role" %}", {% annotation "role" %}]
  env:
  - name: PLAIN
    value: {% annotation "role" %}
  - name: DOUBLE
    value: "x-{% annotation "role" %}"
  - name: SINGLE
    value: 'x-{% annotation "role" %}'
  - name: FOLDED
    value: >
      x-{% annotation "role" %}
  - name: SA
    value: aws-iam-{% .Spec.ServiceAccountName %}
- name: probe
  image: example.com/b:1
  livenessProbe:
    httpGet:
      port: {% annotation "port" "8080" %}
volumes:
- name: creds
  secret:
    secretName: aws-iam-{% .Spec.ServiceAccountName %}
mutationConfigs:
- {name: m, annotationNamespace: a.example.com, annotationTrigger: inject, containers: [plain, probe], volumes: [creds]}
`)})
	if err != nil {
		t.Fatal(err)
	}
	awkward := []string{"reader", "true", "123", "0x1F", "a: b", "a #b", "#x", "-x", "", "~", "null", `say "hi"`, "it's", `back\slash`, "multi\nline", "  padded ", "[x]", "x,y", "{x}", "*alias", "&anchor", "!tag", "%dir", "@at", "`tick`", "ünïcode"}
	var fast, both int
	for _, kind := range []Kind{Container, Volume} {
		for name, defs := range cfg.Sidecars.byKind[kind] {
			d := defs[0]
			if d.scalars != nil {
				fast++
			}
			if name == "probe" && d.scalars != nil {
				t.Errorf("probe: a templated IntOrString port must take the text path")
			}
			for _, v := range awkward {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
					Annotations: map[string]string{"role": v, "port": v},
					Labels:      map[string]string{"version": v},
				}, Spec: corev1.PodSpec{ServiceAccountName: v}}
				got, gotErr := d.Render(template.Typed(pod))
				want, wantErr := d.renderText(template.Typed(pod))
				if (gotErr != nil) != (wantErr != nil) {
					t.Errorf("%s with %q: field path error %v, text path error %v", name, v, gotErr, wantErr)
					continue
				}
				if gotErr == nil && !reflect.DeepEqual(yaml.NewRNode(got).MustString(), yaml.NewRNode(want).MustString()) {
					t.Errorf("%s with %q:\nfield path:\n%s\ntext path:\n%s", name, v, yaml.NewRNode(got).MustString(), yaml.NewRNode(want).MustString())
				}
				both++
			}
		}
	}
	if fast < 2 {
		t.Errorf("only %d definitions take the field path; the test proves nothing", fast)
	}
	t.Logf("%d renderings compared, %d definitions on the field path", both, fast)
}
