package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// RecordAnnotation is the pod annotation where the injector records what
// it added, so that a later run can leave it as it is (the webhook) or
// replace it with a newer rendering (the function). The record is an
// annotation anyone can write or copy: it is read as a claim, and an item
// it names is removed only when its digest proves it is still what the
// injector put there.
const RecordAnnotation = "sidecar-injector.dev/injected"

// maxRecordBytes bounds the record read: the API server takes at most
// 256 KiB of annotations on an object, so a larger record is on no pod
// this injector wrote.
const maxRecordBytes = 256 << 10

// record is the value of RecordAnnotation, as JSON.
type record struct {
	Mutations []recordedMutation `json:"mutations"`
}

// recordedMutation is what one mutation added to the pod: each item by
// name, with the digest of the item as the injection left it.
type recordedMutation struct {
	Name string `json:"name"`
	// Hash identifies the rendered config the mutation injected: the
	// sidecars as rendered for this pod, and the mutation's settings.
	Hash string `json:"hash"`
	// Status is the mutation's status annotation, taken out with it even
	// once the mutation is gone from the config.
	Status           string            `json:"status"`
	InitContainers   map[string]string `json:"initContainers,omitempty"`
	Containers       map[string]string `json:"containers,omitempty"`
	Volumes          map[string]string `json:"volumes,omitempty"`
	ImagePullSecrets map[string]string `json:"imagePullSecrets,omitempty"`
	// Mounts are the mounts added to containers that the mutation did not
	// inject, by container name and then mount path.
	Mounts map[string]map[string]string `json:"mounts,omitempty"`
}

func (r *record) find(mutation string) *recordedMutation {
	if r == nil {
		return nil
	}
	for i := range r.Mutations {
		if r.Mutations[i].Name == mutation {
			return &r.Mutations[i]
		}
	}
	return nil
}

// readRecord reads the record of a pod's metadata; nil when there is none.
func readRecord(meta *yaml.Node) (*record, error) {
	v, ok := annotation(meta, RecordAnnotation)
	if !ok {
		return nil, nil
	}
	if len(v) > maxRecordBytes {
		return nil, fmt.Errorf("annotation %s is not a record this injector wrote: %d bytes, more than any pod can carry", RecordAnnotation, len(v))
	}
	var r record
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("annotation %s is not a record this injector wrote: %v", RecordAnnotation, err)
	}
	return &r, nil
}

// String is the record as JSON.
func (r *record) String() string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // strings, lists and maps of strings always encode
	}
	return string(b)
}

// recordOf records what one mutation added to pod p (inj, and the mount
// paths it added to other containers), with the digest of each item as it
// is now in the pod.
func (d *digester) recordOf(p *podTemplate, rd *rendered, inj Injection, mounts map[string][]string) recordedMutation {
	spec := p.spec()
	items := func(list string, names []string) map[string]string {
		if len(names) == 0 {
			return nil
		}
		out := make(map[string]string, len(names))
		for _, name := range names {
			out[name] = d.digest(findItem(yamlnode.Field(spec, list), "name", name))
		}
		return out
	}
	containers := func(name string) *yaml.Node {
		if c := findItem(yamlnode.Field(spec, "initContainers"), "name", name); c != nil {
			return c
		}
		return findItem(yamlnode.Field(spec, "containers"), "name", name)
	}
	rm := recordedMutation{Name: inj.Mutation, Hash: rd.hash, Status: rd.mutation.StatusKey(),
		InitContainers:   items("initContainers", inj.InitContainers),
		Containers:       items("containers", inj.Containers),
		Volumes:          items("volumes", inj.Volumes),
		ImagePullSecrets: items("imagePullSecrets", inj.ImagePullSecrets),
	}
	for name, paths := range mounts {
		c := containers(name)
		if rm.Mounts == nil {
			rm.Mounts = map[string]map[string]string{}
		}
		rm.Mounts[name] = map[string]string{}
		for _, path := range paths {
			rm.Mounts[name][path] = d.digest(findItem(yamlnode.Field(c, "volumeMounts"), "mountPath", path))
		}
	}
	return rm
}

// findItem is the first item of seq whose field is value, or nil.
func findItem(seq *yaml.Node, field, value string) *yaml.Node {
	if i := yamlnode.IndexByKey(seq, field, value); i >= 0 {
		return seq.Content[i]
	}
	return nil
}

