/*
 * RACK-TLP (RFC 8985) on the sending side, segment by segment: a loss
 * found by time (a reordering window after the last delivery) rather than
 * by three duplicates; reordering inside the window left alone; the
 * window widened by D-SACK; a tail loss repaired by a probe before the
 * retransmission timeout; and the probe's outcome (a loss it repaired
 * brings the window down, a D-SACK of it does not).
 *
 * Connections are opened actively with MSS 1000, SACK and no timestamps,
 * a SYN-ACK 100 ms after the SYN, and first carry one segment acknowledged
 * after 100 ms too: SRTT and RACK's
 * minimum RTT are 100 ms, so the reordering window is 25 ms, the probe
 * timeout two round trips (200 ms), and the retransmission timeout, once
 * three samples of 100 ms are in, 212 ms.
 */
#include "test_tcp_fixture.h"

#include "core/stack.h"
#include "tcp/tcp_rack.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_var.h"
#include "util/seq.h"

#define MSS 1000u
#define RTT (100 * MSEC)

/* Where the data queued ends: the segment ending there carries PSH. */
static uint32_t data_end;

static void expect_data(struct harness *h, uint32_t seq)
{
    uint8_t flags = seq + MSS == data_end ? TH_ACK | TH_PSH : TH_ACK;
    h_expect(h, SEG(.flags = flags, .seq = seq, .len = MSS));
}

static struct tcpc_info info_of(struct harness *h, int sd)
{
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &in), 0);
    return in;
}

/* A connection with a 100 ms round trip measured; c.rcv is past the
 * segment that measured it. */
static struct fx_conn open_conn(struct harness *h)
{
    struct fx_conn c = {.lsd = -1, .irs = 1000};
    struct h_seg syn;
    c.sd = fx_connect(h, &syn);
    c.iss = syn.th.seq;
    h_advance(h, RTT); /* the handshake measures it first */
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = c.irs, .ack = c.iss + 1, .mss = MSS,
                    .sackperm = 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.iss + 1, .ack = c.irs + 1, .len = 0));
    c.snd = c.irs + 1;
    c.rcv = c.iss + 1;
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(MSS, 'z'), MSS), (ssize_t)MSS);
    data_end = c.rcv + MSS;
    expect_data(h, c.rcv);
    h_advance(h, RTT);
    c.rcv += MSS;
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect_nothing(h);
    assert_int_equal(info_of(h, c.sd).srtt, RTT);
    return c;
}

/* Queues ten segments, all of which the window lets out at once. */
static void send_ten(struct harness *h, const struct fx_conn *c)
{
    assert_int_equal(tcpc_send(h->stack, c->sd, fx_pattern(10 * MSS, 'a'), 10 * MSS),
                     (ssize_t)(10 * MSS));
    data_end = c->rcv + 10 * MSS;
    for (uint32_t i = 0; i < 10; i++)
        expect_data(h, c->rcv + i * MSS);
    h_expect_nothing(h);
}

/* A connection with ten segments in flight, one RTT after they went. */
static struct fx_conn ten_in_flight(struct harness *h)
{
    struct fx_conn c = open_conn(h);
    send_ten(h, &c);
    h_advance(h, RTT);
    return c;
}

/* An ACK of offset `ack` from c->rcv with blocks [b[2i], b[2i+1]), also
 * offsets (a D-SACK block is simply first). */
static void ack_sack(struct harness *h, const struct fx_conn *c, uint32_t ack, unsigned nblocks,
                     const uint32_t *b)
{
    struct seg s = SEG(.flags = TH_ACK, .seq = c->snd, .ack = c->rcv + ack, .len = 0);
    s.nsack = nblocks;
    for (unsigned i = 0; i < 2 * nblocks; i++)
        s.sack[i] = c->rcv + b[i];
    h_inject(h, s);
}

/*
 * RFC 8985 6.2: one duplicate ACK shows segments 1 and 2 delivered and 0
 * not. Too few for RFC 6675's IsLost or three duplicates, but segment 0
 * was sent before them: once a round trip plus the reordering window (25
 * ms) has passed since it went, it is lost, and the reorder timer
 * retransmits it then, starting recovery.
 */
