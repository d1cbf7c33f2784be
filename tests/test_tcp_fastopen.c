/*
 * TCP Fast Open (RFC 7413), client side, segment by segment: the cookie
 * request, the cached cookie with data on the SYN, a cookie the server
 * renews or leaves alone, data the server refuses, cookie lengths a client
 * must ignore, the path disabled after a failure and re-enabled after
 * net.inet.tcp.fastopen.path_disable_time, the cache emptied by
 * client_enable=0, the retransmitted SYN (no data, no option, as FreeBSD),
 * the SYN's data bounded by the server's MSS, and sendto's implied
 * connect without Fast Open.
 */
#include "test_tcp_fixture.h"

#define PEER_MSS  1460u
#define FULL_OPTS (TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS)

static const uint8_t cookie4[] = {0xa1, 0xa2, 0xa3, 0xa4};

/* A TFO socket that has sent `n` bytes of the pattern with sendto, its
 * SYN taken: as a cookie request (want_tfo 0), with a cookie of want_tfo
 * bytes and data, or without the option (-1). */
static int tfo_open(struct harness *h, size_t n, int want_tfo, const uint8_t *cookie,
                    struct h_seg *syn, bool fastopen)
{
    int sd = fx_socket(h);
    if (fastopen)
        assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, 1), 0);
    assert_int_equal(tcpc_sendto(h->stack, sd, fx_pattern(n, 'a'), n, &h->peer, h->pport),
                     (ssize_t)n);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    int64_t data = want_tfo > 0 ? (int64_t)n : 0;
    struct seg w =
        SEG(.flags = TH_SYN, .ack = 0, .len = data, .tfo = want_tfo, .tfo_cookie = cookie,
            .opts = FULL_OPTS | (want_tfo >= 0 ? TOF_FASTOPEN : 0));
    if (data)
        w.data = fx_pattern(n, 'a');
    *syn = h_expect(h, w);
    return sd;
}

/* The server's SYN-ACK acknowledging `acked` bytes of the SYN's data, with
 * a Fast Open option of tfo bytes (-1: none). */
static void synack(struct harness *h, const struct h_seg *syn, uint32_t acked, int tfo,
                   const uint8_t *cookie, uint16_t mss)
{
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 9000, .ack = syn->th.seq + 1 + acked,
                    .mss = mss, .sackperm = 1, .tfo = tfo, .tfo_cookie = cookie));
}

/* After the SYN-ACK: the data not acknowledged goes at once, with the ACK;
 * all acknowledged, a bare ACK. */
static void expect_after_synack(struct harness *h, const struct h_seg *syn, uint32_t n,
                                uint32_t acked)
{
    uint32_t iss = syn->th.seq;
    if (acked < n) {
        h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = iss + 1 + acked, .ack = 9001,
                        .len = n - acked, .tfo = -1));
        h_inject(h, SEG(.flags = TH_ACK, .seq = 9001, .ack = iss + 1 + n)); /* all taken */
    } else {
        h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1 + n, .ack = 9001, .len = 0));
    }
    h_expect_nothing(h);
}

/* A cookie request, answered with an 8-byte cookie: the data waits for the
 * handshake; the next connection's SYN carries the cookie and the data,
 * without PSH, and the SYN-ACK that takes it all leaves a bare ACK. */
static void test_cookie_request_then_data_on_syn(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = tfo_open(h, 100, 0, NULL, &syn, true);
    assert_int_equal(syn.th.payload_len, 0);
    synack(h, &syn, 0, 8, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 0);
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(h_stat(h, "tcps_tfo_cookie_req"), 1);
    assert_int_equal(h_stat(h, "tcps_tfo_cookie_rcv"), 1);
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_sent"), 0);

    tfo_open(h, 100, 8, NULL, &syn, true);
    synack(h, &syn, 100, -1, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 100);
    assert_int_equal(h_stat(h, "tcps_tfo_cookie_req"), 1);
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_sent"), 1);
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_acked"), 1); /* kept cookie, data taken */
    h_free(h);
}

/* RFC 7413 4.2.2: the server refuses the SYN's data (acknowledges the ISN
 * only) and gives a new cookie: the data goes again at once, and the next
 * SYN carries the new cookie. */
