/*
 * ICMP errors for connections, segment by segment: path MTU (RFC 1191 /
 * RFC 8201) shrinks the segment size and resends; an error that quotes no
 * sequence number in flight is ignored (RFC 5927); unreachables are soft
 * errors (RFC 1122 4.2.3.9, FreeBSD's tcp_notify).
 */
#include "test_tcp_fixture.h"
#include "wire/icmp.h"

/* An ICMP error from a router on the path, quoting seg (which the stack
 * sent), as the harness's peer side would deliver it. */
static void inject_icmp(struct harness *h, const struct h_seg *seg, uint8_t type, uint8_t code,
                        uint32_t mtu)
{
    uint8_t quote[128], pkt[256];
    struct tcp_repr th = seg->th;
    th.payload_len = 0; /* a router quotes the headers and 8 bytes; enough */
    int qlen = tcp_emit_packet(&seg->ip, &th, quote, sizeof(quote));
    assert_true(qlen > 0);
    struct ip_repr ip = {.version = seg->ip.version, .ttl = 64, .dst = h->local};
    assert_int_equal(tcpc_addr_parse(h->v6 ? "2001:db8::fe" : "198.18.0.254", &ip.src), 0);
    int len = icmp_emit_packet(&ip, type, code, mtu, quote, (size_t)qlen, pkt, sizeof(pkt));
    assert_true(len > 0);
    h_inject_raw(h, pkt, (size_t)len);
}

static void test_needfrag_shrinks_and_resends(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(1460, 'a'), 1460), 1460);
    struct h_seg big = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 1460));
    inject_icmp(h, &big, ICMP4_UNREACH, ICMP4_UNREACH_NEEDFRAG, 1280);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 1240));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 1240, .len = 220));
    h_expect_nothing(h);
    struct tcpc_info i;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_int_equal(i.snd_mss, 1240);
    assert_int_equal(h_stat(h, "icps_unreach"), 1);
    h_free(h);
}

static void test_packet_too_big_v6(void **state)
{
    (void)state;
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1440));
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(1440, 'a'), 1440), 1440);
    struct h_seg big = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 1440));
    inject_icmp(h, &big, ICMP6_PACKET_TOO_BIG, 0, 1280);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 1220)); /* 1280 - 40 - 20 */
    h_free(h);
}

/* RFC 5927: an error quoting a sequence number outside [snd_una, snd_max]
 * is not about anything we sent: ignored, nothing resent. */
static void test_icmp_wrong_seq_ignored(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(1460, 'a'), 1460), 1460);
    struct h_seg big = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 1460));
    big.th.seq += 100000; /* a forger's guess */
    inject_icmp(h, &big, ICMP4_UNREACH, ICMP4_UNREACH_NEEDFRAG, 576);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "icps_ignored"), 1);
    struct tcpc_info i;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_int_equal(i.snd_mss, 1460);
    h_free(h);
}

/* A port unreachable to a connection attempt is remembered; after the
 * SYN has been retransmitted more than three times, a second one aborts
 * the attempt with ECONNREFUSED. */
static void test_unreach_aborts_attempt_after_retries(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    inject_icmp(h, &syn, ICMP4_UNREACH, 3 /* port */, 0);
    assert_int_equal(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR, 0); /* only remembered */
    for (tcpc_time_t t = 1; t <= 8; t *= 2) {
        h_advance(h, t * SEC);
        h_expect(h, SEG(.flags = TH_SYN, .seq = syn.th.seq));
    }
    inject_icmp(h, &syn, ICMP4_UNREACH, 3, 0);
    int err;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_ERROR, &err), 0);
    assert_int_equal(err, ECONNREFUSED);
    h_free(h);
}

/* The connection-establishment timeout reports the remembered error, not
 * ETIMEDOUT: the application learns the host was unreachable. */
static void test_timeout_reports_soft_error(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.keepinit=2500", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    inject_icmp(h, &syn, ICMP4_UNREACH, 1 /* host */, 0);
    h_advance(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_SYN));
    h_advance(h, 1500 * MSEC);
    int err;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_ERROR, &err), 0);
    assert_int_equal(err, EHOSTUNREACH);
    h_free(h);
}

/* On an established connection, host/net unreachables are ignored. */
static void test_established_ignores_host_unreach(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    struct h_seg d = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "data"));
    inject_icmp(h, &d, ICMP4_UNREACH, 1, 0);
    h_expect_nothing(h);
    assert_int_equal(tcpc_poll(h->stack, c.sd) & TCPC_EV_ERROR, 0);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    assert_int_equal(tcpc_send(h->stack, c.sd, "more", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "more"));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needfrag_shrinks_and_resends),
        cmocka_unit_test(test_packet_too_big_v6),
        cmocka_unit_test(test_icmp_wrong_seq_ignored),
        cmocka_unit_test(test_unreach_aborts_attempt_after_retries),
        cmocka_unit_test(test_timeout_reports_soft_error),
        cmocka_unit_test(test_established_ignores_host_unreach),
    };
    return cmocka_run_group_tests_name("tcp_icmp", tests, NULL, NULL);
}
