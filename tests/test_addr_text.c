/*
 * Unit tests for address text: strict parsing of dotted-quad IPv4 and RFC
 * 4291 IPv6 text, canonical RFC 5952 output, and parse(format(a)) == a.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tcpcore/addr.h"

static void check_v6(const char *text, const uint8_t want[16])
{
    struct tcpc_addr a;

    assert_int_equal(tcpc_addr_parse(text, &a), 0);
    assert_memory_equal(a.bytes, want, 16);
}

/* Parses text and formats it back, expecting the canonical form. */
static void check_canon(const char *text, const char *canon)
{
    struct tcpc_addr a, b;
    char buf[TCPC_ADDRSTRLEN];

    assert_int_equal(tcpc_addr_parse(text, &a), 0);
    assert_ptr_equal(tcpc_addr_format(&a, buf, sizeof(buf)), buf);
    assert_string_equal(buf, canon);
    assert_int_equal(tcpc_addr_parse(buf, &b), 0);
    assert_true(tcpc_addr_eq(&a, &b));
}

static void test_parse_v4(void **state)
{
    struct tcpc_addr a;

    (void)state;
    assert_int_equal(tcpc_addr_parse("198.18.0.1", &a), 0);
    assert_true(tcpc_addr_is_v4(&a));
    assert_int_equal(tcpc_addr_v4_host(&a), 0xc6120001);
    assert_int_equal(tcpc_addr_parse("255.255.255.255", &a), 0);
    assert_int_equal(tcpc_addr_v4_host(&a), 0xffffffff);
    assert_int_equal(tcpc_addr_parse("0.0.0.0", &a), 0);
    assert_true(tcpc_addr_is_v4(&a));
    assert_true(tcpc_addr_is_any(&a));
}

static void test_parse_v4_rejects(void **state)
{
    static const char *const bad[] = {
        "",         "1",          "1.2.3",      "1.2.3.4.5", "256.1.1.1",  "1.2.3.256",
        "1..2.3",   ".1.2.3",     "1.2.3.",     " 1.2.3.4",  "1.2.3.4 ",   "+1.2.3.4",
        "01.2.3.4", "1.2.3.04",   "1.2.3.0x4",  "1.2.3.4x",  "1234.1.1.1", "a.b.c.d",
        "1.2.3.-4", "0000.0.0.0", "4294967295", "1.2.3.4/8",
    };
    struct tcpc_addr a;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tcpc_addr_parse(bad[i], &a) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(tcpc_addr_parse(NULL, &a), -EINVAL);
}

static void test_parse_v6(void **state)
{
    static const uint8_t doc1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    static const uint8_t full[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6};
    static const uint8_t zero[16] = {0};
    static const uint8_t one[16] = {[15] = 1};
    static const uint8_t lead[16] = {0x20, 0x01, 0x0d, 0xb8};
    static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 1, 2, 3, 4};
    static const uint8_t tail4[16] = {0x00, 0x64, 0xff, 0x9b, [12] = 192, 0, 2, 33};
    static const uint8_t eight[16] = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8};
    static const uint8_t one_gap[16] = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0};
    static const uint8_t gap_tail[16] = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 0, 0, 7, 0, 8};

    (void)state;
    check_v6("2001:db8::1", doc1);
    check_v6("2001:DB8:0:0:0:0:0:1", doc1);
    check_v6("2001:0db8:0000:0000:0000:0000:0000:0001", doc1);
    check_v6("2001:db8:1:2:3:4:5:6", full);
    check_v6("::", zero);
    check_v6("::1", one);
    check_v6("2001:db8::", lead);
    check_v6("::ffff:1.2.3.4", mapped);
    check_v6("::FFFF:1.2.3.4", mapped);
    check_v6("0:0:0:0:0:ffff:1.2.3.4", mapped);
    check_v6("64:ff9b::192.0.2.33", tail4);
    check_v6("1:2:3:4:5:6:7:8", eight);
    check_v6("1:2:3:4:5:6:7::", one_gap);
    check_v6("1:2:3:4:5::0.7.0.8", gap_tail); /* "::" for one group before a tail */
}

