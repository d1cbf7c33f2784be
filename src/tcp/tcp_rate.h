/*
 * Delivery-rate estimation: how fast the path delivered a connection's data,
 * sampled at every ACK, for a model-based congestion-control algorithm
 * (tcp_cc.h's rate_sample hook; the shape of BBR's estimator, described in
 * draft-cheng-iccrg-delivery-rate-estimation).
 *
 * The connection counts every byte the peer acknowledged or SACKed
 * (`delivered`) and when the count last moved. Each range of the flight
 * remembers that count, its time, and the send time of the flight's first
 * delivered segment as they were when the range went (a rate_stamp, kept
 * in RACK's send-time spans: tcp_rack.h). An ACK's sample comes from the
 * most recently sent range it delivered: bytes delivered since that range
 * went, over the longer of the time it took to send them and the time it
 * took to acknowledge them (the longer is the one a bottleneck set; the
 * shorter may be a burst or a stretch ACK). A sample shorter than the
 * minimum RTT is dropped: ACK compression makes such intervals lie.
 *
 * A sample taken while the application had too little to send says less
 * about the path than about the application (app_limited): an algorithm
 * keeps such a sample only when it exceeds what it already knows.
 *
 * The work runs only for a connection whose algorithm takes samples
 * (TF2_CC_RATE) and which holds a SACK record with RACK's spans; others
 * pay one flag test.
 */
#ifndef TCPCORE_TCP_TCP_RATE_H
#define TCPCORE_TCP_TCP_RATE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/seq.h"

/* RFC 8985's RACK_sent_after, shared by RACK and the rate estimator: sent
 * at t1 later than at t2, or at the same time with a higher end. */
static inline bool sent_after(uint32_t t1, uint32_t end1, uint32_t t2, uint32_t end2)
{
    return (int32_t)(t1 - t2) > 0 || (t1 == t2 && SEQ_GT(end1, end2));
}

/* The connection's delivery state when a range was sent. Times are the
 * low 32 bits of the stack's microsecond clock (only differences are
 * taken); byte counts wrap the same way. */
struct rate_stamp {
    uint32_t delivered;      /* the connection's count then */
    uint32_t delivered_time; /* when that count last moved */
    uint32_t first_sent;     /* send time of the range last delivered before */
};

/* One ACK's sample, as an algorithm sees it (tcp_cc.h). */
struct rate_sample {
    uint32_t delivered; /* bytes delivered over interval */
    uint32_t interval;  /* microseconds, 0: no valid sample from this ACK */
    uint32_t rtt;       /* now minus the sampled range's send time, microseconds */
    bool app_limited;   /* the sampled range went while application-limited */
};

/* The connection's side: its running count, and the newest range an ACK
 * being processed has delivered so far (the candidate for its sample). */
struct rate_state {
    uint32_t delivered;
    uint32_t delivered_time;
    uint32_t first_sent;
    /* The count at which the application-limited stretch ends (0: not
     * limited): set when output runs dry with room in the window. */
    uint32_t app_limited;
    /* This ACK's candidate, from rate_delivered. */
    struct rate_stamp p;
    uint32_t p_xmit;
    uint32_t p_end;
    uint8_t p_flags;         /* RATE_P_* */
    struct rate_sample last; /* the last valid sample */
};

#define RATE_P_VALID  0x01 /* p holds a range this ACK delivered */
#define RATE_P_APPLIM 0x02 /* ...sent while application-limited */

/* A range is about to go at now: the stamp it keeps. An empty flight
 * restarts the intervals (nothing in flight means nothing to be
 * delivered since); applim says the stretch is application-limited. */
void rate_stamp_take(struct rate_state *c, uint32_t now, bool flight_empty, struct rate_stamp *out,
                     bool *applim);

/* An ACK delivered part of a range sent at xmit with stamp s, ending at
 * end: the newest such range becomes the sample's candidate. */
void rate_delivered(struct rate_state *c, const struct rate_stamp *s, uint32_t xmit, uint32_t end,
                    bool applim);

/* The ACK delivered `bytes` in all (acknowledged plus newly SACKed): the
 * count moves, and the sample is computed into rs from the candidate
 * (interval 0 when there is none or it is shorter than min_rtt). */
void rate_ack(struct rate_state *c, uint32_t now, uint32_t bytes, uint32_t min_rtt,
              struct rate_sample *rs);

/* Output ran dry with `in_flight` bytes out: the stretch until those are
 * delivered is application-limited. */
void rate_mark_app_limited(struct rate_state *c, uint32_t in_flight);

#endif
