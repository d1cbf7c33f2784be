/*
 * RFC 5961 defences on a synchronized connection, segment by segment: RST
 * exact-match vs challenge ACK vs silent drop, SYN → challenge ACK, the ACK
 * acceptability window, and the per-connection challenge-ACK rate limit.
 */
#include "test_tcp_fixture.h"

/* 3.2: an RST at exactly RCV.NXT resets the connection: ECONNRESET to
 * the application, nothing on the wire. */
static void test_rst_exact_resets(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd));
    h_expect_nothing(h);
    uint32_t ev = h_events(h, c.sd);
    assert_true(ev & TCPC_EV_ERROR);
    assert_true(ev & TCPC_EV_HUP);
    assert_int_equal(h_stat(h, "tcps_drops"), 1);
    assert_int_equal(h_stat(h, "tcps_challenge_ack"), 0);
    char b[8];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -ECONNRESET);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -EPIPE);
    /* The 4-tuple is gone: a further segment finds no connection. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_RST, .seq = c.rcv));
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_free(h);
}

static void test_rst_ack_exact_resets(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect_nothing(h);
    assert_int_equal(fx_so_error(h, c.sd), ECONNRESET);
    h_free(h);
}

/* 3.2: an RST inside the window but not at RCV.NXT draws a challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and changes nothing. */
static void test_rst_in_window_challenged(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = c.snd + 65534, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_challenge_ack"), 2);
    assert_int_equal(h_stat(h, "tcps_drops"), 0);
    assert_int_equal(h_events(h, c.sd) & TCPC_EV_ERROR, 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, "ok", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "ok"));
    h_free(h);
}

/* 3.2: an RST outside the window is dropped silently. */
static void test_rst_outside_window_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd - 1));
    /* One past the window: the receive room, 65,536 rounded to 123 segments
     * of 536 (no MSS option) = 65,928, more than the 65,535 offered. */
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 65928));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = c.snd + 0x40000000, .ack = c.rcv));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_badrst"), 3);
    assert_int_equal(h_stat(h, "tcps_challenge_ack"), 0);
    assert_int_equal(fx_so_error(h, c.sd), 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, "ok", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "ok"));
    h_free(h);
}

/* 4.2: a SYN in a synchronized state, whatever its sequence number, draws
 * a challenge ACK; the connection carries on. */
static void test_syn_in_established_challenged(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    h_inject(h, SEG(.flags = TH_SYN, .seq = c.snd));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_SYN, .seq = c.snd + 1000000));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_SYN, .seq = c.irs)); /* the original SYN again */
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "abc"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_badsyn"), 4);
    assert_int_equal(h_stat(h, "tcps_challenge_ack"), 4);
    char b[8];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN); /* data dropped */
    assert_int_equal(fx_so_error(h, c.sd), 0);
    h_free(h);
}

/* 5.2: an ACK of data never sent is answered and the segment dropped,
 * with its data. */
static void test_ack_above_snd_max(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 100, .data = "abc"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvacktoomuch"), 1);
    assert_int_equal(h_stat(h, "tcps_challenge_ack"), 1);
    char b[8];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN);
    /* The same data with a good ACK is taken. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "abc"));
    fx_recv_exact(h, c.sd, "abc", 3);
    h_free(h);
}

/* 5.2: an ACK older than SND.UNA - MAX.SND.WND is answered and dropped;
 * one merely old (within MAX.SND.WND) is harmless and its data is taken. */
static void test_ack_too_old(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv - 65535 - 1, .data = "abc"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    char b[8];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv - 65535, .data = "abc"));
    h_expect_nothing(h); /* in order, delayed ACK */
    fx_recv_exact(h, c.sd, "abc", 3);
    h_free(h);
}

/* The challenge-ACK budget (net.inet.tcp.ack_limit per second per
 * connection) is shared by RSTs, SYNs and bad ACKs; the excess is counted. */
static void test_challenge_ack_rate_limit(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.ack_limit=3", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 10));
    h_inject(h, SEG(.flags = TH_SYN, .seq = c.snd));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 5));
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 10));
    h_inject(h, SEG(.flags = TH_SYN, .seq = c.snd));
    for (int i = 0; i < 3; i++)
        h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_challenge_ack"), 3);
    assert_int_equal(h_stat(h, "tcps_challenge_ack_limited"), 2);
    h_advance(h, 999 * MSEC);
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 10));
    h_expect_nothing(h);
    h_advance(h, 1 * SEC);
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 10));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    assert_int_equal(h_stat(h, "tcps_challenge_ack_limited"), 3);
    /* The limit is per connection: a second connection has its own. */
    h->pport++;
    uint32_t iss2;
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5000));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 5001));
    iss2 = sa.th.seq;
    h_inject(h, SEG(.flags = TH_ACK, .seq = 5001, .ack = iss2 + 1));
    h_inject(h, SEG(.flags = TH_RST, .seq = 5011));
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss2 + 1, .ack = 5001));
    h_free(h);
}

/* An RST for a connection still completing a passive open (exact match)
 * removes it: nothing to accept, nothing sent. */
static void test_rst_in_syn_received(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_RST, .seq = 1001));
    h_expect_nothing(h);
    assert_int_equal(tcpc_accept(h->stack, l, NULL, NULL), -EAGAIN);
    h_advance(h, 5 * SEC); /* no SYN-ACK retransmission for a reset entry */
    h_expect_nothing(h);
    h_free(h);
}

/* RFC 9293 3.10.7.4: an acceptable RST in SYN_RECEIVED of an active open
 * (a simultaneous open) refuses the connection; like every RST, it is
 * never answered with an RST. */
static void test_rst_in_active_syn_received(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 300));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = syn.th.seq, .ack = 301));
    h_inject(h, SEG(.flags = TH_RST, .seq = 301));
    h_expect_nothing(h);
    int err;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_ERROR, &err), 0);
    assert_int_equal(err, ECONNREFUSED);
    assert_int_equal(h_stat(h, "tcps_sndrst"), 0);
    h_free(h);
}

/* RSTs on an actively opened connection follow the same rules. */
static void test_rst_rules_active(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_active(h, 2000, SEG(.mss = 1460));
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 2));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd));
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd));
    h_expect_nothing(h);
    assert_int_equal(fx_so_error(h, c.sd), ECONNRESET);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rst_exact_resets),
        cmocka_unit_test(test_rst_ack_exact_resets),
        cmocka_unit_test(test_rst_in_window_challenged),
        cmocka_unit_test(test_rst_outside_window_dropped),
        cmocka_unit_test(test_syn_in_established_challenged),
        cmocka_unit_test(test_ack_above_snd_max),
        cmocka_unit_test(test_ack_too_old),
        cmocka_unit_test(test_challenge_ack_rate_limit),
        cmocka_unit_test(test_rst_in_syn_received),
        cmocka_unit_test(test_rst_in_active_syn_received),
        cmocka_unit_test(test_rst_rules_active),
    };
    return cmocka_run_group_tests_name("tcp_rfc5961", tests, NULL, NULL);
}
