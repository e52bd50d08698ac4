// Package cluster starts a real Kubernetes API server (kube-apiserver and
// etcd, no scheduler, no controllers, no kubelet) for the e2e tests, through
// controller-runtime's envtest.
//
// The binaries come from KUBEBUILDER_ASSETS, which `make test` sets to the
// folder `make envtest-assets` builds them into. When it is not set, Start
// skips the test with a message saying how to get them, or fails it when CI
// is true: a CI run that quietly skips the e2e tests proves nothing.
//
// What the server is like (envtest's defaults, plus a longer start timeout):
//   - authorization RBAC; the clients here are system:masters;
//   - the default admission plugins, MutatingAdmissionWebhook and
//     ValidatingAdmissionWebhook included, less ServiceAccount: a Pod needs no
//     ServiceAccount and gets no token volume;
//   - no controllers: a Pod stays Pending, a Deployment makes no ReplicaSet, a
//     deleted Namespace stays Terminating. Create pods directly to see what
//     admission makes of them.
//   - webhooks are reached over the loopback: a MutatingWebhookConfiguration
//     whose clientConfig.url is https://127.0.0.1:PORT/... with the serving
//     CA in caBundle works (see WaitForPodMutation for the delay before a new
//     configuration takes effect).
package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AssetsEnv names the folder that holds kube-apiserver, etcd and kubectl.
const AssetsEnv = "KUBEBUILDER_ASSETS"

// ErrNoAssets is returned by Launch when AssetsEnv is unset or its folder
// lacks a binary.
var ErrNoAssets = errors.New("envtest assets missing")

// Cluster is a running API server and etcd.
type Cluster struct {
	// Config is an admin (system:masters) client config.
	Config *rest.Config
	// Clientset is a typed client built from Config.
	Clientset *kubernetes.Clientset
	// Kubeconfig is the path of a kubeconfig file for Config, for
	// `kubectl --kubeconfig` and for other processes.
	Kubeconfig string
	// KubectlPath is the kubectl found in the assets folder or on PATH, or
	// "" when there is none.
	KubectlPath string
	// Env is the underlying envtest environment, for what this package
	// does not wrap.
	Env *envtest.Environment

	tmpDir   string
	logs     *tailBuffer
	stopOnce sync.Once
	stopErr  error
}

// Start starts a cluster for t and stops it when t and its subtests end.
// Without assets it skips t, or fails it when CI is true. On failure of t the
// tail of the API server's log is written to t's log.
func Start(t testing.TB) *Cluster {
	t.Helper()
	RequireAssets(t)
	began := time.Now()
	c, err := Launch()
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	t.Logf("cluster: API server %s ready in %s (kubeconfig %s)", c.Config.Host, time.Since(began).Round(time.Millisecond), c.Kubeconfig)
	t.Cleanup(func() {
		if t.Failed() {
			if tail := c.LogTail(); tail != "" {
				t.Logf("cluster: last lines of kube-apiserver's log:\n%s", tail)
			}
		}
		if err := c.Stop(); err != nil {
			t.Errorf("cluster: stop: %v", err)
		}
	})
	return c
}

// RequireAssets returns the assets folder, or ends t: skipped with a loud
// message, or failed when the CI environment variable is true.
func RequireAssets(t testing.TB) string {
	t.Helper()
	dir, err := AssetsDir()
	if err == nil {
		return dir
	}
	msg := fmt.Sprintf(`
************************************************************************
  e2e: no real API server: %v.
  Build the assets once (several minutes; cached afterwards) and point
  %s at them:
      make envtest-assets
      export %s="$(make -s envtest-print)"
  `+"`make test`"+` does both.
************************************************************************`, err, AssetsEnv, AssetsEnv)
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s\nCI is true: failing instead of skipping.", msg)
	}
	t.Skip(msg)
	return ""
}

// AssetsDir returns the folder named by AssetsEnv once it holds
// kube-apiserver and etcd.
func AssetsDir() (string, error) {
	dir := os.Getenv(AssetsEnv)
	if dir == "" {
		return "", fmt.Errorf("%w: %s is not set", ErrNoAssets, AssetsEnv)
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(dir, bin)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%w: %s=%s has no executable %s", ErrNoAssets, AssetsEnv, dir, bin)
		}
	}
	return dir, nil
}

