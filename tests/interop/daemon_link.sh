#!/usr/bin/env bash
# What lies under TCP, with the kernel as the peer, IPv4 and IPv6: the
# kernel's ping (ICMP echo) is answered from both addresses; tcpcore-stat -r
# lists the connected prefixes and the default routes the daemon was given;
# curl fetches the page and /bytes/N over both families. On an Ethernet link
# (daemon_afp_link.sh runs this script with DMN_LINK=afp) also: the
# neighbour cache in tcpcore-stat -N (and --json) holds the kernel's MAC as
# REACHABLE for both families, and the daemon's Ethernet capture (--pcap,
# DLT_EN10MB) reads back with tcpdump showing the ARP and neighbour
# discovery exchanges. On TUN the neighbour cache is empty.
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
source "$(dirname "$0")/daemon-lib.bash"
command -v curl >/dev/null || interop_skip "needs curl"
command -v ping >/dev/null || interop_skip "needs ping (iputils-ping)"
command -v tcpdump >/dev/null || interop_skip "needs tcpdump"

dmn_setup link
PCAP=$interop_tmp/link.pcap
dmn_start --service http:80 --gateway $K4 --gateway $K6 --pcap "$PCAP"

# ping_answered FLAG ADDR: three echo requests, three replies.
ping_answered() {
  local out
  out=$(kexec ping "$1" -c 3 -i 0.2 -W 2 "$2" 2>&1)
  grep -q "3 packets transmitted, 3 received" <<<"$out" || {
    echo "$out"
    return 1
  }
  grep 'packets transmitted' <<<"$out"
}

routes_listed() {
  local out
  out=$(dmn_stat -r) || return 1
  grep -Eq "^inet +198\.18\.0\.0/24 +link#1 \($T4\) +U$" <<<"$out" &&
    grep -Eq "^inet6 +2001:db8::/64 +link#1 \($T6\) +U$" <<<"$out" &&
    grep -Eq "^inet +default +$K4 +UG$" <<<"$out" &&
    grep -Eq "^inet6 +default +$K6 +UG$" <<<"$out" || {
    echo "$out"
    return 1
  }
  echo "2 connected prefixes, 2 default routes"
}

# neighbour_reachable ADDR: the kernel's MAC for ADDR, REACHABLE. An IPv6
# entry learned from the kernel's solicitation starts STALE and is confirmed
# by the probe after net.inet6.icmp6.nd6_delay (5 s): ping keeps it in use.
neighbour_reachable() {
  local mac line until=$((SECONDS + 20))
  mac=$(dmn_kernel_mac)
  while ((SECONDS < until)); do
    line=$(dmn_stat -N | awk -v a="$1" '$2 == a')
    grep -Eq " $mac +REACHABLE " <<<"$line" && break
    kexec ping -c 1 -W 1 "$1" >/dev/null 2>&1
    sleep 0.5
  done
  grep -Eq " $mac +REACHABLE " <<<"$line" || {
    echo "no REACHABLE entry for $1 at $mac:"
    dmn_stat -N
    return 1
  }
  dmn_stat --json -N | grep -q "\"lladdr\": \"$mac\"" || {
    echo "--json -N lacks $mac"
    return 1
  }
  echo "$line"
}

no_neighbours() {
  local out
  out=$(dmn_stat -N) || return 1
  [ "$(wc -l <<<"$out")" -eq 2 ] || {
    echo "a TUN device has no neighbours, yet:"
    echo "$out"
    return 1
  }
  echo "empty"
}

pcap_shows_link() {
  local head out
  head=$(od -An -tu4 -j20 -N4 "$PCAP" | tr -d ' ')
  [ "$head" = 1 ] || {
    echo "link type $head in the capture, want 1 (DLT_EN10MB)"
    return 1
  }
  out=$(dmn_capture_has "$PCAP" "ARP, ND, echo or the handshake" \
    "ARP, Request who-has $T4 tell $K4" "ARP, Reply $T4 is-at" \
    "IP6 .* > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has $T6" \
    "IP6 $T6 > .*: ICMP6, neighbor advertisement, tgt is $T6" "IP $T4 > $K4: ICMP echo reply" \
    "IP $T4.80 > $K4.[0-9]*: Flags \[S.\]") || {
    echo "$out"
    return 1
  }
  echo "DLT_EN10MB, $out, ARP and ND among them"
}

dmn_case "v4 ping -c 3 is answered" ping_answered -4 $T4
dmn_case "v6 ping -6 -c 3 is answered" ping_answered -6 $T6
dmn_case "v4 curl fetches the page" dmn_page $T4
dmn_case "v6 curl fetches the page" dmn_page "[$T6]"
dmn_case "v4 curl /bytes/1000000 matches its sha256" dmn_bytes $T4
dmn_case "v6 curl /bytes/1000000 matches its sha256" dmn_bytes "[$T6]"
dmn_case "tcpcore-stat -r lists prefixes and gateways" routes_listed
dmn_case "tcpcored runs as nobody after opening its device" dmn_unprivileged
if [ "$DMN_LINK" = afp ]; then
  dmn_case "v4 tcpcore-stat -N: the kernel's MAC, REACHABLE" neighbour_reachable $K4
  dmn_case "v6 tcpcore-stat -N: the kernel's MAC, REACHABLE" neighbour_reachable $K6
else
  dmn_case "tcpcore-stat -N: no neighbour cache on TUN" no_neighbours
fi
dmn_stop_case
[ "$DMN_LINK" = afp ] && dmn_case "the Ethernet capture shows ARP and ND to tcpdump" pcap_shows_link
dmn_finish
