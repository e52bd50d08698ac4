package e2e

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// fnParse reads a multi-document YAML stream into resource nodes.
func fnParse(t testing.TB, text string) []*yaml.RNode {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(text), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("parsing output: %v\n%s", err, text)
	}
	return nodes
}

// fnIndex maps "Kind/name" to the resource, failing on a duplicate.
func fnIndex(t testing.TB, nodes []*yaml.RNode) map[string]*yaml.RNode {
	t.Helper()
	m := map[string]*yaml.RNode{}
	for _, n := range nodes {
		id := n.GetKind() + "/" + n.GetName()
		if _, dup := m[id]; dup {
			t.Errorf("%s appears twice in the output", id)
		}
		m[id] = n
	}
	return m
}

// fnPodSpec finds a workload's pod spec (Pod, CronJob or a template kind).
func fnPodSpec(t testing.TB, n *yaml.RNode) *yaml.RNode {
	t.Helper()
	var path []string
	switch n.GetKind() {
	case "Pod":
		path = []string{"spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	default:
		path = []string{"spec", "template", "spec"}
	}
	spec, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || spec == nil {
		t.Fatalf("%s/%s: no pod spec at %s", n.GetKind(), n.GetName(), strings.Join(path, "."))
	}
	return spec
}

// fnPodAnnotations are the annotations of a workload's pod (template).
func fnPodAnnotations(t testing.TB, n *yaml.RNode) map[string]string {
	t.Helper()
	if n.GetKind() == "Pod" {
		return n.GetAnnotations()
	}
	path := []string{"spec", "template", "metadata"}
	if n.GetKind() == "CronJob" {
		path = []string{"spec", "jobTemplate", "spec", "template", "metadata"}
	}
	md, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || md == nil {
		return nil
	}
	out := map[string]string{}
	a, _ := md.Pipe(yaml.Lookup("annotations"))
	if a == nil {
		return out
	}
	_ = a.VisitFields(func(f *yaml.MapNode) error {
		out[f.Key.YNode().Value] = f.Value.YNode().Value
		return nil
	})
	return out
}

// fnNames lists the names in a list field of a pod spec
// (containers, initContainers, volumes, imagePullSecrets).
func fnNames(spec *yaml.RNode, field string) []string {
	list, err := spec.Pipe(yaml.Lookup(field))
	if err != nil || list == nil {
		return nil
	}
	var names []string
	for _, e := range list.Content() {
		names = append(names, fnField(yaml.NewRNode(e), "name"))
	}
	return names
}

// fnScalars lists the values of a list of scalars (a container's args).
func fnScalars(n *yaml.RNode, field string) []string {
	list, err := n.Pipe(yaml.Lookup(field))
	if err != nil || list == nil {
		return nil
	}
	var out []string
	for _, e := range list.Content() {
		out = append(out, e.Value)
	}
	return out
}

// fnItem returns the named element of a list field of a pod spec.
func fnItem(t testing.TB, spec *yaml.RNode, field, name string) *yaml.RNode {
	t.Helper()
	e, err := spec.Pipe(yaml.Lookup(field, "[name="+name+"]"))
	if err != nil || e == nil {
		t.Fatalf("no %s named %q in\n%s", field, name, spec.MustString())
	}
	return e
}

// fnField is a scalar field's value ("" when absent).
func fnField(n *yaml.RNode, path ...string) string {
	v, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || v == nil {
		return ""
	}
	return yaml.GetValue(v)
}

func fnEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }
