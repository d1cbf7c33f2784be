#!/usr/bin/env bash
# bench/vs_linux_transfer.sh at the smallest size, as a test of what it
# claims rather than of its figures: over the impairment relay at 1% loss,
# one round of 2 MB from tcpcore and from the kernel (CUBIC, and BBR where
# the kernel has it) reaches the kernel receiver intact (the script checks
# the SHA-256 of every transfer and exits non-zero otherwise), its loss-rate
# line carries every figure, and the relay did lose packets in each
# direction. Rates are not checked (they belong to the benchmark). Skips
# (77) without root or namespaces.
# Usage: bash $0 BUILD_DIR (CTest passes it).
set -u
build=${1:?usage: vs_linux_transfer_smoke.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "SKIP: needs ip"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: needs /dev/net/tun"; exit 77; }
out=$(ROUNDS=1 SIZE=2000000 LOSSES=1 CAP_SECS=30 timeout 240 \
  bash "$root/bench/vs_linux_transfer.sh" "$build" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || { echo "FAIL: bench/vs_linux_transfer.sh exited $rc"; exit 1; }
fail=0
grep -Eq '^vs_linux loss=1% tcpcore_mbps=[0-9.]+ cubic_mbps=[0-9.]+ bbr_mbps=([0-9.]+|na) ratio_cubic=[0-9.]+ ' <<<"$out" ||
  { echo "FAIL: no complete line for loss=1%"; fail=1; }
grep -Eq '^vs_linux_relay loss=1% seed=1 .*a2b_lost=[1-9][0-9]* .*b2a_lost=[1-9]' <<<"$out" ||
  { echo "FAIL: the relay lost no packet in one direction"; fail=1; }
[ $fail -eq 0 ] && echo "vs_linux_transfer_smoke: passed"
exit $fail
