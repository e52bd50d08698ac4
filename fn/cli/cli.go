// Package cli is the command line of sidecar-injector-fn: it picks the mode
// from the arguments (a KRM function without arguments, the standalone tool
// with them, help on --help) and runs it with the given streams, so that
// tests run it in process exactly as the binary does.
package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/fn/function"
	"github.com/sidecar-injector/sidecar-injector/fn/krmio"
	"github.com/sidecar-injector/sidecar-injector/internal/buildinfo"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // an error result, unreadable input or config
	exitUsage = 2 // bad command line
)

// Run runs the command with args (without the program name) and returns
// its exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var positional []string
	m := inject
	flagsDone := false
	for _, a := range args {
		switch {
		case flagsDone || a == "-" || !strings.HasPrefix(a, "-"):
			positional = append(positional, a)
		case a == "--":
			flagsDone = true
		case a == "-h" || a == "--help" || a == "-help":
			fmt.Fprint(stdout, help)
			return exitOK
		case a == "--version" || a == "-version":
			fmt.Fprintln(stdout, "sidecar-injector-fn", buildinfo.Read())
			return exitOK
		case (a == "--explain" || a == "--check") && m != inject:
			return usageError(stderr, "--explain and --check do not go together")
		case a == "--explain":
			m = explain
		case a == "--check":
			m = check
		default:
			return usageError(stderr, fmt.Sprintf("unknown flag %q", a))
		}
	}
	switch {
	case len(positional) > 0:
		return runStandalone(m, positional[0], positional[1:], stdin, stdout, stderr)
	case m != inject:
		return usageError(stderr, "--explain and --check need a CONFIG")
	}
	return runFunction(stdin, stdout, stderr)
}

func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "sidecar-injector-fn: %s\n\n%s", msg, usage)
	return exitUsage
}

// runFunction is the KRM function mode: ResourceList in, ResourceList out,
// through kyaml's framework types with krmio's streaming writer (see its
// package doc for why). The output carries every item, changed or not, and
// the results. Errors and warnings are also printed on stderr, because
// kustomize does not show a function's results.
func runFunction(stdin io.Reader, stdout, stderr io.Writer) int {
	out := bufio.NewWriterSize(stdout, 64<<10)
	results, err := krmio.Execute(framework.ResourceListProcessorFunc(function.Process), stdin, out)
	if ferr := out.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("writing the ResourceList: %w", ferr)
	}
	printResults(stderr, results, framework.Warning)
	if err != nil {
		if _, isResults := err.(framework.Results); !isResults {
			fmt.Fprintf(stderr, "sidecar-injector-fn: %v\n", err)
		}
		return exitError
	}
	return exitOK
}

// printResults writes each result at or above the given severity on one
// line ("error: ..."), with the resource and file it is about.
func printResults(w io.Writer, results framework.Results, min framework.Severity) {
	for _, r := range results {
		if rank(r.Severity) < rank(min) {
			continue
		}
		fmt.Fprintln(w, formatResult(r))
	}
}

// formatResult renders a result for people:
// `warning: apps/v1 Deployment web (deploy.yaml): message`.
func formatResult(r *framework.Result) string {
	sev := r.Severity
	if sev == "" {
		sev = framework.Info
	}
	if r.ResourceRef == nil {
		return string(sev) + ": " + r.Message
	}
	name := resourceName(r.ResourceRef, r.Tags[function.TagGenerateName], r.File)
	return string(sev) + ": " + name + ": " + r.Message
}

// resourceName names a resource for people: `apps/v1 Deployment shop/web
// (deploy.yaml, document 2)`. A resource that has no name yet, only a
// metadata.generateName, shows as that prefix and a star, `v1 Pod
// shop/web-*`, for the name the API server will give it; one with neither
// as `shop/(no name)`.
func resourceName(ref *yaml.ResourceIdentifier, generateName string, file *framework.File) string {
	var id []string
	for _, s := range []string{ref.APIVersion, ref.Kind} {
		if s != "" {
			id = append(id, s)
		}
	}
	name := ref.Name
	switch {
	case name == "" && generateName != "":
		name = generateName + "*"
	case name == "" && ref.Namespace != "":
		name = "(no name)"
	}
	if ref.Namespace != "" {
		name = ref.Namespace + "/" + name
	}
	if name != "" {
		id = append(id, name)
	}
	s := strings.Join(id, " ")
	if file != nil && file.Path != "" {
		s += " (" + file.Path
		if file.Index > 0 {
			s += fmt.Sprintf(", document %d", file.Index+1)
		}
		s += ")"
	}
	return s
}

func rank(s framework.Severity) int {
	switch s {
	case framework.Error:
		return 2
	case framework.Warning:
		return 1
	default:
		return 0
	}
}
