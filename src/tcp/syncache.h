/*
 * The SYN cache: half-open passive connections in bounded memory.
 *
 * A SYN to a listener does not create a connection. It creates a small
 * entry (at most 64 bytes for IPv4, 96 for IPv6, table linkage included)
 * in a keyed hash table of buckets, and the SYN-ACK is sent from that entry;
 * only the ACK that completes the handshake builds a control block, which
 * that ACK takes to ESTABLISHED and onto the listener's accept queue. When the table is
 * under pressure, or net.inet.tcp.syncookies_only is set, the state goes into
 * a SYN cookie instead (syncookie.h) and nothing is kept at all.
 *
 * Owner: the per-stack struct syncache hangs off struct tcp_state; entries
 * come from two pools (IPv4 and IPv6 layouts) sized by
 * net.inet.tcp.syncache.cachelimit. The cache keeps its own timer wheel (one
 * timer per bucket) and reports its next deadline through
 * syncache_next_deadline, which tcp_next_deadline folds in.
 */
#ifndef TCPCORE_TCP_SYNCACHE_H
#define TCPCORE_TCP_SYNCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpcore/addr.h"
#include "tcpcore/listing.h"
#include "wire/icmp.h"
#include "wire/ip.h"
#include "wire/tcp.h"

struct tcpc_stack;
struct tcpcb;

/* Allocates the cache of a new stack (tcp_init); -ENOMEM. */
int syncache_init(struct tcpc_stack *stack);
void syncache_destroy(struct tcpc_stack *stack);

/*
 * What a TIME_WAIT record hands the listener with a SYN that may reopen its
 * 4-tuple (timewait.c chooses it): the new incarnation's ISS, above the old
 * send sequence space, and the old timestamp clock to continue.
 */
struct syncache_reopen {
    uint32_t iss;
    bool ts; /* ts_offset is the old incarnation's */
    uint32_t ts_offset;
};

/*
 * A SYN (no ACK, no RST) for listener l: records it, or answers it with a
 * cookie, and sends the SYN-ACK. Data on the SYN is never acknowledged. A
 * SYN that repeats one with an entry is answered from the entry (same ISS),
 * also while only cookies are sent for new SYNs.
 *
 * With reopen (a TIME_WAIT record's 4-tuple, see tw_input), the SYN always
 * gets an entry with reopen->iss, never a cookie (a cookie ISS is a hash and
 * cannot be placed above the old sequence space): when no entry can be had
 * it is dropped (tcps_sc_dropped) and the record stays. The record gives way
 * only when the handshake completes (tw_reopened).
 */
void syncache_add(struct tcpc_stack *stack, struct tcpcb *l, const struct ip_repr *ip,
                  const struct tcp_repr *th, const struct syncache_reopen *reopen);

/*
 * For a TIME_WAIT record whose 4-tuple a SYN has asked to reopen: is this
 * segment the new incarnation's business rather than the record's? True for
 * an RST, or an ACK of the reopen entry's SYN-ACK (ACK = ISS + 1, which no
 * old duplicate can carry), while the entry exists.
 */
bool syncache_reopen_wants(struct tcpc_stack *stack, const struct ip_repr *ip,
                           const struct tcp_repr *th);

/*
 * An ACK (no SYN, no RST) for listener l: the handshake's last segment, if
 * it matches an entry or carries a valid cookie; an ACK that fails its
 * entry's check is still taken as a valid cookie for the entry's own SYN
 * (the client may be answering a cookie SYN-ACK sent before the entry
 * existed), except for a TIME_WAIT reopen. On success returns 0 with
 * *out a new connection, child of l, in SYN_RECEIVED with every
 * negotiated option in force; the caller hands it the segment at once,
 * whose ACK takes it to ESTABLISHED and onto l's accept queue (and whose
 * data or FIN, if any, it then receives). Otherwise returns -ECONNREFUSED
 * when the RST of RFC 9293 3.10.7.2 is owed (<SEQ=SEG.ACK><CTL=RST>), or
 * -EAGAIN when the segment is dropped silently; the reason has been
 * counted either way.
 */
int syncache_expand(struct tcpc_stack *stack, struct tcpcb *l, const struct ip_repr *ip,
                    const struct tcp_repr *th, struct tcpcb **out);

/* An RST for listener l's port: may remove an entry or draw a challenge ACK. */
void syncache_chkrst(struct tcpc_stack *stack, const struct ip_repr *ip, const struct tcp_repr *th);

/* An ICMP error that matched no connection. Returns true when it concerned a
 * SYN cache entry (and was acted upon), false when the caller should count
 * it as ignored. */
bool syncache_unreach(struct tcpc_stack *stack, const struct icmp_repr *icmp);

/* Retransmits and expires entries due at stack->now. */
void syncache_advance(struct tcpc_stack *stack);
/* When syncache_advance next has work (may be early, never late). */
tcpc_time_t syncache_next_deadline(const struct tcpc_stack *stack);

/* The half-open entries as listing records (SYN_RECEIVED), and their count. */
int syncache_pcblist(struct tcpc_stack *stack, tcpc_conn_fn fn, void *ctx);
uint32_t syncache_pcbcount(const struct tcpc_stack *stack);

/* Whether SYNs are being answered with cookies only (sysctl or an attack). */
bool syncache_cookies_only(const struct tcpc_stack *stack);

/* Bytes of one entry of each family, linkage included (for tools). */
size_t syncache_entry_size(bool v6);

#endif
