package template_test

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/template"
)

func pod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "web-0",
			Namespace:   "team-a",
			Annotations: map[string]string{"vault.k8s-integration.sfdc.com/role": "web"},
			Labels:      map[string]string{"app": "web"},
		},
		Spec: corev1.PodSpec{ServiceAccountName: "web-sa"},
	}
}

// Templates of the old injector work unchanged; {{ }} is plain text.
func ExampleParse() {
	tmpl, err := template.Parse("vault-agent", `secretName: aws-iam-{% .Spec.ServiceAccountName %}
role: {% index .Annotations "vault.k8s-integration.sfdc.com/role" %}
owner: "{% index .Annotations "absent" %}"
helm: {{ .Values.untouched }}`)
	if err != nil {
		panic(err)
	}
	out, err := tmpl.Execute(pod())
	fmt.Println(out, err)
	// Output:
	// secretName: aws-iam-web-sa
	// role: web
	// owner: ""
	// helm: {{ .Values.untouched }} <nil>
}

// annotation and label read the pod being rendered, with a default;
// toYaml writes sorted keys.
func ExampleTemplate_Execute() {
	tmpl, err := template.Parse("env", `env:
- name: VAULT_ROLE
  value: {% annotation "vault.k8s-integration.sfdc.com/role" | quote %}
- name: TIER
  value: {% label "tier" "backend" | quote %}
labels:{% toYaml .Labels | nindent 2 %}`)
	if err != nil {
		panic(err)
	}
	out, err := tmpl.Execute(pod())
	fmt.Println(out, err)
	// Output:
	// env:
	// - name: VAULT_ROLE
	//   value: "web"
	// - name: TIER
	//   value: "backend"
	// labels:
	//   app: web <nil>
}

// Errors name the line of the template; the caller adds where the template
// starts in its file, and its own context.
func ExampleError() {
	tmpl, err := template.Parse("vault-agent", `- name: VAULT_ROLE
  value: {% required "vault role annotation missing" (index .Annotations "vault.example.com/role") %}`)
	if err != nil {
		panic(err)
	}
	_, err = tmpl.Execute(pod())
	fmt.Println(err)

	var te *template.Error
	if errors.As(err, &te) {
		const firstLine = 40 // the template's first line in its config file
		fmt.Printf("sidecars.yaml:%d: sidecar %q: %v\n", firstLine+te.Line-1, te.Name, te.Err)
	}

	_, err = template.Parse("x", "a: 1\nb: {% now %}")
	fmt.Println(err)
	// Output:
	// line 2: error calling required: vault role annotation missing
	// sidecars.yaml:41: sidecar "vault-agent": error calling required: vault role annotation missing
	// line 2: function "now" is not available in sidecar templates (it reads the clock)
}

// Rendering is bounded: a loop beyond the step limit is refused at parse.
func Example_limits() {
	_, err := template.Parse("big", `{% range 1000000000 %}{% end %}`)
	fmt.Println(err)
	// Output:
	// line 1: range over 1000000000 exceeds the limit of 100000 iterations
}
