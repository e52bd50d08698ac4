package jsonpatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
	"github.com/sidecar-injector/sidecar-injector/webhook/internal/patchtest"
)

// FuzzDiff checks the patch's one promise on any pair of JSON objects:
// applied to the first, it gives the second.
func FuzzDiff(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/*")
	for _, dir := range dirs {
		before, err1 := os.ReadFile(filepath.Join(dir, "before.json"))
		after, err2 := os.ReadFile(filepath.Join(dir, "after.json"))
		if err1 == nil && err2 == nil {
			f.Add(before, after)
		}
	}
	f.Add([]byte(`{"a":[1,2,3,{"name":"x"}]}`), []byte(`{"a":[{"name":"x","v":1},3,1,"2"],"~/":{}}`))
	f.Fuzz(func(t *testing.T, before, after []byte) {
		bn, err := jsonnode.Decode(before)
		if err != nil || bn.Kind != yaml.MappingNode || patchtest.OddKeys(bn) {
			return
		}
		an, err := jsonnode.Decode(after)
		if err != nil || an.Kind != yaml.MappingNode || patchtest.OddKeys(an) {
			return
		}
		patch, err := Marshal(Diff(Take(bn), an))
		if err != nil {
			t.Fatal(err)
		}
		got, err := patchtest.Apply(before, patch)
		if err != nil {
			t.Fatal(err)
		}
		var want, have any
		if err := json.Unmarshal(after, &want); err != nil {
			return // jsonnode and encoding/json differ on what is valid; not this test's concern
		}
		if err := json.Unmarshal(got, &have); err != nil {
			t.Fatalf("patched document is not JSON: %v\n%s", err, got)
		}
		if !reflect.DeepEqual(want, have) {
			t.Fatalf("patch %s\napplied to %s\ngives %s\nwant %s", patch, before, got, after)
		}
	})
}
