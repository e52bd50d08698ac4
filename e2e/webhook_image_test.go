package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-injector/sidecar-injector/internal/syncbuffer"
)

// The webhook image built from Dockerfile.webhook (`make webhook-image`,
// with podman) runs as nonroot on a read-only root file system and serves
// the real API server: a triggered pod is stored with its sidecars.

const webhookDefaultImage = "localhost/sidecar-injector-webhook:dev"

func TestWebhookImage(t *testing.T) {
	podman, conf := podmanSetup(t, "the webhook image")
	env := []string{"CONTAINERS_CONF=" + conf}
	image := os.Getenv("SIDECAR_WEBHOOK_IMAGE")
	if image == "" {
		image = webhookDefaultImage
	}
	if r := fnRun(t, "", env, podman, "image", "exists", image); r.Err != nil {
		fnMissing(t, "image %s not found by podman (%v %s); run make webhook-image", image, r.Err, r.Stderr)
	}

	c := apiServer(t)
	route := routeID(t, "image")
	cert := newServingCert(t)
	// The container's user (65532) reads the mounted files: a folder and
	// files readable by all, as a Secret and a ConfigMap volume are.
	mount := t.TempDir()
	for src, dst := range map[string]string{
		cert.CertFile: "tls.crt", cert.KeyFile: "tls.key",
		filepath.Join(injectFixtures, "config.yaml"): "config.yaml",
	} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mount, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(mount, 0o755); err != nil {
		t.Fatal(err)
	}

	ports := freePorts(t, 2)
	name := "e2e-webhook-" + route
	run := exec.Command(podman, "run", "--rm", "--name", name, "--network", "host", "--read-only",
		"-v", mount+":/etc/webhook:ro", image,
		"--config", "/etc/webhook/config.yaml",
		"--tls-cert-file", "/etc/webhook/tls.crt", "--tls-key-file", "/etc/webhook/tls.key",
		"--bind-address", "127.0.0.1", "--port", strconv.Itoa(ports[0]), "--metrics-port", strconv.Itoa(ports[1]),
		"--shutdown-delay", "0s")
	run.Env = append(os.Environ(), env...)
	logs := &syncbuffer.Buffer{}
	run.Stdout, run.Stderr = logs, logs
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		stop := exec.Command(podman, "stop", "-t", "10", name)
		stop.Env = run.Env
		_ = stop.Run()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = run.Process.Kill()
		}
		if t.Failed() {
			t.Logf("container log:\n%s", logs.String())
		}
	})

	base := fmt.Sprintf("https://127.0.0.1:%d", ports[0])
	client := cert.client(t)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the container exited before it was ready: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := client.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container was not ready within 60s\n%s", logs.String())
		}
	}

	inspect := exec.Command(podman, "inspect", name, "--format", "{{.Config.User}}")
	inspect.Env = run.Env
	if out, err := inspect.Output(); err != nil || strings.TrimSpace(string(out)) != "65532:65532" {
		t.Errorf("the container runs as %q (%v), want 65532:65532 (nonroot)", strings.TrimSpace(string(out)), err)
	}

	registerWebhooks(t, c, "e2e-"+route, hook{name: "image.e2e.sidecar-injector.dev", url: base + "/mutate", caBundle: cert.CAPEM, route: route})
	ns := c.CreateNamespace(t, "image", nil)
	triggered := routed(readPod(t, filepath.Join(injectFixtures, "triggered.yaml")), route)
	waitForInjection(t, c, ns, triggered)
	pod, err := createPod(t.Context(), c, ns, triggered)
	if err != nil {
		t.Fatalf("create pod: %v", statusError(err))
	}
	if got := names(pod.Spec.Containers); !slices.Contains(got, "log-shipper") {
		t.Errorf("stored pod's containers %v, want the injected log-shipper among them", got)
	}
}
