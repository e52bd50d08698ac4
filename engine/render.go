package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/internal/model"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/template"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/typed"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// rendered is one mutation's sidecars rendered for one pod: everything is
// rendered before anything is applied, so that a failure leaves the pod as
// it was.
type rendered struct {
	mutation         *model.Mutation
	before           []*yaml.Node // init containers that go before the pod's own
	initContainers   []*yaml.Node
	containers       []*yaml.Node
	volumes          []*yaml.Node
	volumeMounts     []*yaml.Node
	imagePullSecrets []*yaml.Node
	// annotationMounts are mounts read from pod annotations, by the name of
	// the injected container that gets them.
	annotationMounts map[string][]*yaml.Node
	hash             string
}

// podData builds the templates' view of the pod once, when the first
// templated definition needs it.
type podData struct {
	p    *podTemplate
	ns   string
	keys podKeys
	pod  *corev1.Pod
	err  error
}

// podKeys are the keys of a pod's metadata and spec that some template of
// the config can read, as JSON names; a nil map for all of them.
//
// Only those are decoded for templates. Decoding a pod's whole spec (its
// containers above all) for the old injector's templates, which read the
// service account and an annotation, took a third of BenchmarkInject, and
// the webhook's load run (make webhook-bench) measured 0.43x the no-op's
// throughput and 2.49x its p99 (server CPU 145 µs a request); decoding
// only the keys read, 0.56x and 1.57x (123 µs), in one session. Of the
// metadata, decoding the keys no template read (ownerReferences above all)
// was 5% of the webhook's BenchmarkServe.
type podKeys struct{ meta, spec map[string]bool }

func podKeysOf(cfg *model.Config) podKeys {
	reads := template.NoFields()
	for _, m := range cfg.Mutations {
		for _, list := range definitionLists(m) {
			for _, def := range list {
				reads.Add(def.Fields())
			}
		}
	}
	keys := podKeys{spec: jsonNames[corev1.PodSpec](reads.Spec)}
	if !reads.Top["ObjectMeta"] {
		keys.meta = jsonNames[metav1.ObjectMeta](reads.Top)
	}
	return keys
}

// jsonNames returns the JSON names of the fields of T among names (Go
// names), nil for nil.
func jsonNames[T any](names map[string]bool) map[string]bool {
	if names == nil {
		return nil
	}
	keys := map[string]bool{}
	t := reflect.TypeFor[T]()
	for name := range names {
		if f, ok := t.FieldByName(name); ok {
			if json, _, ok := typed.FieldName(f); ok {
				keys[json] = true
			}
		}
	}
	return keys
}

// spec returns the part of the pod's spec that templates read.
func (d *podData) spec() *yaml.Node {
	if d.keys.spec == nil {
		return d.p.spec()
	}
	return part(d.p.spec(), func(key string) bool { return d.keys.spec[key] })
}

// part returns a mapping with the pairs of m whose key keep takes; m itself
// when it is not a mapping.
func part(m *yaml.Node, keep func(key string) bool) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return m
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: m.Tag}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if keep(m.Content[i].Value) {
			out.Content = append(out.Content, m.Content[i], m.Content[i+1])
		}
	}
	return out
}

// decodeMeta decodes the keys of a pod's metadata that templates read (nil:
// all), copying its annotations and labels from the nodes (see stringMap).
func decodeMeta(meta *yaml.Node, keys map[string]bool, out *metav1.ObjectMeta) error {
	rest := part(meta, func(key string) bool {
		return (keys == nil || keys[key]) && key != "annotations" && key != "labels"
	})
	if rest != nil && (rest.Kind != yaml.MappingNode || len(rest.Content) > 0) {
		if err := typed.DecodeLenient(rest, out); err != nil {
			return err
		}
	}
	var err error
	if out.Annotations, err = stringMap(meta, "annotations"); err != nil {
		return err
	}
	out.Labels, err = stringMap(meta, "labels")
	return err
}

