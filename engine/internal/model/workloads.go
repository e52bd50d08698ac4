package model

import (
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// loadWorkloadKind checks one entry of spec.workloadKinds, written at n.
func (l *loader) loadWorkloadKind(d *doc, spec v1alpha1.WorkloadKind, n *yaml.Node, path string) {
	wk := WorkloadKind{AnyGroup: true, Kind: spec.Kind, Source: d.position(n)}
	if spec.APIVersion != "" {
		wk.AnyGroup = false
		if group, _, ok := strings.Cut(spec.APIVersion, "/"); ok {
			wk.Group = group // else "v1": the core group
		}
	}
	switch {
	case wk.Kind == "":
		d.problem(l, n, "%s.kind is required", path)
		return
	case spec.PodTemplatePath == "":
		d.problem(l, n, "%s.podTemplatePath is required, for example spec.template", path)
		return
	}
	wk.PodTemplatePath = strings.Split(spec.PodTemplatePath, ".")
	if slices.Contains(wk.PodTemplatePath, "") {
		d.problem(l, yamlnode.Field(n, "podTemplatePath"), "%s.podTemplatePath %q has an empty segment", path, spec.PodTemplatePath)
		return
	}
	if builtin := builtinKind(wk); builtin != "" {
		d.problem(l, n, "%s: %s is a built-in workload kind, whose pod template the injector knows: remove it from workloadKinds", path, builtin)
		return
	}
	if i := slices.IndexFunc(l.workloads, func(o WorkloadKind) bool {
		return o.Kind == wk.Kind && (o.AnyGroup || wk.AnyGroup || o.Group == wk.Group)
	}); i >= 0 {
		d.problem(l, n, "%s: kind %s is listed twice in workloadKinds: first at %s", path, wk.Kind, l.workloads[i].Source)
		return
	}
	l.workloads = append(l.workloads, wk)
}

// builtinKind names the built-in workload kind that wk would redefine, or
// is "" when it redefines none.
func builtinKind(wk WorkloadKind) string {
	for key := range builtinWorkloads {
		group, kind, _ := strings.Cut(key, "/")
		if kind == wk.Kind && (wk.AnyGroup || group == wk.Group) {
			return strings.TrimPrefix(key, "/")
		}
	}
	return ""
}
