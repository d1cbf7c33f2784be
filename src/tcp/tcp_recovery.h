/*
 * Loss recovery by acknowledgments rather than by timeout: fast retransmit
 * and fast recovery driven by the SACK scoreboard (RFC 6675) with
 * proportional rate reduction (RFC 6937), NewReno (RFC 6582) when the peer
 * does not SACK, and limited transmit (RFC 3042) before either begins.
 *
 * Input calls recovery_ack once per ACK; output asks recovery_cwnd_room how
 * much new data the congestion side allows and lets recovery_rexmit send
 * the retransmissions RFC 6675's NextSeg picks; the retransmission timer
 * calls recovery_timeout.
 */
#ifndef TCPCORE_TCP_TCP_RECOVERY_H
#define TCPCORE_TCP_TCP_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcp_var.h"

struct tcpc_stack;
struct tcp_opts;

/*
 * An acceptable ACK was processed: snd_una already moved by `acked` bytes,
 * the scoreboard changed by `sacked` bytes (RFC 6937's DeliveredData is
 * their sum), and `dupack` says whether it was a duplicate ACK (RFC 5681
 * 2). Grows or reduces the window, enters or leaves recovery, and sends
 * the fast retransmission when due.
 */
void recovery_ack(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t acked, int32_t sacked,
                  bool dupack);

/* RACK marked a loss outside an ACK (its reorder timer): recovery begins
 * if it may. */
void recovery_rack_loss(struct tcpc_stack *stack, struct tcpcb *tp);

/* SACK recovery's window room: cwnd less RFC 6675's pipe. */
uint32_t recovery_sack_room(const struct tcpc_stack *stack, const struct tcpcb *tp);

/* Bytes of new data the congestion window lets out now (the peer's window
 * is the caller's): cwnd less the flight, less RFC 6675's pipe in SACK
 * recovery, plus RFC 3042's allowance after one or two duplicate ACKs,
 * keeping the ACK clock going when the window is small. Inline: output
 * asks once per segment. */
static inline uint32_t recovery_cwnd_room(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    if (tp->t_flags & TF_SACKRECOV)
        return recovery_sack_room(stack, tp);
    uint32_t used = tp->snd_nxt - tp->snd_una;
    uint32_t cwnd = tp->snd_cwnd;
    if (tp->t_dupacks && !(tp->t_flags & TF_FASTRECOV) && tp->t_dupacks < TCP_DUPTHRESH &&
        tp->snd_nxt == tp->snd_max)
        cwnd += tp->t_dupacks * (uint32_t)tp->t_maxseg;
    return cwnd > used ? cwnd - used : 0;
}

/* In SACK recovery, sends the next retransmission NextSeg picks if the
 * window allows (rules 1 and 3; rule 2, new data, is ordinary output).
 * Returns 1 when one was sent, 0 when none is due, or the link's error. */
int recovery_rexmit(struct tcpc_stack *stack, struct tcpcb *tp);

/* A segment of `len` payload bytes left during recovery; rexmit: it was a
 * retransmission ending at `end`. */
void recovery_sent(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t len, bool rexmit,
                   uint32_t end);

/* The retransmission timer fired: recovery ends, the scoreboard is
 * forgotten, the window collapses (RFC 5681 3.1, RFC 6675 5.1). */
void recovery_timeout(struct tcpc_stack *stack, struct tcpcb *tp);

/* RFC 3522 (Eifel detection) with the RFC 4015 response: the first ACK of
 * new data after a first timeout echoes a timestamp older than the
 * retransmission's, so the original flight arrived and the timeout was
 * needless: the window comes back and sending resumes after the flight.
 * Call before the ACK moves snd_una. */
void recovery_check_spurious(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o,
                             uint32_t ack);

/* After a timeout, retransmission resends from snd_nxt: skips what the
 * peer has SACKed since. */
void recovery_skip_sacked(const struct tcpc_stack *stack, struct tcpcb *tp);

#endif
