/**
 * @file
 * @brief Counters: one block per stack instance, declared once here.
 *
 * Names are FreeBSD's (netstat -s -p tcp / ip / icmp, struct tcpstat,
 * struct ipstat, struct arpstat, struct icmp6stat, if_data's ifi_*)
 * wherever FreeBSD has one, so a FreeBSD user reads them
 * without a glossary; counters FreeBSD lacks follow its naming pattern. Every
 * place the stack drops a packet bumps one of these. The X-macro below is the
 * single source: the struct, the name table and the descriptions are all
 * generated from it, so a counter cannot exist in one and not the others.
 */
#ifndef TCPCORE_STATS_H
#define TCPCORE_STATS_H

#include <stddef.h>
#include <stdint.h>

/** The counters: X(name, description), in the order of struct tcpc_stats
 * and of their ids. New counters go at the end, so that the offsets and ids
 * of the others stay (tests/abi checks it). */
#define TCPC_STATS(X)                                                                              \
    /* IP input (ipstat / ip6stat) */                                                              \
    X(ips_total, "IP packets received")                                                            \
    X(ips_tooshort, "packets shorter than their IP header says")                                   \
    X(ips_toosmall, "packets too small for an IP header")                                          \
    X(ips_badvers, "packets with an IP version other than 4 or 6")                                 \
    X(ips_badhlen, "IPv4 header length below 20 or past the packet")                               \
    X(ips_badsum, "IPv4 header checksum errors")                                                   \
    X(ips_fragments, "fragments received and dropped (no reassembly)")                             \
    X(ips_badaddr, "packets with a multicast, broadcast or unspecified source")                    \
    X(ips_notlocal, "packets for an address that is not ours")                                     \
    X(ips_noproto, "packets for a protocol other than TCP or ICMP")                                \
    X(ip6s_toomanyhdr, "IPv6 packets with too many extension headers")                             \
    X(ip6s_exthdrtooshort, "IPv6 extension headers running past the packet")                       \
    X(ips_localout, "IP packets sent")                                                             \
    X(ips_odropped, "output packets dropped: the link refused them (full ring)")                   \
    X(ips_noroute, "output packets dropped for want of a route (no prefix, no gateway)")           \
    /* ICMP input (icmpstat / icmp6stat) */                                                        \
    X(icps_tooshort, "ICMP messages too short or quoting too little")                              \
    X(icps_checksum, "ICMP checksum errors")                                                       \
    X(icps_ignored, "ICMP messages of a type TCP does not act on")                                 \
    X(icps_unreach, "ICMP unreachable / too-big errors delivered to TCP")                          \
    X(icps_reflect, "ICMP echo replies sent")                                                      \
    X(icps_toofreq, "ICMP echo replies not sent because of net.inet.icmp.icmplim")                 \
    X(icp6s_reflect, "ICMPv6 echo replies sent")                                                   \
    X(icp6s_toofreq, "ICMPv6 echo replies not sent because of net.inet.icmp.icmplim")              \
    /* IPv6 neighbour discovery (icmp6stat) */                                                     \
    X(icp6s_in_ns, "neighbour solicitations received")                                             \
    X(icp6s_in_na, "neighbour advertisements received")                                            \
    X(icp6s_out_ns, "neighbour solicitations sent")                                                \
    X(icp6s_out_na, "neighbour advertisements sent")                                               \
    X(icp6s_badns, "neighbour solicitations dropped as invalid or not for us")                     \
    X(icp6s_badna, "neighbour advertisements dropped as invalid")                                  \
    X(icp6s_dupaddr, "ND messages from another node claiming one of our addresses")                \
    X(icp6s_dropped, "IPv6 packets dropped while their neighbour was being resolved")              \
    X(icp6s_nd_timeouts, "IPv6 neighbour entries removed by a timer (failed or unused)")           \
    /* ARP (arpstat) */                                                                            \
    X(arps_received, "ARP packets received")                                                       \
    X(arps_rxrequests, "ARP requests received")                                                    \
    X(arps_rxreplies, "ARP replies received")                                                      \
    X(arps_txrequests, "ARP requests sent")                                                        \
    X(arps_txreplies, "ARP replies sent")                                                          \
    X(arps_rxbad, "ARP packets dropped as malformed (short, not Ethernet/IPv4, bad sender)")       \
    X(arps_dropped, "IPv4 packets dropped while their neighbour was being resolved")               \
    X(arps_timeouts, "ARP entries removed by a timer (failed or expired)")                         \
    X(arps_dupips, "ARP packets from another station claiming one of our addresses")               \
    /* The neighbour cache and the Ethernet interface (if_data) */                                 \
    X(lle_evicted, "neighbour entries evicted to make room (net.link.lle.maxentries)")             \
    X(ifi_ipackets, "Ethernet frames received")                                                    \
    X(ifi_ierrors, "frames dropped as malformed (short, group source address)")                    \
    X(ifi_imcasts, "broadcast and multicast frames received")                                      \
    X(ifi_noproto, "frames of an EtherType other than IPv4, IPv6 and ARP")                         \
    X(ifi_notours, "frames for another station or a group we have not joined")                     \
    X(ifi_vlandrops, "802.1Q-tagged frames dropped (net.link.ether.vlan_skip is 0)")               \
    X(ifi_opackets, "Ethernet frames sent")                                                        \
    X(ifi_omcasts, "broadcast and multicast frames sent")                                          \
    X(ifi_oqdrops, "ARP and ND frames the output refused (full ring)")                             \
    /* TCP input (tcpstat) */                                                                      \
    X(tcps_rcvtotal, "TCP segments received")                                                      \
    X(tcps_rcvshort, "segments shorter than a TCP header")                                         \
    X(tcps_rcvbadoff, "segments with a bad data offset")                                           \
    X(tcps_rcvbadsum, "segments with a bad checksum")                                              \
    X(tcps_rcvbadopt, "segments with malformed options")                                           \
    X(tcps_rcvpack, "in-sequence data segments received")                                          \
    X(tcps_rcvbyte, "in-sequence bytes received")                                                  \
    X(tcps_rcvduppack, "completely duplicate segments")                                            \
    X(tcps_rcvdupbyte, "completely duplicate bytes")                                               \
    X(tcps_rcvpartduppack, "partly duplicate segments")                                            \
    X(tcps_rcvoopack, "out-of-order segments received")                                            \
    X(tcps_rcvoobyte, "out-of-order bytes received")                                               \
    X(tcps_rcvpackafterwin, "segments with data after the window")                                 \
    X(tcps_rcvafterclose, "segments received after the receive side closed")                       \
    X(tcps_rcvwinprobe, "window probes received")                                                  \
    X(tcps_rcvdupack, "duplicate ACKs received")                                                   \
    X(tcps_rcvacktoomuch, "ACKs for data not yet sent")                                            \
    X(tcps_rcvackpack, "ACKs that acknowledged new data")                                          \
    X(tcps_rcvackbyte, "bytes acknowledged")                                                       \
    X(tcps_rcvwinupd, "window updates received")                                                   \
    X(tcps_rcvreassfull, "segments dropped because reassembly was full")                           \
    X(tcps_pawsdrop, "segments dropped by PAWS (RFC 7323)")                                        \
    X(tcps_badrst, "RSTs ignored as invalid")                                                      \
    X(tcps_badsyn, "SYNs dropped as invalid")                                                      \
    X(tcps_challenge_ack, "challenge ACKs sent (RFC 5961)")                                        \
    X(tcps_challenge_ack_limited, "challenge ACKs suppressed by the rate limit")                   \
    X(tcps_noport, "segments for a port nobody listens on")                                        \
    X(tcps_listendrop, "connections dropped because the listen queue was full")                    \
    X(tcps_dropped_noconn, "segments dropped for lack of a connection (no RST owed)")              \
    /* TCP output */                                                                               \
    X(tcps_sndtotal, "TCP segments sent")                                                          \
    X(tcps_sndpack, "data segments sent")                                                          \
    X(tcps_sndbyte, "data bytes sent")                                                             \
    X(tcps_sndrexmitpack, "data segments retransmitted")                                           \
    X(tcps_sndrexmitbyte, "data bytes retransmitted")                                              \
    X(tcps_sndrexmitbad, "timeouts found spurious by timestamps and undone (RFC 3522)")            \
    X(tcps_sndacks, "pure ACKs sent")                                                              \
    X(tcps_delack, "ACKs delayed")                                                                 \
    X(tcps_sndprobe, "window probes sent")                                                         \
    X(tcps_sndwinup, "window updates sent")                                                        \
    X(tcps_sndctrl, "control segments sent (SYN, FIN, RST)")                                       \
    X(tcps_sndrst, "RSTs sent")                                                                    \
    /* Loss recovery (tcpstat tcps_sack_*) */                                                      \
    X(tcps_sack_recovery_episode, "SACK recovery episodes")                                        \
    X(tcps_sack_rexmits, "segments retransmitted in SACK recovery")                                \
    X(tcps_sack_rexmit_bytes, "bytes retransmitted in SACK recovery")                              \
    X(tcps_sack_rcv_blocks, "ACKs received carrying SACK blocks")                                  \
    X(tcps_sack_send_blocks, "segments sent carrying SACK blocks")                                 \
    X(tcps_sack_sboverflow, "SACK scoreboard overflows (ranges forgotten, or no record free)")     \
    X(tcps_dsack_count, "D-SACK blocks received (RFC 2883)")                                       \
    /* Connections */                                                                              \
    X(tcps_connattempt, "connections initiated")                                                   \
    X(tcps_accepts, "connections accepted")                                                        \
    X(tcps_connects, "connections established")                                                    \
    X(tcps_drops, "connections dropped")                                                           \
    X(tcps_conndrops, "embryonic connections dropped")                                             \
    X(tcps_closed, "connections closed")                                                           \
    X(tcps_segstimed, "segments timed for RTT")                                                    \
    X(tcps_rttupdated, "RTT estimates updated")                                                    \
    X(tcps_rexmttimeo, "retransmit timeouts")                                                      \
    X(tcps_timeoutdrop, "connections dropped by retransmit timeout")                               \
    X(tcps_persisttimeo, "persist timeouts")                                                       \
    X(tcps_keeptimeo, "keepalive and connection-establishment timeouts")                           \
    /* The connection table (in_pcbinshash / in_pcbremhash) */                                     \
    X(tcps_inshash_fail, "connections or TIME_WAIT records the connection table refused "          \
                         "(4-tuple already held, e.g. after a wrong NIC flow hash; or full)")      \
    X(tcps_remhash_stray, "table entries found only by a full scan when removed "                  \
                          "(the flow hash function changed under them)")                           \
    /* SYN cache and cookies (tcpstat tcps_sc_*) */                                                \
    X(tcps_sc_added, "SYN cache entries added")                                                    \
    X(tcps_sc_retransmitted, "SYN-ACKs retransmitted")                                             \
    X(tcps_sc_dupsyn, "duplicate SYNs received for a cache entry")                                 \
    X(tcps_sc_dropped, "SYNs dropped (no memory, no cookie)")                                      \
    X(tcps_sc_completed, "SYN cache entries completed into connections")                           \
    X(tcps_sc_bucketoverflow, "SYN cache entries dropped because a bucket was full")               \
    X(tcps_sc_cacheoverflow, "SYN cache entries dropped because the cache was full")               \
    X(tcps_sc_reset, "SYN cache entries removed by RST")                                           \
    X(tcps_sc_stale, "SYN cache entries timed out")                                                \
    X(tcps_sc_aborted, "SYN cache entries aborted (accept queue full)")                            \
    X(tcps_sc_sbfail, "handshake completions refused for buffers (none: they grow on demand)")     \
    X(tcps_sc_badack, "SYN cache completions refused for a bad ACK")                               \
    X(tcps_sc_unreach, "SYN cache entries removed by ICMP unreachable")                            \
    X(tcps_sc_zonefail, "SYN cache entry allocations that failed")                                 \
    X(tcps_sc_sendcookie, "SYN cookies sent")                                                      \
    X(tcps_sc_recvcookie, "SYN cookies accepted")                                                  \
    X(tcps_sc_spurcookie, "cookie ACKs ignored because cookies were not in use")                   \
    X(tcps_sc_failcookie, "cookie ACKs that failed validation")                                    \
    X(tcps_sc_paused, "times a SYN flood switched the SYN cache to cookies only")                  \
    /* TIME_WAIT */                                                                                \
    X(tcps_tw_added, "connections entering compressed TIME_WAIT")                                  \
    X(tcps_tw_expired, "TIME_WAIT entries expired after 2MSL")                                     \
    X(tcps_tw_recycles, "TIME_WAIT entries recycled because the table was full")                   \
    X(tcps_tw_nospace, "connections closed without TIME_WAIT (table full, none recyclable)")       \
    X(tcps_tw_nolocal, "connections closed without TIME_WAIT (nolocaltimewait)")                   \
    X(tcps_tw_resets, "RSTs received in TIME_WAIT and ignored (RFC 1337)")                         \
    X(tcps_tw_responds, "ACKs sent from TIME_WAIT")                                                \
    X(tcps_tw_reopened, "TIME_WAIT entries replaced by a connection a new SYN opened")             \
    X(tcps_tw_reused, "TIME_WAIT 4-tuples taken over by connect()")                                \
    X(tcps_tw_reuse_refused, "TIME_WAIT 4-tuples connect() could not safely take over")            \
    X(tcps_tw_badsyn, "SYNs in TIME_WAIT not starting a new connection (ACKed)")                   \
    X(tcps_tw_noack, "segments without ACK dropped in TIME_WAIT")                                  \
    X(tcps_tw_finrearm, "retransmitted FINs that restarted TIME_WAIT")                             \
    X(tcps_tw_dupack, "duplicate ACKs dropped silently in TIME_WAIT")                              \
    /* ECN (tcpstat tcps_ecn_*, RFC 3168) */                                                       \
    X(tcps_ecn_ce, "segments received with the CE mark (Congestion Experienced)")                  \
    X(tcps_ecn_ect0, "segments received marked ECT(0)")                                            \
    X(tcps_ecn_ect1, "segments received marked ECT(1)")                                            \
    X(tcps_ecn_sndect0, "segments sent marked ECT(0)")                                             \
    X(tcps_ecn_shs, "handshakes that negotiated ECN")                                              \
    X(tcps_ecn_rcwnd, "times an ECN echo (ECE) reduced the congestion window")                     \
    /* RACK-TLP (RFC 8985) */                                                                      \
    X(tcps_rack_loss, "ranges RACK marked lost by their send time")                                \
    X(tcps_rack_reordertimeo, "RACK reorder timer expirations")                                    \
    X(tcps_rack_reowin, "times a D-SACK widened RACK's reordering window")                         \
    X(tcps_tlp_probe, "tail-loss probes sent")                                                     \
    X(tcps_tlp_loss, "losses a tail-loss probe repaired (the window came down)")                   \
    /* Long-lived connections (tcpstat tcps_keep*, tcps_finwait2_drops, tcps_pmtud_*) */           \
    X(tcps_keepprobe, "keepalive probes sent")                                                     \
    X(tcps_keepdrops, "connections dropped by keepalive or connection-establishment timeout")      \
    X(tcps_finwait2_drops, "closed connections dropped in FIN_WAIT_2 (fast_finwait2_recycle)")     \
    X(tcps_pmtud_blackhole_activated, "times black-hole detection lowered the MSS")                \
    X(tcps_pmtud_blackhole_activated_min_mss,                                                      \
      "times black-hole detection lowered the MSS to the smallest it tries")                       \
    X(tcps_pmtud_blackhole_failed, "times black-hole detection gave the MSS back (no better)")     \
    /* Buffers that grow on demand (docs/buffers.md) */                                            \
    X(tcps_rcvmemdrop, "segments dropped for lack of buffer memory (budget or spares)")            \
    X(tcps_sndmemblock, "sends refused or cut short: buffer storage at kern.ipc.sockbuf_budget")   \
    X(tcps_rcvbuf_autogrow, "receive buffer limits raised by net.inet.tcp.recvbuf_auto")           \
    X(tcps_sndbuf_autogrow, "send buffer limits raised by net.inet.tcp.sendbuf_auto")              \
    /* TCP MD5 signatures, RFC 2385 (tcpstat tcps_sig_*) */                                        \
    X(tcps_sig_rcvgoodsig, "segments received with a matching MD5 signature")                      \
    X(tcps_sig_rcvbadsig, "segments dropped: MD5 signature did not match")                         \
    X(tcps_sig_err_buildsig, "segments not sent or checked: the MD5 key could not be found")       \
    X(tcps_sig_err_sigopt, "segments dropped: MD5 signature where no key expects one")             \
    X(tcps_sig_err_nosigopt, "segments dropped: no MD5 signature where a key requires one")        \
    /* Accept filters (SO_ACCEPTFILTER, TCP_DEFER_ACCEPT; FreeBSD counts none) */                  \
    X(tcps_accf_held, "connections an accept filter held off the accept queue")                    \
    X(tcps_accf_ready, "held connections handed to accept: filter satisfied, EOF or removed")      \
    X(tcps_accf_timeout, "held connections handed to accept when TCP_DEFER_ACCEPT ran out")        \
    X(tcps_accf_dropped, "unaccepted connections aborted: more held than the listen backlog")      \
    /* TCP Fast Open, RFC 7413 (FreeBSD counts none: XNU's tcpstat names) */                       \
    X(tcps_tfo_cookie_req, "SYNs sent asking for a Fast Open cookie")                              \
    X(tcps_tfo_cookie_rcv, "Fast Open cookies received on a SYN-ACK and cached")                   \
    X(tcps_tfo_syn_data_sent, "SYNs sent with data beside a cached Fast Open cookie")              \
    X(tcps_tfo_syn_data_acked, "Fast Open SYNs whose data the SYN-ACK acknowledged whole")         \
    X(tcps_tfo_cookie_req_rcv, "Fast Open cookie requests received (the SYN-ACK offers one)")      \
    X(tcps_tfo_cookie_invalid, "Fast Open cookies received that no key made (data not taken)")     \
    X(tcps_tfo_syn_data_rcv, "connections a valid Fast Open cookie opened, the SYN's data taken")  \
    /* TCP-AO, RFC 5925 (Linux's TCPAOGood, TCPAOBad, TCPAORequired, TCPAOKeyNotFound) */          \
    X(tcps_ao_good, "segments received with a matching TCP-AO MAC")                                \
    X(tcps_ao_bad, "segments dropped: TCP-AO MAC did not match")                                   \
    X(tcps_ao_required, "segments dropped: no TCP-AO option where an MKT requires one")            \
    X(tcps_ao_keynotfound, "segments dropped: TCP-AO KeyID that no MKT for the peer receives")     \
    X(tcps_ao_unexpected, "segments dropped: TCP-AO option where no MKT expects one")              \
    /* Connection groups (tcpcore/group.h): hand-offs between members */                           \
    X(tcps_handoff, "segments for no connection here handed to the group member owning them")      \
    X(tcps_handoff_rcvd, "segments taken from another group member's hand-off")                    \
    X(tcps_handoff_qdrop, "segments dropped: the owning member's hand-off queue was full")         \
    X(ifi_grp_out, "ARP and ND frames copied to the other members of the group")                   \
    X(ifi_grp_in, "ARP and ND frames taken from another member of the group")                      \
    X(ifi_grp_qdrops, "ARP and ND frames not copied: a member's queue was full")                   \
    X(tcps_hystart_css, "HyStart++ rounds whose RTT rise made slow start conservative (RFC 9406)") \
    X(tcps_hystart_ca, "first slow starts HyStart++ ended in congestion avoidance, before any "    \
                       "loss")                                                                     \
    X(tcps_predack, "pure ACKs of new data taken by header prediction")                            \
    X(tcps_preddat, "in-order data segments taken by header prediction")                           \
    /* Pacing (docs/cc.md) */                                                                      \
    X(tcps_pace_held, "outputs whose data waited for the pacing release")                          \
    X(tcps_pace_released, "pacing releases that found data waiting")

