/*
 * What the stack sends must fit what IP can carry.
 *
 * On a 64 KiB link (MTU 65536, Linux's loopback) an
 * IPv4 segment stops at 65535 bytes in all, what the total length field
 * can say, so the MSS offered and used is at most 65495; an IPv6 one at a
 * payload of 65535 after its 40-byte header (MSS 65476). A bulk transfer
 * over such a link completes.
 */
#include "test_tcp_fixture.h"

#include "wire/ip.h"

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

/* Runs the stack's timers, deadline by deadline, until it sends something;
 * fails if that takes more than `limit` of virtual time. */
static void advance_until_output(struct harness *h, tcpc_time_t limit)
{
    tcpc_time_t end = h->now + limit;
    while (h_pending(h) == 0) {
        tcpc_time_t d = tcpc_next_deadline(h->stack);
        if (d == TCPC_TIME_NEVER || d > end)
            fail_msg("nothing sent and no timer due within the limit");
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
            advance_until_output(h, 10 * SEC);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mss_fits_ipv4_total_length),
        cmocka_unit_test(test_mss_fits_ipv6_payload_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
