package model

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
	"io"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/suggest"
)

// The native kind.
const (
	APIVersion = "sidecar-injector.dev/v1alpha1"
	NativeKind = "SidecarInjector"
)

// The old Helm chart's ConfigMap keeps the old injector's two files under
// these data keys.
const (
	ConfigMapSidecarKey  = "sidecarconfig.yaml"
	ConfigMapMutationKey = "mutationconfig.yaml"
)

// Load parses and merges config documents of every form. The error, when
// there is one, is an *Error listing every problem of every source.
func Load(sources ...config.Source) (*Config, error) {
	l := &loader{
		names: [numKinds]map[string]Position{},
	}
	for _, src := range sources {
		l.loadSource(src, 0, false)
	}
	cfg := l.resolve()
	if len(cfg.Mutations) == 0 && len(l.problems.list) == 0 {
		// Nothing would ever be injected: a config that loads must work.
		l.problems.add(sourceNames(sources), 0, 0, "the config defines no mutations, so nothing would ever be injected: "+
			"give it the mutations (a SidecarInjector's spec.mutations, the old injector's mutationConfigs file, or a ConfigMap's %s)", ConfigMapMutationKey)
	}
	if err := l.problems.err(); err != nil {
		err.(*config.Error).Warnings = l.warnings.list
		return nil, err
	}
	return cfg, nil
}

// loader accumulates what the sources define until every source is read,
// since a mutation may name sidecars of another source.
type loader struct {
	problems    problems
	warnings    problems
	sidecars    Sidecars
	names       [numKinds]map[string]Position // first definition of each name, for duplicates
	broken      [numKinds][]string            // definitions that failed to compile
	mounts      map[[2]string]Position        // volume mounts by volume name and path
	mutations   []pendingMutation
	ignore      []string
	ignoreSet   bool
	workloads   []WorkloadKind
	sourceCount int
}

// doc is one YAML document of a source, with its template actions and
// what is needed to report problems at the right line.
type doc struct {
	file       string
	lineOffset int // lines before the source's first line in its file
	root       *yaml.Node
	ph         *placeholders
}

func (d *doc) problem(l *loader, n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line+d.lineOffset, n.Column
	}
	l.problems.add(d.file, line, col, format, args...)
}

// loadSource reads every document of a source. insideConfigMap: the source
// is a ConfigMap's data value, which holds the old injector's files only.
func (l *loader) loadSource(src config.Source, lineOffset int, insideConfigMap bool) {
	l.sourceCount++
	text := string(src.Data)
	if strings.Contains(text, tokenPrefix) {
		l.problems.add(src.Name, 0, 0, "the word %q is reserved by the sidecar injector's template handling; rename it", tokenPrefix)
		return
	}
	ph, err := replaceActions(text)
	if err != nil {
		var p *config.Problem
		if errors.As(err, &p) {
			p.File, p.Line = src.Name, p.Line+lineOffset
			l.problems.list = append(l.problems.list, p)
		}
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(ph.text)))
	for documents := 0; ; {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			if documents == 0 {
				l.problems.add(src.Name, 0, 0, "defines no mutations: the file is empty, or only comments")
			}
			for _, p := range ph.unused() {
				p.File, p.Line = src.Name, p.Line+lineOffset
				l.problems.list = append(l.problems.list, p)
			}
			return
		}
		if err != nil {
			l.problems.add(src.Name, 0, 0, "%s", offsetYAMLError(err, lineOffset))
			return
		}
		if len(node.Content) == 0 || node.Content[0].Tag == "!!null" {
			continue // an empty document
		}
		documents++
		d := &doc{file: src.Name, lineOffset: lineOffset, root: node.Content[0], ph: ph}
		if insideConfigMap && d.root.Kind == yaml.MappingNode && (yamlnode.String(d.root, "kind") != "" || yamlnode.String(d.root, "apiVersion") != "") {
			d.problem(l, d.root, "a ConfigMap's %s and %s hold the old injector's sidecar and mutation files, not a %s document", ConfigMapSidecarKey, ConfigMapMutationKey, yamlnode.String(d.root, "kind"))
			continue
		}
		l.loadDoc(d)
	}
}

// sourceNames names the sources for a problem of the whole config.
func sourceNames(sources []config.Source) string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name
	}
	if len(names) == 0 {
		return "(no config source)"
	}
	return strings.Join(names, ", ")
}

// offsetYAMLError shifts the line numbers of a YAML syntax error by the
// lines that precede the source in its file.
func offsetYAMLError(err error, offset int) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if offset == 0 {
		return "invalid YAML: " + msg
	}
	var line int
	var rest string
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		rest = msg[strings.IndexByte(msg, ':')+1:]
		return fmt.Sprintf("invalid YAML: line %d:%s", line+offset, rest)
	}
	return "invalid YAML: " + msg
}