/** The counters as a struct of uint64_t, one field per TCPC_STATS entry,
 * named as the entry is. The library allocates it (tcpc_stack_stats); it
 * only ever grows at its end. */
struct tcpc_stats {
/** @cond */
#define TCPC_STATS_FIELD_(name, desc) uint64_t name;
    TCPC_STATS(TCPC_STATS_FIELD_)
#undef TCPC_STATS_FIELD_
    /** @endcond */
};

/** The id of each counter, TCPC_STAT_ followed by its name, for
 * tcpc_stat_value, tcpc_stat_name and tcpc_stat_desc. */
enum tcpc_stat_id {
/** @cond */
#define TCPC_STATS_ID_(name, desc) TCPC_STAT_##name,
    TCPC_STATS(TCPC_STATS_ID_)
#undef TCPC_STATS_ID_
    /** @endcond */
    TCPC_STAT_COUNT /**< the number of counters this header knows */
};

struct tcpc_stack;

/** The stack's counters; valid until tcpc_stack_del. Read-only for
 * callers, callable at any time. */
const struct tcpc_stats *tcpc_stack_stats(const struct tcpc_stack *stack);

/** The name ("tcps_sc_added") of counter id, or NULL when id is out of
 * range. A static string; pure. */
const char *tcpc_stat_name(unsigned id);
/** The one-line description of counter id, or NULL when id is out of
 * range. A static string; pure. */
const char *tcpc_stat_desc(unsigned id);

/** The value of counter id in stats (0 when id is out of range). */
uint64_t tcpc_stat_value(const struct tcpc_stats *stats, unsigned id);

/** The id of the counter with this name, or -ENOENT. Pure. */
int tcpc_stat_lookup(const char *name);

#endif
