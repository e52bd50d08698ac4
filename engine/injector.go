package engine

import (
	"crypto/sha256"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/sidecar-injector/sidecar-injector/engine/config"
)

// Injector injects the sidecars of one loaded configuration. It is
// immutable and safe for concurrent use; to change the configuration, load
// a new Injector.
type Injector struct {
	cfg           *config.Config
	staticDigests map[*config.Definition][sha256.Size]byte
	podReads      *podReads

	// hashScratch holds the buffers that a mutation's hash is taken over
	// (a few KiB for each injection, dropped right after): reused, they
	// are not garbage for every request the webhook serves.
	hashScratch sync.Pool
}

// Load reads config documents in any of the three forms (native
// SidecarInjector, the old injector's sidecar and mutation files, the old
// Helm chart's ConfigMap) and merges them. The error, when there is one,
// lists every problem found, each with its file and line.
func Load(sources ...config.Source) (*Injector, error) {
	cfg, err := config.Load(sources...)
	if err != nil {
		return nil, err
	}
	return &Injector{cfg: cfg, staticDigests: staticDigests(cfg), podReads: newPodReads(cfg)}, nil
}

// LoadFiles loads config files and folders (a mounted ConfigMap, with its
// "..data" links, is a folder).
func LoadFiles(paths ...string) (*Injector, error) {
	sources, err := config.ReadFiles(paths...)
	if err != nil {
		return nil, err
	}
	return Load(sources...)
}

// Warnings are problems of the configuration that did not stop it from
// loading: what the old injector accepted but cannot work, such as a
// mutation naming a sidecar that does not exist. Show them to the user.
func (in *Injector) Warnings() []*config.Problem { return in.cfg.Warnings }

// Config returns the loaded configuration (read only).
func (in *Injector) Config() *config.Config { return in.cfg }

// Inject applies every mutation that the resource's pod template triggers,
// in config order, and reports what it did. The resource is changed in
// place; when the report carries errors it is left unchanged. A resource
// that is not a workload is never changed (Report.Workload is false).
func (in *Injector) Inject(resource *yaml.RNode, opts Options) *Report {
	return in.inject(resource, opts)
}
