/*
 * Unit tests for ICMP error parsing and emission. Known answers are errors
 * the Linux kernel sent (port unreachable for UDP to a closed port, and a
 * router solicitation, captured off a tun device); the rest are built with
 * icmp_emit_packet around crafted quotes, one per refusal reason. Echo
 * requests and replies are the kernel's too (captured on a veth pair,
 * vectors.h), and our replies must match its bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/bytes.h"
#include "wire/cksum.h"
#include "wire/icmp.h"
#include "wire/ip.h"
#include "wire/wire.h"
#include "vectors.h"

/* 198.19.0.1 -> 198.19.0.2 port unreachable, quoting UDP 40000 -> 9. */
static const char unreach4_hex[] = "45c00040660c0000400187c7c6130001c61300020303a74800000000"
                                   "450000241234400040119c6bc6130002c61300019c400009001000007463"
                                   "70636f726521";
/* 2001:db8:1::1 -> 2001:db8:1::2 port unreachable, quoting UDP 40001 -> 9. */
static const char unreach6_hex[] =
    "6000688000403a4020010db800010000000000000000000120010db800010000"
    "0000000000000002010431db00000000600000000010114020010db800010000"
    "000000000000000220010db80001000000000000000000019c41000900104eb2"
    "746370636f726521";
/* fe80::6ba2:4bd3:b445:5b5f -> ff02::2 router solicitation. */
static const char rs6_hex[] = "6000000000083afffe800000000000006ba24bd3b4455b5fff0200000000"
                              "000000000000000000028500b61c00000000";

/* The outer header of an error from a router back to the SYN's sender. */
static struct ip_repr router4(void)
{
    return (struct ip_repr){
        .src = tcpc_addr_v4(0xcb007101), .dst = tcpc_addr_v4(0xc6120001), .version = 4, .ttl = 255};
}

