/*
 * What the stack sends must fit what IP can carry, and what the link
 * refuses must be sent again: a failed send is a segment lost on the wire.
 *
 * First the MSS bound: on a 64 KiB link (MTU 65536, Linux's loopback) an
 * IPv4 segment stops at 65535 bytes in all, what the total length field
 * can say, so the MSS offered and used is at most 65495; an IPv6 one at a
 * payload of 65535 after its 40-byte header (MSS 65476). A bulk transfer
 * over such a link completes. Then refusals: the harness's link refuses
 * chosen packets as a full ring would (-ENOBUFS, counted in ips_odropped),
 * for data, a SYN, a FIN, data with its FIN, a SWS-override probe, data
 * after the window opens, a zero-window probe, a SYN-ACK and an RST. In
 * each case a timer stays armed (tcpc_next_deadline is finite and no later
 * than a retransmission timeout) and, once the link has room again,
 * retransmission delivers everything.
 */
#include "test_tcp_fixture.h"

#include "wire/ip.h"

static bool is_data(const struct tcp_repr *th)
{
    return th->payload_len > 0;
}

static bool is_syn(const struct tcp_repr *th)
{
    return th->flags & TH_SYN;
}

static bool is_fin(const struct tcp_repr *th)
{
    return th->flags & TH_FIN;
}

static struct harness *new_h(const struct h_opts *base, const char *sysctl)
{
    const char *sys[] = {"kern.ipc.maxsockets=64", "net.inet.tcp.msl=1000", sysctl, NULL};
    struct h_opts o = base ? *base : (struct h_opts){0};
    o.sysctls = sys;
    return h_new(&o);
}

/* Byte i of a test stream. */
static uint8_t stream_byte(uint32_t i)
{
    return (uint8_t)(i * 131u + (i >> 9) + 7u);
}

static void fill_stream(uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        buf[i] = stream_byte(i);
}

/* A timer is armed, due within `within` of now. */
static void expect_deadline_within(struct harness *h, tcpc_time_t within)
{
    tcpc_time_t d = tcpc_next_deadline(h->stack);
    if (d == TCPC_TIME_NEVER)
        fail_msg("no timer armed: the connection would wait forever");
    if (d > h->now + within)
        fail_msg("next deadline %llu us away, want at most %llu", (unsigned long long)(d - h->now),
                 (unsigned long long)within);
}

/* Runs the stack's timers, deadline by deadline, until the link has
 * refused `want` packets in all; fails if that takes more than `limit`. */
static void advance_until_refused(struct harness *h, unsigned want, tcpc_time_t limit)
{
    tcpc_time_t end = h->now + limit;
    while (h->refused < want) {
        tcpc_time_t d = tcpc_next_deadline(h->stack);
        if (d == TCPC_TIME_NEVER)
            fail_msg("no timer armed: the connection would wait forever");
        if (d > end)
            fail_msg("no further attempt within the limit");
        h_advance(h, d > h->now ? d - h->now : 1);
    }
}

/*
 * Takes the stack's segments as the peer, in order, ACKing each, until
 * `total` bytes of the test stream (from stream offset 0 at sequence
 * `seq`) and, when `fin`, the FIN after them have arrived. Each packet is
 * checked against `maxpkt` (whole packet) and `maxseg` (payload). Returns
 * the sequence number after the last byte (and FIN).
 */
static uint32_t take_stream(struct harness *h, int sd, const uint8_t *data, uint32_t total,
                            uint32_t seq, uint32_t peer_seq, bool fin, size_t maxpkt,
                            uint32_t maxseg)
{
    uint32_t queued = 0, got = 0;
    bool fin_seen = false;
    while (got < total || (fin && !fin_seen)) {
        if (sd >= 0 && queued < total) {
            ssize_t n = tcpc_send(h->stack, sd, data + queued, total - queued);
            if (n > 0)
                queued += (uint32_t)n;
            else
                assert_int_equal(n, -EAGAIN);
        }
        if (h_pending(h) == 0)
            fx_advance_until_output(h, 10 * SEC);
        struct h_seg s = h_expect(h, SEG(.ack = peer_seq));
        if (s.len > maxpkt || s.th.payload_len > maxseg)
            fail_msg("packet of %zu bytes with %zu of payload: over %zu / %u", s.len,
                     s.th.payload_len, maxpkt, maxseg);
        if (s.th.seq != seq + got)
            fail_msg("segment at %u, want %u", s.th.seq, seq + got);
        assert_memory_equal(s.payload, data + got, s.th.payload_len);
        got += (uint32_t)s.th.payload_len;
        if (s.th.flags & TH_FIN) {
            assert_int_equal(got, total);
            fin_seen = true;
        }
        h_inject(h, SEG(.flags = TH_ACK, .seq = peer_seq, .ack = seq + got + fin_seen));
    }
    return seq + got + fin_seen;
}

