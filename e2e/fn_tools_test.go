// Helpers of the KRM function's end-to-end tests (fn_*_test.go): where the
// binaries and tools are, how to run them, and golden blocks in the
// examples' READMEs.
//
// The tests run the real tools over the examples in examples/kustomize and
// examples/kpt: the examples are the fixtures, and the output their READMEs
// show is checked here, so the docs cannot rot. Refresh it after a
// deliberate change with
//
//	go test ./e2e/ -run 'TestFn' -update
//
// and review the diff. `make test` builds the binaries and installs the tools
// first and passes their paths in SIDECAR_FN_* variables; without them the
// tests look in bin/ at the repository root. A missing tool fails the test
// under CI=true and skips it loudly elsewhere.
package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func init() {
	// Shared by the golden tests of this package; another file may have
	// defined it first.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files and README output blocks from the actual output")
	}
}

// fnUpdate reports whether goldens are to be rewritten.
func fnUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fnRepoRoot is the repository root (this file is in e2e/).
func fnRepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository root")
	}
	return filepath.Dir(filepath.Dir(file))
}

// fnMissing stops a test whose tool is missing: a failure under CI=true (a
// skipped check must never pass as a green run), a loud skip elsewhere.
func fnMissing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("MISSING TOOL (CI=true, so this fails): %s", msg)
	}
	t.Skipf("!!! SKIPPED, MISSING TOOL: %s (under CI=true this fails)", msg)
}

// fnTool finds an executable: the path in env when set, else rel under
// the repository root, else name on PATH (rel or name may be empty).
func fnTool(t testing.TB, env, rel, name, hint string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			fnMissing(t, "%s=%s: %v (%s)", env, p, err, hint)
		}
		return p
	}
	if rel != "" {
		p := filepath.Join(fnRepoRoot(t), rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if name != "" {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	fnMissing(t, "no %s (set %s, or %s)", firstNonEmpty(rel, name), env, hint)
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// fnBinary is bin/sidecar-injector-fn as built by `make build`.
func fnBinary(t testing.TB) string {
	return fnTool(t, "SIDECAR_FN_BIN", "bin/sidecar-injector-fn", "", "run make build")
}

// fnKustomize is the pinned kustomize.
func fnKustomize(t testing.TB) string {
	return fnTool(t, "SIDECAR_FN_KUSTOMIZE", "bin/kustomize", "", "run make fn-kustomize")
}

// fnKpt is kpt from the machine's PATH.
func fnKpt(t testing.TB) string {
	return fnTool(t, "SIDECAR_FN_KPT", "", "kpt", "install kpt 1.0.0-beta.56")
}

// fnBinDir is a folder holding only sidecar-injector-fn (a link to the
// built binary), to put first on PATH for kpt, which finds exec functions by
// name.
func fnBinDir(t testing.TB) string {
	t.Helper()
	bin := fnBinary(t)
	dir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(dir, "sidecar-injector-fn")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fnResult is what a command did.
type fnResult struct {
	Stdout, Stderr string
	Err            error
}

// fnRun runs a command in dir with extra environment and returns its output;
// it does not judge the exit status.
func fnRun(t testing.TB, dir string, env []string, name string, args ...string) fnResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return fnResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// fnMustRun is fnRun that fails the test unless the command succeeds.
func fnMustRun(t testing.TB, dir string, env []string, name string, args ...string) fnResult {
	t.Helper()
	r := fnRun(t, dir, env, name, args...)
	if r.Err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r
}

// fnPathWith returns a PATH environment entry with dirs first.
func fnPathWith(dirs ...string) string {
	return "PATH=" + strings.Join(append(dirs, os.Getenv("PATH")), string(os.PathListSeparator))
}

// fnGoldenBlock checks that the fenced block named name in the Markdown file
// (between "<!-- BEGIN name -->" and "<!-- END name -->") holds actual, or
// rewrites it under -update. mask, when set, is applied to both sides before
// comparing (for timings).
func fnGoldenBlock(t testing.TB, file, name, lang, actual string, mask func(string) string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- BEGIN "+name+" -->\n", "<!-- END "+name+" -->"
	i := bytes.Index(data, []byte(begin))
	j := bytes.Index(data, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s: no block %q (want %q ... %q)", file, name, begin, end)
	}
	body := "```" + lang + "\n" + strings.TrimRight(actual, "\n") + "\n```\n"
	current := string(data[i+len(begin) : j])
	if fnUpdate() {
		if current != body {
			out := append([]byte{}, data[:i+len(begin)]...)
			out = append(out, body...)
			out = append(out, data[j:]...)
			if err := os.WriteFile(file, out, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("updated block %q of %s", name, file)
		}
		return
	}
	if mask == nil {
		mask = func(s string) string { return s }
	}
	if mask(current) != mask(body) {
		t.Errorf("%s: block %q differs from the actual output (refresh with -update and review the diff)\n--- README\n%s\n+++ actual\n%s",
			file, name, current, body)
	}
}

// fnMaskTimings replaces kpt's durations ("in 300ms") with "in <t>".
var fnTimingRE = regexp.MustCompile(`in [0-9.]+(ms|s|µs|m)`)

func fnMaskTimings(s string) string { return fnTimingRE.ReplaceAllString(s, "in <t>") }

// fnCopyDir copies a folder tree (regular files only) into a new temp dir
// and returns it.
func fnCopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// fnReadDir reads every regular file of a folder tree, by relative path.
func fnReadDir(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
