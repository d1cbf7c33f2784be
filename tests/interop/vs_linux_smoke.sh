#!/usr/bin/env bash
# bench/vs_linux.sh at the smallest size, as a test of what it claims rather
# than of its figures: it runs to the end on an optimized build of this tree, prints every one of
# its summary lines, every request a client completed through tcpcored's
# forward during the flood reached the kernel backend, and the backend's
# kernel opened exactly the connections its responder accepted. Times and
# rates are not checked (they belong to the benchmark). Skips (77) without
# root, namespaces, wrk or hping3.
# Usage: bash $0 BUILD_DIR (CTest passes it).
set -u
build=${1:?usage: vs_linux_smoke.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in ip wrk hping3 ethtool nstat; do
  command -v $tool >/dev/null 2>&1 || { echo "SKIP: needs $tool"; exit 77; }
done
# The benchmark's programs are built optimized, as `make vs-linux` builds
# them, in a tree of their own beside this build: under ASan the daemon
# spends so long per frame in a default-mode flood that its RX ring
# overflows and no legitimate request gets through, which says nothing
# about the script (the sanitizers cover the same code in the other tests).
# Without link-time optimisation: this checks the script, not the figures,
# and an LTO build of the core would add minutes to every `make check`.
rel=$build/vs-linux-release
cmake -S "$root" -B "$rel" -DCMAKE_BUILD_TYPE=Release -DTCPC_LTO=OFF >/dev/null &&
  cmake --build "$rel" -j"$(nproc)" --target tcpcored tcpcore-stat khttpd >/dev/null ||
  { echo "FAIL: cannot build the benchmark's programs in $rel"; exit 1; }
out=$(ROUNDS=1 DUR=1 FLOOD_SECS=2 FLOOD_PKTS=50000 CONNECT_SECS=2 CONNS=4 WORKERS=2 timeout 240 \
  bash "$root/bench/vs_linux.sh" "$rel" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || { echo "FAIL: bench/vs_linux.sh exited $rc"; exit 1; }
fail=0
for t in cps_t1 cps_t2 p99_ms_t1 flood_default_ok_share flood_cookies_ok_share \
  flood_default_mem_after flood_cookies_mem_after connect_tw_cps connect_tw_client_timewait; do
  grep -q "^vs_linux test=$t tcpcore=[0-9.]* linux=[0-9./]* ratio=" <<<"$out" ||
    { echo "FAIL: no figure $t"; fail=1; }
done
# tcpcored -j 2 beside -j 1, and what a connection cost each.
for t in cps_t1 cps_t2; do
  grep -q "^vs_linux test=${t}_workers workers=2 tcpcore_j1=[1-9][0-9]* tcpcore_jN=[1-9][0-9]* ratio=[0-9]" <<<"$out" ||
    { echo "FAIL: no -j 2 figure ${t}_workers"; fail=1; }
done
grep -Eq '^vs_linux test=cost_t1_workers workers=2 j1_cpu_us_per_conn=[0-9.]*[1-9][0-9.]* jN_cpu_us_per_conn=[0-9.]*[1-9][0-9.]* j1_switches_per_conn=[0-9.]+ jN_switches_per_conn=[0-9.]+$' <<<"$out" ||
  { echo "FAIL: no cost figures for -j 1 and -j 2"; fail=1; }
grep -q '^vs_linux test=forward_flood requests=[1-9]' <<<"$out" ||
  { echo "FAIL: no request completed through forward during the flood"; fail=1; }
tail -n 1 <<<"$out" | grep -q 'forward_all_reached_backend=1 ' ||
  { echo "FAIL: a request completed through forward did not reach the backend"; fail=1; }
[ $fail -eq 0 ] && echo "vs_linux_smoke: passed"
exit $fail
