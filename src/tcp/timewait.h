/*
 * Compressed TIME_WAIT (FreeBSD's tcp_timewait.c): what is left of a
 * connection for 2 MSL after both FINs have been exchanged.
 *
 * When a connection enters TIME_WAIT its control block, socket buffers and
 * inpcb are freed; a record of 40 bytes (IPv4) or 68 bytes (IPv6) takes its
 * 4-tuple in the PCB layer's exact table, so the normal lookup of every
 * arriving segment finds it. The record keeps only what TIME_WAIT answers
 * with: snd_nxt, rcv_nxt, the window we last advertised, ts_recent and our
 * timestamp offset, its expiry and its place in the expiry queue.
 * docs/timewait.md has the layout, the memory figures and the rules.
 *
 * Owner: this module owns its records, its pools and its queues; the PCB
 * layer only holds references to them (kinds PCB_KIND_TIMEWAIT and
 * PCB_KIND_TIMEWAIT_WIDE). The engine meets TIME_WAIT in four places:
 * tcp_twstart (tw_start), tcp_input (tw_input), the timers (tw_advance,
 * tw_next_deadline) and the listing (tw_list).
 */
#ifndef TCPCORE_TCP_TIMEWAIT_H
#define TCPCORE_TCP_TIMEWAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"
#include "tcpcore/listing.h"
#include "wire/ip.h"
#include "wire/tcp.h"

struct syncache_reopen;
struct tcpc_stack;
struct tcpc_tunables;
struct tcpcb;

/*
 * How far above the old snd_nxt a new incarnation of a 4-tuple starts its
 * sequence numbers (a reopen by the peer's SYN, or a connect() taking the
 * 4-tuple over): 16 MiB. Above the old snd_nxt is what RFC 9293 3.6.1 and
 * RFC 1122 4.2.2.13 require, so that our old duplicates fall below the
 * peer's new window. The distance adds a second line: the peer's old ACKs
 * (at most the old snd_nxt) stay outside RFC 5961's acceptable range
 * [SND.UNA - MAX.SND.WND, SND.NXT] for any send window up to 16 MiB, which
 * covers the receive-buffer ceilings of common stacks' autotuning (Linux
 * 6 MiB, FreeBSD 2 MiB by default; Linux's own distance, 65537, covers only
 * an unscaled window). It costs 1/256 of the sequence space the new
 * incarnation can run through before old numbers could come round into its
 * window again.
 */
#define TW_ISS_GAP (1u << 24)

/* Records the pools are sized for at stack creation: net.inet.tcp.maxtcptw
 * as then in force (auto-sized when 0). The exact table is sized for this
 * many TIME_WAIT records on top of the sockets. */
uint32_t tw_capacity(const struct tcpc_tunables *tun);

/* Sets up the pools and registers the record kinds with the PCB layer
 * (which must exist). 0 or -ENOMEM. */
int tw_init(struct tcpc_stack *stack);
/* Frees every record and the pools. Safe after a failed tw_init. */
void tw_destroy(struct tcpc_stack *stack);

/*
 * tp has entered TIME_WAIT (FIN_WAIT_2 + FIN, or CLOSING + ACK of our FIN):
 * closes tp (tcp_close: freed, or left CLOSED for a descriptor still open)
 * and puts a record in its place for 2 MSL. When the table is full the
 * oldest record is recycled; with net.inet.tcp.nolocaltimewait a
 * connection to one of our own addresses gets no record. An ACK still owed
 * (TF_ACKNOW) is sent from the record. tp must not be used afterwards.
 */
void tw_start(struct tcpc_stack *stack, struct tcpcb *tp);

struct tcp_md5_key;

/*
 * RFC 2385 for a segment reaching record ref, before tw_input: true to go
 * on, with *key the key it was checked against (NULL: the record is not
 * signed and checks nothing); false when it was dropped and counted.
 */
bool tw_md5_check(struct tcpc_stack *stack, uint32_t ref, const struct ip_repr *ip,
                  const uint8_t *seg, size_t seglen, const struct tcp_repr *th,
                  const struct tcp_md5_key **key);

/* What tw_input leaves the caller to do with a segment. */
enum tw_verdict {
    TW_CONSUMED,  /* answered (or dropped) by the record */
    TW_REOPEN,    /* an acceptable SYN: to the listener with *reopen */
    TW_HANDSHAKE, /* the new incarnation's ACK or RST: to the listener */
};

/*
 * A segment for the record ref (an exact-table reference of one of the
 * TIME_WAIT kinds), checked and answered as RFC 9293 3.10.7.4 and RFC 6191
 * say (tw_check in docs/timewait.md). An acceptable SYN does not close the
 * record: the caller hands it to the listener (syncache_add) with *reopen,
 * the new ISS and timestamp clock; the record keeps answering for the old
 * incarnation until the new connection completes (tw_reopened), so a
 * reopen that fails leaves TIME_WAIT's protection as it was. Segments of
 * that handshake (syncache_reopen_wants) go to the listener as well.
 */
enum tw_verdict tw_input(struct tcpc_stack *stack, uint32_t ref, const struct ip_repr *ip,
                         const struct tcp_repr *th, struct syncache_reopen *reopen);

/* A connection that reopened the 4-tuple is complete and about to take it:
 * its record, if it has not expired meanwhile, closes (tcps_tw_reopened). */
void tw_reopened(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                 const struct tcpc_addr *faddr, uint16_t fport);

/* tcpdrop on a record: closes the record holding the 4-tuple, at once and
 * silently (the peer is not told, as FreeBSD's tcp_twclose does not).
 * false when no record holds it. */
bool tw_drop(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
             const struct tcpc_addr *faddr, uint16_t fport);

/* Expires every record whose 2 MSL are over at stack->now. */
void tw_advance(struct tcpc_stack *stack);

/* The earliest expiry, or TCPC_TIME_NEVER when there are no records. */
tcpc_time_t tw_next_deadline(const struct tcpc_stack *stack);

/* Hands each record to fn as a TCPC_CONN_TIMEWAIT entry with its time
 * left; stops at and returns fn's first non-zero value. */
int tw_list(struct tcpc_stack *stack, tcpc_conn_fn fn, void *ctx);

/*
 * For connect(): when the 4-tuple tp has just connected on was taken over
 * from a TIME_WAIT record (see the takeover rules), tp continues the old
 * incarnation's timestamp clock and starts its sequence numbers beyond the
 * old snd_nxt. Call after the ISS and ts_offset are chosen. A no-op
 * otherwise.
 */
void tw_connect_inherit(struct tcpc_stack *stack, struct tcpcb *tp);

/* Records held now (both layouts). */
uint32_t tw_count(const struct tcpc_stack *stack);

/* Bytes of one record of each layout, for benchmarks and docs. */
size_t tw_entry_bytes(bool v6);

#endif
