# One entry point. `make test` is what CI runs (.ci/run): it installs what is missing,
# builds, and runs every tier (unit, sanitizers, host integration, VM) through ctest.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure --timeout 900

.PHONY: all deps build test unit asan integration vm-test bench demo clean help

all: build

help:
	@echo "make            build everything (installs dependencies first)"
	@echo "make test       every test tier: unit, ASan/UBSan unit, host integration, VM"
	@echo "make unit       unit tests only"
	@echo "make asan       unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make vm-test    the VM tier (QEMU + Debian sched_ext kernel)"
	@echo "make demo       the node path on this machine: pods, agent, intents, kernel maps"
	@echo "make bench      benchmarks"
	@echo "make clean      remove build directories"

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGTHULHU_SANITIZE=ON $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

unit: build
	ctest --test-dir $(BUILD) -L unit $(CTEST_FLAGS)

asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit_tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) -L unit $(CTEST_FLAGS)

integration: build
	ctest --test-dir $(BUILD) -L integration $(CTEST_FLAGS)

vm-test: build
	ctest --test-dir $(BUILD) -L vm $(CTEST_FLAGS)

# The sanitizer run goes first so the last lines printed are the full suite's summary.
test: asan build
	ctest --test-dir $(BUILD) $(CTEST_FLAGS)

# The node path end to end on this machine (root): synthetic pods, agent, intents,
# kernel policy maps. See scripts/demo.sh.
demo: build
	BUILD=$(abspath $(BUILD)) scripts/demo.sh

bench: build
	@if [ -x scripts/bench.sh ]; then BUILD=$(abspath $(BUILD)) scripts/bench.sh; else echo "no benchmarks yet"; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
