/*
 * Opening a connection, segment by segment: active open (SYN contents, SYN
 * retransmission with RFC 6298 backoff, the connection-establishment
 * timeout), passive open as seen on the wire, simultaneous open, and the
 * RFC 9293 3.10.7.3 rules for SYN_SENT (bad ACK → RST, RST with and
 * without an acceptable ACK).
 */
#include "test_tcp_fixture.h"

#define ALL_SYN_OPTS (TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS)

/* The SYN of an active open on a 1500-byte IPv4 link: MSS 1460, window
 * scale 6 (the smallest shift covering kern.ipc.maxsockbuf = 2 MB), SACK
 * permitted, a timestamp with no echo, and an unscaled window. */
static void test_active_syn_v4(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    assert_true(tcpc_addr_eq(&a, &h->local));
    h->lport = port;
    h_expect(h, SEG(.flags = TH_SYN, .ack = 0, .win = 65535, .opts = ALL_SYN_OPTS, .mss = 1460,
                    .wscale = 6, .sackperm = 1, .tsecr = 0, .len = 0, .ttl = 64, .df = 1));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_connattempt"), 1);
    assert_int_equal(h_stat(h, "tcps_sndctrl"), 1);
    assert_int_equal(tcpc_poll(h->stack, sd) & (TCPC_EV_WRITABLE | TCPC_EV_READABLE), 0);
    h_free(h);
}

static void test_active_syn_v6_mss(void **state)
{
    (void)state;
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    fx_connect(h, &syn);
    assert_int_equal(syn.th.opts.mss, 1440);
    assert_int_equal(syn.th.opts.present, ALL_SYN_OPTS);
    h_free(h);
}

static void test_active_syn_mss_follows_mtu(void **state)
{
    (void)state;
    struct h_opts o = {.mtu = 9000};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    fx_connect(h, &syn);
    assert_int_equal(syn.th.opts.mss, 8960);
    h_free(h);
}

/* TCP_MAXSEG lowers the MSS we announce. */
static void test_active_syn_usermss(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_MAXSEG, 1000), 0);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &h->lport), 0);
    h_expect(h, SEG(.flags = TH_SYN, .mss = 1000));
    h_free(h);
}

/* With RFC 7323 and SACK turned off, the SYN offers only the MSS. */
static void test_active_syn_options_off(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.rfc1323=0", "net.inet.tcp.sack.enable=0", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    fx_connect(h, &syn);
    assert_int_equal(syn.th.opts.present, TOF_MSS);
    h_free(h);
}

/* RFC 6298 5.5: the SYN goes again after the initial RTO (1 s), then after
 * 2 s, 4 s, 8 s: same ISN, same options, a fresh timestamp. */
static void test_syn_retransmit_backoff(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    fx_connect(h, &syn);
    uint32_t iss = syn.th.seq, ts0 = syn.th.opts.tsval;
    tcpc_time_t at = 0;
    tcpc_time_t gaps[] = {1 * SEC, 2 * SEC, 4 * SEC, 8 * SEC};
    for (unsigned i = 0; i < 4; i++) {
        h_advance(h, gaps[i] - 1);
        h_expect_nothing(h);
        h_advance(h, 1);
        at += gaps[i];
        h_expect(h, SEG(.flags = TH_SYN, .seq = iss, .ack = 0, .opts = ALL_SYN_OPTS, .mss = 1460,
                        .wscale = 6, .tsval = ts0 + at / MSEC, .tsecr = 0, .len = 0));
        h_expect_nothing(h);
        assert_int_equal(h_stat(h, "tcps_rexmttimeo"), i + 1);
    }
    h_free(h);
}

/* The SYN-ACK of a retransmitted SYN gives no RTT sample (Karn), and the
 * connection starts with a congestion window of one segment (RFC 5681 3.1). */
static void test_syn_rexmit_then_establish(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    h_advance(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_SYN, .seq = syn.th.seq));
    h_advance(h, 100 * MSEC);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 5000, .ack = syn.th.seq + 1, .mss = 1000));
    h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 5001));
    assert_int_equal(h_stat(h, "tcps_rttupdated"), 0);
    assert_int_equal(h_stat(h, "tcps_connects"), 1);
    /* cwnd of one segment: of 3000 bytes, one 1000-byte segment goes. */
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, sd, fx_pattern(3000, 'a'), 3000), 3000);
    h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .len = 1000));
    h_expect_nothing(h);
    h_free(h);
}

