//go:build !linux

package e2e

import "os/exec"

// dieWithParent does nothing where the kernel offers no parent-death
// signal; t.Cleanup still stops the process when the test ends normally.
func dieWithParent(*exec.Cmd) {}
