/*
 * Segment-level tests of the address and route table (src/core/route.c):
 * source address selection of unbound connects by RFC 6724's rules,
 * addresses added and removed while connections run (and the TIME_WAIT
 * records that keep a removed address's slot), next hops by longest prefix
 * on an Ethernet link, gateways, the route listing, and the configuration's
 * checks.
 */
#include "hlink.h"

#include <errno.h>
#include <string.h>

static struct tcpc_addr A(const char *text) {
    struct tcpc_addr a;
    assert_int_equal(tcpc_addr_parse(text, &a), 0);
    return a;
}

static void
add(struct harness *h, const char *text, unsigned plen)
{
    struct tcpc_addr a = A(text);
    assert_int_equal(tcpc_addr_add(h->stack, &a, plen), 0);
}

/* The source address of the SYN an unbound connect to dst sends. */
static struct tcpc_addr syn_source(struct harness *h, const char *dst)
{
    struct tcpc_addr d = A(dst);
    int sd = tcpc_socket(h->stack, tcpc_addr_is_v4(&d) ? TCPC_AF_INET : TCPC_AF_INET6);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_connect(h->stack, sd, &d, 80), -EINPROGRESS);
    uint8_t p[256];
    size_t n = h_take(h, p, sizeof(p));
    struct ip_repr ip;
    assert_true(ip_parse(p, n, &ip) > 0);
    assert_int_equal(ip.proto, IPPROTO_TCP_);
    assert_true(tcpc_addr_eq(&ip.dst, &d));
    /* getsockname agrees with the wire. */
    struct tcpc_addr local;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &local, &port), 0);
    assert_true(tcpc_addr_eq(&local, &ip.src));
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    h_flush(h);
    return ip.src;
}

static void expect_source(struct harness *h, const char *dst, const char *want)
{
    struct tcpc_addr got = syn_source(h, dst), w = A(want);
    char g[TCPC_ADDRSTRLEN];
    if (!tcpc_addr_eq(&got, &w))
        fail_msg("to %s: source %s, want %s", dst, tcpc_addr_format(&got, g, sizeof(g)), want);
}

/* The configuration's address is removed first so that the order in which
 * the candidates were added is the test's: a "first address of the
 * family" rule picks 169.254.1.1 and 2001:db8::1 everywhere. */
static void test_source_selection_v4(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    assert_int_equal(tcpc_addr_del(h->stack, &h->local), 0);
    add(h, "169.254.1.1", 16);
    add(h, "10.1.2.3", 8);
    add(h, "198.18.0.1", 24);
    add(h, "198.19.7.1", 16);
    add(h, "10.1.2.4", 24);
    expect_source(h, "198.19.7.1", "198.19.7.1"); /* rule 1: the destination itself */
    /* Rule 1 over rule 8: 10.1.2.4/24 shares 24 bits of its prefix with
     * 10.1.2.3, which shares only its own 8. */
    expect_source(h, "10.1.2.3", "10.1.2.3");
    expect_source(h, "169.254.9.9", "169.254.1.1"); /* rule 2: link-local scope */
    /* Rule 2 over rule 8: 169.255.0.1 is global, so 169.254.1.1 (sharing 15
     * bits with it) is too narrow; among the global ones 198.x shares 1. */
    expect_source(h, "169.255.0.1", "198.18.0.1");
    expect_source(h, "8.8.8.8", "10.1.2.3");        /* rule 2 then rule 8 */
    expect_source(h, "198.19.200.5", "198.19.7.1"); /* rule 8: longest common prefix */
    expect_source(h, "198.18.0.77", "198.18.0.1");  /* rule 8 */
    expect_source(h, "10.200.0.1", "10.1.2.3");     /* rule 8 */
    expect_source(h, "192.0.2.1", "198.18.0.1");    /* a tie: the first added */
    h_free(h);
}

static void test_source_selection_v6(void **state)
{
    (void)state;
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    assert_int_equal(tcpc_addr_del(h->stack, &h->local), 0);
    add(h, "2001:db8::1", 64);
    add(h, "fe80::1", 64);
    add(h, "2001:db8:1::1", 64);
    add(h, "fd00::1", 64);
    add(h, "2001:0:1::1", 64);               /* a Teredo address, label 5 */
    expect_source(h, "fe80::99", "fe80::1"); /* rule 2 */
    /* Rule 2 over rule 8: fe80::1 shares 9 bits with the site-local
     * fec0::1 but is too narrow; fd00::1 shares 6. */
    expect_source(h, "fec0::1", "fd00::1");
    expect_source(h, "2001:db8:1::5", "2001:db8:1::1"); /* rule 8 */
    expect_source(h, "fd12::1", "fd00::1");             /* rule 6 (and 8) */
    expect_source(h, "2001:db8::7", "2001:db8::1");
    expect_source(h, "2a00::1", "2001:db8::1"); /* fe80::1 too narrow; a tie: first added */
    /* Rule 6 over rule 8: 2001:1::1 shares 31 bits with the Teredo address
     * but only 20 with 2001:db8::1, whose label (1) is the destination's. */
    expect_source(h, "2001:1::1", "2001:db8::1");
    h_free(h);
}

