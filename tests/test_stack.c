/*
 * The stack instance: configuration, tunables by sysctl name, counters by
 * name, isolation between instances, and the drops and resets of the input
 * path that need no connection (each asserted segment by segment).
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "test_tcp_fixture.h"
#include "tcpcore/sysctl.h"
#include "wire/cksum.h"
#include "wire/ip.h"

static int out_null(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx;
    (void)pkt;
    (void)len;
    return 0;
}

static void test_config_requires_output(void **state)
{
    (void)state;
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    struct tcpc_stack *s = NULL;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), -EINVAL);
    assert_null(s);
    cfg.output = out_null;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), 0);
    tcpc_stack_del(s);
    tcpc_stack_del(NULL);
}

/* cfg.mtu must be TCPC_MTU_MIN..TCPC_MTU_MAX, and at least
 * TCPC_MTU_MIN_IPV6 once an IPv6 address is local (RFC 8200 section 5):
 * tcpc_config_check says why in a sentence, and tcpc_stack_new refuses the
 * same configurations with the same -EINVAL. */
static void expect_mtu(uint32_t mtu, const char *addr, const char *addr2, int err,
                       const char *fragment)
{
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    cfg.output = out_null;
    cfg.mtu = mtu;
    assert_int_equal(tcpc_addr_parse(addr, &cfg.local_addrs[cfg.nlocal_addrs++]), 0);
    if (addr2)
        assert_int_equal(tcpc_addr_parse(addr2, &cfg.local_addrs[cfg.nlocal_addrs++]), 0);
    const char *why = NULL;
    assert_int_equal(tcpc_config_check(&cfg, &why), err);
    struct tcpc_stack *s = NULL;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), err);
    if (!err) {
        assert_non_null(s);
        tcpc_stack_del(s);
        return;
    }
    assert_null(s);
    assert_non_null(why);
    if (!strstr(why, fragment))
        fail_msg("mtu %u: reason \"%s\" does not mention \"%s\"", mtu, why, fragment);
}

static void test_config_mtu_range(void **state)
{
    (void)state;
    assert_int_equal(TCPC_MTU_MIN, 576);
    assert_int_equal(TCPC_MTU_MIN_IPV6, 1280);
    assert_int_equal(TCPC_MTU_MAX, 65536);
    const char *v4 = "198.18.0.1", *v6 = "2001:db8::1";
    expect_mtu(0, v4, NULL, -EINVAL, "576..65536");
    expect_mtu(575, v4, NULL, -EINVAL, "576..65536");
    expect_mtu(576, v4, NULL, 0, NULL);
    expect_mtu(1279, v4, NULL, 0, NULL); /* an IPv4-only stack */
    expect_mtu(1279, v6, NULL, -EINVAL, "at least 1280");
    expect_mtu(1279, v4, v6, -EINVAL, "at least 1280");
    expect_mtu(1280, v4, v6, 0, NULL);
    expect_mtu(65536, v4, v6, 0, NULL);
    expect_mtu(65537, v4, NULL, -EINVAL, "576..65536");
    expect_mtu(65537, v6, NULL, -EINVAL, "576..65536");
    expect_mtu(UINT32_MAX, v4, NULL, -EINVAL, "576..65536");
}

/* The MSS offered derives from the MTU at both ends of the range. */
static void test_mss_from_mtu_at_range_ends(void **state)
{
    (void)state;
    static const struct {
        bool v6;
        uint32_t mtu, mss;
    } cases[] = {
        {false, 576, 536}, {true, 1280, 1220}, {false, 65536, 65495}, {true, 65536, 65476}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct h_opts o = {.v6 = cases[i].v6, .mtu = cases[i].mtu};
        struct harness *h = h_new(&o);
        h_listen(h);
        h_inject(h, SEG(.flags = TH_SYN, .seq = 1, .mss = 65535));
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .mss = cases[i].mss));
        h_free(h);
    }
}

static void expect_sysctl_refused(const char *name, int64_t value, int err, const char *fragment)
{
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    const char *why = NULL;
    assert_int_equal(tcpc_config_sysctl(&cfg, name, value, &why), err);
    assert_non_null(why);
    if (!strstr(why, fragment))
        fail_msg("%s=%lld: reason \"%s\" does not mention \"%s\"", name, (long long)value, why,
                 fragment);
}

