package jsonnode

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// testPod returns the pod of the admission review fixture, as the API
// server sent it (indented) and compacted.
func testPod(tb testing.TB) (indented, compact []byte) {
	tb.Helper()
	data, err := os.ReadFile("testdata/admissionreview.json")
	if err != nil {
		tb.Fatal(err)
	}
	var review struct {
		Request struct {
			Object json.RawMessage `json:"object"`
		} `json:"request"`
	}
	if err := json.Unmarshal(data, &review); err != nil {
		tb.Fatal(err)
	}
	indented = review.Request.Object
	var buf bytes.Buffer
	if err := json.Compact(&buf, indented); err != nil {
		tb.Fatal(err)
	}
	return indented, buf.Bytes()
}

func TestDecodeScalars(t *testing.T) {
	tests := []struct {
		in, tag, value string
	}{
		{`"abc"`, "!!str", "abc"},
		{`""`, "!!str", ""},
		{`"true"`, "!!str", "true"},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "!!str", "a\"b\\c/d\b\f\n\r\t"},
		{`"\u00e9\u20AC"`, "!!str", "é€"},
		{`"\ud83d\ude00"`, "!!str", "😀"},
		{`"\ud83d"`, "!!str", "\uFFFD"},        // lone high surrogate
		{`"\ude00x"`, "!!str", "\uFFFDx"},      // lone low surrogate
		{`"\ud83d\u0041"`, "!!str", "\uFFFDA"}, // high surrogate, then no low one
		{"\"a\xffb\"", "!!str", "a\uFFFDb"},    // invalid UTF-8
		{"\"\\n\xc3\"", "!!str", "\n\uFFFD"},   // invalid UTF-8 after an escape
		{`"日本語"`, "!!str", "日本語"},
		{`0`, "!!int", "0"},
		{`-0`, "!!int", "-0"},
		{`123`, "!!int", "123"},
		{`-9223372036854775808`, "!!int", "-9223372036854775808"},
		{`18446744073709551615`, "!!int", "18446744073709551615"},
		{`18446744073709551616`, "!!float", "18446744073709551616"},
		{`1.50`, "!!float", "1.50"},
		{`1e3`, "!!float", "1e3"},
		{`-1.5E-3`, "!!float", "-1.5E-3"},
		{`1e400`, "!!float", "1e400"},
		{`true`, "!!bool", "true"},
		{`false`, "!!bool", "false"},
		{`null`, "!!null", "null"},
		{" \t\r\n 7 \n", "!!int", "7"},
	}
	for _, tt := range tests {
		n, err := Decode([]byte(tt.in))
		if err != nil {
			t.Errorf("Decode(%q): %v", tt.in, err)
			continue
		}
		if n.Kind != yaml.ScalarNode || n.Tag != tt.tag || n.Value != tt.value || n.Style != 0 {
			t.Errorf("Decode(%q) = kind %v tag %q value %q style %v, want scalar %q %q style 0",
				tt.in, n.Kind, n.Tag, n.Value, n.Style, tt.tag, tt.value)
		}
	}
}