/* RFC 9293 3.8.3 / the connection-establishment timer (keepinit): the
 * attempt fails with ETIMEDOUT, reported through an event and SO_ERROR,
 * and nothing is sent (no RST from SYN_SENT). */
static void test_connect_timeout(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.keepinit=10000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int sd = fx_connect(h, NULL);
    h_events(h, sd);
    h_advance(h, 1 * SEC); /* t=1 */
    h_expect(h, SEG(.flags = TH_SYN));
    h_advance(h, 2 * SEC); /* t=3 */
    h_expect(h, SEG(.flags = TH_SYN));
    h_advance(h, 4 * SEC); /* t=7 */
    h_expect(h, SEG(.flags = TH_SYN));
    h_advance(h, 3 * SEC - 1);
    h_expect_nothing(h);
    assert_int_equal(h_events(h, sd) & TCPC_EV_ERROR, 0);
    h_advance(h, 1); /* t=10: keepinit */
    h_expect_nothing(h);
    assert_true(h_events(h, sd) & TCPC_EV_ERROR);
    assert_int_equal(h_stat(h, "tcps_keeptimeo"), 1);
    assert_int_equal(h_stat(h, "tcps_conndrops"), 1);
    assert_int_equal(fx_so_error(h, sd), ETIMEDOUT);
    assert_int_equal(fx_so_error(h, sd), 0); /* reported once */
    char b[4];
    assert_int_equal(tcpc_recv(h->stack, sd, b, sizeof(b)), 0);
    /* Nothing more happens: no timer left behind. */
    h_advance(h, 200 * SEC);
    h_expect_nothing(h);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    h_free(h);
}

/* Without keepinit in the way, SYN retransmissions run out at
 * TCP_MAXRXTSHIFT and the attempt fails with ETIMEDOUT. */
static void test_connect_rexmit_limit(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.keepinit=3600000", "net.inet.tcp.rexmit_max=2000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int sd = fx_connect(h, NULL);
    int syns = 0;
    for (int i = 0; i < 100 && !(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR); i++) {
        h_advance(h, 500 * MSEC);
        while (h_pending(h)) {
            h_expect(h, SEG(.flags = TH_SYN));
            syns++;
        }
    }
    assert_int_equal(syns, 12);
    assert_int_equal(fx_so_error(h, sd), ETIMEDOUT);
    assert_int_equal(h_stat(h, "tcps_timeoutdrop"), 1);
    h_free(h);
}

/* The SYN-ACK's options decide what the connection uses: scaled windows
 * from then on (rcv shift 6: 65,536 rounded to 65,700 by the MSS, and up to
 * the scale's unit: 65,728 >> 6), timestamps echoed. */
static void test_active_open_completes(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    h_events(h, sd);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 7000, .ack = syn.th.seq + 1, .mss = 1460,
                    .wscale = 7, .sackperm = 1, .tsval = 4242, .tsecr = syn.th.opts.tsval));
    h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 7001, .win = 1027,
                    .opts = TOF_TS, .tsval = syn.th.opts.tsval, .tsecr = 4242, .len = 0));
    h_expect_nothing(h);
    assert_true(h_events(h, sd) & TCPC_EV_WRITABLE);
    assert_int_equal(h_stat(h, "tcps_connects"), 1);
    struct tcpc_addr pa;
    uint16_t pp;
    assert_int_equal(tcpc_getpeername(h->stack, sd, &pa, &pp), 0);
    assert_true(tcpc_addr_eq(&pa, &h->peer));
    assert_int_equal(pp, h->pport);
    /* Timestamps cost 12 bytes of each segment: MSS 1460 carries 1448. */
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, sd, fx_pattern(2000, 'a'), 2000), 2000);
    h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .len = 1448, .opts = TOF_TS));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = syn.th.seq + 1 + 1448, .len = 552));
    h_expect_nothing(h);
    h_free(h);
}

/* RFC 9293 3.10.7.3: a SYN-ACK whose ACK does not cover our SYN exactly
 * gets <SEQ=SEG.ACK><CTL=RST>, and the attempt carries on. */