static struct ip_repr router6(void)
{
    uint8_t r[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 0xfe};
    uint8_t h[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

    return (struct ip_repr){
        .src = tcpc_addr_v6(r), .dst = tcpc_addr_v6(h), .version = 6, .ttl = 255};
}

/* Emits an error around quote and parses it back through IP and ICMP. */
static int emit_parse(const struct ip_repr *ip, uint8_t type, uint8_t code, uint32_t mtu,
                      const uint8_t *quote, size_t quotelen, struct icmp_repr *out)
{
    uint8_t p[1500];
    struct ip_repr outer;
    int len = icmp_emit_packet(ip, type, code, mtu, quote, quotelen, p, sizeof(p));

    assert_true(len > 0);
    assert_int_equal(ip_parse(p, (size_t)len, &outer), ip_header_len(ip));
    assert_int_equal(outer.proto, ip->version == 6 ? IPPROTO_ICMP6_ : IPPROTO_ICMP_);
    return icmp_parse(&outer, p + outer.hdrlen, outer.payload_len, out);
}

static void test_captured_unreach4(void **state)
{
    uint8_t p[128];
    size_t n = unhex(unreach4_hex, p, sizeof(p));
    struct ip_repr ip;
    struct icmp_repr ic;

    (void)state;
    assert_int_equal(ip_parse(p, n, &ip), 20);
    assert_int_equal(ip.proto, IPPROTO_ICMP_);
    assert_int_equal(icmp_parse(&ip, p + 20, ip.payload_len, &ic), 0);
    assert_int_equal(ic.kind, ICMP_KIND_UNREACH);
    assert_int_equal(ic.type, 3);
    assert_int_equal(ic.code, 3);
    assert_int_equal(ic.mtu, 0);
    assert_int_equal(ic.quoted_proto, 17);
    assert_int_equal(tcpc_addr_v4_host(&ic.quoted_src), 0xc6130002);
    assert_int_equal(tcpc_addr_v4_host(&ic.quoted_dst), 0xc6130001);
    assert_int_equal(ic.quoted_sport, 40000);
    assert_int_equal(ic.quoted_dport, 9);
    /* Known answer: the kernel's checksum over the message. */
    put_be16(p + 22, 0);
    assert_int_equal(cksum_finish(cksum_add(0, p + 20, ip.payload_len)), 0xa748);
}

static void test_captured_unreach6(void **state)
{
    uint8_t p[128];
    size_t n = unhex(unreach6_hex, p, sizeof(p));
    struct ip_repr ip;
    struct icmp_repr ic;
    uint32_t sum;

    (void)state;
    assert_int_equal(n, 104);
    assert_int_equal(ip_parse(p, n, &ip), 40);
    assert_int_equal(ip.proto, IPPROTO_ICMP6_);
    assert_int_equal(icmp_parse(&ip, p + 40, ip.payload_len, &ic), 0);
    assert_int_equal(ic.kind, ICMP_KIND_UNREACH);
    assert_int_equal(ic.type, 1);
    assert_int_equal(ic.code, 4);
    assert_int_equal(ic.quoted_proto, 17);
    assert_memory_equal(ic.quoted_src.bytes, p + 48 + 8, 16);
    assert_memory_equal(ic.quoted_dst.bytes, p + 48 + 24, 16);
    assert_int_equal(ic.quoted_sport, 40001);
    assert_int_equal(ic.quoted_dport, 9);
    /* Known answer: ICMPv6 sums the pseudo-header too. */
    put_be16(p + 42, 0);
    sum = cksum_pseudo(&ip.src, &ip.dst, IPPROTO_ICMP6_, ip.payload_len);
    assert_int_equal(cksum_finish(cksum_add(sum, p + 40, ip.payload_len)), 0x31db);
}

static void test_not_errors(void **state)
{
    uint8_t p[128], syn[64];
    size_t n = unhex(rs6_hex, p, sizeof(p));
    size_t sn = unhex(syn4_hex, syn, sizeof(syn));
    struct ip_repr ip = router4(), ip6 = router6();
    struct icmp_repr ic;

    (void)state;
    assert_int_equal(ip_parse(p, n, &ip), 40);
    assert_int_equal(icmp_parse(&ip, p + 40, ip.payload_len, &ic), -WIRE_ICMP_NOTERROR);
    ip = router4();
    assert_int_equal(emit_parse(&ip, 8, 0, 0, syn, sn, &ic), -WIRE_ICMP_NOTERROR); /* echo */
    /* Time exceeded in reassembly concerns fragments; in transit is ours. */
    assert_int_equal(emit_parse(&ip, 11, 1, 0, syn, sn, &ic), -WIRE_ICMP_NOTERROR);
    assert_true(emit_parse(&ip, 11, 0, 0, syn, sn, &ic) >= 0);
    assert_int_equal(ic.kind, ICMP_KIND_TIMXCEED);
    assert_int_equal(emit_parse(&ip, 5, 1, 0, syn, sn, &ic), -WIRE_ICMP_NOTERROR);
    /* The same numbers mean other things in the other family. */
    assert_int_equal(emit_parse(&ip, 1, 0, 0, syn, sn, &ic), -WIRE_ICMP_NOTERROR);
    assert_int_equal(emit_parse(&ip6, 3, 1, 0, syn, sn, &ic), -WIRE_ICMP_NOTERROR);
    assert_int_equal(emit_parse(&ip6, 4, 0, 0, syn, sn, &ic), -WIRE_ICMP_NOTERROR);
    assert_int_equal(emit_parse(&ip6, 128, 0, 0, syn, sn, &ic), -WIRE_ICMP_NOTERROR);
}

static void test_needfrag4_roundtrip(void **state)
{
    uint8_t syn[64];
    size_t sn = unhex(syn4_hex, syn, sizeof(syn));
    struct ip_repr ip = router4();
    struct icmp_repr ic;

    (void)state;
    /* RFC 792 quoting: the IP header and 8 bytes, nothing more. */
    assert_int_equal(emit_parse(&ip, ICMP4_UNREACH, ICMP4_UNREACH_NEEDFRAG, 1400, syn, 28, &ic), 0);
    assert_int_equal(ic.kind, ICMP_KIND_NEEDFRAG);
    assert_int_equal(ic.mtu, 1400);
    assert_int_equal(ic.quoted_proto, IPPROTO_TCP_);
    assert_int_equal(tcpc_addr_v4_host(&ic.quoted_src), 0xc6120001);
    assert_int_equal(tcpc_addr_v4_host(&ic.quoted_dst), 0xc6120002);
    assert_int_equal(ic.quoted_sport, 34140);
    assert_int_equal(ic.quoted_dport, 80);
    assert_int_equal(ic.quoted_seq, 0x7a21727f);
    /* Its length is the whole SYN's, though only 28 bytes were quoted. */
    assert_int_equal(ic.quoted_len, sn);
    /* Every other unreachable code is plain UNREACH without an MTU. */
    for (uint8_t code = 0; code < 16; code++) {
        if (code == ICMP4_UNREACH_NEEDFRAG)
            continue;
        assert_int_equal(emit_parse(&ip, ICMP4_UNREACH, code, 0, syn, sn, &ic), 0);
        assert_int_equal(ic.kind, ICMP_KIND_UNREACH);
        assert_int_equal(ic.code, code);
        assert_int_equal(ic.mtu, 0);
        assert_int_equal(ic.quoted_seq, 0x7a21727f);
    }
}

static void test_v6_roundtrip(void **state)
{
    uint8_t syn[96];
    size_t sn = unhex(syn6_hex, syn, sizeof(syn));
    struct ip_repr ip = router6();
    struct icmp_repr ic;

    (void)state;
    assert_int_equal(emit_parse(&ip, ICMP6_PACKET_TOO_BIG, 0, 1280, syn, sn, &ic), 0);
    assert_int_equal(ic.kind, ICMP_KIND_NEEDFRAG);
    assert_int_equal(ic.mtu, 1280);
    assert_int_equal(ic.quoted_proto, IPPROTO_TCP_);
    assert_memory_equal(ic.quoted_src.bytes, syn + 8, 16);
    assert_memory_equal(ic.quoted_dst.bytes, syn + 24, 16);
    assert_int_equal(ic.quoted_sport, 59320);
    assert_int_equal(ic.quoted_dport, 80);
    assert_int_equal(ic.quoted_seq, 0x3e2fdba3);
    assert_int_equal(ic.quoted_len, sn); /* fixed header + payload length */
    /* The MTU field is 32 bits wide in ICMPv6. */
    assert_int_equal(emit_parse(&ip, ICMP6_PACKET_TOO_BIG, 0, 0x10000, syn, 48, &ic), 0);
    assert_int_equal(ic.mtu, 0x10000);
    assert_int_equal(emit_parse(&ip, ICMP6_UNREACH, 1, 0, syn, 48, &ic), 0);
    assert_int_equal(ic.kind, ICMP_KIND_UNREACH);
    assert_int_equal(ic.code, 1);
    assert_int_equal(ic.mtu, 0);
}

static void test_v6_quote_with_ext_header(void **state)
{
    uint8_t q[96] = {0};
    struct ip_repr ip = router6();
    struct icmp_repr ic;

    (void)state;
    q[0] = 0x60;
    q[6] = 60; /* destination options, 16 bytes, then TCP */
    q[8] = 0x20, q[9] = 0x01, q[23] = 1;
    q[24] = 0x20, q[25] = 0x01, q[39] = 2;
    q[40] = IPPROTO_TCP_;
    q[41] = 1;
    put_be16(q + 56, 1234);
    put_be16(q + 58, 80);
    put_be32(q + 60, 0xabcdef01);
    assert_int_equal(emit_parse(&ip, ICMP6_UNREACH, 4, 0, q, 64, &ic), 0);
    assert_int_equal(ic.quoted_proto, IPPROTO_TCP_);
    assert_int_equal(ic.quoted_sport, 1234);
    assert_int_equal(ic.quoted_seq, 0xabcdef01);
    /* Truncated inside the extension header. */
    assert_int_equal(emit_parse(&ip, ICMP6_UNREACH, 4, 0, q, 50, &ic), -WIRE_ICMP_BADQUOTE);
    /* Truncated inside the TCP ports and sequence number. */
    assert_int_equal(emit_parse(&ip, ICMP6_UNREACH, 4, 0, q, 63, &ic), -WIRE_ICMP_BADQUOTE);
}

static void test_lenient_quote(void **state)
{
    uint8_t syn[64];
    struct ip_repr ip = router4();
    struct icmp_repr ic;

    (void)state;
    unhex(syn4_hex, syn, sizeof(syn));
    /* Routers may rewrite the quoted header (RFC 1812 4.3.2.3): a wrong
     * quoted checksum and a total length beyond the quote are fine. */
    put_be16(syn + 2, 1500);
    syn[10] ^= 0xff;
    assert_int_equal(emit_parse(&ip, ICMP4_UNREACH, 1, 0, syn, 28, &ic), 0);
    assert_int_equal(ic.quoted_sport, 34140);
    /* Quoted options are stepped over. */
    memmove(syn + 24, syn + 20, 8);
    syn[0] = 0x46;
    memset(syn + 20, 1, 4);
    assert_int_equal(emit_parse(&ip, ICMP4_UNREACH, 1, 0, syn, 32, &ic), 0);
    assert_int_equal(ic.quoted_dport, 80);
    assert_int_equal(ic.quoted_seq, 0x7a21727f);
}

static void test_bad_quotes(void **state)
{
    uint8_t syn[64], syn6[96], q[64];
    size_t sn6 = unhex(syn6_hex, syn6, sizeof(syn6));
    struct ip_repr ip = router4(), ip6 = router6();
    struct icmp_repr ic;

    (void)state;
    unhex(syn4_hex, syn, sizeof(syn));
    assert_int_equal(emit_parse(&ip, 3, 1, 0, syn, 27, &ic), -WIRE_ICMP_BADQUOTE);
    assert_int_equal(emit_parse(&ip, 3, 1, 0, syn, 19, &ic), -WIRE_ICMP_BADQUOTE);
    assert_int_equal(emit_parse(&ip, 3, 1, 0, syn, 0, &ic), -WIRE_ICMP_BADQUOTE);
    /* The wrong family quoted, either way round. */
    assert_int_equal(emit_parse(&ip, 3, 1, 0, syn6, sn6, &ic), -WIRE_ICMP_BADQUOTE);
    assert_int_equal(emit_parse(&ip6, 1, 1, 0, syn, 60, &ic), -WIRE_ICMP_BADQUOTE);
    assert_int_equal(emit_parse(&ip6, 1, 1, 0, syn6, 47, &ic), -WIRE_ICMP_BADQUOTE);
    assert_int_equal(emit_parse(&ip6, 1, 1, 0, syn6, 39, &ic), -WIRE_ICMP_BADQUOTE);
    /* A v4-mapped address in an IPv6 quote would name an IPv4 connection
     * (found by fuzz_icmp). */
    memset(syn6 + 8, 0, 10);
    syn6[18] = syn6[19] = 0xff;
    assert_int_equal(emit_parse(&ip6, 1, 1, 0, syn6, sn6, &ic), -WIRE_ICMP_BADQUOTE);
    unhex(syn6_hex, syn6, sizeof(syn6));
    memset(syn6 + 24, 0, 10);
    syn6[34] = syn6[35] = 0xff;
    assert_int_equal(emit_parse(&ip6, 1, 1, 0, syn6, sn6, &ic), -WIRE_ICMP_BADQUOTE);
    memcpy(q, syn, 28);
    q[0] = 0x44; /* quoted IHL below 5 */
    assert_int_equal(emit_parse(&ip, 3, 1, 0, q, 28, &ic), -WIRE_ICMP_BADQUOTE);
    q[0] = 0x4f; /* quoted IHL past the quote */
    assert_int_equal(emit_parse(&ip, 3, 1, 0, q, 28, &ic), -WIRE_ICMP_BADQUOTE);
    q[0] = 0x45;
    put_be16(q + 6, 0x0001); /* a later fragment: no TCP header in it */
    assert_int_equal(emit_parse(&ip, 3, 1, 0, q, 28, &ic), -WIRE_ICMP_BADQUOTE);
    put_be16(q + 6, 0x2000); /* a first fragment does carry it */
    assert_int_equal(emit_parse(&ip, 3, 1, 0, q, 28, &ic), 0);
}

static void test_short_and_badsum(void **state)
{
    uint8_t p[128];
    size_t n = unhex(unreach4_hex, p, sizeof(p));
    struct ip_repr ip;
    struct icmp_repr ic;

    (void)state;
    assert_int_equal(ip_parse(p, n, &ip), 20);
    assert_int_equal(icmp_parse(&ip, p + 20, 7, &ic), -WIRE_ICMP_SHORT);
    assert_int_equal(icmp_parse(&ip, p + 20, 0, &ic), -WIRE_ICMP_SHORT);
    p[30] ^= 0x01;
    assert_int_equal(icmp_parse(&ip, p + 20, ip.payload_len, &ic), -WIRE_ICMP_BADSUM);
    n = unhex(unreach6_hex, p, sizeof(p));
    assert_int_equal(ip_parse(p, n, &ip), 40);
    /* ICMPv6 sums the pseudo-header: another destination breaks it. */
    ip.dst.bytes[15] ^= 1;
    assert_int_equal(icmp_parse(&ip, p + 40, ip.payload_len, &ic), -WIRE_ICMP_BADSUM);
}

/* The IP packet of a captured Ethernet frame, parsed. */
static size_t ip_of_frame(const char *hex, uint8_t *p, size_t cap, struct ip_repr *ip)
{
    uint8_t f[256];
    size_t n = unhex(hex, f, sizeof(f));

    assert_true(n > 14 && n - 14 <= cap);
    memcpy(p, f + 14, n - 14);
    assert_true(ip_parse(p, n - 14, ip) > 0);
    return n - 14;
}

static void test_captured_echo_requests(void **state)
{
    uint8_t p[128];
    struct ip_repr ip;
    struct icmp_echo_repr e;
    struct icmp_repr ic;

    (void)state;
    ip_of_frame(linux_echo4_request_hex, p, sizeof(p), &ip);
    assert_int_equal(ip.proto, IPPROTO_ICMP_);
    assert_int_equal(icmp_echo_parse(&ip, p + 20, ip.payload_len, &e), 0);
    assert_int_equal(e.type, ICMP4_ECHO);
    assert_int_equal(e.id, 0xea0c);
    assert_int_equal(e.seq, 1);
    assert_int_equal(e.datalen, 12);
    assert_memory_equal(e.data, "tcpcore ping", 12);
    assert_int_equal(icmp_parse(&ip, p + 20, ip.payload_len, &ic), -WIRE_ICMP_NOTERROR);

    ip_of_frame(linux_echo6_request_hex, p, sizeof(p), &ip);
    assert_int_equal(ip.proto, IPPROTO_ICMP6_);
    assert_int_equal(icmp_echo_parse(&ip, p + 40, ip.payload_len, &e), 0);
    assert_int_equal(e.type, ICMP6_ECHO_REQUEST);
    assert_int_equal(e.id, 0xea0d);
    assert_int_equal(e.seq, 1);
    assert_int_equal(e.datalen, 12);
    assert_memory_equal(e.data, "tcpcore ping", 12);
}

/* Linux's replies, re-emitted from their parsed form, byte for byte. */
static void test_echo_reply_known_answers(void **state)
{
    const char *hex[] = {linux_echo4_reply_hex, linux_echo6_reply_hex};
    uint8_t p[128], out[128];

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct ip_repr ip;
        struct icmp_echo_repr e;
        size_t n = ip_of_frame(hex[i], p, sizeof(p), &ip);

        assert_int_equal(icmp_echo_parse(&ip, p + ip.hdrlen, ip.payload_len, &e), 0);
        assert_int_equal(e.type, i == 0 ? ICMP4_ECHOREPLY : ICMP6_ECHO_REPLY);
        assert_int_equal(e.id, 0x1234);
        assert_int_equal(e.seq, 1);
        assert_int_equal(icmp_echo_emit_packet(&ip, &e, out, sizeof(out)), (int)n);
        assert_memory_equal(out, p, n);
        assert_int_equal(icmp_echo_emit_packet(&ip, &e, out, n - 1), -WIRE_NOSPACE);
    }
}

