package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

const reloadFixtures = "testdata/apiserver/reload"

// The webhook's config is a mounted ConfigMap. The kubelet updates one by
// writing the new files into a fresh timestamped folder and swapping the
// "..data" link to it; the webhook picks that up while it serves: the next
// pod gets the new sidecars. An invalid new config is refused and the last
// good one keeps serving.
func TestAPIServerConfigReload(t *testing.T) {
	c := apiServer(t)
	ctx := t.Context()
	mount := newConfigMapMount(t, filepath.Join(reloadFixtures, "v1"))
	wh := startWebhook(t, []string{mount.dir})
	route := routeID(t, "reload")
	registerWebhooks(t, c, "e2e-"+route, hook{name: "reload.e2e.sidecar-injector.dev", url: wh.URL, caBundle: wh.CABundle, route: route})
	ns := c.CreateNamespace(t, "reload", nil)
	pod := routed(readPod(t, filepath.Join(injectFixtures, "triggered.yaml")), route)
	pod.Name, pod.GenerateName = "", "reload-"
	waitForInjection(t, c, ns, pod)

	steps := []struct {
		name       string
		data       string // folder of the ConfigMap's new files
		reload     string // the reload outcome counted
		containers []string
		image      string // of log-shipper
	}{
		{name: "version 1 serving", containers: []string{"web", "log-shipper"}, image: "fluent/fluent-bit:3.1"},
		{name: "version 2 swapped in", data: "v2", reload: "success", containers: []string{"web", "log-shipper", "metrics-agent"}, image: "fluent/fluent-bit:3.2"},
		{name: "invalid config refused, version 2 keeps serving", data: "invalid", reload: "failure", containers: []string{"web", "log-shipper", "metrics-agent"}, image: "fluent/fluent-bit:3.2"},
		// Template mistakes that only the first pod would have shown: each
		// refused at reload, its message logged (invalid-NAME.error, the
		// mount's folder written MOUNT), and version 2 keeps injecting.
		{name: "template naming a field the pod lacks refused", data: "invalid-field-typo", reload: "failure", containers: []string{"web", "log-shipper", "metrics-agent"}, image: "fluent/fluent-bit:3.2"},
		{name: "template calling an undefined template refused", data: "invalid-undefined-template", reload: "failure", containers: []string{"web", "log-shipper", "metrics-agent"}, image: "fluent/fluent-bit:3.2"},
		{name: "unknown field in a templated container refused", data: "invalid-unknown-field", reload: "failure", containers: []string{"web", "log-shipper", "metrics-agent"}, image: "fluent/fluent-bit:3.2"},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.data != "" {
				before := wh.metric(t, "config_reloads_total", `outcome="`+step.reload+`"`)
				mount.update(t, filepath.Join(reloadFixtures, step.data))
				// Bounded wait for the webhook to count the reload.
				err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
					return wh.metric(t, "config_reloads_total", `outcome="`+step.reload+`"`) > before, nil
				})
				if err != nil {
					t.Fatalf("no %s reload counted within 30s of the ..data swap: %v", step.reload, err)
				}
				if golden, err := os.ReadFile(filepath.Join(reloadFixtures, step.data+".error")); err == nil {
					want := strings.ReplaceAll(strings.TrimSpace(string(golden)), "MOUNT", mount.dir)
					escaped, _ := json.Marshal(want)
					if logs := wh.Logs(); !strings.Contains(logs, want) && !strings.Contains(logs, strings.Trim(string(escaped), `"`)) {
						t.Errorf("the webhook's log does not say why the config was refused:\n%s\nwant:\n%s", lastLines(logs, 10), want)
					}
				}
			}
			stored, err := createPod(ctx, c, ns, pod.DeepCopy())
			if err != nil {
				t.Fatalf("create pod: %v", err)
			}
			if got := names(stored.Spec.Containers); !slices.Equal(got, step.containers) {
				t.Errorf("containers = %v, want %v", got, step.containers)
			}
			if got := containerImage(stored, "log-shipper"); got != step.image {
				t.Errorf("log-shipper image = %q, want %q", got, step.image)
			}
		})
	}
}

func containerImage(pod *corev1.Pod, name string) string {
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return c.Image
		}
	}
	return ""
}

// configMapMount is a folder laid out as the kubelet mounts a ConfigMap:
//
//	..2026_11_26_10_00_00.000000001/KEY   the files of the current version
//	..data -> ..2026_11_26_10_00_00.000000001
//	KEY -> ..data/KEY                      one link per data key
type configMapMount struct {
	dir     string
	current string // the timestamped folder ..data points at
	version int
}

func newConfigMapMount(t *testing.T, src string) *configMapMount {
	t.Helper()
	m := &configMapMount{dir: t.TempDir()}
	m.current = m.writeVersion(t, src)
	if err := os.Symlink(m.current, filepath.Join(m.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, key := range m.keys(t, src) {
		if err := os.Symlink(filepath.Join("..data", key), filepath.Join(m.dir, key)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// update writes src's files as a new version and swaps ..data to it
// atomically (a new link renamed over the old), then removes the old
// version, as the kubelet does. The key set is the same in every version.
func (m *configMapMount) update(t *testing.T, src string) {
	t.Helper()
	next := m.writeVersion(t, src)
	tmp := filepath.Join(m.dir, "..data_tmp")
	if err := os.Symlink(next, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(m.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(m.dir, m.current)); err != nil {
		t.Fatal(err)
	}
	m.current = next
}

// writeVersion copies src's files into a new timestamped folder and returns
// its name (relative to the mount).
func (m *configMapMount) writeVersion(t *testing.T, src string) string {
	t.Helper()
	m.version++
	name := fmt.Sprintf("..%s.%09d", time.Now().UTC().Format("2006_01_02_15_04_05"), m.version)
	for _, key := range m.keys(t, src) {
		data, err := os.ReadFile(filepath.Join(src, key))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(m.dir, name, key), data)
	}
	return name
}

func (m *configMapMount) keys(t *testing.T, src string) []string {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.Name())
	}
	return keys
}
