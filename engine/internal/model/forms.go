package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/api/v1alpha1"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/typed"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// The old Helm chart's ConfigMap keeps the old injector's two files under
// these data keys.
const (
	configMapSidecarKey  = "sidecarconfig.yaml"
	configMapMutationKey = "mutationconfig.yaml"
)

// oldForm is a document of the old injector's files, which convert into
// the API's types: a sidecar file holds the definition lists, a mutation
// file mutationConfigs.
type oldForm struct {
	v1alpha1.Sidecars `json:",inline"`
	MutationConfigs   []v1alpha1.Mutation `json:"mutationConfigs"`
}

// configMapForm is the old Helm chart's ConfigMap, decoded strictly so
// that a misspelt data key is reported; the files in its data are read
// from their nodes, which know their lines and quoting.
type configMapForm struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Data              struct {
		Sidecars  *string `json:"sidecarconfig.yaml"`
		Mutations *string `json:"mutationconfig.yaml"`
	} `json:"data"`
	BinaryData map[string][]byte `json:"binaryData,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
}

// spec is one document's config in the API's types, and where its parts
// are in the document, for problems' lines.
type spec struct {
	v1alpha1.SidecarInjectorSpec
	// sidecars prefixes the paths of the definition lists ("spec.sidecars."),
	// mutations is the path of the list of mutations.
	sidecars, mutations string
	// oldForm: written for the old injector (see pendingMutation).
	oldForm bool
	// decodeProblems are the problems of the document's decode.
	decodeProblems []typed.Problem
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
		var f oldForm
		probs := l.decode(d, &f)
		l.loadSpec(d, &spec{
			SidecarInjectorSpec: v1alpha1.SidecarInjectorSpec{Sidecars: f.Sidecars, Mutations: f.MutationConfigs},
			mutations:           "mutationConfigs", oldForm: true, decodeProblems: probs,
		})
	case kind == v1alpha1.Kind && apiVersion == v1alpha1.APIVersion:
		var obj v1alpha1.SidecarInjector
		probs := l.decode(d, &obj)
		if typed.Node(d.root, "spec") == nil {
			d.problem(l, d.root, "%s has no spec", v1alpha1.Kind)
			return
		}
		l.loadSpec(d, &spec{SidecarInjectorSpec: obj.Spec, sidecars: "spec.sidecars.", mutations: "spec.mutations", decodeProblems: probs})
	case kind == "ConfigMap" && apiVersion == "v1":
		l.loadConfigMap(d)
	default:
		d.problem(l, d.root, "unsupported config document %s/%s: expected apiVersion %s kind %s, a v1 ConfigMap with data keys %s and %s, or the old injector's sidecar or mutation file",
			apiVersion, kind, v1alpha1.APIVersion, v1alpha1.Kind, configMapSidecarKey, configMapMutationKey)
	}
}

func (l *loader) loadConfigMap(d *doc) {
	var cm configMapForm
	l.decode(d, &cm)
	data := typed.Node(d.root, "data")
	if data == nil || data.Kind != yaml.MappingNode {
		d.problem(l, d.root, "ConfigMap has no data: expected keys %s and %s", configMapSidecarKey, configMapMutationKey)
		return
	}
	for _, key := range []string{configMapSidecarKey, configMapMutationKey} {
		v := typed.Node(data, key)
		if v == nil {
			d.problem(l, data, "ConfigMap %s has no data.%s: the old injector's sidecar file (%s) and mutation file (%s) go together, and without both it defines no mutations that can inject", cm.Name, key, configMapSidecarKey, configMapMutationKey)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			continue // reported by decode
		}
		// A block scalar's content starts on the line after its key, so
		// problems in it can be reported at their line in the file.
		// Its columns are shifted by its indentation, so that they are the
		// file's too.
		offset, indent := 0, 0
		if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			offset, _ = d.at(v)
			indent = blockIndent(d.ph.text, v.Line)
		}
		l.loadSource(config.Source{Name: fmt.Sprintf("%s (ConfigMap %s, data %s)", d.file, cm.Name, key), Data: []byte(d.ph.restoreValue(v.Value, v.Style))}, offset, indent, true)
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

// decode decodes a document strictly into out, reports its problems at
// their lines and returns them.
func (l *loader) decode(d *doc, out any) []typed.Problem {
	err := typed.Decode(d.root, out)
	if err == nil {
		return nil
	}
	l.problems.list = append(l.problems.list, d.typedProblems(err)...)
	if te, ok := err.(*typed.Error); ok {
		return te.Problems
	}
	return nil
}

// problemsIn tells whether the decode found problems in the value at path
// (partial), and whether one of them is a value of the wrong type, which
// leaves its field unset (mismatch).
func (s *spec) problemsIn(path string) (partial, mismatch bool) {
	for _, p := range s.decodeProblems {
		if rest, ok := strings.CutPrefix(p.Path, path); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			partial = true
			mismatch = mismatch || p.Mismatch
		}
	}
	return partial, mismatch
}

// loadSpec loads what one document defines.
func (l *loader) loadSpec(d *doc, s *spec) {
	l.loadSidecarLists(d, s.sidecars)
	for i, m := range s.Mutations {
		path := fmt.Sprintf("%s[%d]", s.mutations, i)
		partial, mismatch := s.problemsIn(path)
		// With only unknown or duplicate fields, what it lists is still
		// checked (the names it refers to), so that one run reports
		// everything; a value of the wrong type leaves a field unset,
		// which would be reported again as missing.
		if !mismatch {
			l.mutations = append(l.mutations, pendingMutation{spec: m, node: cmp.Or(typed.Node(d.root, path), d.root), doc: d, oldForm: s.oldForm, partial: partial})
		}
	}
	if s.IgnoreNamespaces != nil {
		l.ignoreSet = true
		for _, ns := range s.IgnoreNamespaces {
			if !slices.Contains(l.ignore, ns) {
				l.ignore = append(l.ignore, ns)
			}
		}
	}
	for i, wk := range s.WorkloadKinds {
		path := fmt.Sprintf("spec.workloadKinds[%d]", i)
		if _, mismatch := s.problemsIn(path); !mismatch {
			l.loadWorkloadKind(d, wk, cmp.Or(typed.Node(d.root, path), d.root), path)
		}
	}
}
