package engine

import (
	"fmt"
	"slices"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

var metaTypePod = metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"}

const (
	statusInjected = "injected"

	// LifecycleVolume is the emptyDir shared by the containers of a
	// short-lived pod whose sidecars implement the old injector's lifecycle
	// contract: the app signals there that it is done.
	LifecycleVolume    = "sidecar-lifecycle"
	LifecycleMountPath = "/var/run/sidecar-lifecycle"
)

func (in *Injector) inject(r *yaml.RNode, opts Options) *Report {
	// Nothing is changed until the mutations apply: up to there, no edits
	// describe every change.
	rep := &Report{EditsComplete: true}
	if opts.Explain {
		rep.Decisions = []Decision{} // non-nil: decide records (see explaining)
	}
	resource := root(r)
	sel := in.selectMutations(resource, opts, rep)
	if sel == nil {
		return rep
	}
	if len(sel.mutations) > 0 {
		if err := checkShape(sel.work); err != nil {
			rep.Errors = append(rep.Errors, err)
			for _, m := range sel.mutations {
				rep.decide(m.Name, OutcomeFailed, err.Error())
			}
			return rep
		}
	}
	d := &digester{buf: make([]byte, 0, 1024)} // about a container's data
	plan := in.renderAll(sel, rep, d)
	if len(rep.Errors) > 0 {
		return rep
	}

	ed := newEditor(sel.work)
	newRec := applyAll(ed, sel, plan, opts, rep, d)
	for _, gone := range sel.removed {
		// Taken out and not injected again (the trigger or the mutation
		// is gone): say so, since it was in the pod.
		if newRec.find(gone.Mutation) == nil && len(gone.InitContainers)+len(gone.Containers)+len(gone.Volumes)+len(gone.ImagePullSecrets) > 0 {
			rep.Removed = append(rep.Removed, gone)
		}
	}
	rep.Edits, rep.EditsComplete = ed.edits, ed.complete()
	if sel.target != resource {
		// The edits were made to the pod as the user wrote it, not to the
		// resource as it came.
		*resource = *sel.target
		rep.Edits, rep.EditsComplete = nil, false
	}
	return rep
}

// renderAll renders the selected mutations for the pod. A failure of a
// mutation whose failurePolicy is Ignore is a warning; any other goes into
// rep.Errors, and then nothing is to be applied.
func (in *Injector) renderAll(sel *selection, rep *Report, d *digester) []*rendered {
	data := &podData{p: sel.work, ns: sel.namespace, keys: in.keys}
	var plan []*rendered
	for _, m := range sel.mutations {
		rm, err := in.render(m, data, d)
		switch {
		case err == nil:
			plan = append(plan, rm)
		case m.FailurePolicy == v1alpha1.Ignore:
			rep.Warnings = append(rep.Warnings, Warning{Mutation: m.Name, Message: "not injected (failurePolicy Ignore): " + err.withoutMutation()})
			rep.Skipped = append(rep.Skipped, err)
			rep.decide(m.Name, OutcomeSkipped, "failurePolicy Ignore: "+err.withoutMutation())
		default:
			rep.Errors = append(rep.Errors, err)
			rep.decide(m.Name, OutcomeFailed, err.withoutMutation())
		}
	}
	if len(rep.Errors) > 0 {
		for _, rm := range plan {
			rep.decide(rm.mutation.Name, OutcomeNotInjected, "another mutation failed (failurePolicy Fail): the resource is left unchanged")
		}
		return nil
	}
	return plan
}

// applyAll applies the rendered mutations to the pod, through ed, sets
// their status annotations and the record (its digests taken with d), and
// returns the record.
func applyAll(ed *editor, sel *selection, plan []*rendered, opts Options, rep *Report, d *digester) *record {
	rec, work := sel.rec, sel.work
	newRec := &record{}
	if rec != nil && !opts.Upgrade {
		newRec.Mutations = append(newRec.Mutations, rec.Mutations...)
	}
	recorded := len(newRec.Mutations)
	for _, rm := range plan {
		warnings := len(rep.Warnings)
		inj, mounts := apply(ed, work, rm, rep)
		if len(inj.InitContainers)+len(inj.Containers)+len(inj.Volumes)+len(inj.ImagePullSecrets)+len(mounts) == 0 {
			// Triggered, but everything it has was the pod's already, or
			// not for this pod: no status, no record, and a word why.
			if len(rep.Warnings) == warnings {
				rep.Warnings = append(rep.Warnings, Warning{Mutation: rm.mutation.Name, Message: "nothing injected: the pod has everything the mutation adds already"})
			}
			rep.decide(inj.Mutation, OutcomeNotInjected, "it applies, but injects nothing into this pod (its warning says why)")
			continue
		}
		ed.setAnnotation(work, rm.mutation.StatusKey(), statusInjected)
		newRec.Mutations = append(newRec.Mutations, d.recordOf(work, rm, inj, mounts))
		if old := rec.find(rm.mutation.Name); old != nil {
			if old.Hash == rm.hash {
				rep.decide(inj.Mutation, OutcomeCurrent, "already injected, from the same config")
				continue // the same as before: not news
			}
			inj.Upgraded = true
			rep.decide(inj.Mutation, OutcomeInjected, "replacing what an earlier config injected")
		}
		rep.Injected = append(rep.Injected, inj)
	}
	if len(newRec.Mutations) > recorded {
		ed.setAnnotation(work, RecordAnnotation, newRec.String())
	}
	return newRec
}

// root is the resource node of r: the content of a document node.
func root(r *yaml.RNode) *yaml.Node {
	if r == nil {
		return nil
	}
	resource := r.YNode()
	if resource.Kind == yaml.DocumentNode && len(resource.Content) > 0 {
		resource = resource.Content[0]
	}
	return resource
}

// selection is what deciding which mutations apply to a resource found.
type selection struct {
	// work is the pod template injected into, in target: the resource's
	// own, or with Upgrade and a record, a copy stripped of what the
	// record says an earlier run injected.
	work   *podTemplate
	target *yaml.Node
	rec    *record
	// namespace the pod runs in.
	namespace string
	// mutations to render and apply, in config order.
	mutations []*model.Mutation
	// removed is what strip took out, by recorded mutation.
	removed []Injection
}

// selectMutations decides which mutations apply to the resource, reading
// only its apiVersion, kind and metadata, and along the path to its pod
// template that template's metadata and whether it has a spec (what
// Outline names). It returns nil when the resource holds no pod template.
func (in *Injector) selectMutations(resource *yaml.Node, opts Options, rep *Report) *selection {
	p, ok := findPodTemplate(resource, in.cfg.WorkloadKinds)
	if !ok {
		return nil
	}
	rep.Workload = true
	rec, err := readRecord(p.meta())
	if err != nil {
		rep.Warnings = append(rep.Warnings, Warning{Message: err.Error() + "; mutations whose status annotation says injected are left as they are"})
		rec = nil
	}
	namespace := p.namespace
	if namespace == "" {
		namespace = opts.Namespace
	}

	// With Upgrade, what an earlier run injected is taken out first (on a
	// copy, so that a failure leaves the resource unchanged) and everything
	// is injected again from the pod as the user wrote it: the output then
	// depends only on that pod and the config, however often it runs.
	sel := &selection{work: p, target: resource, rec: rec, namespace: namespace}
	if opts.Upgrade && rec != nil {
		sel.target = yaml.CopyYNode(resource)
		sel.work, _ = findPodTemplate(sel.target, in.cfg.WorkloadKinds)
		sel.removed = strip(sel.work, rec, rep)
	}
	for _, m := range in.cfg.Mutations {
		if !in.triggered(m, sel.work, p, namespace, rep) {
			continue
		}
		if rec != nil && !opts.Upgrade && rec.find(m.Name) != nil {
			rep.decide(m.Name, OutcomeCurrent, "already injected: the pod's record ("+RecordAnnotation+") lists it, and it is left as it is")
			continue // injected before (offline by the function, or a reinvocation)
		}
		if rec == nil {
			if v, _ := annotation(sel.work.meta(), m.StatusKey()); v == statusInjected {
				if rep.explaining() {
					rep.decide(m.Name, OutcomeNotInjected, fmt.Sprintf("annotation %q says injected, with no record of this injector: injected by another one (the old injector), left as it is", m.StatusKey()))
				}
				continue // injected by another injector (the old one): nothing to replace it with safely
			}
		}
		sel.mutations = append(sel.mutations, m)
	}
	return sel
}

// triggered decides whether mutation m applies to the pod, warning about
// triggers that cannot be what the user meant.
func (in *Injector) triggered(m *model.Mutation, work, orig *podTemplate, namespace string, rep *Report) bool {
	t := in.trigger(&m.Mutation, work.meta(), namespace)
	if t.warning != "" {
		rep.Warnings = append(rep.Warnings, Warning{Mutation: m.Name, Message: t.warning})
	}
	defer func() {
		switch {
		case !rep.explaining():
		case t.applies:
			rep.decide(m.Name, OutcomeInjected, t.reason)
		default:
			rep.notTriggered(m, work.meta(), t.reason)
		}
	}()
	if orig.owner == nil {
		return t.applies
	}
	// Pods do not inherit their workload's metadata: a trigger there, with
	// none on the pod template, is a mistake worth saying.
	fields := triggerFields(m.LabelTrigger)
	key := m.TriggerKey()
	for _, field := range fields {
		if _, onTemplate := metaValue(work.meta(), field, key); onTemplate {
			return t.applies
		}
	}
	for _, field := range fields {
		if _, onOwner := metaValue(orig.owner, field, key); onOwner {
			rep.Warnings = append(rep.Warnings, Warning{Mutation: m.Name, Message: fmt.Sprintf(
				"%s %q is on the %s's own metadata, which pods do not inherit: move it to the pod template's metadata.%s for it to take effect", field[:len(field)-1], key, orig.kind, field)})
			t.reason += fmt.Sprintf(" in the pod template: it is on the %s's own metadata, which pods do not inherit", orig.kind)
		}
	}
	return t.applies
}

// apply adds one rendered mutation to the pod, through ed, and returns what
// it added: the items, and the mount paths it added to other containers by
// container name.
func apply(ed *editor, p *podTemplate, rm *rendered, rep *Report) (Injection, map[string][]string) {
	m := rm.mutation
	a := &applier{ed: ed, spec: p.spec(), rm: rm, rep: rep, done: Injection{Mutation: m.Name}}

	// Mounts go into the containers the pod has before this mutation adds
	// its own: the user's, and those of earlier mutations.
	a.mountAll(rm.volumeMounts, "initContainers", "containers")

	// Init containers listed before the pod's own go first, in config order.
	at := 0
	for _, c := range rm.before {
		if a.addContainer(c, "initContainers", at, false) {
			at++
		}
	}
	for _, c := range rm.initContainers {
		a.addContainer(c, "initContainers", -1, false)
	}

	shortLived := p.shortLived()
	if len(rm.containers) > 0 && shortLived && !m.NativeSidecars && !m.ImplementsSidecarLifecycle {
		a.warn("containers %s not injected: the pod is short-lived (restartPolicy %s) and sidecar containers would keep it from completing; set nativeSidecars: true, or implementsSidecarLifecycle: true if they watch %s",
			definitionNames(rm.containers), restartPolicyOf(p), LifecycleMountPath)
	} else {
		for _, c := range rm.containers {
			if m.NativeSidecars {
				a.addContainer(c, "initContainers", -1, true)
			} else {
				a.addContainer(c, "containers", -1, false)
			}
		}
	}

	if shortLived && m.ImplementsSidecarLifecycle && !m.NativeSidecars && len(a.done.Containers) > 0 {
		a.addNamed("volumes", &a.done.Volumes, namedMapping("name", LifecycleVolume, "emptyDir", nil))
		a.mountAll([]*yaml.Node{namedMapping("name", LifecycleVolume, "mountPath", yamlnode.NewString(LifecycleMountPath))}, "containers")
	}
	a.addNamed("volumes", &a.done.Volumes, rm.volumes...)
	a.addNamed("imagePullSecrets", &a.done.ImagePullSecrets, rm.imagePullSecrets...)
	return a.done, a.mounts
}

// applier adds one rendered mutation to a pod's spec.
type applier struct {
	ed   *editor
	spec *yaml.Node
	rm   *rendered
	rep  *Report
	done Injection
	// mounts are the mount paths added to containers that the mutation
	// did not inject, by container name.
	mounts map[string][]string
}

func (a *applier) warn(format string, args ...any) {
	a.rep.Warnings = append(a.rep.Warnings, Warning{Mutation: a.rm.mutation.Name, Message: fmt.Sprintf(format, args...)})
}

// taken reports whether the pod has a container (of either list) of that name.
func (a *applier) taken(name string) bool {
	return yamlnode.IndexByKey(yamlnode.Field(a.spec, "initContainers"), "name", name) >= 0 ||
		yamlnode.IndexByKey(yamlnode.Field(a.spec, "containers"), "name", name) >= 0
}

// addContainer puts container c into list at position at (-1: last),
// unless the pod has a container of its name: the pod's own definition
// wins. A native sidecar is a container that goes into initContainers,
// restartPolicy Always. An injected container gets the mounts its
// annotations ask for once it is in place: they are part of the edit that
// put it there.
func (a *applier) addContainer(c *yaml.Node, list string, at int, native bool) bool {
	name := yamlnode.String(c, "name")
	if a.taken(name) {
		what := "init container"
		if native || list == "containers" {
			what = "container"
		}
		a.warn("%s %q is already in the pod: the pod's own definition wins, the sidecar's is not injected", what, name)
		return false
	}
	if native {
		yamlnode.Set(c, "restartPolicy", yamlnode.NewString("Always"))
	}
	if at < 0 {
		a.ed.appendItem(a.spec, list, c, "spec")
	} else {
		a.ed.insertItem(a.spec, list, at, c, "spec")
	}
	if mounts := a.rm.annotationMounts[name]; len(mounts) > 0 {
		addMounts(a.ed, c, mounts)
	}
	if list == "containers" {
		a.done.Containers = append(a.done.Containers, name)
	} else {
		a.done.InitContainers = append(a.done.InitContainers, name)
	}
	return true
}

// mountAll adds mounts to every container of the lists, and notes the
// paths added to the containers the mutation did not inject.
func (a *applier) mountAll(mounts []*yaml.Node, lists ...string) {
	if len(mounts) == 0 {
		return
	}
	for _, list := range lists {
		for i, c := range yamlnode.Items(yamlnode.Field(a.spec, list)) {
			name := yamlnode.String(c, "name")
			added := addMounts(a.ed, c, mounts, "spec", list, strconv.Itoa(i))
			if len(added) == 0 || slices.Contains(a.done.Containers, name) || slices.Contains(a.done.InitContainers, name) {
				continue
			}
			if a.mounts == nil {
				a.mounts = map[string][]string{}
			}
			a.mounts[name] = append(a.mounts[name], added...)
		}
	}
}

// addNamed appends the items to the list under key of the spec, except
// one whose name the list has already: the pod's own, or one an earlier
// mutation added. It notes the names added in done.
func (a *applier) addNamed(key string, done *[]string, items ...*yaml.Node) {
	for _, item := range items {
		name := yamlnode.String(item, "name")
		if yamlnode.IndexByKey(yamlnode.Field(a.spec, key), "name", name) >= 0 {
			continue
		}
		a.ed.appendItem(a.spec, key, item, "spec")
		*done = append(*done, name)
	}
}

// namedMapping is the mapping {name: <name>, <key>: <value>}, value an
// empty mapping when nil.
func namedMapping(nameKey, name, key string, value *yaml.Node) *yaml.Node {
	if value == nil {
		value = yamlnode.NewCollection(yaml.MappingNode)
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		yamlnode.NewString(nameKey), yamlnode.NewString(name), yamlnode.NewString(key), value,
	}}
}

// addMounts adds copies of mounts to container c (at path in the pod
// template), through ed, except a mount whose volume c already mounted
// before this call or whose path c already has: the pod wins. It returns
// the paths it added.
func addMounts(ed *editor, c *yaml.Node, mounts []*yaml.Node, path ...string) []string {
	existing := yamlnode.Items(yamlnode.Field(c, "volumeMounts"))
	var added []string
	for _, mount := range mounts {
		name, mountPath := yamlnode.String(mount, "name"), yamlnode.String(mount, "mountPath")
		if slices.ContainsFunc(existing, func(m *yaml.Node) bool { return yamlnode.String(m, "name") == name }) ||
			yamlnode.IndexByKey(yamlnode.Field(c, "volumeMounts"), "mountPath", mountPath) >= 0 {
			continue
		}
		ed.appendItem(c, "volumeMounts", yaml.CopyYNode(mount), path...)
		added = append(added, mountPath)
	}
	return added
}

func definitionNames(nodes []*yaml.Node) []string {
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, yamlnode.String(n, "name"))
	}
	return names
}

func restartPolicyOf(p *podTemplate) string {
	if rp := yamlnode.String(p.spec(), "restartPolicy"); rp != "" {
		return rp
	}
	return "unset in a " + p.kind
}
