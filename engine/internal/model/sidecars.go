package model

import (
	"cmp"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/typed"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// loadSidecarLists compiles the definition lists of one document (the old
// injector's sidecar file, or a SidecarInjector's spec.sidecars), whose
// paths path prefixes. A list that is not one is reported by the
// document's decode.
func (l *loader) loadSidecarLists(d *doc, path string) {
	for _, kind := range kinds {
		seq := typed.Node(d.root, path+kind.Field())
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for i, item := range seq.Content {
			l.loadDefinition(d, kind, item, fmt.Sprintf("%s%s[%d]", path, kind.Field(), i))
		}
	}
}

func (l *loader) loadDefinition(d *doc, kind Kind, item *yaml.Node, path string) {
	d.ph.take(item) // its actions are this definition's, reported with it
	if item.Kind != yaml.MappingNode {
		d.problem(l, item, "%s must be a mapping, found %s", path, yamlnode.Describe(item))
		return
	}
	name, nameNode := yamlnode.String(item, "name"), yamlnode.Field(item, "name")
	if name == "" {
		d.problem(l, item, "%s has no name: every %s needs one, since mutations refer to it by name", path, kind)
		return
	}
	if d.ph.hasTokens(name) {
		d.problem(l, nameNode, "%s: the name of a %s cannot be a template, since mutations refer to it by name", path, kind)
		return
	}
	pos := d.position(item)
	if kind == VolumeMount {
		mountPath := yamlnode.String(item, "mountPath")
		key := [2]string{name, mountPath}
		if l.mounts == nil {
			l.mounts = map[[2]string]Position{}
		}
		if first, ok := l.mounts[key]; ok {
			d.problem(l, item, "volume mount of %q at %q is defined twice: first at %s", name, mountPath, first)
			return
		}
		l.mounts[key] = pos
	} else {
		if l.names[kind] == nil {
			l.names[kind] = map[string]Position{}
		}
		if first, ok := l.names[kind][name]; ok {
			d.problem(l, nameNode, "%s %q is defined twice: first at %s", kind, name, first)
			return
		}
		l.names[kind][name] = pos
	}
	def, probs := compile(kind, name, pos, item, d)
	for _, p := range probs {
		p.File, p.Line = d.file, cmp.Or(p.Line, pos.Line)
		p.Message = fmt.Sprintf("%s %q: %s", kind, name, p.Message)
	}
	l.problems.list = append(l.problems.list, probs...)
	if def != nil {
		l.sidecars.add(def)
	} else {
		// Reported above; mutations naming it need no second message.
		l.broken[kind] = append(l.broken[kind], name)
	}
}
