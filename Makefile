# bluetti-c top-level Makefile: a thin wrapper around CMake.
#   make          build everything into build/ (installs Debian deps first if missing)
#   make test     build and run every test through ctest
#   make demo     the main job: real broker + simulated Elite 100 V2 + bluetti check
#   make asan     build with ASan+UBSan into build-asan/ and run the tests there
#   make fuzz     build the libFuzzer harnesses (clang) and run each for FUZZ_SECONDS
#   make valgrind run the unit tests under valgrind memcheck, then the fault-injection
#                 integration test with the bridge and simulator under valgrind
#                 (VALGRIND_IT=0 skips that part; docs/reliability.md)
#   make bench    build and run the benchmarks (figures only, no assertions)
#   make install  build, then install into PREFIX (default /usr/local; DESTDIR honoured):
#                 programs, libbluetti.so.0 + .a, headers, bluetti.pc, man pages, the
#                 systemd unit, the example configuration (docs/install.md)
#   make uninstall  remove what the last install listed in $(BUILD)/install_manifest*.txt
#                 (the configuration under etc/ is kept)
#   make packages build the Debian packages (bluetti, libbluetti0, libbluetti-dev, bluetti-sim)
#                 into $(BUILD)/pkg, lintian them, install them, run the demo and a
#                 pkg-config build against the installed ones, purge (scripts/pkg-test.sh;
#                 needs root or sudo). `make deb` only builds and lints them.
#   make cross-arm64 / cross-armhf / cross   cross build for ARM (Debian cross toolchain,
#                 the target's Debian -dev packages unpacked into a sysroot in build-<arch>/,
#                 both fetched on first use), unit tests and offline CLI tests under
#                 qemu-user; into build-arm64/, build-armhf/ (scripts/cross.sh; ~4 min each)
#   make deps     install the Debian packages the build and tests need
#   make docs     regenerate docs/registers.md and docs/ha-entities.md from the catalog
#   make format   clang-format the sources (scripts/format.sh: tracked *.c/*.h under src/
#                 include/ tools/ tests/ bench/); make format-check lists the files that
#                 deviate without changing them (the ctest format_check)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
FUZZ_SECONDS ?= 20
CTEST_ARGS ?=
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all build install uninstall packages deb cross cross-arm64 cross-armhf test demo asan fuzz fuzz-build valgrind bench deps check-deps docs format format-check clean

all: build

check-deps:
	@scripts/deps.sh --check >/dev/null || scripts/deps.sh

deps:
	scripts/deps.sh

build: check-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix $(PREFIX)

packages:
	@scripts/deps.sh --packages --check >/dev/null || scripts/deps.sh --packages
	scripts/pkg-test.sh $(BUILD)

deb:
	@scripts/deps.sh --packages --check >/dev/null || scripts/deps.sh --packages
	scripts/pkg-test.sh $(BUILD) --build-only

cross: cross-arm64 cross-armhf

# The target's -dev packages are unpacked into build-<arch>/sysroot (--sysroot: dpkg is not
# touched, and a mirror whose index of the target lags the host's does not matter);
# `scripts/cross.sh ARCH --deps` without --sysroot installs them as multiarch packages
# instead. CROSS_ARGS adds options (--no-test).
CROSS_ARGS ?=
cross-arm64 cross-armhf:
	scripts/cross.sh $(@:cross-%=%) --deps --sysroot $(CROSS_ARGS)

uninstall:
	DESTDIR="$(DESTDIR)" cmake -DBLT_BIN=$(abspath $(BUILD)) -P cmake/uninstall.cmake

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

demo: build
	scripts/demo.sh $(BUILD)

asan: check-deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBLT_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

fuzz-build: check-deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DBLT_SANITIZE=ON -DBLT_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS)

fuzz: fuzz-build
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

VALGRIND_OPTS ?= --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
VALGRIND_IT ?= 1

# ctest -T memcheck needs the command spelled out: the project does not include(CTest).
# Memcheck marks a test failed on any error valgrind reports (see the MemoryChecker logs).
valgrind: build
	cd $(BUILD) && { ctest -L unit -T memcheck --output-on-failure -j $(JOBS) $(CTEST_ARGS) \
		--overwrite MemoryCheckCommand=$$(command -v valgrind) \
		--overwrite "MemoryCheckCommandOptions=$(VALGRIND_OPTS)" >valgrind-unit.log 2>&1; \
		rc=$$?; cat valgrind-unit.log; [ $$rc = 0 ] && \
		! grep -A100 '^Memory checking results:' valgrind-unit.log | grep -q ' - '; }
	@if [ "$(VALGRIND_IT)" = 1 ]; then \
		cd $(BUILD) && BLT_VALGRIND="valgrind $(VALGRIND_OPTS)" \
		ctest -L faults --output-on-failure --timeout 1200 $(CTEST_ARGS); fi

bench: build
	@for b in $(BUILD)/bench/bench_*; do echo "== $$b"; $$b || exit 1; done
	@echo "== $(BUILD)/bench/bench_transport against a stock broker configuration"
	@BLT_BENCH_STOCK=1 $(BUILD)/bench/bench_transport 200
	@echo "== bench/read.sh: bluetti read as a whole process"
	@bench/read.sh -b $(BUILD) -n 20

docs: build
	$(BUILD)/bluetti blocks --markdown > docs/registers.md
	$(BUILD)/bluetti blocks --ha-entities > docs/ha-entities.md

format:
	scripts/format.sh

format-check:
	scripts/format.sh --check

clean:
	rm -rf build build-asan build-fuzz build-arm64 build-armhf