static void test_sysctl_validation(void **state)
{
    (void)state;
    expect_sysctl_refused("net.inet.tcp.syncache.hashsize", 500, -EINVAL, "power of two");
    expect_sysctl_refused("net.inet.tcp.syncache.hashsize", 0, -EINVAL, "power of two");
    expect_sysctl_refused("net.inet.tcp.maxtcptw", 31, -EINVAL, "at least 32");
    expect_sysctl_refused("net.inet.ip.portrange.first", 0, -EINVAL, "1..65535");
    expect_sysctl_refused("net.inet.ip.portrange.last", 70000, -EINVAL, "1..65535");
    expect_sysctl_refused("net.inet.tcp.syncookies", 2, -EINVAL, "0 or 1");
    expect_sysctl_refused("net.inet.ip.portrange.hashsize", 300, -EINVAL, "power of two");
    expect_sysctl_refused("net.inet.ip.portrange.hashsize", 128, -EINVAL, "256..65536");
    expect_sysctl_refused("net.inet.ip.portrange.hashsize", 131072, -EINVAL, "256..65536");
    expect_sysctl_refused("net.inet.tcp.nosuch", 1, -ENOENT, "no tunable");

    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    const char *why = NULL;
    /* first <= last holds across the pair, whichever is set first. */
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.ip.portrange.last", 20000, &why), 0);
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.ip.portrange.first", 30000, &why), -EINVAL);
    assert_non_null(strstr(why, "must not exceed"));
    assert_int_equal(cfg.tun.portrange_first, 10000); /* refused values change nothing */
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.syncache.hashsize", 1024, &why), 0);
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.maxtcptw", 0, &why), 0); /* auto */
}

static void test_sysctl_live(void **state)
{
    (void)state;
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    cfg.output = out_null;
    struct tcpc_stack *s;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), 0);
    int64_t v;
    const char *why;
    assert_int_equal(tcpc_sysctl_get(s, "net.inet.tcp.msl", &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(tcpc_sysctl_set(s, "net.inet.tcp.msl", 5000, &why), 0);
    assert_int_equal(tcpc_sysctl_get(s, "net.inet.tcp.msl", &v), 0);
    assert_int_equal(v, 5000);
    /* Tunables that size memory are fixed once the stack exists. */
    assert_int_equal(tcpc_sysctl_set(s, "net.inet.tcp.syncache.hashsize", 1024, &why), -EPERM);
    assert_non_null(strstr(why, "configuration"));
    /* Auto-sized tunables read as the size in force: FreeBSD's rule, half
     * the ephemeral range, at most a fifth of the sockets. */
    assert_int_equal(tcpc_sysctl_get(s, "net.inet.tcp.maxtcptw", &v), 0);
    assert_int_equal(v, 13107); /* min((65535-10000)/2, 65536/5) */
    assert_int_equal(tcpc_sysctl_get(s, "net.inet.tcp.syncache.cachelimit", &v), 0);
    assert_int_equal(v, 512 * 30);
    assert_int_equal(tcpc_sysctl_get(s, "net.inet.tcp.nosuch", &v), -ENOENT);
    const char *name, *desc;
    unsigned n = 0;
    while (tcpc_sysctl_describe(n, &name, &desc) == 0) {
        assert_int_equal(tcpc_sysctl_get(s, name, &v), 0);
        n++;
    }
    assert_true(n >= 20);
    tcpc_stack_del(s);
}

/* A port range set on a live stack is the one connect() draws from. */
static void test_portrange_live(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    const char *why;
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.ip.portrange.first", 50000, &why), 0);
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.ip.portrange.last", 50001, &why), 0);
    bool seen[2] = {false, false};
    for (int i = 0; i < 2; i++) {
        int sd = tcpc_socket(h->stack, TCPC_AF_INET);
        assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, 443), -EINPROGRESS);
        struct tcpc_addr a;
        uint16_t port;
        assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
        assert_true(port == 50000 || port == 50001);
        seen[port - 50000] = true;
    }
    assert_true(seen[0] && seen[1]);
    /* Both 4-tuples to peer:443 are taken: the range is exhausted. */
    int sd = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, 443), -EADDRNOTAVAIL);
    h_free(h);
}

static void test_stats_by_name(void **state)
{
    (void)state;
    int id = tcpc_stat_lookup("tcps_sc_added");
    assert_true(id >= 0);
    assert_string_equal(tcpc_stat_name((unsigned)id), "tcps_sc_added");
    assert_non_null(tcpc_stat_desc((unsigned)id));
    assert_int_equal(tcpc_stat_lookup("tcps_nosuch"), -ENOENT);
    assert_null(tcpc_stat_name(TCPC_STAT_COUNT));
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++)
        assert_int_equal(tcpc_stat_lookup(tcpc_stat_name(i)), (int)i);
}

/* RFC 9293 3.10.7.1: a SYN to a closed port gets <SEQ=0><ACK=SEG.SEQ+1><RST,ACK>. */
static void test_closed_port_syn_gets_rst_ack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000));
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 1001, .opts = 0, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_noport"), 1);
    assert_int_equal(h_stat(h, "tcps_sndrst"), 1);
    h_free(h);
}

