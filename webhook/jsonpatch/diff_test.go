package jsonpatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/internal/jsonnode"
	"github.com/sidecar-injector/sidecar-injector/webhook/internal/patchtest"
)

// TestDiff runs each case of testdata/: the patch from before.json to
// after.json must be exactly patch.json, and applying it to before.json
// must give after.json.
func TestDiff(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases under testdata/: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			before, after := read(t, dir, "before.json"), read(t, dir, "after.json")
			bn, err := jsonnode.Decode(before)
			if err != nil {
				t.Fatal(err)
			}
			an, err := jsonnode.Decode(after)
			if err != nil {
				t.Fatal(err)
			}
			patch, err := Marshal(Diff(Take(bn), an))
			if err != nil {
				t.Fatal(err)
			}
			if patch == nil {
				patch = []byte("null")
			}
			if diff := cmp.Diff(decode(t, read(t, dir, "patch.json")), decode(t, patch)); diff != "" {
				t.Errorf("patch (-want +got):\n%s\ngot: %s", diff, patch)
			}
			if string(patch) == "null" {
				return
			}
			patched, err := patchtest.Apply(before, patch)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decode(t, after), decode(t, patched)); diff != "" {
				t.Errorf("patched before.json differs from after.json (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffLeavesInputs checks that diffing modifies neither tree.
func TestDiffLeavesInputs(t *testing.T) {
	before := read(t, "testdata/sidecar-appended", "before.json")
	after := read(t, "testdata/sidecar-appended", "after.json")
	bn, _ := jsonnode.Decode(before)
	an, _ := jsonnode.Decode(after)
	Diff(Take(bn), an)
	for _, tc := range []struct {
		name string
		want []byte
		node *yaml.Node
	}{{"before", before, bn}, {"after", after, an}} {
		got, err := jsonnode.Marshal(tc.node)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(decode(t, tc.want), decode(t, got)); diff != "" {
			t.Errorf("%s changed by Diff:\n%s", tc.name, diff)
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              "plain",
		"example.com/status": "example.com~1status",
		"a~b":                "a~0b",
		"~/":                 "~0~1",
		"~1 must not be ~01": "~01 must not be ~001",
	} {
		var b strings.Builder
		if writeEscaped(&b, in); b.String() != want {
			t.Errorf("writeEscaped(%q) = %q, want %q", in, b.String(), want)
		}
	}
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

// TestSnapshotIsIndependent changes the tree in the ways the engine may
// (a value, an appended child, a replaced child) after the snapshot was
// taken, and checks that the diff sees exactly those changes.
func TestSnapshotIsIndependent(t *testing.T) {
	n, err := jsonnode.Decode(read(t, "testdata/sidecar-appended", "before.json"))
	if err != nil {
		t.Fatal(err)
	}
	snap := Take(n)
	spec := n.Content[1]
	containers := spec.Content[1]
	containers.Content[0].Content[3].Value = "changed"
	containers.Content = append(containers.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "x"})
	spec.Content[3] = &yaml.Node{Kind: yaml.SequenceNode}
	var got []string
	for _, op := range Diff(snap, n) {
		got = append(got, string(op.Op)+" "+op.Path)
	}
	want := []string{"replace /spec/containers/0/image", "add /spec/containers/-", "remove /spec/volumes/0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Diff after changing the tree (-want +got):\n%s", diff)
	}
}

// BenchmarkSnapshot and BenchmarkCopyYNode compare a snapshot with the
// deep copy it replaces.
func BenchmarkSnapshot(b *testing.B) {
	data, err := os.ReadFile("../loadgen/testdata/bench-review.json")
	if err != nil {
		b.Fatal(err)
	}
	n, err := jsonnode.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Take(n)
	}
}

func BenchmarkCopyYNode(b *testing.B) {
	data, err := os.ReadFile("../loadgen/testdata/bench-review.json")
	if err != nil {
		b.Fatal(err)
	}
	n, err := jsonnode.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		yaml.CopyYNode(n)
	}
}
