/*
 * Unit tests for the IP layer and the Internet checksum: known answers from
 * RFC 1071 and from packets the Linux kernel sent (captured off a tun device,
 * where no checksum offload applies), every refusal reason from a crafted
 * header, and emit/parse round trips for both families.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/cksum.h"
#include "wire/ip.h"
#include "wire/wire.h"
#include "cksum_ref.h"
#include "vectors.h"

/* Recomputes the IPv4 header checksum after a test edits a field. */
static void ip4_fix_sum(uint8_t *p)
{
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;

    put_be16(p + 10, 0);
    put_be16(p + 10, cksum_finish(cksum_add(0, p, ihl)));
}

/* A minimal valid IPv4 header with payload_len bytes of zero payload. */
static size_t make_ip4(uint8_t *p, size_t payload_len)
{
    memset(p, 0, IP4_HDR_LEN + payload_len);
    p[0] = 0x45;
    put_be16(p + 2, (uint16_t)(IP4_HDR_LEN + payload_len));
    p[8] = 64;
    p[9] = IPPROTO_TCP_;
    put_be32(p + 12, 0xc0000201); /* 192.0.2.1 */
    put_be32(p + 16, 0xc6336402); /* 198.51.100.2 */
    ip4_fix_sum(p);
    return IP4_HDR_LEN + payload_len;
}

/* A minimal valid IPv6 header 2001:db8::1 -> 2001:db8::2, next header nh. */
static size_t make_ip6(uint8_t *p, uint8_t nh, size_t payload_len)
{
    memset(p, 0, IP6_HDR_LEN + payload_len);
    p[0] = 0x60;
    put_be16(p + 4, (uint16_t)payload_len);
    p[6] = nh;
    p[7] = 64;
    p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 1;
    p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8, p[39] = 2;
    return IP6_HDR_LEN + payload_len;
}

/* Appends n extension headers of the given type, each 8 bytes, ending in TCP. */
static size_t make_ip6_chain(uint8_t *p, uint8_t type, unsigned n, size_t tail)
{
    size_t len = make_ip6(p, n ? type : IPPROTO_TCP_, n * 8 + tail);

    for (unsigned i = 0; i < n; i++) {
        p[IP6_HDR_LEN + i * 8] = i + 1 < n ? type : IPPROTO_TCP_;
        p[IP6_HDR_LEN + i * 8 + 1] = 0;
    }
    return len;
}

static void test_cksum_rfc1071(void **state)
{
    /* RFC 1071 section 3: the sum of these words is ddf2. */
    static const uint8_t words[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    uint32_t sum;

    (void)state;
    assert_int_equal(cksum_finish(cksum_add(0, words, sizeof(words))), (uint16_t)~0xddf2);
    /* Pieces of even length may be added in any order. */
    sum = cksum_add(cksum_add(0, words + 4, 4), words, 4);
    assert_int_equal(cksum_finish(sum), (uint16_t)~0xddf2);
}

static void test_cksum_odd_and_carry(void **state)
{
    static const uint8_t odd[] = {0x12, 0x34, 0x56};
    uint8_t ones[4096];

    (void)state;
    /* The odd byte is padded on the right: 0x1234 + 0x5600. */
    assert_int_equal(cksum_finish(cksum_add(0, odd, 3)), (uint16_t)~0x6834);
    /* All-ones words sum to all ones however many carries wrap around. */
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(cksum_finish(cksum_add(0, ones, sizeof(ones))), 0);
    assert_int_equal(cksum_finish(cksum_add(0xfffffff0u, ones, 2)),
                     0x000f); /* 0xfff0 + 0xffff (-0) */
    assert_int_equal(cksum_finish(0), 0xffff);
}

/* Every length and start offset the wide loop and its tails can
 * meet, after any running sum, equals the word-by-word definition: up to
 * six 64-byte blocks, so that the loop's odd first block and its pairs
 * (with the carry crossing them) are all reached. */
static void test_cksum_wide_matches_words(void **state)
{
    static const uint32_t starts[] = {0, 1, 0xffff, 0x1fffe, 0x7fffffffu, 0xfffffff0u};
    uint8_t buf[6 * 64 + 16];
    uint32_t x = 12345;

    (void)state;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++)
        for (size_t off = 0; off < 8; off++)
            for (size_t len = 0; off + len <= sizeof(buf); len++)
                assert_int_equal(cksum_finish(cksum_add(starts[s], buf + off, len)),
                                 cksum_reference(starts[s], buf + off, len));
    memset(buf, 0xff, sizeof(buf));
    for (size_t len = 0; len <= sizeof(buf); len++)
        assert_int_equal(cksum_finish(cksum_add(0, buf, len)), cksum_reference(0, buf, len));
}

