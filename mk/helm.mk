# Helm chart (charts/sidecar-injector/): the pinned helm, the chart's lint
# and template goldens, and what `make test` needs for the chart's e2e test.
#
#   make helm          install the pinned helm into bin/ (cheap when present)
#   make helm-lint     helm lint the chart with each values set of its goldens
#   make helm-demo     helm template the chart with its defaults
#
# The goldens (charts/sidecar-injector/testdata/) refresh with `make golden`.

HELM_VERSION := v4.3.2
HELM         := $(BIN)/helm
HELM_CHART   := charts/sidecar-injector

.PHONY: helm
helm: ## install the pinned helm into bin/ (cheap when already there)
	@# A go-installed helm says only "v4.3" itself: its module version is in the binary.
	@if [ -x "$(HELM)" ] && [ "$$($(GO) version -m "$(HELM)" 2>/dev/null | awk '$$1 == "mod" { print $$3 }')" = "$(HELM_VERSION)" ]; then \
	  echo "helm: $(HELM_VERSION) is in bin/"; \
	else \
	  echo "helm: installing $(HELM_VERSION) into bin/"; \
	  GOBIN="$(BIN)" $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION); \
	fi

.PHONY: helm-lint
helm-lint: helm ## helm lint the chart, with its defaults and with each values set of its goldens
	"$(HELM)" lint --strict $(HELM_CHART)
	@set -e; for v in $(HELM_CHART)/testdata/*.values.yaml; do \
	  echo "helm lint --strict -f $$v"; "$(HELM)" lint --strict --quiet $(HELM_CHART) -f "$$v"; \
	done

.PHONY: helm-demo
helm-demo: helm ## print the chart's manifests with its defaults (helm template)
	@echo '$$ helm template sidecar-injector $(HELM_CHART) --namespace sidecar-injector'
	@"$(HELM)" template sidecar-injector $(HELM_CHART) --namespace sidecar-injector

TEST_DEPS  += helm
TEST_ENV   += SIDECAR_HELM="$(HELM)"