/* An ACK to a closed port gets <SEQ=SEG.ACK><RST>; data counts in SEG.LEN. */
static void test_closed_port_ack_gets_rst(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 5, .ack = 777));
    h_expect(h, SEG(.flags = TH_RST, .seq = 777, .len = 0));
    h_inject(h, SEG(.flags = TH_PSH, .seq = 100, .data = "abc"));
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 103));
    h_inject(h, SEG(.flags = TH_FIN, .seq = 200, .data = "ab"));
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 203));
    h_expect_nothing(h);
    h_free(h);
}

/* An RST is never answered with an RST. */
static void test_closed_port_rst_is_silent(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    h_inject(h, SEG(.flags = TH_RST, .seq = 1));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = 1, .ack = 2));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_noport"), 0);
    h_free(h);
}

static void test_closed_port_v6(void **state)
{
    (void)state;
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 0xffffffff));
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = 0));
    h_free(h);
}

/* Corrupts one byte of a built segment; with fix_ipsum, recomputes the
 * IPv4 header checksum so that only the corrupted field is wrong. */
static void inject_corrupted(struct harness *h, size_t offset, uint8_t xor_with, bool fix_ipsum)
{
    uint8_t buf[256];
    size_t len = h_build(h, SEG(.flags = TH_SYN, .seq = 1), buf, sizeof(buf));
    assert_true(offset < len);
    buf[offset] ^= xor_with;
    if (fix_ipsum) {
        buf[10] = buf[11] = 0;
        uint16_t sum = cksum_finish(cksum_add(0, buf, IP4_HDR_LEN));
        buf[10] = (uint8_t)(sum >> 8);
        buf[11] = (uint8_t)sum;
    }
    h_inject_raw(h, buf, len);
}

/* Builds s, changes one byte of it at offset and, with fix_tcpsum, makes
 * the TCP checksum right again, so that only that byte is wrong. */
static void inject_damaged_seg(struct harness *h, struct seg s, size_t offset, uint8_t xor_with,
                               bool fix_tcpsum)
{
    uint8_t buf[256];
    size_t len = h_build(h, s, buf, sizeof(buf));
    assert_true(offset < len);
    buf[offset] ^= xor_with;
    if (fix_tcpsum) {
        uint8_t *th = buf + IP4_HDR_LEN;
        size_t tlen = len - IP4_HDR_LEN;
        th[16] = th[17] = 0;
        uint32_t sum = cksum_pseudo(&h->peer, &h->local, 6, (uint32_t)tlen);
        uint16_t c = cksum_finish(cksum_add(sum, th, tlen));
        th[16] = (uint8_t)(c >> 8);
        th[17] = (uint8_t)c;
    }
    h_inject_raw(h, buf, len);
}

/*
 * The checksum is verified before any field it covers is believed, as in
 * FreeBSD's tcp_input (tcps_rcvshort, then tcps_rcvbadsum, then
 * tcps_rcvbadoff and the options): a segment damaged on the way counts as a
 * checksum error wherever the damage fell, so that tcps_rcvbadsum measures
 * corruption on the path. Only with the checksum right is a bad data offset
 * or option length what is counted.
 */
static void test_checksum_before_header_fields(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    /* Data offset 60 (past the segment) and the sum left as it was. */
    inject_damaged_seg(h, SEG(.flags = TH_SYN, .seq = 1), IP4_HDR_LEN + 12, 0xa0, false);
    assert_int_equal(h_stat(h, "tcps_rcvbadsum"), 1);
    assert_int_equal(h_stat(h, "tcps_rcvbadoff"), 0);
    /* The MSS option's length 0. */
    struct seg syn = SEG(.flags = TH_SYN, .seq = 1, .mss = 1460);
    inject_damaged_seg(h, syn, IP4_HDR_LEN + 21, 0x04, false);
    assert_int_equal(h_stat(h, "tcps_rcvbadsum"), 2);
    assert_int_equal(h_stat(h, "tcps_rcvbadopt"), 0);
    /* The same damage under a right checksum. */
    inject_damaged_seg(h, SEG(.flags = TH_SYN, .seq = 1), IP4_HDR_LEN + 12, 0xa0, true);
    assert_int_equal(h_stat(h, "tcps_rcvbadoff"), 1);
    inject_damaged_seg(h, syn, IP4_HDR_LEN + 21, 0x04, true);
    assert_int_equal(h_stat(h, "tcps_rcvbadopt"), 1);
    assert_int_equal(h_stat(h, "tcps_rcvbadsum"), 2);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvtotal"), 0);
    h_free(h);
}

