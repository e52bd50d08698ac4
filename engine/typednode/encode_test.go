package typednode

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestEncode(t *testing.T) {
	c := corev1.Container{
		Name:  "agent",
		Image: "agent:1",
		Args:  []string{"true", "123"},
		Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
		},
	}
	n, err := Encode(&c)
	if err != nil {
		t.Fatal(err)
	}
	// Go struct order, omitempty applied, strings that look like other
	// types quoted.
	want := `name: agent
image: agent:1
args:
- "true"
- "123"
ports:
- containerPort: 8080
resources:
  limits:
    cpu: 500m
`
	if got := yaml.NewRNode(n).MustString(); got != want {
		t.Errorf("Encode:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Encode(func() {}); err == nil {
		t.Error("Encode of a func: no error")
	}
}

// Decoding what Encode made gives the value back.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	src, err := os.ReadFile("testdata/container.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c corev1.Container
	if err := Decode(parse(t, string(src)), &c, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	n, err := Encode(&c)
	if err != nil {
		t.Fatal(err)
	}
	var back corev1.Container
	if err := Decode(n, &back, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back, cmpOptions); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
