package function

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

func TestConfigSource(t *testing.T) {
	tests := []struct {
		name     string
		fc       string
		wantName string
		wantData string // exact text handed to the engine
		document bool   // fc is a YAML document node, not the mapping in it
		wantErr  string
	}{
		{
			name:     "kustomize transformer: the user's function annotation stays, kustomize's id goes",
			fc:       "apiVersion: sidecar-injector.dev/v1alpha1\nkind: SidecarInjector\nmetadata:\n  name: platform\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./fn\n    config.k8s.io/id: \"1\"\n    config.kubernetes.io/local-config: \"true\"\nspec: {}\n",
			wantName: "functionConfig SidecarInjector/platform",
			wantData: "apiVersion: sidecar-injector.dev/v1alpha1\nkind: SidecarInjector\nmetadata:\n  name: platform\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./fn\n    config.kubernetes.io/local-config: \"true\"\nspec: {}\n",
		},
		{
			name:     "kpt configPath: named by its file, the user's own annotations kept",
			fc:       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm # old form\n  annotations:\n    team: platform\n    internal.config.kubernetes.io/path: sidecars.yaml\n    config.kubernetes.io/path: sidecars.yaml\n    internal.config.kubernetes.io/index: \"0\"\ndata: {}\n",
			wantName: "sidecars.yaml",
			wantData: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm # old form\n  annotations:\n    team: platform\ndata: {}\n",
		},
		{
			name:     "kpt configPath: the user's annotations keep their order, style and comments",
			fc:       "kind: SidecarInjector\nmetadata:\n  name: x\n  annotations:\n    zeta: 'z' # why\n    internal.config.kubernetes.io/path: s.yaml\n    alpha: |\n      a\n",
			wantName: "s.yaml",
			wantData: "kind: SidecarInjector\nmetadata:\n  name: x\n  annotations:\n    zeta: 'z' # why\n    alpha: |\n      a\n",
		},
		{
			name:     "no annotations: the text as it is",
			fc:       "kind: SidecarInjector\nmetadata:\n  name: x\n",
			wantName: "functionConfig SidecarInjector/x",
			wantData: "kind: SidecarInjector\nmetadata:\n  name: x\n",
		},
		{
			name:     "a document node: the text of the mapping in it",
			fc:       "kind: SidecarInjector\nmetadata:\n  name: x\n",
			document: true,
			wantName: "functionConfig SidecarInjector/x",
			wantData: "kind: SidecarInjector\nmetadata:\n  name: x\n",
		},
		{name: "absent", fc: "", wantErr: "no functionConfig"},
		{name: "a list", fc: "- a\n- b\n", wantErr: "functionConfig is a YAML sequence, want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fc *yaml.RNode
			if tt.fc != "" {
				fc = yaml.MustParse(tt.fc)
				if !tt.document {
					fc = yaml.NewRNode(fc.YNode()) // the mapping, as kio's reader gives it
				}
			}
			before := ""
			if fc != nil {
				before = fc.MustString()
			}
			src, err := configSource(fc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.Name != tt.wantName {
				t.Errorf("name %q, want %q", src.Name, tt.wantName)
			}
			if string(src.Data) != tt.wantData {
				t.Errorf("data:\n%s\nwant:\n%s", src.Data, tt.wantData)
			}
			if fc.MustString() != before {
				t.Errorf("the functionConfig itself was changed:\n%s", fc.MustString())
			}
		})
	}
}

func TestInjectionMessage(t *testing.T) {
	tests := []struct {
		in   engine.Injection
		want string
	}{
		{engine.Injection{Mutation: "logging", InitContainers: []string{"init"}, Containers: []string{"a", "b"}, Volumes: []string{"v"}},
			`injected mutation "logging": initContainers [init], containers [a, b], volumes [v]`},
		{engine.Injection{Mutation: "pull", ImagePullSecrets: []string{"registry"}, Upgraded: true},
			`injected mutation "pull": imagePullSecrets [registry] (replacing what an earlier config had injected)`},
		{engine.Injection{Mutation: "empty"}, `injected mutation "empty"`},
	}
	for _, tt := range tests {
		if got := injectionMessage(tt.in); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestReportResults(t *testing.T) {
	item := yaml.MustParse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")
	ref := &yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: "v1", Kind: "Pod"}, NameMeta: yaml.NameMeta{Name: "p"}}
	file := &framework.File{Path: "pods.yaml", Index: 2}
	report := &engine.Report{
		Workload: true,
		Injected: []engine.Injection{{Mutation: "logging", Containers: []string{"shipper"}}},
		Warnings: []engine.Warning{{Mutation: "logging", Message: "container \"shipper\" is the pod's own"}, {Message: "general"}},
	}
	got := ReportResults(report, item, file)
	want := []string{
		`warning|mutation "logging": container "shipper" is the pod's own|logging`,
		`warning|general|`,
		`info|injected mutation "logging": containers [shipper]|logging`,
	}
	checkResults(t, got, want, ref, file)

	// With an error the resource was left unchanged: no info result.
	report.Errors = []error{&engine.MutationError{Mutation: "logging", Sidecar: "shipper", Err: errors.New("template: line 3: boom")}}
	got = ReportResults(report, item, file)
	want = []string{
		`error|mutation "logging": sidecar "shipper": template: line 3: boom|logging`,
		`warning|mutation "logging": container "shipper" is the pod's own|logging`,
		`warning|general|`,
	}
	checkResults(t, got, want, ref, file)

	// A pod named by generateName alone: no name in its resourceRef (the
	// API server has not picked one yet), the prefix in a tag.
	pending := yaml.MustParse("apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: web-\n  namespace: shop\n")
	report = &engine.Report{Workload: true, Injected: []engine.Injection{{Mutation: "logging", Containers: []string{"shipper"}}}}
	for _, r := range ReportResults(report, pending, nil) {
		if r.ResourceRef.Name != "" || r.ResourceRef.Namespace != "shop" || r.Tags[TagGenerateName] != "web-" || r.Tags[tagMutation] != "logging" {
			t.Errorf("result about a pod named by generateName: %+v, resourceRef %+v", r, r.ResourceRef)
		}
	}
}

