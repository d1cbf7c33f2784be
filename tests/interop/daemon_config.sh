#!/usr/bin/env bash
# tcpcored refuses each kind of bad configuration with one sentence on
# stderr and the exit status of its kind (tools/tcpcored/exitcodes.h):
# command line, configuration file, settings, addresses, tunables, user;
# then, as root in a namespace of its own: a missing device, a device of
# the wrong kind, no privilege, a port, control socket or device in use;
# the same for --af-packet on a veth pair.
# The first group needs nothing; without root the second is skipped (and
# said so). Usage: bash $0 BUILD_DIR (CTest passes it).
set -u
BUILD=${1:?usage: bash $0 BUILD_DIR}
DMN=$BUILD/tools/tcpcored
[ -x "$DMN" ] || {
  echo "FAIL: $DMN is not built"
  exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcpc-config.XXXXXX") || exit 1
pids=()
ns=""
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
cases=0
failures=0
ok=(--addr 198.18.0.2/24 --service echo:7 --control "$tmp/run/ctl.sock")

# expect STATUS PHRASE TITLE -- COMMAND...: the command exits with STATUS
# and says exactly one line on stderr, containing PHRASE.
expect() {
  local want=$1 phrase=$2 title=$3
  shift 4
  cases=$((cases + 1))
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ $rc -eq "$want" ] && [ "$lines" -eq 1 ] && grep -qF -- "$phrase" "$tmp/err"; then
    echo "PASS $title (exit $rc): $(cat "$tmp/err")"
  else
    echo "FAIL $title: exit $rc (want $want), stderr ($lines lines, want 1 with \"$phrase\"):"
    sed 's/^/    /' "$tmp/err"
    failures=$((failures + 1))
  fi
}

conf() {
  printf '%s\n' "$@" >"$tmp/tcpcored.conf"
  echo "$tmp/tcpcored.conf"
}

expect 2 'option "--frobnicate" is unknown' "an unknown option" -- "$DMN" --frobnicate
expect 2 'unexpected argument' "a stray argument" -- "$DMN" "${ok[@]}" stray
expect 3 'cannot read configuration file' "a missing configuration file" -- \
  "$DMN" -c "$tmp/nonexistent.conf"
expect 3 'line 3: syntax error' "a configuration file with a syntax error" -- \
  "$DMN" -c "$(conf 'device = "tun0";' 'addresses = [ "198.18.0.2/24" ' 'mtu = 1500;')"
expect 4 'line 1: unknown setting "colour"' "an unknown setting in the file" -- \
  "$DMN" -c "$(conf 'colour = "blue";')"
expect 4 'mtu must be an integer' "a setting of the wrong type" -- \
  "$DMN" -c "$(conf 'mtu = "big";')"
expect 4 'MTU 100 is not from 576 to 65536' "an MTU out of range" -- "$DMN" "${ok[@]}" --mtu 100
expect 4 'the stack refuses this configuration' "an IPv6 address on a link below 1280" -- \
  "$DMN" --addr 2001:db8::2/64 --service echo:7 --mtu 1000
expect 4 'is not KIND:PORT' "an unknown service" -- "$DMN" --addr 198.18.0.2 --service gopher:70
expect 4 'no service to run' "no service" -- "$DMN" --addr 198.18.0.2
expect 4 'is not PREFIX=KEY' "an MD5 key without a prefix" -- "$DMN" "${ok[@]}" --md5-key secret
expect 4 'accept filter "datareddy" is not dataready or httpready' "an unknown accept filter" -- \
  "$DMN" "${ok[@]}" --accept-filter datareddy
expect 4 'line 1: accept filter "http" is not' "an unknown accept filter in the file" -- \
  "$DMN" -c "$(conf 'accept_filter = "http";')" "${ok[@]}"
expect 4 '81 bytes, where 1 to 80' "an MD5 key too long" -- \
  "$DMN" "${ok[@]}" --md5-key "198.18.0.1=$(printf '%081d' 0)"
expect 4 'that prefix has a key already' "two MD5 keys for one prefix" -- \
  "$DMN" -c "$(conf 'md5_keys = [ "2001:db8::/32=a", "2001:db8::/32=b" ];')" "${ok[@]}"
