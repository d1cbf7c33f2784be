/*
 * The retransmission timer (RFC 6298): RTO from the measured RTT, the
 * rexmit_min floor, exponential backoff, restart on partial ACKs, Karn's
 * rule, and the retransmission limit (ETIMEDOUT and an RST).
 */
#include "tcpcore/listing.h"
#include "test_tcp_fixture.h"

/* A passive open whose handshake took `rtt` (no timestamps, MSS 1460):
 * the ACK of our SYN-ACK gives the first RTT sample. */
static struct fx_conn open_with_rtt(struct harness *h, tcpc_time_t rtt)
{
    struct fx_conn c = {.irs = 1000, .snd = 1001};
    c.lsd = h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    c.iss = sa.th.seq;
    c.rcv = c.iss + 1;
    h_advance(h, rtt);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = c.rcv));
    h_expect_nothing(h);
    c.sd = tcpc_accept(h->stack, c.lsd, NULL, NULL);
    assert_true(c.sd >= 0);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_NODELAY, 1), 0);
    return c;
}

/* Expects the retransmission of `data` at seq exactly `after` from now. */
static void expect_rexmit_after(struct harness *h, tcpc_time_t after, uint32_t seq,
                                const char *data)
{
    h_advance(h, after - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = seq, .data = data));
    h_expect_nothing(h);
}

/* RTT 100 ms: SRTT 100, RTTVAR 50, RTO = 100 + 4 * 50 = 300 ms, then 600,
 * 1200 (RFC 6298 2.2 and 5.5). */
static void test_rto_from_rtt_and_backoff(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_with_rtt(h, 100 * MSEC);
    assert_int_equal(h_stat(h, "tcps_rttupdated"), 1);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "data"));
    expect_rexmit_after(h, 300 * MSEC, c.rcv, "data");
    expect_rexmit_after(h, 600 * MSEC, c.rcv, "data");
    expect_rexmit_after(h, 1200 * MSEC, c.rcv, "data");
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 3);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 3);
    assert_int_equal(h_stat(h, "tcps_sndrexmitbyte"), 12);
    /* Everything acknowledged: the timer stops. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    h_advance(h, 10 * SEC);
    h_expect_nothing(h);
    h_free(h);
}

/* On a short path the RTO is the rexmit_min floor (200 ms), and backoff
 * doubles that floor: 200, 400, 800 ms. */
static void test_backoff_from_rexmit_min(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_with_rtt(h, 1 * MSEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "data"));
    expect_rexmit_after(h, 200 * MSEC, c.rcv, "data");
    expect_rexmit_after(h, 400 * MSEC, c.rcv, "data");
    expect_rexmit_after(h, 800 * MSEC, c.rcv, "data");
    expect_rexmit_after(h, 1600 * MSEC, c.rcv, "data");
    h_free(h);
}

/* The backoff stops at rexmit_max. */
static void test_backoff_capped(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.rexmit_max=1000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_with_rtt(h, 100 * MSEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "data"));
    expect_rexmit_after(h, 300 * MSEC, c.rcv, "data");
    expect_rexmit_after(h, 600 * MSEC, c.rcv, "data");
    expect_rexmit_after(h, 1000 * MSEC, c.rcv, "data");
    expect_rexmit_after(h, 1000 * MSEC, c.rcv, "data");
    h_free(h);
}

/* RFC 6298 5.3: an ACK of new data restarts the timer for what remains. */
static void test_timer_restarts_on_partial_ack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_with_rtt(h, 100 * MSEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, "aaaa", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "aaaa"));
    assert_int_equal(tcpc_send(h->stack, c.sd, "bbbb", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "bbbb"));
    h_advance(h, 250 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    h_expect_nothing(h);
    /* The new RTO counts from the ACK; the sample was 250 ms:
     * SRTT = 7/8*100 + 1/8*250 = 118.75, RTTVAR = 3/4*50 + 1/4*150 = 75,
     * RTO = 118.75 + 300 = 418.75 ms. */
    expect_rexmit_after(h, 418750, c.rcv + 4, "bbbb");
    h_free(h);
}

/* Karn: the ACK of a retransmitted segment gives no RTT sample; a segment
 * sent once and acknowledged does. */
static void test_karn(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_with_rtt(h, 100 * MSEC);
    assert_int_equal(h_stat(h, "tcps_rttupdated"), 1);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "data"));
    expect_rexmit_after(h, 300 * MSEC, c.rcv, "data");
    h_advance(h, 10 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    assert_int_equal(h_stat(h, "tcps_rttupdated"), 1);
    assert_int_equal(tcpc_send(h->stack, c.sd, "more", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 4, .data = "more"));
    h_advance(h, 100 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 8));
    assert_int_equal(h_stat(h, "tcps_rttupdated"), 2);
    h_free(h);
}

/* RFC 6298 5.7: the backed-off RTO stays until a valid RTT sample. The
 * ACK of a retransmission gives none (Karn), so the next segment is timed
 * with the doubled RTO (600 ms), not the base one (300 ms); once a segment
 * sent once is acknowledged, the sample collapses the backoff again. */
static void test_backoff_kept_until_sample(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_with_rtt(h, 100 * MSEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "data"));
    expect_rexmit_after(h, 300 * MSEC, c.rcv, "data");
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    assert_int_equal(tcpc_send(h->stack, c.sd, "more", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 4, .data = "more"));
    expect_rexmit_after(h, 600 * MSEC, c.rcv + 4, "more");
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 8));
    assert_int_equal(tcpc_send(h->stack, c.sd, "last", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 8, .data = "last"));
    h_advance(h, 100 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 12));
    assert_int_equal(h_stat(h, "tcps_rttupdated"), 2);
    assert_int_equal(tcpc_send(h->stack, c.sd, "next", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 12, .data = "next"));
    /* SRTT 100, RTTVAR 3/4*50 = 37.5: RTO = 100 + 150 = 250 ms. */
    expect_rexmit_after(h, 250 * MSEC, c.rcv + 12, "next");
    h_free(h);
}

