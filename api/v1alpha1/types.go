package v1alpha1

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The kind's names.
const (
	GroupName  = "sidecar-injector.dev"
	Version    = "v1alpha1"
	APIVersion = GroupName + "/" + Version
	Kind       = "SidecarInjector"
)

// SidecarInjector is one config document of the injector.
type SidecarInjector struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec SidecarInjectorSpec `json:"spec"`
}

// SidecarInjectorSpec is what a SidecarInjector defines.
type SidecarInjectorSpec struct {
	// Sidecars are the named definitions that mutations inject. A mutation
	// may name the sidecars of another document loaded with this one.
	Sidecars Sidecars `json:"sidecars,omitempty,omitzero"`

	// Mutations say which pods get which sidecars. They apply in order,
	// documents in the order they were loaded. A config without any
	// mutation could inject nothing, and is refused.
	Mutations []Mutation `json:"mutations,omitempty"`

	// IgnoreNamespaces are namespaces where no mutation applies, beside
	// each mutation's own. Without it in any document: kube-system,
	// kube-public and kube-node-lease; the lists of several documents are
	// united. An empty list ignores no namespace.
	IgnoreNamespaces []string `json:"ignoreNamespaces"`

	// WorkloadKinds are kinds beyond the built-in workloads (Pod,
	// PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet,
	// ReplicationController, Job, CronJob) whose pod template the injector
	// finds by path, for example Argo Rollouts.
	WorkloadKinds []WorkloadKind `json:"workloadKinds,omitempty"`
}

// Sidecars are named definitions of what can be injected. Within a list,
// names are unique (one document or several), except volume mounts: a
// mount is named by its volume, which may be mounted at several paths.
type Sidecars struct {
	// InitContainers are core/v1 Containers injected as init containers.
	InitContainers []Template `json:"initContainers,omitempty"`
	// Containers are core/v1 Containers.
	Containers []Template `json:"containers,omitempty"`
	// Volumes are core/v1 Volumes.
	Volumes []Template `json:"volumes,omitempty"`
	// VolumeMounts are core/v1 VolumeMounts, added to the pod's own
	// containers; a mutation names them by their volume.
	VolumeMounts []Template `json:"volumeMounts,omitempty"`
	// ImagePullSecrets are core/v1 LocalObjectReferences.
	ImagePullSecrets []Template `json:"imagePullSecrets,omitempty"`
}

// Template is one sidecar definition: an object of the core/v1 type that
// its list holds (a Container, a Volume, ...), as written, whose scalar
// values may hold template actions, `{% ... %}`, rendered against each pod:
//
//	secretName: aws-iam-{% .Spec.ServiceAccountName %}
//	containerPort: '{% annotation "example.com/port" "8080" %}'
//
// An action renders one value, never YAML: its output is exactly the
// scalar it stands in, read as the field's type where that is a number or
// a boolean. A definition is kept as written (its JSON), not as its
// core/v1 type, because an action may stand where that type wants a number
// or a boolean. The injector decodes it strictly into the core/v1 type at
// load all the same, with a stand-in value for each action, so that an
// unknown field is reported at its line; its name cannot be a template,
// since mutations refer to it by name.
type Template struct {
	json.RawMessage
}