/* ---- The MSS bound on a 64 KiB link ------------------------------------ */

#define BULK (3u * 65536u + 1000u)

static void bulk_64k(bool v6, uint32_t mss, size_t maxpkt)
{
    const struct h_opts base = {.v6 = v6, .mtu = 65536};
    struct harness *h = new_h(&base, "net.inet.tcp.sendspace=262144");
    /* Passive: the SYN-ACK offers the bounded MSS. */
    int l = h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 65535));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .mss = mss));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    /* A bulk transfer moves in segments that fit, and completes. */
    static uint8_t data[BULK];
    fill_stream(data, BULK);
    take_stream(h, sd, data, BULK, sa.th.seq + 1, 1001, false, maxpkt, mss);
    h_expect_nothing(h);
    /* Active: the SYN offers it too. */
    struct h_seg syn;
    fx_connect(h, &syn);
    assert_true((syn.th.opts.present & TOF_MSS) && syn.th.opts.mss == mss);
    h_free(h);
}

static void test_mss_fits_ipv4_total_length(void **state)
{
    (void)state;
    bulk_64k(false, IP4_MAXPACKET - IP4_HDR_LEN - TCP_HDR_LEN, IP4_MAXPACKET);
}

static void test_mss_fits_ipv6_payload_length(void **state)
{
    (void)state;
    /* 65536 - 40 - 20: the MTU, not the payload length field, binds. */
    bulk_64k(true, 65536 - IP6_HDR_LEN - TCP_HDR_LEN, 65536);
}

/* ---- Refused output ------------------------------------------------------ */

#define RTO_MAX_FIRST (1 * SEC) /* net.inet.tcp.rexmit_initial */

/* Data refused, twice (the link stays full across a timeout), then
 * delivered by retransmission. */
static void test_refused_data_is_retransmitted(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    static uint8_t data[3000];
    fill_stream(data, sizeof(data));
    h_refuse(h, H_REFUSE_ALL, is_data);
    assert_int_equal(tcpc_send(h->stack, c.sd, data, sizeof(data)), (ssize_t)sizeof(data));
    h_expect_nothing(h);
    assert_int_equal(h->refused, 1);
    expect_deadline_within(h, RTO_MAX_FIRST);
    advance_until_refused(h, 2, RTO_MAX_FIRST);
    h_expect_nothing(h);
    expect_deadline_within(h, 2 * RTO_MAX_FIRST);
    h_refuse(h, 0, NULL);
    take_stream(h, -1, data, sizeof(data), c.rcv, c.snd, false, SIZE_MAX, 1460);
    assert_int_equal(h_stat(h, "ips_odropped"), h->refused);
    assert_int_equal(fx_so_error(h, c.sd), 0);
    h_free(h);
}

/* A refused SYN is retransmitted after the initial RTO, not left to the
 * connection-establishment timeout. */
static void test_refused_syn_is_retransmitted(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    h_refuse(h, 1, is_syn);
    int sd = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    h_expect_nothing(h);
    assert_int_equal(h->refused, 1);
    expect_deadline_within(h, RTO_MAX_FIRST);
    fx_advance_until_output(h, RTO_MAX_FIRST);
    struct tcpc_addr a;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &h->lport), 0);
    struct h_seg syn = h_expect(h, SEG(.flags = TH_SYN, .ack = 0, .len = 0));
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 5000, .ack = syn.th.seq + 1, .mss = 1460));
    h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 5001, .len = 0));
    static uint8_t data[2000];
    fill_stream(data, sizeof(data));
    take_stream(h, sd, data, sizeof(data), syn.th.seq + 1, 5001, false, SIZE_MAX, 1460);
    assert_int_equal(h_stat(h, "ips_odropped"), 1);
    h_free(h);
}

