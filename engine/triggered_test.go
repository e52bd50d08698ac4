package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
)

// Triggered on a resource's outline answers as Inject on the whole
// resource: on every golden case's input and output (injected pods, with
// their status and record), and on hostile metadata made from each case's
// trigger and status keys, with and without Upgrade.
func TestTriggeredAnswersAsInject(t *testing.T) {
	forEachGoldenCase(t, func(t *testing.T, c goldencase.Case, inj *engine.Injector) {
		objects := documentsAsJSON(t, c.Input())
		for _, injected := range documentsAsJSON(t, filepath.Join(c.Dir, "expected.yaml")) {
			// Injected, then no longer asking: Upgrade takes out what
			// was injected.
			objects = append(objects, injected, untriggered(inj, injected))
		}
		objects = append(objects, hostileObjects(inj)...)
		for _, obj := range objects {
			for _, opts := range []engine.Options{
				{Namespace: c.Namespace, Upgrade: c.Upgrade},
				{Namespace: "kube-system"},
				{Namespace: "team-a", Upgrade: true},
			} {
				checkTriggered(t, inj, obj, opts)
			}
		}
	})
}

func checkTriggered(t *testing.T, inj *engine.Injector, obj []byte, opts engine.Options) {
	t.Helper()
	outline, _, err := jsonnode.DecodeOutline(obj, inj.Outline())
	if err != nil {
		t.Fatal(err)
	}
	got, triggered := inj.Triggered(yaml.NewRNode(outline), opts)

	whole, err := jsonnode.Decode(obj)
	if err != nil {
		t.Fatal(err)
	}
	want := inj.Inject(yaml.NewRNode(whole), opts)
	after, err := jsonnode.Marshal(whole)
	if err != nil {
		t.Fatal(err)
	}
	changed := string(after) != string(obj)
	rendered := changed || len(want.Errors) > 0 || len(want.Skipped) > 0

	if !triggered {
		if rendered {
			t.Errorf("%s (%+v): Triggered says no, but Inject changed it or rendered a mutation", obj, opts)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (%+v): Triggered's report differs from Inject's (-Inject +Triggered):\n%s", obj, opts, diff)
		}
		return
	}
	// Without Upgrade, every mutation selected is rendered, and one
	// rendered is either applied (status and record change the pod) or
	// reported (an error, a skip, a warning saying why nothing was
	// injected): Triggered says yes exactly when Inject does something.
	if !opts.Upgrade && !rendered && len(want.Warnings) <= len(got.Warnings) {
		t.Errorf("%s (%+v): Triggered says yes, but Inject rendered nothing (report %+v)", obj, opts, want)
	}
}

// untriggered is obj with every trigger of inj set to "false".
func untriggered(inj *engine.Injector, obj []byte) []byte {
	s := string(obj)
	for _, m := range inj.Mutations() {
		for _, v := range []string{`"true"`, `"enabled"`} {
			key, _ := json.Marshal(m.TriggerKey())
			s = strings.ReplaceAll(s, string(key)+":"+v, string(key)+`:"false"`)
		}
	}
	return []byte(s)
}