static void test_no_address_of_family(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct tcpc_addr d = A("2001:db8::2");
    int sd = tcpc_socket(h->stack, TCPC_AF_INET6);
    assert_int_equal(tcpc_connect(h->stack, sd, &d, 80), -EADDRNOTAVAIL);
    assert_int_equal(tcpc_addr_del(h->stack, &h->local), 0);
    sd = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, 80), -EADDRNOTAVAIL);
    h_expect_nothing(h);
    h_free(h);
}

static void test_add_del_errors(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct tcpc_addr a = A("198.18.0.5");
    assert_int_equal(tcpc_addr_add(h->stack, &h->local, 24), -EEXIST);
    assert_int_equal(tcpc_addr_add(h->stack, &a, 33), -EINVAL);
    struct tcpc_addr m = A("224.0.0.1"), bc = A("255.255.255.255"), any = A("0.0.0.0");
    struct tcpc_addr m6 = A("ff02::1"), any6 = A("::"), g6 = A("2001:db8::5");
    assert_int_equal(tcpc_addr_add(h->stack, &m, 0), -EINVAL);
    assert_int_equal(tcpc_addr_add(h->stack, &bc, 0), -EINVAL);
    assert_int_equal(tcpc_addr_add(h->stack, &any, 0), -EINVAL);
    assert_int_equal(tcpc_addr_add(h->stack, &m6, 0), -EINVAL);
    assert_int_equal(tcpc_addr_add(h->stack, &any6, 0), -EINVAL);
    assert_int_equal(tcpc_addr_add(h->stack, &g6, 129), -EINVAL);
    assert_int_equal(tcpc_addr_add(h->stack, &g6, 128), 0);
    assert_int_equal(tcpc_addr_del(h->stack, &a), -EADDRNOTAVAIL);
    /* TCPC_MAX_LOCAL_ADDRS in all. */
    for (unsigned i = 2; i < TCPC_MAX_LOCAL_ADDRS; i++) {
        struct tcpc_addr x = tcpc_addr_v4(0xc6120100u + i);
        assert_int_equal(tcpc_addr_add(h->stack, &x, 24), 0);
    }
    assert_int_equal(tcpc_addr_add(h->stack, &a, 24), -ENOSPC);
    assert_int_equal(tcpc_addr_del(h->stack, &g6), 0);
    assert_int_equal(tcpc_addr_add(h->stack, &a, 24), 0);
    h_free(h);
}

/* A SYN to an address added at run time is answered; once it is removed,
 * it is not ours any more. */
static void test_added_address_answers(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    h_listen(h);
    struct tcpc_addr first = h->local;
    add(h, "198.18.0.5", 24);
    h->local = A("198.18.0.5");
    h_inject(h, SEG(.flags = TH_SYN, .seq = 100));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    assert_int_equal(tcpc_addr_del(h->stack, &h->local), 0);
    assert_false(tcpc_addr_is_local(h->stack, &h->local));
    assert_true(tcpc_addr_is_local(h->stack, &first));
    h->pport++;
    h_inject(h, SEG(.flags = TH_SYN, .seq = 100));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ips_notlocal"), 1);
    h_free(h);
}

/* A connection on an address that goes away keeps sending from it, but
 * what arrives for it is no longer ours; adding the address back revives
 * it (FreeBSD's behaviour). */
static void test_connection_outlives_its_address(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    add(h, "198.18.0.5", 24);
    h->local = A("198.18.0.5");
    uint32_t iss;
    int sd = h_establish(h, 1000, SEG(), &iss, NULL);
    assert_int_equal(tcpc_addr_del(h->stack, &h->local), 0);
    assert_int_equal(tcpc_send(h->stack, sd, "hi", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = iss + 1, .data = "hi"));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = iss + 3));
    assert_int_equal(h_stat(h, "ips_notlocal"), 1);
    add(h, "198.18.0.5", 24);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = iss + 3, .data = "ok"));
    assert_int_equal(h_stat(h, "ips_notlocal"), 1);
    char buf[8];
    assert_int_equal(tcpc_recv(h->stack, sd, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "ok", 2);
    h_free(h);
}

/* A compact TIME_WAIT record names its address's slot: removing the
 * address keeps the slot (the record still answers from the right
 * address), and the slot is free again once the record expires. */
