package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/fn/function"
)

// stdinName is how results and errors name resources read from stdin.
const stdinName = "<stdin>"

// mode is what the standalone tool does with the resources.
type mode int

const (
	inject  mode = iota // print them injected
	explain             // say, per resource and mutation, what injecting does and why
	check               // inject nothing; say what injecting would change, exit 1 if anything
)

// runStandalone is the mode for people: load CONFIG (a file or a folder of
// config files), read resources from the files (or stdin for "-" or when
// there are none), inject, and print what the mode asks for on stdout and
// the results on stderr. On any error, inject prints nothing on stdout: a
// half-injected stream must never reach `kubectl apply`.
func runStandalone(m mode, configPath string, files []string, stdin io.Reader, stdout, stderr io.Writer) int {
	failed := exitError
	if m == check {
		failed = exitUsage // 1 is "something would change"
	}
	minSeverity := framework.Info
	if m != inject {
		minSeverity = framework.Warning // the output says what was injected
	}
	if i := slices.Index(files, "-"); i >= 0 && slices.Contains(files[i+1:], "-") {
		fmt.Fprintf(stderr, "sidecar-injector-fn: \"-\" (stdin) given more than once\n\n%s", usage)
		return exitUsage
	}
	inj, err := engine.LoadFiles(configPath)
	if err != nil {
		printResults(stderr, function.ConfigErrorResults(err, nil), framework.Info)
		return failed
	}
	items, origin, err := readResources(files, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return failed
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	results, changed := injectAll(out, m, inj, items, origin)
	printResults(stderr, results, minSeverity)
	if m == check && results.ExitCode() == 0 {
		if changed == 0 {
			fmt.Fprintf(out, "up to date: injecting would change none of the %d resources\n", len(items))
		} else {
			fmt.Fprintf(out, "not up to date: injecting would change %d of the %d resources\n", changed, len(items))
		}
	}
	if m == inject && results.ExitCode() == 0 {
		if err := (kio.ByteWriter{Writer: out}).Write(items); err != nil {
			fmt.Fprintf(stderr, "error: writing the resources: %v\n", err)
			return exitError
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "error: writing: %v\n", err)
		return failed
	}
	switch {
	case results.ExitCode() != 0:
		return failed
	case changed > 0:
		return exitError
	}
	return exitOK
}

// injectAll injects into each item, in place, and prints on out what the
// explain and check modes say of it. It returns the results and how many
// items injecting changed.
func injectAll(out io.Writer, m mode, inj *engine.Injector, items []*yaml.RNode, origin map[*yaml.RNode]*framework.File) (framework.Results, int) {
	results := function.ConfigWarningResults(inj, nil)
	changed := 0
	for _, item := range items {
		before := ""
		if m == check {
			before = written(item)
		}
		name := resourceName(function.ResourceRef(item), function.GenerateName(item), origin[item])
		report := function.InjectOne(inj, item, engine.Options{Upgrade: true, Explain: m != inject})
		results = append(results, function.ReportResults(report, item, origin[item])...)
		switch {
		case m == explain:
			printExplanation(out, name, report)
		case m == check:
			if after := written(item); after != before {
				changed++
				printChange(out, name, report, before, after)
			}
		}
	}
	return results, changed
}

// written is item as the inject mode writes it, in a canonical form (keys
// sorted, no comments, without the annotations the reader added): --check
// compares what the API server would get, so that manifests rendered by
// kustomize, which sorts keys, compare equal to the function's output.
func written(item *yaml.RNode) string {
	var b bytes.Buffer
	if err := (kio.ByteWriter{Writer: &b}).Write([]*yaml.RNode{item}); err != nil {
		return err.Error()
	}
	json, err := sigsyaml.YAMLToJSON(b.Bytes())
	if err != nil {
		return b.String()
	}
	canonical, err := sigsyaml.JSONToYAML(json)
	if err != nil {
		return b.String()
	}
	return string(canonical)
}

// readResources reads the resources of the FILE arguments (stdin for "-" or
// none) and where each came from.
func readResources(files []string, stdin io.Reader) ([]*yaml.RNode, map[*yaml.RNode]*framework.File, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	var items []*yaml.RNode
	origin := map[*yaml.RNode]*framework.File{}
	for _, f := range files {
		name, data, err := readInput(f, stdin)
		if err != nil {
			return nil, nil, err
		}
		// PreserveSeqIndent keeps each file's list indentation style (the
		// writer clears the reader's annotations that carry it).
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(data), PreserveSeqIndent: true}).Read()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		for i, n := range nodes {
			origin[n] = &framework.File{Path: name, Index: i}
		}
		items = append(items, nodes...)
	}
	return items, origin, nil
}

// readInput reads one FILE argument; "-" is stdin (runStandalone refuses
// it twice).
func readInput(arg string, stdin io.Reader) (string, []byte, error) {
	if arg != "-" {
		data, err := os.ReadFile(arg)
		if err != nil {
			return arg, nil, fmt.Errorf("reading resources: %w", err)
		}
		return arg, data, nil
	}
	data, err := io.ReadAll(stdin)
	if err != nil {
		return stdinName, nil, fmt.Errorf("reading resources from stdin: %w", err)
	}
	return stdinName, data, nil
}