static void test_echo_in_place(void **state)
{
    uint8_t p[128];
    struct ip_repr ip, back;
    struct icmp_echo_repr e;

    (void)state;
    /* The reply may be built over the request it answers. */
    size_t n = ip_of_frame(linux_echo4_request_hex, p, sizeof(p), &ip);
    assert_int_equal(icmp_echo_parse(&ip, p + 20, ip.payload_len, &e), 0);
    struct tcpc_addr t = ip.src;
    ip.src = ip.dst;
    ip.dst = t;
    e.type = ICMP4_ECHOREPLY;
    assert_int_equal(icmp_echo_emit_packet(&ip, &e, p, sizeof(p)), (int)n);
    assert_int_equal(ip_parse(p, n, &back), 20);
    assert_int_equal(icmp_echo_parse(&back, p + 20, back.payload_len, &e), 0);
    assert_int_equal(e.type, ICMP4_ECHOREPLY);
    assert_int_equal(e.id, 0xea0c);
    assert_memory_equal(e.data, "tcpcore ping", 12);
    assert_int_equal(tcpc_addr_v4_host(&back.dst), 0xc6120001);
}

static void test_echo_refusals(void **state)
{
    uint8_t p[128];
    struct ip_repr ip;
    struct icmp_echo_repr e;

    (void)state;
    ip_of_frame(linux_echo4_request_hex, p, sizeof(p), &ip);
    assert_int_equal(icmp_echo_parse(&ip, p + 20, 7, &e), -WIRE_ICMP_SHORT);
    p[30] ^= 1;
    assert_int_equal(icmp_echo_parse(&ip, p + 20, ip.payload_len, &e), -WIRE_ICMP_BADSUM);
    /* The other family's echo numbers are not echo here. */
    p[20] = ICMP6_ECHO_REQUEST;
    assert_int_equal(icmp_echo_parse(&ip, p + 20, ip.payload_len, &e), -WIRE_ICMP_NOTECHO);
    size_t n = unhex(unreach4_hex, p, sizeof(p));
    assert_int_equal(ip_parse(p, n, &ip), 20);
    assert_int_equal(icmp_echo_parse(&ip, p + 20, ip.payload_len, &e), -WIRE_ICMP_NOTECHO);
    ip_of_frame(linux_echo6_request_hex, p, sizeof(p), &ip);
    p[40] = ICMP4_ECHO;
    assert_int_equal(icmp_echo_parse(&ip, p + 40, ip.payload_len, &e), -WIRE_ICMP_NOTECHO);
}

