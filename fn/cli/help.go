package cli

// usage is the short form printed after a command-line mistake.
const usage = `Usage:
  sidecar-injector-fn                      KRM function: ResourceList on stdin and stdout
  sidecar-injector-fn CONFIG [FILE...|-]   inject the resources of FILEs (or stdin) and print them
  sidecar-injector-fn --explain CONFIG [FILE...|-]
                                           say, per resource and mutation, injected or why not
  sidecar-injector-fn --check CONFIG [FILE...|-]
                                           inject nothing; print what injecting would change;
                                           exit 1 if anything would (CI of a rendered repo)
  sidecar-injector-fn --help               explain, with examples
  sidecar-injector-fn --version            print the version, commit and Go version
`

// help is printed by --help.
const help = `sidecar-injector-fn injects sidecars (init containers, containers, volumes,
volume mounts, image pull secrets) into Kubernetes workloads whose pod
template carries a mutation's trigger annotation, for example
  logging.example.com/inject: "true"

` + usage + `
As a KRM function (no arguments) it reads a ResourceList on stdin and writes
it back with the workloads injected. Its functionConfig is the injector's
config: a SidecarInjector (apiVersion sidecar-injector.dev/v1alpha1), or the
old injector's ConfigMap whose data holds sidecarconfig.yaml and
mutationconfig.yaml. Every resource passes through; only triggered workloads
(Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob) change. Results: one info per injection,
warnings (unknown trigger value, trigger on the workload's own metadata
instead of its pod template, name clash), errors (bad config or resource).
An error result makes the exit status 1 and kustomize and kpt stop. Errors and
warnings are also printed on stderr.

Standalone (CONFIG given) it loads CONFIG (a file, or a folder such as the old
injector's sidecarconfig.yaml and mutationconfig.yaml), reads the FILEs ("-"
or none: stdin), prints the injected resources on stdout and the results on
stderr. On any error it prints no resources and exits 1.

--explain prints, instead of the resources, one line per workload and
mutation: injected (and why: the trigger's value), current (injected before
from the same config), not injected and why (no trigger, with "did you mean"
for an annotation or label key one edit away; a false value; an ignored
namespace; injected by another injector), skipped or failed with the error.

--check injects nothing: it prints each resource that injecting would change,
with the decisions and a diff, and exits 0 when none would change, 1 when
some would, 2 when it cannot tell (bad usage, config or input). Run it in the
CI of a repo that holds rendered manifests, to fail a change whose manifests
are not rendered with the current config.

Examples:
  # kustomize: a transformer config carrying the function annotation
  #   metadata:
  #     annotations:
  #       config.kubernetes.io/function: |
  #         exec:
  #           path: ./sidecar-injector-fn
  kustomize build --enable-alpha-plugins --enable-exec examples/kustomize

  # kpt: the Kptfile pipeline names the function and its configPath
  kpt fn render --allow-exec examples/kpt
  kpt fn eval --exec ./sidecar-injector-fn --fn-config sidecars.yaml examples/kpt

  # by hand
  sidecar-injector-fn sidecars.yaml deployment.yaml
  kubectl get deploy web -o yaml | sidecar-injector-fn sidecars.yaml -
  sidecar-injector-fn ./old-injector-config/ pod.yaml   # sidecarconfig.yaml + mutationconfig.yaml
  sidecar-injector-fn --explain sidecars.yaml deployment.yaml
  sidecar-injector-fn --check sidecars.yaml rendered/*.yaml

Exit status: 0 done, 1 an error (config, input or injection), 2 bad usage;
with --check: 0 up to date, 1 something would change, 2 any error.
`
