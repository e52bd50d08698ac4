//go:build contract

// Built with -tags contract, the identity can also render a Go text/template
// with sprig's functions over a core/v1 Pod, and the benchmark never asks it
// to: a reference point (krm-identity-contract-fn), the contract's floor.
// docs/design.md ("Templates") makes sidecar definitions Go
// text/templates with sprig's functions whose data is the whole pod as a
// core/v1 Pod; any implementation of the function pays what this binary
// pays before it reads its first resource, so the benchmark can tell that
// price from the function's own.
//
// What it pays over the plain identity:
//
//   - the package initializers of k8s.io/api/core/v1 (with the apimachinery
//     it brings) and of sprig and its dependencies (semver and decimal
//     compile regular expressions at start), run at every start;
//   - a much larger program. text/template looks a template's methods up by
//     name at run time (reflect's MethodByName), so once a template can run
//     the linker must keep every exported method of every type whose values
//     may reach an interface: all of core/v1's generated methods (protobuf
//     marshalling, DeepCopy, String...) and what they call. The machine code
//     grows about 2.7 times (3.5 to 9.3 MB), against 2 times for the engine
//     linked without a template that can run (linked.go), and the runtime's
//     tables with it. The kernel maps the binary in 64 KiB steps around each
//     page the process touches, and the code and tables used at start are
//     spread over a larger file, so the same start touches more of it: most
//     of this binary's extra peak memory is pages of its own file.
//
// The render path is real (renderPodTemplate), so the linker cannot drop
// it; the benchmark just never passes the flag. It does not link the engine:
// the engine's own packages are the function's cost, not the contract's.

package main

import (
	"fmt"
	"os"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	corev1 "k8s.io/api/core/v1"
)

// renderFlag makes the binary render its argument, a template with the
// contract's delimiters and functions, over an empty Pod and exit:
//
//	krm-identity-contract-fn --render-pod-template '{% .Spec.ServiceAccountName | default "none" %}'
const renderFlag = "--render-pod-template"

func init() {
	if len(os.Args) == 3 && os.Args[1] == renderFlag {
		os.Exit(renderPodTemplate(os.Args[2]))
	}
}

func renderPodTemplate(text string) int {
	t, err := template.New("sidecar").Delims("{%", "%}").Funcs(sprig.HermeticTxtFuncMap()).Parse(text)
	if err == nil {
		err = t.Execute(os.Stdout, &corev1.Pod{})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
