/*
 * FreeBSD's choices where the RFCs leave one (issue 10, item 3), segment by
 * segment: the socket buffers rounded to whole segments once the MSS is
 * known and the window they offer, the window scale chosen from
 * kern.ipc.maxsockbuf, the retransmission-timeout slop
 * (net.inet.tcp.rexmit_slop), the missing-timestamp policy
 * (net.inet.tcp.tolerate_missing_ts), the window sequence checks use, the
 * reset reported in LAST_ACK, and recv with TCPC_MSG_PEEK, which the
 * suite's scripts use to look at the receive buffer. docs/conformance.md.
 */
#include "test_tcp_fixture.h"
#include "tcpcore/sysctl.h"

static int sockopt(struct harness *h, int sd, enum tcpc_sockopt opt)
{
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, opt, &v), 0);
    return v;
}

/* Both limits start at net.inet.tcp.recvspace and sendspace. */
static const char *bufs_64k[] = {"net.inet.tcp.recvspace=65536", "net.inet.tcp.sendspace=65536",
                                 NULL};

/* An active open whose SYN-ACK carries MSS 1,460: both limits grow to a
 * whole number of segments (65,536 -> 45 x 1,460 = 65,700), SO_RCVBUF and
 * SO_SNDBUF report it, and the first ACK offers it, rounded up to the
 * scale's unit as FreeBSD does (65,728 >> 6 = 1,027; 1,024 before). */
static void test_buffers_rounded_on_synack_mss(void **state)
{
    (void)state;
    struct h_opts o = {.sysctls = bufs_64k};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    assert_int_equal(syn.th.win, 65535);
    assert_int_equal(sockopt(h, sd, TCPC_SO_RCVBUF), 65536);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 7000, .ack = syn.th.seq + 1, .mss = 1460,
                    .wscale = 6));
    h_expect(h, SEG(.flags = TH_ACK, .ack = 7001, .win = 1027, .len = 0));
    assert_int_equal(sockopt(h, sd, TCPC_SO_RCVBUF), 65700);
    assert_int_equal(sockopt(h, sd, TCPC_SO_SNDBUF), 65700);
    /* 1,000 unread bytes: 64,700 left, but the window offered never
     * shrinks: 65,728 - 1,000 = 64,728, rounded up to 64,768 = 1,012 << 6. */
    h_inject(
        h, SEG(.flags = TH_ACK, .seq = 7001, .ack = syn.th.seq + 1, .data = fx_pattern(1000, 'a')));
    h_advance(h, 500 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = 8001, .win = 1012, .len = 0));
    h_free(h);
}

/* FreeBSD rounds an active open's buffers only when the SYN-ACK carries an
 * MSS; without one the limits stay as they were (and the MSS is 536). */
static void test_buffers_kept_without_synack_mss(void **state)
{
    (void)state;
    struct h_opts o = {.sysctls = bufs_64k};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_active(h, 7000, SEG());
    assert_int_equal(sockopt(h, c.sd, TCPC_SO_RCVBUF), 65536);
    assert_int_equal(sockopt(h, c.sd, TCPC_SO_SNDBUF), 65536);
    assert_int_equal(sockopt(h, c.sd, TCPC_TCP_MAXSEG), 536);
    h_free(h);
}

/* A passive open always rounds, by the MSS in force: the SYN's 1,460 gives
 * 65,700, no MSS option net.inet.tcp.mssdflt (536: 123 x 536 = 65,928). */
static void test_buffers_rounded_on_passive_open(void **state)
{
    (void)state;
    struct h_opts o = {.sysctls = bufs_64k};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 7000, SEG(.mss = 1460));
    assert_int_equal(sockopt(h, c.sd, TCPC_SO_RCVBUF), 65700);
    assert_int_equal(sockopt(h, c.sd, TCPC_SO_SNDBUF), 65700);
    h->lport++;
    struct fx_conn d = fx_passive(h, 9000, SEG());
    assert_int_equal(sockopt(h, d.sd, TCPC_SO_RCVBUF), 65928);
    h_free(h);
}

/* The window is the limit less the in-order bytes held: with 99 bytes
 * unread, 65,700 still offers the largest unscaled window, 65,535 (a
 * 65,536-byte buffer would have offered 65,437); out-of-order data does not
 * close it (FreeBSD's reassembly queue lies outside the socket buffer). */
