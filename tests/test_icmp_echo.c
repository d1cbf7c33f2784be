/*
 * Segment-level tests of ping: echo requests of both families answered
 * field by field on an IP-level link and on Ethernet (where the Linux
 * kernel's own request, injected as captured, gets the reply the kernel
 * itself would send), net.inet.icmp.icmplim, and what is not answered.
 */
#include "hlink.h"

#include <errno.h>
#include <string.h>

#include "vectors.h"

static void check_reply(struct harness *h, uint16_t id, uint16_t seq, const char *data)
{
    struct ip_repr ip;
    uint8_t got[256];
    struct icmp_echo_repr e = h_expect_echo(h, &ip, got, sizeof(got));
    assert_true(tcpc_addr_eq(&ip.src, &h->local));
    assert_true(tcpc_addr_eq(&ip.dst, &h->peer));
    assert_int_equal(ip.ttl, 64);
    assert_int_equal(e.id, id);
    assert_int_equal(e.seq, seq);
    assert_int_equal(e.datalen, strlen(data));
    assert_memory_equal(e.data, data, e.datalen);
    if (!h->v6)
        assert_false(ip.df);
}

static void ping_once(bool v6, bool ether)
{
    struct h_opts o = {.v6 = v6, .ether = ether};
    struct harness *h = h_new(&o);
    if (ether)
        h_ether_meet(h);
    h_inject_echo(h, &h->local, 0x4242, 7, "tcpcore ping");
    check_reply(h, 0x4242, 7, "tcpcore ping");
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, v6 ? "icp6s_reflect" : "icps_reflect"), 1);
    assert_int_equal(h_stat(h, v6 ? "icps_reflect" : "icp6s_reflect"), 0);
    h_free(h);
}

static void test_ping4(void **state)
{
    (void)state;
    ping_once(false, false);
}

static void test_ping6(void **state)
{
    (void)state;
    ping_once(true, false);
}

static void test_ping4_ether(void **state)
{
    (void)state;
    ping_once(false, true);
}

static void test_ping6_ether(void **state)
{
    (void)state;
    ping_once(true, true);
}

/* The kernel's requests (vectors.h) into a stack in the capture's other
 * role; the replies carry everything the kernel's own replies carry. */
static void linux_ping(bool v6)
{
    struct h_opts o = {.ether = true, .v6 = v6, .swap = true};
    struct harness *h = h_new(&o);
    h_ether_meet(h);
    uint8_t f[128];
    size_t n = unhex(v6 ? linux_echo6_request_hex : linux_echo4_request_hex, f, sizeof(f));
    h_inject_frame(h, f, n);
    check_reply(h, v6 ? 0xea0d : 0xea0c, 1, "tcpcore ping");
    h_free(h);
}

static void test_linux_ping4(void **state)
{
    (void)state;
    linux_ping(false);
}

static void test_linux_ping6(void **state)
{
    (void)state;
    linux_ping(true);
}

/* At most icmplim replies in a second; the rest are counted. */
static void test_icmplim(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.icmp.icmplim=3", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    for (uint16_t i = 0; i < 5; i++)
        h_inject_echo(h, &h->local, 1, i, "x");
    for (uint16_t i = 0; i < 3; i++)
        check_reply(h, 1, i, "x");
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "icps_toofreq"), 2);
    assert_int_equal(h_stat(h, "icps_reflect"), 3);
    h_advance(h, 1 * SEC);
    h_inject_echo(h, &h->local, 1, 9, "x");
    check_reply(h, 1, 9, "x");
    /* 0 lifts the limit. */
    const char *why;
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.icmp.icmplim", 0, &why), 0);
    for (uint16_t i = 0; i < 10; i++)
        h_inject_echo(h, &h->local, 2, i, "y");
    for (uint16_t i = 0; i < 10; i++)
        check_reply(h, 2, i, "y");
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.icmp.icmplim", -1, &why), -EINVAL);
    h_free(h);
}

static void test_not_answered(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct tcpc_addr other;
    assert_int_equal(tcpc_addr_parse("198.18.0.9", &other), 0);
    h_inject_echo(h, &other, 1, 1, "x");
    assert_int_equal(h_stat(h, "ips_notlocal"), 1);
    /* A corrupt checksum. */
    uint8_t p[64];
    struct ip_repr ip = {.src = h->peer, .dst = h->local, .version = 4, .ttl = 64};
    struct icmp_echo_repr e = {
        .type = ICMP4_ECHO, .id = 1, .data = (const uint8_t *)"x", .datalen = 1};
    int n = icmp_echo_emit_packet(&ip, &e, p, sizeof(p));
    p[n - 1] ^= 1;
    h_inject_raw(h, p, (size_t)n);
    assert_int_equal(h_stat(h, "icps_checksum"), 1);
    /* Replies are not answered. */
    e.type = ICMP4_ECHOREPLY;
    n = icmp_echo_emit_packet(&ip, &e, p, sizeof(p));
    h_inject_raw(h, p, (size_t)n);
    assert_int_equal(h_stat(h, "icps_ignored"), 1);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "icps_reflect"), 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping4),       cmocka_unit_test(test_ping6),
        cmocka_unit_test(test_ping4_ether), cmocka_unit_test(test_ping6_ether),
        cmocka_unit_test(test_linux_ping4), cmocka_unit_test(test_linux_ping6),
        cmocka_unit_test(test_icmplim),     cmocka_unit_test(test_not_answered),
    };
    return cmocka_run_group_tests_name("icmp_echo", tests, NULL, NULL);
}
