package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/sidecar-injector/sidecar-injector/internal/syncbuffer"
	"github.com/sidecar-injector/sidecar-injector/internal/testcert"
)

// The handler's fixtures double as the server's: the config and reviews
// of webhook/mutate/testdata.
const (
	fixtures   = "mutate/testdata"
	goodReview = fixtures + "/pod-logging.json"
)

// webhook is one server started by run() in this process.
type webhook struct {
	base, metrics string
	certs         *testcert.Files
	certDir       string
	client        *http.Client
	logs          *syncbuffer.Buffer
	stop          context.CancelFunc
	done          chan int
}

// startWebhook runs the server as main does, on free loopback ports.
func startWebhook(t *testing.T, configPath string, extra ...string) *webhook {
	t.Helper()
	certDir := t.TempDir()
	certs, err := testcert.Write(certDir, 1)
	if err != nil {
		t.Fatal(err)
	}
	port, mport := freePort(t), freePort(t)
	args := append([]string{
		"--config", configPath, "--tls-cert-file", certs.Cert, "--tls-key-file", certs.Key,
		"--bind-address", "127.0.0.1", "--port", strconv.Itoa(port), "--metrics-port", strconv.Itoa(mport),
		"--shutdown-delay", "0s", "--config-poll-interval", "1h", "--cert-poll-interval", "200ms",
	}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	w := &webhook{
		base: fmt.Sprintf("https://127.0.0.1:%d", port), metrics: fmt.Sprintf("http://127.0.0.1:%d", mport),
		certs: certs, certDir: certDir, logs: &syncbuffer.Buffer{}, stop: cancel, done: make(chan int, 1),
		client: newClient(certs, false),
	}
	go func() { w.done <- run(ctx, args, io.Discard, w.logs) }()
	t.Cleanup(func() {
		cancel()
		if code := <-w.done; code != exitOK {
			t.Errorf("server stopped with exit status %d", code)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", w.logs.String())
		}
	})
	waitReady(t, w.client, w.base+"/readyz", w.done)
	return w
}

func newClient(certs *testcert.Files, noKeepAlive bool) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: certs.Pool, ServerName: "localhost"},
		DisableKeepAlives:   noKeepAlive,
		MaxIdleConnsPerHost: 64,
	}}
}

// waitReady polls url until it answers 200; done yields what the server
// returned (an exit status in process, an error from a child process).
func waitReady[T any](t *testing.T, c *http.Client, url string, done <-chan T) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case v := <-done:
			t.Fatalf("server exited before ready: %v", v)
		default:
		}
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 15s", url)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type answer struct {
	status int
	text   string // the body when it is not an AdmissionReview
	review *admissionv1.AdmissionResponse
}

