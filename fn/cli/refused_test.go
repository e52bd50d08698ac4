package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// TestRefusedConfigs: a config that cannot inject is refused by both modes,
// with exit status 1, the error on stderr, and nothing on stdout in the
// standalone mode: a KRM function with such a functionConfig, the
// standalone tool with such a CONFIG (and with /dev/null).
func TestRefusedConfigs(t *testing.T) {
	cases, err := goldencase.Refused(filepath.Join("..", "..", goldencase.RefusedDir))
	if err != nil {
		t.Fatal(err)
	}
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    logging.example.com/inject: \"true\"\nspec:\n  containers:\n  - name: app\n    image: app\n"
	cases = append(cases, goldencase.RefusedConfig{Path: os.DevNull, Want: os.DevNull + ": defines no mutations"})
	for _, c := range cases {
		t.Run(filepath.Base(c.Path), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Run([]string{c.Path}, strings.NewReader(pod), &stdout, &stderr); code != exitError || stdout.Len() > 0 || !strings.Contains(stderr.String(), c.Want) {
				t.Errorf("standalone: exit %d, stdout %q, stderr:\n%s\nwant exit %d, no output, and stderr saying %q", code, stdout.String(), stderr.String(), exitError, c.Want)
			}

			data, err := os.ReadFile(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			// As a functionConfig the config is named by its kind and
			// name, not its file; one that is no resource is no
			// functionConfig at all.
			want := strings.TrimPrefix(c.Want, filepath.Base(c.Path))
			fc, err := yaml.Parse(string(data))
			if err != nil || fc.IsNilOrEmpty() {
				want = "no functionConfig"
			}
			rl := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(pod), "\n", "\n  ") + "\n"
			if want != "no functionConfig" {
				rl += "functionConfig:\n  " + strings.ReplaceAll(strings.TrimSpace(string(data)), "\n", "\n  ") + "\n"
			}
			stdout.Reset()
			stderr.Reset()
			code := Run(nil, strings.NewReader(rl), &stdout, &stderr)
			if code != exitError || !strings.Contains(stderr.String(), want) || !strings.Contains(stdout.String(), "severity: error") {
				t.Errorf("KRM function: exit %d, stderr:\n%s\nstdout:\n%s\nwant exit %d and an error result saying %q", code, stderr.String(), stdout.String(), exitError, want)
			}
		})
	}
}
