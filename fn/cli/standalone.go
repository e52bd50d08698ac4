package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/fn/function"
)

// stdinName is how results and errors name resources read from stdin.
const stdinName = "<stdin>"

// runStandalone is the mode for people: load CONFIG (a file or a folder of
// config files), read resources from the files (or stdin for "-" or when
// there are none), inject, print the resources on stdout and every result on
// stderr. On any error nothing is printed on stdout: a half-injected stream
// must never reach `kubectl apply`.
func runStandalone(configPath string, files []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inj, err := engine.LoadFiles(configPath)
	if err != nil {
		printResults(stderr, function.ConfigErrorResults(err, nil), framework.Info)
		return ExitError
	}
	configWarnings := function.ConfigWarningResults(inj, nil)
	if len(files) == 0 {
		files = []string{"-"}
	}

	var items []*yaml.RNode
	origin := map[*yaml.RNode]*framework.File{}
	stdinRead := false
	for _, f := range files {
		name, data, err := readInput(f, stdin, &stdinRead)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return ExitError
		}
		// PreserveSeqIndent keeps each file's list indentation style (the
		// writer clears the reader's annotations that carry it).
		nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(data), PreserveSeqIndent: true}).Read()
		if err != nil {
			fmt.Fprintf(stderr, "error: %s: %v\n", name, err)
			return ExitError
		}
		for i, n := range nodes {
			origin[n] = &framework.File{Path: name, Index: i}
		}
		items = append(items, nodes...)
	}

	results := append(configWarnings, function.Inject(inj, items, func(n *yaml.RNode) *framework.File { return origin[n] })...)
	printResults(stderr, results, framework.Info)
	if results.ExitCode() != 0 {
		return ExitError
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	if err := (kio.ByteWriter{Writer: out}).Write(items); err != nil {
		fmt.Fprintf(stderr, "error: writing the resources: %v\n", err)
		return ExitError
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "error: writing the resources: %v\n", err)
		return ExitError
	}
	return ExitOK
}

// readInput reads one FILE argument; "-" is stdin, which is read once.
func readInput(arg string, stdin io.Reader, stdinRead *bool) (string, []byte, error) {
	if arg != "-" {
		data, err := os.ReadFile(arg)
		if err != nil {
			return arg, nil, fmt.Errorf("reading resources: %w", err)
		}
		return arg, data, nil
	}
	if *stdinRead {
		return stdinName, nil, fmt.Errorf(`"-" (stdin) given twice`)
	}
	*stdinRead = true
	data, err := io.ReadAll(stdin)
	if err != nil {
		return stdinName, nil, fmt.Errorf("reading resources from stdin: %w", err)
	}
	return stdinName, data, nil
}
