package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The kustomize example (examples/kustomize) run by the pinned standalone
// kustomize and by the kustomize API in process. Its README shows the output;
// these tests hold the README to it.

const fnKustomizeReadme = "examples/kustomize/README.md"

// fnKustomizeBuild runs the pinned kustomize with exec functions on.
func fnKustomizeBuild(t testing.TB, dir string, env ...string) fnResult {
	t.Helper()
	fnRepoBinary(t)
	return fnRun(t, fnRepoRoot(t), env, fnKustomize(t), "build", "--enable-alpha-plugins", "--enable-exec", dir)
}

// fnRepoBinary checks that bin/sidecar-injector-fn exists: the examples
// name it by a path relative to themselves.
func fnRepoBinary(t testing.TB) {
	t.Helper()
	p := filepath.Join(fnRepoRoot(t), "bin", "sidecar-injector-fn")
	if _, err := os.Stat(p); err != nil {
		fnMissing(t, "%s: %v (the examples run it by this path; run make build)", p, err)
	}
}

func TestFnKustomizeGolden(t *testing.T) {
	r := fnKustomizeBuild(t, "examples/kustomize")
	if r.Err != nil {
		t.Fatalf("kustomize build: %v\n%s", r.Err, r.Stderr)
	}
	fnGoldenBlock(t, filepath.Join(fnRepoRoot(t), fnKustomizeReadme), "kustomize-build", "yaml", r.Stdout, nil)

	base := fnKustomizeBuild(t, "examples/kustomize/base")
	if base.Err != nil {
		t.Fatalf("kustomize build of the base: %v\n%s", base.Err, base.Stderr)
	}
	fnCheckKustomizeExample(t, r.Stdout, base.Stdout, true)
}

// fnCheckKustomizeExample checks the example's injected output against its
// uninjected base: every resource once, each triggered workload injected,
// the others byte for byte as they were. egress says whether the config has
// the egress mutation (the native form) or not (the old ConfigMap form).
func fnCheckKustomizeExample(t *testing.T, injected, base string, egress bool) {
	t.Helper()
	out := fnIndex(t, fnParse(t, injected))
	in := fnIndex(t, fnParse(t, base))
	if len(out) != len(in) {
		t.Errorf("%d resources in, %d out", len(in), len(out))
	}
	for id := range in {
		if out[id] == nil {
			t.Errorf("%s is missing from the output", id)
		}
	}

	// Each workload triggered by the logging mutation, its own container,
	// and its app label (which the shipper's template puts in its --tag).
	logging := []struct{ id, app, label string }{
		{"Deployment/web", "web", "web"}, {"StatefulSet/db", "postgres", "db"}, {"Pod/debug", "shell", "debug"},
	}
	for _, w := range logging {
		n := out[w.id]
		if n == nil {
			continue
		}
		spec := fnPodSpec(t, n)
		if got, want := fnNames(spec, "containers"), []string{w.app, "log-shipper"}; !fnEqual(got, want) {
			t.Errorf("%s: containers %v, want %v", w.id, got, want)
		}
		if egress { // the native form's logging mutation has an init container
			if got := fnNames(spec, "initContainers"); !fnEqual(got, []string{"log-spool-init"}) {
				t.Errorf("%s: initContainers %v, want [log-spool-init]", w.id, got)
			}
		}
		if got := fnNames(spec, "volumes"); !strings.Contains(strings.Join(got, ","), "log-spool") {
			t.Errorf("%s: volumes %v, want log-spool among them", w.id, got)
		}
		mount := fnItem(t, fnItem(t, spec, "containers", w.app), "volumeMounts", "log-spool")
		if p := fnField(mount, "mountPath"); p != "/var/log/spool" {
			t.Errorf("%s: the app's log-spool mount is at %q, want /var/log/spool", w.id, p)
		}
		if args := fnScalars(fnItem(t, spec, "containers", "log-shipper"), "args"); !fnEqual(args, []string{"--tag=" + w.label}) {
			t.Errorf("%s: log-shipper args %q, want [--tag=%s] (the template renders the pod's label)", w.id, args, w.label)
		}
		if s := fnPodAnnotations(t, n)["logging.example.com/status"]; s != "injected" {
			t.Errorf("%s: logging.example.com/status is %q, want injected", w.id, s)
		}
	}

	cron := out["CronJob/report"]
	if cron != nil {
		spec := fnPodSpec(t, cron)
		if egress {
			proxy := fnItem(t, spec, "initContainers", "egress-proxy")
			if rp := fnField(proxy, "restartPolicy"); rp != "Always" {
				t.Errorf("CronJob/report: egress-proxy has restartPolicy %q, want Always (a native sidecar)", rp)
			}
			if got := fnNames(spec, "containers"); !fnEqual(got, []string{"report"}) {
				t.Errorf("CronJob/report: containers %v, want [report]", got)
			}
		} else if cron.MustString() != in["CronJob/report"].MustString() {
			t.Errorf("CronJob/report is not triggered by this config but changed:\n%s", cron.MustString())
		}
	}

	for _, id := range []string{"Deployment/api", "Service/web"} {
		if out[id] != nil && in[id] != nil && out[id].MustString() != in[id].MustString() {
			t.Errorf("%s is not triggered but changed:\n--- in\n%s\n+++ out\n%s", id, in[id].MustString(), out[id].MustString())
		}
	}
}

