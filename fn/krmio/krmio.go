// Package krmio reads and writes ResourceLists for the KRM function, as
// kyaml's fn/framework does, but writes the output one item at a time.
//
// Why: kyaml's ByteWriter deep-copies every item and then encodes the whole
// ResourceList as one YAML document, and the YAML emitter keeps every event
// of a document in one growing slice until the document ends. For a list of
// 10,000 workloads that slice is most of the process's memory (about 1.6 GB
// allocated) and most of its time (copying it as it grows, scanning it in
// the GC). Encoding each item as its own small document and indenting it
// into the list gives the same bytes with memory bounded by the largest
// item. TestSameBytesAsKyaml holds the output byte-identical to
// kio.ByteWriter's over a corpus of ResourceLists.
package krmio

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Execute is framework.Execute with the streaming writer: it reads a
// ResourceList from r, runs p over it, and writes the ResourceList (items,
// functionConfig, results) to w. Like framework.Execute it writes the output
// even when p fails, and returns p's error; it also returns the results p
// added, for a caller that shows them elsewhere too.
func Execute(p framework.ResourceListProcessor, r io.Reader, w io.Writer) (framework.Results, error) {
	rw := &kio.ByteReadWriter{Reader: r, Writer: w, KeepReaderAnnotations: true}
	rl := framework.ResourceList{}
	var err error
	if rl.Items, err = rw.Read(); err != nil {
		return nil, fmt.Errorf("failed to read ResourceList input: %w", err)
	}
	rl.FunctionConfig = rw.FunctionConfig

	// The orchestrators' path and index annotations come in two spellings
	// (legacy and internal); kyaml reconciles them around the processor so
	// that a change to either reaches both.
	nodeAnnos, err := kio.PreprocessResourcesForInternalAnnotationMigration(rl.Items)
	if err != nil {
		return nil, err
	}
	retErr := p.Process(&rl)
	if err := kio.ReconcileInternalAnnotations(rl.Items, nodeAnnos); err != nil {
		return rl.Results, err
	}

	if rw.WrappingKind == "" {
		// Not a list (a bare stream of resources): kyaml's writer, which
		// handles that case and is not the one that costs. A bare stream
		// has no place for results: kyaml's writer drops them too.
		if err := rw.Write(rl.Items); err != nil {
			return rl.Results, err
		}
		return rl.Results, retErr
	}
	list := wrappedList{
		APIVersion: rw.WrappingAPIVersion, Kind: rw.WrappingKind,
		Items: rl.Items, FunctionConfig: rl.FunctionConfig,
		Results: rw.Results, // the input's results pass through when p adds none
	}
	if len(rl.Results) > 0 {
		// The results node, made as framework.Execute makes it.
		text, err := yaml.Marshal(rl.Results)
		if err != nil {
			return rl.Results, fmt.Errorf("encoding the results: %w", err)
		}
		if list.Results, err = yaml.Parse(string(text)); err != nil {
			return rl.Results, fmt.Errorf("encoding the results: %w", err)
		}
	}
	if err := write(w, list); err != nil {
		return rl.Results, err
	}
	return rl.Results, retErr
}

// wrappedList is a wrapped list of resources: a ResourceList (or a v1
// List).
type wrappedList struct {
	APIVersion, Kind string
	Items            []*yaml.RNode
	FunctionConfig   *yaml.RNode // written when not nil
	Results          *yaml.RNode // written when not nil
}

// write writes the list as kio.ByteWriter would (wrapped, keeping the
// reader's annotations), one item at a time. Empty annotation maps are
// removed from the items themselves, not from copies: the items are
// output. A w that is a *bufio.Writer is written to as it is, and flushed.
func write(w io.Writer, l wrappedList) error {
	out, buffered := w.(*bufio.Writer)
	if !buffered {
		out = bufio.NewWriterSize(w, 64<<10)
	}
	fmt.Fprintf(out, "apiVersion: %s\nkind: %s\n", scalar(l.APIVersion), scalar(l.Kind))
	if len(l.Items) == 0 {
		out.WriteString("items: []\n")
	} else {
		out.WriteString("items:\n")
	}
	var buf bytes.Buffer
	for _, item := range l.Items {
		if err := yaml.ClearEmptyAnnotations(item); err != nil {
			return err
		}
		if err := writeItem(out, &buf, item.YNode()); err != nil {
			return err
		}
	}
	if l.FunctionConfig != nil {
		if err := field(out, &buf, "functionConfig", l.FunctionConfig.YNode()); err != nil {
			return err
		}
	}
	if l.Results != nil {
		if err := field(out, &buf, "results", l.Results.YNode()); err != nil {
			return err
		}
	}
	return out.Flush()
}

// writeItem writes one item of the list. The emitter writes a head comment
// of the item's mapping above the "- " at the list's indentation, and a head
// comment of its first key after the "- "; the item is encoded without the
// former to tell them apart.
func writeItem(out *bufio.Writer, buf *bytes.Buffer, node *yaml.Node) error {
	var with []byte
	if node.HeadComment != "" {
		if err := encode(buf, node); err != nil {
			return err
		}
		with = append([]byte(nil), buf.Bytes()...)
	}
	head := node.HeadComment
	node.HeadComment = ""
	err := encode(buf, node)
	node.HeadComment = head
	if err != nil {
		return err
	}
	without := buf.Bytes()
	if head != "" {
		if !bytes.HasSuffix(with, without) {
			return fmt.Errorf("encoding the ResourceList: the head comment of %q is not where it was expected", head)
		}
		out.Write(with[:len(with)-len(without)])
	}
	indent(out, without, "- ", "  ")
	return nil
}

// field writes "key:" and the node below it, as a nested block node.
func field(out *bufio.Writer, buf *bytes.Buffer, key string, node *yaml.Node) error {
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	if err := encode(buf, node); err != nil {
		return err
	}
	text := buf.Bytes()
	if isFlowOrScalar(node) {
		// A scalar or flow node goes on the key's line.
		fmt.Fprintf(out, "%s: %s", key, text)
		return nil
	}
	out.WriteString(key + ":\n")
	if node.Kind == yaml.SequenceNode {
		// Compact sequences sit at the key's own indentation.
		out.Write(text)
		return nil
	}
	indent(out, text, "  ", "  ")
	return nil
}

func isFlowOrScalar(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode || n.Kind == yaml.AliasNode || n.Style&yaml.FlowStyle != 0 || len(n.Content) == 0
}

// encode renders one node as its own YAML document, with kyaml's encoder
// settings (2-space indentation, compact sequences).
func encode(buf *bytes.Buffer, node *yaml.Node) error {
	buf.Reset()
	enc := yaml.NewEncoder(buf)
	if err := enc.Encode(node); err != nil {
		return fmt.Errorf("encoding the ResourceList: %w", err)
	}
	return enc.Close()
}

// indent writes text with first before its first line and rest before every
// other non-empty line. Empty lines stay empty: inside a block scalar a
// blank line carries no indentation, and adding some would not change what
// it means but would change the bytes.
func indent(out *bufio.Writer, text []byte, first, rest string) {
	prefix := first
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line = text[:i+1]
		}
		text = text[len(line):]
		if len(line) > 1 || prefix == first {
			out.WriteString(prefix)
		}
		out.Write(line)
		prefix = rest
	}
}

// scalar renders the list's apiVersion or kind as the encoder would.
func scalar(s string) string {
	b, err := yaml.Marshal(s)
	if err != nil {
		return s
	}
	return string(bytes.TrimSuffix(b, []byte("\n")))
}