static void test_rack_lost_after_reorder_window(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, 3 * MSS});
    h_expect_nothing(h);
    h_advance(h, 24 * MSEC);
    h_expect_nothing(h);
    h_advance(h, 2 * MSEC);
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvdupack"), 1);
    assert_int_equal(h_stat(h, "tcps_rack_reordertimeo"), 1);
    assert_int_equal(h_stat(h, "tcps_rack_loss"), 1);
    assert_int_equal(h_stat(h, "tcps_sack_recovery_episode"), 1);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 0);
    h_free(h);
}

/* Segment 0 arrives after segment 1, inside the window: nothing is
 * retransmitted, neither at the SACK nor when the window would have run
 * out. */
static void test_rack_reordering_within_window(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, 2 * MSS});
    h_expect_nothing(h);
    h_advance(h, 10 * MSEC);
    ack_sack(h, &c, 2 * MSS, 0, NULL);
    h_advance(h, 40 * MSEC);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 0);
    assert_int_equal(h_stat(h, "tcps_rack_loss"), 0);
    assert_int_equal(h_stat(h, "tcps_sack_recovery_episode"), 0);
    h_free(h);
}

/*
 * RFC 8985 6.2 step 4: a D-SACK says a retransmission was needless, so the
 * window grows by a quarter of the minimum RTT per round trip that
 * reports one: the loss test above, after one, waits 50 ms, not 25.
 */
static void test_rack_dsack_widens_window(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    /* Segment 0 delivered, with a D-SACK (below the ACK). */
    ack_sack(h, &c, 1 * MSS, 1, (uint32_t[]){0, 1 * MSS});
    assert_int_equal(h_stat(h, "tcps_dsack_count"), 1);
    assert_int_equal(h_stat(h, "tcps_rack_reowin"), 1);
    /* Segments 2 and 3 delivered, 1 not. */
    ack_sack(h, &c, 1 * MSS, 1, (uint32_t[]){2 * MSS, 4 * MSS});
    h_advance(h, 49 * MSEC);
    h_expect_nothing(h);
    h_advance(h, 2 * MSEC);
    expect_data(h, c.rcv + MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rack_loss"), 1);
    h_free(h);
}

/*
 * RFC 8985's gain over RFC 6675: a retransmission lost too. Segment 0 is
 * resent at the first SACKs (three segments above it) and lost again; a
 * round trip later the SACK of new data sent after the retransmission
 * shows it overdue, and it goes a third time, without waiting for the
 * timeout (HighRxt is past it, so NextSeg alone would not resend it).
 */
static void test_rack_lost_retransmission(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, 4 * MSS});
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    h_advance(h, 10 * MSEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(10 * MSS, 'k'), 10 * MSS),
                     (ssize_t)(10 * MSS));
    data_end += 10 * MSS;
    ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, 8 * MSS});
    assert_true(h_pending(h) > 0); /* new data, after the retransmission */
    h_flush(h);
    h_advance(h, RTT);
    uint32_t sent = info_of(h, c.sd).snd_max - c.rcv;
    ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, sent});
    expect_data(h, c.rcv);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 0);
    assert_true(h_stat(h, "tcps_rack_loss") >= 1);
    h_free(h);
}

/*
 * RFC 8985 7: the last two segments are lost. Two round trips after the
 * last ACK (before the 212 ms timeout) the probe resends the last segment;
 * its SACK shows segment 8 sent before a delivered one, so RACK marks it
 * lost at once and recovery repairs it. No timeout.
 */
static void test_tlp_repairs_tail_loss(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 8 * MSS, 0, NULL);
    h_expect_nothing(h);
    h_advance(h, 199 * MSEC);
    h_expect_nothing(h);
    h_advance(h, 1 * MSEC);
    expect_data(h, c.rcv + 9 * MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tlp_probe"), 1);
    h_advance(h, RTT);
    ack_sack(h, &c, 8 * MSS, 1, (uint32_t[]){9 * MSS, 10 * MSS});
    expect_data(h, c.rcv + 8 * MSS);
    h_expect_nothing(h);
    h_advance(h, RTT);
    ack_sack(h, &c, 10 * MSS, 0, NULL);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 0);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 2);
    assert_int_equal(h_stat(h, "tcps_tlp_loss"), 0); /* RACK found that loss */
    h_free(h);
}

