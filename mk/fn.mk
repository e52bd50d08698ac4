# KRM function (fn/): the pinned kustomize, the function's container image,
# the benchmark against an identity function and the demo.
#
#   make fn-kustomize   install the pinned kustomize into bin/ (cheap when present)
#   make fn-image       build the function image with podman (installs podman when root)
#   make fn-bench       the function vs an identity KRM function, as ratios
#   make fn-demo        kustomize build of examples/kustomize
#
# `make test` gets kustomize and the image through TEST_DEPS and tells the
# e2e tests where everything is through TEST_ENV.

FN_KUSTOMIZE_VERSION := v5.8.1
FN_KUSTOMIZE         := $(BIN)/kustomize
FN_IDENTITY          := $(BIN)/krm-identity-fn
FN_IDENTITY_KRMIO    := $(BIN)/krm-identity-krmio-fn
FN_IDENTITY_LINKED   := $(BIN)/krm-identity-linked-fn
FN_IDENTITY_CONTRACT := $(BIN)/krm-identity-contract-fn
FN_BENCH             := $(BIN)/bench-fn
FN_CACHE             := $(CURDIR)/.cache/fn
# Shared by every checkout on the machine, like the images' tags: the lock
# that serializes image builds and the Go build cache they mount (a fresh
# clone then builds its images in seconds, not minutes).
IMAGE_BUILD_CACHE    ?= $(HOME)/.cache/sidecar-injector/image-build
FN_IMAGE             ?= localhost/sidecar-injector-fn:dev
FN_BUILDER_IMAGE     := localhost/golang:local
FN_BASE_IMAGE        := localhost/static-nonroot:local
# podman in this sandbox needs a containers.conf selected by environment
# (see docs/fn.md); kustomize calls `docker`, so a shim dir goes first on PATH.
FN_CONTAINERS_CONF   := $(FN_CACHE)/containers.conf
FN_DOCKER_SHIM       := $(FN_CACHE)/docker-shim
FN_PODMAN_ENV        := CONTAINERS_CONF=$(FN_CONTAINERS_CONF)

.PHONY: fn-kustomize
fn-kustomize: ## install the pinned kustomize into bin/ (cheap when already there)
	@if [ -x "$(FN_KUSTOMIZE)" ] && [ "$$("$(FN_KUSTOMIZE)" version 2>/dev/null)" = "$(FN_KUSTOMIZE_VERSION)" ]; then \
	  echo "fn: kustomize $(FN_KUSTOMIZE_VERSION) is in bin/"; \
	else \
	  echo "fn: installing kustomize $(FN_KUSTOMIZE_VERSION) into bin/"; \
	  GOBIN="$(BIN)" $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(FN_KUSTOMIZE_VERSION); \
	fi

.PHONY: fn-identity
fn-identity: ## build the identity KRM function (the benchmark's floor) and its reference variants into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -o $(FN_IDENTITY) ./hack/bench-fn/identity
	CGO_ENABLED=0 $(GO) build -trimpath -o $(FN_IDENTITY_KRMIO) ./hack/bench-fn/identity-krmio
	CGO_ENABLED=0 $(GO) build -trimpath -tags linked -o $(FN_IDENTITY_LINKED) ./hack/bench-fn/identity
	CGO_ENABLED=0 $(GO) build -trimpath -tags contract -o $(FN_IDENTITY_CONTRACT) ./hack/bench-fn/identity
	CGO_ENABLED=0 $(GO) build -trimpath -o $(FN_BENCH) ./hack/bench-fn

.PHONY: fn-bench
fn-bench: $(BIN)/sidecar-injector-fn fn-identity ## the function vs the identity function: 10,000 workloads and 1 workload, wall time and peak memory as ratios
	$(FN_BENCH) -fn $(BIN)/sidecar-injector-fn -identity $(FN_IDENTITY) \
	  -reference "identity with fn/krmio's writer=$(FN_IDENTITY_KRMIO)" \
	  -reference "identity with the engine linked, unused=$(FN_IDENTITY_LINKED)" \
	  -reference "the contract's floor: identity able to run a text/template over a core/v1 Pod, unused=$(FN_IDENTITY_CONTRACT)" \
	  -config examples/kustomize/sidecar-injector.yaml -trigger logging.example.com/inject \
	  | tee $(BIN)/bench-fn.txt

.PHONY: fn-demo
fn-demo: $(BIN)/sidecar-injector-fn fn-kustomize ## inject examples/kustomize with the pinned kustomize and print the result
	@echo '$$ kustomize build --enable-alpha-plugins --enable-exec examples/kustomize'
	@"$(FN_KUSTOMIZE)" build --enable-alpha-plugins --enable-exec examples/kustomize

