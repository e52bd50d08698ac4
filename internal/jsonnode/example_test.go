package jsonnode_test

import (
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
)

func ExampleDecode() {
	n, err := jsonnode.Decode([]byte(`{"name":"app","args":["--port","8080"],"replicas":3,"debug":"true"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The node plugs into kyaml as it is.
	obj := yaml.NewRNode(n)
	name, _ := obj.Pipe(yaml.Lookup("name"))
	fmt.Println("name:", name.YNode().Value)
	fmt.Print(obj.MustString())
	// Output:
	// name: app
	// name: app
	// args:
	// - --port
	// - "8080"
	// replicas: 3
	// debug: "true"
}

func ExampleDecode_error() {
	_, err := jsonnode.Decode([]byte(`{"name": "app" "image": "nginx"}`))
	fmt.Println(err)
	// Output:
	// offset 15: expected ',' or '}' after object member
}

func ExampleMarshal() {
	obj, err := yaml.Parse(`
name: app   # YAML spellings become JSON values
ports: [0x1F90, 8_443]
ratio: .5
enabled: true
note: <none>
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := jsonnode.Marshal(obj.YNode())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// {"name":"app","ports":[8080,8443],"ratio":0.5,"enabled":true,"note":"\u003cnone\u003e"}
}