static void test_parse_v6_rejects(void **state)
{
    static const char *const bad[] = {
        ":",
        ":::",
        "1:::2",
        "1::2::3",
        ":1::",
        "1::2:",
        "1:",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1:2:3:4::5:6:7:8",
        "12345::",
        "g::1",
        "::1 ",
        " ::1",
        "fe80::1%eth0",
        "::ffff:1.2.3",
        "::ffff:1.2.3.4.5",
        "::ffff:256.2.3.4",
        "::1.2.3.4:1",
        "1.2.3.4::",
        "::ffff:01.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5:6:7:8:1.2.3.4",
        "::1.2.3.4.",
        "::ffff:1a.2.3.4",
        "[::1]",
        "2001:db8::/32",
        "1:2:3:4:5:6::0.7.0.8",
    };
    struct tcpc_addr a;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tcpc_addr_parse(bad[i], &a) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

static void test_format_rfc5952(void **state)
{
    (void)state;
    /* 4.1 leading zeros dropped, 4.3 lowercase. */
    check_canon("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    /* 4.2.1 the longest run is compressed. */
    check_canon("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::");
    check_canon("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");
    /* 4.2.2 a single zero group is not compressed. */
    check_canon("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
    /* 4.2.3 on a tie the first run is compressed. */
    check_canon("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
    check_canon("0:0:1:0:0:1:0:0", "::1:0:0:1:0:0");
    check_canon("::", "::");
    check_canon("::1", "::1");
    check_canon("1::", "1::");
    check_canon("fe80::abcd:ef01:0:0", "fe80::abcd:ef01:0:0");
    check_canon("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    check_canon("1:0:0:0:0:0:0:0", "1::");
    check_canon("0:0:0:0:0:0:0:1", "::1");
    check_canon("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0");
    /* The deprecated IPv4-compatible form is plain IPv6 text. */
    check_canon("::1.2.3.4", "::102:304");
}

static void test_format_v4(void **state)
{
    struct tcpc_addr a = tcpc_addr_v4(0xc6120001);
    char buf[TCPC_ADDRSTRLEN];

    (void)state;
    assert_string_equal(tcpc_addr_format(&a, buf, sizeof(buf)), "198.18.0.1");
    check_canon("::ffff:10.0.0.1", "10.0.0.1");
    check_canon("0.0.0.0", "0.0.0.0");
    check_canon("255.255.255.255", "255.255.255.255");
    check_canon("100.64.9.10", "100.64.9.10");
}

static void test_format_small_buffers(void **state)
{
    struct tcpc_addr a;
    char buf[TCPC_ADDRSTRLEN];

    (void)state;
    assert_int_equal(tcpc_addr_parse("1234:5678:9abc:def0:1234:5678:255.255.255.255", &a), 0);
    tcpc_addr_format(&a, buf, sizeof(buf));
    assert_string_equal(buf, "1234:5678:9abc:def0:1234:5678:ffff:ffff");
    memset(buf, 'x', sizeof(buf));
    tcpc_addr_format(&a, buf, 5);
    assert_string_equal(buf, "1234");
    assert_int_equal(buf[5], 'x');
    tcpc_addr_format(&a, buf, 1);
    assert_string_equal(buf, "");
    buf[0] = 'x';
    tcpc_addr_format(&a, buf, 0);
    assert_int_equal(buf[0], 'x');
}

static void test_roundtrip_patterns(void **state)
{
    char buf[TCPC_ADDRSTRLEN];

    (void)state;
    /* Every pattern of zero and nonzero groups survives format then parse. */
    for (unsigned mask = 0; mask < 256; mask++) {
        struct tcpc_addr a = {{0}}, b;

        for (int g = 0; g < 8; g++) {
            if (mask & 1u << g)
                a.bytes[2 * g + 1] = (uint8_t)(g + 1);
        }
        tcpc_addr_format(&a, buf, sizeof(buf));
        assert_int_equal(tcpc_addr_parse(buf, &b), 0);
        if (!tcpc_addr_eq(&a, &b))
            fail_msg("mask %#x -> \"%s\" did not round-trip", mask, buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_v4),
        cmocka_unit_test(test_parse_v4_rejects),
        cmocka_unit_test(test_parse_v6),
        cmocka_unit_test(test_parse_v6_rejects),
        cmocka_unit_test(test_format_rfc5952),
        cmocka_unit_test(test_format_v4),
        cmocka_unit_test(test_format_small_buffers),
        cmocka_unit_test(test_roundtrip_patterns),
    };
    return cmocka_run_group_tests_name("addr_text", tests, NULL, NULL);
}