/* The last segment and the ACK of the one before it are lost; the probe
 * resends the last. Returns the window before the probe's ACK. */
static uint32_t probe_last_segment(struct harness *h, const struct fx_conn *c)
{
    send_ten(h, c);
    h_advance(h, RTT);
    ack_sack(h, c, 8 * MSS, 0, NULL);
    fx_advance_until_output(h, 2 * RTT);
    expect_data(h, c->rcv + 9 * MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tlp_probe"), 1);
    h_advance(h, RTT);
    return info_of(h, c->sd).snd_cwnd;
}

/*
 * RFC 8985 7.4: the probe is acknowledged a round trip later with no
 * D-SACK: it repaired a loss, which would otherwise go unnoticed by
 * congestion control: the window comes down as after a fast recovery.
 */
static void test_tlp_loss_detected(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    uint32_t cwnd = probe_last_segment(h, &c);
    ack_sack(h, &c, 10 * MSS, 0, NULL);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tlp_loss"), 1);
    struct tcpc_info in = info_of(h, c.sd);
    assert_true(in.snd_ssthresh < cwnd);
    assert_true(in.snd_cwnd < cwnd);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 0);
    h_free(h);
}

/* The same probe reported as a duplicate (D-SACK): the original arrived,
 * nothing was lost, the window stays. */
static void test_tlp_dsack_no_loss(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    uint32_t cwnd = probe_last_segment(h, &c);
    ack_sack(h, &c, 10 * MSS, 1, (uint32_t[]){9 * MSS, 10 * MSS});
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tlp_loss"), 0);
    assert_true(info_of(h, c.sd).snd_cwnd >= cwnd);
    h_free(h);
}

/* net.inet.tcp.rack.enable 0: the tail loss waits for the timeout, as in
 * FreeBSD's base stack. */
static void test_rack_disabled(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    fx_set_tunable(h, "net.inet.tcp.rack.enable", 0);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 8 * MSS, 0, NULL);
    h_advance(h, 200 * MSEC); /* the probe's time passes */
    h_expect_nothing(h);
    fx_advance_until_output(h, 100 * MSEC);
    expect_data(h, c.rcv + 8 * MSS);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 1);
    assert_int_equal(h_stat(h, "tcps_tlp_probe"), 0);
    h_free(h);
}

/* ---- Delivery-rate samples (tcp_rate.h) over RACK's spans ---- */

static struct tcpcb *tcb_of(struct harness *h, int sd)
{
    return h->stack->tcp->sockets[sd];
}

/* The connection's rate state: its SACK record's. */
static const struct rate_state *rate_of(struct harness *h, int sd)
{
    struct tcp_sack *sk = sack_of(h->stack, tcb_of(h, sd));
    assert_non_null(sk);
    return &sk->rack.rate;
}

/* As an algorithm that takes delivery-rate samples would ask (no such
 * algorithm ships yet: the flag is what attaching one sets). */
static void take_rate_samples(struct harness *h, int sd)
{
    tcb_of(h, sd)->t_flags2 |= TF2_CC_RATE;
}

/*
 * Ten segments go at once; 100 ms later an ACK takes five, 10 ms after
 * that another four more (the last one keeps the flight, and the record
 * with it). Each sample is what was delivered since the flight began over
 * the time since: 5,000 bytes in 100 ms, then 9,000 in 110 ms, the round
 * trip of the newest range each delivered. All ten
 * filled no window: output ran dry, so the stretch they began is
 * application-limited until they are delivered.
 */