static void test_cksum_known_ip4_header(void **state)
{
    uint8_t p[64];
    size_t n = unhex(syn4_hex, p, sizeof(p));

    (void)state;
    assert_int_equal(n, 60);
    assert_int_equal(get_be16(p + 10), 0x42fb);
    put_be16(p + 10, 0);
    assert_int_equal(cksum_finish(cksum_add(0, p, IP4_HDR_LEN)), 0x42fb);
}

static void test_cksum_pseudo(void **state)
{
    struct tcpc_addr a = tcpc_addr_v4(0xc0000201), b = tcpc_addr_v4(0xc6336402);
    uint8_t ph4[12] = {192, 0, 2, 1, 198, 51, 100, 2, 0, 6, 0, 40};
    uint8_t ph6[40] = {0};
    struct tcpc_addr a6, b6;

    (void)state;
    assert_int_equal(cksum_finish(cksum_pseudo(&a, &b, 6, 40)),
                     cksum_finish(cksum_add(0, ph4, sizeof(ph4))));
    ph6[0] = 0x20, ph6[1] = 0x01, ph6[15] = 1;
    ph6[16] = 0x20, ph6[17] = 0x01, ph6[31] = 2;
    ph6[33] = 0x01, ph6[34] = 0x02, ph6[35] = 0x03; /* length 0x010203 */
    ph6[39] = 58;
    a6 = tcpc_addr_v6(ph6);
    b6 = tcpc_addr_v6(ph6 + 16);
    assert_int_equal(cksum_finish(cksum_pseudo(&a6, &b6, 58, 0x010203)),
                     cksum_finish(cksum_add(0, ph6, sizeof(ph6))));
}

static void test_ip4_parse_captured_syn(void **state)
{
    uint8_t p[64];
    size_t n = unhex(syn4_hex, p, sizeof(p));
    struct ip_repr ip;

    (void)state;
    assert_int_equal(ip_parse(p, n, &ip), 20);
    assert_int_equal(ip.version, 4);
    assert_int_equal(ip.proto, IPPROTO_TCP_);
    assert_int_equal(ip.ttl, 64);
    assert_int_equal(ip.tos, 0);
    assert_true(ip.df);
    assert_int_equal(ip.id, 0x6b99);
    assert_int_equal(ip.hdrlen, 20);
    assert_int_equal(ip.payload_len, 40);
    assert_true(tcpc_addr_is_v4(&ip.src));
    assert_int_equal(tcpc_addr_v4_host(&ip.src), 0xc6120001);
    assert_int_equal(tcpc_addr_v4_host(&ip.dst), 0xc6120002);
}

static void test_ip4_options_and_padding(void **state)
{
    uint8_t p[128];
    struct ip_repr ip;

    (void)state;
    make_ip4(p, 16);
    /* Move to IHL 6 with a NOP NOP NOP EOL option word. */
    memmove(p + 24, p + 20, 16);
    p[0] = 0x46;
    p[20] = 1, p[21] = 1, p[22] = 1, p[23] = 0;
    put_be16(p + 2, 40);
    ip4_fix_sum(p);
    /* Ethernet pads short frames; bytes past the total length are ignored. */
    assert_int_equal(ip4_parse(p, 60, &ip), 24);
    assert_int_equal(ip.hdrlen, 24);
    assert_int_equal(ip.payload_len, 16);
    assert_false(ip.df);
}