static void test_refused_data_resent_new_cookie_kept(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    tfo_open(h, 100, 0, NULL, &syn, true);
    synack(h, &syn, 0, 8, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 0);
    tfo_open(h, 100, 8, NULL, &syn, true);
    synack(h, &syn, 0, 4, cookie4, PEER_MSS);
    expect_after_synack(h, &syn, 100, 0);
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_sent"), 1);
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_acked"), 0); /* refused: not counted */
    assert_int_equal(h_stat(h, "tcps_tfo_cookie_rcv"), 2);
    tfo_open(h, 100, 4, cookie4, &syn, true);
    synack(h, &syn, 100, -1, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 100);
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_sent"), 2);
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_acked"), 1);
    h_free(h);
}

/* A server that takes our data without renewing the cookie (no option, or
 * one of a length no client stores) leaves the cookie in use. */
static void test_data_taken_cookie_kept(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    tfo_open(h, 100, 0, NULL, &syn, true);
    synack(h, &syn, 0, 8, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 0);
    tfo_open(h, 100, 8, NULL, &syn, true);
    synack(h, &syn, 100, 3, NULL, PEER_MSS); /* odd: ignored */
    expect_after_synack(h, &syn, 100, 100);
    tfo_open(h, 100, 8, NULL, &syn, true);
    synack(h, &syn, 100, -1, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 100);
    tfo_open(h, 100, 8, NULL, &syn, true);
    h_free(h);
}

/* A cookie request answered with an invalid length (odd, or under 4) is
 * as no answer: Fast Open is disabled towards the server, whose next SYN
 * goes without the option, and whose socket reads TCP_FASTOPEN 0. */
static void test_invalid_cookie_length_disables_path(void **state)
{
    (void)state;
    static const int bad[] = {3, 2, 5, 15};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct harness *h = h_new(NULL);
        struct h_seg syn;
        tfo_open(h, 100, 0, NULL, &syn, true);
        synack(h, &syn, 0, bad[i], NULL, PEER_MSS);
        expect_after_synack(h, &syn, 100, 0);
        int sd = tfo_open(h, 100, -1, NULL, &syn, true);
        int v = 1;
        assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, &v), 0);
        assert_int_equal(v, 0);
        synack(h, &syn, 0, -1, NULL, PEER_MSS);
        expect_after_synack(h, &syn, 100, 0);
        h_free(h);
    }
}

/* Data refused without a new cookie (none, or an invalid one): the data
 * goes again, and Fast Open towards the server is off. */
static void test_refused_data_without_cookie_disables_path(void **state)
{
    (void)state;
    static const int tfo[] = {-1, 3};
    for (size_t i = 0; i < 2; i++) {
        struct harness *h = h_new(NULL);
        struct h_seg syn;
        tfo_open(h, 100, 0, NULL, &syn, true);
        synack(h, &syn, 0, 8, NULL, PEER_MSS);
        expect_after_synack(h, &syn, 100, 0);
        tfo_open(h, 100, 8, NULL, &syn, true);
        synack(h, &syn, 0, tfo[i], NULL, PEER_MSS);
        expect_after_synack(h, &syn, 100, 0);
        tfo_open(h, 100, -1, NULL, &syn, true);
        h_free(h);
    }
}

/* A disabled path comes back after path_disable_time, with a cookie
 * request; before, it stays off. */
static void test_path_reenabled_after_disable_time(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    fx_set_tunable(h, "net.inet.tcp.fastopen.path_disable_time", 10);
    struct h_seg syn;
    int sd = tfo_open(h, 100, 0, NULL, &syn, true);
    synack(h, &syn, 0, -1, NULL, PEER_MSS); /* server without Fast Open */
    expect_after_synack(h, &syn, 100, 0);
    assert_int_equal(tcpc_close(h->stack, sd), 0); /* the peer closes later, or never */
    h_flush(h);
    h_advance(h, 9 * TCPC_USEC_PER_SEC);
    h_flush(h);
    tfo_open(h, 100, -1, NULL, &syn, true);
    h_flush(h);
    h_advance(h, 2 * TCPC_USEC_PER_SEC);
    h_flush(h);
    tfo_open(h, 100, 0, NULL, &syn, true);
    h_free(h);
}

/* net.inet.tcp.fastopen.client_enable=0 empties the cookie cache (the
 * FreeBSD scripts' reset), and while 0 no socket may ask for Fast Open. */
