package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/suggest"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/typed"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// pendingMutation is a decoded mutation waiting for every source to be read
// before its sidecar names are resolved.
type pendingMutation struct {
	spec v1alpha1.Mutation
	node *yaml.Node
	doc  *doc
	// oldForm: written for the old injector, which skipped names of
	// sidecars that do not exist. Real configs rely on that, so such a name
	// is a warning there, and an error in a SidecarInjector.
	oldForm bool
	// partial: the mutation did not decode whole (reported), so what it
	// lists may be missing.
	partial bool
}

// resolve checks every mutation against every definition and builds the
// Config.
func (l *loader) resolve() *Config {
	cfg := &Config{Sidecars: l.sidecars, IgnoreNamespaces: defaultIgnoreNamespaces, WorkloadKinds: l.workloads}
	if l.ignoreSet {
		cfg.IgnoreNamespaces = l.ignore
	}
	seen := map[string]Position{}
	for _, pm := range l.mutations {
		if m := l.resolveMutation(pm, seen); m != nil {
			cfg.Mutations = append(cfg.Mutations, m)
		}
	}
	cfg.Warnings = l.warnings.list
	return cfg
}

// resolveMutation checks a mutation and resolves the names it lists; nil
// when it has problems (reported).
func (l *loader) resolveMutation(pm pendingMutation, seen map[string]Position) *Mutation {
	before := len(l.problems.list)
	m := &Mutation{Mutation: pm.spec, Source: pm.doc.position(pm.node)}
	label := l.checkName(pm, m.Source, seen)
	l.checkTrigger(pm, label)
	switch m.FailurePolicy {
	case "":
		m.FailurePolicy = v1alpha1.Fail
	case v1alpha1.Fail, v1alpha1.Ignore:
	default:
		pm.doc.problem(l, yamlnode.Field(pm.node, "failurePolicy"), "%s: failurePolicy %q is not Fail or Ignore", label, m.FailurePolicy)
	}
	var brokenRef bool
	m.Resolved, brokenRef = l.resolveSidecars(pm, label)
	r := m.Resolved
	if !brokenRef && !pm.partial && len(l.problems.list) == before && len(r.BeforePodInitContainers)+len(r.InitContainers)+len(r.Containers)+len(r.Volumes)+len(r.VolumeMounts)+len(r.ImagePullSecrets) == 0 {
		pm.doc.problem(l, pm.node, "%s injects nothing: it names no sidecar that is defined", label)
	}
	l.checkAnnotationConfig(pm, label)
	if len(l.problems.list) > before {
		return nil
	}
	return m
}

// checkName reports a missing or duplicate name and returns how messages
// name the mutation.
func (l *loader) checkName(pm pendingMutation, pos Position, seen map[string]Position) string {
	name := pm.spec.Name
	if name == "" {
		pm.doc.problem(l, pm.node, "mutation has no name")
		return "mutation"
	}
	if first, ok := seen[name]; ok {
		pm.doc.problem(l, yamlnode.Field(pm.node, "name"), "mutation %q is defined twice: first at %s", name, first)
	} else {
		seen[name] = pos
	}
	return fmt.Sprintf("mutation %q", name)
}

// checkTrigger reports a trigger key that is missing or that no pod can
// carry.
func (l *loader) checkTrigger(pm pendingMutation, label string) {
	d, s, n := pm.doc, &pm.spec, pm.node
	switch {
	case s.AnnotationNamespace == "":
		d.problem(l, n, "%s: annotationNamespace is not set: set the annotation prefix that triggers it, for example logging.example.com", label)
	case s.AnnotationTrigger == "":
		d.problem(l, n, "%s: annotationTrigger is not set: set the annotation name that triggers it, for example inject (the pod then carries %s/inject: \"true\")", label, s.AnnotationNamespace)
	default:
		key := s.TriggerKey()
		errs := validation.IsQualifiedName(key)
		switch {
		case len(errs) == 0:
		case s.LabelTrigger:
			// Never in the old injector's files: an error in every form.
			d.problem(l, yamlnode.Field(n, "labelTrigger"), "%s: labelTrigger: %q is not a valid label key, so no pod can carry it: %s", label, key, strings.Join(errs, "; "))
		default:
			l.report(pm, n, fmt.Sprintf("%s: %q is not a valid annotation key, so no pod can carry it: %s", label, key, strings.Join(errs, "; ")))
		}
	}
}

