/**
 * @file
 * @brief Tunables, addressed by FreeBSD's sysctl names (net.inet.tcp.msl, ...).
 *
 * Every tunable has one entry in a table (src/core/sysctl.c) giving its name,
 * default, bounds and a validator; the same validation runs whether a value
 * is set on a configuration before the stack exists or on a live stack. Some
 * tunables size tables and pools (FreeBSD's loader tunables, CTLFLAG_RDTUN):
 * those can be set only on the configuration, and a live set answers -EPERM.
 *
 * Values are integers; units are in the description (milliseconds where
 * FreeBSD uses milliseconds, as for net.inet.tcp.msl).
 */
#ifndef TCPCORE_SYSCTL_H
#define TCPCORE_SYSCTL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TCPC_TUN_RW    0x0 /**< tunable flag: settable on a live stack */
#define TCPC_TUN_BOOT  0x1 /**< tunable flag: sizes memory, configuration only */
#define TCPC_TUN_POW2  0x2 /**< tunable flag: must be a power of two */
#define TCPC_TUN_AUTO0 0x4 /**< tunable flag: 0 means "size it automatically" */
#define TCPC_TUN_RDONLY                                                                            \
    0x8 /**< tunable flag: reports the stack's state; tcpc_sysctl_get reads it, a set is -EPERM */

/**
 * The tunables: X(field, sysctl name, default, min, max, flags, description).
 * min/max bound every value except an AUTO0 tunable's 0.
 */
