package engine

import (
	"fmt"
	"slices"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

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
	rec, work, target := sel.rec, sel.work, sel.target
	if len(sel.mutations) > 0 {
		if err := checkShape(work); err != nil {
			rep.Errors = append(rep.Errors, err)
			for _, m := range sel.mutations {
				rep.decide(m.Name, OutcomeFailed, err.Error())
			}
			return rep
		}
	}

	data := &podData{p: work, ns: sel.namespace, specKeys: in.specKeys}
	var plan []*rendered
	for _, m := range sel.mutations {
		rm, err := in.render(m, data)
		if err != nil {
			if m.FailurePolicy == model.Ignore {
				rep.Warnings = append(rep.Warnings, Warning{Mutation: m.Name, Message: "not injected (failurePolicy Ignore): " + err.withoutMutation()})
				rep.Skipped = append(rep.Skipped, err)
				rep.decide(m.Name, OutcomeSkipped, "failurePolicy Ignore: "+err.withoutMutation())
				continue
			}
			rep.Errors = append(rep.Errors, err)
			rep.decide(m.Name, OutcomeFailed, err.withoutMutation())
			continue
		}
		plan = append(plan, rm)
	}
	if len(rep.Errors) > 0 {
		for _, rm := range plan {
			rep.decide(rm.mutation.Name, OutcomeNotInjected, "another mutation failed (failurePolicy Fail): the resource is left unchanged")
		}
		return rep
	}

	newRec := &record{}
	if rec != nil && !opts.Upgrade {
		newRec.Mutations = append(newRec.Mutations, rec.Mutations...)
	}
	ed := newEditor(work)
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
		newRec.Mutations = append(newRec.Mutations, recordOf(work, rm, inj, mounts))
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
	for _, gone := range sel.removed {
		// Taken out and not injected again (the trigger or the mutation
		// is gone): say so, since it was in the pod.
		if newRec.find(gone.Mutation) == nil && len(gone.InitContainers)+len(gone.Containers)+len(gone.Volumes)+len(gone.ImagePullSecrets) > 0 {
			rep.Removed = append(rep.Removed, gone)
		}
	}
	rep.Edits, rep.EditsComplete = ed.edits, ed.complete()
	if target != resource {
		// The edits were made to the pod as the user wrote it, not to the
		// resource as it came.
		*resource = *target
		rep.Edits, rep.EditsComplete = nil, false
	}
	return rep
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
		sel.target = copyTree(resource)
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
	t := in.Trigger(m, podMeta(work.meta(), namespace))
	if t.Warning != "" {
		rep.Warnings = append(rep.Warnings, Warning{Mutation: m.Name, Message: t.Warning})
	}
	defer func() {
		switch {
		case !rep.explaining():
		case t.Applies:
			rep.decide(m.Name, OutcomeInjected, t.Reason)
		default:
			rep.notTriggered(m, work.meta(), t.Reason)
		}
	}()
	if orig.owner == nil {
		return t.Applies
	}
	// Pods do not inherit their workload's metadata: a trigger there, with
	// none on the pod template, is a mistake worth saying.
	fields := []string{"annotations"}
	if m.LabelTrigger {
		fields = append(fields, "labels")
	}
	key := m.TriggerKey()
	for _, field := range fields {
		if _, onTemplate := metaValue(work.meta(), field, key); onTemplate {
			return t.Applies
		}
	}
	for _, field := range fields {
		if _, onOwner := metaValue(orig.owner, field, key); onOwner {
			rep.Warnings = append(rep.Warnings, Warning{Mutation: m.Name, Message: fmt.Sprintf(
				"%s %q is on the %s's own metadata, which pods do not inherit: move it to the pod template's metadata.%s for it to take effect", field[:len(field)-1], key, orig.kind, field)})
			t.Reason += fmt.Sprintf(" in the pod template: it is on the %s's own metadata, which pods do not inherit", orig.kind)
		}
	}
	return t.Applies
}