func TestGenerateName(t *testing.T) {
	tests := []struct{ metadata, want string }{
		{"generateName: web-", "web-"},
		{"name: web\n  generateName: web-", ""}, // a name wins, as in the API server
		{"name: web", ""},
		{"namespace: shop", ""},
		{"generateName: [web-]", ""}, // not a string
	}
	for _, tt := range tests {
		rn := yaml.MustParse("kind: Pod\nmetadata:\n  " + tt.metadata + "\n")
		if got := GenerateName(rn); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.metadata, got, tt.want)
		}
	}
}

func checkResults(t *testing.T, got framework.Results, want []string, ref *yaml.ResourceIdentifier, file *framework.File) {
	t.Helper()
	var flat []string
	for _, r := range got {
		flat = append(flat, fmt.Sprintf("%s|%s|%s", r.Severity, r.Message, r.Tags[tagMutation]))
		if *r.ResourceRef != *ref || r.File != file {
			t.Errorf("result %q: resourceRef %+v, file %+v; want %+v, %+v", r.Message, r.ResourceRef, r.File, ref, file)
		}
		if prefix, ok := r.Tags[TagGenerateName]; ok {
			t.Errorf("result %q about a named resource carries generateName %q", r.Message, prefix)
		}
	}
	if strings.Join(flat, "\n") != strings.Join(want, "\n") {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(flat, "\n"), strings.Join(want, "\n"))
	}
}

func TestConfigErrorResultsSplitsJoinedErrors(t *testing.T) {
	fc := yaml.MustParse("kind: SidecarInjector\nmetadata:\n  name: x\n  annotations:\n    internal.config.kubernetes.io/path: s.yaml\n")
	err := errors.Join(errors.New("s.yaml:3: first"), errors.Join(errors.New("s.yaml:7: second"), errors.New("s.yaml:9: third")))
	got := ConfigErrorResults(fmt.Errorf("wrapped keeps together: %w", err), fc)
	if len(got) != 1 {
		t.Errorf("a wrapped error became %d results, want 1", len(got))
	}
	got = ConfigErrorResults(err, fc)
	var msgs []string
	for _, r := range got {
		msgs = append(msgs, r.Message)
		if r.Severity != framework.Error || r.ResourceRef.Name != "x" || r.File == nil || r.File.Path != "s.yaml" {
			t.Errorf("result %+v: want an error about SidecarInjector/x in s.yaml", r)
		}
	}
	if want := "config: s.yaml:3: first|config: s.yaml:7: second|config: s.yaml:9: third"; strings.Join(msgs, "|") != want {
		t.Errorf("messages %q, want %q", strings.Join(msgs, "|"), want)
	}
}

func TestFileFromAnnotations(t *testing.T) {
	tests := []struct {
		annotations string
		want        *framework.File
	}{
		{"internal.config.kubernetes.io/path: a.yaml\n    internal.config.kubernetes.io/index: '2'", &framework.File{Path: "a.yaml", Index: 2}},
		{"config.kubernetes.io/path: legacy.yaml\n    config.kubernetes.io/index: '1'", &framework.File{Path: "legacy.yaml", Index: 1}},
		{"other: x", nil},
	}
	for _, tt := range tests {
		rn := yaml.MustParse("kind: Pod\nmetadata:\n  annotations:\n    " + tt.annotations + "\n")
		got := fileFromAnnotations(rn)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.annotations, got, tt.want)
		}
	}
}