static void test_synack_bad_ack_gets_rst(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    uint32_t iss = syn.th.seq;
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 9000, .ack = iss));
    h_expect(h, SEG(.flags = TH_RST, .seq = iss, .len = 0, .opts = 0));
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 9000, .ack = iss + 2));
    h_expect(h, SEG(.flags = TH_RST, .seq = iss + 2));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 9000, .ack = iss - 100));
    h_expect(h, SEG(.flags = TH_RST, .seq = iss - 100));
    h_expect_nothing(h);
    assert_int_equal(fx_so_error(h, sd), 0);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 9000, .ack = iss + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1, .ack = 9001));
    assert_int_equal(h_stat(h, "tcps_connects"), 1);
    h_free(h);
}

/* RST with an acceptable ACK in SYN_SENT: connection refused. */
static void test_syn_sent_rst_refused(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    h_events(h, sd);
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = syn.th.seq + 1));
    h_expect_nothing(h);
    assert_true(h_events(h, sd) & TCPC_EV_ERROR);
    assert_int_equal(h_stat(h, "tcps_conndrops"), 1);
    assert_int_equal(tcpc_send(h->stack, sd, "x", 1), -ECONNREFUSED);
    /* The retransmission timer died with the attempt. */
    h_advance(h, 10 * SEC);
    h_expect_nothing(h);
    h_free(h);
}

/* RST without ACK, or with an unacceptable one, is dropped in SYN_SENT
 * (no RST is ever answered with an RST); the attempt carries on. */
static void test_syn_sent_rst_ignored(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    h_inject(h, SEG(.flags = TH_RST, .seq = 0));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = syn.th.seq + 5));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = syn.th.seq));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_badrst"), 1);
    assert_int_equal(fx_so_error(h, sd), 0);
    h_advance(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_SYN, .seq = syn.th.seq));
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 1, .ack = syn.th.seq + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 2));
    h_free(h);
}

/* A pure ACK (no SYN) in SYN_SENT with an acceptable ACK: dropped, no
 * state change. */
static void test_syn_sent_ack_only_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1, .ack = syn.th.seq + 1));
    h_expect_nothing(h);
    assert_int_equal(tcpc_send(h->stack, sd, "x", 1), -EAGAIN);
    assert_int_equal(h_stat(h, "tcps_connects"), 0);
    h_free(h);
}

/* Passive open on the wire: the SYN-ACK answers each option the SYN
 * offered, and nothing it did not. */
static void test_passive_open_all_options(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1400, .wscale = 3, .sackperm = 1,
                    .tsval = 555, .tsecr = 0));
    struct h_seg sa =
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .win = 65535, .opts = ALL_SYN_OPTS,
                        .mss = 1460, .wscale = 6, .sackperm = 1, .tsecr = 555, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(tcpc_accept(h->stack, l, NULL, NULL), -EAGAIN);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1, .tsval = 556,
                    .tsecr = sa.th.opts.tsval));
    h_expect_nothing(h);
    assert_true(h_events(h, l) & TCPC_EV_ACCEPTABLE);
    struct tcpc_addr pa;
    uint16_t pp;
    int sd = tcpc_accept(h->stack, l, &pa, &pp);
    assert_true(sd >= 0);
    assert_true(tcpc_addr_eq(&pa, &h->peer));
    assert_int_equal(pp, h->pport);
    assert_true(tcpc_poll(h->stack, sd) & TCPC_EV_WRITABLE);
    assert_int_equal(h_stat(h, "tcps_accepts"), 1);
    assert_int_equal(h_stat(h, "tcps_connects"), 1);
    /* Data uses the peer's MSS less the timestamp option. */
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, sd, fx_pattern(1500, 'a'), 1500), 1500);
    h_expect(h, SEG(.flags = TH_ACK, .seq = sa.th.seq + 1, .ack = 1001, .len = 1388, .opts = TOF_TS,
                    .tsecr = 556));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 112));
    h_free(h);
}

static void test_passive_open_no_options(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .win = 65535, .opts = TOF_MSS,
                    .mss = 1460, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

static void test_passive_open_v6(void **state)
{
    (void)state;
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1440));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .mss = 1440));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_accepts"), 1);
    h_free(h);
}

