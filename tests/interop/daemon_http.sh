#!/usr/bin/env bash
# tcpcored's http service against the kernel's curl and nc, IPv4 and IPv6:
# the page, /bytes/N checked by SHA-256, HEAD, keep-alive, malformed and
# oversized requests; the daemon runs as nobody with a 0600 control socket;
# its pcap capture reads back with tcpdump; SIGTERM stops it cleanly.
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
source "$(dirname "$0")/daemon-lib.bash"
command -v curl >/dev/null || interop_skip "needs curl"
command -v nc >/dev/null || interop_skip "needs nc (netcat-openbsd)"
command -v tcpdump >/dev/null || interop_skip "needs tcpdump"

dmn_setup http
PCAP=$interop_tmp/http.pcap
dmn_start --service http:80 --pcap "$PCAP"

head_request() {
  local out
  out=$(kexec curl -sS -m 10 -I "http://$1/bytes/12345") || return 1
  grep -q '^HTTP/1.1 200 OK' <<<"$out" && grep -qi '^Content-Length: 12345' <<<"$out" || {
    echo "$out"
    return 1
  }
  echo "200 with Content-Length 12345"
}

keep_alive() {
  local before after out
  before=$(dmn_stat --json -s | grep -o '"tcps_accepts": [0-9]*' | grep -o '[0-9]*$')
  out=$(kexec curl -sS -m 10 -v -o /dev/null -o /dev/null "http://$1/" "http://$1/bytes/10" 2>&1)
  after=$(dmn_stat --json -s | grep -o '"tcps_accepts": [0-9]*' | grep -o '[0-9]*$')
  grep -q 'Re-using existing connection' <<<"$out" || {
    echo "curl opened a second connection: $out"
    return 1
  }
  [ $((after - before)) -eq 1 ] || {
    echo "tcps_accepts went from $before to $after, want one connection"
    return 1
  }
  echo "two requests, one connection"
}

# bad_request ADDR EXPECTED-STATUS-LINE: what comes back before the close.
bad_request() {
  local addr=$1 want=$2 out
  out=$(cat | kexec timeout 10 nc "$addr" 80) || {
    echo "no answer and close within 10 s"
    return 1
  }
  [ "$(head -n 1 <<<"$out" | tr -d '\r')" = "$want" ] || {
    echo "got: $(head -n 1 <<<"$out")"
    return 1
  }
  echo "$want, closed"
}

malformed() {
  printf 'THIS IS NOT HTTP\r\n\r\n' | bad_request "$1" "HTTP/1.1 400 Bad Request"
}

oversized() {
  { printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Big: '; head -c 9000 /dev/zero | tr '\0' a; printf '\r\n\r\n'; } |
    bad_request "$1" "HTTP/1.1 431 Request Header Fields Too Large"
}

no_host() {
  printf 'GET / HTTP/1.1\r\n\r\n' | bad_request "$1" "HTTP/1.1 400 Bad Request"
}

# A short response leaves in one segment: tcpcored corks the head and the
# body (TCP_NOPUSH) and uncorks once both are queued. From a known client
# port, so that the capture shows this connection alone.
SHORT_PORT=40123
short_fetch() {
  kexec curl -sS -m 10 --local-port $SHORT_PORT -o /dev/null "http://$1/bytes/10" || return 1
  echo "fetched /bytes/10 from port $SHORT_PORT"
}

short_one_segment() {
  local text segs
  text=$(tcpdump -n -r "$PCAP" 2>&1) || return 1
  segs=$(grep -- "IP $T4.80 > $K4.$SHORT_PORT: .* length [1-9]" <<<"$text") || true
  [ "$(grep -c . <<<"$segs")" -eq 1 ] || {
    echo "want one data segment for the response, got:"
    echo "${segs:-none}"
    return 1
  }
  echo "one segment: ${segs##*length }"
}

pcap_reads() {
  dmn_capture_has "$PCAP" "the handshakes" "IP $T4.80 > $K4.[0-9]*: Flags \[S.\]" \
    "IP6 $T6.80 > $K6.[0-9]*: Flags \[S.\]" "IP $K4.[0-9]* > $T4.80: Flags \[S\]"
}

for fam in 4 6; do
  addr=$T4
  [ $fam = 6 ] && addr="[$T6]"
  dmn_case "v$fam curl fetches the page" dmn_page "$addr"
  dmn_case "v$fam curl /bytes/1000000 matches its sha256" dmn_bytes "$addr"
  dmn_case "v$fam HEAD gives the length and no body" head_request "$addr"
  dmn_case "v$fam keep-alive: two requests on one connection" keep_alive "$addr"
done
dmn_case "v4 a short response (curl from port $SHORT_PORT)" short_fetch $T4
dmn_case "v4 a malformed request gets 400 and a close" malformed $T4
dmn_case "v6 an HTTP/1.1 request without Host gets 400" no_host $T6
dmn_case "v4 an oversized head gets 431 and a close" oversized $T4
dmn_case "tcpcored runs as nobody; its control socket is 0600" dmn_unprivileged
dmn_stop_case
dmn_case "the pcap capture reads back with tcpdump" pcap_reads
dmn_case "v4 the short response is one segment (head and body corked)" short_one_segment
dmn_finish