// loadDoc tells the forms apart: a native kind or a ConfigMap carry
// apiVersion and kind; the old injector's files do not.
func (l *loader) loadDoc(d *doc) {
	if d.root.Kind != yaml.MappingNode {
		d.problem(l, d.root, "a config document must be a mapping, found %s", yamlnode.Describe(d.root))
		return
	}
	apiVersion, kind := yamlnode.String(d.root, "apiVersion"), yamlnode.String(d.root, "kind")
	switch {
	case apiVersion == "" && kind == "":
		l.loadOldForm(d, d.root)
	case kind == NativeKind && apiVersion == APIVersion:
		l.loadNative(d)
	case kind == "ConfigMap" && apiVersion == "v1":
		l.loadConfigMap(d)
	default:
		d.problem(l, d.root, "unsupported config document %s/%s: expected apiVersion %s kind %s, a v1 ConfigMap with data keys %s and %s, or the old injector's sidecar or mutation file",
			apiVersion, kind, APIVersion, NativeKind, ConfigMapSidecarKey, ConfigMapMutationKey)
	}
}

// oldFormFields are the top-level fields of the old injector's files: a
// sidecar file has the definition lists, a mutation file mutationConfigs.
var oldFormFields = []string{"initContainers", "containers", "volumes", "volumeMounts", "imagePullSecrets", "mutationConfigs"}

func (l *loader) loadOldForm(d *doc, m *yaml.Node) {
	fields := l.fields(d, m, oldFormFields, "")
	l.loadSidecarLists(d, fields, "")
	if seq := fields["mutationConfigs"]; seq != nil {
		l.loadMutations(d, seq, "mutationConfigs", true)
	}
}

func (l *loader) loadNative(d *doc) {
	fields := l.fields(d, d.root, []string{"apiVersion", "kind", "metadata", "spec"}, "")
	spec := fields["spec"]
	if spec == nil {
		d.problem(l, d.root, "%s has no spec", NativeKind)
		return
	}
	if spec.Kind != yaml.MappingNode {
		d.problem(l, spec, "spec must be a mapping, found %s", yamlnode.Describe(spec))
		return
	}
	specFields := l.fields(d, spec, []string{"sidecars", "mutations", "ignoreNamespaces", "workloadKinds"}, "spec.")
	if sc := specFields["sidecars"]; sc != nil {
		if sc.Kind != yaml.MappingNode {
			d.problem(l, sc, "spec.sidecars must be a mapping, found %s", yamlnode.Describe(sc))
		} else {
			l.loadSidecarLists(d, l.fields(d, sc, oldFormFields[:len(kinds)], "spec.sidecars."), "spec.sidecars.")
		}
	}
	if ms := specFields["mutations"]; ms != nil {
		l.loadMutations(d, ms, "spec.mutations", false)
	}
	if ig := specFields["ignoreNamespaces"]; ig != nil {
		l.ignoreSet = true
		for _, ns := range l.stringList(d, ig, "spec.ignoreNamespaces") {
			if !slices.Contains(l.ignore, ns) {
				l.ignore = append(l.ignore, ns)
			}
		}
	}
	if wk := specFields["workloadKinds"]; wk != nil {
		l.loadWorkloadKinds(d, wk)
	}
}

func (l *loader) loadConfigMap(d *doc) {
	fields := l.fields(d, d.root, []string{"apiVersion", "kind", "metadata", "data", "immutable", "binaryData"}, "")
	data := fields["data"]
	if data == nil || data.Kind != yaml.MappingNode {
		d.problem(l, d.root, "ConfigMap has no data: expected keys %s and %s", ConfigMapSidecarKey, ConfigMapMutationKey)
		return
	}
	name := yamlnode.String(fields["metadata"], "name")
	entries := l.fields(d, data, []string{ConfigMapSidecarKey, ConfigMapMutationKey}, "data.")
	for _, key := range []string{ConfigMapSidecarKey, ConfigMapMutationKey} {
		v := entries[key]
		if v == nil {
			d.problem(l, data, "ConfigMap %s has no data.%s: the old injector's sidecar file (%s) and mutation file (%s) go together, and without both it defines no mutations that can inject", name, key, ConfigMapSidecarKey, ConfigMapMutationKey)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			d.problem(l, v, "data.%s must be a string holding YAML, found %s", key, yamlnode.Describe(v))
			continue
		}
		// A block scalar's content starts on the line after its key, so
		// problems in it can be reported at their line in the file.
		// Its columns are shifted by its indentation, so that they are the
		// file's too.
		offset, indent := 0, 0
		if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			offset = v.Line + d.lineOffset
			indent = blockIndent(d.ph.text, v.Line)
		}
		before := len(l.problems.list)
		l.loadSource(config.Source{Name: fmt.Sprintf("%s (ConfigMap %s, data %s)", d.file, name, key), Data: []byte(d.ph.restoreValue(v.Value, v.Style))}, offset, true)
		for _, p := range l.problems.list[before:] {
			if p.Column > 0 {
				p.Column += indent
			}
		}
	}
}

