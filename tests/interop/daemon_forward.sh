#!/usr/bin/env bash
# tcpcored's forward service between two kernel sockets, IPv4 and IPv6:
# kpeer connects to tcpcore, which relays to a kpeer server through a
# kernel socket (tcpcore in front of an existing service) or through a
# second tcpcore connection (tcpcore as the client of a kernel server).
# 10 MB each way, verified by SHA-256 at both ends; either end closes
# first, so both half-closes pass through the relay.
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
source "$(dirname "$0")/daemon-lib.bash"
BYTES=${TCPC_INTEROP_BYTES:-10485760}

dmn_setup forward
dmn_start --service "forward:8040:$K4:9040" --service "forward:8041:$K4:9041,stack" \
  --service "forward:8060:[$K6]:9060" --service "forward:8061:[$K6]:9061,stack"

# relay KERNEL-ADDR TCPCORE-ADDR FRONT-PORT BACK-PORT CLOSER
relay() {
  local k=$1 t=$2 front=$3 back=$4 closer=$5 slog=$interop_tmp/fwd-$4-$5-server
  local sargs=() cargs=()
  [ "$closer" = server ] && sargs=(--close-first)
  [ "$closer" = client ] && cargs=(--close-first)
  ip netns exec "$DMN_NS" timeout 60 "$INTEROP_KPEER" --addr "$k" --listen "$back" \
    --send-bytes "$BYTES" --seed 3 --timeout 50 "${sargs[@]}" >"$slog.out" 2>"$slog.err" &
  local spid=$! i
  for ((i = 0; i < 500; i++)); do
    grep -q '^listening' "$slog.out" 2>/dev/null && break
    sleep 0.01
  done
  local c s
  c=$(kexec "$INTEROP_KPEER" --addr "$k" --connect "$t" "$front" --send-bytes "$BYTES" --seed 2 \
    --timeout 50 "${cargs[@]}")
  local crc=$?
  wait $spid
  local src=$?
  s=$(cat "$slog.out")
  [ $crc -eq 0 ] && [ $src -eq 0 ] || {
    echo "client status $crc, server status $src"
    cat "$slog.err"
    return 1
  }
  [ "$(field "$c" sha256)" = "$(field "$s" sent_sha256)" ] &&
    [ "$(field "$s" sha256)" = "$(field "$c" sent_sha256)" ] &&
    [ "$(field "$c" received)" = "$BYTES" ] && [ "$(field "$s" received)" = "$BYTES" ] || {
    echo "client: $c"
    echo "server: $s"
    return 1
  }
  echo "$BYTES bytes each way, sha256 match, $closer closed first"
}

dmn_case "v4 forward through a kernel socket, client closes first" relay $K4 $T4 8040 9040 client
dmn_case "v4 forward through a kernel socket, server closes first" relay $K4 $T4 8040 9040 server
dmn_case "v4 tcpcore as the client of a kernel server, server closes first" \
  relay $K4 $T4 8041 9041 server
dmn_case "v4 tcpcore as the client of a kernel server, client closes first" \
  relay $K4 $T4 8041 9041 client
dmn_case "v6 forward through a kernel socket, server closes first" relay $K6 $T6 8060 9060 server
dmn_case "v6 tcpcore as the client of a kernel server, client closes first" \
  relay $K6 $T6 8061 9061 client
dmn_stop_case
dmn_finish
