package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// The kpt example (examples/kpt) run by the real kpt, on a copy (kpt writes
// the package in place). Its README shows the output; these tests hold the
// README to it.

const fnKptReadme = "examples/kpt/README.md"

// fnKptPackage copies the kpt example into a temp dir.
func fnKptPackage(t *testing.T) string {
	t.Helper()
	return fnCopyDir(t, filepath.Join(fnRepoRoot(t), "examples", "kpt"))
}

// fnKptRun runs kpt in the package's parent folder with the function's
// folder first on PATH (the Kptfile names the function by name).
func fnKptRun(t *testing.T, pkg string, args ...string) fnResult {
	t.Helper()
	kpt, bin := fnKpt(t), fnBinDir(t)
	return fnRun(t, filepath.Dir(pkg), []string{fnPathWith(bin)}, kpt, args...)
}

func fnMustKpt(t *testing.T, pkg string, args ...string) fnResult {
	t.Helper()
	r := fnKptRun(t, pkg, args...)
	if r.Err != nil {
		t.Fatalf("kpt %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r
}

// fnKptShown are the package files the README shows after rendering.
var fnKptShown = []string{"web-deployment.yaml", "report-cronjob.yaml"}

func fnKptShownText(files map[string]string) string {
	var b strings.Builder
	for i, f := range fnKptShown {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.WriteString("# " + f + "\n" + files[f])
	}
	return b.String()
}

// kpt fn render --allow-exec injects; a second render changes nothing; a
// config change replaces the old sidecars with the new ones.
func TestFnKptRenderGolden(t *testing.T) {
	pkg := fnKptPackage(t)
	before := fnReadDir(t, pkg)

	r := fnMustKpt(t, pkg, "fn", "render", "--allow-exec", filepath.Base(pkg))
	readme := filepath.Join(fnRepoRoot(t), fnKptReadme)
	fnGoldenBlock(t, readme, "kpt-render", "text", r.Stdout+r.Stderr, fnMaskTimings)
	rendered := fnReadDir(t, pkg)
	fnGoldenBlock(t, readme, "kpt-rendered", "yaml", fnKptShownText(rendered), nil)

	// What is not triggered, and the config itself, is left alone.
	for _, f := range []string{"web-service.yaml", "sidecar-injector.yaml", "sidecar-injector-configmap.yaml"} {
		if rendered[f] != before[f] {
			t.Errorf("%s changed:\n--- before\n%s\n+++ after\n%s", f, before[f], rendered[f])
		}
	}
	if len(rendered) != len(before) {
		t.Errorf("%d files before rendering, %d after", len(before), len(rendered))
	}
	web := fnIndex(t, fnParse(t, rendered["web-deployment.yaml"]))["Deployment/web"]
	if got := fnNames(fnPodSpec(t, web), "containers"); !fnEqual(got, []string{"web", "log-shipper"}) {
		t.Errorf("web: containers %v, want [web log-shipper]", got)
	}
	if !strings.Contains(rendered["web-deployment.yaml"], `# ships /var/log/spool`) {
		t.Errorf("the comment in web-deployment.yaml was lost:\n%s", rendered["web-deployment.yaml"])
	}
	cron := fnIndex(t, fnParse(t, rendered["report-cronjob.yaml"]))["CronJob/report"]
	if rp := fnField(fnItem(t, fnPodSpec(t, cron), "initContainers", "egress-proxy"), "restartPolicy"); rp != "Always" {
		t.Errorf("report: egress-proxy restartPolicy %q, want Always", rp)
	}

	t.Run("render again changes nothing", func(t *testing.T) {
		fnMustKpt(t, pkg, "fn", "render", "--allow-exec", filepath.Base(pkg))
		fnSameFiles(t, rendered, fnReadDir(t, pkg))
	})

	t.Run("config change replaces the sidecars", func(t *testing.T) {
		// Rename the shipper and move it to a new image: what the old config
		// injected must go, the new must come, nothing may be doubled.
		cfgPath := filepath.Join(pkg, "sidecar-injector.yaml")
		cfg := rendered["sidecar-injector.yaml"]
		changed := strings.ReplaceAll(cfg, "log-shipper", "log-forwarder")
		changed = strings.ReplaceAll(changed, "fluent/fluent-bit:3.1", "fluent/fluent-bit:3.2")
		if changed == cfg {
			t.Fatal("the config change did not apply; the example changed?")
		}
		if err := os.WriteFile(cfgPath, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		fnMustKpt(t, pkg, "fn", "render", "--allow-exec", filepath.Base(pkg))
		after := fnReadDir(t, pkg)
		text := after["web-deployment.yaml"]
		web := fnIndex(t, fnParse(t, text))["Deployment/web"]
		spec := fnPodSpec(t, web)
		if got := fnNames(spec, "containers"); !fnEqual(got, []string{"web", "log-forwarder"}) {
			t.Errorf("web after the config change: containers %v, want [web log-forwarder]", got)
		}
		if img := fnField(fnItem(t, spec, "containers", "log-forwarder"), "image"); img != "fluent/fluent-bit:3.2" {
			t.Errorf("log-forwarder image %q, want fluent/fluent-bit:3.2", img)
		}
		if strings.Contains(text, "fluent-bit:3.1") || strings.Contains(text, "log-shipper") {
			t.Errorf("the old sidecar is still there:\n%s", text)
		}
		if got := fnNames(spec, "volumes"); !fnEqual(got, []string{"log-spool"}) {
			t.Errorf("web volumes %v, want [log-spool] once", got)
		}
		if after["report-cronjob.yaml"] != rendered["report-cronjob.yaml"] {
			t.Errorf("the egress mutation did not change, but the CronJob did:\n%s", after["report-cronjob.yaml"])
		}

		fnMustKpt(t, pkg, "fn", "render", "--allow-exec", filepath.Base(pkg))
		fnSameFiles(t, after, fnReadDir(t, pkg))
	})
}

// fnSameFiles fails on any file that differs.
func fnSameFiles(t *testing.T, want, got map[string]string) {
	t.Helper()
	for f, w := range want {
		if got[f] != w {
			t.Errorf("%s changed:\n--- before\n%s\n+++ after\n%s", f, w, got[f])
		}
	}
	for f := range got {
		if _, ok := want[f]; !ok {
			t.Errorf("new file %s", f)
		}
	}
}

// kpt fn eval --exec with either config form gives what render gives.
func TestFnKptEvalExec(t *testing.T) {
	rendered := fnKptPackage(t)
	fnMustKpt(t, rendered, "fn", "render", "--allow-exec", filepath.Base(rendered))
	want := fnReadDir(t, rendered)

	t.Run("native config", func(t *testing.T) {
		pkg := fnKptPackage(t)
		fnMustKpt(t, pkg, "fn", "eval", filepath.Base(pkg), "--exec", "sidecar-injector-fn",
			"--fn-config", filepath.Join(filepath.Base(pkg), "sidecar-injector.yaml"))
		fnSameFiles(t, want, fnReadDir(t, pkg))
	})

	t.Run("old ConfigMap config", func(t *testing.T) {
		pkg := fnKptPackage(t)
		fnMustKpt(t, pkg, "fn", "eval", filepath.Base(pkg), "--exec", "sidecar-injector-fn",
			"--fn-config", filepath.Join(filepath.Base(pkg), "sidecar-injector-configmap.yaml"))
		got := fnReadDir(t, pkg)
		// The ConfigMap holds the logging mutation only: the web Deployment's
		// pod spec is the native form's, the CronJob is untouched.
		wantSpec := fnPodSpec(t, fnIndex(t, fnParse(t, want["web-deployment.yaml"]))["Deployment/web"]).MustString()
		gotSpec := fnPodSpec(t, fnIndex(t, fnParse(t, got["web-deployment.yaml"]))["Deployment/web"]).MustString()
		if gotSpec != wantSpec {
			t.Errorf("web pod spec from the ConfigMap form differs from the native form's:\n--- native\n%s\n+++ configmap\n%s", wantSpec, gotSpec)
		}
		original := fnReadDir(t, filepath.Join(fnRepoRoot(t), "examples", "kpt"))
		if got["report-cronjob.yaml"] != original["report-cronjob.yaml"] {
			t.Errorf("report-cronjob.yaml changed but the ConfigMap has no egress mutation:\n%s", got["report-cronjob.yaml"])
		}
	})

	t.Run("bad config", func(t *testing.T) {
		pkg := fnKptPackage(t)
		before := fnReadDir(t, pkg)
		bad := filepath.Join(fnRepoRoot(t), "e2e", "testdata", "fn", "kustomize-bad-config", "sidecar-injector.yaml")
		r := fnKptRun(t, pkg, "fn", "eval", filepath.Base(pkg), "--exec", "sidecar-injector-fn", "--fn-config", bad)
		if r.Err == nil {
			t.Fatalf("kpt fn eval succeeded on a bad config:\n%s%s", r.Stdout, r.Stderr)
		}
		for _, want := range fnBadConfigMessages {
			if !strings.Contains(r.Stdout+r.Stderr, want) {
				t.Errorf("kpt's output lacks %q:\n%s%s", want, r.Stdout, r.Stderr)
			}
		}
		fnSameFiles(t, before, fnReadDir(t, pkg))
	})
}

// kpt hands the function its resources with bookkeeping annotations
// (config.kubernetes.io/index, internal.config.kubernetes.io/path...) that
// the API server never stores: templates do not see them. The golden case
// whose sidecar renders toJson .Annotations gives, through kpt fn eval,
// the value and the record the engine's golden file holds, which the parity
// test holds to the standalone function, kustomize and the webhook.
func TestFnKptTemplateValues(t *testing.T) {
	golden := filepath.Join(fnRepoRoot(t), "engine", "testdata", "template-values")
	const id = "Deployment/hostile-values"
	input := fnIndex(t, fnParse(t, readText(t, filepath.Join(golden, "input.yaml"))))[id]
	want := fnIndex(t, fnParse(t, readText(t, filepath.Join(golden, "expected.yaml"))))[id]
	pkg := filepath.Join(t.TempDir(), "pkg")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(pkg, "deployment.yaml"), []byte(input.MustString()))
	fnMustKpt(t, pkg, "fn", "eval", filepath.Base(pkg), "--exec", "sidecar-injector-fn",
		"--fn-config", filepath.Join(golden, "config.yaml"))
	got := fnIndex(t, fnParse(t, readText(t, filepath.Join(pkg, "deployment.yaml"))))[id]
	if got == nil {
		t.Fatalf("%s is not in kpt's output", id)
	}
	for _, path := range [][]string{
		{"spec", "template", "metadata", "annotations", "sidecar-injector.dev/injected"},
		{"spec", "template", "spec", "containers", "[name=annotations-reader]", "env", "[name=ANNOTATIONS]", "value"},
	} {
		gv, err1 := got.Pipe(kyaml.Lookup(path...))
		wv, err2 := want.Pipe(kyaml.Lookup(path...))
		if err1 != nil || err2 != nil || gv == nil || wv == nil {
			t.Fatalf("%v: missing (kpt %v, golden %v)", path, gv, wv)
		}
		if gv.YNode().Value != wv.YNode().Value {
			t.Errorf("%v through kpt:\n%s\nthe engine's golden:\n%s", path, gv.YNode().Value, wv.YNode().Value)
		}
	}
}