/*
 * The first SYN got through, its retransmission was refused, and then the
 * SYN-ACK answering the first arrives. The refused retransmission left the
 * send point at the ISS; the ACK of ISS+1 must bring it up to SND.UNA, or
 * data queued afterwards is never sent and no timer is armed (found by
 * fuzz_stack). Both with the peer's window open and shut.
 */
static void synack_after_refused_syn_retransmission(uint16_t win)
{
    struct harness *h = new_h(NULL, NULL);
    int sd = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &h->lport), 0);
    struct h_seg syn = h_expect(h, SEG(.flags = TH_SYN, .ack = 0, .len = 0));
    h_refuse(h, 1, is_syn);
    advance_until_refused(h, 1, RTO_MAX_FIRST);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 5000, .ack = syn.th.seq + 1, .win = win,
                    .mss = 1460));
    h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 5001, .len = 0));
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &info), 0);
    assert_int_equal(info.snd_nxt, info.snd_una);
    static uint8_t data[100];
    fill_stream(data, sizeof(data));
    assert_int_equal(tcpc_send(h->stack, sd, data, sizeof(data)), (ssize_t)sizeof(data));
    if (win == 0) {
        /* Behind the shut window the persist timer probes with one byte. */
        h_expect_nothing(h);
        expect_deadline_within(h, 2 * RTO_MAX_FIRST);
        fx_advance_until_output(h, 2 * RTO_MAX_FIRST);
        h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 5001, .len = 1));
        h_inject(h, SEG(.flags = TH_ACK, .seq = 5001, .ack = syn.th.seq + 1, .win = 1000));
    }
    take_stream(h, -1, data, sizeof(data), syn.th.seq + 1, 5001, false, SIZE_MAX, 1460);
    h_free(h);
}

static void test_synack_after_refused_syn_retransmission(void **state)
{
    (void)state;
    synack_after_refused_syn_retransmission(65535);
    synack_after_refused_syn_retransmission(0);
}

/* A refused FIN is retransmitted; the close completes. */
static void test_refused_fin_is_retransmitted(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    h_refuse(h, H_REFUSE_ALL, is_fin);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect_nothing(h);
    assert_int_equal(h->refused, 1);
    expect_deadline_within(h, RTO_MAX_FIRST);
    h_refuse(h, 0, NULL);
    fx_advance_until_output(h, RTO_MAX_FIRST);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ips_odropped"), 1);
    h_free(h);
}

/* Everything refused while data and then the FIN go: both come again. */
static void test_refused_data_and_fin_are_retransmitted(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    static uint8_t data[4000];
    fill_stream(data, sizeof(data));
    h_refuse(h, H_REFUSE_ALL, NULL);
    assert_int_equal(tcpc_send(h->stack, c.sd, data, sizeof(data)), (ssize_t)sizeof(data));
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect_nothing(h);
    assert_true(h->refused >= 1);
    expect_deadline_within(h, RTO_MAX_FIRST);
    h_refuse(h, 0, NULL);
    take_stream(h, -1, data, sizeof(data), c.rcv, c.snd, true, SIZE_MAX, 1460);
    assert_int_equal(h_stat(h, "ips_odropped"), h->refused);
    h_free(h);
}

/* A connection whose peer announced window `win`, with n bytes of the
 * test stream (into data) queued behind it and nothing sent yet. */
static struct fx_conn queue_behind_window(struct harness *h, uint16_t win, uint8_t *data,
                                          uint32_t n)
{
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = win));
    fill_stream(data, n);
    assert_int_equal(tcpc_send(h->stack, c.sd, data, n), (ssize_t)n);
    h_expect_nothing(h);
    return c;
}

/* A small window holds data back (sender SWS avoidance); the persist
 * timer's override sends what fits, and the link refuses that. */
static void test_refused_sws_override_is_retransmitted(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    static uint8_t data[1000];
    struct fx_conn c = queue_behind_window(h, 100, data, sizeof(data));
    h_refuse(h, H_REFUSE_ALL, is_data);
    advance_until_refused(h, 1, RTO_MAX_FIRST); /* the persist timer: 100 bytes, refused */
    h_expect_nothing(h);
    expect_deadline_within(h, RTO_MAX_FIRST);
    h_refuse(h, 0, NULL);
    take_stream(h, -1, data, sizeof(data), c.rcv, c.snd, false, SIZE_MAX, 1460);
    assert_int_equal(h_stat(h, "ips_odropped"), 1);
    h_free(h);
}

