package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
)

// RecordAnnotation is the pod annotation where the injector records what
// it added, so that a later run can leave it as it is (the webhook) or
// replace it with a newer rendering (the function), without ever touching
// what the user wrote.
const RecordAnnotation = "sidecar-injector.dev/injected"

// record is the value of RecordAnnotation, as JSON.
type record struct {
	Mutations []recordedMutation `json:"mutations"`
}

// recordedMutation is what one mutation added to the pod.
type recordedMutation struct {
	Name string `json:"name"`
	// Hash identifies the rendered config the mutation injected: the
	// sidecars as rendered for this pod, and the mutation's settings.
	Hash             string   `json:"hash"`
	InitContainers   []string `json:"initContainers,omitempty"`
	Containers       []string `json:"containers,omitempty"`
	Volumes          []string `json:"volumes,omitempty"`
	ImagePullSecrets []string `json:"imagePullSecrets,omitempty"`
	// Mounts are the mount paths added to containers that the mutation
	// did not inject, by container name.
	Mounts map[string][]string `json:"mounts,omitempty"`
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
	var r record
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("annotation %s is not a record this injector wrote: %v", RecordAnnotation, err)
	}
	return &r, nil
}

// String is the record as JSON, byte for byte what encoding/json writes for
// it (a test holds them together). It is written by hand because every
// injection writes one, and encoding/json's reflection cost as much as the
// rest of what the engine does to a pod after rendering.
func (r *record) String() string {
	b := make([]byte, 0, 512)
	b = append(b, `{"mutations":`...)
	if r.Mutations == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Mutations {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Mutations[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return string(append(b, '}'))
}

// appendJSON appends m as encoding/json writes it: fields in order, the
// omitempty ones left out when empty, map keys sorted.
func (m *recordedMutation) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = jsonnode.AppendString(b, m.Name)
	b = append(b, `,"hash":`...)
	b = jsonnode.AppendString(b, m.Hash)
	for _, f := range []struct {
		key   string
		names []string
	}{{"initContainers", m.InitContainers}, {"containers", m.Containers}, {"volumes", m.Volumes}, {"imagePullSecrets", m.ImagePullSecrets}} {
		if len(f.names) > 0 {
			b = append(b, `,"`...)
			b = append(b, f.key...)
			b = append(b, `":`...)
			b = appendStrings(b, f.names)
		}
	}
	if len(m.Mounts) > 0 {
		b = append(b, `,"mounts":{`...)
		for i, container := range slices.Sorted(maps.Keys(m.Mounts)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonnode.AppendString(b, container)
			b = append(b, ':')
			b = appendStrings(b, m.Mounts[container])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendStrings appends a list of strings as JSON (nil is null).
func appendStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonnode.AppendString(b, s)
	}
	return append(b, ']')
}

// strip removes from the pod everything the record says was injected, and
// the record itself, giving back the pod as the user wrote it.
func strip(p *podTemplate, r *record, statusKeys []string) {
	spec := p.spec()
	for _, m := range r.Mutations {
		for _, list := range []string{"initContainers", "containers"} {
			removeNamed(yamlnode.Field(spec, list), "name", m.InitContainers, m.Containers)
		}
		removeNamed(yamlnode.Field(spec, "volumes"), "name", m.Volumes)
		removeNamed(yamlnode.Field(spec, "imagePullSecrets"), "name", m.ImagePullSecrets)
		for container, paths := range m.Mounts {
			for _, list := range []string{"initContainers", "containers"} {
				seq := yamlnode.Field(spec, list)
				if i := yamlnode.IndexByKey(seq, "name", container); i >= 0 {
					c := seq.Content[i]
					removeNamed(yamlnode.Field(c, "volumeMounts"), "mountPath", paths)
					dropIfEmpty(c, "volumeMounts")
				}
			}
		}
	}
	for _, list := range []string{"initContainers", "volumes", "imagePullSecrets"} {
		dropIfEmpty(spec, list)
	}
	annotations := yamlnode.Field(p.meta(), "annotations")
	for _, k := range statusKeys {
		if v := yamlnode.Field(annotations, k); v != nil && v.Value == statusInjected {
			yamlnode.Remove(annotations, k)
		}
	}
	yamlnode.Remove(annotations, RecordAnnotation)
	if annotations != nil && len(annotations.Content) == 0 {
		yamlnode.Remove(p.meta(), "annotations")
	}
}

// removeNamed deletes the items of seq whose key field is in any of lists.
func removeNamed(seq *yaml.Node, key string, lists ...[]string) {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	seq.Content = slices.DeleteFunc(seq.Content, func(it *yaml.Node) bool {
		v := yamlnode.String(it, key)
		for _, l := range lists {
			if slices.Contains(l, v) {
				return true
			}
		}
		return false
	})
}

// dropIfEmpty deletes a list field that injection created and strip
// emptied.
func dropIfEmpty(m *yaml.Node, key string) {
	if v := yamlnode.Field(m, key); v != nil && v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
		yamlnode.Remove(m, key)
	}
}