static void test_rate_samples_follow_the_acks(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    take_rate_samples(h, c.sd);
    send_ten(h, &c);
    const struct rate_state *r = rate_of(h, c.sd);
    assert_int_equal(r->app_limited, 10 * MSS);
    h_advance(h, RTT);
    ack_sack(h, &c, 5 * MSS, 0, NULL);
    assert_int_equal(r->last.delivered, 5 * MSS);
    assert_int_equal(r->last.interval, RTT);
    assert_int_equal(r->last.rtt, RTT);
    assert_false(r->last.app_limited); /* sent before output ran dry */
    h_advance(h, 10 * MSEC);
    ack_sack(h, &c, 9 * MSS, 0, NULL);
    h_expect_nothing(h);
    r = rate_of(h, c.sd);
    assert_int_equal(r->last.delivered, 9 * MSS);
    assert_int_equal(r->last.interval, RTT + 10 * MSEC);
    assert_int_equal(r->last.rtt, RTT + 10 * MSEC);
    h_free(h);
}

/*
 * A SACK shows segments 1 and 2 delivered at 100 ms; RACK resends segment
 * 0 at 126 ms, which takes the delivery state of then. The ACK of all
 * three at 226 ms samples the retransmission, the newest range it
 * delivered: 1,000 bytes over 126 ms (the send interval from the flight's
 * first delivered range and the ACK interval from the SACK are both 126).
 */
static void test_rate_retransmission_takes_a_new_stamp(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    take_rate_samples(h, c.sd);
    send_ten(h, &c);
    h_advance(h, RTT);
    ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, 3 * MSS});
    const struct rate_state *r = rate_of(h, c.sd);
    assert_int_equal(r->delivered, 2 * MSS);
    assert_int_equal(r->last.delivered, 2 * MSS);
    assert_int_equal(r->last.interval, RTT);
    h_advance(h, 26 * MSEC);
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    h_advance(h, RTT);
    ack_sack(h, &c, 3 * MSS, 0, NULL);
    r = rate_of(h, c.sd);
    assert_int_equal(r->last.delivered, MSS);
    assert_int_equal(r->last.interval, RTT + 26 * MSEC);
    assert_int_equal(r->last.rtt, RTT);
    h_free(h);
}

/* With an algorithm that takes no samples (the default CUBIC), the
 * spans keep no delivery state and the count stays still: the estimator
 * costs such a connection one flag test. */
static void test_rate_untouched_without_rate_algorithm(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, 3 * MSS});
    struct tcp_sack *sk = sack_of(h->stack, tcb_of(h, c.sd));
    assert_non_null(sk);
    assert_int_equal(sk->rack.rate.delivered, 0);
    assert_int_equal(sk->rack.rate.app_limited, 0);
    for (unsigned i = 0; i < sk->rack.nspan; i++) {
        assert_int_equal(sk->rack.span[i].rate.delivered_time, 0);
        assert_int_equal(sk->rack.span[i].rate.first_sent, 0);
        assert_int_equal(sk->rack.sflags[i] & RS_APPLIM, 0);
    }
    h_free(h);
}

/* Takes what the stack sent, counting each data segment at its offset
 * from c->rcv in sends[] (of n). */
static void count_sends(struct harness *h, const struct fx_conn *c, uint8_t *sends, uint32_t n)
{
    while (h_pending(h)) {
        struct h_seg out = h_expect(h, SEG(.flags = TH_ACK));
        uint32_t k = (out.th.seq - c->rcv) / MSS;
        if (out.th.payload_len && k < n)
            sends[k]++;
    }
}

/* A 40-odd segment flight sent at one instant (rebased: c->rcv is its
 * first byte) loses segments 0, 2, ..., 22; a round trip later recovery
 * resends the holes as their islands are SACKed, and then the rest of the
 * flight is SACKed a segment a millisecond while new data goes out.
 * Returns the flight's length in segments; sends[] counts each segment's
 * sends since the loss. */
