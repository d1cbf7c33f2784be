/*
 * Unit tests for ARP parsing and emission: the Linux kernel's request and
 * reply (vectors.h) field by field and re-emitted byte for byte, the frame
 * padding, the address probe, and every refusal reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/eth.h"
#include "wire/wire.h"
#include "vectors.h"

static const uint8_t kmac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x01};
static const uint8_t pmac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x02};

/* The ARP packet of a captured frame, in p (at least 64 bytes). */
static size_t arp_of(const char *hex, uint8_t *p)
{
    uint8_t f[64];
    size_t n = unhex(hex, f, sizeof(f));

    assert_int_equal(n, 14 + ARP_LEN);
    memcpy(p, f + 14, ARP_LEN);
    return ARP_LEN;
}

static void test_captured_request(void **state)
{
    uint8_t p[64], out[ARP_LEN];
    size_t n = arp_of(linux_arp_request_hex, p);
    struct arp_repr a;

    (void)state;
    assert_int_equal(arp_parse(p, n, &a), ARP_LEN);
    assert_int_equal(a.op, ARPOP_REQUEST);
    assert_memory_equal(a.sha.bytes, kmac, 6);
    assert_true(eth_addr_is_zero(&a.tha)); /* Linux leaves it zero in requests */
    assert_true(tcpc_addr_is_v4(&a.spa));
    assert_int_equal(tcpc_addr_v4_host(&a.spa), 0xc6120001);
    assert_int_equal(tcpc_addr_v4_host(&a.tpa), 0xc6120002);
    assert_int_equal(arp_emit(&a, out, sizeof(out)), ARP_LEN);
    assert_memory_equal(out, p, ARP_LEN);
}

static void test_captured_reply(void **state)
{
    uint8_t p[64], out[ARP_LEN];
    size_t n = arp_of(linux_arp_reply_hex, p);
    struct arp_repr a;

    (void)state;
    assert_int_equal(arp_parse(p, n, &a), ARP_LEN);
    assert_int_equal(a.op, ARPOP_REPLY);
    assert_memory_equal(a.sha.bytes, kmac, 6);
    assert_memory_equal(a.tha.bytes, pmac, 6);
    assert_int_equal(tcpc_addr_v4_host(&a.spa), 0xc6120001);
    assert_int_equal(tcpc_addr_v4_host(&a.tpa), 0xc6120002);
    assert_int_equal(arp_emit(&a, out, sizeof(out)), ARP_LEN);
    assert_memory_equal(out, p, ARP_LEN);
    assert_int_equal(arp_emit(&a, out, ARP_LEN - 1), -WIRE_NOSPACE);
}

static void test_padding_and_probe(void **state)
{
    uint8_t p[64];
    struct arp_repr a;

    (void)state;
    /* A NIC pads the frame to 60 bytes: 18 zero bytes after the packet. */
    arp_of(linux_arp_request_hex, p);
    memset(p + ARP_LEN, 0, 18);
    assert_int_equal(arp_parse(p, ARP_LEN + 18, &a), ARP_LEN);
    /* An address probe (RFC 5227 2.1.1): sender IP 0.0.0.0. */
    put_be32(p + 14, 0);
    assert_int_equal(arp_parse(p, ARP_LEN, &a), ARP_LEN);
    assert_true(tcpc_addr_is_any(&a.spa));
}

static void test_refusals(void **state)
{
    uint8_t p[64];
    struct arp_repr a;
    struct {
        size_t off;
        uint8_t val;
        int err;
    } cases[] = {
        {1, 6, -WIRE_ARP_BADFORMAT},    /* hardware type 6 (IEEE 802) */
        {2, 0x86, -WIRE_ARP_BADFORMAT}, /* protocol type 0x86dd */
        {4, 8, -WIRE_ARP_BADFORMAT},    /* hardware length */
        {5, 16, -WIRE_ARP_BADFORMAT},   /* protocol length */
        {7, 3, -WIRE_ARP_BADOP},        /* RARP request */
        {7, 0, -WIRE_ARP_BADOP},        {8, 0x01, -WIRE_ARP_BADADDR}, /* multicast sender MAC */
        {14, 224, -WIRE_ARP_BADADDR},                                 /* multicast sender IP */
    };

    (void)state;
    arp_of(linux_arp_request_hex, p);
    assert_int_equal(arp_parse(p, ARP_LEN - 1, &a), -WIRE_ARP_SHORT);
    assert_int_equal(arp_parse(p, 0, &a), -WIRE_ARP_SHORT);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        arp_of(linux_arp_request_hex, p);
        p[cases[i].off] = cases[i].val;
        assert_int_equal(arp_parse(p, ARP_LEN, &a), cases[i].err);
    }
    arp_of(linux_arp_request_hex, p);
    put_be32(p + 14, 0xffffffffu); /* limited broadcast as sender */
    assert_int_equal(arp_parse(p, ARP_LEN, &a), -WIRE_ARP_BADADDR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_request),
        cmocka_unit_test(test_captured_reply),
        cmocka_unit_test(test_padding_and_probe),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("wire_arp", tests, NULL, NULL);
}
