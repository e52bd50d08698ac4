package engine

import (
	"crypto/sha256"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
)

// Injector injects the sidecars of one loaded configuration. It is
// immutable and safe for concurrent use; to change the configuration, load
// a new Injector.
type Injector struct {
	cfg           *model.Config
	staticDigests map[*model.Definition][sha256.Size]byte
	keys          podKeys
	outline       jsonnode.Outline
}

// Load reads config documents in any of the three forms (native
// SidecarInjector, the old injector's sidecar and mutation files, the old
// Helm chart's ConfigMap) and merges them. The error, when there is one,
// lists every problem found, each with its file and line.
func Load(sources ...config.Source) (*Injector, error) {
	cfg, err := model.Load(sources...)
	if err != nil {
		return nil, err
	}
	return &Injector{cfg: cfg, staticDigests: staticDigests(cfg), keys: podKeysOf(cfg), outline: outline(cfg.WorkloadKinds)}, nil
}

// LoadFiles loads config files and folders (a mounted ConfigMap, with its
// "..data" links, is a folder).
func LoadFiles(paths ...string) (*Injector, error) {
	sources, err := config.ReadFiles(paths...)
	if err != nil {
		return nil, err
	}
	return Load(sources...)
}

// Warnings are problems of the configuration that did not stop it from
// loading: what the old injector accepted but cannot work, such as a
// mutation naming a sidecar that does not exist. Show them to the user.
func (in *Injector) Warnings() []*config.Problem { return in.cfg.Warnings }

// Mutations returns the loaded mutations in the order they apply, as
// configured (failurePolicy defaulted), whatever form they were written in.
func (in *Injector) Mutations() []v1alpha1.Mutation {
	out := make([]v1alpha1.Mutation, len(in.cfg.Mutations))
	for i, m := range in.cfg.Mutations {
		out[i] = m.Mutation
	}
	return out
}

// Inject applies every mutation that the resource's pod template triggers,
// in config order, and reports what it did. The resource is changed in
// place; when the report carries errors it is left unchanged. A resource
// that is not a workload is never changed (Report.Workload is false).
func (in *Injector) Inject(resource *yaml.RNode, opts Options) *Report {
	return in.inject(resource, opts)
}

// Triggered reports whether any mutation applies to the resource, so that
// Inject could change it. It reads only what deciding that takes: the
// resource's apiVersion, kind and metadata and, along the path to its pod
// template, the template's metadata and whether it has a spec (what
// [Injector.Outline] names), so resource may hold only those. When it
// returns false, the report is the one Inject returns for the whole
// resource, which Inject leaves as it is: a server can answer a large pod
// that asks for nothing without decoding its spec. When it returns true,
// call Inject with the whole resource.
func (in *Injector) Triggered(resource *yaml.RNode, opts Options) (*Report, bool) {
	rep := &Report{EditsComplete: true}
	sel := in.selectMutations(root(resource), opts, rep)
	return rep, sel != nil && (len(sel.mutations) > 0 || opts.Upgrade && sel.rec != nil)
}

// Outline names the parts of a resource that [Injector.Triggered] reads,
// for [jsonnode.DecodeOutline]. It is shared: do not modify it.
func (in *Injector) Outline() jsonnode.Outline { return in.outline }

// outline is what Triggered reads of a resource of any kind it knows: a
// Pod's apiVersion, kind, metadata and whether it has a spec, and for each
// workload kind the same of the pod template at its path.
func outline(kinds []model.WorkloadKind) jsonnode.Outline {
	template := func(o jsonnode.Outline) {
		o["metadata"] = nil
		if _, ok := o["spec"]; !ok {
			o["spec"] = jsonnode.Outline{}
		}
	}
	o := jsonnode.Outline{"apiVersion": nil, "kind": nil}
	template(o)
	paths := model.BuiltinPodTemplatePaths()
	for _, k := range kinds {
		paths = append(paths, k.PodTemplatePath)
	}
	for _, path := range paths {
		at := o
		for _, key := range path {
			if at == nil {
				break // built whole already
			}
			next, ok := at[key]
			if !ok {
				next = jsonnode.Outline{}
				at[key] = next
			}
			at = next
		}
		if at != nil {
			template(at)
		}
	}
	return o
}
