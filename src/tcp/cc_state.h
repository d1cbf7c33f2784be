/*
 * Per-connection state of the congestion-control algorithms (tcp_cc.h),
 * held in the control block itself: FreeBSD's mod_cc gives each
 * connection a malloc'd cc_data, which would be an allocation per
 * connection here, so each algorithm's state is one member of a small
 * fixed union instead, and an algorithm whose state would not fit does not
 * build (the static_assert below).
 */
#ifndef TCPCORE_TCP_CC_STATE_H
#define TCPCORE_TCP_CC_STATE_H

#include <assert.h>
#include <stdint.h>

/* CUBIC (RFC 9438). Windows in bytes, times in milliseconds of the stack's
 * clock (32 bits: only differences are used, and an epoch lasts far less
 * than the 49 days of wrap). */
struct cc_cubic_state {
    uint32_t w_max; /* W_max: the window just before the last reduction */
    uint32_t w_est; /* W_est: the Reno-friendly estimate (RFC 9438 4.3) */
    /* K: when W_cubic returns to W_max, in ms from the epoch (20 bits: K is
     * under 9 minutes for any 32-bit window); all ones until the epoch
     * after a timeout. */
    uint32_t k_ms : 20;
    /* W_est's fraction of a byte, in 1/4096: its per-ACK steps are a few
     * bytes, and dropping their fractions would slow it by several %. */
    uint32_t w_est_frac : 12;
    uint32_t epoch_ms; /* start of the congestion-avoidance epoch; 0: none yet */
};

/* HyStart++ (cc_hystart.h) while the first slow start runs, before the
 * algorithm has state of its own. RTTs in microseconds, 24 bits (16.7 s;
 * all ones: none yet). */
#define HYSTART_RTT_NONE 0xffffffu
struct cc_hystart_state {
    uint32_t window_end;          /* the round ends when snd_una reaches it */
    uint32_t round_min : 24;      /* this round's smallest sample */
    uint32_t samples : 8;         /* samples this round (saturating) */
    uint32_t last_round_min : 24; /* the last round's */
    uint32_t css_rounds : 8;      /* rounds ended in CSS */
    uint32_t css_baseline : 24;   /* the round minimum CSS began at */
    uint32_t rounds_begun : 1;    /* window_end is set */
};

/* The state one connection's algorithm keeps; zeroed when the algorithm
 * is attached. A model-based controller (BBR) needs more (bandwidth and
 * RTT filters): it would add its member here and the assert would say
 * what the control block pays. */
union cc_state {
    struct cc_cubic_state cubic;
    struct cc_hystart_state hystart;
    uint32_t raw[4];
};

static_assert(sizeof(union cc_state) <= 16, "congestion-control state stays within 16 bytes");

#endif