static void test_window_from_rounded_limit(void **state)
{
    (void)state;
    struct h_opts o = {.sysctls = bufs_64k};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 7000, SEG(.mss = 1460));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = fx_pattern(99, 'a')));
    h_advance(h, 500 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 99, .win = 65535, .len = 0));
    /* 1,000 more in order: 65,700 - 1,099 = 64,601. */
    h_inject(h,
             SEG(.flags = TH_ACK, .seq = c.snd + 99, .ack = c.rcv, .data = fx_pattern(1000, 'b')));
    h_advance(h, 500 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 1099, .win = 64601, .len = 0));
    /* 500 bytes beyond a hole: the duplicate ACK offers the same window. */
    h_inject(h,
             SEG(.flags = TH_ACK, .seq = c.snd + 2099, .ack = c.rcv, .data = fx_pattern(500, 'c')));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 1099, .win = 64601, .len = 0));
    h_free(h);
}

/* Sequence checks take FreeBSD's rcv_wnd, the buffer's room, even where
 * it exceeds what the window field said: an RST at RCV.NXT + 65,699 lies in
 * a 65,700-byte buffer's window, though only 65,535 were offered unscaled,
 * and draws a challenge ACK (RFC 5961 3.2); one byte further it is out. */
static void test_rst_window_is_buffer_room(void **state)
{
    (void)state;
    struct h_opts o = {.sysctls = bufs_64k};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 7000, SEG(.mss = 1460));
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 65700));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 65699));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .win = 65535, .len = 0));
    assert_int_equal(h_stat(h, "tcps_challenge_ack"), 1);
    assert_int_equal(fx_so_error(h, c.sd), 0);
    h_free(h);
}

/* An RST at RCV.NXT in LAST_ACK closes the connection and, as FreeBSD's,
 * reports ECONNRESET to the socket still open after its shutdown. */
static void test_rst_in_last_ack_reports_reset(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 7000, SEG(.mss = 1460));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_advance(h, 500 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 1));
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1));
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 1));
    h_expect_nothing(h);
    assert_int_equal(fx_so_error(h, c.sd), ECONNRESET);
    h_free(h);
}

/* A send limit below one segment lowers the MSS to it (FreeBSD's tcp_mss)
 * instead of growing the buffer. */
static void test_small_sndbuf_lowers_mss(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_SO_SNDBUF, 1000), 0);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &h->lport), 0);
    struct h_seg syn = h_expect(h, SEG(.flags = TH_SYN));
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 7000, .ack = syn.th.seq + 1, .mss = 1460));
    h_expect(h, SEG(.flags = TH_ACK, .ack = 7001));
    assert_int_equal(sockopt(h, sd, TCPC_TCP_MAXSEG), 1000);
    assert_int_equal(sockopt(h, sd, TCPC_SO_SNDBUF), 1000);
    h_free(h);
}

/* The window scale offered is the smallest shift whose window covers
 * kern.ipc.maxsockbuf, on a SYN and on a SYN-ACK alike: 1 at 73,728, 6 at
 * the 2 MiB default, 14 at 4 GiB - 1 (FreeBSD takes that value). */
static void test_wscale_from_maxsockbuf(void **state)
{
    (void)state;
    static const struct {
        int64_t maxsockbuf;
        int64_t wscale;
    } cases[] = {{73728, 1}, {2097152, 6}, {4294967295, 14}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct harness *h = h_new(NULL);
        fx_set_tunable(h, "kern.ipc.maxsockbuf", cases[i].maxsockbuf);
        struct h_seg syn;
        fx_connect(h, &syn);
        assert_int_equal(syn.th.opts.wscale, cases[i].wscale);
        h->lport = 4000;
        h_listen(h);
        h_inject(h, SEG(.flags = TH_SYN, .seq = 100, .mss = 1460, .wscale = 0));
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101, .wscale = cases[i].wscale));
        h_free(h);
    }
}

/* net.inet.tcp.rexmit_slop is added to each retransmission timeout but the
 * first SYN's, as FreeBSD's TCPT_RANGESET adds it: 1 s, then 2 x 1 + 0.2 =
 * 2.2 s, then 4.2 s. */
static void test_rexmit_slop_syn(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    fx_set_tunable(h, "net.inet.tcp.rexmit_initial", 1000);
    fx_set_tunable(h, "net.inet.tcp.rexmit_slop", 200);
    fx_connect(h, NULL);
    tcpc_time_t gaps[] = {1000 * MSEC, 2200 * MSEC, 4200 * MSEC};
    for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
        h_advance(h, gaps[i] - 1);
        h_expect_nothing(h);
        h_advance(h, 1);
        h_expect(h, SEG(.flags = TH_SYN));
    }
    h_free(h);
}