static void test_client_enable_resets_cache(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    tfo_open(h, 100, 0, NULL, &syn, true);
    synack(h, &syn, 0, 8, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 0);
    fx_set_tunable(h, "net.inet.tcp.fastopen.client_enable", 0);
    int sd = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, 1), -EPERM);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    fx_set_tunable(h, "net.inet.tcp.fastopen.client_enable", 1);
    tfo_open(h, 100, 0, NULL, &syn, true); /* a request again */
    h_free(h);
}

/* FreeBSD retransmits a Fast Open SYN without its data and without the
 * option (either may be what got it dropped); the SYN-ACK that answers it
 * carries no cookie, so the path is disabled, and the data follows the
 * handshake. */
static void test_syn_retransmission_without_data(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    tfo_open(h, 100, 0, NULL, &syn, true);
    synack(h, &syn, 0, 8, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 0);
    tfo_open(h, 100, 8, NULL, &syn, true);
    fx_advance_until_output(h, 2 * TCPC_USEC_PER_SEC);
    struct h_seg again = h_expect(
        h, SEG(.flags = TH_SYN, .seq = syn.th.seq, .len = 0, .tfo = -1, .opts = FULL_OPTS));
    synack(h, &again, 0, -1, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 0);
    tfo_open(h, 100, -1, NULL, &syn, true);
    h_free(h);
}

/* The SYN carries at most a segment of the MSS the server gave with its
 * cookie, the options counted; the rest follows the handshake in
 * segments of the new connection's MSS. */
static void test_syn_data_within_server_mss(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    tfo_open(h, 100, 0, NULL, &syn, true);
    synack(h, &syn, 0, 8, NULL, 1000);
    expect_after_synack(h, &syn, 100, 0);
    int sd = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, 1), 0);
    assert_int_equal(tcpc_sendto(h->stack, sd, fx_pattern(3000, 'a'), 3000, &h->peer, h->pport),
                     3000);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    /* 1000 less the options: 20 of them, 10 for the cookie, 2 of padding. */
    syn = h_expect(h, SEG(.flags = TH_SYN, .len = 1000 - 32, .tfo = 8));
    uint32_t iss = syn.th.seq;
    synack(h, &syn, 1000 - 32, -1, NULL, 1000);
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1 + 968, .len = 1000));
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1 + 1968, .len = 1000));
    h_expect_nothing(h); /* Nagle holds the 32-byte tail */
    h_inject(h, SEG(.flags = TH_ACK, .seq = 9001, .ack = iss + 1 + 2968));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = iss + 1 + 2968, .len = 32));
    h_free(h);
}

/* Without TCP_FASTOPEN, sendto on an unconnected socket is FreeBSD's
 * implied connect: a plain SYN, the data after the handshake. */
static void test_sendto_implied_connect(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    tfo_open(h, 100, -1, NULL, &syn, false);
    synack(h, &syn, 0, 8, NULL, PEER_MSS); /* a cookie nobody asked for */
    expect_after_synack(h, &syn, 100, 0);
    tfo_open(h, 100, -1, NULL, &syn, false);
    h_free(h);
}

/* The same over IPv6. */
static void test_ipv6(void **state)
{
    (void)state;
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    tfo_open(h, 100, 0, NULL, &syn, true);
    synack(h, &syn, 0, 16, NULL, 1440);
    expect_after_synack(h, &syn, 100, 0);
    tfo_open(h, 100, 16, NULL, &syn, true);
    synack(h, &syn, 100, -1, NULL, 1440);
    expect_after_synack(h, &syn, 100, 100);
    h_free(h);
}

/* Gets a cookie (cookie4 with its first byte set to tag) from the server
 * at port. */
static void learn_cookie(struct harness *h, uint16_t port, uint8_t tag)
{
    uint8_t c[4] = {tag, 2, 3, 4};
    struct h_seg syn;
    h->pport = port;
    tfo_open(h, 100, 0, NULL, &syn, true);
    synack(h, &syn, 0, 4, c, PEER_MSS);
    expect_after_synack(h, &syn, 100, 0);
}

/* A bounded cache: one bucket of two entries here. The third server takes
 * the place of the one used least recently, which asks for a cookie again
 * next time; the others keep theirs. */