# fn-podman installs podman when it is missing (apt-get, as root) and writes
# the containers.conf and the docker shim. When podman cannot be had it says
# so loudly; under CI=true that fails the build, elsewhere the container
# tests then fail or skip with the same message.
.PHONY: fn-podman
fn-podman:
	@set -eu; mkdir -p "$(FN_DOCKER_SHIM)"; \
	printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n' > "$(FN_CONTAINERS_CONF)"; \
	printf '#!/bin/sh\n# kustomize runs container functions with docker; podman answers.\nexec podman "$$@"\n' > "$(FN_DOCKER_SHIM)/docker"; \
	chmod +x "$(FN_DOCKER_SHIM)/docker"; \
	if ! command -v podman >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "fn: installing podman with apt-get"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman crun runc fuse-overlayfs slirp4netns uidmap >/dev/null) || true; \
	  fi; \
	fi; \
	if ! command -v podman >/dev/null; then \
	  echo "!!! fn: PODMAN IS NOT AVAILABLE and could not be installed: the function image cannot be built or run; the container e2e tests will fail (CI) or skip !!!" >&2; \
	  if [ "$${CI:-}" = true ]; then exit 1; fi; \
	fi

# The build runs under a lock (two `make test` at once must not race), from
# a build context staged in a fresh temp folder, with the machine's module
# cache mounted read-only (no network) and a Go build cache kept between
# builds in IMAGE_BUILD_CACHE.
.PHONY: fn-image
fn-image: fn-podman ## build the function image from Dockerfile.fn with podman and local stand-ins for the base images
	@set -eu; \
	if ! command -v podman >/dev/null; then echo "fn: no podman, image not built" >&2; exit 0; fi; \
	export $(FN_PODMAN_ENV); \
	mkdir -p "$(IMAGE_BUILD_CACHE)/gocache"; exec 9>"$(IMAGE_BUILD_CACHE)/.lock"; flock 9; \
	if ! podman image exists $(FN_BUILDER_IMAGE); then \
	  echo "fn: importing the machine's Go toolchain as $(FN_BUILDER_IMAGE)"; \
	  tar -C "$$($(GO) env GOROOT)/.." -cf - "$$(basename "$$($(GO) env GOROOT)")" | podman import -q - $(FN_BUILDER_IMAGE) >/dev/null; \
	fi; \
	if ! podman image exists $(FN_BASE_IMAGE); then \
	  echo "fn: building $(FN_BASE_IMAGE), a stand-in for distroless/static:nonroot"; \
	  d="$(FN_CACHE)/base"; mkdir -p "$$d/etc"; \
	  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$$d/etc/passwd"; \
	  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "$$d/etc/group"; \
	  printf 'FROM scratch\nCOPY etc/ /etc/\n' > "$$d/Containerfile"; \
	  podman build -q -t $(FN_BASE_IMAGE) -f "$$d/Containerfile" "$$d" >/dev/null; \
	fi; \
	ctx=$$(mktemp -d "$(FN_CACHE)/context.XXXXXX"); trap 'rm -rf "$$ctx"' EXIT; \
	cp go.mod go.sum "$$ctx/"; cp -r api engine internal fn "$$ctx/"; \
	echo "fn: building $(FN_IMAGE) from Dockerfile.fn"; start=$$(date +%s); \
	podman build -q -t $(FN_IMAGE) -f Dockerfile.fn \
	  --build-arg BUILDER=$(FN_BUILDER_IMAGE) --build-arg BASE=$(FN_BASE_IMAGE) --build-arg GOPROXY=off \
	  --build-arg VERSION="$(VERSION)" --build-arg COMMIT="$(COMMIT)" \
	  -v "$$($(GO) env GOMODCACHE):/gomodcache:ro" -v "$(IMAGE_BUILD_CACHE)/gocache:/tmp/gocache" "$$ctx" >/dev/null; \
	echo "fn: built $(FN_IMAGE) in $$(( $$(date +%s) - start ))s"

TEST_DEPS  += fn-kustomize fn-image
TEST_ENV   += SIDECAR_FN_BIN="$(BIN)/sidecar-injector-fn" SIDECAR_FN_KUSTOMIZE="$(FN_KUSTOMIZE)" \
              SIDECAR_FN_IMAGE="$(FN_IMAGE)" \
              CONTAINERS_CONF="$(FN_CONTAINERS_CONF)"
BENCH_DEPS += fn-identity
BENCH_RUNS += $(MAKE) --no-print-directory fn-bench || exit 1;
DEMO_DEPS  += fn-kustomize
DEMO_RUNS  += $(MAKE) --no-print-directory fn-demo || exit 1;
