package jsonnode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func parseYAML(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return &doc
}

func TestMarshalYAML(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"ints", `[0x1F, 0o17, 017, 1_000, +12, -0, 18446744073709551615, -9223372036854775808]`,
			`[31,15,15,1000,12,-0,18446744073709551615,-9223372036854775808]`},
		{"floats", `[.5, 1e3, 1.0, -.5e-7, 1.5e+300, 0.000001, 0.0000001, 123456789012345678901234567890, 1_0.5]`,
			`[0.5,1e3,1.0,-5e-8,1.5e+300,0.000001,0.0000001,123456789012345678901234567890,10.5]`},
		{"bools and nulls", `[true, True, FALSE, yes, off, null, ~, Null, ""]`,
			`[true,true,false,"yes","off",null,null,null,""]`},
		{"empty value is null", "a:\nb: ''", `{"a":null,"b":""}`},
		{"quoted look-alikes stay strings", `["123", '1.5', "true", "null", '0x1F']`,
			`["123","1.5","true","null","0x1F"]`},
		{"block scalars are strings", "a: |\n  123\nb: >-\n  true", `{"a":"123\n","b":"true"}`},
		{"other tags are strings", `[2001-12-14, !!binary aGk=, !!str 12, !custom x, !!timestamp 2001-12-14t21:59:43.10-05:00]`,
			`["2001-12-14","aGk=","12","x","2001-12-14t21:59:43.10-05:00"]`},
		{"explicit numeric tags", `[!!float 1, !!int "7", !!float 0x10]`, `[1,7,16]`},
		{"keys become strings", `{1: a, true: b, null: c, 1.5: d, "q": e}`, `{"1":"a","true":"b","null":"c","1.5":"d","q":"e"}`},
		{"escaping", `["<a href='x'>&</a>", "tab\there", "\u2028\u2029", "\x7f\x00\e"]`,
			`["\u003ca href='x'\u003e\u0026\u003c/a\u003e","tab\there","\u2028\u2029","` + "\x7f" + `\u0000\u001b"]`},
		{"aliases", "base: &b {x: 1, y: [2]}\nother: *b\nkey: &k name\n*k : v",
			`{"base":{"x":1,"y":[2]},"other":{"x":1,"y":[2]},"key":"name","name":"v"}`},
		{"merge keys", "base: &b {x: 1, y: 2}\nm:\n  <<: [*b, {z: 3, x: 9}]\n  y: 5\nn:\n  <<: *b\n",
			`{"base":{"x":1,"y":2},"m":{"x":1,"z":3,"y":5},"n":{"x":1,"y":2}}`},
		{"nested merge keys", "a: &a {p: 1}\nb: &b {<<: *a, q: 2, p: 0}\nc: {<<: *b}",
			`{"a":{"p":1},"b":{"q":2,"p":0},"c":{"q":2,"p":0}}`},
		{"a merged mapping keeps its order", "a: &a {x: 1}\nb: &b {<<: *a, q: 2}\nc: {<<: *b}",
			`{"a":{"x":1},"b":{"x":1,"q":2},"c":{"x":1,"q":2}}`},
		{"quoted << is a key", `{"<<": {a: 1}}`, `{"\u003c\u003c":{"a":1}}`},
		{"empty document", ``, `null`},
		{"empty collections", `{a: {}, b: []}`, `{"a":{},"b":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(parseYAML(t, tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Marshal:\n got %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestMarshalHandBuilt(t *testing.T) {
	scalar := func(tag, value string, style yaml.Style) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value, Style: style}
	}
	target := scalar("", "shared", 0)
	tests := []struct {
		name string
		node *yaml.Node
		want string
	}{
		{"nil", nil, `null`},
		{"zero node", &yaml.Node{}, `null`},
		{"untagged plain int", scalar("", "123", 0), `123`},
		{"untagged plain bool", scalar("", "true", 0), `true`},
		{"untagged plain empty", scalar("", "", 0), `null`},
		{"untagged plain string", scalar("", "hello", 0), `"hello"`},
		{"untagged double-quoted", scalar("", "123", yaml.DoubleQuotedStyle), `"123"`},
		{"untagged single-quoted", scalar("", "true", yaml.SingleQuotedStyle), `"true"`},
		{"untagged literal", scalar("", "1", yaml.LiteralStyle), `"1"`},
		{"non-specific tag", scalar("!", "1", 0), `1`},
		{"long tag", scalar("tag:yaml.org,2002:int", "0x10", 0), `16`},
		{"document", &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{scalar("", "1", 0)}}, `1`},
		{"alias", &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{
			{Kind: yaml.AliasNode, Alias: target}, target}}, `["shared","shared"]`},
		{"untagged mapping", &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			scalar("", "a", 0), scalar("", "1", 0), scalar("", "a", 0), scalar("", "2", 0)}}, `{"a":1,"a":2}`},
	}
	for _, tt := range tests {
		got, err := Marshal(tt.node)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: Marshal = %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	cycle := &yaml.Node{Kind: yaml.SequenceNode}
	cycle.Content = []*yaml.Node{{Kind: yaml.AliasNode, Alias: cycle}}
	tests := []struct {
		name string
		node *yaml.Node
		want string
	}{
		{"infinity", parseYAML(t, "a: .inf"), `jsonnode: line 1, column 4: !!float ".inf" has no JSON encoding`},
		{"nan", parseYAML(t, "- .NaN"), `jsonnode: line 1, column 3: !!float ".NaN" has no JSON encoding`},
		{"negative infinity", parseYAML(t, "-.INF"), `jsonnode: line 1, column 1: !!float "-.INF" has no JSON encoding`},
		{"tagged infinity", parseYAML(t, "!!float +.inf"), `jsonnode: line 1, column 1: !!float "+.inf" has no JSON encoding`},
		{"bad bool", parseYAML(t, "!!bool yes"), `jsonnode: line 1, column 1: !!bool "yes" is not true or false`},
		{"bad int", parseYAML(t, "x: !!int 1.5"), `jsonnode: line 1, column 4: !!int "1.5" is not an integer JSON can hold`},
		{"int overflow", parseYAML(t, "x: !!int 0x1FFFFFFFFFFFFFFFF"), `jsonnode: line 1, column 4: !!int "0x1FFFFFFFFFFFFFFFF" is not an integer JSON can hold`},
		{"bad float", parseYAML(t, "x: !!float abc"), `jsonnode: line 1, column 4: !!float "abc" is not a number`},
		{"sequence key", parseYAML(t, "? [1]\n: 2"), `jsonnode: line 1, column 3: mapping key is not a scalar`},
		{"merge of a scalar", parseYAML(t, "a:\n  <<: 1"), `jsonnode: line 2, column 7: merge key value must be a mapping or a sequence of mappings`},
		{"merge of a list of scalars", parseYAML(t, "a: {<<: [1]}"), `jsonnode: line 1, column 10: merge key value must be a mapping or a sequence of mappings`},
		{"dangling alias", &yaml.Node{Kind: yaml.AliasNode, Value: "x"}, `jsonnode: alias *x refers to no node`},
		{"odd mapping", &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "a"}}}, `jsonnode: mapping node has an odd number of children`},
		{"unknown kind", &yaml.Node{Kind: 99}, `jsonnode: node of unknown kind 99`},
		{"alias cycle", cycle, `jsonnode: nesting deeper than MaxDepth (or an alias cycle)`},
	}
	for _, tt := range tests {
		buf := []byte("prefix")
		got, err := Encode(buf, tt.node)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error = %v, want %s", tt.name, err, tt.want)
		}
		if string(got) != "prefix" {
			t.Errorf("%s: Encode on error returned %q, want the buffer unchanged", tt.name, got)
		}
	}
}

func TestMarshalExpansionLimit(t *testing.T) {
	var laughs, merges strings.Builder
	laughs.WriteString("a0: &a0 [x]\n")
	merges.WriteString("m0: &m0 {k: v}\n")
	for i := 1; i <= 25; i++ {
		fmt.Fprintf(&laughs, "a%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
		fmt.Fprintf(&merges, "m%d: &m%d {<<: [*m%d, *m%d]}\n", i, i, i-1, i-1)
	}
	for name, src := range map[string]string{"aliases": laughs.String(), "merge keys": merges.String()} {
		_, err := Marshal(parseYAML(t, src))
		if err == nil || err.Error() != "jsonnode: aliases expand to more than 1048576 nodes" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEncodeAppends(t *testing.T) {
	n, _ := Decode([]byte(`{"a":1}`))
	got, err := Encode([]byte("x="), n)
	if err != nil || string(got) != `x={"a":1}` {
		t.Errorf("Encode = %q, %v", got, err)
	}
}

func TestRoundTrip(t *testing.T) {
	_, pod := testPod(t)
	inputs := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.50`, `1E+2`, `null`, `true`,
		`{"a":[1,2,{"b":null}],"c":"d","a":false}`,
		`"\u003c\u003e\u0026 \u2028 \u0000 \b\f\n\r\t \"\\ é 😀"`,
		`123456789012345678901234567890.123e-456`,
		string(pod),
	}
	for _, in := range inputs {
		n, err := Decode([]byte(in))
		if err != nil {
			t.Fatalf("Decode(%.40q): %v", in, err)
		}
		out, err := Marshal(n)
		if err != nil {
			t.Fatalf("Marshal(%.40q): %v", in, err)
		}
		if string(out) != in {
			t.Errorf("round trip of %.60q gives %.60q", in, out)
		}
	}
}

