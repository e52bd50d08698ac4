package typednode_test

import (
	"fmt"

	"github.com/sidecar-injector/sidecar-injector/engine/typednode"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func ExampleDecode() {
	obj, err := yaml.Parse(`
name: agent
image: registry.example.com/agent:1
args: [--verbose, true, 8080]   # plain scalars into strings keep their text
ports:
- containerPort: 8080
resources:
  limits: {cpu: 500m}
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	var c corev1.Container
	if err := typednode.Decode(obj.YNode(), &c, typednode.Options{Strict: true}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %q %d %s\n", c.Name, c.Args, c.Ports[0].ContainerPort, c.Resources.Limits.Cpu())
	// Output:
	// agent ["--verbose" "true" "8080"] 8080 500m
}

func ExampleDecode_strict() {
	obj, err := yaml.Parse(`
name: agent
imagee: registry.example.com/agent:1
volumeMounts:
- name: data
  mountPath: [/data]
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	var c corev1.Container
	err = typednode.Decode(obj.YNode(), &c, typednode.Options{Strict: true})
	fmt.Println(err)
	// Output:
	// line 3, column 1: unknown field "imagee" (did you mean "image"?)
	// line 6, column 14: volumeMounts[0].mountPath: expected a string, found a list
}

func ExampleEncode() {
	n, err := typednode.Encode(&corev1.VolumeMount{Name: "data", MountPath: "/data", ReadOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(yaml.NewRNode(n).MustString())
	// Output:
	// name: data
	// readOnly: true
	// mountPath: /data
}