static void test_timewait_holds_removed_slot(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.msl=1000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    add(h, "198.18.0.5", 24);
    h->local = A("198.18.0.5");
    uint32_t iss;
    int sd = h_establish(h, 1000, SEG(), &iss, NULL);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = iss + 1));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = iss + 2));
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 2, .ack = 1002));
    assert_int_equal(h_stat(h, "tcps_tw_added"), 1);
    assert_int_equal(tcpc_addr_del(h->stack, &h->local), 0);
    /* 14 more addresses fill the table: the removed one's slot is held. */
    for (unsigned i = 0; i < TCPC_MAX_LOCAL_ADDRS - 2; i++) {
        struct tcpc_addr x = tcpc_addr_v4(0xc6120100u + i);
        assert_int_equal(tcpc_addr_add(h->stack, &x, 24), 0);
    }
    struct tcpc_addr more = A("198.18.2.1");
    assert_int_equal(tcpc_addr_add(h->stack, &more, 24), -ENOSPC);
    /* A retransmitted FIN still gets its ACK from 198.18.0.5. */
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = iss + 2));
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 2, .ack = 1002));
    h_advance(h, 2 * SEC);
    assert_int_equal(h_stat(h, "tcps_tw_expired"), 1);
    assert_int_equal(tcpc_addr_add(h->stack, &more, 24), 0);
    h_free(h);
}

/* --- Ethernet: next hops ---------------------------------------------- */

static struct harness *ether_h(void)
{
    struct h_opts o = {.ether = true};
    return h_new(&o);
}

/* Connects to dst; the ARP request must ask for who, from src. */
static void expect_resolution(struct harness *h, const char *dst, const char *who, const char *src)
{
    struct tcpc_addr d = A(dst), w = A(who), s = A(src);
    int sd = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_connect(h->stack, sd, &d, 80), -EINPROGRESS);
    struct tcpc_ether_addr bc = eth_broadcast();
    struct arp_repr req = h_expect_arp(h, &bc);
    char g[TCPC_ADDRSTRLEN];
    if (!tcpc_addr_eq(&req.tpa, &w))
        fail_msg("to %s: asked for %s, want %s", dst, tcpc_addr_format(&req.tpa, g, sizeof(g)),
                 who);
    assert_true(tcpc_addr_eq(&req.spa, &s));
    h_expect_nothing(h);
}

static void test_nexthop_by_longest_prefix(void **state)
{
    (void)state;
    struct harness *h = ether_h(); /* 198.18.0.1/24 */
    add(h, "10.0.0.1", 8);
    add(h, "10.1.0.1", 16);
    struct tcpc_addr gw = A("198.18.0.254");
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET, &gw), 0);
    expect_resolution(h, "10.1.2.3", "10.1.2.3", "10.1.0.1");          /* the /16 */
    expect_resolution(h, "10.200.0.1", "10.200.0.1", "10.0.0.1");      /* the /8 */
    expect_resolution(h, "198.18.0.77", "198.18.0.77", "198.18.0.1");  /* connected beats default */
    expect_resolution(h, "203.0.113.1", "198.18.0.254", "198.18.0.1"); /* the gateway */
    /* Without the gateway the last has no route. */
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET, NULL), 0);
    struct tcpc_addr far = A("203.0.113.2");
    int sd = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_connect(h->stack, sd, &far, 80), -ENETUNREACH);
    h_free(h);
}

/* The connected prefix goes with its address: a connection to the peer
 * then has no route, and its segments are counted as such. */
static void test_prefix_removed_noroute(void **state)
{
    (void)state;
    struct harness *h = ether_h();
    h_ether_meet(h);
    uint32_t iss;
    int sd = h_establish(h, 1000, SEG(), &iss, NULL);
    assert_int_equal(tcpc_addr_del(h->stack, &h->local), 0);
    tcpc_send(h->stack, sd, "hi", 2);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ips_noroute"), 1);
    h_free(h);
}

static void test_gateway_checks(void **state)
{
    (void)state;
    struct harness *h = ether_h();
    struct tcpc_addr off = A("10.0.0.1"), v6 = A("2001:db8::1"), ll = A("fe80::1");
    struct tcpc_addr m = A("224.0.0.1");
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET, &off), -ENETUNREACH);
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET, &v6), -EINVAL);
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET, &m), -EINVAL);
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET, &h->local), -EINVAL);
    assert_int_equal(tcpc_route_set_gateway(h->stack, 99, &off), -EAFNOSUPPORT);
    /* An IPv6 link-local gateway is on the link without a prefix. */
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET6, &ll), 0);
    h_free(h);
}

