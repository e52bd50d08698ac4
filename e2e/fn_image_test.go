package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The function image built from Dockerfile.fn (`make fn-image`, with podman)
// run by kpt and by kustomize gives what the exec binary gives.

const fnDefaultImage = "localhost/sidecar-injector-fn:dev"

// podmanSetup finds podman and the containers.conf that lets it run in this
// sandbox (from the environment, or written here as docs/fn.md
// says). It fails (CI) or skips loudly without podman.
func podmanSetup(t *testing.T, what string) (podman, conf string) {
	t.Helper()
	podman, err := exec.LookPath("podman")
	if err != nil {
		fnMissing(t, "podman is not installed, so %s cannot be run (make fn-podman installs it as root)", what)
	}
	conf = os.Getenv("CONTAINERS_CONF")
	if conf == "" {
		conf = filepath.Join(t.TempDir(), "containers.conf")
		data := "[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n[engine]\nruntime = \"runc\"\n"
		if err := os.WriteFile(conf, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return podman, conf
}

// fnPodman returns the environment that runs the image through podman:
// CONTAINERS_CONF (from the environment, or written here as docs/fn.md
// says), KPT_FN_RUNTIME=podman, and a PATH whose `docker` is podman for
// kustomize. It fails (CI) or skips loudly without podman or the image.
func fnPodman(t *testing.T) (image string, env []string) {
	t.Helper()
	podman, conf := podmanSetup(t, "the function image")
	shim := t.TempDir()
	script := "#!/bin/sh\nexec " + podman + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(shim, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env = []string{"CONTAINERS_CONF=" + conf, "KPT_FN_RUNTIME=podman"}

	image = os.Getenv("SIDECAR_FN_IMAGE")
	if image == "" {
		image = fnDefaultImage
	}
	if r := fnRun(t, "", env, podman, "image", "exists", image); r.Err != nil {
		fnMissing(t, "image %s not found by podman (%v %s); run make fn-image", image, r.Err, r.Stderr)
	}
	return image, append(env, fnPathWith(shim))
}

func TestFnImage(t *testing.T) {
	image, env := fnPodman(t)

	t.Run("kpt fn eval --image", func(t *testing.T) {
		viaExec := fnKptPackage(t)
		fnMustKpt(t, viaExec, "fn", "eval", filepath.Base(viaExec), "--exec", "sidecar-injector-fn",
			"--fn-config", filepath.Join(filepath.Base(viaExec), "sidecar-injector.yaml"))

		viaImage := fnKptPackage(t)
		r := fnRun(t, filepath.Dir(viaImage), env, fnKpt(t), "fn", "eval", filepath.Base(viaImage),
			"--image", image, "--image-pull-policy", "Never",
			"--fn-config", filepath.Join(filepath.Base(viaImage), "sidecar-injector.yaml"))
		if r.Err != nil {
			t.Fatalf("kpt fn eval --image: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
		want, got := fnReadDir(t, viaExec), fnReadDir(t, viaImage)
		fnSameFiles(t, want, got)
		if !strings.Contains(got["web-deployment.yaml"], "log-shipper") {
			t.Errorf("the image injected nothing:\n%s", got["web-deployment.yaml"])
		}
	})

	t.Run("kpt fn render with image in the Kptfile", func(t *testing.T) {
		viaExec := fnKptPackage(t)
		fnMustKpt(t, viaExec, "fn", "render", "--allow-exec", filepath.Base(viaExec))

		viaImage := fnKptPackage(t)
		kptfile := filepath.Join(viaImage, "Kptfile")
		data, err := os.ReadFile(kptfile)
		if err != nil {
			t.Fatal(err)
		}
		swapped := strings.Replace(string(data), "- exec: sidecar-injector-fn", "- image: "+image, 1)
		if swapped == string(data) {
			t.Fatal("the Kptfile's exec line was not found; the example changed?")
		}
		if err := os.WriteFile(kptfile, []byte(swapped), 0o644); err != nil {
			t.Fatal(err)
		}
		r := fnRun(t, filepath.Dir(viaImage), env, fnKpt(t), "fn", "render", filepath.Base(viaImage),
			"--image-pull-policy", "Never")
		if r.Err != nil {
			t.Fatalf("kpt fn render (image): %v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
		want, got := fnReadDir(t, viaExec), fnReadDir(t, viaImage)
		delete(want, "Kptfile")
		delete(got, "Kptfile")
		fnSameFiles(t, want, got)
	})

	t.Run("kustomize container function", func(t *testing.T) {
		viaExec := fnKustomizeBuild(t, "examples/kustomize")
		if viaExec.Err != nil {
			t.Fatalf("kustomize build (exec): %v\n%s", viaExec.Err, viaExec.Stderr)
		}

		// The example with the exec annotation swapped for the image.
		dir := t.TempDir()
		cfg, err := os.ReadFile(filepath.Join(fnRepoRoot(t), "examples", "kustomize", "sidecar-injector.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		container := strings.Replace(string(cfg),
			"      exec:\n        path: ../../bin/sidecar-injector-fn\n",
			"      container:\n        image: "+image+"\n", 1)
		if container == string(cfg) {
			t.Fatal("the exec annotation was not found in examples/kustomize/sidecar-injector.yaml; the example changed?")
		}
		base, err := filepath.Rel(dir, filepath.Join(fnRepoRoot(t), "examples", "kustomize", "base"))
		if err != nil {
			t.Fatal(err)
		}
		// kustomize takes no absolute root, hence the relative path.
		kustomization := "resources:\n- " + base + "\ntransformers:\n- sidecar-injector.yaml\n"
		for name, data := range map[string]string{"kustomization.yaml": kustomization, "sidecar-injector.yaml": container} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r := fnRun(t, dir, env, fnKustomize(t), "build", "--enable-alpha-plugins", dir)
		if r.Err != nil {
			t.Fatalf("kustomize build (container): %v\n%s", r.Err, r.Stderr)
		}
		if r.Stdout != viaExec.Stdout {
			t.Errorf("the image's output differs from the exec binary's:\n--- exec\n%s\n+++ image\n%s", viaExec.Stdout, r.Stdout)
		}
	})
}
