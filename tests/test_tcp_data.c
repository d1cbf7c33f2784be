/*
 * Moving data on an established connection, segment by segment: delayed
 * ACKs (every second segment at once, a single one after delacktime),
 * out-of-order data and reassembly, trimming to the window, window updates,
 * zero-window persist probes, and Nagle.
 *
 * Connections are opened passively with MSS 1460 and no other options, so
 * windows are unscaled and segments carry no timestamps.
 */
#include "test_tcp_fixture.h"

static struct fx_conn open_plain(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = 1460));
}

/* RFC 9293 3.8.6.3 / RFC 5681 4.2: a single segment is ACKed after
 * net.inet.tcp.delacktime (40 ms), not before. */
static void test_delayed_ack_single(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "hello"));
    h_expect_nothing(h);
    assert_true(h_events(h, c.sd) & TCPC_EV_READABLE);
    h_advance(h, 40 * MSEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    /* 65,536 rounded to 65,700 (MSS 1,460) less 5: the largest unscaled window. */
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 5, .win = 65535, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_delack"), 1);
    assert_int_equal(h_stat(h, "tcps_rcvpack"), 1);
    assert_int_equal(h_stat(h, "tcps_rcvbyte"), 5);
    fx_recv_exact(h, c.sd, "hello", 5);
    h_free(h);
}

/* The second segment is ACKed at once, covering both. */
static void test_ack_every_second_segment(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "aaaa"));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 4, .ack = c.rcv, .data = "bbbb"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 8, .len = 0));
    h_expect_nothing(h);
    h_advance(h, 1 * SEC); /* the delayed-ACK timer died with that ACK */
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 8, .ack = c.rcv, .data = "cccc"));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 12, .ack = c.rcv, .data = "dddd"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 16));
    fx_recv_exact(h, c.sd, "aaaabbbbccccdddd", 16);
    h_free(h);
}

/* With net.inet.tcp.delayed_ack=0 every segment is ACKed at once. */
static void test_delayed_ack_off(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.delayed_ack=0", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "x"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 1));
    h_free(h);
}

/* Out-of-order data draws an immediate duplicate ACK; filling the hole
 * draws an immediate ACK of everything. */
static void test_out_of_order_and_fill(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 5, .ack = c.rcv, .data = "world"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 15, .ack = c.rcv, .data = "!"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvoopack"), 2);
    assert_int_equal(h_stat(h, "tcps_rcvoobyte"), 6);
    char b[32];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "hello"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 10, .len = 0));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 10, .ack = c.rcv, .data = "12345"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 16, .len = 0));
    h_expect_nothing(h);
    fx_recv_exact(h, c.sd, "helloworld12345!", 16);
    h_free(h);
}

/* Overlapping and duplicate segments: duplicates draw an ACK and are
 * counted; the overlap is delivered once. */
static void test_duplicate_and_overlap(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "abcd"));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "abcd"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 4));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvduppack"), 1);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 2, .ack = c.rcv, .data = "cdefgh"));
    assert_int_equal(h_stat(h, "tcps_rcvpartduppack"), 1);
    h_advance(h, 40 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 8));
    fx_recv_exact(h, c.sd, "abcdefgh", 8);
    h_free(h);
}

/* Data past the window is trimmed (ACK at once, window 0); a segment
 * wholly past it is dropped with an ACK. */
static void test_data_beyond_window_trimmed(void **state)
{
    (void)state;
    /* Three segments of 1,460: the MSS rounding keeps the limit as it is. */
    const char *sys[] = {"net.inet.tcp.recvspace=4380", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_plain(h);
    const char *p = fx_pattern(5000, 'a');
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = p));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 4380, .win = 0, .len = 0));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 4380, .ack = c.rcv, .data = "zz"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 4380, .win = 0, .len = 0));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 5000, .ack = c.rcv, .data = "zz"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 4380, .win = 0, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvpackafterwin"), 1);
    assert_int_equal(h_stat(h, "tcps_rcvwinprobe"), 1);
    /* Reading opens the window, and the stack says so at once. */
    p = fx_pattern(5000, 'a');
    fx_recv_exact(h, c.sd, p, 4380);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 4380, .win = 4380, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sndwinup"), 1);
    h_free(h);
}

/* Receiver SWS avoidance: reading a little from a full buffer does not
 * announce a tiny window. */
static void test_no_tiny_window_update(void **state)
{
    (void)state;
    /* Six segments of 1,460: the MSS rounding keeps the limit as it is. */
    const char *sys[] = {"net.inet.tcp.recvspace=8760", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = fx_pattern(8760, 'a')));
    h_advance(h, 40 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 8760, .win = 0));
    char b[100];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 100);
    h_expect_nothing(h);
    static char rest[8760];
    assert_int_equal(tcpc_recv(h->stack, c.sd, rest, sizeof(rest)), 8660);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 8760, .win = 8760));
    h_free(h);
}

