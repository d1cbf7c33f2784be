/*
 * Option negotiation as the wire shows it: MSS (from the MTU, from the
 * peer, clamped by net.inet.tcp.minmss), window scaling (only when both
 * sides offer; a peer shift above 14 taken as 14), timestamps (only when
 * both offer) with PAWS, and SACK-permitted.
 */
#include "test_tcp_fixture.h"

/* Sends n bytes with Nagle off and returns the payload length of each
 * segment emitted, in order, into lens (at most max); returns the count. */
static int send_and_collect(struct harness *h, int sd, size_t n, uint32_t *lens, int max)
{
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, sd, fx_pattern(n, 'a'), n), (ssize_t)n);
    int k = 0;
    while (h_pending(h)) {
        struct h_seg s = h_expect(h, SEG(.flags = SEG_ANY));
        assert_true(k < max);
        lens[k++] = (uint32_t)s.th.payload_len;
    }
    return k;
}

/* A peer MSS below net.inet.tcp.minmss is raised to it. */
static void test_mss_clamped_by_minmss(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.minmss=300", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 100));
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_TCP_MAXSEG, &v), 0);
    assert_int_equal(v, 300);
    uint32_t lens[8];
    assert_int_equal(send_and_collect(h, c.sd, 1000, lens, 8), 4);
    assert_int_equal(lens[0], 300);
    assert_int_equal(lens[1], 300);
    assert_int_equal(lens[2], 300);
    assert_int_equal(lens[3], 100);
    h_free(h);
}

/* No MSS option: net.inet.tcp.mssdflt (536). */
static void test_mss_default_when_absent(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG());
    uint32_t lens[8];
    assert_int_equal(send_and_collect(h, c.sd, 1200, lens, 8), 3);
    assert_int_equal(lens[0], 536);
    assert_int_equal(lens[1], 536);
    assert_int_equal(lens[2], 128);
    h_free(h);
}

/* A peer MSS above what our link carries is cut to ours. */
static void test_mss_limited_by_local_mtu(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 9000));
    uint32_t lens[8];
    assert_int_equal(send_and_collect(h, c.sd, 2000, lens, 8), 2);
    assert_int_equal(lens[0], 1460);
    assert_int_equal(lens[1], 540);
    h_free(h);
}

/* Both offer window scaling: our windows are sent >> 6, the peer's are
 * read << its shift. */
static void test_wscale_both_offer(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460, .wscale = 7));
    /* The peer's window of 10 << 7 = 1280 bytes takes 1000 bytes at once
     * (unscaled, 10 bytes would hold it back). */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 10));
    h_expect_nothing(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(1000, 'a'), 1000), 1000);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 1000));
    h_expect_nothing(h);
    /* Two data segments are ACKed at once with the receive limit (65,536
     * rounded to 65,700 by the MSS) less 8, rounded up to the scale's unit
     * (65,728 >> 6), as FreeBSD rounds it. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1000, .data = "abcd"));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 4, .ack = c.rcv + 1000, .data = "efgh"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 8, .win = 1027, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* Only the peer offers it: no scaling either way. */
static void test_wscale_only_peer_offers(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.rfc1323=0", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int l = h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .wscale = 7, .tsval = 5));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .opts = TOF_MSS));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1, .win = 1000));
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, sd, fx_pattern(1200, 'a'), 1200), 1200);
    /* 1000 bytes of window, unscaled: one full segment goes; the 464 bytes
     * left of the window wait (sender SWS avoidance). Scaled by 7, the
     * window would have taken everything. */
    h_expect(h, SEG(.flags = TH_ACK, .len = 536, .opts = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* Only we offer it (active open, SYN-ACK without the option): our
 * windows go unscaled. */
static void test_wscale_only_we_offer(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    fx_connect(h, &syn);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 7000, .ack = syn.th.seq + 1, .mss = 1460));
    h_expect(h, SEG(.flags = TH_ACK, .ack = 7001, .win = 65535, .opts = 0));
    h_free(h);
}

/* RFC 7323 2.3: a shift above 14 is used as 14. With a window field of 1,
 * the peer offers 16384 bytes, not 32768: two 8192-byte segments go once
 * the congestion window has grown past both. */
static void test_wscale_above_14_clamped(void **state)
{
    (void)state;
    struct h_opts o = {.mtu = 9000};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 8192, .wscale = 15));
    uint32_t lens[8];
    /* Slow start: IW 16384 (RFC 6928 with MSS 8192), then 24576, 32768. */
    assert_int_equal(send_and_collect(h, c.sd, 16384, lens, 8), 2);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 16384));
    assert_int_equal(send_and_collect(h, c.sd, 24576, lens, 8), 3);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 40960));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 40960, .win = 1));
    h_expect_nothing(h);
    assert_int_equal(send_and_collect(h, c.sd, 40000, lens, 8), 2);
    assert_int_equal(lens[0], 8192);
    assert_int_equal(lens[1], 8192);
    h_free(h);
}

/* RFC 6928: the initial window follows the MSS the peer announced, on a
 * passive open too: min(10 * MSS, max(2 * MSS, 14600)). */
