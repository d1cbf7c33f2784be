# tcpcore: the two commands a newcomer needs are `make demo` and `make check`.
# Everything else is a convenience around CMake/CTest.

FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)
CMAKE ?= cmake

PREFIX ?= /usr/local

.PHONY: all deps demo demo-memlink check check-gcc check-clang check-tsan bench bench-instructions bench-figures \
	fuzz valgrind format clean conformance conformance-update vs-linux vs-linux-transfer \
	install docs

all: demo

deps:
	@scripts/install-deps.sh

# The main job: tcpcored on a TUN device in a private network namespace,
# answering the kernel's curl and nc; tcpcore-stat shows what happened.
demo: deps
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(CMAKE) --build build -j$(JOBS) --target tcpcored tcpcore-stat kpeer \
	  tcpcore_packetdrill >/dev/null
	@scripts/demo.sh build

# Two stacks on an in-memory link, every segment printed.
demo-memlink: deps
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(CMAKE) --build build -j$(JOBS) --target tcpcore-demo >/dev/null
	@./build/tools/tcpcore-demo

# Every test under ASan + UBSan (gcc), then a warnings-as-errors clang build,
# then the threaded tests (the packetdrill adapter, connection groups) under
# ThreadSanitizer. The gcc run includes the FreeBSD conformance suite (CTest
# test conformance_freebsd).
check: deps check-gcc check-clang check-tsan

check-gcc:
	$(CMAKE) -S . -B build/check -DTCPC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	$(CMAKE) --build build/check -j$(JOBS)
	cd build/check && ctest --output-on-failure -j$(JOBS)

check-clang:
	$(CMAKE) -S . -B build/clang -DCMAKE_C_COMPILER=clang -DTCPC_SANITIZE=ON \
	  -DCMAKE_BUILD_TYPE=Debug >/dev/null
	$(CMAKE) --build build/clang -j$(JOBS)

check-tsan:
	$(CMAKE) -S . -B build/tsan -DTCPC_TSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	$(CMAKE) --build build/tsan -j$(JOBS) --target test_packetdrill_so test_group_threads test_group \
	  test_group_handoff_threads
	cd build/tsan && ctest --output-on-failure -R 'test_packetdrill_so|test_group'

# FreeBSD's TCP test suite through packetdrill and libtcpcore_packetdrill.so
# (docs/packetdrill.md); the material is ../shared/conformance unless
# CONFORMANCE says otherwise. conformance-update rewrites the expected
# results (tests/conformance/expected.txt) from a run.
conformance: deps
	@scripts/conformance.sh --check

conformance-update: deps
	@scripts/conformance.sh --update

# The library (static and shared), its headers, tcpcore.pc, the CMake
# package, tcpcored and tcpcore-stat with their manual pages, under PREFIX
# (DESTDIR is honoured, for packaging).
install: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build build -j$(JOBS) --target tcpcore tcpcore_shared tcpcored tcpcore-stat
	$(CMAKE) --install build --prefix $(PREFIX)

# The API reference: Doxygen's HTML from the public headers into
# build/docs/html (index.html); any warning, such as an undocumented public
# symbol, fails it.
docs: deps
	@mkdir -p build/docs
	(cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = build/docs"; \
	  sed -n 's/^#define TCPC_VERSION_STRING "\(.*\)"/PROJECT_NUMBER = \1/p' include/tcpcore/version.h) | doxygen -
	@echo "API reference: build/docs/html/index.html"

# Benchmarks: optimized, no sanitizers, into build/bench/.
bench: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build build -j$(JOBS) --target bench

# tcpcored and the kernel side by side as HTTP fronts, with and without a
# bounded SYN flood, in namespaces the script creates (root; bench/vs_linux.sh).
vs-linux: deps
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(CMAKE) --build build -j$(JOBS) --target tcpcored khttpd >/dev/null
	@bench/vs_linux.sh build

# Bulk transfer over one impaired path (20 ms RTT, 100 Mbit/s, loss 0 to 5%,
# through tools/impair-relay, since this kernel has no netem): tcpcore
# against the kernel's CUBIC and BBR as senders, the kernel receiving (root;
# bench/vs_linux_transfer.sh, under 10 minutes).
vs-linux-transfer: deps
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(CMAKE) --build build -j$(JOBS) --target tcpcore-peer kpeer impair-relay >/dev/null
	@bench/vs_linux_transfer.sh build

# Instructions per operation of every benchmark, counted by callgrind at a
# small size: the figure beside each time in the README, the same on any
# machine (scripts/bench-instructions.sh says how).
bench-instructions: bench
	@scripts/bench-instructions.sh build/bench

# The README's times: each benchmark at full size, three invocations,
# median and range over all of them (scripts/bench-figures.sh).
bench-figures: bench
	@scripts/bench-figures.sh build/bench

# libFuzzer over every parser for FUZZ_SECONDS each. New corpus entries stay
# under build/; a crash fails the run and leaves its input in build/libfuzzer/crashes.
# libFuzzer from clang 19 where installed (scripts/install-deps.sh does):
# clang 14's searches its list of rare features linearly for every feature
# of every run, which grew to most of the whole-stack target's time as its
# corpus grew (LLVM 18 replaced the search with a bitmap).
FUZZ_CC ?= $(shell command -v clang-19 >/dev/null 2>&1 && echo clang-19 || echo clang)

fuzz: deps
	$(CMAKE) -S . -B build/libfuzzer -DCMAKE_C_COMPILER=$(FUZZ_CC) -DTCPC_FUZZ=ON \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	$(CMAKE) --build build/libfuzzer -j$(JOBS)
	@scripts/run-fuzzers.sh build/libfuzzer $(FUZZ_SECONDS)

# The unit tests under valgrind, on a build without sanitizers. The
# simulator's 100 MB transfers (test_sim_transfer) are left to ASan: under
# memcheck they would take most of an hour, and test_memlink runs the same
# code (the link, hsim, whole transfers under every fault) at a few MB.
valgrind: deps
	$(CMAKE) -S . -B build/valgrind -DCMAKE_BUILD_TYPE=Debug >/dev/null
	$(CMAKE) --build build/valgrind -j$(JOBS)
	cd build/valgrind && ctest -T memcheck -E "interop|sans_io|clang_format|conformance|examples_|abi_|api_docs|man_pages|test_sim_transfer" -j$(JOBS) --output-on-failure

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