static void test_cache_bounded_lru(void **state)
{
    (void)state;
    const char *sysctls[] = {"net.inet.tcp.fastopen.ccache_buckets=1",
                             "net.inet.tcp.fastopen.ccache_bucket_limit=2", NULL};
    struct h_opts o = {.sysctls = sysctls};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    learn_cookie(h, 4001, 0xa);
    learn_cookie(h, 4002, 0xb);
    h->pport = 4001;
    uint8_t ca[4] = {0xa, 2, 3, 4}, cc[4] = {0xc, 2, 3, 4};
    tfo_open(h, 100, 4, ca, &syn, true); /* 4001 is now the more recent */
    synack(h, &syn, 100, -1, NULL, PEER_MSS);
    expect_after_synack(h, &syn, 100, 100);
    learn_cookie(h, 4003, 0xc); /* evicts 4002 */
    h->pport = 4002;
    tfo_open(h, 100, 0, NULL, &syn, true);
    h_flush(h);
    h->pport = 4001;
    tfo_open(h, 100, 4, ca, &syn, true);
    h_flush(h);
    h->pport = 4003;
    tfo_open(h, 100, 4, cc, &syn, true);
    h_free(h);
}

/* ---- Server ---- */

static struct harness *h_server(const char *extra)
{
    const char *sysctls[] = {"net.inet.tcp.fastopen.server_enable=1", extra, NULL};
    struct h_opts o = {.sysctls = sysctls};
    return h_new(&o);
}

static int tfo_listener(struct harness *h, int backlog)
{
    int lsd = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, lsd, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, lsd, backlog), 0);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_FASTOPEN, 1), 0);
    return lsd;
}

/* A SYN from port with a Fast Open option of tfo bytes (cookie) and data;
 * the SYN-ACK must acknowledge `acked` of the data and carry a cookie
 * (want 8) or none (-1). */
static struct h_seg srv_syn(struct harness *h, uint16_t port, uint32_t irs, int tfo,
                            const uint8_t *cookie, const char *data, uint32_t acked, int want)
{
    h->pport = port;
    struct seg syn = SEG(.flags = TH_SYN, .seq = irs, .mss = PEER_MSS, .tfo = tfo,
                         .tfo_cookie = cookie, .data = data);
    h_inject(h, syn);
    return h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = irs + 1 + acked, .tfo = want,
                           .tfo_anybytes = true));
}

/* A cookie request gets an 8-byte cookie and no more; the cookie then
 * lets a SYN's data in: the SYN-ACK acknowledges it, and once the
 * handshake completes, the connection is accepted with the data readable. */
static void test_server_cookie_then_data(void **state)
{
    (void)state;
    struct harness *h = h_server(NULL);
    int lsd = tfo_listener(h, 16);
    struct h_seg sa = srv_syn(h, 5001, 1000, 0, NULL, "ignored", 0, 8);
    uint8_t cookie[8];
    memcpy(cookie, sa.th.opts.tfo_cookie, 8);
    sa = srv_syn(h, 5002, 2000, 8, cookie, "hello", 5, 8);
    assert_memory_equal(sa.th.opts.tfo_cookie, cookie, 8);
    h_expect_nothing(h);
    assert_int_equal(tcpc_accept(h->stack, lsd, NULL, NULL), -EAGAIN);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 2006, .ack = sa.th.seq + 1));
    int sd = tcpc_accept(h->stack, lsd, NULL, NULL);
    assert_true(sd >= 0);
    fx_recv_exact(h, sd, "hello", 5);
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(h_stat(h, "tcps_tfo_cookie_req_rcv"), 1);
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_rcv"), 1);
    assert_int_equal(h_stat(h, "tcps_tfo_cookie_invalid"), 0);
    h_free(h);
}

/* A wrong cookie (or one of another length): the data is not taken and
 * the SYN-ACK offers the right cookie; the handshake then goes as any. */
static void test_server_wrong_cookie(void **state)
{
    (void)state;
    struct harness *h = h_server(NULL);
    tfo_listener(h, 16);
    struct h_seg sa = srv_syn(h, 5001, 1000, 0, NULL, NULL, 0, 8);
    uint8_t right[8];
    memcpy(right, sa.th.opts.tfo_cookie, 8);
    uint8_t wrong[8] = {0};
    sa = srv_syn(h, 5002, 2000, 8, wrong, "hello", 0, 8);
    assert_memory_equal(sa.th.opts.tfo_cookie, right, 8);
    sa = srv_syn(h, 5003, 3000, 4, right, "hello", 0, 8);
    assert_memory_equal(sa.th.opts.tfo_cookie, right, 8);
    assert_int_equal(h_stat(h, "tcps_tfo_cookie_req_rcv"), 1);
    assert_int_equal(h_stat(h, "tcps_tfo_cookie_invalid"), 2); /* wrong bytes, wrong length */
    assert_int_equal(h_stat(h, "tcps_tfo_syn_data_rcv"), 0);
    h_free(h);
}