// apply adds one rendered mutation to the pod, through ed, and returns what
// it added: the items, and the mount paths it added to other containers by
// container name.
func apply(ed *editor, p *podTemplate, rm *rendered, rep *Report) (done Injection, mounts map[string][]string) {
	m := rm.mutation
	spec := p.spec()
	done.Mutation = m.Name
	warn := func(format string, args ...any) {
		rep.Warnings = append(rep.Warnings, Warning{Mutation: m.Name, Message: fmt.Sprintf(format, args...)})
	}

	// Mounts go into the containers the pod has before this mutation adds
	// its own: the user's, and those of earlier mutations.
	if len(rm.volumeMounts) > 0 {
		for _, list := range []string{"initContainers", "containers"} {
			for i, c := range yamlnode.Items(yamlnode.Field(spec, list)) {
				name := yamlnode.String(c, "name")
				if added := addMounts(ed, c, rm.volumeMounts, "spec", list, strconv.Itoa(i)); len(added) > 0 {
					if mounts == nil {
						mounts = map[string][]string{}
					}
					mounts[name] = append(mounts[name], added...)
				}
			}
		}
	}

	taken := func(name string) bool {
		return yamlnode.IndexByKey(yamlnode.Field(spec, "initContainers"), "name", name) >= 0 || yamlnode.IndexByKey(yamlnode.Field(spec, "containers"), "name", name) >= 0
	}
	// An injected container gets the mounts its annotations ask for once it
	// is in place: they are part of the edit that put it there.
	withAnnotationMounts := func(c *yaml.Node) {
		if mounts := rm.annotationMounts[yamlnode.String(c, "name")]; len(mounts) > 0 {
			addMounts(ed, c, mounts)
		}
	}

	// Init containers listed before the pod's own go first, in config order.
	at := 0
	for _, c := range rm.before {
		name := yamlnode.String(c, "name")
		if taken(name) {
			warn("init container %q is already in the pod: the pod's own definition wins, the sidecar's is not injected", name)
			continue
		}
		ed.insertItem(spec, "initContainers", at, c, "spec")
		withAnnotationMounts(c)
		at++
		done.InitContainers = append(done.InitContainers, name)
	}
	for _, c := range rm.initContainers {
		name := yamlnode.String(c, "name")
		if taken(name) {
			warn("init container %q is already in the pod: the pod's own definition wins, the sidecar's is not injected", name)
			continue
		}
		ed.appendItem(spec, "initContainers", c, "spec")
		withAnnotationMounts(c)
		done.InitContainers = append(done.InitContainers, name)
	}

	shortLived := p.shortLived()
	lifecycle := shortLived && m.ImplementsSidecarLifecycle && !m.NativeSidecars
	if len(rm.containers) > 0 && shortLived && !m.NativeSidecars && !m.ImplementsSidecarLifecycle {
		warn("containers %s not injected: the pod is short-lived (restartPolicy %s) and sidecar containers would keep it from completing; set nativeSidecars: true, or implementsSidecarLifecycle: true if they watch %s",
			definitionNames(rm.containers), restartPolicyOf(p), LifecycleMountPath)
	} else {
		for _, c := range rm.containers {
			name := yamlnode.String(c, "name")
			if taken(name) {
				warn("container %q is already in the pod: the pod's own definition wins, the sidecar's is not injected", name)
				continue
			}
			if m.NativeSidecars {
				yamlnode.Set(c, "restartPolicy", yamlnode.NewString("Always"))
				ed.appendItem(spec, "initContainers", c, "spec")
				withAnnotationMounts(c)
				done.InitContainers = append(done.InitContainers, name)
				continue
			}
			ed.appendItem(spec, "containers", c, "spec")
			withAnnotationMounts(c)
			done.Containers = append(done.Containers, name)
		}
	}

	if lifecycle && len(done.Containers) > 0 {
		if yamlnode.IndexByKey(yamlnode.Field(spec, "volumes"), "name", LifecycleVolume) < 0 {
			vol := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
				yamlnode.NewString("name"), yamlnode.NewString(LifecycleVolume),
				yamlnode.NewString("emptyDir"), yamlnode.NewCollection(yaml.MappingNode),
			}}
			ed.appendItem(spec, "volumes", vol, "spec")
			done.Volumes = append(done.Volumes, LifecycleVolume)
		}
		mount := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			yamlnode.NewString("name"), yamlnode.NewString(LifecycleVolume),
			yamlnode.NewString("mountPath"), yamlnode.NewString(LifecycleMountPath),
		}}
		for i, c := range yamlnode.Items(yamlnode.Field(spec, "containers")) {
			name := yamlnode.String(c, "name")
			if added := addMounts(ed, c, []*yaml.Node{mount}, "spec", "containers", strconv.Itoa(i)); len(added) > 0 && !slices.Contains(done.Containers, name) {
				if mounts == nil {
					mounts = map[string][]string{}
				}
				mounts[name] = append(mounts[name], added...)
			}
		}
	}

	for _, v := range rm.volumes {
		name := yamlnode.String(v, "name")
		if yamlnode.IndexByKey(yamlnode.Field(spec, "volumes"), "name", name) >= 0 {
			continue // the pod's own volume, or one an earlier mutation added
		}
		ed.appendItem(spec, "volumes", v, "spec")
		done.Volumes = append(done.Volumes, name)
	}
	for _, s := range rm.imagePullSecrets {
		name := yamlnode.String(s, "name")
		if yamlnode.IndexByKey(yamlnode.Field(spec, "imagePullSecrets"), "name", name) >= 0 {
			continue
		}
		ed.appendItem(spec, "imagePullSecrets", s, "spec")
		done.ImagePullSecrets = append(done.ImagePullSecrets, name)
	}
	return done, mounts
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
		ed.appendItem(c, "volumeMounts", copyTree(mount), path...)
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

// copyTree deep-copies a node tree, comments and positions included. The
// copies are carved from two blocks, one of nodes and one of links: a mount
// copied into a container costs two allocations, not one per node.
func copyTree(n *yaml.Node) *yaml.Node {
	nodes, links := treeSize(n)
	c := treeCopier{nodes: make([]yaml.Node, 0, nodes), links: make([]*yaml.Node, 0, links)}
	return c.copy(n)
}

// treeSize counts the nodes of a tree and the links from nodes to their
// children.
func treeSize(n *yaml.Node) (nodes, links int) {
	nodes, links = 1, len(n.Content)
	for _, k := range n.Content {
		kn, kl := treeSize(k)
		nodes, links = nodes+kn, links+kl
	}
	return nodes, links
}

type treeCopier struct {
	nodes []yaml.Node
	links []*yaml.Node
}

func (c *treeCopier) copy(n *yaml.Node) *yaml.Node {
	c.nodes = append(c.nodes, *n)
	out := &c.nodes[len(c.nodes)-1]
	if len(n.Content) > 0 {
		from := len(c.links)
		c.links = c.links[:from+len(n.Content)]
		// The capacity limit makes an append to one node's children
		// reallocate instead of overwriting its neighbour's.
		out.Content = c.links[from : from+len(n.Content) : from+len(n.Content)]
		for i, k := range n.Content {
			out.Content[i] = c.copy(k)
		}
	}
	return out
}