// stringMap copies the mapping under key of meta, whose values are
// strings, from the nodes. encoding/json decodes a map through reflection:
// the load benchmark pod's 12 labels and annotations took 13 µs, a tenth
// of the webhook's BenchmarkServe, copying them well under 1 µs. Copied,
// a value reads as the trigger reads it (metaValue): a scalar as written,
// the last of duplicate keys; null reads as empty, as encoding/json read
// it (the trigger sees its text, which is no trigger word either).
func stringMap(meta *yaml.Node, key string) (map[string]string, error) {
	m := yamlnode.Field(meta, key)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil // null: checkShape refuses other shapes of annotations
	}
	values := make(map[string]string, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		name, v := m.Content[i].Value, m.Content[i+1]
		switch {
		case v.Kind != yaml.ScalarNode:
			return nil, fmt.Errorf("metadata.%s.%s is %s, not a string", key, name, yamlnode.Describe(v))
		case yaml.IsYNodeTaggedNull(v):
			values[name] = ""
		default:
			values[name] = v.Value
		}
	}
	return values, nil
}

// orchestratorAnnotations are the bookkeeping annotations that kpt and
// kustomize put on the resources they hand a function, and that the API
// server never stores: templates do not see them, so that a template over
// the annotations renders the same in the function and in the webhook.
var orchestratorAnnotations = []string{"config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/id"}

// get decodes the pod as the API server would store it: the namespace
// filled in, without the orchestrators' annotations.
func (d *podData) get() (*corev1.Pod, error) {
	if d.pod != nil || d.err != nil {
		return d.pod, d.err
	}
	pod := &corev1.Pod{TypeMeta: metaTypePod}
	if m := d.p.meta(); m != nil {
		if err := decodeMeta(m, d.keys.meta, &pod.ObjectMeta); err != nil {
			d.err = fmt.Errorf("reading the pod's metadata for templates: %w", err)
			return nil, d.err
		}
	}
	if err := typed.DecodeLenient(d.spec(), &pod.Spec); err != nil {
		d.err = fmt.Errorf("reading the pod's spec for templates: %w", err)
		return nil, d.err
	}
	if pod.Namespace == "" {
		pod.Namespace = d.ns
	}
	for key := range pod.Annotations {
		for _, prefix := range orchestratorAnnotations {
			if strings.HasPrefix(key, prefix) {
				delete(pod.Annotations, key)
			}
		}
	}
	d.pod = pod
	return pod, nil
}

// render renders every definition a mutation injects, and the mounts its
// annotationConfig reads from the pod. The text its hash is of is built in
// d's buffer.
func (in *Injector) render(m *model.Mutation, data *podData, d *digester) (*rendered, *MutationError) {
	r := &rendered{mutation: m}
	// hashed is the text the hash is of, in order: the settings, then each
	// definition's digest (static ones) or data (templated ones), then the
	// annotations' mounts.
	hashed := appendSettings(d.buf[:0], m)
	defer func() { d.buf = hashed[:0] }() // grown, for the next use
	lists := []struct {
		defs []*model.Definition
		out  *[]*yaml.Node
	}{
		{m.Resolved.BeforePodInitContainers, &r.before},
		{m.Resolved.InitContainers, &r.initContainers},
		{m.Resolved.Containers, &r.containers},
		{m.Resolved.Volumes, &r.volumes},
		{m.Resolved.VolumeMounts, &r.volumeMounts},
		{m.Resolved.ImagePullSecrets, &r.imagePullSecrets},
	}
	for _, l := range lists {
		// Each list's length goes first: the same sidecars in another
		// list (before or after the pod's own init containers) are
		// another injection.
		hashed = strconv.AppendInt(append(hashed, '|'), int64(len(l.defs)), 10)
		if len(l.defs) > 0 {
			*l.out = make([]*yaml.Node, 0, len(l.defs))
		}
		for _, def := range l.defs {
			var pod *corev1.Pod
			if def.Templated() {
				var err error
				if pod, err = data.get(); err != nil {
					return nil, &MutationError{Mutation: m.Name, Sidecar: def.Name, Err: err}
				}
			}
			n, err := def.Render(pod)
			if err != nil {
				return nil, &MutationError{Mutation: m.Name, Sidecar: def.Name, Err: err}
			}
			if digest, ok := in.staticDigests[def]; ok {
				hashed = append(hashed, digest[:]...)
			} else {
				hashed = appendNode(hashed, n)
			}
			*l.out = append(*l.out, n)
		}
	}
	for _, ac := range m.AnnotationConfig.VolumeMounts {
		key := m.AnnotationNamespace + "/" + ac.Name
		v, ok := annotation(data.p.meta(), key)
		if !ok {
			continue
		}
		mounts, err := parseAnnotationMounts(v)
		if err != nil {
			return nil, &MutationError{Mutation: m.Name, Err: fmt.Errorf("annotation %q: %w", key, err)}
		}
		if r.annotationMounts == nil {
			r.annotationMounts = map[string][]*yaml.Node{}
		}
		for _, name := range append(append([]string(nil), ac.ContainerRefs...), ac.InitContainerRefs...) {
			for _, mount := range mounts {
				r.annotationMounts[name] = append(r.annotationMounts[name], mount)
				hashed = appendNode(append(strconv.AppendInt(hashed, int64(len(name)), 10), name...), mount)
			}
		}
	}
	sum := sha256.Sum256(hashed)
	r.hash = hex.EncodeToString(sum[:8])
	return r, nil
}

