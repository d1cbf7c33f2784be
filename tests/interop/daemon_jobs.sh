#!/usr/bin/env bash
# tcpcored -j 2: two workers, each a stack pinned to a CPU, as one host.
#
# First on AF_PACKET (a veth pair, daemon-lib.bash's DMN_LINK=afp): the two
# sockets form one fanout group whose classic BPF program is the workers'
# ownership rule. Many curl requests are served, by both workers; a
# forward,stack service's active opens, made by whichever worker accepted
# the client, all complete, from both workers, with no hand-off at all
# (tcps_handoff 0, read with tcpcore-stat): every reply came home.
#
# Then on a multiqueue TUN device (--tun-multiqueue, one queue per worker),
# where the kernel picks the queue by its own hash and flow table and no
# stack can predict it. The backend answers after 7 s of silence, past the
# device's flow-table ageing (about 3 s), so the replies go by the
# kernel's hash, half of them to the worker that does not own the port:
# every connection still completes, and tcpcore-stat counts the hand-offs
# (tcps_handoff = tcps_handoff_rcvd > 0, nothing dropped).
#
# Usage: bash $0 BUILD_DIR (CTest passes it). See daemon-lib.bash.
DMN_LINK=afp
source "$(dirname "$0")/daemon-lib.bash"
command -v jq >/dev/null 2>&1 || interop_skip "needs jq (reads tcpcore-stat --json)"
DMN_PY=$(command -v python3) || interop_skip "needs python3 (the backend)"
CONNS=${TCPC_INTEROP_JOBS_CONNS:-40}

# backend ADDR PORT DELAY: a kernel echo server in the namespace that
# answers each connection's first line after DELAY seconds, then waits for
# the client's end of stream.
backend() {
  local log=$interop_tmp/backend-$2
  ip netns exec "$DMN_NS" timeout 100 "$DMN_PY" -c '
import socket, socketserver, sys, time
addr, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        data = b""
        while not data.endswith(b"\n"):
            b = self.request.recv(4096)
            if not b:
                return
            data += b
        time.sleep(delay)
        self.request.sendall(data)
        while self.request.recv(4096):
            pass
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128
    address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = Server((addr, port), Echo)
print("listening", flush=True)
s.serve_forever()
' "$1" "$2" "$3" >"$log.out" 2>"$log.err" &
  local pid=$!
  interop_pids+=("$pid")
  interop_wait_listening "$pid" "$log" || {
    echo "the backend on port $2 did not listen: $(cat "$log.err")"
    return 1
  }
}

# stat_json: the daemon's answer (daemon and counters).
stat_json() {
  dmn_stat --json -d -s
}

