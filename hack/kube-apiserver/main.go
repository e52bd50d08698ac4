// Command kube-apiserver is the upstream Kubernetes API server, built from
// the Go module proxy for the project's envtest-based e2e tests (see
// mk/envtest.mk). It adds nothing of its own: the command, its flags and its
// defaults are upstream's. The version it reports is set at link time.
package main

import (
	"os"
	// CronJob time zones validate without depending on the host's zoneinfo.
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	// --logging-format=json, as in the upstream binary.
	_ "k8s.io/component-base/logs/json/register"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
