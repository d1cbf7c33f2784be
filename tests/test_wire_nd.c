/*
 * Unit tests for neighbour discovery messages: the Linux kernel's
 * solicitation, advertisement and router solicitation (vectors.h,
 * test_wire_icmp.c's capture) parsed field by field and re-emitted byte
 * for byte, router advertisements round-tripped, and each of RFC 4861's
 * validity rules refused.
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
#include "wire/nd.h"
#include "wire/wire.h"
#include "vectors.h"

static const uint8_t kmac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x01};

/* fe80::6ba2:4bd3:b445:5b5f -> ff02::2 router solicitation (Linux, tun). */
static const char rs6_hex[] = "6000000000083afffe800000000000006ba24bd3b4455b5fff0200000000"
                              "000000000000000000028500b61c00000000";

/* The IPv6 packet of a captured frame, parsed; returns its length. */
static size_t ip6_of(const char *hex, uint8_t *p, size_t cap, struct ip_repr *ip)
{
    uint8_t f[256];
    size_t n = unhex(hex, f, sizeof(f));

    assert_true(n - 14 <= cap);
    memcpy(p, f + 14, n - 14);
    assert_int_equal(ip_parse(p, n - 14, ip), IP6_HDR_LEN);
    assert_int_equal(ip->proto, IPPROTO_ICMP6_);
    return n - 14;
}

/* Re-checksums a message edited in place. */
static void fix(const struct ip_repr *ip, uint8_t *msg, size_t len)
{
    icmp_cksum_set(ip, msg, len);
}

static void test_captured_ns(void **state)
{
    uint8_t p[128], out[128];
    struct ip_repr ip;
    size_t n = ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    struct nd_repr nd;
    struct tcpc_addr target;

    (void)state;
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), 0);
    assert_int_equal(nd.type, ND_NEIGHBOR_SOLICIT);
    assert_int_equal(tcpc_addr_parse("2001:db8::2", &target), 0);
    assert_true(tcpc_addr_eq(&nd.target, &target));
    assert_true(nd.has_lladdr);
    assert_memory_equal(nd.lladdr.bytes, kmac, 6);
    /* The kernel sent it to the target's solicited-node group. */
    struct tcpc_addr g = nd_solicited_node(&target);
    assert_true(tcpc_addr_eq(&g, &ip.dst));
    assert_true(nd_is_solicited_node(&ip.dst));
    /* Emitting the same message gives the kernel's bytes. */
    assert_int_equal(nd_emit_packet(&ip, &nd, out, sizeof(out)), (int)n);
    assert_memory_equal(out, p, n);
}

static void test_captured_na(void **state)
{
    uint8_t p[128], out[128];
    struct ip_repr ip;
    size_t n = ip6_of(linux_na_hex, p, sizeof(p), &ip);
    struct nd_repr nd;

    (void)state;
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), 0);
    assert_int_equal(nd.type, ND_NEIGHBOR_ADVERT);
    assert_int_equal(nd.flags, ND_NA_SOLICITED | ND_NA_OVERRIDE);
    assert_true(tcpc_addr_eq(&nd.target, &ip.src));
    assert_true(nd.has_lladdr);
    assert_memory_equal(nd.lladdr.bytes, kmac, 6);
    ip.ttl = 64; /* emission forces 255 whatever it is told */
    assert_int_equal(nd_emit_packet(&ip, &nd, out, sizeof(out)), (int)n);
    assert_memory_equal(out, p, n);
    assert_int_equal(nd_emit_packet(&ip, &nd, out, n - 1), -WIRE_NOSPACE);
}

static void test_captured_rs(void **state)
{
    uint8_t p[64], out[64];
    size_t n = unhex(rs6_hex, p, sizeof(p));
    struct ip_repr ip;
    struct nd_repr nd;

    (void)state;
    assert_int_equal(ip_parse(p, n, &ip), 40);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), 0);
    assert_int_equal(nd.type, ND_ROUTER_SOLICIT);
    assert_false(nd.has_lladdr);
    assert_int_equal(nd_emit_packet(&ip, &nd, out, sizeof(out)), (int)n);
    assert_memory_equal(out, p, n);
}

static void test_ra_roundtrip(void **state)
{
    uint8_t p[128];
    struct ip_repr ip = {.version = 6, .ttl = 255}, got;
    struct nd_repr ra = {.type = ND_ROUTER_ADVERT,
                         .flags = ND_RA_OTHER,
                         .has_lladdr = true,
                         .lladdr = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x01}},
                         .cur_hop_limit = 64,
                         .router_lifetime = 1800,
                         .reachable_time = 30000,
                         .retrans_timer = 1000,
                         .mtu = 1500};
    struct nd_repr nd;

    (void)state;
    assert_int_equal(tcpc_addr_parse("fe80::1", &ip.src), 0);
    ip.dst = nd_all_nodes();
    int n = nd_emit_packet(&ip, &ra, p, sizeof(p));
    assert_int_equal(n, 40 + 16 + 8 + 8);
    assert_int_equal(ip_parse(p, (size_t)n, &got), 40);
    assert_int_equal(nd_parse(&got, p + 40, got.payload_len, &nd), 0);
    assert_int_equal(nd.type, ND_ROUTER_ADVERT);
    assert_int_equal(nd.flags, ND_RA_OTHER);
    assert_int_equal(nd.cur_hop_limit, 64);
    assert_int_equal(nd.router_lifetime, 1800);
    assert_int_equal(nd.reachable_time, 30000);
    assert_int_equal(nd.retrans_timer, 1000);
    assert_int_equal(nd.mtu, 1500);
    assert_true(nd.has_lladdr);
    assert_memory_equal(nd.lladdr.bytes, ra.lladdr.bytes, 6);
    /* RFC 4861 6.1.2: only from a link-local address. */
    assert_int_equal(tcpc_addr_parse("2001:db8::1", &ip.src), 0);
    n = nd_emit_packet(&ip, &ra, p, sizeof(p));
    assert_int_equal(ip_parse(p, (size_t)n, &got), 40);
    assert_int_equal(nd_parse(&got, p + 40, got.payload_len, &nd), -WIRE_ND_INVALID);
}

