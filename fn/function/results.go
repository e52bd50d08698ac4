package function

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// Result tags: machine-readable detail beside the human message, for tools
// that read the ResourceList's results (kpt keeps them in its results file).
const (
	tagMutation = "sidecar-injector.dev/mutation"
	tagSidecar  = "sidecar-injector.dev/sidecar"

	// TagGenerateName is the metadata.generateName of a resource that has
	// no name yet (the API server picks one from this prefix): its
	// resourceRef has no name, and people know it by the prefix.
	TagGenerateName = "sidecar-injector.dev/generateName"
)

// ReportResults turns one engine report into results about one resource,
// item, which came from file.
func ReportResults(report *engine.Report, item *yaml.RNode, file *framework.File) framework.Results {
	ref := ResourceRef(item)
	generateName := GenerateName(item)
	var results framework.Results
	add := func(sev framework.Severity, msg string, tags map[string]string) {
		if generateName != "" {
			if tags == nil {
				tags = map[string]string{}
			}
			tags[TagGenerateName] = generateName
		}
		results = append(results, &framework.Result{
			Severity: sev, Message: msg, ResourceRef: ref, File: file, Tags: tags,
		})
	}
	for _, err := range report.Errors {
		var tags map[string]string
		var me *engine.MutationError
		if errors.As(err, &me) {
			tags = map[string]string{tagMutation: me.Mutation}
			if me.Sidecar != "" {
				tags[tagSidecar] = me.Sidecar
			}
		}
		add(framework.Error, err.Error(), tags)
	}
	for _, w := range report.Warnings {
		var tags map[string]string
		if w.Mutation != "" {
			tags = map[string]string{tagMutation: w.Mutation}
		}
		add(framework.Warning, w.String(), tags)
	}
	if len(report.Errors) == 0 {
		for _, in := range report.Injected {
			add(framework.Info, injectionMessage(in), map[string]string{tagMutation: in.Mutation})
		}
		for _, in := range report.Removed {
			add(framework.Info, "removed"+strings.TrimPrefix(injectionMessage(in), "injected")+" (no longer injected: its trigger or the mutation is gone)", map[string]string{tagMutation: in.Mutation})
		}
	}
	return results
}

// injectionMessage says what one mutation added, for example
// `injected mutation "logging": containers [log-shipper], volumes [spool]`.
func injectionMessage(in engine.Injection) string {
	msg := fmt.Sprintf("injected mutation %q", in.Mutation)
	if added := Added(in); added != "" {
		msg += ": " + added
	}
	if in.Upgraded {
		msg += " (replacing what an earlier config had injected)"
	}
	return msg
}

// Added lists the names one mutation added: `initContainers [init],
// containers [log-shipper], volumes [spool]`.
func Added(in engine.Injection) string {
	var parts []string
	for _, p := range []struct {
		what  string
		names []string
	}{
		{"initContainers", in.InitContainers},
		{"containers", in.Containers},
		{"volumes", in.Volumes},
		{"imagePullSecrets", in.ImagePullSecrets},
	} {
		if len(p.names) > 0 {
			parts = append(parts, fmt.Sprintf("%s [%s]", p.what, strings.Join(p.names, ", ")))
		}
	}
	return strings.Join(parts, ", ")
}

// ConfigErrorResults turns a config load error into results: one error per
// problem the engine found (it reports every problem of every source at
// once) and one warning per warning it gave beside them. Each points at the
// functionConfig fc; without one (the standalone mode) at the problem's file.
func ConfigErrorResults(err error, fc *yaml.RNode) framework.Results {
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		var results framework.Results
		for _, e := range splitErrors(err) {
			results = append(results, configResult(framework.Error, e.Error(), "", fc))
		}
		return results
	}
	results := problemResults(framework.Error, cerr.Problems, fc)
	return append(results, problemResults(framework.Warning, cerr.Warnings, fc)...)
}

// ConfigWarningResults turns the warnings of a config that loaded (what the
// old injector accepted but cannot work) into warning results.
func ConfigWarningResults(inj *engine.Injector, fc *yaml.RNode) framework.Results {
	return problemResults(framework.Warning, inj.Warnings(), fc)
}

func problemResults(sev framework.Severity, problems []*config.Problem, fc *yaml.RNode) framework.Results {
	var results framework.Results
	for _, p := range problems {
		results = append(results, configResult(sev, p.Error(), p.File, fc))
	}
	return results
}

// configResult is one result about the config: about the functionConfig
// resource when there is one, else about the file the problem names.
func configResult(sev framework.Severity, msg, file string, fc *yaml.RNode) *framework.Result {
	r := &framework.Result{Severity: sev, Message: "config: " + msg}
	if fc != nil && !fc.IsNilOrEmpty() && fc.YNode().Kind == yaml.MappingNode {
		r.ResourceRef = ResourceRef(fc)
		r.File = fileFromAnnotations(fc)
	} else if file != "" {
		r.File = &framework.File{Path: file}
	}
	return r
}

// ResourceRef identifies a resource for a result.
func ResourceRef(rn *yaml.RNode) *yaml.ResourceIdentifier {
	return &yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: rn.GetApiVersion(), Kind: rn.GetKind()},
		NameMeta: yaml.NameMeta{Name: rn.GetName(), Namespace: rn.GetNamespace()},
	}
}

// GenerateName returns the metadata.generateName of a resource that has no
// name, "" when it has one.
func GenerateName(rn *yaml.RNode) string {
	if rn.GetName() != "" {
		return ""
	}
	prefix, _ := rn.GetString("metadata.generateName") // absent or not a string: none
	return prefix
}

// fileFromAnnotations reads where a resource came from out of the
// orchestrator's path and index annotations (current or legacy); nil when
// the orchestrator did not say.
func fileFromAnnotations(rn *yaml.RNode) *framework.File {
	path, index, _ := kioutil.GetFileAnnotations(rn)
	if path == "" {
		return nil
	}
	i, _ := strconv.Atoi(index) // an absent or odd index reads as the first resource
	return &framework.File{Path: path, Index: i}
}