// definitionLists are the lists of definitions a mutation injects.
func definitionLists(m *model.Mutation) [][]*model.Definition {
	r := &m.Resolved
	return [][]*model.Definition{r.BeforePodInitContainers, r.InitContainers, r.Containers, r.Volumes, r.VolumeMounts, r.ImagePullSecrets}
}

// parseAnnotationMounts reads the old injector's annotationConfig value: a
// JSON list of volume mounts.
func parseAnnotationMounts(v string) ([]*yaml.Node, error) {
	var mounts []corev1.VolumeMount
	if err := json.Unmarshal([]byte(v), &mounts); err != nil {
		return nil, fmt.Errorf(`want a JSON list of volume mounts such as [{"name":"logs","mountPath":"/var/log/app"}]: %v`, err)
	}
	out := make([]*yaml.Node, 0, len(mounts))
	for i, vm := range mounts {
		if vm.Name == "" || vm.MountPath == "" {
			return nil, fmt.Errorf("volume mount %d needs a name and a mountPath", i)
		}
		n, err := typed.Encode(&vm)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func appendSettings(b []byte, m *model.Mutation) []byte {
	return strconv.AppendBool(strconv.AppendBool(b, m.NativeSidecars), m.ImplementsSidecarLifecycle)
}

// appendNode appends a node's data, unambiguously delimited, for hashing.
// A mapping's pairs go in key order: the hash is of the data, not of the
// field order the config happened to be written in (kustomize hands the
// function its config with sorted keys, the webhook reads the file as
// written, and both must record the same hash).
func appendNode(b []byte, n *yaml.Node) []byte {
	b = append(b, byte(n.Kind))
	b = strconv.AppendInt(b, int64(len(n.Tag)), 10)
	b = append(b, n.Tag...)
	b = strconv.AppendInt(b, int64(len(n.Value)), 10)
	b = append(b, ':')
	b = append(b, n.Value...)
	b = strconv.AppendInt(b, int64(len(n.Content)), 10)
	if n.Kind == yaml.MappingNode && !keysSorted(n) {
		var room [32]int // a container's fields: no allocation
		pairs := room[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, i)
		}
		slices.SortFunc(pairs, func(x, y int) int { return strings.Compare(n.Content[x].Value, n.Content[y].Value) })
		for _, i := range pairs {
			b = appendNode(appendNode(b, n.Content[i]), n.Content[i+1])
		}
		return b
	}
	for _, c := range n.Content {
		b = appendNode(b, c)
	}
	return b
}

func keysSorted(m *yaml.Node) bool {
	for i := 2; i+1 < len(m.Content); i += 2 {
		if m.Content[i-2].Value > m.Content[i].Value {
			return false
		}
	}
	return true
}

// staticDigests hashes every definition that renders the same for every
// pod, once.
func staticDigests(cfg *model.Config) map[*model.Definition][sha256.Size]byte {
	out := map[*model.Definition][sha256.Size]byte{}
	for _, m := range cfg.Mutations {
		for _, list := range definitionLists(m) {
			for _, def := range list {
				if _, done := out[def]; done || def.Templated() {
					continue
				}
				n, _ := def.Render(nil)
				out[def] = sha256.Sum256(appendNode(nil, n))
			}
		}
	}
	return out
}
