package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// krmCases are the golden cases in KRM function mode whose input is a
// readable ResourceList (krm-bad-input is not, by design).
func krmCases(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join("testdata", "golden", "krm-*"))
	var out []string
	for _, d := range dirs {
		if filepath.Base(d) != "krm-bad-input" {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		t.Fatal("no krm-* cases")
	}
	return out
}

// readItems parses a ResourceList (or a stream) into its items.
func readItems(t *testing.T, text string) []*yaml.RNode {
	t.Helper()
	items, err := (&kio.ByteReader{Reader: strings.NewReader(text), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("reading: %v\n%s", err, text)
	}
	return items
}

func ids(items []*yaml.RNode) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.GetApiVersion()+" "+it.GetKind()+" "+it.GetNamespace()+"/"+it.GetName())
	}
	return out
}

// Every item that goes in comes out, once, in the same order, whatever the
// outcome; an error leaves the ResourceList readable.
func TestNoResourceLostOrDuplicated(t *testing.T) {
	for _, dir := range krmCases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, "stdin.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			inItems, err := (&kio.ByteReader{Reader: bytes.NewReader(in)}).Read()
			if err != nil {
				t.Fatal(err)
			}
			stdout, _ := runCase(t, dir)
			if stdout == "" {
				t.Fatal("no output")
			}
			if got, want := ids(readItems(t, stdout)), ids(inItems); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("items out:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// Running the function over its own output changes nothing and reports no
// injection: kpt renders a package again and again.
func TestIdempotent(t *testing.T) {
	for _, dir := range krmCases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			first, stderr := runCase(t, dir)
			if !strings.HasSuffix(stderr, "exit status 0\n") {
				t.Skip("the case fails by design")
			}
			var second, errs bytes.Buffer
			if code := Run(nil, strings.NewReader(stripResults(t, first)), &second, &errs); code != 0 {
				t.Fatalf("second run: exit %d\n%s", code, errs.String())
			}
			a, b := readItems(t, first), readItems(t, second.String())
			for i := range a {
				if a[i].MustString() != b[i].MustString() {
					t.Errorf("item %d changed on the second run:\n--- first\n%s\n+++ second\n%s", i, a[i].MustString(), b[i].MustString())
				}
			}
			if strings.Contains(second.String(), "injected mutation") {
				t.Errorf("the second run reports an injection:\n%s", second.String())
			}
		})
	}
}

// stripResults drops the results of a ResourceList, to feed it back in.
func stripResults(t *testing.T, rl string) string {
	t.Helper()
	node, err := yaml.Parse(rl)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.PipeE(yaml.Clear("results")); err != nil {
		t.Fatal(err)
	}
	return node.MustString()
}

// The startup tax: a one-resource run must not parse kyaml's OpenAPI schema
// (tens of MB of allocations on every `kustomize build`). The check is by
// allocated bytes, not time, so it is deterministic; the second half proves
// that the bound catches a schema parse.
func TestNoOpenAPISchemaParse(t *testing.T) {
	input, err := os.ReadFile(filepath.Join("testdata", "golden", "krm-configmap-form", "stdin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const bound = 4 << 20 // bytes: a one-pod run allocates a fraction of this, a schema parse three times it
	run := func() {
		var out, errs bytes.Buffer
		if code := Run(nil, bytes.NewReader(input), &out, &errs); code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
	}
	run() // warm up package-level caches
	got := allocated(run)
	if got > bound {
		t.Errorf("a one-pod run allocated %d bytes (bound %d): something parses a schema or similar on every run", got, bound)
	}

	// Last, since it leaves the schema parsed in this process.
	parse := allocated(func() { openapi.SchemaForResourceType(yaml.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}) })
	if parse <= bound {
		t.Errorf("parsing the OpenAPI schema allocated only %d bytes, under the bound %d: the bound proves nothing", parse, bound)
	}
	t.Logf("a one-pod run allocates %d bytes; the OpenAPI schema parse alone %d; bound %d", got, parse, bound)
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// --version prints the build on stdout and exits 0. A test binary has no
// version; what `make build` stamps is checked on the binaries in e2e.
func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"--version"}, strings.NewReader(""), &stdout, &stderr); code != exitOK {
		t.Errorf("exit status %d, want 0", code)
	}
	if want := "sidecar-injector-fn (devel) (commit unknown, " + runtime.Version() + ")\n"; stdout.String() != want || stderr.Len() > 0 {
		t.Errorf("stdout %q, stderr %q; want %q on stdout", stdout.String(), stderr.String(), want)
	}
}

func TestResourceName(t *testing.T) {
	pod := yaml.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	tests := []struct {
		ref          yaml.ResourceIdentifier
		generateName string
		file         *framework.File
		want         string
	}{
		{yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, NameMeta: yaml.NameMeta{Name: "web", Namespace: "shop"}},
			"", &framework.File{Path: "deploy.yaml", Index: 1}, "apps/v1 Deployment shop/web (deploy.yaml, document 2)"},
		{yaml.ResourceIdentifier{TypeMeta: pod, NameMeta: yaml.NameMeta{Name: "web"}}, "", &framework.File{Path: "pod.yaml"}, "v1 Pod web (pod.yaml)"},
		{yaml.ResourceIdentifier{TypeMeta: pod, NameMeta: yaml.NameMeta{Namespace: "shop"}}, "web-", nil, "v1 Pod shop/web-*"},
		{yaml.ResourceIdentifier{TypeMeta: pod}, "web-", nil, "v1 Pod web-*"},
		{yaml.ResourceIdentifier{TypeMeta: pod, NameMeta: yaml.NameMeta{Namespace: "shop"}}, "", nil, "v1 Pod shop/(no name)"},
		{yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{Kind: "SidecarInjector"}}, "", nil, "SidecarInjector"},
	}
	for _, tt := range tests {
		if got := resourceName(&tt.ref, tt.generateName, tt.file); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