// digester digests items one after the other in one buffer, which also
// holds the text of each mutation's hash while it is rendered: a pod's
// record digests a dozen items, and a buffer each was a tenth of the
// webhook's allocations per request. One digester serves one injection.
type digester struct{ buf []byte }

// digest identifies an item's data: its values and structure, not its
// field order, style or comments, which tools that rewrite manifests
// (kustomize, kpt) may change.
func (d *digester) digest(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	d.buf = appendNode(d.buf[:0], n)
	sum := sha256.Sum256(d.buf)
	return hex.EncodeToString(sum[:8])
}

// strip removes from the pod what the record says was injected and can be
// proved to be: an item whose digest matches. Anything else the record
// names stays, with a warning: an item the user edited since, a record
// copied from another workload or forged. Mutations are taken out last
// first, so that each item is as its own mutation left it (a later
// mutation's mounts gone). Then the status annotations of the mutations
// taken out, and the record itself, go. It returns what it removed, by
// mutation, in the record's order.
func strip(p *podTemplate, r *record, rep *Report) []Injection {
	spec := p.spec()
	var d digester
	removed := make([]Injection, len(r.Mutations))
	for i := len(r.Mutations) - 1; i >= 0; i-- {
		m, out := &r.Mutations[i], &removed[i]
		out.Mutation = m.Name
		kept := func(what, name string) {
			rep.Warnings = append(rep.Warnings, Warning{Mutation: m.Name, Message: fmt.Sprintf(
				"%s %q is not what the injector recorded in %s (changed since, or the record is not this pod's): kept as the pod's own", what, name, RecordAnnotation)})
		}
		for _, name := range slices.Sorted(maps.Keys(m.Mounts)) {
			for _, list := range []string{"initContainers", "containers"} {
				for _, c := range yamlnode.Items(yamlnode.Field(spec, list)) {
					if yamlnode.String(c, "name") == name {
						d.removeProved(c, "volumeMounts", "mountPath", m.Mounts[name], func(path string) { kept(fmt.Sprintf("volume mount of container %q at", name), path) })
					}
				}
			}
		}
		out.ImagePullSecrets = d.removeProved(spec, "imagePullSecrets", "name", m.ImagePullSecrets, func(name string) { kept("image pull secret", name) })
		out.Volumes = d.removeProved(spec, "volumes", "name", m.Volumes, func(name string) { kept("volume", name) })
		out.Containers = d.removeProved(spec, "containers", "name", m.Containers, func(name string) { kept("container", name) })
		out.InitContainers = d.removeProved(spec, "initContainers", "name", m.InitContainers, func(name string) { kept("init container", name) })
	}
	annotations := yamlnode.Field(p.meta(), "annotations")
	for _, m := range r.Mutations {
		if v := yamlnode.Field(annotations, m.Status); v != nil && v.Value == statusInjected && strings.HasSuffix(m.Status, "/status") {
			yamlnode.Remove(annotations, m.Status)
		}
	}
	yamlnode.Remove(annotations, RecordAnnotation)
	if annotations != nil && len(annotations.Content) == 0 {
		yamlnode.Remove(p.meta(), "annotations")
	}
	return removed
}

// removeProved deletes from the list under key of mapping m each item
// whose field names one of items (name to digest) and whose digest
// matches; an item of such a name that does not match stays, and kept is
// told its name. The list goes when it is left empty. It returns the
// names of the items removed.
func (d *digester) removeProved(m *yaml.Node, key, field string, items map[string]string, kept func(name string)) (names []string) {
	seq := yamlnode.Field(m, key)
	if seq == nil || seq.Kind != yaml.SequenceNode || len(items) == 0 {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(items)) {
		found, removed := false, false
		seq.Content = slices.DeleteFunc(seq.Content, func(n *yaml.Node) bool {
			if removed || yamlnode.String(n, field) != name {
				return false
			}
			found = true
			removed = d.digest(n) == items[name]
			return removed
		})
		if found && !removed {
			kept(name)
		}
		if removed {
			names = append(names, name)
		}
	}
	if len(seq.Content) == 0 {
		yamlnode.Remove(m, key)
	}
	return names
}
