package engine

import (
	"errors"
	"fmt"
)

// Options tune one call of [Injector.Inject]. The zero value suits the
// webhook: a mutation already recorded on the pod is left as it is.
type Options struct {
	// Namespace is the namespace the pod will run in when the resource's own
	// metadata carries none (the webhook passes the request's namespace).
	Namespace string

	// Upgrade replaces what an earlier injection added when the pod's record
	// shows it came from a different configuration. The KRM function sets it
	// so that a config change flows through `kustomize build` and
	// `kpt fn render`; the webhook leaves it off, so that a pod injected
	// offline arrives and stays as it is.
	Upgrade bool

	// Explain fills Report.Decisions: what each mutation did with a
	// workload and why (`sidecar-injector-fn --explain` and `--check`).
	Explain bool
}

// Report says what one call of [Injector.Inject] did.
type Report struct {
	// Workload is false when the resource holds no pod template the engine
	// knows of; such a resource is never changed.
	Workload bool

	// Injected lists the mutations applied by this call, in config order.
	Injected []Injection

	// Removed lists what Options.Upgrade took out of the pod and did not
	// inject again, by the mutation the record says injected it: its
	// trigger or the mutation itself is gone. Only items whose digest in
	// the record proves them unchanged since injection are removed.
	Removed []Injection

	// Warnings are for the user: an unknown trigger value, a name clash
	// where the pod's own definition won, a trigger on the wrong metadata, a
	// mutation skipped under failurePolicy Ignore.
	Warnings []Warning

	// Errors are failures of mutations whose failurePolicy is Fail (the
	// default). When there is any, the resource is left unchanged.
	Errors []error

	// Skipped are failures of mutations whose failurePolicy is Ignore: the
	// mutation was left out (and a warning says so), the rest applied.
	Skipped []*MutationError

	// Edits are the changes made to the resource, in the order made:
	// applied one after the other to the resource as it came, they give
	// the resource as it is now. The webhook answers with them as its JSON
	// patch instead of comparing the pod before and after.
	Edits []Edit

	// EditsComplete says that Edits describe every change made. It is
	// false when Options.Upgrade replaced an earlier injection (the pod is
	// rebuilt from the one the user wrote), and for a resource not shaped
	// as a Kubernetes object (a list where a mapping belongs), which the
	// API server never sends: a caller that needs the edits (the webhook)
	// refuses such a resource as a bug.
	EditsComplete bool

	// Decisions, with Options.Explain, say for a workload what each
	// mutation did with it and why, in config order. Without it, nil.
	Decisions []Decision
}

// Changed reports whether the call injected something new: a mutation
// injected, upgraded or removed. (With Upgrade, re-injecting an unchanged config
// also re-applies its mounts to containers the user added since; that
// alone is not reported as a change.)
func (r *Report) Changed() bool { return len(r.Errors) == 0 && len(r.Injected)+len(r.Removed) > 0 }

// Err joins the report's errors, or returns nil when there are none.
func (r *Report) Err() error { return errors.Join(r.Errors...) }

// Injection records what one mutation added to one pod.
type Injection struct {
	Mutation string
	// Upgraded is true when the mutation replaced an earlier injection made
	// from a different configuration.
	Upgraded         bool
	InitContainers   []string
	Containers       []string
	Volumes          []string
	ImagePullSecrets []string
}

// Warning is a problem the user should see that did not stop injection.
type Warning struct {
	Mutation string // empty when the warning is not about one mutation
	Message  string
}

func (w Warning) String() string {
	if w.Mutation == "" {
		return w.Message
	}
	return fmt.Sprintf("mutation %q: %s", w.Mutation, w.Message)
}

// MutationError is a mutation that could not be applied to a pod, for
// example because a sidecar's template failed on it.
type MutationError struct {
	Mutation string
	Sidecar  string // empty when the failure is not one sidecar's
	Err      error
}

func (e *MutationError) Error() string {
	if e.Sidecar == "" {
		return fmt.Sprintf("mutation %q: %v", e.Mutation, e.Err)
	}
	return fmt.Sprintf("mutation %q: sidecar %q: %v", e.Mutation, e.Sidecar, e.Err)
}

func (e *MutationError) Unwrap() error { return e.Err }

// withoutMutation is the message without the mutation's name, for a
// warning that names it already.
func (e *MutationError) withoutMutation() string {
	if e.Sidecar == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("sidecar %q: %v", e.Sidecar, e.Err)
}