static void test_hoplimit_code_sum(void **state)
{
    uint8_t p[128];
    struct ip_repr ip;
    struct nd_repr nd;

    (void)state;
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    ip.ttl = 254; /* forwarded by a router: not from this link */
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_HOPLIMIT);
    ip.ttl = 255;
    p[41] = 1;
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_INVALID);
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    p[50] ^= 0x40;
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ICMP_BADSUM);
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    assert_int_equal(nd_parse(&ip, p + 40, 23, &nd), -WIRE_ND_SHORT);
    assert_int_equal(nd_parse(&ip, p + 40, 0, &nd), -WIRE_ND_NOTND);
    p[40] = ICMP6_ECHO_REQUEST;
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_NOTND);
    assert_false(nd_is_nd_type(137)); /* redirects are not handled */
}

static void test_options(void **state)
{
    uint8_t p[128];
    struct ip_repr ip;
    struct nd_repr nd;

    (void)state;
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    p[40 + 25] = 0; /* option length 0 (RFC 4861 4.6) */
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_BADOPT);
    p[40 + 25] = 2; /* runs past the message */
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_BADOPT);
    /* One stray byte after the option. */
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    p[40 + 32] = 0;
    fix(&ip, p + 40, 33);
    assert_int_equal(nd_parse(&ip, p + 40, 33, &nd), -WIRE_ND_BADOPT);
    /* An unknown option is skipped; a target link-layer option in a
     * solicitation is not the source one. */
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    p[40 + 24] = 2;
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), 0);
    assert_false(nd.has_lladdr);
    /* No options at all. */
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    fix(&ip, p + 40, 24);
    assert_int_equal(nd_parse(&ip, p + 40, 24, &nd), 0);
    assert_false(nd.has_lladdr);
}

static void test_validity_rules(void **state)
{
    uint8_t p[128];
    struct ip_repr ip;
    struct nd_repr nd;

    (void)state;
    /* A multicast target (7.1.1). */
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    p[40 + 8] = 0xff;
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_INVALID);
    /* DAD (unspecified source): allowed to the solicited-node group
     * without a source link-layer option, refused with one. */
    ip6_of(linux_ns_hex, p, sizeof(p), &ip);
    memset(ip.src.bytes, 0, 16);
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_INVALID);
    fix(&ip, p + 40, 24);
    assert_int_equal(nd_parse(&ip, p + 40, 24, &nd), 0);
    ip.dst = nd_all_nodes();
    fix(&ip, p + 40, 24);
    assert_int_equal(nd_parse(&ip, p + 40, 24, &nd), -WIRE_ND_INVALID);
    /* A solicited advertisement to a multicast group (7.1.2). */
    ip6_of(linux_na_hex, p, sizeof(p), &ip);
    ip.dst = nd_all_nodes();
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_INVALID);
    p[44] = ND_NA_OVERRIDE; /* unsolicited is fine */
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), 0);
    assert_int_equal(nd.flags, ND_NA_OVERRIDE);
    /* An advertisement with a multicast target. */
    p[48] = 0xff;
    fix(&ip, p + 40, ip.payload_len);
    assert_int_equal(nd_parse(&ip, p + 40, ip.payload_len, &nd), -WIRE_ND_INVALID);
}

static void test_groups(void **state)
{
    struct tcpc_addr a, want;

    (void)state;
    assert_int_equal(tcpc_addr_parse("2001:db8::abcd:1234:5678", &a), 0);
    assert_int_equal(tcpc_addr_parse("ff02::1:ff34:5678", &want), 0);
    a = nd_solicited_node(&a);
    assert_true(tcpc_addr_eq(&a, &want));
    assert_true(nd_is_solicited_node(&a));
    assert_int_equal(tcpc_addr_parse("ff02::1", &want), 0);
    a = nd_all_nodes();
    assert_true(tcpc_addr_eq(&a, &want));
    assert_false(nd_is_solicited_node(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_ns),       cmocka_unit_test(test_captured_na),
        cmocka_unit_test(test_captured_rs),       cmocka_unit_test(test_ra_roundtrip),
        cmocka_unit_test(test_hoplimit_code_sum), cmocka_unit_test(test_options),
        cmocka_unit_test(test_validity_rules),    cmocka_unit_test(test_groups),
    };
    return cmocka_run_group_tests_name("wire_nd", tests, NULL, NULL);
}
