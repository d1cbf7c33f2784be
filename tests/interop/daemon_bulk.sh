#!/usr/bin/env bash
# tcpcored moves 100 MB each way with the kernel, IPv4 and IPv6: kpeer
# sends 100 MB to the echo service and checks that the 100 MB coming back
# hash the same; curl fetches /bytes/104857600, checked by SHA-256.
# TCPC_INTEROP_BIG_BYTES changes the size. Usage: bash $0 BUILD_DIR.
source "$(dirname "$0")/daemon-lib.bash"
command -v curl >/dev/null || interop_skip "needs curl"
BIG=${TCPC_INTEROP_BIG_BYTES:-104857600}

dmn_setup bulk
dmn_start --service echo:7 --service http:80

echo_both_ways() {
  local out
  out=$(kexec "$INTEROP_KPEER" --addr "$1" --connect "$2" 7 --send-bytes "$BIG" --seed 5 \
    --close-first --timeout $((INTEROP_TIMEOUT - 10))) || return 1
  [ "$(field "$out" received)" = "$BIG" ] && [ "$(field "$out" sha256)" = "$(field "$out" sent_sha256)" ] || {
    echo "$out"
    return 1
  }
  echo "$BIG bytes up and back, sha256 $(field "$out" sha256), $(field "$out" secs) s"
}

download() {
  local want got t0 t1
  want=$(stream_sha "$BIG")
  t0=$(date +%s.%N)
  got=$(kexec curl -sS -m $((INTEROP_TIMEOUT - 10)) "http://$1/bytes/$BIG" | sha256sum | cut -d' ' -f1)
  t1=$(date +%s.%N)
  [ "$got" = "$want" ] || {
    echo "sha256 $got, want $want"
    return 1
  }
  echo "$BIG bytes, sha256 $got, $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s"
}

dmn_case "v4 $BIG bytes up and down through echo" echo_both_ways $K4 $T4
dmn_case "v6 $BIG bytes up and down through echo" echo_both_ways $K6 $T6
dmn_case "v4 curl downloads $BIG bytes" download $T4
dmn_stop_case
dmn_finish
