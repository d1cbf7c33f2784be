/*
 * Selective acknowledgments: the blocks a receiver reports (RFC 2018, with
 * D-SACK, RFC 2883) and the scoreboard a sender keeps of them (RFC 6675).
 *
 * Both live in a per-connection sack record that does not fit in the
 * 512-byte control block; records come from a per-stack pool sized by
 * net.inet.tcp.sack.globalmaxholes (each record holds TCP_SACK_HOLES
 * ranges), are taken when a connection first needs one (out-of-order data
 * held, a SACK block received, a duplicate to report, data sent with
 * RACK-TLP on: tcp_rack.h) and given back when it no longer does. Taking one is O(1) and allocates
 * nothing. Without a record (the pool is empty: tcps_sack_sboverflow) a receiver still reports its
 * ranges, highest first, and a sender recovers as NewReno does.
 */
#ifndef TCPCORE_TCP_TCP_SACK_H
#define TCPCORE_TCP_TCP_SACK_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcp_rack.h"
#include "tcp/tcp_var.h"
#include "wire/tcp.h"

struct tcpc_stack;

/* SACKed ranges a sender's scoreboard holds; the peer's reassembly keeps at
 * most as many islands as it likes, and past this many the highest ones are
 * forgotten (they are recovered as if unSACKed: resent, and counted in
 * flight). A drop-tail queue overflowing in congestion avoidance scatters
 * dozens of losses over a window: with 16, a 100 Mbit/s 20 ms path saw a
 * third of all retransmissions come back as D-SACKs. FreeBSD allows 128
 * holes per connection (net.inet.tcp.sack.maxholes). */
#define TCP_SACK_HOLES 64

struct tcp_sack {
    uint8_t nsb; /* sender: ranges in sb[] */
    /* Receiver: a D-SACK block owed (RFC 2883), and how many recent
     * segment positions rcv_recent holds. */
    uint8_t dsack_owed;
    uint8_t nrecent;
    uint8_t rescued;   /* sender: this recovery's rescue retransmission went */
    uint32_t sacked;   /* bytes in sb[] */
    uint32_t high_rxt; /* RFC 6675 HighRxt: retransmitted up to here */
    /* Proportional rate reduction (RFC 6937) */
    uint32_t recover_fs, prr_delivered, prr_out;
    /* Receiver: a sequence number of each of the most recently received
     * out-of-order segments, newest first (RFC 2018: the first block holds
     * the newest, the next ones repeat the most recently reported). */
    uint32_t rcv_recent[TCP_SACK_MAX];
    struct tcp_sack_block dsack;
    /* Sender: RACK-TLP's send times and state (tcp_rack.h), its spans
     * last. */
    struct rack rack;
    /* Sender: what the peer holds above snd_una, sorted and disjoint; only
     * sb[0..nsb) is ever read, and only rack.span[0..rack.nspan), so a
     * record taken clears what comes before the spans (most records never
     * see a SACK block: RACK takes one for any data in flight). */
    struct tcp_sack_block sb[TCP_SACK_HOLES];
};

/* 512 bytes of ranges, 492 of RACK-TLP's (384 of them its 16 send-time
 * spans, each with its two times and the delivery-rate stamp it carries):
 * docs/recovery.md's memory budget (a record is held only while a
 * connection needs one). */
static_assert(sizeof(struct tcp_sack) <= 1052, "a SACK record stays within 1,052 bytes");

/* Pool setup and teardown (tcp_init / tcp_state_free). */
int sack_pool_init(struct tcp_state *ts, int64_t globalmaxholes);
void sack_pool_free(struct tcp_state *ts);

/* tp's record, or NULL. */
struct tcp_sack *sack_of(const struct tcpc_stack *stack, const struct tcpcb *tp);
/* tp's record, taken from the pool if it has none; NULL when the pool is
 * empty (counted in tcps_sack_sboverflow when count). */
struct tcp_sack *sack_take(struct tcpc_stack *stack, struct tcpcb *tp, bool count);
/* Whether tp's record holds more than RACK's send times (a scoreboard, a
 * D-SACK owed, out-of-order data's positions, a recovery): with the flight
 * acknowledged and none of that, sack_release gives it back. */
static inline bool sack_holds_more(const struct tcpcb *tp, const struct tcp_sack *sk)
{
    return sk->nsb || sk->dsack_owed || tp->rcv_reass.nranges || (tp->t_flags & TF_SACKRECOV);
}
/* Gives tp's record back when nothing in it is needed any more, or at once
 * when force (the connection goes away). */
void sack_release(struct tcpc_stack *stack, struct tcpcb *tp, bool force);

/* Receiver. A segment [seq, seq + len) was placed out of order. */
void sack_rcv_segment(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t len);
/* [seq, seq + len) arrived again: reported once as a D-SACK block. */
void sack_rcv_duplicate(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t len);
/*
 * A segment of len bytes at off past rcv_nxt, about to be placed: the
 * lowest part of it already held out of order (all of it, or the part a
 * partly new segment shares with an island) is reported as a D-SACK block,
 * as FreeBSD does. One duplicate part per segment: the caller skips this
 * when the segment's old part below rcv_nxt was reported.
 */
void sack_rcv_held_part(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t off, uint32_t len);
/* The blocks an ACK carries, into o (D-SACK first, then the newest). */
void sack_fill_options(const struct tcpc_stack *stack, const struct tcpcb *tp, struct tcp_opts *o);
/* An ACK carrying o's blocks left: the D-SACK block has been reported. */
void sack_options_sent(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o);

/* Sender. Takes in the SACK blocks of an ACK of `ack` (snd_una not yet
 * moved); returns the bytes newly SACKed. */
int32_t sack_input(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o,
                   uint32_t ack);
/* Whether an ACK of `ack` with options o reports a duplicate (RFC 2883):
 * its first block. */
bool sack_has_dsack(const struct tcp_opts *o, uint32_t ack);
/* Whether [start, end) lies wholly in one SACKed range. */
bool sack_covers(const struct tcp_sack *sk, uint32_t start, uint32_t end);
/* The first byte of [start, end) the scoreboard does not hold; end when
 * it holds them all. */
uint32_t sack_first_unsacked(const struct tcp_sack *sk, uint32_t start, uint32_t end);
/* Forgets every SACKed range (after a timeout: RFC 2018 8, the receiver
 * may have reneged). */
void sack_clear(struct tcp_sack *sk);
/* RFC 6675 IsLost for the first unacknowledged byte. */
bool sack_una_lost(const struct tcpcb *tp, const struct tcp_sack *sk);
/* RFC 6675 SetPipe: bytes presumed in the network. */
uint32_t sack_pipe(const struct tcpcb *tp, const struct tcp_sack *sk);
/*
 * RFC 6675 NextSeg, rules 1 and 3 (rule 2, new data, is the caller's):
 * the first byte to retransmit and how many bytes from there (at most
 * maxlen) are unSACKed. lost_only: rule 1 only (holes IsLost says are
 * gone). False when there is none.
 */
bool sack_next_rexmit(const struct tcpcb *tp, const struct tcp_sack *sk, uint32_t maxlen,
                      bool lost_only, uint32_t *seq, uint32_t *len);
/* Where a retransmission from seq would next find unSACKed data: seq, or
 * the end of the SACKed range holding it (go-back-N skips what the peer
 * has). */
uint32_t sack_skip(const struct tcp_sack *sk, uint32_t seq);

#endif
