#!/usr/bin/env bash
# tcpcored's http service behind the httpready accept filter
# (--accept-filter, docs/accf.md), against the kernel's curl and nc: pages
# fetched as without it, IPv4 and IPv6; a request sent in two pieces is
# held in the stack (tcps_accf_held) until its empty line, then answered;
# a client that sends something else is handed over at once.
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
source "$(dirname "$0")/daemon-lib.bash"
command -v curl >/dev/null || interop_skip "needs curl"
command -v nc >/dev/null || interop_skip "needs nc (netcat-openbsd)"

dmn_setup accf
dmn_start --service http:80 --accept-filter httpready

counter() {
  dmn_stat --json -s | grep -o "\"$1\": [0-9]*" | grep -o '[0-9]*$'
}

# The header's first lines, a second, then its empty line: in between the
# connection is held, not yet the service's.
held_until_empty_line() {
  local mid=$interop_tmp/accf.mid out held0 ready0
  held0=$(counter tcps_accf_held)
  ready0=$(counter tcps_accf_ready)
  out=$({
    printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'
    sleep 1
    echo "$(counter tcps_accf_held) $(counter tcps_accf_ready)" >"$mid"
    printf '\r\n'
  } | kexec timeout 10 nc "$1" 80) || {
    echo "no answer and close within 10 s"
    return 1
  }
  read -r held ready <"$mid"
  [ "$held" -eq $((held0 + 1)) ] && [ "$ready" -eq "$ready0" ] || {
    echo "while the header was unfinished: tcps_accf_held $held0 -> $held, tcps_accf_ready $ready0 -> $ready"
    return 1
  }
  [ "$(counter tcps_accf_ready)" -eq $((ready0 + 1)) ] || {
    echo "tcps_accf_ready did not count the hand-over"
    return 1
  }
  grep -q '^HTTP/1.1 200 OK' <<<"$out" || {
    echo "got: $(head -n 1 <<<"$out")"
    return 1
  }
  echo "held for a second, then 200"
}

# Not GET or HEAD: the service sees it at once and answers 400.
other_passes() {
  local out
  out=$(printf 'THIS IS NOT HTTP\r\n\r\n' | kexec timeout 10 nc "$1" 80) || return 1
  [ "$(head -n 1 <<<"$out" | tr -d '\r')" = "HTTP/1.1 400 Bad Request" ] || {
    echo "got: $(head -n 1 <<<"$out")"
    return 1
  }
  echo "400, closed"
}

for fam in 4 6; do
  addr=$T4
  [ $fam = 6 ] && addr="[$T6]"
  dmn_case "v$fam curl fetches the page through the filter" dmn_page "$addr"
done
dmn_case "v4 a request in two pieces is held until its empty line" held_until_empty_line $T4
dmn_case "v6 a request in two pieces is held until its empty line" held_until_empty_line $T6
dmn_case "v4 another protocol passes at its first bytes" other_passes $T4
dmn_stop_case
dmn_finish
