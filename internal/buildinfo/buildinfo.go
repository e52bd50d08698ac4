// Package buildinfo says which build of the injector is running, for the
// binaries' --version and the webhook's sidecar_injector_build_info metric.
//
// The go command stamps the module version into every binary, and the
// commit when it builds in a git clone (unless -buildvcs=false). Builds
// that have no .git to read, such as an image build's context or a git
// worktree (whose .git is a file the go command does not follow), get them
// from the linker instead; `make build` and the Dockerfiles pass them:
//
//	go build -ldflags "-X github.com/sidecar-injector/sidecar-injector/internal/buildinfo.version=v1.2.0 \
//	    -X github.com/sidecar-injector/sidecar-injector/internal/buildinfo.commit=$(git rev-parse HEAD)" ./fn
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by the linker (-X); empty when the build did not pass them.
var version, commit string

// Info identifies a build.
type Info struct {
	// Version is the module version: a tag, `git describe` (make build),
	// a pseudo-version, or "(devel)" when the build knew none.
	Version string
	// Commit is the VCS revision, "unknown" when the build knew none.
	Commit string
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// Read returns the running binary's build: what the linker was told, else
// what the go command stamped.
func Read() Info {
	info := Info{Version: "(devel)", Commit: "unknown", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Commit = s.Value
			}
		}
	}
	if version != "" {
		info.Version = version
	}
	if commit != "" {
		info.Commit = commit
	}
	return info
}

// String is the --version line: `v1.2.0 (commit 0123abc..., go1.26.0)`.
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}