// blockIndent is the indentation of the first content line of a block
// scalar whose indicator is on line keyLine (1-based) of text.
func blockIndent(text string, keyLine int) int {
	lines := strings.SplitN(text, "\n", keyLine+2)
	for _, line := range lines[min(keyLine, len(lines)):] {
		if trimmed := strings.TrimLeft(line, " "); trimmed != "" {
			return len(line) - len(trimmed)
		}
	}
	return 0
}

// fields checks that mapping m has only the allowed keys, reporting unknown
// and duplicate keys, and returns the values by key.
func (l *loader) fields(d *doc, m *yaml.Node, allowed []string, path string) map[string]*yaml.Node {
	out := make(map[string]*yaml.Node, len(m.Content)/2)
	if m == nil || m.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			d.problem(l, k, "unknown field %q%s", path+k.Value, suggest.DidYouMean(k.Value, allowed))
		case out[k.Value] != nil:
			d.problem(l, k, "field %q is set twice", path+k.Value)
		default:
			out[k.Value] = v
		}
	}
	return out
}

// stringList reads a sequence of strings.
func (l *loader) stringList(d *doc, n *yaml.Node, path string) []string {
	if n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.problem(l, n, "%s must be a list of strings, found %s", path, yamlnode.Describe(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
			d.problem(l, item, "%s[%d] must be a string, found %s", path, i, yamlnode.Describe(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func (l *loader) loadWorkloadKinds(d *doc, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		d.problem(l, n, "spec.workloadKinds must be a list, found %s", yamlnode.Describe(n))
		return
	}
	for i, item := range n.Content {
		path := fmt.Sprintf("spec.workloadKinds[%d]", i)
		if item.Kind != yaml.MappingNode {
			d.problem(l, item, "%s must be a mapping, found %s", path, yamlnode.Describe(item))
			continue
		}
		f := l.fields(d, item, []string{"apiVersion", "kind", "podTemplatePath"}, path+".")
		wk := WorkloadKind{AnyGroup: true, Source: Position{File: d.file, Line: item.Line + d.lineOffset}}
		if av := f["apiVersion"]; av != nil {
			wk.AnyGroup = false
			wk.Group, _, _ = strings.Cut(av.Value, "/")
			if !strings.Contains(av.Value, "/") {
				wk.Group = "" // "v1": the core group
			}
		}
		wk.Kind = yamlnode.String(item, "kind")
		if wk.Kind == "" {
			d.problem(l, item, "%s.kind is required", path)
			continue
		}
		p := yamlnode.String(item, "podTemplatePath")
		if p == "" {
			d.problem(l, item, "%s.podTemplatePath is required, for example spec.template", path)
			continue
		}
		wk.PodTemplatePath = strings.Split(p, ".")
		if slices.Contains(wk.PodTemplatePath, "") {
			d.problem(l, f["podTemplatePath"], "%s.podTemplatePath %q has an empty segment", path, p)
			continue
		}
		if builtin := builtinKind(wk); builtin != "" {
			d.problem(l, item, "%s: %s is a built-in workload kind, whose pod template the injector knows: remove it from workloadKinds", path, builtin)
			continue
		}
		if i := slices.IndexFunc(l.workloads, func(o WorkloadKind) bool {
			return o.Kind == wk.Kind && (o.AnyGroup || wk.AnyGroup || o.Group == wk.Group)
		}); i >= 0 {
			d.problem(l, item, "%s: kind %s is listed twice in workloadKinds: first at %s", path, wk.Kind, l.workloads[i].Source)
			continue
		}
		l.workloads = append(l.workloads, wk)
	}
}

// builtinKind names the built-in workload kind that wk would redefine, or
// is "" when it redefines none.
func builtinKind(wk WorkloadKind) string {
	for key := range builtinWorkloads {
		group, kind, _ := strings.Cut(key, "/")
		if kind == wk.Kind && (wk.AnyGroup || group == wk.Group) {
			return strings.TrimPrefix(key, "/")
		}
	}
	return ""
}
