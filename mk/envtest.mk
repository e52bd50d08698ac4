# envtest assets: the real kube-apiserver and etcd for the e2e tests.
#
# Both are built from the Go module proxy by the wrapper modules in
# hack/kube-apiserver/ and hack/etcd/ (each with its own go.mod and go.sum;
# the main module never depends on k8s.io/kubernetes). The first build takes
# several minutes, so the binaries go to a cache folder outside the repo and
# are reused by every later run and every clone. They are rebuilt only when a
# wrapper's go.mod, go.sum or main.go (or the link flags) change: a content
# hash, not a file time, decides, so a fresh clone does not rebuild.
#
#   make envtest-assets                     build (or reuse) the assets
#   make envtest-assets ENVTEST_CACHE=DIR   use another folder
#   make envtest-print                      print the folder (for KUBEBUILDER_ASSETS)
#   make envtest-clean                      remove the folder
#
# controller-runtime's envtest finds kube-apiserver, etcd and kubectl in
# $KUBEBUILDER_ASSETS; `make test` sets it to the folder.

# The versions are the ones the wrappers' go.mod files require.
envtest_required = $(shell awk '/^[[:space:]]*\/\//{ next } { for (i = 1; i < NF; i++) if ($$i == "$(1)") { print $$(i+1); exit } }' $(2))
ENVTEST_K8S_VERSION  := $(call envtest_required,k8s.io/kubernetes,hack/kube-apiserver/go.mod)
ENVTEST_ETCD_VERSION := $(call envtest_required,go.etcd.io/etcd/server/v3,hack/etcd/go.mod)
ENVTEST_CACHE        ?= $(HOME)/.cache/sidecar-injector/envtest/$(ENVTEST_K8S_VERSION)-etcd-$(ENVTEST_ETCD_VERSION)

# kube-apiserver reports its version from these link-time variables (in both
# places upstream's build sets them). The build date is the release's own
# date from the module proxy, so that the build is reproducible; the commit is
# unknown to a module build and stays empty; "archive" is the tree state
# upstream uses for builds from a source archive.
ENVTEST_K8S_MAJOR := $(word 1,$(subst ., ,$(patsubst v%,%,$(ENVTEST_K8S_VERSION))))
ENVTEST_K8S_MINOR := $(word 2,$(subst ., ,$(patsubst v%,%,$(ENVTEST_K8S_VERSION))))
ENVTEST_VERSION_PKGS := k8s.io/component-base/version k8s.io/client-go/pkg/version
envtest_x = $(foreach p,$(ENVTEST_VERSION_PKGS),-X $(p).$(1)=$(2))
ENVTEST_APISERVER_LDFLAGS = -s -w \
	$(call envtest_x,gitVersion,$(ENVTEST_K8S_VERSION)) \
	$(call envtest_x,gitMajor,$(ENVTEST_K8S_MAJOR)) \
	$(call envtest_x,gitMinor,$(ENVTEST_K8S_MINOR)) \
	$(call envtest_x,gitCommit,) \
	$(call envtest_x,gitTreeState,archive) \
	$(call envtest_x,buildDate,$$BUILD_DATE)
ENVTEST_ETCD_LDFLAGS = -s -w

ENVTEST_KUBECTL ?= $(shell command -v kubectl 2>/dev/null)

# envtest_build(name, wrapper dir, ldflags): build one binary into the cache
# unless the stamp next to it matches the hash of its inputs. Builds to a
# temporary name and renames at the end, so an interrupted build never leaves
# a half-written binary; a lock makes a second `make` running at the same time
# wait for the first instead of building twice.
define envtest_build
	@set -euo pipefail; \
	mkdir -p "$(ENVTEST_CACHE)"; \
	exec 9>"$(ENVTEST_CACHE)/.$(1).lock"; flock 9; \
	sum=$$( { cat $(2)/go.mod $(2)/go.sum $(2)/main.go; echo '$(3)'; $(GO) env GOOS GOARCH; $(GO) version; } | sha256sum | cut -d' ' -f1); \
	if [ -x "$(ENVTEST_CACHE)/$(1)" ] && [ "$$(cat "$(ENVTEST_CACHE)/.$(1).sum" 2>/dev/null)" = "$$sum" ]; then \
	  echo "envtest: $(1) is up to date in $(ENVTEST_CACHE)"; exit 0; \
	fi; \
	echo "envtest: building $(1) from $(2) into $(ENVTEST_CACHE) (several minutes the first time)"; \
	start=$$(date +%s); \
	rm -f "$(ENVTEST_CACHE)/.$(1).tmp."*; \
	tmp="$(ENVTEST_CACHE)/.$(1).tmp.$$$$"; trap 'rm -f "$$tmp"' EXIT; \
	BUILD_DATE=$$(cd $(2) && $(GO) list -mod=readonly -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes 2>/dev/null || true); \
	(cd $(2) && CGO_ENABLED=0 $(GO) build -mod=readonly -trimpath -ldflags "$(3)" -o "$$tmp" .); \
	mv -f "$$tmp" "$(ENVTEST_CACHE)/$(1)"; \
	echo "$$sum" > "$(ENVTEST_CACHE)/.$(1).sum"; \
	echo "envtest: built $(1) in $$(( $$(date +%s) - start ))s"
endef

.PHONY: envtest-assets
envtest-assets: envtest-kube-apiserver envtest-etcd ## build (once) the real kube-apiserver and etcd for the e2e tests into ENVTEST_CACHE
	@set -eu; \
	if [ -n "$(ENVTEST_KUBECTL)" ]; then \
	  ln -sfn "$(ENVTEST_KUBECTL)" "$(ENVTEST_CACHE)/kubectl"; \
	else \
	  echo "envtest: warning: no kubectl on PATH; tests that need it will skip" >&2; \
	fi; \
	"$(ENVTEST_CACHE)/kube-apiserver" --version; \
	"$(ENVTEST_CACHE)/etcd" --version | sed -n 1p; \
	echo "envtest: KUBEBUILDER_ASSETS=$(ENVTEST_CACHE)"

# The two builds are independent targets so that `make -j2` runs them side by side.
.PHONY: envtest-kube-apiserver envtest-etcd
envtest-kube-apiserver:
	$(call envtest_build,kube-apiserver,hack/kube-apiserver,$(ENVTEST_APISERVER_LDFLAGS))

envtest-etcd:
	$(call envtest_build,etcd,hack/etcd,$(ENVTEST_ETCD_LDFLAGS))

.PHONY: envtest-print
envtest-print: ## print the envtest assets folder (export KUBEBUILDER_ASSETS=$(make -s envtest-print))
	@echo "$(ENVTEST_CACHE)"

.PHONY: envtest-clean
envtest-clean: ## remove the envtest assets folder
	rm -rf "$(ENVTEST_CACHE)"

TEST_DEPS += envtest-assets
TEST_ENV  += KUBEBUILDER_ASSETS="$(ENVTEST_CACHE)"
