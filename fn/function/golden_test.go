package function

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the actual output")

// TestResultsGolden fixes the wire form of the results the function
// writes into the ResourceList (severity, message, resourceRef, file, tags)
// for every kind of engine report, independent of any config.
func TestResultsGolden(t *testing.T) {
	deployment := yaml.MustParse(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    internal.config.kubernetes.io/path: apps/web.yaml
    internal.config.kubernetes.io/index: "1"
`)
	pod := yaml.MustParse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n")
	unnamed := yaml.MustParse("apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: batch-\n  namespace: jobs\n")
	fc := yaml.MustParse(`apiVersion: sidecar-injector.dev/v1alpha1
kind: SidecarInjector
metadata:
  name: platform
  annotations:
    config.kubernetes.io/path: sidecars.yaml
`)
	var results framework.Results
	results = append(results, ReportResults(&engine.Report{
		Workload: true,
		Injected: []engine.Injection{
			{Mutation: "logging", InitContainers: []string{"log-spool-init"}, Containers: []string{"log-shipper"}, Volumes: []string{"log-spool"}},
			{Mutation: "egress", Upgraded: true, InitContainers: []string{"egress-proxy"}},
		},
		Warnings: []engine.Warning{{Mutation: "logging", Message: `the pod already has a container "log-shipper"; the pod's own definition wins`}},
	}, deployment, fileFromAnnotations(deployment))...)
	results = append(results, ReportResults(&engine.Report{
		Workload: true,
		Errors:   []error{&engine.MutationError{Mutation: "vault", Sidecar: "vault-agent", Err: errors.New("template line 1: the pod needs a vault.example.com/role annotation")}},
	}, pod, fileFromAnnotations(pod))...)
	results = append(results, ReportResults(&engine.Report{
		Workload: true,
		Injected: []engine.Injection{{Mutation: "logging", Containers: []string{"log-shipper"}}},
	}, unnamed, fileFromAnnotations(unnamed))...)
	results = append(results, ConfigErrorResults(errors.Join(
		errors.New(`sidecars.yaml:12:5: unknown field "containerz" (did you mean "containers"?)`),
		errors.New(`sidecars.yaml:20:7: mutation "egress" names sidecar "no-such-sidecar", which is not defined`),
	), fc)...)

	actual, err := yaml.Marshal(results)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "results.golden.yaml")
	if *update {
		if err := os.WriteFile(path, actual, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if string(want) != string(actual) {
		t.Errorf("%s differs (refresh with -update and review the diff)\n--- want\n%s\n+++ got\n%s", path, want, actual)
	}
}