/* The SYN cache's SYN-ACK retransmissions take the slop too (FreeBSD's
 * syncache_timeout): 1 s, then 2.2 s. */
static void test_rexmit_slop_synack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    fx_set_tunable(h, "net.inet.tcp.rexmit_slop", 200);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 100, .mss = 1460));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    tcpc_time_t gaps[] = {1000 * MSEC, 2200 * MSEC};
    for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
        h_advance(h, gaps[i] - 2 * MSEC);
        h_expect_nothing(h);
        h_advance(h, 2 * MSEC);
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    }
    h_free(h);
}

/* On an established connection the slop goes on top of the RTO measured:
 * an RTT of 100 ms gives max(rexmit_min, SRTT + 4 RTTVAR) = 300 ms, and
 * with a slop of 200 ms the data is retransmitted after 500 ms. */
static void test_rexmit_slop_established(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    fx_set_tunable(h, "net.inet.tcp.rexmit_min", 30);
    fx_set_tunable(h, "net.inet.tcp.rexmit_slop", 200);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    h_advance(h, 100 * MSEC);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 7000, .ack = syn.th.seq + 1, .mss = 1460));
    h_expect(h, SEG(.flags = TH_ACK, .ack = 7001));
    assert_int_equal(tcpc_send(h->stack, sd, "x", 1), 1);
    h_expect(h, SEG(.seq = syn.th.seq + 1, .len = 1));
    h_advance(h, 500 * MSEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    h_expect(h, SEG(.seq = syn.th.seq + 1, .len = 1));
    h_free(h);
}

/* RFC 7323 3.2 lets a TCP drop a segment without timestamps on a
 * connection that negotiated them; FreeBSD does unless
 * net.inet.tcp.tolerate_missing_ts is 1, which takes it as it is. */
static void test_tolerate_missing_ts(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 7000, SEG(.mss = 1460, .tsval = 50, .tsecr = 0));
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "abc"));
    h_advance(h, 500 * MSEC);
    h_expect_nothing(h);
    char b[8];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN);
    fx_set_tunable(h, "net.inet.tcp.tolerate_missing_ts", 1);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "abc"));
    h_advance(h, 500 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 3));
    fx_recv_exact(h, c.sd, "abc", 3);
    h_free(h);
}

/* The new tunables refuse what they cannot mean, with a sentence. */
static void test_freebsd_tunables_validated(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    const char *why = NULL;
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.tcp.rexmit_slop", -1, &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.tcp.rexmit_slop", 60001, &why), -EINVAL);
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.tcp.tolerate_missing_ts", 2, &why),
                     -EINVAL);
    assert_int_equal(tcpc_sysctl_set(h->stack, "kern.ipc.maxsockbuf", 4294967296, &why), -EINVAL);
    h_free(h);
}

/* TCPC_MSG_PEEK copies what a read would return and leaves it queued: the
 * next peek and the next read see the same bytes, and the window does not
 * move until the read. A pending error is reported and stays pending. */
static void test_recv_peek(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 7000, SEG(.mss = 1460, .wscale = 0));
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "hello"));
    char b[16] = {0};
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, 3, TCPC_MSG_PEEK), 3);
    assert_memory_equal(b, "hel", 3);
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, sizeof(b), TCPC_MSG_PEEK), 5);
    assert_memory_equal(b, "hello", 5);
    struct tcpc_info i;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_int_equal(i.rcv_wnd, 65700 - 5);
    fx_recv_exact(h, c.sd, "hello", 5);
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, sizeof(b), TCPC_MSG_PEEK), -EAGAIN);
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, sizeof(b), 0x100), -EINVAL);
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 5));
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, sizeof(b), TCPC_MSG_PEEK), -ECONNRESET);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -ECONNRESET);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buffers_rounded_on_synack_mss),
        cmocka_unit_test(test_buffers_kept_without_synack_mss),
        cmocka_unit_test(test_buffers_rounded_on_passive_open),
        cmocka_unit_test(test_window_from_rounded_limit),
        cmocka_unit_test(test_rst_window_is_buffer_room),
        cmocka_unit_test(test_rst_in_last_ack_reports_reset),
        cmocka_unit_test(test_small_sndbuf_lowers_mss),
        cmocka_unit_test(test_wscale_from_maxsockbuf),
        cmocka_unit_test(test_rexmit_slop_syn),
        cmocka_unit_test(test_rexmit_slop_synack),
        cmocka_unit_test(test_rexmit_slop_established),
        cmocka_unit_test(test_tolerate_missing_ts),
        cmocka_unit_test(test_freebsd_tunables_validated),
        cmocka_unit_test(test_recv_peek),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
