// Package goldencase reads the engine's golden cases, the folders of
// engine/testdata that hold an input.yaml, for every test that runs them:
// the engine's golden and property tests, the webhook's patch tests, the
// parity test through a real API server. The folder's files are described
// in engine/golden_test.go.
package goldencase

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Case is one golden case.
type Case struct {
	Name    string   // the folder's name
	Dir     string   // the folder
	Configs []string // its config*.yaml files, in name order
	// From options.yaml, when there is one.
	Namespace string
	Upgrade   bool
}

// Input is the path of the case's input.yaml.
func (c Case) Input() string { return filepath.Join(c.Dir, "input.yaml") }

// All reads the cases under root, in name order. A case without a config
// or with an options.yaml that does not read is an error, as is a root
// without cases.
func All(root string) ([]Case, error) {
	inputs, err := filepath.Glob(filepath.Join(root, "*", "input.yaml"))
	if err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no golden cases under %s", root)
	}
	cases := make([]Case, 0, len(inputs))
	for _, in := range inputs {
		c, err := read(filepath.Dir(in))
		if err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, nil
}

func read(dir string) (Case, error) {
	c := Case{Name: filepath.Base(dir), Dir: dir}
	c.Configs, _ = filepath.Glob(filepath.Join(dir, "config*.yaml"))
	if len(c.Configs) == 0 {
		return c, fmt.Errorf("%s has no config*.yaml", dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, "options.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	var o struct {
		Namespace string `yaml:"namespace"`
		Upgrade   bool   `yaml:"upgrade"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&o); err != nil {
		return c, fmt.Errorf("%s/options.yaml: %w", dir, err)
	}
	c.Namespace, c.Upgrade = o.Namespace, o.Upgrade
	return c, nil
}

// Documents parses the case's input.yaml into one document node per
// resource, afresh at every call.
func (c Case) Documents() ([]*yaml.Node, error) {
	data, err := os.ReadFile(c.Input())
	if err != nil {
		return nil, err
	}
	return Documents(data)
}

// Documents parses a YAML stream into its document nodes.
func Documents(data []byte) ([]*yaml.Node, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		docs = append(docs, &doc)
	}
}
