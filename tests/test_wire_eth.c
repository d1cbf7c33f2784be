/*
 * Unit tests for Ethernet II framing: known answers from frames the Linux
 * kernel sent on a veth pair (vectors.h), the 802.1Q tag, every refusal
 * reason, emission and the IPv6 multicast mapping (RFC 2464 section 7).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/bytes.h"
#include "wire/eth.h"
#include "wire/wire.h"
#include "vectors.h"

static const uint8_t kmac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x01};
static const uint8_t pmac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x02};

static void test_captured_broadcast_arp(void **state)
{
    uint8_t f[64];
    size_t n = unhex(linux_arp_request_hex, f, sizeof(f));
    struct eth_repr e;

    (void)state;
    assert_int_equal(eth_parse(f, n, &e), ETH_HDR_LEN);
    assert_true(eth_addr_is_broadcast(&e.dst));
    assert_true(eth_addr_is_group(&e.dst));
    assert_memory_equal(e.src.bytes, kmac, 6);
    assert_int_equal(e.type, ETHERTYPE_ARP);
    assert_false(e.tagged);
    assert_int_equal(e.hdrlen, 14);
}

static void test_captured_ns_multicast(void **state)
{
    uint8_t f[128];
    size_t n = unhex(linux_ns_hex, f, sizeof(f));
    struct eth_repr e;
    struct tcpc_addr group;

    (void)state;
    assert_int_equal(eth_parse(f, n, &e), ETH_HDR_LEN);
    assert_int_equal(e.type, ETHERTYPE_IPV6);
    assert_true(eth_addr_is_group(&e.dst));
    assert_false(eth_addr_is_broadcast(&e.dst));
    /* The kernel's own mapping of the IPv6 destination, ff02::1:ff00:2. */
    memcpy(group.bytes, f + 14 + 24, 16);
    struct tcpc_ether_addr m = eth_mcast_ip6(&group);
    assert_memory_equal(m.bytes, e.dst.bytes, 6);
    assert_memory_equal(m.bytes, "\x33\x33\xff\x00\x00\x02", 6);
}

static void test_captured_unicast(void **state)
{
    uint8_t f[128];
    size_t n = unhex(linux_echo4_request_hex, f, sizeof(f));
    struct eth_repr e;

    (void)state;
    assert_int_equal(eth_parse(f, n, &e), ETH_HDR_LEN);
    assert_memory_equal(e.dst.bytes, pmac, 6);
    assert_memory_equal(e.src.bytes, kmac, 6);
    assert_int_equal(e.type, ETHERTYPE_IP);
    assert_false(eth_addr_is_group(&e.dst));
}

/* The captured echo request with an 802.1Q tag (priority 5, VID 100)
 * inserted after the addresses, as a switch trunk port would deliver it. */
static size_t tagged_frame(uint8_t *f, size_t cap, uint16_t tpid)
{
    uint8_t plain[128];
    size_t n = unhex(linux_echo4_request_hex, plain, sizeof(plain));

    assert_true(n + 4 <= cap);
    memcpy(f, plain, 12);
    put_be16(f + 12, tpid);
    put_be16(f + 14, 5u << 13 | 100);
    memcpy(f + 16, plain + 12, n - 12);
    return n + 4;
}

static void test_vlan_tag(void **state)
{
    uint8_t f[160], out[32];
    size_t n = tagged_frame(f, sizeof(f), ETHERTYPE_VLAN);
    struct eth_repr e;

    (void)state;
    assert_int_equal(eth_parse(f, n, &e), 18);
    assert_true(e.tagged);
    assert_int_equal(ETH_VLAN_VID(e.vlan_tci), 100);
    assert_int_equal(e.vlan_tci >> 13, 5);
    assert_int_equal(e.type, ETHERTYPE_IP);
    /* The payload starts at hdrlen: the IPv4 header's first byte. */
    assert_int_equal(f[e.hdrlen], 0x45);
    /* Emission writes the tag back. */
    assert_int_equal(eth_emit(&e, out, sizeof(out)), 18);
    assert_memory_equal(out, f, 18);
    /* 802.1ad (service tag) is parsed the same way. */
    n = tagged_frame(f, sizeof(f), ETHERTYPE_QINQ);
    assert_int_equal(eth_parse(f, n, &e), 18);
    assert_true(e.tagged);
    assert_int_equal(e.type, ETHERTYPE_IP);
    /* A tag cut short. */
    assert_int_equal(eth_parse(f, 17, &e), -WIRE_ETH_SHORT);
}

static void test_refusals(void **state)
{
    uint8_t f[64];
    size_t n = unhex(linux_arp_request_hex, f, sizeof(f));
    struct eth_repr e;

    (void)state;
    assert_int_equal(eth_parse(f, 13, &e), -WIRE_ETH_SHORT);
    assert_int_equal(eth_parse(f, 0, &e), -WIRE_ETH_SHORT);
    assert_int_equal(eth_parse(f, 14, &e), 14); /* an empty payload is the caller's problem */
    f[6] |= 1;                                  /* a group source */
    assert_int_equal(eth_parse(f, n, &e), -WIRE_ETH_BADSRC);
    memset(f + 6, 0xff, 6);
    assert_int_equal(eth_parse(f, n, &e), -WIRE_ETH_BADSRC);
}

static void test_emit(void **state)
{
    uint8_t f[64], out[64];
    size_t n = unhex(linux_arp_request_hex, f, sizeof(f));
    struct eth_repr e;

    (void)state;
    assert_int_equal(eth_parse(f, n, &e), 14);
    assert_int_equal(eth_emit(&e, out, sizeof(out)), 14);
    assert_memory_equal(out, f, 14);
    assert_int_equal(eth_emit(&e, out, 13), -WIRE_NOSPACE);
    e.tagged = true;
    assert_int_equal(eth_emit(&e, out, 17), -WIRE_NOSPACE);
}

static void test_mcast_mapping(void **state)
{
    struct tcpc_addr all;
    struct tcpc_ether_addr m;

    (void)state;
    assert_int_equal(tcpc_addr_parse("ff02::1", &all), 0);
    m = eth_mcast_ip6(&all);
    assert_memory_equal(m.bytes, "\x33\x33\x00\x00\x00\x01", 6);
    assert_int_equal(tcpc_addr_parse("ff02::1:ffab:cdef", &all), 0);
    m = eth_mcast_ip6(&all);
    assert_memory_equal(m.bytes, "\x33\x33\xff\xab\xcd\xef", 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_broadcast_arp),
        cmocka_unit_test(test_captured_ns_multicast),
        cmocka_unit_test(test_captured_unicast),
        cmocka_unit_test(test_vlan_tag),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_mcast_mapping),
    };
    return cmocka_run_group_tests_name("wire_eth", tests, NULL, NULL);
}
