package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/engine/internal/yamlnode"
)

// Load parses and merges config documents of every form. The error, when
// there is one, is an *Error listing every problem of every source.
func Load(sources ...config.Source) (*Config, error) {
	l := &loader{}
	for _, src := range sources {
		l.loadSource(src, 0, 0, false)
	}
	cfg := l.resolve()
	if len(cfg.Mutations) == 0 && len(l.problems.list) == 0 {
		// Nothing would ever be injected: a config that loads must work.
		l.problems.add(sourceNames(sources), 0, 0, "the config defines no mutations, so nothing would ever be injected: "+
			"give it the mutations (a SidecarInjector's spec.mutations, the old injector's mutationConfigs file, or a ConfigMap's %s)", configMapMutationKey)
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
// where the source is in its file, to report problems at the file's lines
// and columns.
type doc struct {
	file       string
	lineOffset int // lines before the source's first line in its file
	indent     int // columns before each line of the source in its file
	root       *yaml.Node
	ph         *placeholders
}

// addAt adds problems found in a source that starts after lineOffset lines
// of file, at lines of the source: their lines become the file's.
func (l *loader) addAt(file string, lineOffset int, probs ...*config.Problem) {
	for _, p := range probs {
		p.File = file
		if p.Line > 0 {
			p.Line += lineOffset
		}
		l.problems.list = append(l.problems.list, p)
	}
}

func (d *doc) problem(l *loader, n *yaml.Node, format string, args ...any) {
	line, col := d.at(n)
	l.problems.add(d.file, line, col, format, args...)
}

// at is the line and column of n in the file (0, 0 for no node).
func (d *doc) at(n *yaml.Node) (line, col int) {
	if n == nil {
		return 0, 0
	}
	return d.pos(n.Line, n.Column)
}

// pos is the line and column in the file of a line and column of the
// parsed text: every position a problem takes from the parsed text passes
// through it (those of addAt are the source's already). 0 stays 0
// (unknown).
func (d *doc) pos(line, col int) (int, int) {
	if line == 0 {
		return 0, 0
	}
	line, col = d.ph.source(line, col)
	if col > 0 {
		col += d.indent
	}
	return line + d.lineOffset, col
}

// position is where n is in the file, for messages naming it.
func (d *doc) position(n *yaml.Node) Position {
	line, _ := d.at(n)
	return Position{File: d.file, Line: line}
}

// loadSource reads every document of a source that starts after lineOffset
// lines and indent columns of its file. insideConfigMap: the source is a
// ConfigMap's data value, which holds the old injector's files only.
func (l *loader) loadSource(src config.Source, lineOffset, indent int, insideConfigMap bool) {
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
			l.addAt(src.Name, lineOffset, p)
		}
		return
	}
	base := doc{file: src.Name, lineOffset: lineOffset, indent: indent, ph: ph}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(ph.text)))
	for documents := 0; ; {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			if documents == 0 {
				l.problems.add(src.Name, 0, 0, "defines no mutations: the file is empty, or only comments")
			}
			l.addAt(src.Name, lineOffset, ph.unused()...)
			return
		}
		if err != nil {
			l.problems.add(src.Name, 0, 0, "%s", base.yamlError(err))
			return
		}
		if len(node.Content) == 0 || yaml.IsYNodeTaggedNull(node.Content[0]) {
			continue // an empty document
		}
		documents++
		d := base
		d.root = node.Content[0]
		if insideConfigMap && d.root.Kind == yaml.MappingNode && (yamlnode.String(d.root, "kind") != "" || yamlnode.String(d.root, "apiVersion") != "") {
			d.problem(l, d.root, "a ConfigMap's %s and %s hold the old injector's sidecar and mutation files, not a %s document", configMapSidecarKey, configMapMutationKey, yamlnode.String(d.root, "kind"))
			continue
		}
		l.loadDoc(&d)
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

// yamlError is a YAML syntax error with its line, of the parsed text, made
// the file's.
func (d *doc) yamlError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		line, _ = d.pos(line, 0)
		return fmt.Sprintf("invalid YAML: line %d:%s", line, msg[strings.IndexByte(msg, ':')+1:])
	}
	return "invalid YAML: " + msg
}
