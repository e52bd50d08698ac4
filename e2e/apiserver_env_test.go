// Helpers of the end-to-end tests that run against a real API server
// (apiserver_*_test.go, parity_*_test.go, gitops_*_test.go).
//
// What is real: kube-apiserver and etcd (e2e/cluster, envtest), the webhook
// binary bin/sidecar-injector-webhook run as a process serving TLS on the
// loopback with a certificate made here, the function binary, kubectl,
// kustomize and kpt. The API server calls the webhook through a
// MutatingWebhookConfiguration registered by URL with the CA in caBundle.
//
// Scoping: every webhook configuration registered here selects pods by a
// label (routeLabel) whose value is unique to the test, so that pods of other
// tests sharing the API server never reach it. A pod meant for the webhook
// under test carries that label.
//
// One API server serves the whole package (startup costs several seconds
// on a loaded 2-core machine): the first test that asks for it starts it and
// TestMain stops it after the last test. Tests that need it run one after
// another (no t.Parallel at the top level), which keeps request counts
// read from a webhook's metrics exact.
package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/sidecar-injector/sidecar-injector/e2e/cluster"
	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/internal/syncbuffer"
	"github.com/sidecar-injector/sidecar-injector/internal/testcert"
)

// recordAnnotation is the injector's record of what it added.
const recordAnnotation = engine.RecordAnnotation

// routeLabel sends a pod to the webhook configuration of one test.
const routeLabel = "e2e.sidecar-injector.dev/route"

// TestMain stops the shared API server, if a test started it.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := sharedAPIServer.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stopping the shared API server:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// sharedAPIServer is the package's one API server, started on first use.
var sharedAPIServer apiServerOnce

type apiServerOnce struct {
	once    sync.Once
	c       *cluster.Cluster
	err     error
	elapsed time.Duration
}

// apiServer returns the shared API server, starting it on first use. Without
// the envtest assets it skips t loudly, or fails it under CI=true.
func apiServer(t *testing.T) *cluster.Cluster {
	t.Helper()
	cluster.RequireAssets(t)
	s := &sharedAPIServer
	s.once.Do(func() {
		began := time.Now()
		s.c, s.err = cluster.Launch()
		s.elapsed = time.Since(began)
		if s.err == nil {
			t.Logf("e2e: started the shared API server %s in %s", s.c.Config.Host, s.elapsed.Round(time.Millisecond))
		}
	})
	if s.err != nil {
		t.Fatalf("e2e: starting the API server: %v", s.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kube-apiserver's last log lines:\n%s", lastLines(s.c.LogTail(), 40))
		}
	})
	return s.c
}