static void test_drops_are_counted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    inject_corrupted(h, IP4_HDR_LEN + 16, 0x01, false); /* TCP checksum */
    assert_int_equal(h_stat(h, "tcps_rcvbadsum"), 1);
    inject_corrupted(h, 10, 0x01, false); /* IPv4 header checksum */
    assert_int_equal(h_stat(h, "ips_badsum"), 1);
    inject_corrupted(h, 0, 0x10, true); /* version 5 */
    assert_int_equal(h_stat(h, "ips_badvers"), 1);
    inject_corrupted(h, 6, 0x20, true); /* more fragments */
    assert_int_equal(h_stat(h, "ips_fragments"), 1);
    uint8_t tiny[10] = {0x45};
    h_inject_raw(h, tiny, sizeof(tiny));
    assert_int_equal(h_stat(h, "ips_toosmall"), 1);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvtotal"), 0);
    h_free(h);
}

/* An IPv6 packet whose destination is IPv4-mapped would alias an IPv4
 * flow in the single address space: refused at the IP layer. */
static void test_v6_mapped_destination_dropped(void **state)
{
    (void)state;
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    h_listen(h);
    uint8_t buf[256];
    size_t len = h_build(h, SEG(.flags = TH_SYN, .seq = 1), buf, sizeof(buf));
    static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 198, 18, 0, 1};
    memcpy(buf + 24, mapped, sizeof(mapped)); /* the IPv6 destination */
    h_inject_raw(h, buf, len);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ips_badaddr"), 1);
    assert_int_equal(h_stat(h, "tcps_rcvtotal"), 0);
    h_free(h);
}

static void test_foreign_destination_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    assert_int_equal(tcpc_addr_parse("198.18.9.9", &h->local), 0); /* not the stack's */
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ips_notlocal"), 1);
    h_free(h);
}

/* Two stacks from the same seed behave identically; different seeds give
 * different secrets (ISNs), and neither sees the other's state. */
static uint32_t first_iss(uint8_t seedbyte)
{
    struct h_opts o = {.seed = seedbyte};
    struct harness *h = h_new(&o);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK));
    h_free(h);
    return sa.th.seq;
}

static void test_instances_are_deterministic_and_isolated(void **state)
{
    (void)state;
    assert_int_equal(first_iss(1), first_iss(1));
    assert_int_not_equal(first_iss(1), first_iss(2));
    struct harness *a = h_new(NULL), *b = h_new(NULL);
    h_listen(a);
    h_inject(b, SEG(.flags = TH_SYN, .seq = 1)); /* b has no listener */
    h_expect(b, SEG(.flags = TH_RST | TH_ACK));
    h_expect_nothing(a);
    assert_int_equal(h_stat(a, "tcps_rcvtotal"), 0);
    h_free(a);
    h_free(b);
}

static void test_time_never_runs_backwards(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    tcpc_advance(h->stack, 5 * SEC);
    tcpc_advance(h->stack, 2 * SEC);
    assert_int_equal(tcpc_now(h->stack), 5 * SEC);
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_free(h);
}

/* An embedder's clock may hand over anything, even TCPC_TIME_NEVER itself:
 * the stack then runs at TCPC_TIME_MAX, where time stops, and nothing
 * asserts; deadlines armed there still fit below TCPC_TIME_NEVER. Aborted in
 * the timer wheel before times were clamped. */
static void test_time_past_max_is_clamped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    tcpc_advance(h->stack, TCPC_TIME_NEVER);
    assert_int_equal(tcpc_now(h->stack), TCPC_TIME_MAX);
    h->now = TCPC_TIME_MAX;
    fx_connect(h, NULL);
    tcpc_time_t next = tcpc_next_deadline(h->stack);
    assert_true(next >= TCPC_TIME_MAX && next != TCPC_TIME_NEVER);
    tcpc_advance(h->stack, TCPC_TIME_NEVER);
    tcpc_input(h->stack, TCPC_TIME_NEVER - 1, NULL, 0); /* counted as too small */
    assert_int_equal(tcpc_now(h->stack), TCPC_TIME_MAX);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_requires_output),
        cmocka_unit_test(test_time_past_max_is_clamped),
        cmocka_unit_test(test_config_mtu_range),
        cmocka_unit_test(test_mss_from_mtu_at_range_ends),
        cmocka_unit_test(test_sysctl_validation),
        cmocka_unit_test(test_sysctl_live),
        cmocka_unit_test(test_portrange_live),
        cmocka_unit_test(test_stats_by_name),
        cmocka_unit_test(test_closed_port_syn_gets_rst_ack),
        cmocka_unit_test(test_closed_port_ack_gets_rst),
        cmocka_unit_test(test_closed_port_rst_is_silent),
        cmocka_unit_test(test_closed_port_v6),
        cmocka_unit_test(test_drops_are_counted),
        cmocka_unit_test(test_checksum_before_header_fields),
        cmocka_unit_test(test_foreign_destination_dropped),
        cmocka_unit_test(test_v6_mapped_destination_dropped),
        cmocka_unit_test(test_instances_are_deterministic_and_isolated),
        cmocka_unit_test(test_time_never_runs_backwards),
    };
    return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
