package model

import (
	"errors"
	"fmt"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
	"slices"
	"strings"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/suggest"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/typed"
)

// mutationSpec is a mutation as written, in every config form (the native
// kind adds imagePullSecrets, nativeSidecars and failurePolicy).
type mutationSpec struct {
	Name                                  string                `json:"name"`
	AnnotationNamespace                   string                `json:"annotationNamespace"`
	AnnotationTrigger                     string                `json:"annotationTrigger"`
	LabelTrigger                          bool                  `json:"labelTrigger"`
	InjectByDefault                       bool                  `json:"injectByDefault"`
	InitContainers                        []string              `json:"initContainers"`
	InitContainersBeforePodInitContainers []string              `json:"initContainersBeforePodInitContainers"`
	Containers                            []string              `json:"containers"`
	Volumes                               []string              `json:"volumes"`
	VolumeMounts                          []string              `json:"volumeMounts"`
	ImagePullSecrets                      []string              `json:"imagePullSecrets"`
	IgnoreNamespaces                      []string              `json:"ignoreNamespaces"`
	AnnotationConfig                      *annotationConfigSpec `json:"annotationConfig"`
	ImplementsSidecarLifecycle            bool                  `json:"implementsSidecarLifecycle"`
	NativeSidecars                        bool                  `json:"nativeSidecars"`
	FailurePolicy                         string                `json:"failurePolicy"`
}

type annotationConfigSpec struct {
	VolumeMounts []annotationVolumeMountsSpec `json:"volumeMounts"`
}

type annotationVolumeMountsSpec struct {
	Name              string   `json:"name"`
	ContainerRefs     []string `json:"containerRefs"`
	InitContainerRefs []string `json:"initContainerRefs"`
}

