package typednode

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestEncode(t *testing.T) {
	c := corev1.Container{
		Name:  "agent",
		Image: "agent:1",
		Args:  []string{"true", "123"},
		Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
		},
	}
	n, err := Encode(&c)
	if err != nil {
		t.Fatal(err)
	}
	// Go struct order, omitempty applied, strings that look like other
	// types quoted.
	want := `name: agent
image: agent:1
args:
- "true"
- "123"
ports:
- containerPort: 8080
resources:
  limits:
    cpu: 500m
`
	if got := yaml.NewRNode(n).MustString(); got != want {
		t.Errorf("Encode:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Encode(func() {}); err == nil {
		t.Error("Encode of a func: no error")
	}
}

// Decoding what Encode made gives the value back.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	c := containerFixture(t)
	n, err := Encode(&c)
	if err != nil {
		t.Fatal(err)
	}
	var back corev1.Container
	if err := Decode(n, &back, Options{Strict: true}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, back, cmpOptions); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestEncodeMatchesEncodingJSON checks Encode against encoding/json, which
// it replaces: the same node for the same value, an error for the same
// values. Values come from randfill (the Kubernetes types a config and a pod
// hold) and from a type that uses every rule of encoding/json.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	fill := randfill.NewWithSeed(1).NilChance(0.2).NumElements(0, 3).Funcs(
		func(x *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*x = intstr.FromInt32(int32(c.Uint64()))
			} else {
				*x = intstr.FromString(c.String(0))
			}
		},
		func(x *resource.Quantity, c randfill.Continue) {
			*x = *resource.NewMilliQuantity(int64(c.Uint64()%1e9), resource.DecimalSI)
		},
		func(x *runtime.RawExtension, c randfill.Continue) {
			x.Raw = []byte(strconv.Quote(c.String(0)))
		},
		func(x *any, c randfill.Continue) {
			switch c.Uint64() % 4 {
			case 0:
				*x = nil
			case 1:
				*x = c.String(0)
			case 2:
				*x = float64(c.Uint64()%1000) / 8
			default:
				*x = map[string]any{c.String(0): []any{c.Bool(), "x"}}
			}
		},
	)
	news := []func() any{
		func() any { return new(corev1.Pod) },
		func() any { return new(corev1.Container) },
		func() any { return new(corev1.Volume) },
		func() any { return new(everyRule) },
	}
	for _, newValue := range news {
		for range 100 {
			v := newValue()
			fill.Fill(v)
			assertEncodesLikeJSON(t, v)
		}
	}
	for _, v := range []any{
		nil, 1.5, float32(0.1), 1e21, 1e-7, float32(1e-7), "<&>\u2028", []byte("bytes"), map[int]string{2: "b", 10: "a"},
		everyRule{Float64: math.Inf(1)},
		everyRule{Float32: float32(math.NaN())},
		struct{ F func() }{},
		&everyRule{Text: textKey("x"), PtrText: new(textKey), Any: []any{1.0, "s", nil, map[string]any{"k": true}}},
		map[textKey]int{"b": 1, "a": 2},
		[]byteMarshaler{1, 2},
	} {
		assertEncodesLikeJSON(t, v)
	}
}

func assertEncodesLikeJSON(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, gotErr := Encode(v)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("%T: encoding/json error %v, Encode error %v", v, wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	wantNode, err := jsonnode.Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(yaml.NewRNode(wantNode).MustString(), yaml.NewRNode(got).MustString()); diff != "" {
		t.Fatalf("%T: Encode differs from encoding/json (-json +Encode):\n%s\nvalue: %s", v, diff, want)
	}
}

// everyRule has a field for each rule of encoding/json that Kubernetes
// types do not all use.
type everyRule struct {
	Float64    float64                  `json:"f64"`
	Float32    float32                  `json:"f32,omitempty"`
	Quoted     int                      `json:"quoted,string"`
	QuotedStr  string                   `json:"quotedStr,string"`
	QuotedPtr  *bool                    `json:"quotedPtr,string,omitempty"`
	Zero       zeroer                   `json:"zero,omitzero"`
	ZeroPtr    *zeroer                  `json:"zeroPtr,omitzero"`
	ZeroValue  struct{ A int }          `json:"zeroValue,omitzero"`
	Bytes      []byte                   `json:"bytes"`
	IntKeys    map[int8]string          `json:"intKeys"`
	UintKeys   map[uint]bool            `json:"uintKeys,omitempty"`
	Array      [2]string                `json:"array"`
	Any        any                      `json:"any"`
	Text       textKey                  `json:"text"`
	PtrText    *textKey                 `json:"ptrText"`
	AddrJSON   addrMarshaler            `json:"addrJSON"`
	AddrInMap  map[string]addrMarshaler `json:"addrInMap"`
	Ignored    string                   `json:"-"`
	Dash       string                   `json:"-,"`
	unexported string
	*Embedded
	Inline
}

type Embedded struct {
	EmbeddedName string
	Shadowed     string `json:"shadowed"`
}

type Inline struct {
	Shadowed string `json:"shadowed"` // ambiguous with Embedded's: dropped
	Deep     int
}

type zeroer struct{ N int }

func (z zeroer) IsZero() bool { return z.N%2 == 0 }

type textKey string

func (k textKey) MarshalText() ([]byte, error) { return []byte("key-" + string(k)), nil }

type addrMarshaler struct{ V string }

func (a *addrMarshaler) MarshalJSON() ([]byte, error) { return json.Marshal("addr:" + a.V) }

type byteMarshaler byte

func (b byteMarshaler) MarshalJSON() ([]byte, error) { return []byte(strconv.Itoa(int(b) * 2)), nil }
