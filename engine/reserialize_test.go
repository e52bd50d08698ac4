package engine_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// TestReserializedConfigsInjectTheSame: a config means what it parses to.
// Every golden config, re-serialized the way kustomize hands a
// functionConfig to a function (read and written by kyaml, every mapping's
// keys sorted, comments dropped) and with the quoting of every string
// changed (plain to double quotes, double to single, single to double),
// loads and injects the case's input byte for byte as the file does. With
// the keys as written, the output is compared as it is; with sorted keys,
// both outputs are compared with their keys sorted, since injected sidecars
// keep the field order of their config.
//
// The old injector's files hold actions that are not valid YAML (value:
// {% x %} unquoted); kustomize cannot read those, and for them only the
// rest of the file is re-serialized: the actions are set aside, as the
// loader does, and put back as they were written.
func TestReserializedConfigsInjectTheSame(t *testing.T) {
	cases, err := goldencase.All("testdata")
	if err != nil {
		t.Fatal(err)
	}
	requoted := 0
	for _, c := range cases {
		for _, sorted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/sorted=%v", c.Name, sorted), func(t *testing.T) {
				var original, reserialized []config.Source
				for _, f := range c.Configs {
					data, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					again, n := reserialize(t, data, sorted)
					requoted += n
					original = append(original, config.Source{Name: f, Data: data})
					reserialized = append(reserialized, config.Source{Name: f, Data: again})
				}
				want := injectSources(t, original, c, sorted)
				got := injectSources(t, reserialized, c, sorted)
				if got != want {
					t.Errorf("re-serialized, the config injects differently:\n%s", lineDiff(want, got))
				}
			})
		}
	}
	if requoted == 0 {
		t.Error("no templated string changed its quoting: the test proves nothing")
	}
}

// injectSources injects a case's input with a config, and returns the
// output and the report, line numbers of the config left out (they move).
func injectSources(t *testing.T, sources []config.Source, c goldencase.Case, sorted bool) string {
	t.Helper()
	inj, err := engine.Load(sources...)
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	input, err := os.ReadFile(c.Input())
	if err != nil {
		t.Fatal(err)
	}
	out, report := injectStream(t, inj, input, engine.Options{Namespace: c.Namespace, Upgrade: c.Upgrade})
	if sorted {
		docs, err := goldencase.Documents(out)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, doc := range docs {
			sortKeys(doc)
			b.WriteString(yaml.NewRNode(doc).MustString() + "---\n")
		}
		out = []byte(b.String())
	}
	return string(out) + "\n" + configLine.ReplaceAllString(report, ".yaml:LINE:")
}

var configLine = regexp.MustCompile(`\.yaml:\d+:`)

// action is a template action as the loader finds it.
var action = regexp.MustCompile(`(?s)\{%.*?%\}`)

// reserialize writes data back as kustomize would, with changed quoting,
// and says how many templated strings changed their quoting.
func reserialize(t *testing.T, data []byte, sorted bool) ([]byte, int) {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
	var actions []string
	if err != nil {
		// Not YAML: the old injector's unquoted actions.
		data = action.ReplaceAllFunc(data, func(a []byte) []byte {
			actions = append(actions, string(a))
			return fmt.Appendf(nil, "protectedaction%dz", len(actions)-1)
		})
		if nodes, err = (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read(); err != nil {
			t.Fatalf("not YAML even with its actions set aside: %v", err)
		}
	}
	requoted := 0
	for _, n := range nodes {
		requoted += requote(n.YNode(), len(actions) > 0)
		if sorted {
			sortKeys(n.YNode())
		}
	}
	var out bytes.Buffer
	if err := (kio.ByteWriter{Writer: &out}).Write(nodes); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for i, a := range actions {
		text = strings.Replace(text, fmt.Sprintf("protectedaction%dz", i), a, 1)
	}
	return []byte(text), requoted
}

// requote drops comments and changes the quoting of strings (those holding
// set-aside actions keep theirs, which is how their actions were
// written). It counts the templated strings whose quoting changed.
func requote(n *yaml.Node, protected bool) int {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	if n.Kind != yaml.ScalarNode {
		n.Style &^= yaml.FlowStyle
		count := 0
		for _, c := range n.Content {
			count += requote(c, protected)
		}
		return count
	}
	if n.Tag != yaml.NodeTagString || protected && strings.Contains(n.Value, "protectedaction") {
		return 0
	}
	if n.Style&yaml.DoubleQuotedStyle != 0 {
		n.Style = yaml.SingleQuotedStyle
	} else {
		n.Style = yaml.DoubleQuotedStyle
	}
	if strings.Contains(n.Value, "{%") {
		return 1
	}
	return 0
}