static void test_ip4_errors(void **state)
{
    uint8_t p[64];
    struct ip_repr ip;

    (void)state;
    make_ip4(p, 8);
    assert_int_equal(ip_parse(p, 0, &ip), -WIRE_IP_SHORT);
    assert_int_equal(ip4_parse(p, 19, &ip), -WIRE_IP_SHORT);

    p[0] = 0x55;
    assert_int_equal(ip_parse(p, 28, &ip), -WIRE_IP_BADVERSION);
    p[0] = 0x65;
    assert_int_equal(ip4_parse(p, 28, &ip), -WIRE_IP_BADVERSION);

    make_ip4(p, 8);
    p[0] = 0x44;
    assert_int_equal(ip_parse(p, 28, &ip), -WIRE_IP_BADHLEN);
    p[0] = 0x48; /* 32 bytes of header in a 28-byte buffer */
    assert_int_equal(ip_parse(p, 28, &ip), -WIRE_IP_BADHLEN);

    make_ip4(p, 8);
    assert_int_equal(ip_parse(p, 27, &ip), -WIRE_IP_BADLEN);
    put_be16(p + 2, 19);
    ip4_fix_sum(p);
    assert_int_equal(ip_parse(p, 28, &ip), -WIRE_IP_BADLEN);

    make_ip4(p, 8);
    p[11] ^= 1;
    assert_int_equal(ip_parse(p, 28, &ip), -WIRE_IP_BADSUM);
}

static void test_ip4_fragments(void **state)
{
    uint8_t p[64];
    struct ip_repr ip;

    (void)state;
    make_ip4(p, 8);
    put_be16(p + 6, 0x2000); /* MF: a first fragment */
    ip4_fix_sum(p);
    assert_int_equal(ip_parse(p, 28, &ip), -WIRE_IP_FRAGMENT);
    put_be16(p + 6, 0x4001); /* DF with offset 8: a last fragment */
    ip4_fix_sum(p);
    assert_int_equal(ip_parse(p, 28, &ip), -WIRE_IP_FRAGMENT);
}

static void test_ip4_bad_sources(void **state)
{
    static const uint32_t bad[] = {0, 0xffffffff, 0xe0000001, 0xefffffff};
    uint8_t p[64];
    struct ip_repr ip;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        make_ip4(p, 8);
        put_be32(p + 12, bad[i]);
        ip4_fix_sum(p);
        assert_int_equal(ip_parse(p, 28, &ip), -WIRE_IP_BADSRC);
    }
    /* A broadcast or multicast destination is not the IP layer's call. */
    make_ip4(p, 8);
    put_be32(p + 16, 0xffffffff);
    ip4_fix_sum(p);
    assert_int_equal(ip_parse(p, 28, &ip), 20);
}

static void test_ip6_parse_captured_syn(void **state)
{
    uint8_t p[96];
    size_t n = unhex(syn6_hex, p, sizeof(p));
    struct ip_repr ip;

    (void)state;
    assert_int_equal(n, 80);
    assert_int_equal(ip_parse(p, n, &ip), 40);
    assert_int_equal(ip.version, 6);
    assert_int_equal(ip.proto, IPPROTO_TCP_);
    assert_int_equal(ip.ttl, 64);
    assert_int_equal(ip.tos, 0);
    assert_int_equal(ip.flowlabel, 0x92f64);
    assert_int_equal(ip.hdrlen, 40);
    assert_int_equal(ip.payload_len, 40);
    assert_false(tcpc_addr_is_v4(&ip.src));
    assert_memory_equal(ip.src.bytes, p + 8, 16);
    assert_memory_equal(ip.dst.bytes, p + 24, 16);
}

static void test_ip6_errors(void **state)
{
    uint8_t p[128];
    struct ip_repr ip;

    (void)state;
    make_ip6(p, IPPROTO_TCP_, 20);
    assert_int_equal(ip_parse(p, 39, &ip), -WIRE_IP_SHORT);
    assert_int_equal(ip6_parse(p, 39, &ip), -WIRE_IP_SHORT);
    assert_int_equal(ip_parse(p, 59, &ip), -WIRE_IP_BADLEN);
    p[0] = 0x40;
    assert_int_equal(ip6_parse(p, 60, &ip), -WIRE_IP_BADVERSION);
}