func TestDecodeTree(t *testing.T) {
	n, err := Decode([]byte(`{"b": [1, {}], "a": {"x": []}, "b": null}`))
	if err != nil {
		t.Fatal(err)
	}
	type shape struct {
		Kind    yaml.Kind
		Tag     string
		Value   string
		Content []shape
	}
	var toShape func(n *yaml.Node) shape
	toShape = func(n *yaml.Node) shape {
		s := shape{Kind: n.Kind, Tag: n.Tag, Value: n.Value}
		for _, c := range n.Content {
			s.Content = append(s.Content, toShape(c))
		}
		return s
	}
	str := func(v string) shape { return shape{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	want := shape{Kind: yaml.MappingNode, Tag: "!!map", Content: []shape{
		str("b"),
		{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []shape{
			{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"},
			{Kind: yaml.MappingNode, Tag: "!!map"},
		}},
		str("a"),
		{Kind: yaml.MappingNode, Tag: "!!map", Content: []shape{
			str("x"),
			{Kind: yaml.SequenceNode, Tag: "!!seq"},
		}},
		// Duplicate keys are kept, in input order.
		str("b"),
		{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"},
	}}
	if diff := cmp.Diff(want, toShape(n)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

func TestDecodePositions(t *testing.T) {
	n, err := Decode([]byte("{\n  \"a\": [1,\n    \"x\"],\n\"b\":true}"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		got = append(got, n.Value+"@"+strconv.Itoa(n.Line)+":"+strconv.Itoa(n.Column))
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	want := []string{"@1:1", "a@2:3", "@2:8", "1@2:9", "x@3:5", "b@4:1", "true@4:5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{``, "offset 0: unexpected end of input: expected a value"},
		{`   `, "offset 3: unexpected end of input: expected a value"},
		{`{"a":1,}`, `offset 7: expected '"' to begin an object key`},
		{`{"a" 1}`, "offset 5: expected ':' after object key"},
		{`{"a":1 "b":2}`, "offset 7: expected ',' or '}' after object member"},
		{`{"a":1`, "offset 6: unexpected end of input: expected ',' or '}' after object member"},
		{`{1:2}`, `offset 1: expected '"' to begin an object key`},
		{`[1 2]`, "offset 3: expected ',' or ']' after array element"},
		{`[1,]`, "offset 3: expected a value (object, array, string, number, true, false or null)"},
		{`[`, "offset 1: unexpected end of input: expected a value"},
		{`{} {}`, "offset 3: expected end of input after the top-level value"},
		{`nul`, "offset 0: expected a value (object, array, string, number, true, false or null)"},
		{`True`, "offset 0: expected a value (object, array, string, number, true, false or null)"},
		{`truex`, "offset 4: expected end of input after the top-level value"},
		{`'a'`, "offset 0: expected a value (object, array, string, number, true, false or null)"},
		{"\xef\xbb\xbf{}", "offset 0: expected a value (object, array, string, number, true, false or null)"},
		{`-`, "offset 1: unexpected end of input: expected a digit after '-'"},
		{`-a`, "offset 1: expected a digit after '-'"},
		{`01`, "offset 1: expected end of input after the top-level value"},
		{`1.`, "offset 2: unexpected end of input: expected a digit after the decimal point"},
		{`1.e5`, "offset 2: expected a digit after the decimal point"},
		{`1e+`, "offset 3: unexpected end of input: expected a digit in the exponent"},
		{`+1`, "offset 0: expected a value (object, array, string, number, true, false or null)"},
		{`.5`, "offset 0: expected a value (object, array, string, number, true, false or null)"},
		{`NaN`, "offset 0: expected a value (object, array, string, number, true, false or null)"},
		{`"abc`, `offset 4: unexpected end of input: expected '"' to end a string`},
		{`"a\`, `offset 3: unexpected end of input: expected an escape sequence after '\'`},
		{`"a\x"`, `offset 2: invalid escape character 'x' after '\' in string`},
		{`"\u12G4"`, `offset 1: expected four hex digits after \u`},
		{`"\u12"`, `offset 1: expected four hex digits after \u`},
		{"\"a\tb\"", `offset 2: invalid control character '\t' in string (escape it)`},
		{"[\"a\nb\"]", `offset 3: invalid control character '\n' in string (escape it)`},
		{strings.Repeat("[", MaxDepth+1), "offset 10000: nesting deeper than 10000 arrays and objects"},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Decode(%.40q) error = %v, want %s", tt.in, err, tt.want)
		}
		// An outline checks what it does not build all the same.
		for _, o := range []Outline{nil, {}, {"a": {}}} {
			if _, _, err := DecodeOutline([]byte(tt.in), o); err == nil || err.Error() != tt.want {
				t.Errorf("DecodeOutline(%.40q, %v) error = %v, want %s", tt.in, o, err, tt.want)
			}
		}
		// Decode accepts exactly what encoding/json accepts.
		if json.Valid([]byte(tt.in)) {
			t.Errorf("encoding/json accepts %.40q", tt.in)
		}
	}
}

func TestDecodeErrorPosition(t *testing.T) {
	_, err := Decode([]byte("{\n  \"a\": 1,\n  \"b\" 2\n}"))
	se, ok := err.(*syntaxError)
	if !ok {
		t.Fatalf("error %v is a %T, want *syntaxError", err, err)
	}
	if se.Offset != 18 || se.Line != 3 || se.Column != 7 {
		t.Errorf("error at offset %d, line %d, column %d; want 18, 3, 7", se.Offset, se.Line, se.Column)
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	n, err := Decode([]byte(deep))
	if err != nil {
		t.Fatalf("nesting of exactly MaxDepth: %v", err)
	}
	out, err := Marshal(n)
	if err != nil || string(out) != deep {
		t.Errorf("Marshal of deep nesting: %v", err)
	}
}

// A string node whose text reads as another type must come out of a YAML
// encoder quoted, so that the YAML loads back to the same data.
func TestYAMLQuotesAmbiguousStrings(t *testing.T) {
	for _, s := range []string{"true", "false", "yes", "null", "~", "", "123", "1.5", "0x1F", "1e3", ".inf", "2001-12-14", "a: b", "- x", "#c", "<<"} {
		js, _ := json.Marshal(s)
		n, err := Decode(js)
		if err != nil {
			t.Fatal(err)
		}
		out, err := yaml.NewRNode(n).String()
		if err != nil {
			t.Fatal(err)
		}
		var back any
		if err := yaml.Unmarshal([]byte(out), &back); err != nil {
			t.Fatalf("%q encodes as %q, which does not load: %v", s, out, err)
		}
		if back != s {
			t.Errorf("%q encodes as %q, which loads as %#v", s, out, back)
		}
	}
}

func TestDecodeKeepsDataIndependentOfInput(t *testing.T) {
	in := []byte(`{"a":"b"}`)
	n, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	copy(in, `{"x":"y"}`)
	if n.Content[0].Value != "a" || n.Content[1].Value != "b" {
		t.Errorf("node changed with its input: %q %q", n.Content[0].Value, n.Content[1].Value)
	}
}

func TestDecodedContentAppendIsSafe(t *testing.T) {
	n, err := Decode([]byte(`[[1],[2]]`))
	if err != nil {
		t.Fatal(err)
	}
	first := n.Content[0]
	first.Content = append(first.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "9"})
	out, err := Marshal(n)
	if err != nil || string(out) != `[[1,9],[2]]` {
		t.Errorf("after append: %s %v", out, err)
	}
}

// TestDecoderReusesItsBlocks: one Decoder decodes a sequence of inputs,
// larger and smaller, valid and not, each as Decode does; the strings of an
// earlier tree survive the later calls.
func TestDecoderReusesItsBlocks(t *testing.T) {
	_, pod := testPod(t)
	inputs := [][]byte{
		pod,
		[]byte(`{"a":[1,2,{"b":null}],"c":"d"}`),
		[]byte(`{"a":[1,2`), // an error half way leaves its nodes to be cleared
		[]byte(`[` + strings.Repeat(`{"k":"v"},`, 500) + `{}]`), // more than the blocks hold
		pod,
		[]byte(`"just a string"`),
	}
	var d Decoder
	var kept []string
	for i, in := range inputs {
		want, wantErr := Decode(in)
		got, err := d.Decode(in)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("input %d: Decoder error %v, Decode error %v", i, err, wantErr)
		}
		if err != nil {
			continue
		}
		a, _ := Marshal(want)
		b, _ := Marshal(got)
		if !bytes.Equal(a, b) {
			t.Errorf("input %d: the Decoder gives %s, Decode %s", i, b, a)
		}
		kept = append(kept, string(b))
		if got.Kind == yaml.MappingNode {
			kept = append(kept, got.Content[0].Value)
		}
	}
	if kept[1] != "kind" || kept[3] != "a" {
		t.Errorf("strings of earlier trees changed: %q", kept)
	}
}

func TestDecodeOutline(t *testing.T) {
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{"a":"1","a":"2"}},` +
		`"spec":{"containers":[{"name":"c","args":["x","y\\u0041"]}],"nodeSelector":{"k":"v"},"template":{"metadata":{"x":1},"spec":[1]}},"status":{"phase":"Pending"}}`
	for _, tt := range []struct {
		name    string
		in      string
		outline Outline
		want    string
	}{
		{"nil builds all", pod, nil, pod},
		{"empty builds the object only", pod, Outline{}, `{}`},
		{"metadata whole, spec's presence", pod, Outline{"kind": nil, "metadata": nil, "spec": {}},
			`{"kind":"Pod","metadata":{"name":"p","annotations":{"a":"1","a":"2"}},"spec":{}}`},
		{"a path through the spec", pod, Outline{"spec": {"template": {"metadata": nil, "spec": {}}}},
			`{"spec":{"template":{"metadata":{"x":1},"spec":[]}}}`},
		{"an outlined array has no items", pod, Outline{"spec": {"containers": {"name": nil}}}, `{"spec":{"containers":[]}}`},
		{"an outlined scalar is whole", `{"spec":"text"}`, Outline{"spec": {"template": nil}}, `{"spec":"text"}`},
		{"duplicate keys are both kept", `{"m":{"a":1},"x":[1,2],"m":{"b":2}}`, Outline{"m": nil}, `{"m":{"a":1},"m":{"b":2}}`},
		{"not an object", `[{"a":1}]`, Outline{"a": nil}, `[]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, count, err := DecodeOutline([]byte(tt.in), tt.outline)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(n)
			if err != nil || string(out) != tt.want {
				t.Errorf("outline %s, %v; want %s", out, err, tt.want)
			}
			whole, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if want := countNodes(whole); count != want {
				t.Errorf("count %d, want %d (the nodes of the whole tree)", count, want)
			}
		})
	}
}

// TestDecodeOutlineOfALargePod: a pod's outline costs a few allocations
// however long its spec (a million args here), and its strings keep
// nothing of the input alive.
func TestDecodeOutlineOfALargePod(t *testing.T) {
	data := []byte(`{"metadata":{"annotations":{"a":"b"}},"spec":{"containers":[{"name":"c","args":[""` +
		strings.Repeat(`,""`, 1_000_000-1) + `]}]}}`)
	o := Outline{"metadata": nil, "spec": {}}
	var n *yaml.Node
	var count int
	allocs := testing.AllocsPerRun(3, func() {
		var err error
		if n, count, err = DecodeOutline(data, o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 20 {
		t.Errorf("%v allocations for the outline, want a few", allocs)
	}
	if count != 1_000_000+16 {
		t.Errorf("count %d, want %d", count, 1_000_000+16)
	}
	data[len(`{"metadata":{"annotations":{"a":"`)] = 'X'
	if out, _ := Marshal(n); string(out) != `{"metadata":{"annotations":{"a":"b"}},"spec":{}}` {
		t.Errorf("outline %s", out)
	}
}

// DecodeCost is at least what Decode allocates, and not far above it for
// a pod.
func TestDecodeCost(t *testing.T) {
	_, pod := testPod(t)
	for _, data := range [][]byte{
		pod,
		[]byte(`[""` + strings.Repeat(`,""`, 100_000) + `]`),
		[]byte(`{"a":"` + strings.Repeat(`\u00e9`, 10_000) + `"}`),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := Decode(data); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		allocated, cost := int64(after.TotalAlloc-before.TotalAlloc), DecodeCost(data)
		if allocated > cost || cost > 3*allocated {
			t.Errorf("%.20s...: Decode allocated %d bytes, DecodeCost says %d", data, allocated, cost)
		}
	}
}

func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}