// Compacting the indented pod is the same as decoding and marshaling it.
func TestRoundTripIndentedPod(t *testing.T) {
	indented, compact := testPod(t)
	n, err := Decode(indented)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, compact) {
		t.Errorf("Marshal(Decode(pod)) differs from the compacted pod:\n%s\n%s", out, compact)
	}
}

// The node tree from Decode is what kyaml's own parser gives for the same
// JSON, up to style: both write YAML that loads to the same data, and kyaml
// reads the same fields from both.
func TestKyamlParity(t *testing.T) {
	indented, _ := testPod(t)
	n, err := Decode(indented)
	if err != nil {
		t.Fatal(err)
	}
	ours := yaml.NewRNode(n)
	theirs, err := yaml.Parse(string(indented))
	if err != nil {
		t.Fatal(err)
	}
	ourYAML, theirYAML := ours.MustString(), theirs.MustString()
	var ourData, theirData any
	if err := yaml.Unmarshal([]byte(ourYAML), &ourData); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(theirYAML), &theirData); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ourData, theirData) {
		t.Errorf("YAML of Decode loads differently from kyaml's:\n%s\n---\n%s", ourYAML, theirYAML)
	}
	for _, path := range [][]string{
		{"metadata", "annotations", "keymaker.k8s-integration.sfdc.com/inject"},
		{"spec", "containers", "[name=keymaker-original]", "image"},
		{"spec", "serviceAccountName"},
	} {
		a, err1 := ours.Pipe(yaml.Lookup(path...))
		b, err2 := theirs.Pipe(yaml.Lookup(path...))
		if err1 != nil || err2 != nil || a == nil || b == nil {
			t.Fatalf("lookup %v: %v %v", path, err1, err2)
		}
		if a.YNode().Value != b.YNode().Value || a.YNode().ShortTag() != b.YNode().ShortTag() {
			t.Errorf("lookup %v: %q (%s), kyaml %q (%s)", path, a.YNode().Value, a.YNode().ShortTag(), b.YNode().Value, b.YNode().ShortTag())
		}
	}
	// And kyaml's JSON of our node is the same data as ours.
	kjson, err := ours.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	ourJSON, err := Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, kjson, ourJSON) {
		t.Errorf("kyaml's MarshalJSON differs in data:\n%s\n%s", kjson, ourJSON)
	}
}

