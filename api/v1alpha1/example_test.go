package v1alpha1_test

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// A config written in Go: marshalled, it is a document the injector loads.
// A Template holds its definition's JSON, template actions included (the
// injected sidecar's fields come in the order the document wrote them:
// sigs.k8s.io/yaml sorts them).
func Example() {
	cfg := v1alpha1.SidecarInjector{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: "platform-sidecars"},
		Spec: v1alpha1.SidecarInjectorSpec{
			Sidecars: v1alpha1.Sidecars{
				Containers: []v1alpha1.Template{{RawMessage: []byte(`{"name":"log-shipper","image":"example.com/shipper:2","args":["--app={% label \"app\" %}"]}`)}},
			},
			Mutations: []v1alpha1.Mutation{{
				Name:                "logging",
				AnnotationNamespace: "logging.example.com",
				AnnotationTrigger:   "inject",
				Containers:          []string{"log-shipper"},
			}},
		},
	}
	data, err := sigsyaml.Marshal(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	inj, err := engine.Load(config.Source{Name: "platform.yaml", Data: data})
	if err != nil {
		fmt.Println(err)
		return
	}
	pod := yaml.MustParse(`apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
  annotations: {logging.example.com/inject: "true"}
spec:
  containers:
  - name: web
    image: example.com/web:1
`)
	if err := inj.Inject(pod, engine.Options{}).Err(); err != nil {
		fmt.Println(err)
		return
	}
	shipper, _ := pod.Pipe(yaml.Lookup("spec", "containers", "[name=log-shipper]"))
	fmt.Print(shipper.MustString())
	// Output:
	// args:
	// - --app=web
	// image: example.com/shipper:2
	// name: log-shipper
}
