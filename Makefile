# One entry point. `make test` is what CI runs (.ci/run): it installs what is missing,
# builds, and runs every tier (unit, sanitizers, host integration, VM) through ctest.
BUILD      ?= build
# One clang build with ASan + UBSan serves both the sanitizer unit run and libFuzzer:
# compiling the tree once more instead of twice keeps `make test` inside CI's hour.
SAN_BUILD  ?= build-san
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_TARGETS := agent_api_fuzz coordinator_api_fuzz jwt_fuzz pod_cgroup_fuzz ini_config_fuzz \
                tracker_event_fuzz watch_decoder_fuzz
JOBS       ?= 2
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure --timeout 900
# Two tests at a time; the tests that measure timings or share a server (VM, kube,
# host integration, e2e, browser) are RUN_SERIAL and still run alone.
CTEST_JOBS ?= 2

.PHONY: all deps build test unit asan integration vm-test chart e2e bench demo demo-host clean help fuzz fuzz-smoke san-build

all: build

help:
	@echo "make            build everything (installs dependencies first)"
	@echo "make test       every test tier: unit, ASan/UBSan unit, host integration, VM"
	@echo "make unit       unit tests only"
	@echo "make asan       unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make fuzz       every libFuzzer target for FUZZ_SECONDS (300) each (clang-19, build-san/)"
	@echo "make vm-test    the VM tier (QEMU + Debian sched_ext kernel)"
	@echo "make chart      the Helm chart checks (lint, schema, server-side dry run)"
	@echo "make e2e        the end-to-end tier: API server, coordinator, a VM node (virtme-ng)"
	@echo "make demo       the whole product: two pods on a VM node, before/after a strategy"
	@echo "make demo-host  the node half only, on this machine: pods, agent, intents, kernel maps"
	@echo "make bench      benchmarks"
	@echo "make clean      remove build directories"

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

# The sanitizer build is clang's (libFuzzer needs it), in its own directory: the normal
# gcc build is unchanged. GTHULHU_FUZZ instruments everything with ASan + UBSan and
# coverage; only the fuzz targets link libFuzzer itself, the unit tests do not.
$(SAN_BUILD)/build.ninja:
	# -Werror off: clang 19 warns inside libbpf's own macros; the gcc build keeps it.
	cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGTHULHU_FUZZ=ON \
	  -DGTHULHU_WERROR=OFF -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

unit: build
	ctest --test-dir $(BUILD) -L unit $(CTEST_FLAGS)

san-build: deps $(SAN_BUILD)/build.ninja
	cmake --build $(SAN_BUILD) -j $(JOBS) --target unit_tests $(FUZZ_TARGETS)

asan: san-build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(SAN_BUILD) -L unit -j $(CTEST_JOBS) $(CTEST_FLAGS)

fuzz: san-build
	scripts/fuzz.sh $(SAN_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# A short bounded run of every target, part of `make test`.
fuzz-smoke: san-build
	scripts/fuzz.sh $(SAN_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

integration: build
	ctest --test-dir $(BUILD) -L integration $(CTEST_FLAGS)

vm-test: build
	ctest --test-dir $(BUILD) -L vm $(CTEST_FLAGS)

chart: build
	ctest --test-dir $(BUILD) -L chart $(CTEST_FLAGS)

# The sanitizer run goes first so the last lines printed are the full suite's summary.
test: asan fuzz-smoke build
	ctest --test-dir $(BUILD) -j $(CTEST_JOBS) $(CTEST_FLAGS)

e2e: build
	ctest --test-dir $(BUILD) -L e2e $(CTEST_FLAGS)

# The whole product on a VM node (root): API server, coordinator, agent, two pods, a
# strategy, wakeup latency before and after. See scripts/demo.sh.
demo: build
	BUILD=$(abspath $(BUILD)) scripts/demo.sh

# The node half only, on this machine (root): synthetic pods, agent, intents, kernel
# policy maps. See scripts/demo-host.sh.
demo-host: build
	BUILD=$(abspath $(BUILD)) scripts/demo-host.sh

bench: build
	@if [ -x scripts/bench.sh ]; then BUILD=$(abspath $(BUILD)) scripts/bench.sh; else echo "no benchmarks yet"; fi

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