expect 4 'TCP Fast Open mode "sometimes" is not one of server, client, both, off' \
  "an unknown Fast Open mode" -- "$DMN" "${ok[@]}" --tcp-fastopen sometimes
expect 4 'line 1: TCP Fast Open mode "on" is not one of' "an unknown Fast Open mode in the file" \
  -- "$DMN" -c "$(conf 'tcp_fastopen = "on";')" "${ok[@]}"
expect 4 'needs net.inet.tcp.fastopen.server_enable, which a tunable setting turns off' \
  "Fast Open serving with server_enable=0" -- "$DMN" "${ok[@]}" --tcp-fastopen both \
  --sysctl net.inet.tcp.fastopen.server_enable=0
expect 5 'prefix length in "198.18.0.1/33"' "an MD5 key prefix too long" -- \
  "$DMN" "${ok[@]}" --md5-key 198.18.0.1/33=secret
expect 5 '"198.18.0.256" is not an IPv4 or IPv6 address' "a bad address" -- \
  "$DMN" --addr 198.18.0.256 --service echo:7
expect 5 'prefix length in "2001:db8::2/129"' "a bad prefix length" -- \
  "$DMN" --addr 2001:db8::2/129 --service echo:7
expect 5 'gateway 198.19.0.1 is not inside any prefix' "a gateway off every prefix" -- \
  "$DMN" "${ok[@]}" --gateway 198.19.0.1
expect 5 'is not ADDRESS:PORT' "a forward target without a port" -- \
  "$DMN" --addr 198.18.0.2 --service forward:80:198.18.0.1
expect 5 'stack has no address' "no address" -- "$DMN" --service echo:7
expect 6 'there is no tunable named net.inet.tcp.nosuch' "an unknown tunable" -- \
  "$DMN" "${ok[@]}" --sysctl net.inet.tcp.nosuch=1
expect 6 'tunable net.inet.tcp.msl refuses 0' "a value the tunable refuses" -- \
  "$DMN" "${ok[@]}" --sysctl net.inet.tcp.msl=0
expect 6 'is not NAME=VALUE' "a tunable without a value" -- \
  "$DMN" "${ok[@]}" --sysctl net.inet.tcp.msl
expect 6 'there is no tunable named kern.nosuch' "an unknown tunable in the file" -- \
  "$DMN" -c "$(conf 'addresses = [ "198.18.0.2/24" ];' 'sysctl = [ "kern.nosuch=1" ];' \
    'services = ( { kind = "echo"; port = 7; } );')"
expect 10 'there is no user named tcpc-nosuch-user' "an unknown user" -- \
  "$DMN" "${ok[@]}" --user tcpc-nosuch-user
expect 10 'user root has uid 0' "root as the user" -- "$DMN" "${ok[@]}" --user root
expect 7 'there is no network interface named tcpcnodev9' "a missing device" -- \
  "$DMN" "${ok[@]}" --tun tcpcnodev9
expect 2 '--tun and --af-packet exclude each other' "both --tun and --af-packet" -- \
  "$DMN" "${ok[@]}" --tun tun0 --af-packet veth0
expect 4 'line 2: device and af_packet exclude each other' "both devices in the file" -- \
  "$DMN" -c "$(conf 'device = "tun0";' 'af_packet = "veth0";')"
expect 4 '--tun-multiqueue is for a TUN device, not for --af-packet' \
  "--tun-multiqueue with --af-packet" -- "$DMN" "${ok[@]}" --af-packet veth0 --tun-multiqueue
expect 7 'there is no network interface named tcpcnodev9' "a missing AF_PACKET interface" -- \
  "$DMN" "${ok[@]}" --af-packet tcpcnodev9

