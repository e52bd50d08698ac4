package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestVersion: the binaries `make build` made, and the images built from
// the Dockerfiles, say which commit they come from (the go command stamps
// none in a worktree or an image build: the build passes it, see
// internal/buildinfo).
func TestVersion(t *testing.T) {
	head := strings.TrimSpace(fnMustRun(t, fnRepoRoot(t), nil, "git", "rev-parse", "HEAD").Stdout)
	// commit is the binary's; an image, whose tag the machine shares, may
	// come from another checkout: any commit will do.
	check := func(t *testing.T, name, out, commit string) {
		t.Helper()
		version, rest, _ := strings.Cut(strings.TrimPrefix(out, name+" "), " ")
		if !strings.HasPrefix(out, name+" ") || version == "" || version == "(devel)" ||
			!regexp.MustCompile(`^\(commit `+commit+`, go[0-9.]+\)\n$`).MatchString(rest) {
			t.Errorf("--version printed %q, want %q, a version, then (commit %s, go...) (built before the last commit? make build)", out, name, commit)
		}
	}
	binaries := map[string]func(testing.TB) string{"sidecar-injector-fn": fnBinary, "sidecar-injector-webhook": webhookBinary}
	for name, bin := range binaries {
		t.Run(name, func(t *testing.T) {
			check(t, name, fnMustRun(t, "", nil, bin(t), "--version").Stdout, head)
		})
	}
	images := map[string]string{
		"sidecar-injector-fn":      firstNonEmpty(os.Getenv("SIDECAR_FN_IMAGE"), fnDefaultImage),
		"sidecar-injector-webhook": firstNonEmpty(os.Getenv("SIDECAR_WEBHOOK_IMAGE"), webhookDefaultImage),
	}
	for name, image := range images {
		t.Run(name+" image", func(t *testing.T) {
			podman, conf := podmanSetup(t, "the image "+image)
			env := []string{"CONTAINERS_CONF=" + conf}
			if r := fnRun(t, "", env, podman, "image", "exists", image); r.Err != nil {
				fnMissing(t, "image %s not found by podman (%v %s); run make fn-image webhook-image", image, r.Err, r.Stderr)
			}
			check(t, name, fnMustRun(t, "", env, podman, "run", "--rm", image, "--version").Stdout, "[0-9a-f]{40}")
		})
	}
}