// pendingMutation is a decoded mutation waiting for every source to be read
// before its sidecar names are resolved.
type pendingMutation struct {
	spec mutationSpec
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

func (l *loader) loadMutations(d *doc, seq *yaml.Node, path string, oldForm bool) {
	if seq.Tag == "!!null" {
		return
	}
	if seq.Kind != yaml.SequenceNode {
		d.problem(l, seq, "%s must be a list, found %s", path, yamlnode.Describe(seq))
		return
	}
	for i, item := range seq.Content {
		var spec mutationSpec
		partial := false
		if err := typed.Decode(item, &spec); err != nil {
			partial = true
			l.decodeProblems(d, item, fmt.Sprintf("%s[%d]", path, i), err)
			// With only unknown or duplicate fields, what it lists is
			// still checked (the names it refers to), so that one run
			// reports everything; a value of the wrong type leaves a field
			// unset, which would be reported again as missing.
			if te := (*typed.Error)(nil); errors.As(err, &te) && te.Mismatch {
				continue
			}
		}
		l.mutations = append(l.mutations, pendingMutation{spec: spec, node: item, doc: d, oldForm: oldForm, partial: partial})
	}
}

// decodeProblems reports the problems of a typed decode at their lines.
func (l *loader) decodeProblems(d *doc, n *yaml.Node, path string, err error) {
	var te *typed.Error
	if !errors.As(err, &te) {
		d.problem(l, n, "%s: %v", path, err)
		return
	}
	for _, p := range te.Problems {
		where := path
		if p.Path != "" {
			where += "." + p.Path
		}
		line := p.Line
		if line > 0 {
			line += d.lineOffset
		}
		l.problems.add(d.file, line, p.Column, "%s: %s", where, p.Message)
	}
}

// resolve checks every mutation against every definition and builds the
// Config.
func (l *loader) resolve() *Config {
	cfg := &Config{Sidecars: l.sidecars, IgnoreNamespaces: DefaultIgnoreNamespaces, WorkloadKinds: l.workloads}
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

func (l *loader) resolveMutation(pm pendingMutation, seen map[string]Position) *Mutation {
	d, s, n := pm.doc, pm.spec, pm.node
	before := len(l.problems.list)
	pos := Position{File: d.file, Line: n.Line + d.lineOffset}
	label := fmt.Sprintf("mutation %q", s.Name)
	if s.Name == "" {
		d.problem(l, n, "mutation has no name")
		label = "mutation"
	} else if first, ok := seen[s.Name]; ok {
		d.problem(l, yamlnode.Field(n, "name"), "mutation %q is defined twice: first at %s", s.Name, first)
	} else {
		seen[s.Name] = pos
	}
	switch {
	case s.AnnotationNamespace == "":
		d.problem(l, n, "%s: annotationNamespace is not set: set the annotation prefix that triggers it, for example logging.example.com", label)
	case s.AnnotationTrigger == "":
		d.problem(l, n, "%s: annotationTrigger is not set: set the annotation name that triggers it, for example inject (the pod then carries %s/inject: \"true\")", label, s.AnnotationNamespace)
	default:
		key := s.AnnotationNamespace + "/" + s.AnnotationTrigger
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
	m := &Mutation{
		Name:                       s.Name,
		AnnotationNamespace:        s.AnnotationNamespace,
		AnnotationTrigger:          s.AnnotationTrigger,
		LabelTrigger:               s.LabelTrigger,
		InjectByDefault:            s.InjectByDefault,
		IgnoreNamespaces:           s.IgnoreNamespaces,
		ImplementsSidecarLifecycle: s.ImplementsSidecarLifecycle,
		NativeSidecars:             s.NativeSidecars,
		FailurePolicy:              Fail,
		Source:                     pos,
	}
	switch FailurePolicy(s.FailurePolicy) {
	case "", Fail:
	case Ignore:
		m.FailurePolicy = Ignore
	default:
		d.problem(l, yamlnode.Field(n, "failurePolicy"), "%s: failurePolicy %q is not Fail or Ignore", label, s.FailurePolicy)
	}
	brokenRef := false
	resolve := func(kind Kind, field string, names []string) []*Definition {
		var out []*Definition
		list := yamlnode.Field(n, field)
		for i, name := range names {
			at := list
			if list != nil && i < len(list.Content) {
				at = list.Content[i]
			}
			if slices.Index(names, name) < i {
				d.problem(l, at, "%s: %s: %q is listed twice", label, field, name)
				continue
			}
			defs := l.sidecars.Lookup(kind, name)
			if len(defs) == 0 && slices.Contains(l.broken[kind], name) {
				brokenRef = true
				continue
			}
			if len(defs) == 0 {
				l.report(pm, at, fmt.Sprintf("%s: %s: no %s named %q is defined%s", label, field, kind, name, l.definedHint(kind, name)))
				continue
			}
			out = append(out, defs...)
		}
		return out
	}
	beforeSet := s.InitContainersBeforePodInitContainers
	m.BeforePodInitContainers = resolve(InitContainer, "initContainersBeforePodInitContainers", beforeSet)
	for _, def := range resolve(InitContainer, "initContainers", s.InitContainers) {
		if !slices.Contains(beforeSet, def.Name) {
			m.InitContainers = append(m.InitContainers, def)
		}
	}
	m.Containers = resolve(Container, "containers", s.Containers)
	m.Volumes = resolve(Volume, "volumes", s.Volumes)
	m.VolumeMounts = resolve(VolumeMount, "volumeMounts", s.VolumeMounts)
	m.ImagePullSecrets = resolve(ImagePullSecret, "imagePullSecrets", s.ImagePullSecrets)
	for _, c := range m.Containers {
		if slices.ContainsFunc(append(slices.Clone(m.BeforePodInitContainers), m.InitContainers...), func(ic *Definition) bool { return ic.Name == c.Name }) {
			at := yamlnode.Field(n, "containers")
			d.problem(l, at, "%s: %q is both a container and an init container of this mutation, and a pod cannot hold two containers of one name: rename one", label, c.Name)
		}
	}
	if !brokenRef && !pm.partial && len(l.problems.list) == before && len(m.BeforePodInitContainers)+len(m.InitContainers)+len(m.Containers)+len(m.Volumes)+len(m.VolumeMounts)+len(m.ImagePullSecrets) == 0 {
		d.problem(l, n, "%s injects nothing: it names no sidecar that is defined", label)
	}
	if s.AnnotationConfig != nil {
		acNode := yamlnode.Field(yamlnode.Field(n, "annotationConfig"), "volumeMounts")
		for i, vm := range s.AnnotationConfig.VolumeMounts {
			at := acNode
			if acNode != nil && i < len(acNode.Content) {
				at = acNode.Content[i]
			}
			if vm.Name == "" {
				d.problem(l, at, "%s: annotationConfig.volumeMounts[%d] has no name (the annotation %s/<name> holds the mounts)", label, i, s.AnnotationNamespace)
				continue
			}
			for _, ref := range vm.ContainerRefs {
				if !slices.Contains(s.Containers, ref) {
					d.problem(l, at, "%s: annotationConfig.volumeMounts[%d].containerRefs: %q is not one of the mutation's containers %q", label, i, ref, s.Containers)
				}
			}
			for _, ref := range vm.InitContainerRefs {
				if !slices.Contains(s.InitContainers, ref) && !slices.Contains(beforeSet, ref) {
					d.problem(l, at, "%s: annotationConfig.volumeMounts[%d].initContainerRefs: %q is not one of the mutation's init containers %q", label, i, ref, s.InitContainers)
				}
			}
			m.AnnotationConfig.VolumeMounts = append(m.AnnotationConfig.VolumeMounts, AnnotationVolumeMounts(vm))
		}
	}
	if len(l.problems.list) > before {
		return nil
	}
	return m
}

// report is an error, or for a mutation of the old injector's form a
// warning: the old injector accepted it, and its configs must load.
func (l *loader) report(pm pendingMutation, n *yaml.Node, msg string) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line+pm.doc.lineOffset, n.Column
	}
	if pm.oldForm {
		l.warnings.add(pm.doc.file, line, col, "%s (the old injector ignored this; in a %s it is an error)", msg, NativeKind)
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