static void test_ip6_bad_addresses(void **state)
{
    uint8_t p[128];
    struct ip_repr ip;

    (void)state;
    make_ip6(p, IPPROTO_TCP_, 20);
    p[8] = 0xff; /* ff01:db8::1, multicast */
    assert_int_equal(ip_parse(p, 60, &ip), -WIRE_IP_BADSRC);
    memset(p + 8, 0, 16); /* :: */
    assert_int_equal(ip_parse(p, 60, &ip), -WIRE_IP_BADSRC);
    p[18] = p[19] = 0xff; /* ::ffff:0.0.0.1, v4-mapped */
    p[23] = 1;
    assert_int_equal(ip_parse(p, 60, &ip), -WIRE_IP_BADSRC);
    make_ip6(p, IPPROTO_TCP_, 20);
    memset(p + 24, 0, 16);
    p[34] = p[35] = 0xff;
    p[39] = 1;
    assert_int_equal(ip_parse(p, 60, &ip), -WIRE_IP_BADSRC);
    /* A multicast destination is left to the layers above. */
    make_ip6(p, IPPROTO_TCP_, 20);
    p[24] = 0xff;
    assert_int_equal(ip_parse(p, 60, &ip), 40);
}

static void test_ip6_ext_chain(void **state)
{
    static const uint8_t types[] = {0, 43, 60};
    uint8_t p[256];
    struct ip_repr ip;
    size_t n;

    (void)state;
    for (size_t t = 0; t < sizeof(types); t++) {
        n = make_ip6_chain(p, types[t], IP6_EXT_MAX, 20);
        assert_int_equal(ip_parse(p, n, &ip), IP6_HDR_LEN + IP6_EXT_MAX * 8);
        assert_int_equal(ip.proto, IPPROTO_TCP_);
        assert_int_equal(ip.hdrlen, IP6_HDR_LEN + IP6_EXT_MAX * 8);
        assert_int_equal(ip.payload_len, 20);
        n = make_ip6_chain(p, types[t], IP6_EXT_MAX + 1, 20);
        assert_int_equal(ip_parse(p, n, &ip), -WIRE_IP6_EXTLIMIT);
    }
    /* A longer header: destination options of 3 units (24 bytes). */
    n = make_ip6(p, 60, 24 + 4);
    p[40] = 17;
    p[41] = 2;
    assert_int_equal(ip_parse(p, n, &ip), 64);
    assert_int_equal(ip.proto, 17);
    assert_int_equal(ip.payload_len, 4);
}

static void test_ip6_ext_short_and_fragment(void **state)
{
    uint8_t p[256];
    struct ip_repr ip;
    size_t n;

    (void)state;
    /* Length byte says 16 bytes but the payload has 12. */
    n = make_ip6(p, 0, 12);
    p[40] = IPPROTO_TCP_;
    p[41] = 1;
    assert_int_equal(ip_parse(p, n, &ip), -WIRE_IP6_EXTSHORT);
    /* The payload length, not the buffer, bounds the walk. */
    assert_int_equal(ip_parse(p, sizeof(p), &ip), -WIRE_IP6_EXTSHORT);
    /* Not even the two bytes of next header and length. */
    n = make_ip6(p, 43, 1);
    assert_int_equal(ip_parse(p, n, &ip), -WIRE_IP6_EXTSHORT);
    n = make_ip6(p, 43, 0);
    assert_int_equal(ip_parse(p, n, &ip), -WIRE_IP6_EXTSHORT);
    /* A fragment header, first or after another extension header. */
    n = make_ip6(p, 44, 8 + 20);
    p[40] = IPPROTO_TCP_;
    assert_int_equal(ip_parse(p, n, &ip), -WIRE_IP_FRAGMENT);
    n = make_ip6_chain(p, 60, 2, 20);
    p[48] = 44;
    assert_int_equal(ip_parse(p, n, &ip), -WIRE_IP_FRAGMENT);
    /* No next header (59) is an upper layer as far as IP is concerned. */
    n = make_ip6(p, 59, 0);
    assert_int_equal(ip_parse(p, n, &ip), 40);
    assert_int_equal(ip.proto, 59);
    assert_int_equal(ip.payload_len, 0);
}