static void test_initial_window_passive(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    uint32_t lens[16];
    assert_int_equal(send_and_collect(h, c.sd, 20000, lens, 16), 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(lens[i], 1460);
    h_free(h);

    /* MSS 8192 (jumbo link): 2 * MSS; a full segment always fits. */
    struct h_opts o = {.mtu = 9000};
    h = h_new(&o);
    c = fx_passive(h, 1000, SEG(.mss = 8192));
    assert_int_equal(send_and_collect(h, c.sd, 20000, lens, 16), 2);
    assert_int_equal(lens[0], 8192);
    assert_int_equal(lens[1], 8192);
    h_free(h);
}

/* Timestamps only when both sides offer: a SYN without them gets a
 * SYN-ACK without them, and no segment carries them later. */
static void test_ts_only_when_both(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460, .wscale = 1, .sackperm = 1));
    assert_int_equal(tcpc_send(h->stack, c.sd, "abc", 3), 3);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .opts = 0, .data = "abc"));
    h_free(h);

    /* The stack does not offer them (rfc1323=0): none, even if the peer does. */
    const char *sys[] = {"net.inet.tcp.rfc1323=0", NULL};
    struct h_opts o = {.sysctls = sys};
    h = h_new(&o);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .tsval = 1, .sackperm = 1));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .opts = TOF_MSS | TOF_SACKPERM));
    h_free(h);
}

/* Active open, SYN-ACK without timestamps: our ACK and data carry none,
 * and a full segment carries the whole MSS. */
static void test_ts_active_peer_declines(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_active(h, 7000, SEG(.mss = 1460, .wscale = 2));
    uint32_t lens[4];
    assert_int_equal(send_and_collect(h, c.sd, 1460, lens, 4), 1);
    assert_int_equal(lens[0], 1460);
    h_free(h);
}

static void test_sackperm_negotiation(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .sackperm = 1));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .sackperm = 1, .opts = TOF_MSS | TOF_SACKPERM));
    h->pport++;
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .sackperm = 0, .opts = TOF_MSS));
    h_free(h);

    const char *sys[] = {"net.inet.tcp.sack.enable=0", NULL};
    struct h_opts o = {.sysctls = sys};
    h = h_new(&o);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .sackperm = 1));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .sackperm = 0));
    h_free(h);
}

/* RFC 7323 5: a segment whose TSval is older than TS.Recent is dropped,
 * with an ACK, and counted; its data is not delivered. Equal is fine. */
static void test_paws_drop(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460, .tsval = 1000));
    /* h_establish's ACK carried TSval 1001. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .tsval = 1001, .data = "abc"));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 3, .ack = c.rcv, .tsval = 900, .data = "def"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 3, .tsecr = 1001, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_pawsdrop"), 1);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_memory_equal(b, "abc", 3);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN);
    /* A newer timestamp is taken and echoed. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 3, .ack = c.rcv, .tsval = 2000, .data = "def"));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 6, .ack = c.rcv, .tsval = 2000, .data = "g"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 7, .tsecr = 2000));
    h_free(h);
}

/* RFC 7323 5.5: after 24 days without a TS.Recent update, an older TSval
 * is no proof of an old duplicate (the peer's clock may have wrapped):
 * TS.Recent is forgotten and the segment taken. Just before, PAWS holds. */
static void test_paws_forgets_ts_recent_after_24_days(void **state)
{
    (void)state;
    const char *no_keepalive[] = {"net.inet.tcp.always_keepalive=0", NULL};
    struct h_opts o = {.sysctls = no_keepalive}; /* 24 quiet days */
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460, .tsval = 1000));
    const tcpc_time_t days24 = 24ULL * 24 * 3600 * SEC;
    h_advance(h, days24 - 10 * SEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .tsval = 900, .data = "abc"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .tsecr = 1001, .len = 0));
    assert_int_equal(h_stat(h, "tcps_pawsdrop"), 1);
    h_advance(h, 20 * SEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .tsval = 900, .data = "abc"));
    assert_int_equal(h_stat(h, "tcps_pawsdrop"), 1);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_memory_equal(b, "abc", 3);
    h_free(h);
}

/* RFC 7323 3.2: on a timestamped connection, a non-RST segment without
 * the option is dropped. */
static void test_ts_missing_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460, .tsval = 1000));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "abc"));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvbadopt"), 1);
    char b[8];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN);
    /* An RST needs no timestamp. */
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd));
    assert_int_equal(fx_so_error(h, c.sd), ECONNRESET);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mss_clamped_by_minmss),
        cmocka_unit_test(test_mss_default_when_absent),
        cmocka_unit_test(test_mss_limited_by_local_mtu),
        cmocka_unit_test(test_wscale_both_offer),
        cmocka_unit_test(test_wscale_only_peer_offers),
        cmocka_unit_test(test_wscale_only_we_offer),
        cmocka_unit_test(test_wscale_above_14_clamped),
        cmocka_unit_test(test_initial_window_passive),
        cmocka_unit_test(test_ts_only_when_both),
        cmocka_unit_test(test_ts_active_peer_declines),
        cmocka_unit_test(test_sackperm_negotiation),
        cmocka_unit_test(test_paws_drop),
        cmocka_unit_test(test_paws_forgets_ts_recent_after_24_days),
        cmocka_unit_test(test_ts_missing_dropped),
    };
    return cmocka_run_group_tests_name("tcp_options", tests, NULL, NULL);
}
