# SPDX-License-Identifier: Apache-2.0
# A thin front to CMake and the scripts. `make test` is what CI runs.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
FUZZ_SECONDS ?= 30

.PHONY: all deps build unit sanitize valgrind check format fuzz fuzz-build \
	integration e2e e2e-webhook e2e-dataplane e2e-plugin e2e-deploy e2e-certmanager image image-test demo cluster-up cluster-down smoke bench bench-quick test clean

all: build

deps:
	@scripts/deps

build: deps
	@cmake -S . -B $(BUILD) -DZL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

unit: build
	@ctest --test-dir $(BUILD) --output-on-failure

sanitize: deps
	@cmake -S . -B $(BUILD)-asan -DZL_WERROR=ON -DZL_SANITIZE=ON \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(BUILD)-asan -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(BUILD)-asan --output-on-failure

valgrind: build
	@scripts/valgrind-tests $(BUILD)

# An optimised build too: some warnings (format-truncation, array-bounds)
# only show at -O2.
check: build
	@cmake -S . -B $(BUILD)-release -DZL_WERROR=ON \
		-DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD)-release -j$(JOBS)
	@scripts/check $(BUILD)

format: deps
	@git ls-files '*.c' '*.h' | xargs clang-format -i

fuzz-build: deps
	@cmake -S . -B $(BUILD)-fuzz -DZL_FUZZ=ON -DZL_SANITIZE=ON -DZL_WERROR=ON \
		-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(BUILD)-fuzz -j$(JOBS)

fuzz: fuzz-build
	@scripts/fuzz $(BUILD)-fuzz $(FUZZ_SECONDS)

cluster-up: deps
	@e2e/cluster/up

cluster-down:
	@e2e/cluster/down

smoke: deps
	@e2e/smoke/run

integration: build
	@tests/integration/run $(BUILD)

e2e: build
	@ZL_CONTROLLER_BIN=$(abspath $(BUILD))/controller/zen-lead-controller e2e/controller/run
	@ZL_CONTROLLER_BIN=$(abspath $(BUILD))/controller/zen-lead-controller \
		ZL_WEBHOOK_BIN=$(abspath $(BUILD))/webhook/zen-lead-webhook \
		ZL_WHABUSE_BIN=$(abspath $(BUILD))/tests/webhook/whabuse e2e/webhook/run
	@ZL_CONTROLLER_BIN=$(abspath $(BUILD))/controller/zen-lead-controller \
		ZL_PODSRV_BIN=$(abspath $(BUILD))/bench/zl-podsrv e2e/dataplane/run
	@ZL_CONTROLLER_BIN=$(abspath $(BUILD))/controller/zen-lead-controller \
		ZL_PLUGIN_BIN=$(abspath $(BUILD))/plugin/kubectl-zenlead e2e/plugin/run
	@e2e/deploy/run
	@ZL_WEBHOOK_BIN=$(abspath $(BUILD))/webhook/zen-lead-webhook e2e/certmanager/run
	@$(MAKE) --no-print-directory image-test

e2e-webhook: build
	@ZL_CONTROLLER_BIN=$(abspath $(BUILD))/controller/zen-lead-controller \
		ZL_WEBHOOK_BIN=$(abspath $(BUILD))/webhook/zen-lead-webhook \
		ZL_WHABUSE_BIN=$(abspath $(BUILD))/tests/webhook/whabuse e2e/webhook/run

# kube-proxy in network namespaces in front of zl-podsrv pods (needs root).
e2e-dataplane: build
	@ZL_CONTROLLER_BIN=$(abspath $(BUILD))/controller/zen-lead-controller \
		ZL_PODSRV_BIN=$(abspath $(BUILD))/bench/zl-podsrv e2e/dataplane/run

# kubectl-zenlead's status, why and drill with the controller running.
e2e-plugin: build
	@ZL_CONTROLLER_BIN=$(abspath $(BUILD))/controller/zen-lead-controller \
		ZL_PLUGIN_BIN=$(abspath $(BUILD))/plugin/kubectl-zenlead e2e/plugin/run

# deploy/ (kustomize, the Helm chart, monitoring) on the API server: server-side
# dry runs with the cert-manager and PrometheusRule CRDs, and RBAC by can-i.
e2e-deploy: deps
	@e2e/deploy/run

# The webhook on certificates that real cert-manager (v1.21.2, built from the
# Go module proxy) issues, injects and renews 20 times under admissions.
e2e-certmanager: build
	@ZL_WEBHOOK_BIN=$(abspath $(BUILD))/webhook/zen-lead-webhook e2e/certmanager/run

# The OCI image, by buildah from scratch, in $(BUILD)/zen-lead-image.tar.
image: build
	@scripts/image $(BUILD)

# The image's config and files, and --version of each binary as uid 65532
# on a read-only root (podman, or unshare+chroot where it cannot run).
image-test: image
	@scripts/image-test $(BUILD)

demo: build
	@ZL_CONTROLLER_BIN=$(abspath $(BUILD))/controller/zen-lead-controller e2e/demo

# Benchmarks against the test cluster (bench/run): full runs measure a
# Release build and write bench/results/; the quick mode asserts no
# targets and is part of test.
bench: deps
	@cmake -S . -B $(BUILD)-release -DZL_WERROR=ON \
		-DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD)-release -j$(JOBS)
	@bench/run $(BUILD)-release

bench-quick: build
	@bench/run --quick $(BUILD)

# Each stage is timed (scripts/stage), so CI's log shows where time goes.
TEST_STAGES := unit sanitize valgrind check smoke integration e2e bench-quick fuzz
test:
	@start=$$SECONDS; for s in $(TEST_STAGES); do \
		scripts/stage $$s $(MAKE) --no-print-directory $$s || exit 1; \
	done; echo "make test: all passed in $$((SECONDS - start)) s"

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz $(BUILD)-release