#define TCPC_TUNABLES(X)                                                                           \
    X(syncookies, "net.inet.tcp.syncookies", 1, 0, 1, TCPC_TUN_RW,                                 \
      "send SYN cookies when the SYN cache overflows (0 or 1)")                                    \
    X(syncookies_only, "net.inet.tcp.syncookies_only", 0, 0, 1, TCPC_TUN_RW,                       \
      "answer every SYN with a cookie and keep no SYN cache entries (0 or 1)")                     \
    X(sc_hashsize, "net.inet.tcp.syncache.hashsize", 512, 1, 1 << 24,                              \
      TCPC_TUN_BOOT | TCPC_TUN_POW2, "SYN cache buckets (a power of two)")                         \
    X(sc_bucketlimit, "net.inet.tcp.syncache.bucketlimit", 30, 1, 1 << 16, TCPC_TUN_BOOT,          \
      "SYN cache entries per bucket")                                                              \
    X(sc_cachelimit, "net.inet.tcp.syncache.cachelimit", 0, 1, 1 << 28,                            \
      TCPC_TUN_BOOT | TCPC_TUN_AUTO0, "SYN cache entries in all (0: hashsize x bucketlimit)")      \
    X(sc_rexmtlimit, "net.inet.tcp.syncache.rexmtlimit", 3, 0, 12, TCPC_TUN_RW,                    \
      "SYN-ACK retransmissions before a SYN cache entry is dropped")                               \
    X(maxtcptw, "net.inet.tcp.maxtcptw", 0, 32, 1 << 28, TCPC_TUN_RW | TCPC_TUN_AUTO0,             \
      "compressed TIME_WAIT entries (at least 32; 0: half the ephemeral port range)")              \
    X(nolocaltimewait, "net.inet.tcp.nolocaltimewait", 0, 0, 1, TCPC_TUN_RW,                       \
      "skip TIME_WAIT for connections to a local address (0 or 1)")                                \
    X(tw_reuse, "net.inet.tcp.tw_reuse", 1, 0, 1, TCPC_TUN_RW,                                     \
      "let connect() take over a TIME_WAIT 4-tuple when RFC 6191 says it is safe (0 or 1)")        \
    X(msl, "net.inet.tcp.msl", 30000, 1, 600000, TCPC_TUN_RW,                                      \
      "maximum segment lifetime in milliseconds (TIME_WAIT lasts twice this)")                     \
    X(portrange_first, "net.inet.ip.portrange.first", 10000, 1, 65535, TCPC_TUN_RW,                \
      "first ephemeral port (1..65535, at most portrange.last)")                                   \
    X(portrange_last, "net.inet.ip.portrange.last", 65535, 1, 65535, TCPC_TUN_RW,                  \
      "last ephemeral port (1..65535, at least portrange.first)")                                  \
    X(portrange_hashsize, "net.inet.ip.portrange.hashsize", 65536, 256, 65536,                     \
      TCPC_TUN_BOOT | TCPC_TUN_POW2,                                                               \
      "RFC 6056 port-walk counters (a power of two, 256..65536; fewer ease port tracking)")        \
    X(mssdflt, "net.inet.tcp.mssdflt", 536, 88, 65495, TCPC_TUN_RW,                                \
      "MSS assumed when the peer sends none")                                                      \
    X(minmss, "net.inet.tcp.minmss", 216, 88, 65495, TCPC_TUN_RW,                                  \
      "smallest MSS accepted from a peer or a path")                                               \
    X(sendspace, "net.inet.tcp.sendspace", 65536, 512, 1 << 26, TCPC_TUN_RW,                       \
      "default send buffer in bytes")                                                              \
    X(recvspace, "net.inet.tcp.recvspace", 65536, 512, 1 << 26, TCPC_TUN_RW,                       \
      "default receive buffer in bytes")                                                           \
    X(sockbuf_max, "kern.ipc.maxsockbuf", 2097152, 4096, 4294967295, TCPC_TUN_RW,                  \
      "largest socket buffer in bytes, 4096..4294967295 (sets the window scale we offer)")         \
    X(rfc1323, "net.inet.tcp.rfc1323", 1, 0, 1, TCPC_TUN_RW,                                       \
      "use window scaling and timestamps (RFC 7323) (0 or 1)")                                     \
    X(sack_enable, "net.inet.tcp.sack.enable", 1, 0, 1, TCPC_TUN_RW, "negotiate SACK (0 or 1)")    \
    X(sack_globalmaxholes, "net.inet.tcp.sack.globalmaxholes", 262144, 64, 1 << 26, TCPC_TUN_BOOT, \
      "SACK scoreboard ranges of all connections (64 per connection holding a record, 64..2^26)")  \
    X(rack_enable, "net.inet.tcp.rack.enable", 1, 0, 1, TCPC_TUN_RW,                               \
      "RACK-TLP loss detection and tail-loss probes (RFC 8985) on SACK connections (0 or 1)")      \
    X(cc_algorithm, "net.inet.tcp.cc.algorithm", 1, 0, 1, TCPC_TUN_RW,                             \
      "congestion control of new connections: newreno (0) or cubic (1); tcpc_sysctl_set_str "      \
      "takes the names")                                                                           \
    X(abc_l_var, "net.inet.tcp.abc_l_var", 1, 1, 16, TCPC_TUN_RW,                                  \
      "segments one ACK may add to the window in slow start (RFC 3465's L, 1..16)")                \
    X(hystart_enable, "net.inet.tcp.cc.hystartplusplus.enable", 1, 0, 1, TCPC_TUN_RW,              \
      "CUBIC's first slow start ends on a growing RTT (HyStart++, RFC 9406) (0 or 1)")             \
    X(hystart_minrtt_thresh, "net.inet.tcp.cc.hystartplusplus.minrtt_thresh", 4000, 1, 1000000,    \
      TCPC_TUN_RW, "HyStart++: least RTT increase that ends slow start, microseconds")             \
    X(hystart_maxrtt_thresh, "net.inet.tcp.cc.hystartplusplus.maxrtt_thresh", 16000, 1, 1000000,   \
      TCPC_TUN_RW, "HyStart++: largest RTT increase it waits for, microseconds")                   \
    X(hystart_n_rttsamples, "net.inet.tcp.cc.hystartplusplus.n_rttsamples", 8, 1, 255,             \
      TCPC_TUN_RW, "HyStart++: RTT samples a round needs before its minimum counts (1..255)")      \
    X(hystart_css_growth_div, "net.inet.tcp.cc.hystartplusplus.css_growth_div", 4, 1, 1024,        \
      TCPC_TUN_RW, "HyStart++: conservative slow start grows this many times slower (1..1024)")    \
    X(hystart_css_rounds, "net.inet.tcp.cc.hystartplusplus.css_rounds", 5, 1, 255, TCPC_TUN_RW,    \
      "HyStart++: rounds of conservative slow start before congestion avoidance (1..255)")         \
    X(ecn_enable, "net.inet.tcp.ecn.enable", 2, 0, 2, TCPC_TUN_RW,                                 \
      "ECN (RFC 3168): 0 off, 1 asked for and accepted, 2 accepted when the peer asks")            \
    X(ecn_maxretries, "net.inet.tcp.ecn.maxretries", 1, 0, 12, TCPC_TUN_RW,                        \
      "SYN retransmissions still asking for ECN before it is given up (0..12)")                    \
    X(delayed_ack, "net.inet.tcp.delayed_ack", 1, 0, 1, TCPC_TUN_RW, "delay ACKs (0 or 1)")        \
    X(delacktime, "net.inet.tcp.delacktime", 40, 1, 1000, TCPC_TUN_RW,                             \
      "delayed ACK timeout in milliseconds")                                                       \
    X(rexmit_initial, "net.inet.tcp.rexmit_initial", 1000, 1, 60000, TCPC_TUN_RW,                  \
      "initial retransmission timeout in milliseconds (RFC 6298: 1000)")                           \
    X(rexmit_min, "net.inet.tcp.rexmit_min", 200, 1, 60000, TCPC_TUN_RW,                           \
      "smallest retransmission timeout in milliseconds")                                           \
    X(rexmit_max, "net.inet.tcp.rexmit_max", 64000, 1000, 600000, TCPC_TUN_RW,                     \
      "largest retransmission timeout in milliseconds")                                            \
    X(rexmit_slop, "net.inet.tcp.rexmit_slop", 0, 0, 60000, TCPC_TUN_RW,                           \
      "milliseconds added to each retransmission timeout but the first SYN's (0..60000)")          \
    X(rexmit_drop_options, "net.inet.tcp.rexmit_drop_options", 0, 0, 1, TCPC_TUN_RW,               \
      "from the fourth SYN of a connection attempt on, offer only the MSS (0 or 1)")               \
    X(icmp_may_rst, "net.inet.tcp.icmp_may_rst", 1, 0, 1, TCPC_TUN_RW,                             \
      "ICMP unreachables and time exceeded may abort a connection attempt (0 or 1)")               \
    X(keepinit, "net.inet.tcp.keepinit", 75000, 1000, 3600000, TCPC_TUN_RW,                        \
      "connection-establishment timeout in milliseconds")                                          \
    X(keepidle, "net.inet.tcp.keepidle", 7200000, 1000, 864000000, TCPC_TUN_RW,                    \
      "idle milliseconds before the first keepalive probe (1000..864000000)")                      \
    X(keepintvl, "net.inet.tcp.keepintvl", 75000, 1000, 3600000, TCPC_TUN_RW,                      \
      "milliseconds between unanswered keepalive probes (1000..3600000)")                          \
    X(keepcnt, "net.inet.tcp.keepcnt", 8, 1, 255, TCPC_TUN_RW,                                     \
      "keepalive probes unanswered before the connection is dropped (1..255)")                     \
    X(always_keepalive, "net.inet.tcp.always_keepalive", 1, 0, 1, TCPC_TUN_RW,                     \
      "keepalive on every connection, as if SO_KEEPALIVE were set (0 or 1)")                       \
    X(finwait2_timeout, "net.inet.tcp.finwait2_timeout", 60000, 1000, 3600000, TCPC_TUN_RW,        \
      "milliseconds a closed connection waits in FIN_WAIT_2 under fast_finwait2_recycle")          \
    X(fast_finwait2_recycle, "net.inet.tcp.fast_finwait2_recycle", 0, 0, 1, TCPC_TUN_RW,           \
      "close a closed connection after finwait2_timeout in FIN_WAIT_2, busy or not (0 or 1)")      \
    X(pmtud_blackhole_detection, "net.inet.tcp.pmtud_blackhole_detection", 0, 0, 3, TCPC_TUN_RW,   \
      "lower the MSS after timeouts of full-size segments: 0 off, 1 both, 2 IPv4, 3 IPv6")         \
    X(pmtud_blackhole_mss, "net.inet.tcp.pmtud_blackhole_mss", 1200, 88, 65495, TCPC_TUN_RW,       \
      "the MSS IPv4 black-hole detection tries first (88..65495)")                                 \
    X(v6pmtud_blackhole_mss, "net.inet.tcp.v6pmtud_blackhole_mss", 1220, 88, 65495, TCPC_TUN_RW,   \
      "the MSS IPv6 black-hole detection tries first (88..65495)")                                 \
    X(ack_limit, "net.inet.tcp.ack_limit", 100, 1, 100000, TCPC_TUN_RW,                            \
      "challenge ACKs per connection per second (RFC 5961)")                                       \
    X(insecure_rst, "net.inet.tcp.insecure_rst", 0, 0, 1, TCPC_TUN_RW,                             \
      "reset on any RST in the window, not only at RCV.NXT: RFC 5961 3.2 off (0 or 1)")            \
    X(insecure_syn, "net.inet.tcp.insecure_syn", 0, 0, 1, TCPC_TUN_RW,                             \
      "reset on a SYN in the window instead of a challenge ACK: RFC 5961 4.2 off (0 or 1)")        \
    X(drop_synfin, "net.inet.tcp.drop_synfin", 0, 0, 1, TCPC_TUN_RW,                               \
      "drop every segment with both SYN and FIN set (0 or 1)")                                     \
    X(tolerate_missing_ts, "net.inet.tcp.tolerate_missing_ts", 0, 0, 1, TCPC_TUN_RW,               \
      "process segments without the timestamp option timestamps were negotiated for (0 or 1)")     \
    X(maxsockets, "kern.ipc.maxsockets", 65536, 64, 1 << 26, TCPC_TUN_BOOT,                        \
      "sockets (full connections and listeners) the stack can hold")                               \
    X(sockbuf_reserve, "kern.ipc.sockbuf_reserve", 256, 1, 1 << 20, TCPC_TUN_RW,                   \
      "spare smallest socket buffers kept ready for data arriving on idle connections (1..2^20)")  \
    X(icmplim, "net.inet.icmp.icmplim", 200, 0, 1000000, TCPC_TUN_RW,                              \
      "ICMP echo replies per second and family (0..1000000; 0: no limit)")                         \
    X(arp_max_age, "net.link.ether.inet.max_age", 1200, 1, 86400, TCPC_TUN_RW,                     \
      "seconds an ARP entry is used before it must be confirmed again (1..86400)")                 \
    X(arp_maxtries, "net.link.ether.inet.maxtries", 5, 1, 100, TCPC_TUN_RW,                        \
      "ARP requests, one a second, before a neighbour counts as unreachable (1..100)")             \
    X(arp_maxhold, "net.link.ether.inet.maxhold", 16, 1, 1024, TCPC_TUN_RW,                        \
      "IPv4 packets held per unresolved neighbour; beyond, the oldest is dropped (1..1024)")       \
    X(nd6_maxqueuelen, "net.inet6.icmp6.nd6_maxqueuelen", 16, 1, 1024, TCPC_TUN_RW,                \
      "IPv6 packets held per unresolved neighbour; beyond, the oldest is dropped (1..1024)")       \
    X(nd6_mmaxtries, "net.inet6.icmp6.nd6_mmaxtries", 3, 1, 100, TCPC_TUN_RW,                      \
      "multicast solicitations, one a second, before a neighbour counts as unreachable (1..100)")  \
    X(nd6_umaxtries, "net.inet6.icmp6.nd6_umaxtries", 3, 1, 100, TCPC_TUN_RW,                      \
      "unicast probes, one a second, before a known neighbour is dropped (1..100)")                \
    X(nd6_delay, "net.inet6.icmp6.nd6_delay", 5, 1, 3600, TCPC_TUN_RW,                             \
      "seconds a stale neighbour in use waits before it is probed (1..3600)")                      \
    X(nd6_gctimer, "net.inet6.icmp6.nd6_gctimer", 86400, 1, 31536000, TCPC_TUN_RW,                 \
      "seconds a stale IPv6 neighbour is kept unused before it is removed (1..31536000)")          \
    X(lle_maxentries, "net.link.lle.maxentries", 1024, 8, 1 << 20, TCPC_TUN_BOOT,                  \
      "neighbour cache entries of both families (8..1048576); the oldest is evicted beyond")       \
    X(lle_maxheld, "net.link.lle.maxheld", 64, 1, 1 << 16, TCPC_TUN_BOOT,                          \
      "packets all unresolved neighbours hold together, in buffers allocated up front (1..65536)") \
    X(vlan_skip, "net.link.ether.vlan_skip", 0, 0, 1, TCPC_TUN_RW,                                 \
      "take 802.1Q-tagged frames by skipping the tag (1) or drop them (0); VID 0 always passes")   \
    X(path_mtu_discovery, "net.inet.tcp.path_mtu_discovery", 1, 0, 1, TCPC_TUN_RW,                 \
      "set DF on IPv4 segments for path MTU discovery (0 or 1; IP_DONTFRAG sets it anyway)")       \
    X(ip_ttl, "net.inet.ip.ttl", 64, 1, 255, TCPC_TUN_RW,                                          \
      "TTL of IPv4 segments from sockets without IP_TTL (1..255)")                                 \
    X(ip6_hlim, "net.inet6.ip6.hlim", 64, 1, 255, TCPC_TUN_RW,                                     \
      "hop limit of IPv6 segments from sockets without IPV6_UNICAST_HOPS (1..255)")                \
    X(auto_flowlabel, "net.inet6.ip6.auto_flowlabel", 1, 0, 1, TCPC_TUN_RW,                        \
      "give each IPv6 connection a flow label hashed from its addresses and ports (0 or 1)")       \
    X(sc_rst_on_sock_fail, "net.inet.tcp.syncache.rst_on_sock_fail", 1, 0, 1, TCPC_TUN_RW,         \
      "answer a completing ACK with RST when its connection cannot be had: accept queue full, "    \
      "no control block (0 or 1; 0 drops it silently)")                                            \
    X(sc_count, "net.inet.tcp.syncache.count", 0, 0, 0, TCPC_TUN_RDONLY,                           \
      "SYN cache entries now (read-only)")                                                         \
    X(sendbuf_auto, "net.inet.tcp.sendbuf_auto", 1, 0, 1, TCPC_TUN_RW,                             \
      "grow send buffers with what the connection sends (0 or 1); SO_SNDBUF turns it off")         \
    X(sendbuf_inc, "net.inet.tcp.sendbuf_inc", 8192, 1, 1 << 26, TCPC_TUN_RW,                      \
      "bytes a send buffer grows by at a time (1..2^26)")                                          \
    X(sendbuf_max, "net.inet.tcp.sendbuf_max", 2097152, 4096, 4294967295, TCPC_TUN_RW,             \
      "largest send buffer growth reaches, 4096..4294967295 (and never past kern.ipc.maxsockbuf)") \
    X(recvbuf_auto, "net.inet.tcp.recvbuf_auto", 1, 0, 1, TCPC_TUN_RW,                             \
      "grow receive buffers with what the connection receives (0 or 1); SO_RCVBUF turns it off")   \
    X(recvbuf_inc, "net.inet.tcp.recvbuf_inc", 0, 1, 1 << 26, TCPC_TUN_RW | TCPC_TUN_AUTO0,        \
      "bytes a receive buffer grows by at a time (1..2^26; 0: half its size, as FreeBSD 13+)")     \
    X(recvbuf_max, "net.inet.tcp.recvbuf_max", 2097152, 4096, 4294967295, TCPC_TUN_RW,             \
      "largest receive buffer growth reaches, 4096..4294967295 (never past kern.ipc.maxsockbuf)")  \
    X(sockbuf_budget, "kern.ipc.sockbuf_budget", 1073741824, 65536, 1LL << 46, TCPC_TUN_RW,        \
      "bytes of buffer storage all connections hold together, 65536..2^46; at it, windows close "  \
      "and sends block")                                                                           \
    X(tfo_client_enable, "net.inet.tcp.fastopen.client_enable", 1, 0, 1, TCPC_TUN_RW,              \
      "TCP Fast Open for connections that ask for it (0 or 1); 0 empties the cookie cache")        \
    X(tfo_ccache_buckets, "net.inet.tcp.fastopen.ccache_buckets", 2048, 1, 1 << 20,                \
      TCPC_TUN_BOOT | TCPC_TUN_POW2, "Fast Open client cookie cache buckets (a power of two)")     \
    X(tfo_ccache_bucket_limit, "net.inet.tcp.fastopen.ccache_bucket_limit", 16, 1, 1 << 10,        \
      TCPC_TUN_BOOT, "Fast Open cookie cache entries per bucket, 1..1024")                         \
    X(tfo_path_disable_time, "net.inet.tcp.fastopen.path_disable_time", 900, 0, 86400,             \
      TCPC_TUN_RW, "seconds Fast Open stays off towards a server after it failed, 0..86400")       \
    X(tfo_server_enable, "net.inet.tcp.fastopen.server_enable", 0, 0, 1, TCPC_TUN_RW,              \
      "TCP Fast Open for listeners that ask for it (0 or 1); 0 removes the keys")                  \
    X(tfo_acceptany, "net.inet.tcp.fastopen.acceptany", 0, 0, 1, TCPC_TUN_RW,                      \
      "take any non-empty Fast Open cookie as valid (0 or 1; for tests)")                          \
    X(tfo_autokey, "net.inet.tcp.fastopen.autokey", 120, 0, 2147483, TCPC_TUN_RW,                  \
      "seconds between new Fast Open server keys, 0..2147483 (0: no key is made)")                 \
    X(tfo_keylen, "net.inet.tcp.fastopen.keylen", 0, 0, 0, TCPC_TUN_RDONLY,                        \
      "bytes of a Fast Open server key (read-only)")                                               \
    X(tfo_maxkeys, "net.inet.tcp.fastopen.maxkeys", 0, 0, 0, TCPC_TUN_RDONLY,                      \
      "Fast Open server keys valid at once (read-only)")                                           \
    X(tfo_numkeys, "net.inet.tcp.fastopen.numkeys", 0, 0, 0, TCPC_TUN_RDONLY,                      \
      "Fast Open server keys installed (read-only)")