/* Without server_enable no listener may take the option, and a listener
 * that took it serves plain SYN-ACKs once it is off (the keys are gone). */
static void test_server_enable(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int lsd = h_listen(h);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_FASTOPEN, 1), -EPERM);
    h_free(h);
    h = h_server(NULL);
    tfo_listener(h, 16);
    int64_t v = -1;
    assert_int_equal(tcpc_sysctl_get(h->stack, "net.inet.tcp.fastopen.numkeys", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(tcpc_sysctl_get(h->stack, "net.inet.tcp.fastopen.keylen", &v), 0);
    assert_int_equal(v, 16);
    assert_int_equal(tcpc_sysctl_get(h->stack, "net.inet.tcp.fastopen.maxkeys", &v), 0);
    assert_int_equal(v, 2);
    fx_set_tunable(h, "net.inet.tcp.fastopen.server_enable", 0);
    assert_int_equal(tcpc_sysctl_get(h->stack, "net.inet.tcp.fastopen.numkeys", &v), 0);
    assert_int_equal(v, 0);
    srv_syn(h, 5001, 1000, 0, NULL, NULL, 0, -1);
    h_free(h);
}

/* Fewer than half the backlog may wait in SYN_RECEIVED by a cookie: with
 * a backlog of 2, one; the next valid cookie is served without Fast Open
 * (no cookie, data not taken). */
static void test_server_pending_limit(void **state)
{
    (void)state;
    struct harness *h = h_server(NULL);
    tfo_listener(h, 2);
    struct h_seg sa = srv_syn(h, 5001, 1000, 0, NULL, NULL, 0, 8);
    uint8_t cookie[8];
    memcpy(cookie, sa.th.opts.tfo_cookie, 8);
    srv_syn(h, 5002, 2000, 8, cookie, "hello", 5, 8);
    srv_syn(h, 5003, 3000, 8, cookie, "hello", 0, -1);
    h_free(h);
}

/* A new key every autokey seconds; the previous one stays valid (two at
 * a time), so a cookie lives between one and two periods. */
static void test_server_key_rotation(void **state)
{
    (void)state;
    struct harness *h = h_server("net.inet.tcp.fastopen.autokey=10");
    tfo_listener(h, 16);
    struct h_seg sa = srv_syn(h, 5001, 1000, 0, NULL, NULL, 0, 8);
    uint8_t c1[8];
    memcpy(c1, sa.th.opts.tfo_cookie, 8);
    h_advance(h, 11 * TCPC_USEC_PER_SEC);
    h_flush(h);
    sa = srv_syn(h, 5002, 2000, 8, c1, "x", 1, 8); /* valid, by the older key */
    assert_memory_not_equal(sa.th.opts.tfo_cookie, c1, 8);
    h_advance(h, 11 * TCPC_USEC_PER_SEC);
    h_flush(h);
    srv_syn(h, 5003, 3000, 8, c1, "x", 0, 8); /* two keys later: no longer */
    h_free(h);
}

/* The SYN-ACK of a Fast Open connection is retransmitted without the
 * option, still acknowledging the data. */
static void test_server_synack_retransmission(void **state)
{
    (void)state;
    struct harness *h = h_server(NULL);
    tfo_listener(h, 16);
    struct h_seg sa = srv_syn(h, 5001, 1000, 0, NULL, NULL, 0, 8);
    uint8_t cookie[8];
    memcpy(cookie, sa.th.opts.tfo_cookie, 8);
    sa = srv_syn(h, 5002, 2000, 8, cookie, "hello", 5, 8);
    fx_advance_until_output(h, 2 * TCPC_USEC_PER_SEC);
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = sa.th.seq, .ack = 2006, .tfo = -1));
    h_free(h);
}

/* Moves every packet either stack emitted to the other until both are
 * quiet. */
static void pump(struct harness *a, struct harness *b)
{
    uint8_t pkt[2048];
    for (int round = 0; round < 64; round++) {
        bool moved = false;
        while (h_pending(a) > 0) {
            size_t n = h_take(a, pkt, sizeof(pkt));
            h_inject_raw(b, pkt, n);
            moved = true;
        }
        while (h_pending(b) > 0) {
            size_t n = h_take(b, pkt, sizeof(pkt));
            h_inject_raw(a, pkt, n);
            moved = true;
        }
        if (!moved)
            return;
    }
    fail_msg("the stacks never fell quiet");
}