# counter NAME [WORKER]: the host's sum, or one worker's.
counter() {
  if [ $# -eq 2 ]; then
    stat_json | jq -e ".worker_counters[$2].$1"
  else
    stat_json | jq -e ".counters.$1"
  fi
}

# curls ADDR: CONNS pages; both workers must have accepted some.
curls() {
  local i body ok=0
  for ((i = 0; i < CONNS; i++)); do
    body=$(kexec curl -sS -m 10 "http://$1/") && grep -q "Hello from tcpcore" <<<"$body" &&
      ok=$((ok + 1))
  done
  [ $ok -eq "$CONNS" ] || {
    echo "$ok of $CONNS pages"
    return 1
  }
  local a0 a1
  a0=$(stat_json | jq '.daemon.workers[0].connections_accepted')
  a1=$(stat_json | jq '.daemon.workers[1].connections_accepted')
  [ "$a0" -gt 0 ] && [ "$a1" -gt 0 ] || {
    echo "accepted by worker 0: $a0, by worker 1: $a1 (one idle)"
    return 1
  }
  echo "$CONNS pages; accepted so far by worker 0: $a0, worker 1: $a1"
}

# forwards KERNEL-ADDR TCPCORE-ADDR PORT COUNT: COUNT clients at once
# through forward,stack; every one's line comes back through the relay.
forwards() {
  kexec "$DMN_KCONNS" --addr "$1" --connect "$2" "$3" --count "$4" --concurrent --timeout 60 || {
    echo "kconns failed"
    return 1
  }
}

# active WORKER: the active opens the worker completed (established
# connections that were not accepted).
active() {
  echo $(($(counter tcps_connects "$1") - $(counter tcps_accepts "$1")))
}

# opens_everywhere: both workers made active opens.
opens_everywhere() {
  local c0 c1
  c0=$(active 0)
  c1=$(active 1)
  [ "$c0" -gt 0 ] && [ "$c1" -gt 0 ] || {
    echo "active opens completed by worker 0: $c0, by worker 1: $c1"
    return 1
  }
  echo "active opens completed by worker 0: $c0, worker 1: $c1"
}

# handoffs none|counted: the hand-off counters (none: all 0; counted:
# handed off = taken over > 0, nothing dropped), and active opens from
# both workers.
handoffs() {
  local h r q opens
  h=$(counter tcps_handoff)
  r=$(counter tcps_handoff_rcvd)
  q=$(counter tcps_handoff_qdrop)
  if [ "$1" = none ]; then
    [ "$h" -eq 0 ] && [ "$r" -eq 0 ] && [ "$q" -eq 0 ]
  else
    [ "$h" -gt 0 ] && [ "$h" -eq "$r" ] && [ "$q" -eq 0 ]
  fi || {
    echo "tcps_handoff $h, tcps_handoff_rcvd $r, tcps_handoff_qdrop $q (want $1)"
    return 1
  }
  opens=$(opens_everywhere) || {
    echo "$opens"
    return 1
  }
  echo "tcps_handoff $h, tcps_handoff_rcvd $r, tcps_handoff_qdrop $q; $opens"
}

# tcpcore-stat: one listing (each listener once) and summed counters;
# -W adds the worker column, every worker's listeners and the counters by
# worker, whose columns add up to the total.
stat_views() {
  local one all line
  one=$(dmn_stat | grep -c '\.80 .*LISTEN')
  all=$(dmn_stat -W | grep -c '^[01] .*\.80 .*LISTEN')
  [ "$one" -eq 2 ] && [ "$all" -eq 4 ] || {
    echo "port 80 listeners: $one in the listing (want 2), $all with -W (want 4)"
    dmn_stat -W
    return 1
  }
  line=$(dmn_stat -W -s | sed -n '/^by worker/,$p' | grep '^tcps_accepts ')
  read -r _ total w0 w1 <<<"$line"
  [ -n "$line" ] && [ "$total" -eq $((w0 + w1)) ] && [ "$w0" -gt 0 ] && [ "$w1" -gt 0 ] || {
    echo "tcps_accepts by worker: '$line'"
    return 1
  }
  [ "$total" -eq "$(counter tcps_accepts)" ] || {
    echo "the summed tcps_accepts is $(counter tcps_accepts), the breakdown's total $total"
    return 1
  }
  echo "listeners once (2), with -W per worker (4); tcps_accepts $total = $w0 + $w1"
}

# A -j the daemon cannot have is refused in a sentence, with its status.
bad_jobs() {
  local out rc
  out=$("$DMN" -j 0 --tun tun0 --addr $T4/24 --service echo:7 2>&1)
  rc=$?
  [ $rc -eq 4 ] && grep -q "worker count (-j) 0 is not from 1 to" <<<"$out" || {
    echo "-j 0: status $rc, $out"
    return 1
  }
  out=$("$DMN" -j 2 --tun tun0 --addr $T4/24 --service echo:7 2>&1)
  rc=$?
  [ $rc -eq 4 ] && grep -q "needs one queue per worker" <<<"$out" || {
    echo "-j 2 on a single-queue TUN: status $rc, $out"
    return 1
  }
  echo 'jobs = 9999;' >"$interop_tmp/jobs.conf"
  out=$("$DMN" -c "$interop_tmp/jobs.conf" --tun tun0 --addr $T4/24 --service echo:7 2>&1)
  rc=$?
  [ $rc -eq 4 ] && grep -q "jobs.conf line 1: worker count (-j) 9999 is not from 1 to" <<<"$out" || {
    echo "jobs = 9999 in the file: status $rc, $out"
    return 1
  }
  echo "-j 0, -j 2 without queues and jobs = 9999 refused (status 4)"
}

dmn_case "-j out of range or without queues is refused" bad_jobs

# --- AF_PACKET fanout -------------------------------------------------------
dmn_setup jobs
dmn_start -j 2 --service http:80 --service "forward:8041:$K4:9041,stack" \
  --service "forward:8061:[$K6]:9061,stack"
backend $K4 9041 0 || exit 1
backend $K6 9061 0 || exit 1
dmn_case "-j 2: $CONNS v4 pages served by both workers" curls $T4
dmn_case "-j 2: $CONNS v6 pages served by both workers" curls "[$T6]"
dmn_case "-j 2: tcpcore-stat sums, -W breaks down by worker" stat_views
dmn_case "-j 2: $CONNS v4 forwards through tcpcore's active opens" forwards $K4 $T4 8041 "$CONNS"
dmn_case "-j 2: $CONNS v6 forwards through tcpcore's active opens" forwards $K6 $T6 8061 "$CONNS"
dmn_case "-j 2: active opens from both workers, zero hand-offs" handoffs none
dmn_stop_case

# --- multiqueue TUN ---------------------------------------------------------
mq_netns() {
  local ns=$1
  ip netns add "$ns" 2>/dev/null || return 77
  interop_namespaces+=("$ns")
  ip -n "$ns" link set lo up &&
    ip -n "$ns" tuntap add dev tun0 mode tun multi_queue &&
    ip -n "$ns" addr add $K4/24 dev tun0 &&
    ip -n "$ns" -6 addr add $K6/64 dev tun0 nodad &&
    ip -n "$ns" link set tun0 up
}
DMN_LINK=tun
DMN_NAME=jobs-mq
DMN_NS="tcpc-$$-jobs-mq"
mq_netns "$DMN_NS" || {
  echo "FAIL: cannot make a multiqueue TUN device"
  exit 1
}
DMN_CTL=$interop_tmp/jobs-mq-run/ctl.sock
DMN_LOG=$interop_tmp/jobs-mq.tcpcored
DMN_DEVICE=(--tun tun0 --tun-multiqueue)
dmn_start -j 2 --service http:80 --service "forward:8041:$K4:9041,stack" \
  --service "forward:8061:[$K6]:9061,stack"
backend $K4 9041 7 || exit 1
backend $K6 9061 7 || exit 1
dmn_case "mq -j 2: 16 v4 forwards answered after the flow table forgot them" \
  forwards $K4 $T4 8041 16
dmn_case "mq -j 2: 16 v6 forwards answered after the flow table forgot them" \
  forwards $K6 $T6 8061 16
dmn_case "mq -j 2: the mis-steered replies were handed to their owners" handoffs counted
dmn_case "mq -j 2: $CONNS v4 pages" curls $T4
dmn_stop_case
dmn_finish
