package jsonpatch

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/internal/patchtest"
)

// TestMarshal applies the patch with the library the API server uses:
// keys a pod may carry (RFC 6901's "~" and "/", JSON's quotes and control
// characters, HTML's <>&) land where the edits put them.
func TestMarshal(t *testing.T) {
	object := `{"metadata":{"annotations":{"a":"old"}},"spec":{"containers":[{"name":"app"}]}}`
	str := func(s string) *yaml.Node { return yaml.NewStringRNode(s).YNode() }
	container := yaml.MustParse(`{"name": "sidecar", "args": ["<&>", "\"x\""]}`).YNode()
	var edits []engine.Edit
	keys := []string{"example.com/status", "a~b", "~1", `q"uote`, "tab\tnew\nline", "<&>", "é\u2028"}
	for _, k := range keys {
		edits = append(edits, engine.Edit{Op: engine.EditAdd, Path: []string{"metadata", "annotations", k}, Value: str("v " + k)})
	}
	edits = append(edits,
		engine.Edit{Op: engine.EditReplace, Path: []string{"metadata", "annotations", "a"}, Value: str("new")},
		engine.Edit{Op: engine.EditAdd, Path: []string{"spec", "containers", "0"}, Value: container},
	)
	patch, err := Marshal(edits)
	if err != nil {
		t.Fatal(err)
	}
	out, err := patchtest.Apply([]byte(object), patch)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Metadata struct{ Annotations map[string]string }
		Spec     struct{ Containers []map[string]any }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "new"}
	for _, k := range keys {
		want[k] = "v " + k
	}
	if !reflect.DeepEqual(got.Metadata.Annotations, want) {
		t.Errorf("annotations %q, want %q\npatch %s", got.Metadata.Annotations, want, patch)
	}
	if len(got.Spec.Containers) != 2 || got.Spec.Containers[0]["name"] != "sidecar" || got.Spec.Containers[1]["name"] != "app" ||
		!reflect.DeepEqual(got.Spec.Containers[0]["args"], []any{"<&>", `"x"`}) {
		t.Errorf("containers %v\npatch %s", got.Spec.Containers, patch)
	}
}

func TestMarshalErrors(t *testing.T) {
	if patch, err := Marshal(nil); patch != nil || err != nil {
		t.Errorf("no edits: %q, %v; want no patch", patch, err)
	}
	_, err := Marshal([]engine.Edit{{Op: 9, Path: []string{"spec", "x"}, Value: yaml.NewStringRNode("v").YNode()}})
	if err == nil || !strings.Contains(err.Error(), `edit 0 at ["spec" "x"]: unknown operation EditOp(9)`) {
		t.Errorf("unknown operation: %v", err)
	}
}
