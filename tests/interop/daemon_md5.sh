#!/usr/bin/env bash
# TCP MD5 signatures (RFC 2385) between tcpcored and the Linux kernel, both
# ways, IPv4 and IPv6. tcpcored runs with --md5-key for the kernel's
# addresses; kpeer sets Linux's TCP_MD5SIG for tcpcored's.
#   kernel -> tcpcored: the kernel connects to echo with the key; 1 MB
#     echoed and checked by SHA-256 (the kernel drops any segment whose
#     signature is wrong, so a completed transfer is a signed one).
#   the wrong key, and no key: the connection never opens, and tcpcored
#     counts tcps_sig_rcvbadsig and tcps_sig_err_nosigopt.
#   tcpcored -> kernel: a forward service through the stack (",stack")
#     opens its own signed connection to a kernel listener that has the key.
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
source "$(dirname "$0")/daemon-lib.bash"

KEY="tcpcore-md5-interop-key"
dmn_setup md5
dmn_start --service echo:7 --service forward:8080:$K4:8000,stack \
  --service forward:8086:[$K6]:8006,stack --md5-key "$K4=$KEY" --md5-key "$K6/128=$KEY"

counter() {
  dmn_stat --json -s | grep -o "\"$1\": [0-9]*" | grep -o '[0-9]*$'
}

# signed_echo KERNEL_ADDR TCPCORE_ADDR: a signed 1 MB echo.
signed_echo() {
  local out before
  before=$(counter tcps_sig_rcvgoodsig)
  out=$(kexec "$INTEROP_KPEER" --addr "$1" --connect "$2" 7 --send-bytes 1000000 --close-first \
    --md5 "$2=$KEY" --timeout 60) || {
    echo "kpeer failed: $out"
    return 1
  }
  [ "$(field "$out" received)" = 1000000 ] && [ "$(field "$out" sha256)" = "$(field "$out" sent_sha256)" ] || {
    echo "the echo differs: $out"
    return 1
  }
  local good=$(($(counter tcps_sig_rcvgoodsig) - before))
  [ "$good" -gt 0 ] || {
    echo "tcpcored counted no good signature"
    return 1
  }
  echo "1 MB echoed signed; tcps_sig_rcvgoodsig +$good"
}

# refused KERNEL_ADDR TCPCORE_ADDR COUNTER [KPEER ARGS...]: the connection
# never opens, and tcpcored counts COUNTER.
refused() {
  local k=$1 t=$2 c=$3 out before after
  shift 3
  before=$(counter "$c")
  if out=$(kexec "$INTEROP_KPEER" --addr "$k" --connect "$t" 7 --send-bytes 1000 --timeout 3 \
    "$@" 2>&1); then
    echo "the connection opened: $out"
    return 1
  fi
  after=$(counter "$c")
  [ "$after" -gt "$before" ] || {
    echo "$c stayed at $before"
    return 1
  }
  echo "refused ($(tail -n 1 <<<"$out")); $c +$((after - before))"
}

# signed_forward KERNEL_ADDR TCPCORE_ADDR PORT BACKEND_PORT: the kernel's
# client sends 1 MB to tcpcored's forward (signed), which relays it over
# its own signed connection to the kernel backend.
signed_forward() {
  local k=$1 t=$2 port=$3 bport=$4 log out bout
  log=$interop_tmp/backend-$bport
  dmn_backend "$log" "$k" "$bport" --md5 "$t=$KEY" --timeout 50 || return 1
  local bpid=$DMN_BACKEND_PID
  out=$(kexec "$INTEROP_KPEER" --addr "$k" --connect "$t" "$port" --send-bytes 1000000 \
    --close-first --md5 "$t=$KEY" --timeout 50) || {
    echo "client failed: $out"
    kill "$bpid" 2>/dev/null
    return 1
  }
  wait "$bpid" || {
    echo "backend failed: $(cat "$log.err")"
    return 1
  }
  bout=$(tail -n 1 "$log.out")
  [ "$(field "$bout" received)" = 1000000 ] && [ "$(field "$bout" sha256)" = "$(field "$out" sent_sha256)" ] || {
    echo "the backend got something else: $bout (client: $out)"
    return 1
  }
  echo "1 MB kernel -> tcpcored -> kernel, both connections signed"
}

dmn_case "IPv4: the kernel connects signed, 1 MB echoed" signed_echo $K4 $T4
dmn_case "IPv6: the kernel connects signed, 1 MB echoed" signed_echo $K6 $T6
dmn_case "IPv4: the wrong key never connects" refused $K4 $T4 tcps_sig_rcvbadsig \
  --md5 "$T4=not-the-key"
dmn_case "IPv4: no key never connects" refused $K4 $T4 tcps_sig_err_nosigopt
dmn_case "IPv6: the wrong key never connects" refused $K6 $T6 tcps_sig_rcvbadsig \
  --md5 "$T6=not-the-key"
dmn_case "IPv4: tcpcored connects signed to a kernel listener (forward,stack)" \
  signed_forward $K4 $T4 8080 8000
dmn_case "IPv6: tcpcored connects signed to a kernel listener (forward,stack)" \
  signed_forward $K6 $T6 8086 8006
dmn_stop_case
dmn_finish
