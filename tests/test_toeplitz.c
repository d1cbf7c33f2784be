/*
 * Tests for util/toeplitz: the RSS verification suite published for NIC
 * drivers (the 40-byte default key; five IPv4 and three IPv6 flows, hashed
 * with and without ports), and the key-window property the hash rests on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/toeplitz.h"

static const uint8_t rss_key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                                    0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                                    0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                                    0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

struct rss_vector {
    const char *dst, *src;
    uint16_t dport, sport;
    uint32_t addrs_only, with_ports;
};

static const struct rss_vector vectors[] = {
    {"161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2, 0x51ccc178},
    {"65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a, 0xc626b0ea},
    {"12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de, 0x5c2b394a},
    {"209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176, 0xafc7327f},
    {"202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5, 0x10e828a2},
    {"3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794, 0x2cc18cd5, 0x40207d3d},
    {"ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230, 0x0f0c461c, 0xdde51bbf},
    {"fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 38024, 44251, 0x4b61e985,
     0x02d1feef},
};

static void test_verification_suite(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct rss_vector *v = &vectors[i];
        struct tcpc_addr src, dst;
        assert_int_equal(tcpc_addr_parse(v->src, &src), 0);
        assert_int_equal(tcpc_addr_parse(v->dst, &dst), 0);
        assert_int_equal(
            toeplitz_tuple(rss_key, sizeof(rss_key), &src, v->sport, &dst, v->dport, false),
            v->addrs_only);
        assert_int_equal(
            toeplitz_tuple(rss_key, sizeof(rss_key), &src, v->sport, &dst, v->dport, true),
            v->with_ports);
    }
}

/* A single set bit at position p selects the key's 32 bits from bit p:
 * the property a port search relies on to predict a reply's hash. */
static void test_single_bit_is_key_window(void **state)
{
    (void)state;
    for (unsigned p = 0; p < 8 * 12; p++) {
        uint8_t data[12] = {0};
        data[p / 8] = (uint8_t)(0x80 >> (p % 8));
        uint32_t want = 0;
        for (unsigned b = 0; b < 32; b++) {
            unsigned k = p + b;
            want = want << 1 | (uint32_t)(rss_key[k / 8] >> (7 - k % 8) & 1);
        }
        assert_int_equal(toeplitz_hash(rss_key, sizeof(rss_key), data, sizeof(data)), want);
    }
}

/* The hash is linear over xor: h(a ^ b) == h(a) ^ h(b). */
static void test_linear(void **state)
{
    (void)state;
    uint8_t a[12], b[12], x[12];
    for (unsigned i = 0; i < 12; i++) {
        a[i] = (uint8_t)(i * 37 + 5);
        b[i] = (uint8_t)(i * 91 + 17);
        x[i] = a[i] ^ b[i];
    }
    assert_int_equal(toeplitz_hash(rss_key, 40, x, 12),
                     toeplitz_hash(rss_key, 40, a, 12) ^ toeplitz_hash(rss_key, 40, b, 12));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verification_suite),
        cmocka_unit_test(test_single_bit_is_key_window),
        cmocka_unit_test(test_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
