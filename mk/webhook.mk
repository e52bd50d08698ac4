# Admission webhook (webhook/): its load benchmark against a no-op webhook,
# its container image, and what `make test` needs to run its tests.
#
#   make webhook-bench   the webhook vs the no-op webhook (same server stack,
#                        admits unchanged) under the same load in the same
#                        run: 32 clients, alternating rounds, ratios printed
#   make webhook-flood   the webhook under eight 4 MB pods at once (half of
#                        them triggered) while ordinary pods keep coming, with
#                        the example Deployment's memory settings: peak RSS
#                        against its limit, ordinary pods' p99, RSS after
#   make webhook-image   build Dockerfile.webhook with podman and local
#                        stand-ins for the base images (see docs/webhook.md)
#   make webhook-demo    kustomize build of the deploy manifests

WEBHOOK_BIN      := $(BIN)/sidecar-injector-webhook
WEBHOOK_NOOP     := $(BIN)/webhook-noop
WEBHOOK_LOADGEN  := $(BIN)/webhook-loadgen
WEBHOOK_IMAGE    ?= localhost/sidecar-injector-webhook:dev
WEBHOOK_CACHE    := $(CURDIR)/.cache/webhook
# The benchmark's config and pod are the engine benchmark's: the old
# injector's real sidecars, two mutations (one templated), its real pod.
WEBHOOK_BENCH_CONFIG := engine/testdata/compat/salesforce/sidecarconfigs.yaml engine/testdata/bench/mutations.yaml
WEBHOOK_BENCH_FLAGS  ?= -rounds 5

.PHONY: webhook-loadgen
webhook-loadgen: ## build the webhook's load generator and the no-op webhook (the floor) into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -o $(WEBHOOK_NOOP) ./webhook/loadgen/noopwebhook
	CGO_ENABLED=0 $(GO) build -trimpath -o $(WEBHOOK_LOADGEN) ./webhook/loadgen

.PHONY: webhook-bench
webhook-bench: $(WEBHOOK_BIN) webhook-loadgen ## the webhook vs a no-op webhook under 32 clients: throughput and p99 as ratios
	$(GO) test ./webhook/... -run '^$$' -bench . -benchmem -count 3 | tee $(BIN)/bench-webhook-go.txt
	$(WEBHOOK_LOADGEN) -webhook $(WEBHOOK_BIN) -noop $(WEBHOOK_NOOP) \
	  $(foreach c,$(WEBHOOK_BENCH_CONFIG),-config $(c)) \
	  -review webhook/loadgen/testdata/bench-review.json $(WEBHOOK_BENCH_FLAGS) 2>$(BIN)/bench-webhook-servers.log \
	  | tee $(BIN)/bench-webhook.txt

# The flood runs the webhook with the example Deployment's own memory
# settings, read from it: its memory flags, GOMEMLIMIT, and its limit as
# the goal for peak RSS.
WEBHOOK_DEPLOYMENT  := examples/webhook/deployment.yaml
WEBHOOK_FLOOD_FLAGS ?=

.PHONY: webhook-flood
webhook-flood: $(WEBHOOK_BIN) webhook-loadgen ## the webhook under a flood of large pods with the Deployment's memory settings: peak RSS, ordinary p99
	$(WEBHOOK_LOADGEN) -flood -webhook $(WEBHOOK_BIN) \
	  $(foreach c,$(WEBHOOK_BENCH_CONFIG),-config $(c)) \
	  -review webhook/loadgen/testdata/bench-review.json \
	  $(foreach a,$(shell grep -oE -- '--(max-request-bytes|max-request-memory|request-memory-wait)=[^ ]+' $(WEBHOOK_DEPLOYMENT)),-webhook-arg=$(a)) \
	  -gomemlimit $(shell sed -n '/name: GOMEMLIMIT/{n;s/.*value: *//p;}' $(WEBHOOK_DEPLOYMENT)) \
	  -memory-limit-mib $(shell sed -n '/limits:/{n;s/.*memory: *\([0-9]*\)Mi.*/\1/p;}' $(WEBHOOK_DEPLOYMENT)) \
	  $(WEBHOOK_FLOOD_FLAGS) 2>$(BIN)/bench-webhook-flood-server.log | tee $(BIN)/bench-webhook-flood.txt

.PHONY: webhook-image
webhook-image: fn-image ## build the webhook image from Dockerfile.webhook with podman
	@set -eu; \
	if ! command -v podman >/dev/null; then echo "webhook: no podman, image not built" >&2; exit 0; fi; \
	export $(FN_PODMAN_ENV); \
	mkdir -p "$(IMAGE_BUILD_CACHE)/gocache"; exec 9>"$(IMAGE_BUILD_CACHE)/.lock"; flock 9; \
	ctx="$(WEBHOOK_CACHE)/context"; rm -rf "$$ctx"; mkdir -p "$$ctx"; \
	echo "webhook: building $(WEBHOOK_IMAGE) from Dockerfile.webhook"; start=$$(date +%s); \
	cp go.mod go.sum "$$ctx/"; cp -r api engine internal webhook "$$ctx/"; \
	podman build -q -t $(WEBHOOK_IMAGE) -f Dockerfile.webhook \
	  --build-arg BUILDER=$(FN_BUILDER_IMAGE) --build-arg BASE=$(FN_BASE_IMAGE) --build-arg GOPROXY=off \
	  --build-arg VERSION="$(VERSION)" --build-arg COMMIT="$(COMMIT)" \
	  -v "$$($(GO) env GOMODCACHE):/gomodcache:ro" -v "$(IMAGE_BUILD_CACHE)/gocache:/tmp/gocache" "$$ctx" >/dev/null; \
	echo "webhook: built $(WEBHOOK_IMAGE) in $$(( $$(date +%s) - start ))s"

.PHONY: webhook-demo
webhook-demo: fn-kustomize ## print the webhook's deploy manifests (kustomize build examples/webhook)
	@echo '$$ kustomize build examples/webhook'
	@"$(FN_KUSTOMIZE)" build examples/webhook

TEST_DEPS  += webhook-image
TEST_ENV   += SIDECAR_WEBHOOK_BIN="$(WEBHOOK_BIN)" SIDECAR_WEBHOOK_IMAGE="$(WEBHOOK_IMAGE)"
BENCH_DEPS += webhook-loadgen
BENCH_RUNS += $(MAKE) --no-print-directory webhook-bench || exit 1;
BENCH_RUNS += $(MAKE) --no-print-directory webhook-flood || exit 1;