// Launch starts a cluster outside of a test (for example from TestMain).
// The caller must call Stop. It returns an error wrapping ErrNoAssets when
// the assets are missing.
func Launch() (_ *Cluster, err error) {
	// envtest's own default start timeout of 20s is short on a loaded
	// 2-core machine.
	startTimeout := 2 * time.Minute
	if s := os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT"); s != "" {
		if startTimeout, err = time.ParseDuration(s); err != nil {
			return nil, fmt.Errorf("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT: %w", err)
		}
	}
	dir, err := AssetsDir()
	if err != nil {
		return nil, err
	}

	c := &Cluster{logs: newTailBuffer(64 << 10)}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    dir,
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  time.Minute,
	}
	apiServer := env.ControlPlane.GetAPIServer()
	if attach, _ := strconv.ParseBool(os.Getenv("KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT")); !attach {
		apiServer.Out, apiServer.Err = c.logs, c.logs
	}
	c.Env = env

	if c.Config, err = env.Start(); err != nil {
		// envtest leaves whatever it started running on a failed start.
		_ = env.Stop()
		return nil, fmt.Errorf("start kube-apiserver and etcd from %s: %w\n%s", dir, err, c.LogTail())
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()
	if c.Clientset, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, err
	}
	if c.tmpDir, err = os.MkdirTemp("", "e2e-cluster-"); err != nil {
		return nil, err
	}
	c.Kubeconfig = filepath.Join(c.tmpDir, "kubeconfig")
	if err = os.WriteFile(c.Kubeconfig, env.KubeConfig, 0o600); err != nil {
		return nil, err
	}
	c.KubectlPath = env.ControlPlane.KubectlPath
	if fi, statErr := os.Stat(c.KubectlPath); statErr != nil || fi.IsDir() {
		c.KubectlPath, _ = exec.LookPath("kubectl")
	}
	return c, nil
}

// Stop stops the API server and etcd and removes their files. Calling it
// again does nothing.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.stopErr = c.Env.Stop()
		if c.tmpDir != "" {
			if err := os.RemoveAll(c.tmpDir); err != nil && c.stopErr == nil {
				c.stopErr = err
			}
		}
	})
	return c.stopErr
}

// LogTail returns the last lines kube-apiserver wrote (empty when its output
// is attached to the terminal by KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT).
func (c *Cluster) LogTail() string { return c.logs.String() }

// Kubectl returns a command that runs kubectl against the cluster (with
// --kubeconfig set), bound to t's context. It skips t when there is no
// kubectl, or fails it when CI is true.
func (c *Cluster) Kubectl(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	if c.KubectlPath == "" {
		msg := "e2e: no kubectl in " + AssetsEnv + " nor on PATH"
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return exec.CommandContext(t.Context(), c.KubectlPath, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
}

// CreateNamespace creates a namespace named after prefix with a random
// suffix, with the given labels, and returns its name.
func (c *Cluster) CreateNamespace(t testing.TB, prefix string, labels map[string]string) string {
	t.Helper()
	ns, err := c.Clientset.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-", Labels: labels},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s-*: %v", prefix, err)
	}
	return ns.Name
}

// WaitForPodMutation creates pod in namespace with server-side dry run
// until mutated returns true for what the API server answers, and returns
// that answer. The API server learns of a new or changed webhook
// configuration through a watch, a moment after it is stored: a test that
// registers a webhook calls this before creating the pods it asserts on.
// The webhook must declare sideEffects None (or NoneOnDryRun).
func (c *Cluster) WaitForPodMutation(ctx context.Context, namespace string, pod *corev1.Pod, mutated func(*corev1.Pod) bool) (*corev1.Pod, error) {
	var got *corev1.Pod
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := c.Clientset.CoreV1().Pods(namespace).Create(ctx, pod.DeepCopy(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			lastErr = err
			return false, nil
		}
		got, lastErr = p, nil
		return mutated(p), nil
	})
	if err != nil {
		if lastErr != nil {
			err = fmt.Errorf("%w (last error: %v)", err, lastErr)
		}
		return got, fmt.Errorf("pod not mutated as expected: %w", err)
	}
	return got, nil
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

var _ io.Writer = (*tailBuffer)(nil)

func newTailBuffer(limit int) *tailBuffer { return &tailBuffer{limit: limit} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.limit; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf
	if len(s) == b.limit {
		// Drop the partial first line.
		if i := bytes.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return string(s)
}
