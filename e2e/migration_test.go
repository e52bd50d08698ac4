package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMigrationGuide runs every `sh` block of docs/migrating-from-salesforce.md,
// in order, in a folder set up as the guide says: the old injector's real
// files from the corpus, the pod of its AdmissionReview, the binaries on
// PATH and this repository at ./sidecar-injector. Then it checks what the
// commands made.
func TestMigrationGuide(t *testing.T) {
	root := fnRepoRoot(t)
	corpus := filepath.Join(root, "engine", "testdata", "compat", "salesforce")
	dir := t.TempDir()
	for from, to := range map[string]string{
		"sidecarconfigs.yaml":       "sidecarconfigs.yaml",
		"mutationconfigs.yaml":      "mutationconfigs.yaml",
		"helm-demo1/configmap.yaml": "old-configmap.yaml",
		"helm-demo1/pod.yaml":       "demo-pod.yaml",
	} {
		data, err := os.ReadFile(filepath.Join(corpus, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The review's pod, named (the API server had not named it yet).
	var review struct {
		Request struct {
			Namespace string
			Object    map[string]any
		}
	}
	data, err := os.ReadFile(filepath.Join(corpus, "admissionreview.json"))
	if err != nil || json.Unmarshal(data, &review) != nil {
		t.Fatalf("reading the corpus's review: %v", err)
	}
	pod := review.Request.Object
	pod["apiVersion"], pod["kind"] = "v1", "Pod"
	meta := pod["metadata"].(map[string]any)
	meta["name"], meta["namespace"] = "keymaker-0", review.Request.Namespace
	delete(meta, "generateName")
	data, _ = json.MarshalIndent(pod, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "pod.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(dir, "sidecar-injector")); err != nil {
		t.Fatal(err)
	}
	tools := t.TempDir()
	for name, bin := range map[string]string{"sidecar-injector-fn": fnBinary(t), "kustomize": fnKustomize(t), "helm": helmBinary(t)} {
		if err := os.Symlink(bin, filepath.Join(tools, name)); err != nil {
			t.Fatal(err)
		}
	}

	guide, err := os.ReadFile(filepath.Join(root, "docs", "migrating-from-salesforce.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(guide), -1)
	if len(blocks) < 5 {
		t.Fatalf("%d sh blocks in the guide, want its five steps", len(blocks))
	}
	for i, b := range blocks {
		r := fnRun(t, dir, []string{fnPathWith(tools)}, "bash", "-euo", "pipefail", "-c", b[1])
		if r.Err != nil {
			t.Fatalf("block %d failed: %v\n%s\nstdout:\n%s\nstderr:\n%s", i+1, r.Err, b[1], r.Stdout, r.Stderr)
		}
		t.Logf("block %d:\n%s\n%s%s", i+1, b[1], r.Stdout, r.Stderr)
		switch {
		case strings.Contains(b[1], "--explain old-config/"):
			for _, want := range []string{`mutation "keymaker": injected`, `mutation "madkub": injected`, `mutation "rsyslog": not injected`} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("--explain of the two files does not say %q:\n%s", want, r.Stdout)
				}
			}
		case strings.Contains(b[1], "--explain old-configmap.yaml"):
			if strings.Count(r.Stdout, ": injected:") != 2 {
				t.Errorf("the Helm demo's pod asks for both mutations:\n%s", r.Stdout)
			}
		}
	}

	for file, want := range map[string][]string{
		"pod-injected.yaml":  {"name: madkub-refresher", "madkub.k8s-integration.sfdc.com/status: injected", "sidecar-injector.dev/injected"},
		"shop-rendered.yaml": {"name: madkub-refresher", "name: init-fqdn"},
		"webhook.yaml":       {"kind: MutatingWebhookConfiguration", "name: sidecar-injector-config"},
	} {
		text := readText(t, filepath.Join(dir, file))
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s does not hold %q", file, w)
			}
		}
	}
	// The webhook's ConfigMap, as the overlay and the chart built it,
	// injects the pod.
	for _, manifests := range []string{"webhook.yaml", "webhook-helm.yaml"} {
		configMap, ok := fnIndex(t, fnParse(t, readText(t, filepath.Join(dir, manifests))))["ConfigMap/sidecar-injector-config"]
		if !ok {
			t.Fatalf("no ConfigMap sidecar-injector-config in %s", manifests)
		}
		if err := os.WriteFile(filepath.Join(dir, "webhook-config.yaml"), []byte(configMap.MustString()), 0o644); err != nil {
			t.Fatal(err)
		}
		r := fnMustRun(t, dir, nil, fnBinary(t), "--explain", "webhook-config.yaml", "pod.yaml")
		if !strings.Contains(r.Stdout, `mutation "madkub": injected`) {
			t.Errorf("the config in %s does not inject the pod:\n%s%s", manifests, r.Stdout, r.Stderr)
		}
	}
}