// The old injector's ConfigMap as the functionConfig injects the logging
// mutation exactly as the native form does.
func TestFnKustomizeConfigMapGolden(t *testing.T) {
	r := fnKustomizeBuild(t, "examples/kustomize/configmap")
	if r.Err != nil {
		t.Fatalf("kustomize build: %v\n%s", r.Err, r.Stderr)
	}
	fnGoldenBlock(t, filepath.Join(fnRepoRoot(t), fnKustomizeReadme), "kustomize-build-configmap", "yaml", r.Stdout, nil)
	base := fnKustomizeBuild(t, "examples/kustomize/base")
	if base.Err != nil {
		t.Fatalf("kustomize build of the base: %v\n%s", base.Err, base.Stderr)
	}
	fnCheckKustomizeExample(t, r.Stdout, base.Stdout, false)
}

// A bad config stops kustomize with the config error's message: the
// unknown field with its nearest valid name, and the missing sidecar.
func TestFnKustomizeBadConfigGolden(t *testing.T) {
	r := fnKustomizeBuild(t, "e2e/testdata/fn/kustomize-bad-config")
	if r.Err == nil {
		t.Fatalf("kustomize build succeeded on a bad config:\n%s", r.Stdout)
	}
	if r.Stdout != "" {
		t.Errorf("kustomize printed resources despite the error:\n%s", r.Stdout)
	}
	for _, want := range fnBadConfigMessages {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	fnGoldenBlock(t, filepath.Join(fnRepoRoot(t), fnKustomizeReadme), "kustomize-bad-config", "text", r.Stderr, nil)
}

// fnBadConfigMessages are what the errors of
// e2e/testdata/fn/kustomize-bad-config/sidecar-injector.yaml must mention.
var fnBadConfigMessages = []string{
	"containerz",      // the unknown field
	"no-such-sidecar", // a mutation naming a sidecar that does not exist
	"functionConfig SidecarInjector/broken",
}

// The kustomize API in process (krusty, exec functions enabled) gives the
// same output as the standalone kustomize.
func TestFnKrustyGolden(t *testing.T) {
	fnRepoBinary(t)
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy // as the kustomize CLI does by default
	opts.PluginConfig = types.EnabledPluginConfig(types.BploUseStaticallyLinked)
	opts.PluginConfig.FnpLoadingOptions.EnableExec = true
	k := krusty.MakeKustomizer(opts)

	for _, tc := range []struct{ dir, block string }{
		{"examples/kustomize", "kustomize-build"},
		{"examples/kustomize/configmap", "kustomize-build-configmap"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(fnRepoRoot(t), tc.dir))
			if err != nil {
				t.Fatalf("krusty: %v", err)
			}
			out, err := m.AsYaml()
			if err != nil {
				t.Fatal(err)
			}
			if fnUpdate() {
				return // the standalone kustomize's test owns the block
			}
			fnGoldenBlock(t, filepath.Join(fnRepoRoot(t), fnKustomizeReadme), tc.block, "yaml", string(out), nil)
		})
	}

	t.Run("bad config", func(t *testing.T) {
		_, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(fnRepoRoot(t), "e2e/testdata/fn/kustomize-bad-config"))
		if err == nil {
			t.Fatal("krusty succeeded on a bad config")
		}
		// krusty reports the exit status; the function's message went to
		// stderr, which the standalone test checks.
		if !strings.Contains(err.Error(), "exit status 1") {
			t.Errorf("krusty error %q, want the function's exit status", err)
		}
	})
}