static void test_ip_roundtrip_v4(void **state)
{
    struct ip_repr in = {
        .src = tcpc_addr_v4(0x0a000001),
        .dst = tcpc_addr_v4(0xc6336402),
        .version = 4,
        .proto = IPPROTO_TCP_,
        .ttl = 17,
        .tos = 0xb8,
        .df = true,
        .id = 0xbeef,
        .payload_len = 12,
    };
    struct ip_repr out;
    uint8_t p[64] = {0};

    (void)state;
    assert_int_equal(ip_header_len(&in), 20);
    assert_int_equal(ip_emit(&in, p, 19), -WIRE_NOSPACE);
    assert_int_equal(ip_emit(&in, p, sizeof(p)), 20);
    assert_int_equal(ip_parse(p, 32, &out), 20);
    assert_true(tcpc_addr_eq(&in.src, &out.src));
    assert_true(tcpc_addr_eq(&in.dst, &out.dst));
    assert_int_equal(out.version, 4);
    assert_int_equal(out.proto, in.proto);
    assert_int_equal(out.ttl, in.ttl);
    assert_int_equal(out.tos, in.tos);
    assert_true(out.df);
    assert_int_equal(out.id, in.id);
    assert_int_equal(out.hdrlen, 20);
    assert_int_equal(out.payload_len, 12);
    in.df = false;
    assert_int_equal(ip_emit(&in, p, sizeof(p)), 20);
    assert_int_equal(ip_parse(p, 32, &out), 20);
    assert_false(out.df);
    /* A payload that would overflow the 16-bit total length. */
    in.payload_len = 65535 - 19;
    assert_int_equal(ip_emit(&in, p, sizeof(p)), -WIRE_IP_BADLEN);
}

static void test_ip_roundtrip_v6(void **state)
{
    uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
    uint8_t b[16] = {0xfe, 0x80, [8] = 0x02, [15] = 0x99};
    struct ip_repr in = {
        .version = 6,
        .proto = IPPROTO_TCP_,
        .ttl = 255,
        .tos = 0xa5,
        .flowlabel = 0xfedcb,
        .payload_len = 0xfff0,
    };
    struct ip_repr out;
    static uint8_t p[65536 + 40];

    (void)state;
    in.src = tcpc_addr_v6(a);
    in.dst = tcpc_addr_v6(b);
    assert_int_equal(ip_header_len(&in), 40);
    assert_int_equal(ip_emit(&in, p, 39), -WIRE_NOSPACE);
    assert_int_equal(ip_emit(&in, p, sizeof(p)), 40);
    assert_int_equal(ip_parse(p, 40 + 0xfff0, &out), 40);
    assert_true(tcpc_addr_eq(&in.src, &out.src));
    assert_true(tcpc_addr_eq(&in.dst, &out.dst));
    assert_int_equal(out.version, 6);
    assert_int_equal(out.proto, in.proto);
    assert_int_equal(out.ttl, in.ttl);
    assert_int_equal(out.tos, in.tos);
    assert_int_equal(out.flowlabel, in.flowlabel);
    assert_int_equal(out.hdrlen, 40);
    assert_int_equal(out.payload_len, 0xfff0);
}

static void test_wire_strerror(void **state)
{
    (void)state;
    for (int e = 1; e < WIRE_ERROR_COUNT; e++) {
        const char *t = wire_strerror(-e);
        assert_non_null(t);
        assert_string_equal(t, wire_strerror(e));
        for (int f = 1; f < e; f++)
            assert_string_not_equal(t, wire_strerror(f));
    }
    assert_string_equal(wire_strerror(-WIRE_IP_BADSUM), "IPv4 header checksum");
    assert_non_null(wire_strerror(0));
    assert_string_equal(wire_strerror(WIRE_ERROR_COUNT), "unknown wire error");
    assert_string_equal(wire_strerror(-1000), "unknown wire error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cksum_rfc1071),
        cmocka_unit_test(test_cksum_odd_and_carry),
        cmocka_unit_test(test_cksum_wide_matches_words),
        cmocka_unit_test(test_cksum_known_ip4_header),
        cmocka_unit_test(test_cksum_pseudo),
        cmocka_unit_test(test_ip4_parse_captured_syn),
        cmocka_unit_test(test_ip4_options_and_padding),
        cmocka_unit_test(test_ip4_errors),
        cmocka_unit_test(test_ip4_fragments),
        cmocka_unit_test(test_ip4_bad_sources),
        cmocka_unit_test(test_ip6_parse_captured_syn),
        cmocka_unit_test(test_ip6_errors),
        cmocka_unit_test(test_ip6_bad_addresses),
        cmocka_unit_test(test_ip6_ext_chain),
        cmocka_unit_test(test_ip6_ext_short_and_fragment),
        cmocka_unit_test(test_ip_roundtrip_v4),
        cmocka_unit_test(test_ip_roundtrip_v6),
        cmocka_unit_test(test_wire_strerror),
    };
    return cmocka_run_group_tests_name("wire_ip", tests, NULL, NULL);
}
