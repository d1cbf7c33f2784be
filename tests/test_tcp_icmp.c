/*
 * ICMP errors for connections, segment by segment: path MTU (RFC 1191 /
 * RFC 8201) shrinks the segment size and resends; an error that quotes no
 * sequence number in flight is ignored (RFC 5927); unreachables are soft
 * errors (RFC 1122 4.2.3.9, FreeBSD's tcp_notify).
 */
#include "test_tcp_fixture.h"
#include "wire/bytes.h"
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
    /* ...but the quoted IP header still gives the whole packet's length. */
    uint32_t whole = (uint32_t)qlen + seg->th.payload_len;
    if (h->v6)
        put_be16(quote + 4, (uint16_t)(whole - IP6_HDR_LEN));
    else
        put_be16(quote + 2, (uint16_t)whole);
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

/* A too-big quoting a bare SYN (60 bytes, far below the MTU it reports)
 * cannot be true: nothing is resent early, the SYN's MSS option (what we
 * can receive) is unchanged when the retransmission timer fires, and the
 * connection then sends full-sized segments. FreeBSD ignores this one for
 * IPv4 (rcv-icmp-hard-error-ignored-ipv4). */
static void expect_too_big_for_syn_ignored(bool v6, uint8_t type, uint8_t code, uint32_t mtu)
{
    struct h_opts o = {.v6 = v6};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    assert_true(syn.th.opts.present & TOF_MSS);
    inject_icmp(h, &syn, type, code, mtu);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "icps_ignored"), 1);
    assert_int_equal(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR, 0);
    h_advance(h, 1 * SEC);
    struct h_seg again = h_expect(h, SEG(.flags = TH_SYN, .seq = syn.th.seq));
    assert_int_equal(again.th.opts.mss, syn.th.opts.mss);
    h_free(h);
}

static void test_too_big_for_a_bare_syn_ignored(void **state)
{
    (void)state;
    expect_too_big_for_syn_ignored(false, ICMP4_UNREACH, ICMP4_UNREACH_NEEDFRAG, 1234);
    expect_too_big_for_syn_ignored(true, ICMP6_PACKET_TOO_BIG, 0, 1300);
}

/* The same rule in ESTABLISHED: a 1,500-byte packet fits an MTU of 1,500,
 * so a too-big saying so changes neither the MSS nor what is in flight. */
static void test_too_big_reporting_the_packets_own_size_ignored(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(1460, 'a'), 1460), 1460);
    struct h_seg big = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 1460));
    inject_icmp(h, &big, ICMP4_UNREACH, ICMP4_UNREACH_NEEDFRAG, 1500);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "icps_ignored"), 1);
    struct tcpc_info i;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_int_equal(i.snd_mss, 1460);
    inject_icmp(h, &big, ICMP4_UNREACH, ICMP4_UNREACH_NEEDFRAG, 1499);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 1459));
    h_free(h);
}

/* RFC 5927: an error quoting a sequence number outside [snd_una, snd_max)
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

/* The sequence number quoted must be in flight, [snd_una, snd_max) as in
 * FreeBSD's tcp_ctlinput: in SYN_SENT only the ISS. A port unreachable
 * quoting ISS + 1 (SND.MAX, where nothing was sent) is ignored; quoting the
 * ISS it refuses the attempt. */
static void test_icmp_quoting_snd_max_ignored(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    struct h_seg beyond = syn;
    beyond.th.seq += 1;
    inject_icmp(h, &beyond, ICMP4_UNREACH, 3 /* port */, 0);
    assert_int_equal(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR, 0);
    assert_int_equal(h_stat(h, "icps_ignored"), 1);
    inject_icmp(h, &syn, ICMP4_UNREACH, 3 /* port */, 0);
    assert_true(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR);
    assert_int_equal(fx_so_error(h, sd), ECONNREFUSED);
    h_free(h);
}

/* A host unreachable to a connection attempt is remembered; after the
 * SYN has been retransmitted more than three times, a second one aborts
 * the attempt (FreeBSD's tcp_notify). */
static void test_unreach_aborts_attempt_after_retries(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    inject_icmp(h, &syn, ICMP4_UNREACH, 1 /* host */, 0);
    assert_int_equal(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR, 0); /* only remembered */
    for (tcpc_time_t t = 1; t <= 8; t *= 2) {
        h_advance(h, t * SEC);
        h_expect(h, SEG(.flags = TH_SYN, .seq = syn.th.seq));
    }
    inject_icmp(h, &syn, ICMP4_UNREACH, 1, 0);
    int err;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_ERROR, &err), 0);
    assert_int_equal(err, EHOSTUNREACH);
    h_free(h);
}

/* A connection attempt that receives the ICMP error (type, code) quoting
 * its SYN ends at once: so_error is `err`, the socket reports it, and no
 * SYN is retransmitted. */
static void expect_attempt_ended(bool v6, uint8_t type, uint8_t code, int err)
{
    struct h_opts o = {.v6 = v6};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    inject_icmp(h, &syn, type, code, 0);
    assert_true(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR);
    assert_int_equal(fx_so_error(h, sd), err);
    assert_int_equal(h_stat(h, "tcps_conndrops"), 1);
    h_advance(h, 10 * SEC);
    h_expect_nothing(h);
    h_free(h);
}

/* FreeBSD's tcp_drop_syn_sent (net.inet.icmp.icmp_may_rst=1), RFC 5461
 * 4.1: in SYN_SENT, port, protocol and administratively-prohibited
 * unreachables and time exceeded in transit abort the attempt at once. */
