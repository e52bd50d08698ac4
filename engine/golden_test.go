package engine_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the code produces now")

// A golden case is a folder of testdata/:
//
//	config*.yaml   config documents, loaded together (any form)
//	input.yaml     resources, several documents
//	options.yaml   optional: namespace (string), upgrade (bool)
//	expected.yaml  the resources after injection
//	report.txt     what each injection reported
//
// Every case also runs a second time over its own output, once as the
// webhook would (upgrade off) and once as the function would (upgrade on):
// both must leave it unchanged byte for byte.
//
// `make golden` (go test ./engine -run Golden -update) rewrites expected.yaml
// and report.txt.
func TestGolden(t *testing.T) {
	forEachGoldenCase(t, func(t *testing.T, c goldencase.Case, inj *engine.Injector) {
		opts := engine.Options{Namespace: c.Namespace, Upgrade: c.Upgrade}
		input, err := os.ReadFile(c.Input())
		if err != nil {
			t.Fatal(err)
		}
		out, report := injectStream(t, inj, input, opts)
		compareGolden(t, filepath.Join(c.Dir, "expected.yaml"), out)
		compareGolden(t, filepath.Join(c.Dir, "report.txt"), []byte(report))

		for _, upgrade := range []bool{false, true} {
			if upgrade && !opts.Upgrade && bytes.Contains(input, []byte(engine.RecordAnnotation)) {
				// The input was injected by another config and the case
				// shows the webhook leaving it alone; the function would
				// rightly upgrade it (see upgrade-replaces-old-sidecars).
				continue
			}
			again, _ := injectStream(t, inj, out, engine.Options{Namespace: opts.Namespace, Upgrade: upgrade})
			if !bytes.Equal(again, out) {
				t.Errorf("injecting the output again (upgrade=%v) changed it:\n%s", upgrade, lineDiff(string(out), string(again)))
			}
		}
	})
}

// forEachGoldenCase runs test as a subtest for each case under testdata,
// with the case's configs loaded.
func forEachGoldenCase(t *testing.T, test func(t *testing.T, c goldencase.Case, inj *engine.Injector)) {
	t.Helper()
	cases, err := goldencase.All("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { test(t, c, loadConfigs(t, c.Configs)) })
	}
}

func loadConfigs(t *testing.T, files []string) *engine.Injector {
	t.Helper()
	inj, err := engine.LoadFiles(files...)
	if err != nil {
		t.Fatalf("loading config: %v", err)
	}
	return inj
}

// injectStream injects into every document of a YAML stream and returns
// the stream and a readable report.
func injectStream(t *testing.T, inj *engine.Injector, input []byte, opts engine.Options) ([]byte, string) {
	t.Helper()
	docs, err := goldencase.Documents(input)
	if err != nil {
		t.Fatalf("input: %v", err)
	}
	var out bytes.Buffer
	var report strings.Builder
	for i, doc := range docs {
		node := yaml.NewRNode(doc)
		rep := inj.Inject(node, opts)
		fmt.Fprintf(&report, "%s/%s:%s\n", node.GetKind(), node.GetName(), describeReport(rep))
		if i > 0 {
			out.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&out)
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		enc.Close()
	}
	return out.Bytes(), report.String()
}

func describeReport(r *engine.Report) string {
	var lines []string
	if !r.Workload {
		lines = append(lines, "not a workload")
	}
	for _, in := range append(slices.Clone(r.Injected), r.Removed...) {
		s := "injected " + in.Mutation
		if in.Upgraded {
			s += " (upgraded)"
		}
		if slices.ContainsFunc(r.Removed, func(x engine.Injection) bool { return x.Mutation == in.Mutation }) {
			s = "removed " + in.Mutation
		}
		for _, part := range []struct {
			what  string
			names []string
		}{{"initContainers", in.InitContainers}, {"containers", in.Containers}, {"volumes", in.Volumes}, {"imagePullSecrets", in.ImagePullSecrets}} {
			if len(part.names) > 0 {
				s += fmt.Sprintf(" %s=%s", part.what, strings.Join(part.names, ","))
			}
		}
		lines = append(lines, s)
	}
	for _, w := range r.Warnings {
		lines = append(lines, "warning: "+w.String())
	}
	for _, e := range r.Errors {
		lines = append(lines, "error: "+e.Error())
	}
	for _, e := range r.Skipped {
		lines = append(lines, "skipped: "+e.Error())
	}
	if len(lines) == 0 {
		return " nothing to do"
	}
	return "\n  " + strings.Join(lines, "\n  ")
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make golden` to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from what the code gives (run `make golden` to accept):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the lines of want and got that differ, enough to find a
// regression without a diff tool.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, a, c)
			shown++
		}
	}
	return b.String()
}

// TestRecordHashIgnoresFieldOrder: the same config with its keys in another
// order (as kustomize hands it to the function) records the same hash as
// the file as written (as the webhook reads it).
func TestRecordHashIgnoresFieldOrder(t *testing.T) {
	asWritten := loadConfigs(t, []string{"testdata/containers-and-mounts/config.yaml"})
	data, err := os.ReadFile("testdata/containers-and-mounts/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sorted, err := yaml.Parse(string(data))
	if err != nil {
		t.Fatal(err)
	}
	sortKeys(sorted.YNode())
	reordered, err := engine.Load(config.Source{Name: "sorted.yaml", Data: []byte(sorted.MustString())})
	if err != nil {
		t.Fatal(err)
	}
	input, err := os.ReadFile("testdata/containers-and-mounts/input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := engine.Options{}
	a, _ := injectStream(t, asWritten, input, opts)
	b, _ := injectStream(t, reordered, input, opts)
	recA, recB := recordLines(a), recordLines(b)
	if len(recA) == 0 || !slices.Equal(recA, recB) {
		t.Errorf("records differ with the config's keys sorted:\n as written: %v\n sorted:     %v", recA, recB)
	}
}

func sortKeys(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		type pair struct{ k, v *yaml.Node }
		var pairs []pair
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, pair{n.Content[i], n.Content[i+1]})
		}
		slices.SortFunc(pairs, func(a, b pair) int { return strings.Compare(a.k.Value, b.k.Value) })
		n.Content = n.Content[:0]
		for _, p := range pairs {
			n.Content = append(n.Content, p.k, p.v)
		}
	}
	for _, c := range n.Content {
		sortKeys(c)
	}
}

func recordLines(out []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, engine.RecordAnnotation+":") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return lines
}