// sameJSON reports whether a and b hold the same JSON value, numbers
// compared by their text.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	return reflect.DeepEqual(loadJSON(t, a), loadJSON(t, b))
}

func loadJSON(t testing.TB, data []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("encoding/json rejects %.80q: %v", data, err)
	}
	return v
}

// orderedMap is a JSON object with its key order, which encoding/json's map
// encoding would sort away.
type orderedMap []struct {
	key   string
	value any
}

func (m orderedMap) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, kv := range m {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(kv.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(kv.value)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// randomValue builds a random Go value and the node a YAML parser or a
// hand-written program could make of it.
func randomValue(r *rand.Rand, depth int) (any, *yaml.Node) {
	kind := r.IntN(9)
	if depth > 4 && kind >= 7 {
		kind = r.IntN(7)
	}
	switch kind {
	case 0:
		s := randomString(r)
		style := []yaml.Style{0, yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle, yaml.LiteralStyle}[r.IntN(4)]
		return s, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: style}
	case 1:
		i := r.Int64() >> r.IntN(64)
		if r.IntN(2) == 0 {
			i = -i
		}
		// Tagged, or plain untagged text that resolves to an int.
		tag := []string{"!!int", ""}[r.IntN(2)]
		return i, &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: strconv.FormatInt(i, 10)}
	case 2:
		u := r.Uint64()
		return u, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "0x" + strconv.FormatUint(u, 16)}
	case 3:
		f := math.Float64frombits(r.Uint64())
		if math.IsInf(f, 0) || math.IsNaN(f) {
			f = r.NormFloat64()
		}
		// YAML writes floats with strconv's 'g' format, which is not
		// always JSON (1e+06 is, 1e-07 is too, but .5 would not be).
		text := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(text, ".eE") {
			text += ".0"
		}
		if !isJSONNumber(text) {
			return f, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: text}
		}
		// A JSON-valid text is kept as it is: compare with json.Number.
		return json.Number(text), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: text}
	case 4:
		b := r.IntN(2) == 0
		return b, &yaml.Node{Kind: yaml.ScalarNode, Tag: []string{"!!bool", ""}[r.IntN(2)], Value: strconv.FormatBool(b)}
	case 5:
		return nil, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: []string{"null", "~", ""}[r.IntN(3)]}
	case 6:
		// A floating-point number written the YAML way, not JSON's.
		f := float64(r.IntN(1000)) / 8
		return f, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: "+" + strconv.FormatFloat(f, 'f', -1, 64)}
	case 7:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		v := []any{}
		for range r.IntN(5) {
			ev, en := randomValue(r, depth+1)
			v = append(v, ev)
			n.Content = append(n.Content, en)
		}
		return v, n
	default:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		m := orderedMap{}
		for range r.IntN(5) {
			k := randomString(r)
			ev, en := randomValue(r, depth+1)
			m = append(m, struct {
				key   string
				value any
			}{k, ev})
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, en)
		}
		return m, n
	}
}

