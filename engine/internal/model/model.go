package model

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// Config is the merged model of every loaded config document: what can be
// injected (sidecars) and what triggers it (mutations). It is read only once
// loaded.
type Config struct {
	Sidecars  Sidecars
	Mutations []*Mutation

	// IgnoreNamespaces are never injected by any mutation.
	IgnoreNamespaces []string

	// WorkloadKinds are kinds beyond the built-in workloads whose pod
	// template the injector finds by path (for example Argo Rollouts).
	WorkloadKinds []WorkloadKind

	// Warnings are what the old injector accepted in its config form but
	// cannot work: a mutation naming a sidecar that does not exist (the old
	// injector skipped it silently, and real configs rely on that), a
	// trigger that is not a valid annotation key. The front ends show them.
	Warnings []*config.Problem
}

// defaultIgnoreNamespaces are ignored unless a SidecarInjector sets its own
// spec.ignoreNamespaces.
var defaultIgnoreNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// Kind is the kind of thing a sidecar definition injects.
type Kind int

const (
	InitContainer Kind = iota
	Container
	Volume
	VolumeMount
	ImagePullSecret

	numKinds = iota
)

// kinds in the order of their config fields; field names are the same in
// every config form.
var kinds = []Kind{InitContainer, Container, Volume, VolumeMount, ImagePullSecret}

// Field is the config field that lists definitions of this kind.
func (k Kind) Field() string {
	return [...]string{"initContainers", "containers", "volumes", "volumeMounts", "imagePullSecrets"}[k]
}

func (k Kind) String() string {
	return [...]string{"init container", "container", "volume", "volume mount", "image pull secret"}[k]
}

// Sidecars holds the named definitions by kind. Names are unique within a
// kind, except volume mounts: a mount is named by its volume, and one volume
// may be mounted at several paths, so a mutation's volumeMounts entry names
// every mount of that volume.
type Sidecars struct {
	byKind [numKinds]map[string][]*Definition
}

// Lookup returns the definitions of a kind and name (one, or for volume
// mounts every mount of that volume), or nil.
func (s *Sidecars) Lookup(kind Kind, name string) []*Definition {
	return s.byKind[kind][name]
}

func (s *Sidecars) add(d *Definition) {
	if s.byKind[d.Kind] == nil {
		s.byKind[d.Kind] = map[string][]*Definition{}
	}
	s.byKind[d.Kind][d.Name] = append(s.byKind[d.Kind][d.Name], d)
}

// Mutation is a mutation as configured, with the definitions it names.
type Mutation struct {
	// Mutation is as written, FailurePolicy defaulted to Fail.
	v1alpha1.Mutation

	// Resolved are the definitions the mutation names.
	Resolved Resolved

	// Source is where the mutation is defined.
	Source Position
}

// Resolved are the definitions of one mutation, in the order it lists
// them.
type Resolved struct {
	// BeforePodInitContainers are the init containers injected before the
	// pod's own (initContainersBeforePodInitContainers); InitContainers are
	// the others.
	BeforePodInitContainers []*Definition
	InitContainers          []*Definition
	Containers              []*Definition
	Volumes                 []*Definition
	VolumeMounts            []*Definition
	ImagePullSecrets        []*Definition
}

// WorkloadKind names a kind beyond the built-in workloads and where its pod
// template is.
type WorkloadKind struct {
	// Group is the API group ("" for the core group). Empty with AnyGroup
	// matches every group.
	Group    string
	AnyGroup bool
	Kind     string
	// PodTemplatePath is the path of the pod template (with metadata and
	// spec) in the resource, e.g. ["spec", "template"].
	PodTemplatePath []string
	Source          Position
}

// builtinWorkloads maps group/kind to the path of the pod template; a
// core Pod is its own template.
var builtinWorkloads = map[string][]string{
	"/Pod":                   {},
	"/PodTemplate":           {"template"},
	"/ReplicationController": {"spec", "template"},
	"apps/Deployment":        {"spec", "template"},
	"apps/StatefulSet":       {"spec", "template"},
	"apps/DaemonSet":         {"spec", "template"},
	"apps/ReplicaSet":        {"spec", "template"},
	"extensions/Deployment":  {"spec", "template"},
	"extensions/DaemonSet":   {"spec", "template"},
	"extensions/ReplicaSet":  {"spec", "template"},
	"batch/Job":              {"spec", "template"},
	"batch/CronJob":          {"spec", "jobTemplate", "spec", "template"},
}

// BuiltinPodTemplatePath is where a built-in workload kind of an API group
// ("" for the core group) keeps its pod template (an empty path for a Pod,
// which is its own); false for any other kind.
func BuiltinPodTemplatePath(group, kind string) ([]string, bool) {
	path, ok := builtinWorkloads[group+"/"+kind]
	return path, ok
}

// BuiltinPodTemplatePaths are the pod template paths of the built-in
// workload kinds.
func BuiltinPodTemplatePaths() [][]string { return slices.Collect(maps.Values(builtinWorkloads)) }

// Position is a place in a config source.
type Position struct {
	File string
	Line int
}

func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}
