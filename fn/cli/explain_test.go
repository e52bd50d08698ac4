package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sidecar-injector/sidecar-injector/internal/goldencase"
)

// TestExplainGoldenCases runs --explain over each engine golden case's
// input and --check over its expected output (what a rendered GitOps repo
// holds), and compares with testdata/engine-cases/CASE.txt. Refresh with
// -update and review the diff.
func TestExplainGoldenCases(t *testing.T) {
	cases, err := goldencase.All(filepath.Join("..", "..", "engine", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := filepath.Abs(filepath.Join("testdata", "engine-cases"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			// The case's files in a folder of their own, the configs in
			// config/ (the old injector's two files are one config), so
			// that the output names them by short relative paths.
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "config"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range c.Configs {
				copyFile(t, f, filepath.Join(dir, "config", filepath.Base(f)))
			}
			for _, f := range []string{"input.yaml", "expected.yaml"} {
				copyFile(t, filepath.Join(c.Dir, f), filepath.Join(dir, f))
			}
			t.Chdir(dir)
			var out strings.Builder
			for _, args := range [][]string{{"--explain", "config", "input.yaml"}, {"--check", "config", "expected.yaml"}} {
				var stdout, stderr bytes.Buffer
				code := Run(args, nil, &stdout, &stderr)
				fmt.Fprintf(&out, "$ sidecar-injector-fn %s\n%s%sexit status %d\n\n", strings.Join(args, " "), stdout.String(), stderr.String(), code)
			}
			checkGolden(t, filepath.Join(golden, c.Name+".txt"), out.String())
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckExitStatus: --check says 0 when nothing would change, 1 when
// something would, 2 when it cannot tell (bad usage, config or input).
func TestCheckExitStatus(t *testing.T) {
	config := filepath.Join("..", "..", "examples", "kustomize", "sidecar-injector.yaml")
	base := filepath.Join("..", "..", "examples", "kustomize", "base", "web-deployment.yaml")
	var injected bytes.Buffer
	if code := Run([]string{config, base}, nil, &injected, &bytes.Buffer{}); code != exitOK {
		t.Fatalf("injecting the example: exit %d", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("kind: SidecarInjector\nspec: {mutations: [{name: x}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  int
		out   string
	}{
		{"rendered and current", []string{"--check", config, "-"}, injected.String(), 0, "up to date"},
		{"not rendered", []string{"--check", config, base}, "", 1, "would change"},
		{"config edited since", []string{"--check", config, "-"}, strings.Replace(injected.String(), "fluent-bit:3.1", "fluent-bit:3.0", 1), 1, "would change"},
		{"trigger removed since", []string{"--check", config, "-"}, strings.Replace(injected.String(), `logging.example.com/inject: "true"`, `logging.example.com/inject: "false"`, 1), 1, "-        name: log-shipper"},
		{"no resources", []string{"--check", config, "-"}, "", 0, "up to date"},
		{"no CONFIG", []string{"--check"}, "", 2, ""},
		{"with --explain", []string{"--check", "--explain", config}, "", 2, ""},
		{"bad config", []string{"--check", bad, base}, "", 2, ""},
		{"config not found", []string{"--check", "missing.yaml", base}, "", 2, ""},
		{"input not found", []string{"--check", config, "missing.yaml"}, "", 2, ""},
		{"input not YAML", []string{"--check", config, "-"}, "a: [", 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Run(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr); code != tc.want {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.out) {
				t.Errorf("stdout does not hold %q:\n%s", tc.out, stdout.String())
			}
			if tc.want == 2 && stderr.Len() == 0 {
				t.Error("exit status 2 with nothing on stderr")
			}
		})
	}
}

// TestExplainDocs: the --explain output docs/fn.md shows is the golden
// case's, line for line.
func TestExplainDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "fn.md"))
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- from fn/cli/testdata/golden/explain-why-not -->\n```text\n"
	_, block, ok := strings.Cut(string(doc), marker)
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatalf("docs/fn.md has no block after %q", marker)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "golden", "explain-why-not", "expected.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(golden), "\n") {
		lines[l] = true
	}
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		if !lines[l] {
			t.Errorf("docs/fn.md shows a line the golden output does not have (copy it from the golden):\n%s", l)
		}
	}
}