/* The peer opens a shut window while the link is full: the data that
 * then goes is refused, and comes again. */
static void test_refused_send_after_window_opens(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    static uint8_t data[2000];
    struct fx_conn c = queue_behind_window(h, 0, data, sizeof(data));
    h_refuse(h, H_REFUSE_ALL, is_data);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 65535));
    h_expect_nothing(h);
    assert_int_equal(h->refused, 1);
    expect_deadline_within(h, RTO_MAX_FIRST);
    h_refuse(h, 0, NULL);
    take_stream(h, -1, data, sizeof(data), c.rcv, c.snd, false, SIZE_MAX, 1460);
    h_free(h);
}

/* Zero-window probes refused: the persist timer goes on probing, and once
 * a probe gets through and the window opens, the data goes. */
static void test_refused_window_probe_is_repeated(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    static uint8_t data[100];
    struct fx_conn c = queue_behind_window(h, 0, data, sizeof(data));
    h_refuse(h, H_REFUSE_ALL, is_data);
    advance_until_refused(h, 1, RTO_MAX_FIRST);
    expect_deadline_within(h, 2 * RTO_MAX_FIRST);
    advance_until_refused(h, 2, 2 * RTO_MAX_FIRST);
    expect_deadline_within(h, 4 * RTO_MAX_FIRST);
    h_expect_nothing(h);
    h_refuse(h, 0, NULL);
    fx_advance_until_output(h, 4 * RTO_MAX_FIRST);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 1));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 1000));
    take_stream(h, -1, data, sizeof(data), c.rcv, c.snd, false, SIZE_MAX, 1460);
    assert_int_equal(h_stat(h, "ips_odropped"), 2);
    h_free(h);
}

/* The SYN cache: a refused SYN-ACK stays due on the entry's timer and the
 * handshake completes from the retransmission. */
static void test_refused_synack_is_retransmitted(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    int l = h_listen(h);
    h_refuse(h, 1, is_syn);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    h_expect_nothing(h);
    assert_int_equal(h->refused, 1);
    assert_int_equal(h_stat(h, "tcps_sndctrl"), 0);
    expect_deadline_within(h, RTO_MAX_FIRST);
    fx_advance_until_output(h, RTO_MAX_FIRST);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .mss = 1460));
    assert_int_equal(h_stat(h, "tcps_sc_retransmitted"), 1);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    static uint8_t data[3000];
    fill_stream(data, sizeof(data));
    take_stream(h, sd, data, sizeof(data), sa.th.seq + 1, 1001, false, SIZE_MAX, 1460);
    h_free(h);
}

/* A refused RST is not counted as sent, and the next one goes. */
static void test_refused_rst_not_counted_as_sent(void **state)
{
    (void)state;
    struct harness *h = new_h(NULL, NULL);
    h_refuse(h, 1, NULL);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1, .ack = 77));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ips_odropped"), 1);
    assert_int_equal(h_stat(h, "tcps_sndrst"), 0);
    assert_int_equal(h_stat(h, "tcps_sndtotal"), 0);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1, .ack = 77));
    h_expect(h, SEG(.flags = TH_RST, .seq = 77, .len = 0));
    assert_int_equal(h_stat(h, "tcps_sndrst"), 1);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mss_fits_ipv4_total_length),
        cmocka_unit_test(test_mss_fits_ipv6_payload_length),
        cmocka_unit_test(test_refused_data_is_retransmitted),
        cmocka_unit_test(test_refused_syn_is_retransmitted),
        cmocka_unit_test(test_synack_after_refused_syn_retransmission),
        cmocka_unit_test(test_refused_fin_is_retransmitted),
        cmocka_unit_test(test_refused_data_and_fin_are_retransmitted),
        cmocka_unit_test(test_refused_sws_override_is_retransmitted),
        cmocka_unit_test(test_refused_send_after_window_opens),
        cmocka_unit_test(test_refused_window_probe_is_repeated),
        cmocka_unit_test(test_refused_synack_is_retransmitted),
        cmocka_unit_test(test_refused_rst_not_counted_as_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