/* tcpcore's client against tcpcore's server: the first connection fetches
 * the cookie, the second's data rides on its SYN and is taken there (the
 * client retransmits nothing). */
static void test_client_server_end_to_end(void **state)
{
    (void)state;
    struct harness *cli = h_new(NULL);
    const char *sysctls[] = {"net.inet.tcp.fastopen.server_enable=1", NULL};
    struct h_opts so = {.swap = true, .sysctls = sysctls};
    struct harness *srv = h_new(&so);
    int lsd = fx_socket(srv);
    assert_int_equal(tcpc_bind(srv->stack, lsd, NULL, 8080), 0);
    assert_int_equal(tcpc_listen(srv->stack, lsd, 16), 0);
    assert_int_equal(tcpc_setsockopt(srv->stack, lsd, TCPC_TCP_FASTOPEN, 1), 0);
    static const char *const msg[] = {"first", "second"};
    for (int i = 0; i < 2; i++) {
        int sd = fx_socket(cli);
        assert_int_equal(tcpc_setsockopt(cli->stack, sd, TCPC_TCP_FASTOPEN, 1), 0);
        size_t n = strlen(msg[i]);
        assert_int_equal(tcpc_sendto(cli->stack, sd, msg[i], n, &cli->peer, 8080), (ssize_t)n);
        pump(cli, srv);
        int asd = tcpc_accept(srv->stack, lsd, NULL, NULL);
        assert_true(asd >= 0);
        fx_recv_exact(srv, asd, msg[i], n);
        int v = 0;
        assert_int_equal(tcpc_getsockopt(srv->stack, asd, TCPC_TCP_FASTOPEN, &v), 0);
        assert_int_equal(v, i == 1); /* the first was a plain open with a cookie request */
    }
    assert_int_equal(h_stat(cli, "tcps_sndrexmitpack"), 0); /* the SYN's data was taken */
    assert_int_equal(h_stat(srv, "tcps_sc_added"), 1);      /* only the first was cached */
    assert_int_equal(h_stat(cli, "tcps_tfo_cookie_req"), 1);
    assert_int_equal(h_stat(cli, "tcps_tfo_cookie_rcv"), 2); /* the second SYN-ACK renews it */
    assert_int_equal(h_stat(cli, "tcps_tfo_syn_data_sent"), 1);
    assert_int_equal(h_stat(cli, "tcps_tfo_syn_data_acked"), 1);
    assert_int_equal(h_stat(srv, "tcps_tfo_cookie_req_rcv"), 1);
    assert_int_equal(h_stat(srv, "tcps_tfo_syn_data_rcv"), 1);
    h_free(cli);
    h_free(srv);
}

/* A connected socket refuses the option; a listener takes it only with
 * net.inet.tcp.fastopen.server_enable (0 here). */
static void test_sockopt_rules(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int lsd = h_listen(h);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_FASTOPEN, 1), -EPERM);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_FASTOPEN, 0), 0);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, 1), -EINVAL);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_request_then_data_on_syn),
        cmocka_unit_test(test_refused_data_resent_new_cookie_kept),
        cmocka_unit_test(test_data_taken_cookie_kept),
        cmocka_unit_test(test_invalid_cookie_length_disables_path),
        cmocka_unit_test(test_refused_data_without_cookie_disables_path),
        cmocka_unit_test(test_path_reenabled_after_disable_time),
        cmocka_unit_test(test_client_enable_resets_cache),
        cmocka_unit_test(test_syn_retransmission_without_data),
        cmocka_unit_test(test_syn_data_within_server_mss),
        cmocka_unit_test(test_sendto_implied_connect),
        cmocka_unit_test(test_sockopt_rules),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_cache_bounded_lru),
        cmocka_unit_test(test_server_cookie_then_data),
        cmocka_unit_test(test_server_wrong_cookie),
        cmocka_unit_test(test_server_enable),
        cmocka_unit_test(test_server_pending_limit),
        cmocka_unit_test(test_server_key_rotation),
        cmocka_unit_test(test_server_synack_retransmission),
        cmocka_unit_test(test_client_server_end_to_end),
    };
    return cmocka_run_group_tests_name("tcp_fastopen", tests, NULL, NULL);
}