static uint32_t islands_recovery(struct harness *h, struct fx_conn *c, uint8_t *sends, uint32_t n)
{
    struct tcpcb *tp = h->stack->tcp->sockets[c->sd];
    static const char data[400 * MSS];
    assert_int_equal(tcpc_send(h->stack, c->sd, data, sizeof(data)), (ssize_t)sizeof(data));
    h_flush(h);
    /* Slow start, a round trip per round, until 40 segments are out, all
     * sent at one instant. */
    while (tp->snd_max - tp->snd_una < 40 * MSS) {
        h_advance(h, RTT);
        uint32_t end = tp->snd_max;
        while (tp->snd_una != end)
            h_inject(h, SEG(.flags = TH_ACK, .seq = c->snd, .ack = tp->snd_una + MSS));
        h_flush(h);
    }
    c->rcv = tp->snd_una;
    uint32_t flight = (tp->snd_max - tp->snd_una) / MSS;
    h_advance(h, RTT);
    /* Segments 1, 3, ..., 23 arrived, 0, 2, ..., 22 did not. */
    for (uint32_t k = 1; k < 24; k += 2) {
        ack_sack(h, c, 0, 1, (uint32_t[]){k * MSS, (k + 1) * MSS});
        count_sends(h, c, sends, n);
    }
    /* The rest of the flight arrives, a segment a millisecond. */
    for (uint32_t k = 24; k < flight; k++) {
        h_advance(h, MSEC);
        ack_sack(h, c, 0, 2, (uint32_t[]){24 * MSS, (k + 1) * MSS, 21 * MSS, 22 * MSS});
        count_sends(h, c, sends, n);
    }
    return flight;
}

/*
 * RACK keeps RACK_SPANS send-time ranges; past that many, neighbours
 * merge. A merged span's data went over a range of times: judged
 * delivered at the latest of them, data sent a round trip ago looked just
 * sent, and every retransmission sent before that latest time was
 * condemned at once (on the relay path of bench/vs_linux_transfer.sh,
 * half of all retransmissions came back as D-SACKs). Here a 44-segment
 * flight loses every other one of its first 24 segments: recovery resends
 * the holes, new data goes out a millisecond later (in a full list, and
 * before SACKed spans were merged away first, the span of the flight's
 * unSACKed tail merged with it), and the tail's segments, sent with the
 * flight, are SACKed a millisecond apart. No retransmission is a round
 * trip old, so none may go again.
 */
static void test_rack_merged_span_delivery(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.sendspace=1048576", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_conn(h);
    static uint8_t sends[600];
    uint32_t flight = islands_recovery(h, &c, sends, 600);
    uint32_t rexmits = 0;
    for (uint32_t k = 0; k < 600; k++) {
        if (sends[k] > 1)
            fail_msg("segment %u sent %u times within %u ms", k, sends[k], flight - 24);
        if (k < 24 && sends[k])
            rexmits++;
    }
    assert_true(rexmits >= 8); /* enough holes resent to fill the list */
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 0);
    h_free(h);
}

/*
 * The same recovery, a round trip on: the new data is SACKed, the holes'
 * retransmissions, sent before it, are not (lost again). RACK finds them
 * lost and segment 0 goes a third time, long before the timeout. For that the new data's send times
 * must survive: the spans of SACKed islands, whose times nothing reads, are the ones to merge away,
 * not the flight's unSACKed tail with each new segment (whose earliest time, the flight's, would
 * then stand for all of them).
 */
static void test_rack_lost_retransmission_in_long_recovery(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.sendspace=1048576", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_conn(h);
    struct tcpcb *tp = h->stack->tcp->sockets[c.sd];
    static uint8_t sends[600];
    uint32_t flight = islands_recovery(h, &c, sends, 600);
    assert_int_equal(sends[0], 1);
    h_advance(h, RTT);
    ack_sack(h, &c, 0, 2, (uint32_t[]){flight * MSS, tp->snd_max - c.rcv, 24 * MSS, flight * MSS});
    count_sends(h, &c, sends, 600);
    assert_int_equal(sends[0], 2);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 0);
    h_free(h);
}

/*
 * A recovery's retransmission is still on its way when the next recovery
 * begins: RFC 6675's HighRxt starts again from snd_una, but RACK knows the
 * range was resent and not judged lost since, and it does not go again.
 * Segment 0 is lost and resent; segment 12, sent in that recovery, is lost
 * too and resent a round trip later. The ACK of segment 0 ends the first
 * recovery, the duplicates after it start a second with segment 12 the
 * first hole: its retransmission left a few milliseconds ago, and only
 * time (RACK) may condemn it.
 */