func (w *webhook) post(t *testing.T, contentType string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.base+"/mutate", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatalf("POST /mutate: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, text: string(data)}
	if resp.StatusCode == 200 {
		var rv struct {
			Response *admissionv1.AdmissionResponse
		}
		if err := json.Unmarshal(data, &rv); err != nil || rv.Response == nil {
			t.Fatalf("200 without an AdmissionReview: %v %s", err, data)
		}
		a.review = rv.Response
	}
	return a
}

// checkInjected accepts an answer that admits the good review's pod with
// the logging sidecar; image, when set, must be the shipper's image.
func checkInjected(image string) func(int, []byte) error {
	return func(status int, body []byte) error {
		if status != 200 {
			return fmt.Errorf("status %d: %.200s", status, body)
		}
		var rv struct {
			Response *admissionv1.AdmissionResponse
		}
		if err := json.Unmarshal(body, &rv); err != nil || rv.Response == nil {
			return fmt.Errorf("not an AdmissionReview: %v", err)
		}
		r := rv.Response
		if !r.Allowed || !bytes.Contains(r.Patch, []byte(`"name":"log-shipper"`)) {
			return fmt.Errorf("not injected: allowed=%v result=%v patch=%.200s", r.Allowed, r.Result, r.Patch)
		}
		if image != "" && !bytes.Contains(r.Patch, []byte(image)) {
			return fmt.Errorf("patch does not use %s: %.300s", image, r.Patch)
		}
		return nil
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadInputOverTLS sends each bad request to the running server, checks
// status and message, and then that a good request still succeeds.
func TestBadInputOverTLS(t *testing.T) {
	w := startWebhook(t, filepath.Join(fixtures, "sidecar-injector.yaml"), "--max-request-bytes", "65536")
	good := read(t, goodReview)
	review := func(object string) []byte {
		return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"team-a","object":` + object + `}}`)
	}
	for _, tc := range []struct {
		name        string
		contentType string
		body        []byte
		status      int
		message     string // in the plain-text answer, or the review's result message
		allowed     bool
		warning     string
		patched     bool
	}{
		{name: "empty body", body: nil, status: 400, message: "request body is empty"},
		{name: "not JSON", body: []byte("<xml/>"), status: 400, message: "request body is not an AdmissionReview: invalid character '<'"},
		{name: "truncated JSON", body: good[:len(good)-40], status: 400, message: "unexpected end of JSON input"},
		{name: "wrong content type", contentType: "application/yaml", body: good, status: 415, message: `content type "application/yaml" not supported, use application/json`},
		{name: "no request", body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), status: 400, message: "AdmissionReview has no request"},
		{name: "unknown apiVersion", body: bytes.Replace(good, []byte("admission.k8s.io/v1"), []byte("admission.k8s.io/v2alpha1"), 1), status: 400, message: `unsupported apiVersion "admission.k8s.io/v2alpha1"`},
		{name: "kind not configured", body: read(t, fixtures+"/configmap.json"), status: 200, allowed: true, warning: "v1 ConfigMap holds no pod template the injector knows; admitted unchanged"},
		{name: "body over the cap", body: review(`{"kind":"Pod","metadata":{"annotations":{"big":"` + strings.Repeat("x", 70000) + `"}}}`), status: 413, message: "request body larger than the limit of 65536 bytes"},
		{name: "rendering fails under Fail", body: read(t, fixtures+"/pod-fail.json"), status: 200, allowed: false,
			message: `sidecar-injector: mutation "strict": sidecar "needs-role"`},
		{name: "rendering fails under Ignore", body: read(t, fixtures+"/pod-ignore.json"), status: 200, allowed: true, patched: true,
			warning: `mutation "lenient": not injected (failurePolicy Ignore)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			a := w.post(t, ct, tc.body)
			if a.status != tc.status {
				t.Fatalf("status %d (%s), want %d", a.status, a.text, tc.status)
			}
			if a.review == nil {
				if !strings.Contains(a.text, tc.message) {
					t.Errorf("answer %q, want it to contain %q", a.text, tc.message)
				}
			} else {
				r := a.review
				if r.Allowed != tc.allowed {
					t.Errorf("allowed %v, want %v (%v)", r.Allowed, tc.allowed, r.Result)
				}
				if tc.message != "" && (r.Result == nil || !strings.Contains(r.Result.Message, tc.message)) {
					t.Errorf("result %v, want a message containing %q", r.Result, tc.message)
				}
				if tc.warning != "" && !strings.Contains(strings.Join(r.Warnings, "\n"), tc.warning) {
					t.Errorf("warnings %q, want one containing %q", r.Warnings, tc.warning)
				}
				if (len(r.Patch) > 0) != tc.patched {
					t.Errorf("patch %s, want patched=%v", r.Patch, tc.patched)
				}
			}
			// The server keeps serving good requests after each bad one.
			if err := checkInjected("")(okAnswer(t, w, good)); err != nil {
				t.Fatalf("good request after %s: %v", tc.name, err)
			}
		})
	}
}

