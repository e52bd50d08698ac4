package engine

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// podTemplate is where a resource keeps the pod it stands for.
type podTemplate struct {
	// template holds metadata and spec: the resource itself for a Pod.
	template *yaml.Node
	// path leads from the resource to template (shared: never modified).
	path []string
	// owner is the workload's own metadata, nil for a Pod: a trigger put
	// there by mistake is worth a warning.
	owner *yaml.Node
	// kind of the resource, for messages.
	kind string
	// jobLike: the API requires a restartPolicy in this kind's pod
	// template (Job, CronJob), so one that is absent means short-lived.
	jobLike bool
	// namespace of the resource, "" when it carries none.
	namespace string
}

func (p *podTemplate) meta() *yaml.Node { return yamlnode.Field(p.template, "metadata") }
func (p *podTemplate) spec() *yaml.Node { return yamlnode.Field(p.template, "spec") }

// findPodTemplate locates the pod template of a resource: a Pod, a
// built-in workload, or a kind the config names.
func findPodTemplate(r *yaml.Node, kinds []model.WorkloadKind) (*podTemplate, bool) {
	if r == nil || r.Kind != yaml.MappingNode {
		return nil, false
	}
	kind := yamlnode.String(r, "kind")
	group, _, _ := strings.Cut(yamlnode.String(r, "apiVersion"), "/")
	if !strings.Contains(yamlnode.String(r, "apiVersion"), "/") {
		group = ""
	}
	meta := yamlnode.Field(r, "metadata")
	p := &podTemplate{kind: kind, namespace: yamlnode.String(meta, "namespace")}
	if group == "" && kind == "Pod" {
		if yamlnode.Field(r, "spec") == nil {
			return nil, false
		}
		p.template = r
		return p, true
	}
	path, ok := model.BuiltinPodTemplatePath(group, kind)
	if !ok {
		for _, wk := range kinds {
			if wk.Kind == kind && (wk.AnyGroup || wk.Group == group) {
				path, ok = wk.PodTemplatePath, true
				break
			}
		}
	}
	if !ok {
		return nil, false
	}
	t := yamlnode.Path(r, path...)
	if t == nil || t.Kind != yaml.MappingNode || yamlnode.Field(t, "spec") == nil {
		return nil, false
	}
	p.template, p.owner, p.path = t, meta, path
	p.jobLike = group == "batch" && (kind == "Job" || kind == "CronJob")
	return p, true
}

// shortLived reports whether the pod runs to completion, so that sidecar
// containers would keep it from ever finishing.
func (p *podTemplate) shortLived() bool {
	switch yamlnode.String(p.spec(), "restartPolicy") {
	case "Never", "OnFailure":
		return true
	case "":
		return p.jobLike
	}
	return false
}

// annotation returns a pod annotation and whether it is set.
func annotation(meta *yaml.Node, key string) (string, bool) {
	return metaValue(meta, "annotations", key)
}

// metaValue returns the value of key in metadata's annotations or labels
// (field) and whether it is set.
func metaValue(meta *yaml.Node, field, key string) (string, bool) {
	v := yamlnode.Field(yamlnode.Field(meta, field), key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return "", false
	}
	return v.Value, true
}

// checkShape makes sure that the parts of a pod template injection writes
// to are shaped as Kubernetes has them, so that what injection adds lands
// where the API server will read it: metadata and its annotations
// mappings, spec a mapping, its lists of containers, volumes and pull
// secrets lists of mappings, each container's volumeMounts too. Absent or
// null is fine (injection creates them).
func checkShape(p *podTemplate) error {
	// Paths are joined only for an error: checkShape runs on every pod.
	at := func(path ...string) string { return strings.Join(append(slices.Clone(p.path), path...), ".") }
	meta := yamlnode.Field(p.template, "metadata")
	switch {
	case !isMappingOrNull(meta):
		return fmt.Errorf("%s is %s, not a mapping: the pod cannot be injected", at("metadata"), yamlnode.Describe(meta))
	case !isMappingOrNull(yamlnode.Field(meta, "annotations")):
		return fmt.Errorf("%s is %s, not a mapping: the pod cannot be injected", at("metadata", "annotations"), yamlnode.Describe(yamlnode.Field(meta, "annotations")))
	case p.spec() == nil || p.spec().Kind != yaml.MappingNode:
		return fmt.Errorf("%s is %s, not a mapping: the pod cannot be injected", at("spec"), yamlnode.Describe(p.spec()))
	}
	for _, list := range []string{"initContainers", "containers", "volumes", "imagePullSecrets"} {
		if err := checkMappings(yamlnode.Field(p.spec(), list), func() string { return at("spec", list) }); err != nil {
			return err
		}
	}
	for _, list := range []string{"initContainers", "containers"} {
		for i, c := range yamlnode.Items(yamlnode.Field(p.spec(), list)) {
			if err := checkMappings(yamlnode.Field(c, "volumeMounts"), func() string { return fmt.Sprintf("%s[%d].volumeMounts", at("spec", list), i) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func isMappingOrNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.MappingNode || yaml.IsYNodeTaggedNull(n)
}

// checkMappings checks that n, absent or null, or a list of mappings; path
// names it in the error.
func checkMappings(n *yaml.Node, path func() string) error {
	if n == nil || yaml.IsYNodeTaggedNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s is %s, not a list: the pod cannot be injected", path(), yamlnode.Describe(n))
	}
	for i, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("%s[%d] is %s, not a mapping: the pod cannot be injected", path(), i, yamlnode.Describe(item))
		}
	}
	return nil
}
