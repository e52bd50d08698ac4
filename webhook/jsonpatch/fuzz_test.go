package jsonpatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	jsonpatchlib "github.com/evanphx/json-patch/v5"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/jsonnode"
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
		if err != nil || bn.Kind != yaml.MappingNode || oddKeys(bn) {
			return
		}
		an, err := jsonnode.Decode(after)
		if err != nil || an.Kind != yaml.MappingNode || oddKeys(an) {
			return
		}
		patch, err := Marshal(Diff(Take(bn), an))
		if err != nil {
			t.Fatal(err)
		}
		got := before
		if patch != nil {
			p, err := jsonpatchlib.DecodePatch(patch)
			if err != nil {
				t.Fatalf("patch does not decode: %v\n%s", err, patch)
			}
			if got, err = p.Apply(before); err != nil {
				t.Fatalf("patch does not apply: %v\n%s", err, patch)
			}
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

// oddKeys reports a mapping anywhere with a key twice (JSON leaves its
// meaning open, so no patch can be judged on it) or an empty key (no
// Kubernetes object has one, and the patch library the API server and this
// test use does not resolve the pointer "/a//b", though RFC 6901 allows it).
func oddKeys(n *yaml.Node) bool {
	if n.Kind == yaml.MappingNode {
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "" || seen[k] {
				return true
			}
			seen[n.Content[i].Value] = true
		}
	}
	for _, c := range n.Content {
		if oddKeys(c) {
			return true
		}
	}
	return false
}