func (s *apiServerOnce) stop() error {
	if s.c == nil {
		return nil
	}
	return s.c.Stop()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// routeID returns a label value unique to this test run and t.
func routeID(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	id := prefix + "-" + hex.EncodeToString(b)
	if len(id) > 63 {
		t.Fatalf("route id %q is longer than a label value may be", id)
	}
	return id
}

// ensureNamespace creates the namespace name unless it exists (tests use the
// namespaces the fixtures name, such as shop or kube-system).
func ensureNamespace(t *testing.T, c *cluster.Cluster, name string) {
	t.Helper()
	_, err := c.Clientset.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

// ---------------------------------------------------------------------------
// Certificates

// servingCert is a throwaway CA and a serving certificate it signed for
// 127.0.0.1, written as PEM files.
type servingCert struct {
	CAPEM             []byte
	CertFile, KeyFile string
}

func newServingCert(t *testing.T) servingCert {
	t.Helper()
	files, err := testcert.Write(t.TempDir(), 1)
	if err != nil {
		t.Fatalf("serving certificate: %v", err)
	}
	caPEM, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	return servingCert{CAPEM: caPEM, CertFile: files.Cert, KeyFile: files.Key}
}

// tlsConfig trusts the CA only.
func (s servingCert) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CAPEM) {
		t.Fatal("bad CA PEM")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// client is an HTTP client that trusts the CA only.
func (s servingCert) client(t *testing.T) *http.Client {
	t.Helper()
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: s.tlsConfig(t)}}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// The webhook process

// webhookBinary is bin/sidecar-injector-webhook as built by `make build`
// (SIDECAR_WEBHOOK_BIN when `make test` runs).
func webhookBinary(t testing.TB) string {
	return fnTool(t, "SIDECAR_WEBHOOK_BIN", "bin/sidecar-injector-webhook", "", "run make build")
}

// webhookProcess is a running bin/sidecar-injector-webhook.
type webhookProcess struct {
	// URL is the admission endpoint, https://127.0.0.1:PORT/mutate.
	URL string
	// CABundle is the CA that signed its serving certificate.
	CABundle []byte

	metricsURL string
	cmd        *exec.Cmd
	out        *syncbuffer.Buffer
	exited     chan struct{}
	waitErr    error
}

// startWebhook runs the webhook binary with the given --config paths (and
// extra flags), waits until /readyz answers over TLS, and stops it when t
// ends. On failure of t its output is logged.
func startWebhook(t *testing.T, configs []string, extra ...string) *webhookProcess {
	t.Helper()
	cert := newServingCert(t)
	ports := freePorts(t, 2)
	port, metricsPort := ports[0], ports[1]
	args := []string{
		"--tls-cert-file", cert.CertFile, "--tls-key-file", cert.KeyFile,
		"--bind-address", "127.0.0.1",
		"--port", strconv.Itoa(port), "--metrics-port", strconv.Itoa(metricsPort),
		// One line per request: the logs show what the API server sent.
		"--log-level", "debug",
		// Tests stop it often; no load balancer needs time to notice.
		"--shutdown-delay", "0s", "--shutdown-timeout", "5s",
	}
	for _, c := range configs {
		args = append(args, "--config", c)
	}
	return runWebhook(t, cert, port, metricsPort, append(args, extra...))
}

// runWebhook runs the webhook binary with args, which must make it serve
// cert on 127.0.0.1:port and its metrics on metricsPort, and waits for it
// as startWebhook does.
func runWebhook(t *testing.T, cert servingCert, port, metricsPort int, args []string) *webhookProcess {
	t.Helper()
	bin := webhookBinary(t)
	w := &webhookProcess{
		URL:        fmt.Sprintf("https://127.0.0.1:%d/mutate", port),
		CABundle:   cert.CAPEM,
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort),
		out:        &syncbuffer.Buffer{},
		exited:     make(chan struct{}),
	}
	w.cmd = exec.Command(bin, args...)
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	dieWithParent(w.cmd)
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		w.waitErr = w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		w.stop(t)
		if t.Failed() {
			t.Logf("webhook %s output:\n%s", w.URL, lastLines(w.out.String(), 60))
		}
	})

	client := cert.client(t)
	readyz := fmt.Sprintf("https://127.0.0.1:%d/readyz", port)
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		select {
		case <-w.exited:
			return false, fmt.Errorf("the webhook exited before it was ready: %v", w.waitErr)
		default:
		}
		resp, err := client.Get(readyz)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("webhook %s %s: not ready: %v\noutput:\n%s", bin, strings.Join(args, " "), err, w.out.String())
	}
	return w
}

// stop sends SIGTERM and waits for the process to exit (it drains and
// exits 0); after 15 seconds it is killed. Calling it again does nothing.
func (w *webhookProcess) stop(t *testing.T) {
	t.Helper()
	select {
	case <-w.exited:
		return
	default:
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("signal the webhook: %v", err)
	}
	select {
	case <-w.exited:
		if w.waitErr != nil {
			t.Errorf("the webhook exited with %v after SIGTERM (want a clean drain)\n%s", w.waitErr, lastLines(w.out.String(), 20))
		}
	case <-time.After(15 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
		t.Errorf("the webhook did not exit within 15s of SIGTERM; killed")
	}
}

// Logs returns what the webhook has written so far.
func (w *webhookProcess) Logs() string { return w.out.String() }

// metric returns the sum of the samples of a counter or gauge family
// (sidecar_injector_webhook_NAME) whose labels include every given
// label="value" pair, read from the webhook's /metrics.
func (w *webhookProcess) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(w.metricsURL)
	if err != nil {
		t.Fatalf("read webhook metrics: %v", err)
	}
	defer resp.Body.Close()
	family := "sidecar_injector_webhook_" + name
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		m := sampleRE.FindStringSubmatch(line)
		if m == nil || m[1] != family {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(m[2], l) {
				match = false
			}
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
		found = true
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read webhook metrics: %v", err)
	}
	if !found {
		t.Fatalf("webhook metrics have no %s sample with labels %v", family, labels)
	}
	return sum
}