func okAnswer(t *testing.T, w *webhook, body []byte) (int, []byte) {
	t.Helper()
	resp, err := w.client.Post(w.base+"/mutate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// TestLogsHoldNoPodSpec checks that at the default level nothing of the
// object reaches the log, and that debug gives one line per request.
func TestLogsHoldNoPodSpec(t *testing.T) {
	for _, tc := range []struct {
		level        string
		wantRequests int
	}{{"info", 0}, {"debug", 2}} {
		t.Run(tc.level, func(t *testing.T) {
			w := startWebhook(t, filepath.Join(fixtures, "sidecar-injector.yaml"), "--log-level", tc.level, "--log-format", "json")
			okAnswer(t, w, read(t, goodReview))
			okAnswer(t, w, read(t, fixtures+"/pod-fail.json"))
			logs := w.logs.String()
			for _, secret := range []string{"example.com/app:1", `"containers"`, "volumeMounts"} {
				if strings.Contains(logs, secret) {
					t.Errorf("log at %s holds %q from the pod spec:\n%s", tc.level, secret, logs)
				}
			}
			if got := strings.Count(logs, `"msg":"admission request"`); got != tc.wantRequests {
				t.Errorf("%d request lines at %s, want %d:\n%s", got, tc.level, tc.wantRequests, logs)
			}
			if !strings.Contains(logs, `"msg":"denied"`) {
				t.Errorf("the denial is not logged:\n%s", logs)
			}
		})
	}
}

// metric reads one sample from /metrics.
func (w *webhook) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get(w.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// TestConfigWarningsLoggedAndCounted: each warning of the config in
// service is one log line, at start and at each reload, and the gauge
// follows the config in service.
func TestConfigWarningsLoggedAndCounted(t *testing.T) {
	config := func(missing ...string) []byte {
		return []byte("containers:\n- name: shipper\n  image: example.com/shipper:1\n---\nmutationConfigs:\n- name: logging\n  annotationNamespace: logging.example.com\n  annotationTrigger: inject\n  containers: [" + strings.Join(append([]string{"shipper"}, missing...), ", ") + "]\n")
	}
	cm := &configMapDir{dir: t.TempDir()}
	cm.publish(t, config("no-such-sidecar"))
	w := startWebhook(t, cm.dir, "--log-format", "json")
	lines := func() int { return strings.Count(w.logs.String(), `"msg":"config warning"`) }
	if got := lines(); got != 1 || w.metric(t, "sidecar_injector_webhook_config_warnings") != 1 {
		t.Fatalf("at start: %d warning lines, gauge %v; want 1 and 1:\n%s", got, w.metric(t, "sidecar_injector_webhook_config_warnings"), w.logs.String())
	}
	if !strings.Contains(w.logs.String(), `no container named \"no-such-sidecar\" is defined`) || !strings.Contains(w.logs.String(), `"line":9`) {
		t.Errorf("the warning line does not name the sidecar and the line:\n%s", w.logs.String())
	}
	cm.publish(t, config("no-such-sidecar", "nor-this-one"))
	eventually(t, "the reload logs its two warnings", func() bool { return lines() == 3 })
	if got := w.metric(t, "sidecar_injector_webhook_config_warnings"); got != 2 {
		t.Errorf("gauge %v after the reload, want 2", got)
	}
	cm.publish(t, config())
	eventually(t, "a config without warnings zeroes the gauge", func() bool {
		return w.metric(t, `sidecar_injector_webhook_config_reloads_total{outcome="success"}`) == 2
	})
	if got := w.metric(t, "sidecar_injector_webhook_config_warnings"); got != 0 || lines() != 3 {
		t.Errorf("gauge %v and %d warning lines after a clean reload, want 0 and 3", got, lines())
	}
}

// The memory budget must hold the largest body the webhook accepts, or
// such a body could never be served: the process refuses to start.
func TestFlagsMemoryAgreesWithRequestCap(t *testing.T) {
	base := []string{"--config", "c.yaml", "--tls-cert-file", "c", "--tls-key-file", "k"}
	if _, _, err := parseFlags(base); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	_, _, err := parseFlags(append(base, "--max-request-bytes", "1000", "--max-request-memory", "1999"))
	if err == nil || !strings.Contains(err.Error(), "--max-request-memory 1999 must hold a body of --max-request-bytes 1000 twice") {
		t.Errorf("budget under twice the body cap: %v", err)
	}
}