static void test_rack_resent_hole_not_resent_by_next_recovery(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    struct tcpcb *tp = h->stack->tcp->sockets[c.sd];
    send_ten(h, &c);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(40 * MSS, 'b'), 40 * MSS),
                     (ssize_t)(40 * MSS));
    data_end += 40 * MSS;
    static uint8_t sends[60];
    h_advance(h, RTT);
    for (uint32_t k = 4; k <= 10; k++) {
        ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, k * MSS});
        count_sends(h, &c, sends, 60);
    }
    uint32_t recover = (tp->snd_recover - c.rcv) / MSS;
    assert_int_equal(sends[0], 1);
    assert_true(recover < 12 && sends[12] == 1 && sends[15] == 1);
    h_advance(h, RTT);
    /* Segment 12 lost, the others arrived: it goes again. */
    ack_sack(h, &c, 0, 2, (uint32_t[]){13 * MSS, 16 * MSS, 1 * MSS, 12 * MSS});
    count_sends(h, &c, sends, 60);
    assert_int_equal(sends[12], 2);
    /* Segment 0's retransmission arrives: the first recovery ends. */
    ack_sack(h, &c, 12 * MSS, 1, (uint32_t[]){13 * MSS, 16 * MSS});
    count_sends(h, &c, sends, 60);
    assert_false(tp->t_flags & TF_FASTRECOV);
    /* More of what followed segment 12 arrives: a second recovery. */
    for (uint32_t k = 17; k <= 19; k++) {
        h_advance(h, MSEC);
        ack_sack(h, &c, 12 * MSS, 1, (uint32_t[]){13 * MSS, k * MSS});
        count_sends(h, &c, sends, 60);
    }
    assert_int_equal(h_stat(h, "tcps_sack_recovery_episode"), 2);
    assert_int_equal(sends[12], 2);
    h_free(h);
}

/* ---- What outlives a flight (RFC 8985 keeps it per connection) ---- */

/* The flight is wholly acknowledged: the SACK record holding its send
 * times has gone back to the pool. The next flight starts at c->rcv. */
static void end_flight(struct harness *h, struct fx_conn *c)
{
    h_expect_nothing(h);
    assert_int_equal(tcb_of(h, c->sd)->t_sack, 0);
    c->rcv += 10 * MSS;
}

/* The next flight's loss test: segments 1 and 2 delivered a round trip
 * after the ten went, segment 0 not; it goes again window_ms later. */
static void expect_window_in_next_flight(struct harness *h, const struct fx_conn *c,
                                         uint32_t window_ms)
{
    send_ten(h, c);
    h_advance(h, RTT);
    ack_sack(h, c, 0, 1, (uint32_t[]){1 * MSS, 3 * MSS});
    h_advance(h, (window_ms - 1) * MSEC);
    h_expect_nothing(h);
    h_advance(h, 2 * MSEC);
    expect_data(h, c->rcv);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rack_loss"), 1);
}

/* A window a D-SACK widened stays wide after the flight it came in has
 * been acknowledged and its record freed: 50 ms in the next one, not 25. */
static void test_rack_dsack_widening_outlives_flight(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 1 * MSS, 1, (uint32_t[]){0, 1 * MSS});
    assert_int_equal(h_stat(h, "tcps_rack_reowin"), 1);
    ack_sack(h, &c, 10 * MSS, 0, NULL);
    end_flight(h, &c);
    expect_window_in_next_flight(h, &c, 50);
    h_free(h);
}

/* The same when the D-SACK rides on the ACK that ends the flight: the
 * widening counts although the record goes at once. */
static void test_rack_dsack_on_last_ack_widens_next_flight(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 10 * MSS, 1, (uint32_t[]){0, 1 * MSS});
    assert_int_equal(h_stat(h, "tcps_rack_reowin"), 1);
    end_flight(h, &c);
    expect_window_in_next_flight(h, &c, 50);
    h_free(h);
}

