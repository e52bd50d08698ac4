# sidecar-injector: one engine, two front ends (a KRM function and an
# admission webhook). `make help` lists the targets.
#
# Go comes from the machine; every other tool is pinned and installed into
# bin/ (or, for the slow kube-apiserver build, into a cache folder) by the
# targets that need it.

SHELL        := /usr/bin/env bash -o pipefail
GO           ?= go
BIN          := $(CURDIR)/bin
export GOTOOLCHAIN := local

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort | \
	  awk 'BEGIN{FS=":.*## "}{printf "  %-18s %s\n", $$1, $$2}'

# --version and the webhook's build_info metric say which build runs. The
# go command stamps the commit only in a plain git clone (not in a worktree,
# nor where GOFLAGS holds -buildvcs=false), so the build passes it to the
# linker, with `git describe` as the version (see internal/buildinfo).
# Override them for a release: make build VERSION=v1.2.0.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILDINFO := github.com/sidecar-injector/sidecar-injector/internal/buildinfo
LDFLAGS   := -X $(BUILDINFO).version=$(VERSION) -X $(BUILDINFO).commit=$(COMMIT)

.PHONY: build
build: $(BIN)/sidecar-injector-fn $(BIN)/sidecar-injector-webhook ## build both binaries into bin/

$(BIN)/sidecar-injector-%: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./$*

FORCE:

.PHONY: unit
unit: ## run the Go unit and golden tests of the engine and adapters (no external tools)
	$(GO) test ./api/... ./engine/... ./fn/... ./webhook/...

# Imports come in three groups, in this order: the standard library, other
# modules, this module (goimports -local). The pinned goimports checks it.
MODULE            := github.com/sidecar-injector/sidecar-injector
GOIMPORTS_VERSION := v0.52.0
GOIMPORTS         := $(BIN)/goimports-$(GOIMPORTS_VERSION)

$(GOIMPORTS):
	GOBIN=$(BIN) $(GO) install golang.org/x/tools/cmd/goimports@$(GOIMPORTS_VERSION)
	mv $(BIN)/goimports $@

.PHONY: lint
lint: $(GOIMPORTS) ## gofmt, import groups (goimports) and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@out=$$($(GOIMPORTS) -local $(MODULE) -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then \
	  echo "imports not grouped as standard library, other modules, $(MODULE) (fix: $(GOIMPORTS) -local $(MODULE) -w FILE):"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Every fuzz target, as package:target. Their seed corpora run in every
# `go test`; this target explores beyond them.
FUZZ_TARGETS := ./engine:FuzzInject ./engine/internal/model:FuzzLoad \
	./internal/jsonnode:FuzzRoundTrip ./internal/jsonnode:FuzzAppendString ./engine/internal/template:FuzzParseExecute \
	./webhook/mutate:FuzzPatch ./webhook/admission:FuzzServeHTTP

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $${t%%:*} $${t##*:}"; \
	  $(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(or $(FUZZTIME),30s); \
	done

.PHONY: clean
clean: ## remove bin/ and test caches
	rm -rf $(BIN)
	$(GO) clean -testcache

# Fragments: each front end and each test harness keeps its targets beside
# the others' in mk/. They add prerequisites to the test, bench and demo
# targets below.
include $(wildcard mk/*.mk)

.PHONY: golden
golden: build $(TEST_DEPS) ## regenerate generated files (go generate), refresh every golden file and the examples' output blocks (review the diff before committing)
	$(GO) generate ./...
	$(GO) test ./engine ./fn/cli ./fn/function -count=1 -update
	$(TEST_ENV) $(GO) test ./e2e -run 'TestFn|TestHelmChartTemplate' -count=1 -update

.PHONY: test
test: lint build $(TEST_DEPS) ## pass every test under the race detector: unit, golden, fuzz seeds, e2e against real kustomize, kpt and kube-apiserver
	$(TEST_ENV) $(GO) test -race ./... -count=1 -timeout 40m

.PHONY: bench
bench: build $(BENCH_DEPS) ## Go benchmarks plus the load runs, with floors measured in the same run
	$(GO) test ./engine/... -run '^$$' -bench . -benchmem -count 5 | tee $(BIN)/bench-engine.txt
	$(BENCH_RUNS)

.PHONY: demo
demo: build $(DEMO_DEPS) ## inject the bundled example and show the result
	$(DEMO_RUNS)