// Mutation names a pod annotation and the sidecars it injects.
type Mutation struct {
	// Name is unique among the mutations of every loaded document.
	Name string `json:"name"`

	// AnnotationNamespace and AnnotationTrigger make the trigger key
	// <annotationNamespace>/<annotationTrigger>: a pod whose annotation of
	// that key is "true" or "enabled" gets the mutation's sidecars; "false"
	// and "disabled" opt out. Both are required. AnnotationNamespace also
	// prefixes the status annotation (<annotationNamespace>/status:
	// injected) and the annotations of AnnotationConfig.
	AnnotationNamespace string `json:"annotationNamespace"`
	AnnotationTrigger   string `json:"annotationTrigger"`

	// LabelTrigger reads the trigger key from the pod's labels as well as
	// its annotations, so that a webhook configuration's objectSelector can
	// send the webhook only the pods that opt in.
	LabelTrigger bool `json:"labelTrigger,omitempty"`

	// InjectByDefault applies the mutation to every pod that does not opt
	// out.
	InjectByDefault bool `json:"injectByDefault,omitempty"`

	// InitContainers, Containers, Volumes, VolumeMounts and
	// ImagePullSecrets name the sidecars the mutation injects. Init
	// containers go after the pod's own, except those also listed in
	// InitContainersBeforePodInitContainers, which go before them in that
	// list's order; containers go after the pod's own; volume mounts go
	// into each container the pod has before this mutation adds its own.
	InitContainers                        []string `json:"initContainers,omitempty"`
	InitContainersBeforePodInitContainers []string `json:"initContainersBeforePodInitContainers,omitempty"`
	Containers                            []string `json:"containers,omitempty"`
	Volumes                               []string `json:"volumes,omitempty"`
	VolumeMounts                          []string `json:"volumeMounts,omitempty"`
	ImagePullSecrets                      []string `json:"imagePullSecrets,omitempty"`

	// IgnoreNamespaces are namespaces where this mutation never applies.
	IgnoreNamespaces []string `json:"ignoreNamespaces,omitempty"`

	// AnnotationConfig takes volume mounts from pod annotations (the old
	// injector's feature).
	AnnotationConfig AnnotationConfig `json:"annotationConfig,omitempty,omitzero"`

	// ImplementsSidecarLifecycle lets Containers be injected into
	// short-lived pods (restartPolicy Never or OnFailure), with an emptyDir
	// sidecar-lifecycle mounted at /var/run/sidecar-lifecycle in every
	// container, where the app signals its end. Without it (or
	// NativeSidecars), such pods get no Containers.
	ImplementsSidecarLifecycle bool `json:"implementsSidecarLifecycle,omitempty"`

	// NativeSidecars injects Containers as init containers with
	// restartPolicy Always (Kubernetes 1.29+), after every other init
	// container: they start before the app and let Jobs complete.
	NativeSidecars bool `json:"nativeSidecars,omitempty"`

	// FailurePolicy says what happens to a pod the mutation cannot be
	// applied to (a template fails on it): Fail (the default) or Ignore.
	FailurePolicy FailurePolicy `json:"failurePolicy,omitempty"`
}

// TriggerKey is the pod annotation (and with LabelTrigger, label) that
// triggers the mutation.
func (m *Mutation) TriggerKey() string { return m.AnnotationNamespace + "/" + m.AnnotationTrigger }

// StatusKey is the pod annotation that says the mutation was applied.
func (m *Mutation) StatusKey() string { return m.AnnotationNamespace + "/status" }

// AnnotationConfig takes volume mounts from pod annotations.
type AnnotationConfig struct {
	VolumeMounts []AnnotationVolumeMounts `json:"volumeMounts,omitempty"`
}

// AnnotationVolumeMounts reads a JSON list of core/v1 VolumeMounts from the
// pod annotation <annotationNamespace>/<name> and adds them to the
// mutation's containers named in ContainerRefs and InitContainerRefs. An
// annotation that is not such a list fails the mutation.
type AnnotationVolumeMounts struct {
	Name              string   `json:"name"`
	ContainerRefs     []string `json:"containerRefs,omitempty"`
	InitContainerRefs []string `json:"initContainerRefs,omitempty"`
}

// FailurePolicy is what happens to a pod when a mutation cannot be applied.
type FailurePolicy string

const (
	// Fail stops the injection: the resource is left unchanged, the
	// webhook denies the pod with the message and the function reports an
	// error.
	Fail FailurePolicy = "Fail"
	// Ignore leaves the mutation out, with a warning.
	Ignore FailurePolicy = "Ignore"
)

// WorkloadKind names a kind beyond the built-in workloads and where its pod
// template is.
type WorkloadKind struct {
	// APIVersion is the kind's group/version; only its group counts.
	// Without it, the kind matches in any group.
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind is required.
	Kind string `json:"kind"`
	// PodTemplatePath is the dotted path of the pod template (with its
	// metadata and spec) in the resource, for example spec.template.
	// Required.
	PodTemplatePath string `json:"podTemplatePath"`
}
