/*
 * RACK-TLP (RFC 8985): loss found by time rather than by counting, and
 * the tail-loss probe.
 *
 * RACK keeps when each part of the flight was last sent and, from the
 * most recently sent segment an ACK shows delivered, marks lost what was
 * sent a round trip plus a reordering window before it. The marks feed
 * the RFC 6675 scoreboard (tcp_sack.c): a RACK-lost range is IsLost,
 * leaves the pipe and is NextSeg's first choice, whether it was sent once
 * or retransmitted already. What time has not yet condemned waits on the
 * reorder timer. TLP sends one probe (new data, or the last segment) when
 * the flight has gone quiet for two round trips, so that a lost tail
 * draws the SACKs that repair it instead of a timeout.
 *
 * The state lives in the connection's SACK record (tcp_sack.h), taken at
 * the first data sent on a connection that negotiated SACK; a connection
 * without one (no SACK, net.inet.tcp.rack.enable 0, or the pool empty)
 * recovers as before. What the connection learns about its path's
 * reordering outlives the record, in the control block (t_reordered,
 * t_reo_steps, t_reo_persist): a record is given back whenever the whole
 * flight is acknowledged. The reorder timer and the probe timer borrow the
 * retransmission timer's slot (TF2_RACK_TIMER, TF2_TLP_TIMER), the way a
 * probe or a reorder deadline always comes before the timeout it stands
 * in front of; setting or stopping TT_REXMT gives the slot back.
 */
#ifndef TCPCORE_TCP_TCP_RACK_H
#define TCPCORE_TCP_TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcp_rate.h"
#include "tcp/tcp_var.h"

struct tcpc_stack;
struct tcp_opts;
struct tcp_sack;

/* Send-time ranges kept per connection: past this many, a range the peer
 * holds merges into a neighbour, or else the two whose merged range of
 * times is narrowest merge (rack_span says which time each use takes). */
#define RACK_SPANS 16

/* rack_span flags */
#define RS_RXT    0x01 /* last sent as a retransmission */
#define RS_LOST   0x02 /* marked lost, not resent since */
#define RS_APPLIM 0x04 /* sent while application-limited (tcp_rate.h) */

/* rack.flags */
#define RACK_XMIT    0x01 /* xmit, end_seq and rtt hold a delivered segment */
#define RACK_DSACK   0x04 /* dsack_round is set */
#define RACK_TLP     0x08 /* a probe is out (tlp_end) */
#define RACK_TLP_RXT 0x10 /* ...and it was a retransmission */

/*
 * Bytes [start, next start, or snd_max) were last sent between first and
 * xmit: the stack clock's low 32 bits in microseconds (only differences
 * are taken); the two differ once spans sent at different times merged.
 * Loss is judged by xmit, the latest, and a delivery by first, the
 * earliest: either way a merge makes RACK slower to condemn, never
 * quicker. (A delivery taken at the latest time would count data sent a
 * round trip ago as just sent: an RTT sample near zero, and everything
 * sent before that time, retransmissions still on their way included,
 * condemned at once.) For an algorithm that takes delivery-rate samples,
 * rate is the delivery state the bytes went with (tcp_rate.h; a merged
 * span keeps its earliest part's); zero for the others.
 */
struct rack_span {
    uint32_t start;
    uint32_t xmit;
    uint32_t first;
    struct rate_stamp rate;
};

struct rack {
    uint8_t sflags[RACK_SPANS]; /* RS_* of each span */
    uint8_t nspan;
    uint8_t flags;    /* RACK_*; what outlives the flight is in tcpcb (t_reordered) */
    uint32_t xmit;    /* RFC 8985 RACK.xmit_ts */
    uint32_t end_seq; /* RACK.end_seq */
    uint32_t rtt;     /* RACK.rtt, microseconds */
    uint32_t min_rtt; /* microseconds, 0: no sample */
    uint32_t fack;    /* highest sequence delivered */
    uint32_t dsack_round;
    uint32_t tlp_end;       /* snd_max after the probe */
    uint32_t tlp_xmit;      /* when it went */
    struct rate_state rate; /* delivery-rate estimation (TF2_CC_RATE) */
    /* Last, so that a record taken clears what comes before it only: only
     * span[0..nspan) is ever read. */
    struct rack_span span[RACK_SPANS]; /* sorted, from snd_una on */
};

/* Whether RACK-TLP runs on tp (SACK negotiated, the tunable on). */
bool rack_enabled(const struct tcpc_stack *stack, const struct tcpcb *tp);

/* [seq, end) is being sent (snd_max not yet moved past it). */
void rack_sent(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t end);

/* An acceptable ACK of `ack` with options o, before the scoreboard takes
 * its blocks and snd_una moves: the newest delivery, the reordering
 * window's D-SACK rounds, and the probe's outcome (RFC 8985 7.4). */
void rack_ack(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o, uint32_t ack);

/* For an algorithm that takes delivery-rate samples (TF2_CC_RATE): the
 * ACK rack_ack saw delivered `bytes` in all; the sample into rs. False
 * without a record holding the flight's spans (no sample). */
bool rack_rate_ack(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t bytes,
                   struct rate_sample *rs);

/* Output stopped with the window open and nothing left to send: for an
 * algorithm that takes samples, what is in flight until delivered is
 * application-limited. */
void rack_rate_app_limited(struct tcpc_stack *stack, struct tcpcb *tp);

/* After the ACK moved snd_una: marks what time says is lost and arms the
 * reorder timer for what it may yet say. True when a lost range awaits
 * retransmission. */
bool rack_detect(struct tcpc_stack *stack, struct tcpcb *tp);

/* Whether sk holds a range marked lost and not resent. */
bool rack_has_lost(const struct tcpcb *tp, const struct tcp_sack *sk);

/* Arms the probe timer when a probe may be due (RFC 8985 7.2). */
void rack_tlp_schedule(struct tcpc_stack *stack, struct tcpcb *tp);

/* The retransmission timer's slot fired while RACK or TLP held it: runs
 * that, then arms the retransmission timer. */
void rack_timer_fire(struct tcpc_stack *stack, struct tcpcb *tp);

/* A retransmission timeout: every mark goes (all is resent from snd_una)
 * and so does the probe. */
void rack_timeout(struct tcp_sack *sk);

/* A fast recovery ended (RFC 8985 6.2 step 4's reo_wnd_persist). */
void rack_recovery_done(struct tcpcb *tp);

/* Whether the byte at seq was last sent as a retransmission and has not
 * been judged lost since: it is on its way, whatever RFC 6675's HighRxt
 * of a later recovery says. */
bool rack_resent(const struct tcp_sack *sk, uint32_t seq);

/*
 * Calls fn for the pieces of [start, end), lowest first, split where the
 * RS_LOST or RS_RXT mark changes, with those of the marks the piece has,
 * until it returns true. With no send times kept, one unmarked piece.
 */
typedef bool (*rack_piece_fn)(void *ctx, uint32_t start, uint32_t end, uint8_t fl);
bool rack_pieces(const struct tcp_sack *sk, uint32_t start, uint32_t end, rack_piece_fn fn,
                 void *ctx);

#endif
