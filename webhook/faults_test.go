package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidecar-injector/sidecar-injector/internal/syncbuffer"
	"github.com/sidecar-injector/sidecar-injector/internal/testcert"
	"github.com/sidecar-injector/sidecar-injector/webhook/internal/load"
)

// The fault tests run a bounded load loop (count and time bounded, it stops
// by itself) against a loopback server while a fault happens, and report
// what was sent, succeeded, failed and refused.
const (
	faultClients  = 8
	faultRequests = 200000
	faultDuration = 30 * time.Second
)

// configMapDir lays out a folder as the kubelet mounts a ConfigMap: the
// key links to ..data/KEY and ..data to a timestamped folder, swapped by
// rename on update.
type configMapDir struct {
	dir string
	gen int
}

func (c *configMapDir) publish(t *testing.T, data []byte) {
	t.Helper()
	c.gen++
	ts := "..2026_11_26_" + strconv.Itoa(c.gen)
	if err := os.Mkdir(filepath.Join(c.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, ts, "sidecar-injector.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(c.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if c.gen == 1 {
		if err := os.Symlink("..data/sidecar-injector.yaml", filepath.Join(c.dir, "sidecar-injector.yaml")); err != nil {
			t.Fatal(err)
		}
	}
}

// background runs a load loop until stop is called, and returns its result.
func background(t *testing.T, o load.Options) (stop func() *load.Result) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *load.Result, 1)
	go func() {
		r, err := load.Run(ctx, o)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	return func() *load.Result { cancel(); return <-done }
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
	}
}

func TestFaultConfigReplacedUnderLoad(t *testing.T) {
	valid := read(t, filepath.Join(fixtures, "sidecar-injector.yaml"))
	cm := &configMapDir{dir: t.TempDir()}
	cm.publish(t, valid)
	w := startWebhook(t, cm.dir)
	o := load.Options{
		URL: w.base + "/mutate", Body: read(t, goodReview), Client: w.client,
		Clients: faultClients, MaxRequests: faultRequests, Duration: faultDuration,
		Check: checkInjected("example.com/shipper:1"),
	}
	stop := background(t, o)
	time.Sleep(300 * time.Millisecond)

	cm.publish(t, read(t, "testdata/invalid.yaml"))
	eventually(t, "the invalid config is refused", func() bool {
		return w.metric(t, `sidecar_injector_webhook_config_reloads_total{outcome="failure"}`) == 1
	})
	time.Sleep(300 * time.Millisecond)
	before := stop()
	t.Logf("while the invalid config was refused: %v", before)

	// A valid config with another image: once it serves, every answer
	// carries it.
	cm.publish(t, []byte(strings.ReplaceAll(string(valid), "example.com/shipper:1", "example.com/shipper:2")))
	eventually(t, "the new valid config is taken", func() bool {
		return w.metric(t, `sidecar_injector_webhook_config_reloads_total{outcome="success"}`) == 1
	})
	o.Check = checkInjected("example.com/shipper:2")
	after, err := load.Run(context.Background(), load.Options{
		URL: o.URL, Body: o.Body, Client: o.Client, Check: o.Check,
		Clients: faultClients, MaxRequests: 2000, Duration: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the valid config: %v", after)
	for _, r := range []*load.Result{before, after} {
		if r.Failed != 0 || r.Refused != 0 || r.Succeeded == 0 {
			t.Errorf("want zero failed and some succeeded: %v; first errors: %q", r, r.Errors)
		}
	}
	if !strings.Contains(w.logs.String(), "config reload refused") {
		t.Error("the refused reload is not logged")
	}
}

func TestFaultCertificateRotatedUnderLoad(t *testing.T) {
	w := startWebhook(t, filepath.Join(fixtures, "sidecar-injector.yaml"))
	// Without keep-alive every request is a new handshake, so requests
	// straddle the moment the new certificate goes into service.
	client := newClient(w.certs, true)
	stop := background(t, load.Options{
		URL: w.base + "/mutate", Body: read(t, goodReview), Client: client,
		Clients: faultClients, MaxRequests: faultRequests, Duration: faultDuration,
		Check: checkInjected(""),
	})
	time.Sleep(300 * time.Millisecond)
	if _, err := testcert.Rotate(w.certDir, 2); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rotated certificate is served", func() bool {
		resp, err := client.Get(w.base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64() == 2
	})
	time.Sleep(300 * time.Millisecond)
	r := stop()
	t.Logf("across the rotation: %v", r)
	if r.Failed != 0 || r.Refused != 0 || r.Succeeded == 0 {
		t.Errorf("want zero failed and some succeeded: %v; first errors: %q", r, r.Errors)
	}
	if got := w.metric(t, "sidecar_injector_webhook_certificate_reloads_total"); got != 1 {
		t.Errorf("certificate_reloads_total = %v, want 1", got)
	}
}

// TestFaultSIGTERMDrain runs the real binary, sends SIGTERM under load and
// checks that no request is lost: each one is answered, or refused at
// connect once the listener has closed.
func TestFaultSIGTERMDrain(t *testing.T) {
	bin := webhookBinary(t)
	certs, err := testcert.Write(t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	port, mport := freePort(t), freePort(t)
	logs := &syncbuffer.Buffer{}
	cmd := exec.Command(bin, "--config", filepath.Join(fixtures, "sidecar-injector.yaml"),
		"--tls-cert-file", certs.Cert, "--tls-key-file", certs.Key,
		"--bind-address", "127.0.0.1", "--port", strconv.Itoa(port), "--metrics-port", strconv.Itoa(mport),
		"--shutdown-delay", "500ms", "--shutdown-timeout", "10s")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	base := "https://127.0.0.1:" + strconv.Itoa(port)
	client := newClient(certs, false)
	waitReady(t, client, base+"/readyz", exited)

	stop := background(t, load.Options{
		URL: base + "/mutate", Body: read(t, goodReview), Client: client,
		Clients: faultClients, MaxRequests: faultRequests, Duration: faultDuration,
		Check: checkInjected(""), StopWhenRefused: true,
	})
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the server exited with %v after SIGTERM, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not exit within 20s of SIGTERM")
	}
	r := stop()
	t.Logf("across SIGTERM: %v", r)
	if r.Failed != 0 || r.Succeeded == 0 || r.Refused == 0 || r.Sent != r.Succeeded+r.Refused {
		t.Errorf("want every request answered or refused at connect, and some of each: %v; first errors: %q", r, r.Errors)
	}
	if !strings.Contains(logs.String(), "draining") {
		t.Error("the drain is not logged")
	}
}

// webhookBinary is the binary `make build` made (SIDECAR_WEBHOOK_BIN), or
// one built now.
func webhookBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SIDECAR_WEBHOOK_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "sidecar-injector-webhook")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("building the webhook: %v\n%s", err, out)
	}
	return bin
}
