package model

import (
	"fmt"
	"maps"
	"slices"

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

// DefaultIgnoreNamespaces are ignored unless a SidecarInjector sets its own
// spec.ignoreNamespaces.
var DefaultIgnoreNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

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

// Mutation names a trigger and the sidecars it injects.
type Mutation struct {
	Name                string
	AnnotationNamespace string
	AnnotationTrigger   string
	// LabelTrigger reads TriggerKey from the pod's labels as well as its
	// annotations, so that a webhook's objectSelector can select the pods.
	LabelTrigger bool
	// InjectByDefault applies the mutation to every pod whose annotation
	// (or, with LabelTrigger, label) does not say false or disabled.
	InjectByDefault bool

	// Resolved definitions, in the order the mutation lists them.
	InitContainers []*Definition
	// BeforePodInitContainers are the init containers injected before the
	// pod's own (initContainersBeforePodInitContainers), in config order.
	BeforePodInitContainers []*Definition
	Containers              []*Definition
	Volumes                 []*Definition
	VolumeMounts            []*Definition
	ImagePullSecrets        []*Definition

	IgnoreNamespaces []string
	AnnotationConfig AnnotationConfig

	// ImplementsSidecarLifecycle lets containers be injected into
	// short-lived pods, with the sidecar-lifecycle volume mounted in each.
	ImplementsSidecarLifecycle bool
	// NativeSidecars injects Containers as init containers with
	// restartPolicy Always (Kubernetes 1.29+).
	NativeSidecars bool
	// FailurePolicy says what to do when the mutation cannot be applied.
	FailurePolicy FailurePolicy

	// Source is where the mutation is defined.
	Source Position
}

// TriggerKey is the pod annotation (and with LabelTrigger, label) that
// triggers the mutation.
func (m *Mutation) TriggerKey() string { return m.AnnotationNamespace + "/" + m.AnnotationTrigger }

// StatusKey is the pod annotation that says the mutation was applied.
func (m *Mutation) StatusKey() string { return m.AnnotationNamespace + "/status" }

// AnnotationConfig is the old injector's way of taking volume mounts from
// pod annotations.
type AnnotationConfig struct {
	VolumeMounts []AnnotationVolumeMounts
}

// AnnotationVolumeMounts reads a JSON list of volume mounts from the pod
// annotation <annotationNamespace>/<Name> and adds them to the named
// containers of the mutation.
type AnnotationVolumeMounts struct {
	Name              string
	ContainerRefs     []string
	InitContainerRefs []string
}

// FailurePolicy is what happens to a pod when a mutation cannot be applied.
type FailurePolicy string

const (
	// Fail stops the injection: the webhook denies the pod, the function
	// reports an error.
	Fail FailurePolicy = "Fail"
	// Ignore leaves the mutation out and warns.
	Ignore FailurePolicy = "Ignore"
)

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