static void test_port_unreach_aborts_syn_sent(void **state)
{
    (void)state;
    expect_attempt_ended(false, ICMP4_UNREACH, 3 /* port */, ECONNREFUSED);
}

static void test_admin_prohibited_aborts_syn_sent(void **state)
{
    (void)state;
    const uint8_t codes[] = {2 /* protocol */, 9, 10, 13 /* administratively prohibited */};
    for (unsigned i = 0; i < sizeof(codes); i++)
        expect_attempt_ended(false, ICMP4_UNREACH, codes[i], ECONNREFUSED);
}

static void test_time_exceeded_aborts_syn_sent(void **state)
{
    (void)state;
    expect_attempt_ended(false, ICMP4_TIMXCEED, 0 /* in transit */, EHOSTUNREACH);
}

/* ICMPv6: administratively prohibited, port unreachable, time exceeded
 * and an unrecognized Next Header abort; no route is a soft error. */
static void test_v6_errors_in_syn_sent(void **state)
{
    (void)state;
    expect_attempt_ended(true, ICMP6_UNREACH, 1, ECONNREFUSED);
    expect_attempt_ended(true, ICMP6_UNREACH, 4, ECONNREFUSED);
    expect_attempt_ended(true, ICMP6_TIME_EXCEEDED, 0, EHOSTUNREACH);
    expect_attempt_ended(true, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHDR, ECONNREFUSED);
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    inject_icmp(h, &syn, ICMP6_UNREACH, 0 /* no route */, 0);
    assert_int_equal(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR, 0);
    h_advance(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_SYN, .seq = syn.th.seq));
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

/* On an established connection the unreachable (ICMPv4 code `code`) is
 * ignored: nothing resent, no error, and the connection goes on. */
static void expect_established_ignores(uint8_t code)
{
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    struct h_seg d = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "data"));
    inject_icmp(h, &d, ICMP4_UNREACH, code, 0);
    h_expect_nothing(h);
    assert_int_equal(tcpc_poll(h->stack, c.sd) & TCPC_EV_ERROR, 0);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    assert_int_equal(tcpc_send(h->stack, c.sd, "more", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "more"));
    assert_int_equal(fx_so_error(h, c.sd), 0);
    h_free(h);
}

/* Host and net unreachables are routing hiccups (FreeBSD's tcp_notify). */
static void test_established_ignores_host_unreach(void **state)
{
    (void)state;
    expect_established_ignores(1);
}

/* Past SYN_SENT a port unreachable is ignored too (tcp_drop_syn_sent acts
 * in SYN_SENT only): forged, it would be a cheap way to reset a working
 * connection (RFC 5927). */
static void test_established_ignores_port_unreach(void **state)
{
    (void)state;
    expect_established_ignores(3);
}

/* net.inet.tcp.icmp_may_rst=0: the same errors are soft in SYN_SENT too;
 * the attempt goes on (its SYN retransmitted on time), SO_ERROR stays 0,
 * nothing is dropped, for IPv4 and IPv6. */
static void expect_attempt_goes_on(bool v6, uint8_t type, uint8_t code)
{
    static const char *sys[] = {"net.inet.tcp.icmp_may_rst=0", NULL};
    struct h_opts o = {.v6 = v6, .sysctls = sys};
    struct harness *h = h_new(&o);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    inject_icmp(h, &syn, type, code, 0);
    assert_false(tcpc_poll(h->stack, sd) & TCPC_EV_ERROR);
    assert_int_equal(fx_so_error(h, sd), 0);
    assert_int_equal(h_stat(h, "tcps_conndrops"), 0);
    h_advance(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_SYN, .seq = syn.th.seq, .ack = 0, .len = 0));
    h_free(h);
}

static void test_icmp_may_rst_off_keeps_attempt(void **state)
{
    (void)state;
    expect_attempt_goes_on(false, ICMP4_UNREACH, 3 /* port */);
    expect_attempt_goes_on(false, ICMP4_UNREACH, 13 /* administratively prohibited */);
    expect_attempt_goes_on(false, ICMP4_TIMXCEED, 0 /* in transit */);
    expect_attempt_goes_on(true, ICMP6_UNREACH, 4 /* port */);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needfrag_shrinks_and_resends),
        cmocka_unit_test(test_packet_too_big_v6),
        cmocka_unit_test(test_too_big_for_a_bare_syn_ignored),
        cmocka_unit_test(test_too_big_reporting_the_packets_own_size_ignored),
        cmocka_unit_test(test_icmp_wrong_seq_ignored),
        cmocka_unit_test(test_icmp_quoting_snd_max_ignored),
        cmocka_unit_test(test_unreach_aborts_attempt_after_retries),
        cmocka_unit_test(test_port_unreach_aborts_syn_sent),
        cmocka_unit_test(test_icmp_may_rst_off_keeps_attempt),
        cmocka_unit_test(test_admin_prohibited_aborts_syn_sent),
        cmocka_unit_test(test_time_exceeded_aborts_syn_sent),
        cmocka_unit_test(test_v6_errors_in_syn_sent),
        cmocka_unit_test(test_established_ignores_port_unreach),
        cmocka_unit_test(test_timeout_reports_soft_error),
        cmocka_unit_test(test_established_ignores_host_unreach),
    };
    return cmocka_run_group_tests_name("tcp_icmp", tests, NULL, NULL);
}