func randomString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "9", " ", "<", ">", "&", `"`, `\`, "/", "\n", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
		"é", "€", "😀", "\u2028", "\u2029", "\ufffd", "\xff", "\xc3", "\xed\xa0\x80", "true", "<<"}
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// Marshal writes what encoding/json writes for the same value, byte for
// byte.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		v, n := randomValue(r, 0)
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Marshal(n)
		if err != nil {
			t.Fatalf("case %d: Marshal: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "<&>", "\u2028", "\xff\xfe", "\x00\x7f", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	_, pod := testPod(f)
	f.Add(pod)
	f.Add([]byte(`{"a":[1,-2.5e-3,"\ud83d\ude00",null,true,false,{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Decode(data)
		if (err == nil) != json.Valid(data) {
			t.Fatalf("Decode error %v, but json.Valid = %v", err, json.Valid(data))
		}
		// An outline checks the input as Decode does, and counts its nodes.
		_, count, oerr := DecodeOutline(data, Outline{"a": {"b": nil}})
		if fmt.Sprint(oerr) != fmt.Sprint(err) {
			t.Fatalf("DecodeOutline error %v, Decode error %v", oerr, err)
		}
		if err != nil {
			return
		}
		if count != countNodes(n) {
			t.Fatalf("DecodeOutline counted %d nodes, Decode built %d", count, countNodes(n))
		}
		out, err := Marshal(n)
		if err != nil {
			t.Fatalf("Marshal of a decoded node: %v", err)
		}
		if !sameJSON(t, data, out) {
			t.Fatalf("%q round-trips to %q, a different value", data, out)
		}
		// Marshal's output is a fixed point.
		n2, err := Decode(out)
		if err != nil {
			t.Fatalf("Decode of Marshal output %q: %v", out, err)
		}
		out2, err := Marshal(n2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second round trip: %q, %v; first gave %q", out2, err, out)
		}
	})
}
