package reload

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
	"github.com/sidecar-injector/sidecar-injector/engine/config"
	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// outcomes records OnReload calls.
type outcomes struct {
	mu   sync.Mutex
	errs []error
}

func (o *outcomes) record(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, err)
}

func (o *outcomes) snapshot() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]error(nil), o.errs...)
}

// start watches paths with the real reader and the engine as validator;
// the value in service is the first file's text, so the test sees which
// version serves.
func start(t *testing.T, paths ...string) (*Watcher[string], *outcomes) {
	t.Helper()
	o := &outcomes{}
	w, err := New(Options[string]{
		Paths: paths,
		Read:  func() ([]config.Source, error) { return config.ReadFiles(paths...) },
		Build: func(s []config.Source) (string, error) {
			if _, err := engine.Load(s...); err != nil {
				return "", err
			}
			return string(s[0].Data), nil
		},
		// A poll far beyond the test's length: changes must be seen by
		// file events.
		Interval: time.Hour,
		Debounce: 20 * time.Millisecond,
		OnReload: o.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w, o
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mountedConfigMap lays out dir as the kubelet does: the key is a link to
// ..data/KEY, and ..data a link to a timestamped folder swapped by rename.
type mountedConfigMap struct {
	dir string
	gen int
}

func (m *mountedConfigMap) publish(t *testing.T, data []byte) {
	t.Helper()
	m.gen++
	ts := filepath.Join(m.dir, "..2026_11_26_"+strings.Repeat("x", m.gen))
	if err := os.Mkdir(ts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ts, "config.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(m.dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(m.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(m.dir, "config.yaml")
	if _, err := os.Lstat(key); os.IsNotExist(err) {
		if err := os.Symlink("..data/config.yaml", key); err != nil {
			t.Fatal(err)
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
	}
}

func TestMountedConfigMapSwaps(t *testing.T) {
	a, b, bad := fixture(t, "valid-a.yaml"), fixture(t, "valid-b.yaml"), fixture(t, "invalid.yaml")
	cm := &mountedConfigMap{dir: t.TempDir()}
	cm.publish(t, a)
	w, o := start(t, cm.dir)
	if w.Current() != string(a) {
		t.Fatal("first config not in service")
	}

	cm.publish(t, bad)
	eventually(t, "the invalid config is refused", func() bool { return len(o.snapshot()) == 1 })
	if err := o.snapshot()[0]; err == nil || !strings.Contains(err.Error(), "no-such-sidecar") {
		t.Fatalf("refusal error %v, want one naming the missing sidecar", err)
	}
	if w.Current() != string(a) {
		t.Fatal("the last good config must keep serving after a refused reload")
	}

	cm.publish(t, b)
	// The outcome is counted after the value is swapped in: wait for both.
	eventually(t, "the new valid config serves", func() bool { return w.Current() == string(b) && len(o.snapshot()) == 2 })
	if errs := o.snapshot(); len(errs) != 2 || errs[1] != nil {
		t.Fatalf("reload outcomes %v, want [refused, success]", errs)
	}
}

func TestFileReplacedByRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sidecars.yaml")
	if err := os.WriteFile(path, fixture(t, "valid-a.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, o := start(t, path)
	b := fixture(t, "valid-b.yaml")
	if err := os.WriteFile(path+".new", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replaced file serves", func() bool { return w.Current() == string(b) && len(o.snapshot()) == 1 })
	if errs := o.snapshot(); len(errs) != 1 || errs[0] != nil {
		t.Fatalf("reload outcomes %v, want one success", errs)
	}
}

// TestChangeBeforeRun: a change made after New read the files and before
// Run set up its watch has no event; Run still finds it, long before the
// next poll.
func TestChangeBeforeRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, fixture(t, "valid-a.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &outcomes{}
	w, err := New(Options[string]{
		Paths:    []string{path},
		Read:     func() ([]config.Source, error) { return config.ReadFiles(path) },
		Build:    func(s []config.Source) (string, error) { return string(s[0].Data), nil },
		Interval: time.Hour,
		OnReload: o.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	b := fixture(t, "valid-b.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	eventually(t, "the change made before Run serves", func() bool { return w.Current() == string(b) && len(o.snapshot()) == 1 })
}

func TestUnchangedFilesAreNotRebuilt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, fixture(t, "valid-a.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, o := start(t, path)
	changed, err := w.reload()
	if changed || err != nil || len(o.snapshot()) != 0 {
		t.Fatalf("reload of unchanged files = %v, %v, outcomes %v; want no rebuild", changed, err, o.snapshot())
	}
}

func TestStartRefusesInvalidConfig(t *testing.T) {
	path := filepath.Join("testdata", "invalid.yaml")
	_, err := New(Options[*engine.Injector]{
		Read:  func() ([]config.Source, error) { return config.ReadFiles(path) },
		Build: func(s []config.Source) (*engine.Injector, error) { return engine.Load(s...) },
	})
	if err == nil || !strings.Contains(err.Error(), "invalid.yaml") {
		t.Fatalf("New with an invalid config = %v, want an error naming the file", err)
	}
}

// TestReloadRefusesConfigsThatCannotInject: each config of the table of
// refused configs is refused on reload, with its problem in the error,
// and the last good config keeps injecting.
func TestReloadRefusesConfigsThatCannotInject(t *testing.T) {
	cases, err := goldencase.Refused(filepath.Join("..", "..", goldencase.RefusedDir))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, fixture(t, "valid-a.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &outcomes{}
	w, err := New(Options[*engine.Injector]{
		Read:     func() ([]config.Source, error) { return config.ReadFiles(path) },
		Build:    func(s []config.Source) (*engine.Injector, error) { return engine.Load(s...) },
		OnReload: o.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(filepath.Base(c.Path), func(t *testing.T) {
			data, err := os.ReadFile(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			want := "config.yaml" + strings.TrimPrefix(c.Want, filepath.Base(c.Path))
			if changed, err := w.reload(); changed || err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("reload = %v, %v; want it refused saying %q", changed, err, want)
			}
			if errs := o.snapshot(); len(errs) != i+1 || errs[i] == nil {
				t.Errorf("reload outcomes %v, want a failure counted", errs)
			}
			pod := yaml.MustParse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    logging.example.com/inject: \"true\"\nspec:\n  containers:\n  - name: app\n")
			if rep := w.Current().Inject(pod, engine.Options{}); !rep.Changed() {
				t.Errorf("the last good config no longer injects: %+v", rep)
			}
		})
	}
	for _, c := range cases {
		// At start, the same configs keep the webhook from serving.
		if _, err := New(Options[*engine.Injector]{
			Read:  func() ([]config.Source, error) { return config.ReadFiles(c.Path) },
			Build: func(s []config.Source) (*engine.Injector, error) { return engine.Load(s...) },
		}); err == nil || !strings.Contains(err.Error(), c.Want) {
			t.Errorf("New with %s = %v, want an error saying %q", c.Path, err, c.Want)
		}
	}
}
