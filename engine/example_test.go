package engine_test

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

func Example() {
	inj, err := engine.Load(config.Source{Name: "platform.yaml", Data: []byte(`
apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata:
  name: platform
spec:
  sidecars:
    containers:
    - name: log-shipper
      image: example.com/shipper:2
      env:
      - name: APP
        value: '{% label "app" %}'
  mutations:
  - name: logging
    annotationNamespace: logging.example.com
    annotationTrigger: inject
    containers: [log-shipper]
`)})
	if err != nil {
		fmt.Println(err)
		return
	}
	pod := yaml.MustParse(`
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
  annotations: {logging.example.com/inject: "true"}
spec:
  containers:
  - name: app
    image: example.com/web:1
`)
	report := inj.Inject(pod, engine.Options{Namespace: "shop"})
	for _, in := range report.Injected {
		fmt.Println("injected", in.Mutation, in.Containers)
	}
	containers, _ := pod.Pipe(yaml.Lookup("spec", "containers"))
	fmt.Print(containers.MustString())
	// Output:
	// injected logging [log-shipper]
	// - name: app
	//   image: example.com/web:1
	// - name: log-shipper
	//   image: example.com/shipper:2
	//   env:
	//   - name: APP
	//     value: web
}

func ExampleReport_Err() {
	inj, _ := engine.Load(config.Source{Name: "vault.yaml", Data: []byte(`
containers:
- name: vault-agent
  image: example.com/vault:1
  args: ['-role={% required "set the vault.example.com/role annotation" (index .Annotations "vault.example.com/role") %}']
mutationConfigs:
- name: vault
  annotationNamespace: vault.example.com
  annotationTrigger: inject
  containers: [vault-agent]
`)})
	pod := yaml.MustParse(`
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations: {vault.example.com/inject: "true"}
spec:
  containers: [{name: app, image: example.com/web:1}]
`)
	report := inj.Inject(pod, engine.Options{})
	fmt.Println(report.Err())
	fmt.Println("changed:", report.Changed())
	// Output:
	// mutation "vault": sidecar "vault-agent": vault.yaml:5: args[0]: error calling required: set the vault.example.com/role annotation
	// changed: false
}