struct tcpc_stack;

/**
 * Sets a tunable on a live stack. As tcpc_config_sysctl, plus -EPERM for a
 * tunable that sizes memory and so is fixed once the stack exists.
 */
int tcpc_sysctl_set(struct tcpc_stack *stack, const char *name, int64_t value, const char **why);

/**
 * Reads a tunable's effective value into *value: auto-sized tunables
 * (maxtcptw 0, cachelimit 0) read as the size in force. 0 or -ENOENT.
 */
int tcpc_sysctl_get(const struct tcpc_stack *stack, const char *name, int64_t *value);

/**
 * Tunables whose values are names, as FreeBSD's string sysctls:
 * net.inet.tcp.cc.algorithm takes "newreno" or "cubic" (its integer form
 * takes their index), and net.inet.tcp.cc.available reads as the names,
 * comma-separated (read-only: a set answers -EPERM). Errors as for the
 * integer forms; -ENOENT for a name with no string form.
 */
int tcpc_sysctl_set_str(struct tcpc_stack *stack, const char *name, const char *value,
                        const char **why);
/** Writes a name-valued tunable, NUL-terminated, into buf (truncated to
 * len); 0 or -ENOENT. */
int tcpc_sysctl_get_str(const struct tcpc_stack *stack, const char *name, char *buf, size_t len);

/** Enumerates the tunables: name and description of entry i, or -ENOENT past
 * the last. For tools that print them all. */
int tcpc_sysctl_describe(unsigned i, const char **name, const char **desc);

#endif