static void test_emit_limits(void **state)
{
    static uint8_t big[2000];
    uint8_t p[1600];
    struct ip_repr ip = router4(), ip6 = router6();

    (void)state;
    /* The quote is cut so the error stays within 576 / 1280 bytes. */
    assert_int_equal(icmp_emit_packet(&ip, 3, 1, 0, big, sizeof(big), p, sizeof(p)), 576);
    assert_int_equal(icmp_emit_packet(&ip6, 1, 1, 0, big, sizeof(big), p, sizeof(p)), 1280);
    assert_int_equal(icmp_emit_packet(&ip, 3, 1, 0, big, 28, p, 20 + 8 + 27), -WIRE_NOSPACE);
    assert_int_equal(icmp_emit_packet(&ip6, 1, 1, 0, big, 48, p, 40 + 8 + 47), -WIRE_NOSPACE);
    assert_int_equal(icmp_emit_packet(&ip, 3, 1, 0, big, 28, p, 20 + 8 + 28), 56);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_unreach4),
        cmocka_unit_test(test_captured_unreach6),
        cmocka_unit_test(test_not_errors),
        cmocka_unit_test(test_needfrag4_roundtrip),
        cmocka_unit_test(test_v6_roundtrip),
        cmocka_unit_test(test_v6_quote_with_ext_header),
        cmocka_unit_test(test_lenient_quote),
        cmocka_unit_test(test_bad_quotes),
        cmocka_unit_test(test_short_and_badsum),
        cmocka_unit_test(test_emit_limits),
        cmocka_unit_test(test_captured_echo_requests),
        cmocka_unit_test(test_echo_reply_known_answers),
        cmocka_unit_test(test_echo_in_place),
        cmocka_unit_test(test_echo_refusals),
    };
    return cmocka_run_group_tests_name("wire_icmp", tests, NULL, NULL);
}
