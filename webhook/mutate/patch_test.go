package mutate

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
	"github.com/sidecar-injector/sidecar-injector/internal/patchtest"
	"github.com/sidecar-injector/sidecar-injector/webhook/admission"
)

// patchCase is a config and objects to inject into, as the API server
// would send them.
type patchCase struct {
	name      string
	inj       *engine.Injector
	namespace string
	objects   [][]byte
}

// readPatchCases reads the engine's golden cases (their configs and
// options, and each document of their input as JSON), and the handler's
// review fixtures with their configs: the Salesforce review, the load
// benchmark's, and those of testdata/.
func readPatchCases(t testing.TB) []patchCase {
	type review struct {
		file   string
		config []string
	}
	bench := []string{filepath.Join(compat, "sidecarconfigs.yaml"), "../../engine/testdata/bench/mutations.yaml"}
	reviews := []review{
		{filepath.Join(compat, "admissionreview.json"), []string{filepath.Join(compat, "sidecarconfigs.yaml"), filepath.Join(compat, "mutationconfigs.yaml")}},
		{"../loadgen/testdata/bench-review.json", bench},
	}
	fixtures, _ := filepath.Glob("testdata/*.json")
	for _, f := range fixtures {
		reviews = append(reviews, review{f, []string{"testdata/sidecar-injector.yaml"}})
	}
	cases := readGoldenCases(t)
	for _, r := range reviews {
		inj, err := engine.LoadFiles(r.config...)
		if err != nil {
			t.Fatal(err)
		}
		req := readRequest(t, r.file)
		if len(req.Object.Raw) == 0 || req.Object.Raw[0] != '{' {
			continue // nothing to inject into
		}
		cases = append(cases, patchCase{name: r.file, inj: inj, namespace: req.Namespace, objects: [][]byte{req.Object.Raw}})
	}
	return cases
}

func readGoldenCases(t testing.TB) []patchCase {
	t.Helper()
	golden, err := goldencase.All("../../engine/testdata")
	if err != nil {
		t.Fatal(err)
	}
	var cases []patchCase
	for _, g := range golden {
		inj, err := engine.LoadFiles(g.Configs...)
		if err != nil {
			t.Fatalf("%s: %v", g.Dir, err)
		}
		c := patchCase{name: g.Name, inj: inj, namespace: g.Namespace}
		docs, err := g.Documents()
		if err != nil {
			t.Fatalf("%s: %v", g.Input(), err)
		}
		for _, doc := range docs {
			object, err := jsonnode.Marshal(doc)
			if err != nil {
				t.Fatalf("%s: %v", g.Input(), err)
			}
			c.objects = append(c.objects, object)
		}
		cases = append(cases, c)
	}
	return cases
}

// TestPatchGivesEngineOutput holds the patch the webhook sends, made of
// the engine's edits, to an independent reference on every object of the
// engine's golden cases and of the handler's review fixtures: applied to
// the object as it came, with the patch library the API server uses, it
// must give what the engine made of the object.
func TestPatchGivesEngineOutput(t *testing.T) {
	edited := 0
	for _, c := range readPatchCases(t) {
		for i, object := range c.objects {
			node, err := jsonnode.Decode(object)
			if err != nil {
				t.Fatal(err)
			}
			rep := c.inj.Inject(yaml.NewRNode(node), engine.Options{Namespace: c.namespace})
			if rep.Err() != nil {
				if len(rep.Edits) > 0 {
					t.Errorf("%s #%d: edits %v of a failed injection", c.name, i, rep.Edits)
				}
				continue
			}
			if !rep.EditsComplete {
				t.Errorf("%s #%d: the engine could not list its edits of a well-formed object", c.name, i)
				continue
			}
			want, err := jsonnode.Marshal(node)
			if err != nil {
				t.Fatal(err)
			}
			sent, err := marshalPatch(rep)
			if err != nil {
				t.Fatal(err)
			}
			checkPatchGives(t, c.name, object, sent, want)
			if len(rep.Edits) > 0 {
				edited++
			}
		}
	}
	if edited < 10 {
		t.Errorf("only %d objects were patched from edits: the cases no longer exercise them", edited)
	}
}

// checkPatchGives applies patch to object and compares the result with
// want, as JSON values.
func checkPatchGives(t *testing.T, name string, object, patch, want []byte) {
	t.Helper()
	got, err := patchtest.Apply(object, patch)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !reflect.DeepEqual(decode(t, want), decode(t, got)) {
		t.Errorf("%s: patch %s\napplied to %s\ngives %s\nwant %s", name, patch, object, got, want)
	}
}

// FuzzPatch sends any JSON object through the engine with every golden
// case's config: the patch the webhook would send must give what the
// engine made of the object, and where the engine could not list its edits
// (an object not shaped as a Kubernetes object), the webhook must refuse
// the object.
func FuzzPatch(f *testing.F) {
	cases := readPatchCases(f)
	for _, c := range cases {
		for _, object := range c.objects {
			f.Add(object)
		}
	}
	f.Add([]byte(`{"kind":"Pod","metadata":{"annotations":{"logging.example.com/inject":"true"}},"spec":{"containers":null}}`))
	f.Add([]byte(`{"kind":"Pod","metadata":{"annotations":{"logging.example.com/inject":"true"}},"spec":{"containers":[{"name":"a","volumeMounts":{}}]}}`))
	f.Add([]byte(`{"kind":"Pod","metadata":null,"spec":{"containers":"x"}}`))
	f.Fuzz(func(t *testing.T, object []byte) {
		var v any
		if json.Unmarshal(object, &v) != nil {
			return // jsonnode and encoding/json differ on what is valid; not this test's concern
		}
		for _, c := range cases {
			node, err := jsonnode.Decode(object)
			if err != nil || node.Kind != yaml.MappingNode || patchtest.OddKeys(node) {
				return
			}
			rep := c.inj.Inject(yaml.NewRNode(node), engine.Options{Namespace: "fuzz"})
			if rep.Err() != nil {
				continue
			}
			want, err := jsonnode.Marshal(node)
			if err != nil {
				continue // the engine made something JSON cannot hold from an object not shaped as Kubernetes ones
			}
			// Through the handler, decoding the object whole, and reading
			// it in outline first as it does a large one: the same answer.
			req := &admission.Request{
				UID: "fuzz", Operation: admissionv1.Create, Namespace: "fuzz",
				Kind:   metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
				Object: runtime.RawExtension{Raw: object},
			}
			resp := (&Handler{Injector: func() Injector { return c.inj }}).Handle(context.Background(), req)
			outlined := (&Handler{Injector: func() Injector { return c.inj }, outlineFromBytes: 1}).Handle(context.Background(), req)
			if !reflect.DeepEqual(resp, outlined) {
				t.Fatalf("%s: read in outline first, the answer %+v differs from %+v", c.name, outlined, resp)
			}
			switch {
			case !rep.EditsComplete:
				if resp.Allowed || resp.Result.Code != http.StatusInternalServerError {
					t.Fatalf("%s: the engine could not list its edits, but the answer is %+v", c.name, resp)
				}
			case !resp.Allowed:
				t.Fatalf("%s: refused (%+v), but the engine injected", c.name, resp.Result)
			default:
				checkPatchGives(t, c.name, object, resp.Patch, want)
			}
		}
	})
}