// sampleRE matches a Prometheus text sample: name, {labels}, value.
var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$`)

// admissions is how many admission answers the webhook has given (patched,
// unchanged, denied or errored).
func (w *webhookProcess) admissions(t *testing.T) int {
	t.Helper()
	return int(w.metric(t, "admission_responses_total"))
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close() // held until all are chosen, so that they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// ---------------------------------------------------------------------------
// Webhook configurations

// hook describes one webhook of a MutatingWebhookConfiguration: where it
// is, which pods it gets (those labelled routeLabel=route) and its
// policies. The zero policies are failurePolicy Fail and reinvocation Never.
type hook struct {
	name     string // e.g. inject.e2e.sidecar-injector.dev
	url      string
	caBundle []byte
	route    string
	ignore   bool // failurePolicy Ignore instead of Fail
	reinvoke bool // reinvocationPolicy IfNeeded instead of Never
	// rules default to CREATE of pods; reviewVersions to [v1].
	rules          []admissionregistrationv1.RuleWithOperations
	reviewVersions []string
}

// createRule is CREATE of the resources of one API group and version.
func createRule(group, version string, resources ...string) admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{group}, APIVersions: []string{version}, Resources: resources,
		},
	}
}

func (h hook) webhook() admissionregistrationv1.MutatingWebhook {
	none := admissionregistrationv1.SideEffectClassNone
	failure := admissionregistrationv1.Fail
	if h.ignore {
		failure = admissionregistrationv1.Ignore
	}
	reinvoke := admissionregistrationv1.NeverReinvocationPolicy
	if h.reinvoke {
		reinvoke = admissionregistrationv1.IfNeededReinvocationPolicy
	}
	timeout := int32(10)
	url := h.url
	rules := h.rules
	if rules == nil {
		rules = []admissionregistrationv1.RuleWithOperations{createRule("", "v1", "pods")}
	}
	versions := h.reviewVersions
	if versions == nil {
		versions = []string{"v1"}
	}
	return admissionregistrationv1.MutatingWebhook{
		Name:                    h.name,
		ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: h.caBundle},
		Rules:                   rules,
		ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{routeLabel: h.route}},
		SideEffects:             &none,
		FailurePolicy:           &failure,
		ReinvocationPolicy:      &reinvoke,
		TimeoutSeconds:          &timeout,
		AdmissionReviewVersions: versions,
	}
}

// registerWebhooks stores a MutatingWebhookConfiguration named name with
// the hooks and deletes it when t ends. The API server takes it into
// account a moment later: wait with waitForInjection.
func registerWebhooks(t *testing.T, c *cluster.Cluster, name string, hooks ...hook) {
	t.Helper()
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, h := range hooks {
		mwc.Webhooks = append(mwc.Webhooks, h.webhook())
	}
	api := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if _, err := api.Create(t.Context(), mwc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create MutatingWebhookConfiguration %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := api.Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete MutatingWebhookConfiguration %s: %v", name, err)
		}
	})
}

// waitForInjection dry-runs pod in namespace until the API server answers
// with the injector's record on it: the webhook configuration is then in
// effect. pod must be routed to the webhook and triggered.
func waitForInjection(t *testing.T, c *cluster.Cluster, namespace string, pod *corev1.Pod) {
	t.Helper()
	_, err := c.WaitForPodMutation(t.Context(), namespace, pod, func(p *corev1.Pod) bool {
		return p.Annotations[recordAnnotation] != ""
	})
	if err != nil {
		t.Fatalf("the webhook configuration did not take effect: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Pods

// readPod reads a Pod fixture.
func readPod(t *testing.T, path string) *corev1.Pod {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := sigsyaml.UnmarshalStrict(data, &pod); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &pod
}

// routed returns a copy of pod labelled for the webhook of route.
func routed(pod *corev1.Pod, route string) *corev1.Pod {
	p := pod.DeepCopy()
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[routeLabel] = route
	return p
}

// createPod creates pod in namespace with strict field validation (a field
// the API server does not know fails the request instead of being dropped).
func createPod(ctx context.Context, c *cluster.Cluster, namespace string, pod *corev1.Pod) (*corev1.Pod, error) {
	return c.Clientset.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{FieldValidation: "Strict"})
}

// names lists the names of containers.
func names(cs []corev1.Container) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func volumeNames(vs []corev1.Volume) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

// statusError returns the API status message of err, or err's text.
func statusError(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return se.Status().Message
	}
	return err.Error()
}

// stderrOf returns what a command run with Output wrote on stderr.
func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