struct routes {
    unsigned n;
    struct tcpc_route_info ri[8];
};

static int collect(void *ctx, const struct tcpc_route_info *ri)
{
    struct routes *r = ctx;
    assert_true(r->n < 8);
    r->ri[r->n++] = *ri;
    return 0;
}

static void test_route_list(void **state)
{
    (void)state;
    struct harness *h = ether_h();
    add(h, "2001:db8:5::7", 48);
    add(h, "10.9.8.7", 0);
    struct tcpc_addr gw = A("198.18.0.254"), gw6 = A("fe80::1");
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET6, &gw6), 0);
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET, &gw), 0);
    struct routes r = {0};
    assert_int_equal(tcpc_route_list(h->stack, collect, &r), 0);
    assert_int_equal(r.n, 5);
    struct tcpc_addr want = A("198.18.0.0");
    assert_true(tcpc_addr_eq(&r.ri[0].dst, &want));
    assert_int_equal(r.ri[0].prefixlen, 24);
    assert_int_equal(r.ri[0].flags, 0);
    assert_true(tcpc_addr_eq(&r.ri[0].ifaddr, &h->local));
    want = A("2001:db8:5::");
    assert_true(tcpc_addr_eq(&r.ri[1].dst, &want));
    assert_int_equal(r.ri[1].prefixlen, 48);
    want = A("10.9.8.7");
    assert_true(tcpc_addr_eq(&r.ri[2].dst, &want));
    assert_int_equal(r.ri[2].prefixlen, 32);
    assert_int_equal(r.ri[2].flags, TCPC_RTF_HOST);
    want = A("0.0.0.0");
    assert_true(tcpc_addr_eq(&r.ri[3].dst, &want));
    assert_int_equal(r.ri[3].prefixlen, 0);
    assert_int_equal(r.ri[3].flags, TCPC_RTF_GATEWAY);
    assert_true(tcpc_addr_eq(&r.ri[3].gateway, &gw));
    want = A("::");
    assert_true(tcpc_addr_eq(&r.ri[4].dst, &want));
    assert_true(tcpc_addr_eq(&r.ri[4].gateway, &gw6));
    /* A callback's non-zero value stops the walk and is returned. */
    h_free(h);
}

static int stop_at_first(void *ctx, const struct tcpc_route_info *ri)
{
    (void)ctx;
    (void)ri;
    return 7;
}

static void test_route_list_stops(void **state)
{
    (void)state;
    struct harness *h = ether_h();
    assert_int_equal(tcpc_route_list(h->stack, stop_at_first, NULL), 7);
    h_free(h);
}

static int null_output(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx;
    (void)pkt;
    (void)len;
    return 0;
}

/* tcpc_stack_new refuses what the table or the link cannot use. */
static void test_config_checks(void **state)
{
    (void)state;
    struct tcpc_config cfg;
    struct tcpc_stack *s = NULL;
    tcpc_config_init(&cfg);
    cfg.output = null_output;
    cfg.local_addrs[0] = A("198.18.0.1");
    cfg.local_addrs[1] = A("198.18.0.1");
    cfg.nlocal_addrs = 2;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), -EINVAL); /* listed twice */
    cfg.nlocal_addrs = 1;
    cfg.local_prefixlens[0] = 33;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), -EINVAL);
    cfg.local_prefixlens[0] = 24;
    cfg.local_addrs[0] = A("224.0.0.5");
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), -EINVAL);
    cfg.local_addrs[0] = A("198.18.0.1");
    cfg.link = TCPC_LINK_ETHER; /* no MAC */
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), -EINVAL);
    cfg.ether_addr = (struct tcpc_ether_addr){{0x01, 0, 0x5e, 0, 0, 1}}; /* a group */
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), -EINVAL);
    cfg.link = (enum tcpc_link_mode)7;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), -EINVAL);
    assert_null(s);
    cfg.link = TCPC_LINK_ETHER;
    cfg.ether_addr = H_MAC_LOCAL;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), 0);
    tcpc_stack_del(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_selection_v4),
        cmocka_unit_test(test_source_selection_v6),
        cmocka_unit_test(test_no_address_of_family),
        cmocka_unit_test(test_add_del_errors),
        cmocka_unit_test(test_added_address_answers),
        cmocka_unit_test(test_connection_outlives_its_address),
        cmocka_unit_test(test_timewait_holds_removed_slot),
        cmocka_unit_test(test_nexthop_by_longest_prefix),
        cmocka_unit_test(test_prefix_removed_noroute),
        cmocka_unit_test(test_gateway_checks),
        cmocka_unit_test(test_route_list),
        cmocka_unit_test(test_route_list_stops),
        cmocka_unit_test(test_config_checks),
    };
    return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