// resolveSidecars looks up the definitions a mutation names. brokenRef: it
// names a definition that failed to compile (reported with it).
func (l *loader) resolveSidecars(pm pendingMutation, label string) (r Resolved, brokenRef bool) {
	s := &pm.spec
	resolve := func(kind Kind, field string, names []string) []*Definition {
		var out []*Definition
		for i, name := range names {
			at := cmp.Or(typed.Node(pm.node, fmt.Sprintf("%s[%d]", field, i)), pm.node)
			defs := l.sidecars.Lookup(kind, name)
			switch {
			case slices.Index(names, name) < i:
				pm.doc.problem(l, at, "%s: %s: %q is listed twice", label, field, name)
			case len(defs) == 0 && slices.Contains(l.broken[kind], name):
				brokenRef = true
			case len(defs) == 0:
				l.report(pm, at, fmt.Sprintf("%s: %s: no %s named %q is defined%s", label, field, kind, name, l.definedHint(kind, name)))
			default:
				out = append(out, defs...)
			}
		}
		return out
	}
	r.BeforePodInitContainers = resolve(InitContainer, "initContainersBeforePodInitContainers", s.InitContainersBeforePodInitContainers)
	for _, def := range resolve(InitContainer, "initContainers", s.InitContainers) {
		if !slices.Contains(s.InitContainersBeforePodInitContainers, def.Name) {
			r.InitContainers = append(r.InitContainers, def)
		}
	}
	r.Containers = resolve(Container, "containers", s.Containers)
	r.Volumes = resolve(Volume, "volumes", s.Volumes)
	r.VolumeMounts = resolve(VolumeMount, "volumeMounts", s.VolumeMounts)
	r.ImagePullSecrets = resolve(ImagePullSecret, "imagePullSecrets", s.ImagePullSecrets)
	for _, c := range r.Containers {
		if slices.ContainsFunc(append(slices.Clone(r.BeforePodInitContainers), r.InitContainers...), func(ic *Definition) bool { return ic.Name == c.Name }) {
			pm.doc.problem(l, yamlnode.Field(pm.node, "containers"), "%s: %q is both a container and an init container of this mutation, and a pod cannot hold two containers of one name: rename one", label, c.Name)
		}
	}
	return r, brokenRef
}

// checkAnnotationConfig reports annotationConfig entries without a name or
// naming containers the mutation does not inject.
func (l *loader) checkAnnotationConfig(pm pendingMutation, label string) {
	s := &pm.spec
	for i, vm := range s.AnnotationConfig.VolumeMounts {
		at := cmp.Or(typed.Node(pm.node, fmt.Sprintf("annotationConfig.volumeMounts[%d]", i)), pm.node)
		if vm.Name == "" {
			pm.doc.problem(l, at, "%s: annotationConfig.volumeMounts[%d] has no name (the annotation %s/<name> holds the mounts)", label, i, s.AnnotationNamespace)
			continue
		}
		for _, ref := range vm.ContainerRefs {
			if !slices.Contains(s.Containers, ref) {
				pm.doc.problem(l, at, "%s: annotationConfig.volumeMounts[%d].containerRefs: %q is not one of the mutation's containers %q", label, i, ref, s.Containers)
			}
		}
		for _, ref := range vm.InitContainerRefs {
			if !slices.Contains(s.InitContainers, ref) && !slices.Contains(s.InitContainersBeforePodInitContainers, ref) {
				pm.doc.problem(l, at, "%s: annotationConfig.volumeMounts[%d].initContainerRefs: %q is not one of the mutation's init containers %q", label, i, ref, s.InitContainers)
			}
		}
	}
}

// report is an error, or for a mutation of the old injector's form a
// warning: the old injector accepted it, and its configs must load.
func (l *loader) report(pm pendingMutation, n *yaml.Node, msg string) {
	line, col := pm.doc.at(n)
	if pm.oldForm {
		l.warnings.add(pm.doc.file, line, col, "%s (the old injector ignored this; in a %s it is an error)", msg, v1alpha1.Kind)
		return
	}
	l.problems.add(pm.doc.file, line, col, "%s", msg)
}

// definedHint helps with a name that is not defined: a near name of the
// same kind, or the same name defined as another kind.
func (l *loader) definedHint(kind Kind, name string) string {
	for _, other := range kinds {
		if other != kind && len(l.sidecars.Lookup(other, name)) > 0 {
			return fmt.Sprintf(" (there is a %s of that name: list it under %s)", other, other.Field())
		}
	}
	names := slices.Clone(l.broken[kind])
	for n := range l.sidecars.byKind[kind] {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return fmt.Sprintf(" (no %s is defined at all: was the sidecar config loaded?)", kind)
	}
	return suggest.DidYouMean(name, names)
}
