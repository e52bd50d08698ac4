package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestDuplicateKeys: through the KRM function, a key present twice reads
// as the API server reads it, the last one wins: the pod whose trigger is
// "false" then "true" is injected, its templates reading the last values;
// the one with "true" then "false" is not.
func TestDuplicateKeys(t *testing.T) {
	cfg, err := os.ReadFile("../../engine/testdata/duplicate-keys/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pods, err := os.ReadFile("../../engine/testdata/duplicate-keys/input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	indent := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  ") }
	var items []string
	for _, doc := range strings.Split(string(pods), "---\n") {
		items = append(items, "- "+indent(doc))
	}
	rl := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + strings.Join(items, "\n") + "\nfunctionConfig:\n  " + indent(string(cfg)) + "\n"
	var stdout, stderr bytes.Buffer
	if code := Run(nil, strings.NewReader(rl), &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d:\n%s\n%s", code, stderr.String(), rl)
	}
	out := stdout.String()
	first, second, ok := strings.Cut(out, "name: true-then-false")
	if !ok {
		t.Fatalf("no true-then-false pod in the output:\n%s", out)
	}
	squeeze := strings.NewReplacer(" ", "", "\n", "")
	for _, want := range []string{"x.io/status:injected", `-name:INJECTvalue:"true"`, "-name:TEAMvalue:last"} {
		if !strings.Contains(squeeze.Replace(first), want) {
			t.Errorf("the false-then-true pod does not hold %q:\n%s", want, first)
		}
	}
	second, _, _ = strings.Cut(second, "functionConfig:")
	if strings.Contains(second, "x.io/status") || strings.Contains(second, "shipper") {
		t.Errorf("the true-then-false pod was injected:\n%s", second)
	}
}