root_cases() {
  ns="tcpc-$$-config"
  ip netns add "$ns" 2>/dev/null || return 1
  ip -n "$ns" link set lo up && ip -n "$ns" tuntap add dev tun0 mode tun &&
    ip -n "$ns" tuntap add dev tun1 mode tun && ip -n "$ns" link set tun0 up &&
    ip -n "$ns" link set tun1 up && ip -n "$ns" tuntap add dev mq0 mode tun multi_queue &&
    ip -n "$ns" link set mq0 up && ip -n "$ns" link add va type veth peer name vb &&
    ip -n "$ns" link set va up && ip -n "$ns" link set vb up || return 1
  local in=(ip netns exec "$ns")
  expect 7 'cannot attach to TUN device lo' "a device that is not a TUN device" -- \
    "${in[@]}" "$DMN" "${ok[@]}" --tun lo
  expect 8 'Permission denied' "no privilege to open the device" -- \
    "${in[@]}" setpriv --reuid nobody --regid nogroup --clear-groups "$DMN" "${ok[@]}"
  expect 7 'interface lo has no Ethernet address' "--af-packet on an interface without a MAC" -- \
    "${in[@]}" "$DMN" "${ok[@]}" --af-packet lo
  expect 8 'AF_PACKET needs CAP_NET_RAW' "no privilege to open a packet socket" -- \
    "${in[@]}" setpriv --reuid nobody --regid nogroup --clear-groups "$DMN" "${ok[@]}" \
    --af-packet va
  expect 4 "MTU 9000 is larger than interface va's MTU of 1500" "--mtu above the interface's" -- \
    "${in[@]}" "$DMN" "${ok[@]}" --af-packet va --mtu 9000
  expect 9 'cannot listen on IPv4 port 7 for http: Address already in use' \
    "two services on one port" -- "${in[@]}" "$DMN" "${ok[@]}" --service http:7
  timeout 120 "${in[@]}" "$DMN" "${ok[@]}" --control "$tmp/run/ctl.sock" >"$tmp/first.out" \
    2>"$tmp/first.err" &
  pids+=($!)
  # By the clock, not by a count of polls: on a loaded machine (or under
  # ASan) starting can take a while, and each poll costs more than its nap.
  local until=$((SECONDS + 60))
  while ((SECONDS < until)); do
    grep -q ready "$tmp/first.out" 2>/dev/null && break
    sleep 0.01
  done
  expect 9 'is in use: another tcpcored is running' "a control socket in use" -- \
    "${in[@]}" "$DMN" "${ok[@]}" --tun tun1 --control "$tmp/run/ctl.sock"
  expect 9 'another process holds it' "a device in use" -- \
    "${in[@]}" "$DMN" "${ok[@]}" --control "$tmp/run/other.sock"
  expect 7 'is not a multiqueue TUN device' "--tun-multiqueue on a single-queue device" -- \
    "${in[@]}" "$DMN" "${ok[@]}" --tun tun1 --tun-multiqueue
  local example
  example=$(dirname "$0")/../../tools/tcpcored/tcpcored.conf.example
  starts "the example configuration file starts the daemon" "${in[@]}" "$DMN" -c "$example" \
    --tun tun1 --control "$tmp/run/example.sock"
  starts "on AF_PACKET, with the interface's MTU" "${in[@]}" "$DMN" "${ok[@]}" --af-packet va \
    --control "$tmp/run/afp.sock"
  starts "a multiqueue device, attached as one queue" "${in[@]}" "$DMN" "${ok[@]}" --tun mq0 \
    --tun-multiqueue --control "$tmp/run/mq.sock"
}

# starts TITLE COMMAND...: the daemon comes up (says it is ready) and stops
# cleanly on SIGTERM.
starts() {
  local title=$1
  shift
  cases=$((cases + 1))
  # The previous start's "ready" must not be read before the background
  # shell truncates the file.
  rm -f "$tmp/start.out" "$tmp/start.err"
  timeout 90 "$@" >"$tmp/start.out" 2>"$tmp/start.err" &
  local pid=$! until=$((SECONDS + 60))
  pids+=("$pid")
  while ((SECONDS < until)); do
    grep -q '^tcpcored: ready' "$tmp/start.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  local rc=$?
  if [ $rc -eq 0 ] && grep -q '^tcpcored: ready' "$tmp/start.out"; then
    echo "PASS $title: $(head -n 1 "$tmp/start.out")"
  else
    echo "FAIL $title: exit $rc"
    sed "s/^/    /" "$tmp/start.out" "$tmp/start.err"
    failures=$((failures + 1))
  fi
}

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v setpriv >/dev/null; then
  echo "SKIP the cases that need root, ip and setpriv (device, privilege, in use)"
else
  before=$cases
  root_cases || [ $cases -ne "$before" ] ||
    echo "SKIP the cases that need a network namespace: cannot create one"
fi
echo "$((cases - failures)) passed, $failures failed"
[ $failures -eq 0 ]
