/*
 * Delivery-rate estimation; see tcp_rate.h.
 */
#include "tcp/tcp_rate.h"

void rate_stamp_take(struct rate_state *c, uint32_t now, bool flight_empty, struct rate_stamp *out,
                     bool *applim)
{
    if (flight_empty) {
        /* Time spent with nothing out is no delivery time: both intervals
         * start again from this send. */
        c->first_sent = now;
        c->delivered_time = now;
    }
    *out = (struct rate_stamp){c->delivered, c->delivered_time, c->first_sent};
    *applim = c->app_limited != 0;
}

void rate_delivered(struct rate_state *c, const struct rate_stamp *s, uint32_t xmit, uint32_t end,
                    bool applim)
{
    if ((c->p_flags & RATE_P_VALID) && !sent_after(xmit, end, c->p_xmit, c->p_end))
        return;
    c->p = *s;
    c->p_xmit = xmit;
    c->p_end = end;
    c->p_flags = (uint8_t)(RATE_P_VALID | (applim ? RATE_P_APPLIM : 0));
}

void rate_ack(struct rate_state *c, uint32_t now, uint32_t bytes, uint32_t min_rtt,
              struct rate_sample *rs)
{
    *rs = (struct rate_sample){0};
    c->delivered += bytes;
    c->delivered_time = now;
    if (c->app_limited && (int32_t)(c->delivered - c->app_limited) > 0)
        c->app_limited = 0;
    if (!(c->p_flags & RATE_P_VALID))
        return;
    uint8_t pf = c->p_flags;
    c->p_flags = 0;
    /* The sampled range is now the newest delivered: the next ranges' send
     * intervals start at its send time. */
    c->first_sent = c->p_xmit;
    uint32_t send_elapsed = c->p_xmit - c->p.first_sent;
    uint32_t ack_elapsed = c->delivered_time - c->p.delivered_time;
    uint32_t interval = send_elapsed > ack_elapsed ? send_elapsed : ack_elapsed;
    rs->delivered = c->delivered - c->p.delivered;
    rs->rtt = now - c->p_xmit;
    rs->app_limited = pf & RATE_P_APPLIM;
    if (interval == 0 || interval < min_rtt || rs->delivered == 0)
        return; /* too short to say anything: ACK compression, or a first ACK */
    rs->interval = interval;
}

void rate_mark_app_limited(struct rate_state *c, uint32_t in_flight)
{
    uint32_t end = c->delivered + in_flight;
    c->app_limited = end ? end : 1;
}
