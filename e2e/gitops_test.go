package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// exitCode is a command's exit status from its error.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// The GitOps guide (docs/gitops.md), run: Argo CD's way of building an
// application folder, the render-commit-check flow for Flux, and what
// `kubectl kustomize` really does with an exec function.

// containerNames lists the containers of a workload's pod template.
func containerNames(t *testing.T, out, id string) string {
	t.Helper()
	w, ok := fnIndex(t, fnParse(t, out))[id]
	if !ok {
		t.Fatalf("no %s in the output:\n%s", id, out)
	}
	var names []string
	containers, err := w.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
	if err != nil || containers == nil {
		t.Fatalf("%s has no containers: %v", id, err)
	}
	_ = containers.VisitElements(func(c *yaml.RNode) error {
		name, _ := c.GetString("name")
		names = append(names, name)
		return nil
	})
	return strings.Join(names, ",")
}

// TestGitOpsArgoCDStyle builds examples/argocd/app as Argo CD's repo-server
// does (argoproj/argo-cd#7711): kustomize build with the buildOptions of
// examples/argocd/install, run from a working directory of its own, the
// function found by name on PATH.
func TestGitOpsArgoCDStyle(t *testing.T) {
	app := filepath.Join(fnRepoRoot(t), "examples", "argocd", "app")
	elsewhere := t.TempDir()
	path := []string{fnPathWith(fnBinDir(t))}

	r := fnMustRun(t, elsewhere, path, fnKustomize(t), "build", "--enable-alpha-plugins", "--enable-exec", app)
	if got := containerNames(t, r.Stdout, "Deployment/web"); got != "web,log-shipper" {
		t.Errorf("web's containers %s, want web,log-shipper", got)
	}
	if got := containerNames(t, r.Stdout, "Deployment/api"); got != "api" {
		t.Errorf("api asks for nothing; its containers %s", got)
	}
	if n := len(fnParse(t, r.Stdout)); n != 6 {
		t.Errorf("%d resources out, want the base's 6", n)
	}

	// Argo CD's default options: kustomize refuses the function outright.
	r = fnRun(t, elsewhere, path, fnKustomize(t), "build", app)
	if r.Err == nil || !strings.Contains(r.Stderr, "external plugins disabled") {
		t.Errorf("without the options: %v, stderr %q; want kustomize to refuse with external plugins disabled", r.Err, r.Stderr)
	}
}

// TestGitOpsRenderAndCheck is the flow for Flux (whose kustomize-controller
// runs no KRM function): CI renders with kustomize, the rendered manifests
// are committed, and `sidecar-injector-fn --check` fails the CI step when
// they no longer match the config.
func TestGitOpsRenderAndCheck(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(fnRepoRoot(t), "examples", "kustomize", "sidecar-injector.yaml")
	render := func(example string) string {
		r := fnKustomizeBuild(t, example)
		if r.Err != nil {
			t.Fatalf("kustomize build %s: %v\n%s", example, r.Err, r.Stderr)
		}
		file := filepath.Join(dir, filepath.Base(example)+".yaml")
		if err := os.WriteFile(file, []byte(r.Stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	rendered, unrendered := render("examples/kustomize"), render("examples/kustomize/base")
	changed := filepath.Join(dir, "changed-config.yaml")
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(changed, []byte(strings.Replace(string(data), "fluent-bit:3.1", "fluent-bit:3.2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, config, file string
		want               int
		out                string
	}{
		{"rendered with this config", config, rendered, 0, "up to date"},
		{"not rendered", config, unrendered, 1, "would change"},
		{"config changed since", changed, rendered, 1, "+        image: fluent/fluent-bit:3.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fnRun(t, dir, nil, fnBinary(t), "--check", tc.config, tc.file)
			if code := exitCode(r.Err); code != tc.want || !strings.Contains(r.Stdout, tc.out) {
				t.Errorf("--check: exit %d, want %d, with %q in stdout:\n%s\nstderr:\n%s", code, tc.want, tc.out, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestKubectlKustomize holds docs/gitops.md's words on `kubectl kustomize`
// to the machine's kubectl: without --enable-alpha-plugins it refuses the
// function; with it, having no --enable-exec, it exits 0 and injects
// nothing.
func TestKubectlKustomize(t *testing.T) {
	kubectl := fnTool(t, "SIDECAR_KUBECTL", "", "kubectl", "install kubectl")
	fnRepoBinary(t)
	example := filepath.Join(fnRepoRoot(t), "examples", "kustomize")
	r := fnRun(t, "", nil, kubectl, "kustomize", example)
	if r.Err == nil || !strings.Contains(r.Stderr, "external plugins disabled; unable to load external plugin 'SidecarInjector'") {
		t.Errorf("kubectl kustomize: %v, stderr %q; want a refusal", r.Err, r.Stderr)
	}
	r = fnMustRun(t, "", nil, kubectl, "kustomize", "--enable-alpha-plugins", example)
	if strings.Contains(r.Stdout, "log-shipper") || containerNames(t, r.Stdout, "Deployment/web") != "web" {
		t.Errorf("kubectl kustomize --enable-alpha-plugins injected something:\n%s", r.Stdout)
	}
}