/*
 * A recovery in a flight after one whose segments the peer delivered in
 * order (reordered: 0) or not (1). Three segments SACKed above segment 0
 * make it lost by RFC 6675's count, and it goes again at once; then
 * segment 5 is SACKed and segment 4, sent before it, is not, and it goes
 * as the hole NextSeg's rule 3 finds. Whether time condemned them too
 * (RACK's reordering window is none in a recovery until reordering has
 * been seen, a quarter of the minimum RTT after) is the count returned.
 */
static uint64_t recovery_after_flight(bool reordered)
{
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    if (reordered) { /* segment 1 first, then segment 0 */
        ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, 2 * MSS});
        ack_sack(h, &c, 2 * MSS, 0, NULL);
    }
    ack_sack(h, &c, 10 * MSS, 0, NULL);
    end_flight(h, &c);
    assert_int_equal(tcb_of(h, c.sd)->t_reordered, reordered);

    send_ten(h, &c);
    h_advance(h, RTT);
    ack_sack(h, &c, 0, 1, (uint32_t[]){1 * MSS, 4 * MSS});
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    ack_sack(h, &c, 0, 2, (uint32_t[]){5 * MSS, 6 * MSS, 1 * MSS, 4 * MSS});
    expect_data(h, c.rcv + 4 * MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sack_recovery_episode"), 1);
    uint64_t lost = h_stat(h, "tcps_rack_loss");
    h_free(h);
    return lost;
}

/* Reordering seen in one flight (RFC 8985 6.2 step 3) is remembered in
 * the next, after the record that saw it has gone: in its recovery time
 * condemns nothing inside the window. */
static void test_rack_reordering_outlives_flight(void **state)
{
    (void)state;
    assert_int_equal(recovery_after_flight(true), 0);
}

/* Without it, both holes are lost by time at once. */
static void test_rack_in_order_path_condemns_at_once(void **state)
{
    (void)state;
    assert_int_equal(recovery_after_flight(false), 2);
}

/* RFC 8985 6.2 step 4: a widened window lasts sixteen recoveries after
 * the D-SACK round that widened it, then goes back to a quarter of the
 * minimum RTT. */
static void test_rack_widening_lasts_sixteen_recoveries(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = ten_in_flight(h);
    ack_sack(h, &c, 10 * MSS, 1, (uint32_t[]){0, 1 * MSS});
    end_flight(h, &c);
    struct tcpcb *tp = tcb_of(h, c.sd);
    for (int i = 0; i < 15; i++)
        rack_recovery_done(tp);
    assert_int_equal(tp->t_reo_steps, 1);
    rack_recovery_done(tp);
    assert_int_equal(tp->t_reo_steps, 0);
    expect_window_in_next_flight(h, &c, 25);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rack_lost_after_reorder_window),
        cmocka_unit_test(test_rack_reordering_within_window),
        cmocka_unit_test(test_rack_dsack_widens_window),
        cmocka_unit_test(test_rack_lost_retransmission),
        cmocka_unit_test(test_tlp_repairs_tail_loss),
        cmocka_unit_test(test_tlp_loss_detected),
        cmocka_unit_test(test_tlp_dsack_no_loss),
        cmocka_unit_test(test_rack_disabled),
        cmocka_unit_test(test_rate_samples_follow_the_acks),
        cmocka_unit_test(test_rate_retransmission_takes_a_new_stamp),
        cmocka_unit_test(test_rate_untouched_without_rate_algorithm),
        cmocka_unit_test(test_rack_merged_span_delivery),
        cmocka_unit_test(test_rack_lost_retransmission_in_long_recovery),
        cmocka_unit_test(test_rack_resent_hole_not_resent_by_next_recovery),
        cmocka_unit_test(test_rack_dsack_widening_outlives_flight),
        cmocka_unit_test(test_rack_dsack_on_last_ack_widens_next_flight),
        cmocka_unit_test(test_rack_reordering_outlives_flight),
        cmocka_unit_test(test_rack_in_order_path_condemns_at_once),
        cmocka_unit_test(test_rack_widening_lasts_sixteen_recoveries),
    };
    return cmocka_run_group_tests_name("tcp_rack", tests, NULL, NULL);
}