// documentsAsJSON reads a YAML stream's resources as compact JSON.
func documentsAsJSON(t *testing.T, file string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := goldencase.Documents(data)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, d := range docs {
		b, err := jsonnode.Marshal(d.Content[0])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// hostileObjects are pods and workloads whose metadata an attacker wrote:
// every kind of value under each mutation's trigger, duplicate keys in
// either order, status and record annotations true and forged, triggers
// where pods do not inherit them, namespaces ignored, specs missing or of
// the wrong kind, kinds and apiVersions that do not match.
func hostileObjects(inj *engine.Injector) [][]byte {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var objs []string
	pod := func(meta string) string {
		return `{"apiVersion":"v1","kind":"Pod","metadata":` + meta + `,"spec":{"containers":[{"name":"app","image":"app","args":["a"]}]}}`
	}
	for _, m := range inj.Mutations() {
		k, s := q(m.TriggerKey()), q(m.StatusKey())
		rec := q(engine.RecordAnnotation)
		for _, v := range []string{`"true"`, `"enabled"`, `"false"`, `"disabled"`, `"yes"`, `""`, `"TRUE"`, `" true"`, `null`, `1`, `true`, `{}`, `["true"]`} {
			objs = append(objs, pod(`{"name":"p","annotations":{`+k+`:`+v+`}}`))
		}
		objs = append(objs,
			pod(`{"annotations":{`+k+`:"true",`+k+`:"false"}}`),
			pod(`{"annotations":{`+k+`:"false",`+k+`:"true"}}`),
			pod(`{"annotations":{`+k+`:"true"},"annotations":{}}`),
			pod(`{"annotations":{},"annotations":{`+k+`:"true"}}`),
			`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{`+k+`:"true"}},"metadata":{},"spec":{}}`,
			`{"apiVersion":"v1","kind":"Pod","metadata":{},"metadata":{"annotations":{`+k+`:"true"}},"spec":{}}`,
			pod(`{"annotations":{`+k+`:"true",`+s+`:"injected"}}`),
			pod(`{"annotations":{`+k+`:"true",`+s+`:"injected",`+s+`:"no"}}`),
			pod(`{"annotations":{`+k+`:"true",`+rec+`:"{not json"}}`),
			pod(`{"annotations":{`+k+`:"true",`+rec+`:`+q(`{"mutations":[{"name":"`+m.Name+`","hash":"x"}]}`)+`}}`),
			pod(`{"annotations":{`+k+`:"true",`+rec+`:`+q(`{"mutations":[{"name":"another","hash":"x"}]}`)+`}}`),
			pod(`{"annotations":{`+k+`:"true",`+rec+`:"null"}}`),
			pod(`{"namespace":"kube-system","annotations":{`+k+`:"true"}}`),
			pod(`{"namespace":"team-a","annotations":{`+k+`:"true"}}`),
			pod(`{"labels":{`+k+`:"true"}}`),
			pod(`{"annotations":[`+k+`]}`),
			pod(`"metadata"`),
			`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{`+k+`:"true"}}}`,
			`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{`+k+`:"true"}},"spec":null}`,
			`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{`+k+`:"true"}},"spec":["x"]}`,
			`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{`+k+`:"true"}},"spec":"x"}`,
			`{"spec":{},"metadata":{"annotations":{`+k+`:"true"}},"kind":"Pod","apiVersion":"v1"}`,
			`{"apiVersion":"v1","kind":"ConfigMap","kind":"Pod","metadata":{"annotations":{`+k+`:"true"}},"spec":{}}`,
			`{"apiVersion":"v1","kind":"Pod","kind":"ConfigMap","metadata":{"annotations":{`+k+`:"true"}},"spec":{}}`,
			`{"apiVersion":"apps/v1","kind":"Pod","metadata":{"annotations":{`+k+`:"true"}},"spec":{}}`,
			`{"apiVersion":"v1","kind":"Deployment","metadata":{"annotations":{`+k+`:"true"}},"spec":{}}`,
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{`+k+`:"true"}},"spec":{"template":{"spec":{"containers":[]}}}}`,
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{},"spec":{"template":{"metadata":{"annotations":{`+k+`:"true"}},"spec":{"containers":[{"name":"a"}]}}}}`,
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{},"spec":{"template":{"metadata":{"annotations":{`+k+`:"true"}}}}}`,
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{},"spec":{"template":[{"metadata":{"annotations":{`+k+`:"true"}},"spec":{}}]}}`,
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{},"spec":{"template":{"metadata":{"annotations":{`+k+`:"true"}},"spec":{}},"template":{"spec":{}}}}`,
			`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{},"spec":{"jobTemplate":{"spec":{"template":{"metadata":{"annotations":{`+k+`:"true"}},"spec":{"containers":[{"name":"a"}]}}}}}}`,
			`{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{},"spec":{"template":{"metadata":{"annotations":{`+k+`:"true"}},"spec":{"containers":[{"name":"a"}]}}}}`,
			`{"apiVersion":"v1","kind":"PodTemplate","metadata":{},"template":{"metadata":{"annotations":{`+k+`:"true"}},"spec":{"containers":[{"name":"a"}]}}}`,
		)
	}
	out := make([][]byte, len(objs))
	for i, o := range objs {
		if !json.Valid([]byte(o)) {
			panic(fmt.Sprintf("hostile object %d is not JSON: %s", i, o))
		}
		out[i] = []byte(o)
	}
	return out
}