/* RFC 9293 3.8.6.1: data behind a zero window is probed with one byte
 * after the RTO, the interval doubling; as long as the peer answers,
 * the connection stays up, however long the window stays shut. When it
 * opens, the data goes. */
static void test_zero_window_persist(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h); /* RTT ~0: RTO is rexmit_min, 200 ms */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 0));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(100, 'a'), 100), 100);
    h_expect_nothing(h);
    tcpc_time_t gap = 200 * MSEC, max = 64 * SEC;
    for (int i = 0; i < 20; i++) {
        h_advance(h, gap - 1);
        h_expect_nothing(h);
        h_advance(h, 1);
        h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 1, .data = "a"));
        h_expect_nothing(h);
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 0));
        h_expect_nothing(h);
        gap = gap * 2 > max ? max : gap * 2;
    }
    assert_int_equal(h_stat(h, "tcps_sndprobe"), 20);
    assert_int_equal(fx_so_error(h, c.sd), 0);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 1000));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 100));
    h_expect_nothing(h);
    h_free(h);
}

/* The probe byte is accepted when the window has opened by one byte; the
 * next probe carries the next byte. */
static void test_zero_window_probe_accepted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 0));
    assert_int_equal(tcpc_send(h->stack, c.sd, "abc", 3), 3);
    h_advance(h, 200 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .data = "a"));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1, .win = 0));
    h_expect_nothing(h);
    h_advance(h, 400 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .data = "b"));
    h_free(h);
}

/* RFC 896 Nagle: with TCP_NODELAY off, a small segment waits while data
 * is unacknowledged; with it on, it goes. */
static void test_nagle(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "a", 1), 1);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "a"));
    assert_int_equal(tcpc_send(h->stack, c.sd, "b", 1), 1);
    assert_int_equal(tcpc_send(h->stack, c.sd, "c", 1), 1);
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 1, .data = "bc"));
    h_expect_nothing(h);
    /* TCP_NODELAY on: the next small write goes despite unacked data. */
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, "d", 1), 1);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 3, .data = "d"));
    /* Turning it on releases what Nagle held. */
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_NODELAY, 0), 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, "e", 1), 1);
    h_expect_nothing(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_NODELAY, 1), 0);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 4, .data = "e"));
    h_free(h);
}

/* RFC 9293 3.8.6.2.1: sender SWS avoidance holds a small usable window
 * back, but not forever: with nothing in flight, the override timeout (the
 * persist timer, at the RTO: here the 200 ms floor) sends what fits. */
static void test_sws_override_timer(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 100));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(1000, 'a'), 1000), 1000);
    h_expect_nothing(h); /* 100 bytes of window is too little to be worth it */
    h_advance(h, 200 * MSEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 100));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sndprobe"), 0); /* not a zero-window probe */
    h_free(h);
}

/* A full segment is never held by Nagle. */
static void test_nagle_full_segments_go(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "a", 1), 1);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 1));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(1500, 'a'), 1500), 1500);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .len = 1460));
    h_expect_nothing(h); /* the 40-byte tail waits */
    h_free(h);
}

/* The send side: ACKs free the buffer and count; writable again. */
static void test_send_acked(void **state)
{
    (void)state;
    /* Without auto-sizing, which would raise the limit once it is 7/8 full
     * (test_tcp_sockbuf_auto.c). */
    const char *sys[] = {"net.inet.tcp.sendspace=4096", "net.inet.tcp.sendbuf_auto=0", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_plain(h);
    /* The limit is 4,096 rounded up to three segments of 1,460. */
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(5000, 'a'), 5000), 4380);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -EAGAIN);
    assert_int_equal(tcpc_poll(h->stack, c.sd) & TCPC_EV_WRITABLE, 0);
    h_expect(h, SEG(.flags = TH_ACK, .len = 1460));
    h_expect(h, SEG(.flags = TH_ACK, .len = 1460));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 1460));
    h_expect_nothing(h);
    h_events(h, c.sd);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 2920));
    assert_true(h_events(h, c.sd) & TCPC_EV_WRITABLE);
    assert_int_equal(h_stat(h, "tcps_rcvackbyte"), 2920 + 1);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), 1);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delayed_ack_single),
        cmocka_unit_test(test_ack_every_second_segment),
        cmocka_unit_test(test_delayed_ack_off),
        cmocka_unit_test(test_out_of_order_and_fill),
        cmocka_unit_test(test_duplicate_and_overlap),
        cmocka_unit_test(test_data_beyond_window_trimmed),
        cmocka_unit_test(test_no_tiny_window_update),
        cmocka_unit_test(test_zero_window_persist),
        cmocka_unit_test(test_zero_window_probe_accepted),
        cmocka_unit_test(test_nagle),
        cmocka_unit_test(test_nagle_full_segments_go),
        cmocka_unit_test(test_sws_override_timer),
        cmocka_unit_test(test_send_acked),
    };
    return cmocka_run_group_tests_name("tcp_data", tests, NULL, NULL);
}