/* tcpc_getinfo reports what the timers and sequence space hold. */
static void test_info_snapshot(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_with_rtt(h, 100 * MSEC);
    struct tcpc_info i;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_string_equal(tcpc_state_name(i.state), "ESTABLISHED");
    assert_int_equal(i.iss, c.iss);
    assert_int_equal(i.irs, 1000);
    assert_int_equal(i.snd_una, c.rcv);
    assert_int_equal(i.rcv_nxt, 1001);
    assert_int_equal(i.snd_mss, 1460);
    assert_int_equal(i.options, 0); /* the peer offered only MSS */
    assert_int_equal(i.srtt, 100 * MSEC);
    assert_int_equal(i.rttvar, 50 * MSEC);
    assert_int_equal(i.rto, 300 * MSEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "data"));
    expect_rexmit_after(h, 300 * MSEC, c.rcv, "data");
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_int_equal(i.snd_nxt, c.rcv + 4);
    assert_int_equal(i.snd_queue, 4);
    assert_int_equal(i.backoff, 1);
    assert_int_equal(i.retransmits, 1);
    assert_int_equal(i.rto, 600 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_int_equal(i.snd_una, c.rcv + 4);
    assert_int_equal(i.snd_queue, 0);
    assert_int_equal(i.retransmits, 0); /* progress */
    assert_int_equal(i.backoff, 1);     /* but no RTT sample (Karn) */
    assert_int_equal(tcpc_getinfo(h->stack, 63, &i), -EBADF);
    h_free(h);
}

/* After TCP_MAXRXTSHIFT (12) retransmissions the connection is dropped:
 * RST to the peer, ETIMEDOUT to the application. */
static void test_rexmit_limit_drops(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.rexmit_max=1000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_with_rtt(h, 100 * MSEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "data"));
    h_events(h, c.sd);
    int rexmits = 0;
    for (int i = 0; i < 100; i++) {
        h_advance(h, 250 * MSEC);
        while (h_pending(h)) {
            struct h_seg s = h_expect(h, SEG(.flags = SEG_ANY));
            if (s.th.flags & TH_RST) {
                assert_int_equal(s.th.flags, TH_RST | TH_ACK);
                assert_int_equal(s.th.seq, c.rcv + 4);
                assert_int_equal(s.th.ack, c.snd);
                goto dropped;
            }
            assert_int_equal(s.th.seq, c.rcv);
            rexmits++;
        }
    }
    fail_msg("never dropped");
dropped:
    assert_int_equal(rexmits, 12);
    assert_true(h_events(h, c.sd) & TCPC_EV_ERROR);
    assert_int_equal(h_stat(h, "tcps_timeoutdrop"), 1);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -ETIMEDOUT);
    h_advance(h, 100 * SEC);
    h_expect_nothing(h);
    h_free(h);
}

/* A retransmission timeout resends from the first unacknowledged byte,
 * one segment (cwnd = 1 MSS); the ACK of it releases the rest. */
static void test_rto_go_back(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_with_rtt(h, 100 * MSEC);
    const char *p = fx_pattern(3000, 'a');
    assert_int_equal(tcpc_send(h->stack, c.sd, p, 3000), 3000);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 1460));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1460, .len = 1460));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 2920, .len = 80));
    h_advance(h, 300 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 1460));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1460));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1460, .len = 1460));
    h_free(h);
}

/* The next retransmitted SYN, however long it takes (at most a minute). */
static struct h_seg next_syn(struct harness *h)
{
    for (int i = 0; i < 600 && !h_pending(h); i++)
        h_advance(h, 100 * MSEC);
    return h_expect(h, SEG(.flags = TH_SYN, .ack = 0, .len = 0));
}

/* net.inet.tcp.rexmit_drop_options=1: the first three SYNs offer window
 * scale, SACK and timestamps; from the fourth on, only the MSS, as FreeBSD
 * sends them. With the tunable at its default 0, every SYN keeps them. */
static void check_syn_options(bool drop)
{
    const char *on[] = {"net.inet.tcp.rexmit_drop_options=1", NULL};
    struct h_opts o = {.sysctls = drop ? on : NULL};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    fx_connect(h, &syn);
    const uint8_t full = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS;
    assert_int_equal(syn.th.opts.present, full);
    for (int n = 2; n <= 5; n++) {
        struct h_seg again = next_syn(h);
        assert_int_equal(again.th.seq, syn.th.seq);
        assert_int_equal(again.th.opts.present, drop && n >= 4 ? TOF_MSS : full);
        assert_int_equal(again.th.opts.mss, syn.th.opts.mss);
    }
    h_free(h);
}

static void test_rexmit_drop_options(void **state)
{
    (void)state;
    check_syn_options(true);
    check_syn_options(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rto_from_rtt_and_backoff),
        cmocka_unit_test(test_backoff_from_rexmit_min),
        cmocka_unit_test(test_backoff_capped),
        cmocka_unit_test(test_timer_restarts_on_partial_ack),
        cmocka_unit_test(test_karn),
        cmocka_unit_test(test_backoff_kept_until_sample),
        cmocka_unit_test(test_info_snapshot),
        cmocka_unit_test(test_rexmit_limit_drops),
        cmocka_unit_test(test_rexmit_drop_options),
        cmocka_unit_test(test_rto_go_back),
    };
    return cmocka_run_group_tests_name("tcp_timers", tests, NULL, NULL);
}
