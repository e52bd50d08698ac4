package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected.* files of testdata/golden from the actual output")

// TestGolden runs the command in process over each case folder under
// testdata/golden/, as the binary would run there:
//
//	args           the command line, one argument per line (absent or empty: KRM function mode)
//	stdin.yaml     stdin (absent: empty)
//	expected.stdout   stdout
//	expected.stderr   stderr, then "exit status N"
//
// Refresh with `go test ./fn/... -update` and review the diff.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases in testdata/golden (%v)", err)
	}
	for _, dir := range cases {
		dir, err := filepath.Abs(dir) // runCase changes into the folder
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			stdout, stderr := runCase(t, dir)
			checkGolden(t, filepath.Join(dir, "expected.stdout"), stdout)
			checkGolden(t, filepath.Join(dir, "expected.stderr"), stderr)
		})
	}
}

// runCase runs one case folder and returns stdout and stderr (with the exit
// status appended).
func runCase(t *testing.T, dir string) (string, string) {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	if data, err := os.ReadFile(filepath.Join(abs, "args")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				args = append(args, line)
			}
		}
	}
	stdin, err := os.ReadFile(filepath.Join(abs, "stdin.yaml"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	t.Chdir(abs)
	var stdout, stderr bytes.Buffer
	code := Run(args, bytes.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), fmt.Sprintf("%sexit status %d\n", stderr.String(), code)
}

func checkGolden(t *testing.T, path, actual string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(actual), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if string(want) != actual {
		t.Errorf("%s differs (refresh with -update and review the diff)\n--- want\n%s\n+++ got\n%s", path, want, actual)
	}
}