/* A third-step ACK that does not acknowledge our SYN-ACK gets an RST
 * <SEQ=SEG.ACK> and completes nothing. */
static void test_passive_bad_third_ack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 7));
    h_expect(h, SEG(.flags = TH_RST, .seq = sa.th.seq + 7, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(tcpc_accept(h->stack, l, NULL, NULL), -EAGAIN);
    h_free(h);
}

/* RFC 9293 figure 8, simultaneous open: SYNs cross; each side answers
 * with SYN-ACK; the peer's SYN-ACK acknowledges our SYN and completes the
 * handshake on our side (it is no RFC 5961 attack). */
static void test_simultaneous_open(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    uint32_t iss = syn.th.seq;
    h_events(h, sd);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 300, .mss = 1460, .wscale = 2, .sackperm = 1,
                    .tsval = 10, .tsecr = 0));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = iss, .ack = 301, .opts = ALL_SYN_OPTS,
                    .mss = 1460, .wscale = 6, .tsecr = 10, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_events(h, sd) & TCPC_EV_WRITABLE, 0);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 300, .ack = iss + 1, .mss = 1460, .wscale = 2,
                    .sackperm = 1, .tsval = 11, .tsecr = syn.th.opts.tsval));
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1, .ack = 301, .len = 0));
    h_expect_nothing(h);
    assert_true(h_events(h, sd) & TCPC_EV_WRITABLE);
    assert_int_equal(h_stat(h, "tcps_connects"), 1);
    assert_int_equal(h_stat(h, "tcps_badsyn"), 0);
    /* And data flows with the negotiated options. */
    assert_int_equal(tcpc_send(h->stack, sd, "hi", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = 301, .data = "hi",
                    .opts = TOF_TS, .tsecr = 11));
    h_free(h);
}

/* The other order of figure 8: the peer's bare ACK of our SYN-ACK
 * completes a simultaneous open. */
static void test_simultaneous_open_by_ack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    uint32_t iss = syn.th.seq;
    h_inject(h, SEG(.flags = TH_SYN, .seq = 300));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = iss, .ack = 301, .opts = TOF_MSS));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 301, .ack = iss + 1));
    h_expect_nothing(h);
    assert_true(tcpc_poll(h->stack, sd) & TCPC_EV_WRITABLE);
    assert_int_equal(h_stat(h, "tcps_connects"), 1);
    h_free(h);
}

/* Our SYN-ACK of a simultaneous open is retransmitted as a SYN-ACK. */
static void test_simultaneous_open_synack_rexmit(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    fx_connect(h, &syn);
    uint32_t iss = syn.th.seq;
    h_advance(h, 500 * MSEC);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 300));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = iss, .ack = 301));
    h_advance(h, 500 * MSEC); /* 1 s after the first SYN */
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = iss, .ack = 301));
    h_expect_nothing(h);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_syn_v4),
        cmocka_unit_test(test_active_syn_v6_mss),
        cmocka_unit_test(test_active_syn_mss_follows_mtu),
        cmocka_unit_test(test_active_syn_usermss),
        cmocka_unit_test(test_active_syn_options_off),
        cmocka_unit_test(test_syn_retransmit_backoff),
        cmocka_unit_test(test_syn_rexmit_then_establish),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_connect_rexmit_limit),
        cmocka_unit_test(test_active_open_completes),
        cmocka_unit_test(test_synack_bad_ack_gets_rst),
        cmocka_unit_test(test_syn_sent_rst_refused),
        cmocka_unit_test(test_syn_sent_rst_ignored),
        cmocka_unit_test(test_syn_sent_ack_only_dropped),
        cmocka_unit_test(test_passive_open_all_options),
        cmocka_unit_test(test_passive_open_no_options),
        cmocka_unit_test(test_passive_open_v6),
        cmocka_unit_test(test_passive_bad_third_ack),
        cmocka_unit_test(test_simultaneous_open),
        cmocka_unit_test(test_simultaneous_open_by_ack),
        cmocka_unit_test(test_simultaneous_open_synack_rexmit),
    };
    return cmocka_run_group_tests_name("tcp_handshake", tests, NULL, NULL);
}
