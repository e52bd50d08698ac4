package function

import (
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// errNoFunctionConfig is returned when the ResourceList carries no
// functionConfig: the function has nothing to inject.
var errNoFunctionConfig = errors.New("no functionConfig: give the function a SidecarInjector, " +
	"or a ConfigMap whose data holds sidecarconfig.yaml and mutationconfig.yaml " +
	"(kustomize: the transformer's config; kpt: configPath or --fn-config)")

// configSource turns a ResourceList's functionConfig into an engine config
// source. Its name is the file the config came from when the orchestrator
// says so (kpt's configPath), else "functionConfig KIND/NAME"; the engine
// prefixes its errors with it.
func configSource(fc *yaml.RNode) (config.Source, error) {
	if fc == nil || fc.IsNilOrEmpty() {
		return config.Source{}, errNoFunctionConfig
	}
	if fc.YNode().Kind != yaml.MappingNode {
		return config.Source{}, fmt.Errorf("functionConfig is a YAML %s, want a mapping (a SidecarInjector or a ConfigMap)",
			kindName(fc.YNode().Kind))
	}
	name := configName(fc)

	// The annotations kustomize and kpt add, never written by the user
	// (kioutil's internal ones: everything under internal.config.kubernetes.io/
	// and the legacy path, index and id; the function annotation and
	// local-config are the user's, and stay), are dropped so that the engine
	// sees the text the user wrote: with kpt's configPath its error line
	// numbers then match the user's file. They are dropped from a copy: the
	// functionConfig goes back to the output as it came. Without any
	// (kustomize sends none) there is no copy to make.
	clean := fc
	if internal := kioutil.GetInternalAnnotations(fc); len(internal) > 0 {
		clean = fc.Copy()
		for key := range internal {
			if err := clean.PipeE(yaml.ClearAnnotation(key)); err != nil {
				return config.Source{}, fmt.Errorf("%s: cleaning orchestrator annotations: %w", name, err)
			}
		}
		if err := yaml.ClearEmptyAnnotations(clean); err != nil {
			return config.Source{}, fmt.Errorf("%s: cleaning orchestrator annotations: %w", name, err)
		}
	}
	text, err := clean.String()
	if err != nil {
		return config.Source{}, fmt.Errorf("%s: %w", name, err)
	}
	return config.Source{Name: name, Data: []byte(text)}, nil
}

// configName names a functionConfig for messages: its file when known,
// else "functionConfig KIND/NAME".
func configName(fc *yaml.RNode) string {
	if path, _, err := kioutil.GetFileAnnotations(fc); err == nil && path != "" {
		return path
	}
	parts := []string{}
	if k := fc.GetKind(); k != "" {
		parts = append(parts, k)
	}
	if n := fc.GetName(); n != "" {
		parts = append(parts, n)
	}
	if len(parts) == 0 {
		return "functionConfig"
	}
	return "functionConfig " + strings.Join(parts, "/")
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	default:
		return "node"
	}
}
