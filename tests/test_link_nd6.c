/*
 * Segment-level tests of IPv6 neighbour discovery on an Ethernet link:
 * solicitations for our address (to its solicited-node group, MAC
 * 33:33:ff:xx:xx:xx) answered field by field and the Linux kernel's own
 * answered as it would answer it; resolution by multicast NS both ways;
 * the unreachability detection of RFC 4861 7.3 (REACHABLE, STALE, DELAY,
 * PROBE) with its timers; the override rules of advertisements; and the
 * frame filter for IPv6 groups.
 */
#include "hlink.h"

#include <errno.h>
#include <string.h>

#include "vectors.h"

static struct harness *nd_h(const char **sysctls)
{
    struct h_opts o = {.ether = true, .v6 = true, .sysctls = sysctls};
    return h_new(&o);
}

static struct tcpc_addr v6(const char *text)
{
    struct tcpc_addr a;
    assert_int_equal(tcpc_addr_parse(text, &a), 0);
    return a;
}

/* Sends the peer's NS for target to target's solicited-node group. */
static void inject_ns(struct harness *h, const struct tcpc_addr *target, bool lladdr)
{
    struct tcpc_addr group = nd_solicited_node(target);
    struct tcpc_ether_addr gmac = eth_mcast_ip6(&group);
    struct nd_repr ns = {.type = ND_NEIGHBOR_SOLICIT, .target = *target, .has_lladdr = lladdr};
    ns.lladdr = h->peer_mac;
    h_inject_nd(h, &h->peer_mac, &gmac, &h->peer, &group, &ns);
}

static void test_ns_answered(void **state)
{
    (void)state;
    struct harness *h = nd_h(NULL);
    inject_ns(h, &h->local, true);
    struct ip_repr ip;
    struct nd_repr na = h_expect_nd(h, &h->peer_mac, &ip);
    h_expect_nothing(h);
    assert_true(tcpc_addr_eq(&ip.src, &h->local));
    assert_true(tcpc_addr_eq(&ip.dst, &h->peer));
    assert_int_equal(na.type, ND_NEIGHBOR_ADVERT);
    assert_int_equal(na.flags, ND_NA_SOLICITED | ND_NA_OVERRIDE); /* not a router */
    assert_true(tcpc_addr_eq(&na.target, &h->local));
    assert_true(na.has_lladdr);
    assert_true(eth_addr_eq(&na.lladdr, &h->mac));
    assert_int_equal(h_stat(h, "icp6s_in_ns"), 1);
    assert_int_equal(h_stat(h, "icp6s_out_na"), 1);
    assert_int_equal(h_stat(h, "ifi_imcasts"), 1);
    /* The solicitor is learned STALE (RFC 4861 7.2.3); our answer to it
     * started DELAY (7.3.3). */
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_DELAY);
    assert_true(eth_addr_eq(&ni.lladdr, &h->peer_mac));
    assert_int_equal(ni.expires, h->now + 5 * SEC);
    h_free(h);
}

/* The kernel's NS for 2001:db8::2, injected as captured into a stack that
 * is 2001:db8::2: the answer has the layout of the kernel's own NA
 * (vectors.h), with the roles exchanged. */
static void test_linux_ns_verbatim(void **state)
{
    (void)state;
    struct h_opts o = {.ether = true, .v6 = true, .swap = true};
    struct harness *h = h_new(&o);
    uint8_t ns[128], kna[128], got[128];
    size_t n = unhex(linux_ns_hex, ns, sizeof(ns));
    size_t m = unhex(linux_na_hex, kna, sizeof(kna));
    h_inject_frame(h, ns, n);
    assert_int_equal(h_take(h, got, sizeof(got)), m);
    /* Ethernet: to the kernel's MAC from ours. */
    assert_memory_equal(got, kna + 6, 6);
    assert_memory_equal(got + 6, kna, 6);
    /* IPv6 header: version, class, label, length, next header, hop limit
     * as the kernel's; addresses exchanged. */
    assert_memory_equal(got + 12, kna + 12, 10);
    assert_memory_equal(got + 22, kna + 38, 16);
    assert_memory_equal(got + 38, kna + 22, 16);
    /* ICMPv6: type, code, flags as the kernel's; target and option ours. */
    assert_int_equal(got[54], kna[54]);
    assert_int_equal(got[55], kna[55]);
    assert_memory_equal(got + 58, kna + 58, 4);
    assert_memory_equal(got + 62, kna + 38, 16);
    assert_memory_equal(got + 78, kna + 78, 2);
    assert_memory_equal(got + 80, kna, 6);
    h_free(h);
}

/* Takes our multicast solicitation for target. */
static void expect_ns(struct harness *h, const struct tcpc_addr *target)
{
    struct tcpc_addr group = nd_solicited_node(target);
    struct tcpc_ether_addr gmac = eth_mcast_ip6(&group);
    struct ip_repr ip;
    struct nd_repr ns = h_expect_nd(h, &gmac, &ip);
    assert_int_equal(ns.type, ND_NEIGHBOR_SOLICIT);
    assert_true(tcpc_addr_eq(&ip.src, &h->local));
    assert_true(tcpc_addr_eq(&ip.dst, &group));
    assert_true(tcpc_addr_eq(&ns.target, target));
    assert_true(ns.has_lladdr);
    assert_true(eth_addr_eq(&ns.lladdr, &h->mac));
}

static void inject_na(struct harness *h, const struct tcpc_ether_addr *mac, uint8_t flags)
{
    struct nd_repr na = {.type = ND_NEIGHBOR_ADVERT, .flags = flags, .target = h->peer};
    if (mac) {
        na.has_lladdr = true;
        na.lladdr = *mac;
    }
    h_inject_nd(h, &h->peer_mac, &h->mac, &h->peer, &h->local, &na);
}

static void test_connect_resolves_by_ns(void **state)
{
    (void)state;
    struct harness *h = nd_h(NULL);
    h_connect(h);
    expect_ns(h, &h->peer);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "icp6s_out_ns"), 1);
    inject_na(h, &h->peer_mac, ND_NA_SOLICITED | ND_NA_OVERRIDE);
    h_expect(h, SEG(.flags = TH_SYN, .ack = 0));
    h_expect_nothing(h);
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_REACHABLE);
    /* ReachableTime is drawn from [15, 45) s (RFC 4861 6.3.2). */
    assert_true(ni.expires >= h->now + 15 * SEC && ni.expires < h->now + 45 * SEC);
    h_free(h);
}

/* nd6_mmaxtries solicitations, then the held packets are dropped; the SYN
 * retransmission due at the same moment starts over. */
static void test_resolution_fails(void **state)
{
    (void)state;
    struct harness *h = nd_h(NULL);
    h->peer = v6("2001:db8::9");
    h_connect(h);
    for (int i = 0; i < 3; i++) {
        expect_ns(h, &h->peer);
        h_expect_nothing(h);
        h_advance(h, 1 * SEC);
    }
    assert_int_equal(h_stat(h, "icp6s_nd_timeouts"), 1);
    assert_int_equal(h_stat(h, "icp6s_dropped"), 2); /* the SYN and its 1 s retransmission */
    /* The retransmission at 3 s found no entry: a new resolution. */
    expect_ns(h, &h->peer);
    h_expect_nothing(h);
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_INCOMPLETE);
    assert_int_equal(ni.asked, 1);
    assert_int_equal(ni.held, 1);
    h_free(h);
}

/* Takes a unicast probe for the peer. */
static void expect_probe(struct harness *h)
{
    struct ip_repr ip;
    struct nd_repr ns = h_expect_nd(h, &h->peer_mac, &ip);
    assert_int_equal(ns.type, ND_NEIGHBOR_SOLICIT);
    assert_true(tcpc_addr_eq(&ip.dst, &h->peer));
    assert_true(tcpc_addr_eq(&ns.target, &h->peer));
}

/* RFC 4861 7.3.3: REACHABLE ages into STALE; sending moves it to DELAY;
 * after nd6_delay it is PROBEd by unicast; an answer confirms it. */
static void test_unreachability_detection(void **state)
{
    (void)state;
    struct harness *h = nd_h(NULL);
    uint32_t iss;
    h_ether_meet(h);
    int sd = h_establish(h, 1000, SEG(), &iss, NULL);
    inject_na(h, &h->peer_mac, ND_NA_SOLICITED);
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_REACHABLE);
    h_advance(h, ni.expires - h->now);
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_STALE);
    assert_int_equal(ni.expires, h->now + 86400 * SEC); /* nd6_gctimer */
    h_expect_nothing(h);
    /* Still used: the data goes out at once, the entry enters DELAY. */
    assert_int_equal(tcpc_send(h->stack, sd, "hi", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = iss + 1, .data = "hi"));
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_DELAY);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = iss + 3));
    h_advance(h, 5 * SEC);
    expect_probe(h);
    h_expect_nothing(h);
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_PROBE);
    inject_na(h, &h->peer_mac, ND_NA_SOLICITED);
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_REACHABLE);
    h_free(h);
}

/* A probed neighbour that never answers is removed after nd6_umaxtries. */
static void test_probe_gives_up(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet6.icmp6.nd6_umaxtries=2", "net.inet6.icmp6.nd6_delay=2", NULL};
    struct harness *h = nd_h(sys);
    h_ether_meet(h); /* STALE, then DELAY: we answered */
    h_advance(h, 2 * SEC);
    expect_probe(h);
    h_advance(h, 1 * SEC);
    expect_probe(h);
    h_advance(h, 1 * SEC);
    h_expect_nothing(h);
    struct tcpc_neigh_info ni;
    assert_false(h_neigh(h, &h->peer, &ni));
    assert_int_equal(h_stat(h, "icp6s_nd_timeouts"), 1);
    h_free(h);
}

/* RFC 4861 7.2.5: without the override flag a new MAC only casts doubt
 * (REACHABLE becomes STALE, the MAC stays); with it, the MAC changes. */
static void test_advert_override_rules(void **state)
{
    (void)state;
    struct harness *h = nd_h(NULL);
    h_connect(h);
    expect_ns(h, &h->peer);
    inject_na(h, &h->peer_mac, ND_NA_SOLICITED);
    h_expect(h, SEG(.flags = TH_SYN));
    struct tcpc_ether_addr other = {{0x52, 0x54, 0x00, 0x99, 0x99, 0x99}};
    struct tcpc_neigh_info ni;
    inject_na(h, &other, 0);
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_STALE);
    assert_true(eth_addr_eq(&ni.lladdr, &h->peer_mac));
    inject_na(h, &other, ND_NA_OVERRIDE);
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_STALE);
    assert_true(eth_addr_eq(&ni.lladdr, &other));
    /* An unsolicited advertisement for a stranger creates nothing. */
    struct nd_repr na = {.type = ND_NEIGHBOR_ADVERT,
                         .flags = ND_NA_OVERRIDE,
                         .target = v6("2001:db8::77"),
                         .has_lladdr = true,
                         .lladdr = other};
    struct tcpc_addr all = nd_all_nodes();
    struct tcpc_ether_addr allmac = eth_mcast_ip6(&all);
    h_inject_nd(h, &other, &allmac, &na.target, &all, &na);
    assert_false(h_neigh(h, &na.target, &ni));
    h_free(h);
}

/* Solicitations for addresses that are not ours, or from off the link,
 * are dropped and counted; no answer goes out. */
static void test_bad_solicitations(void **state)
{
    (void)state;
    struct harness *h = nd_h(NULL);
    struct tcpc_addr other = v6("2001:db8::9");
    inject_ns(h, &other, true); /* its group is not ours: the frame filter */
    assert_int_equal(h_stat(h, "ifi_notours"), 1);
    /* Ours by group (same low 24 bits) but not by target. */
    struct tcpc_addr alias = v6("2001:db8:1::1");
    inject_ns(h, &alias, true);
    assert_int_equal(h_stat(h, "icp6s_badns"), 1);
    /* A hop limit below 255: forwarded, so not from this link. */
    uint8_t f[256];
    struct tcpc_addr group = nd_solicited_node(&h->local);
    struct tcpc_ether_addr gmac = eth_mcast_ip6(&group);
    struct eth_repr eth = {.dst = gmac, .src = h->peer_mac, .type = ETHERTYPE_IPV6};
    struct nd_repr ns = {.type = ND_NEIGHBOR_SOLICIT, .target = h->local};
    struct ip_repr ip = {.src = h->peer, .dst = group, .version = 6};
    eth_emit(&eth, f, sizeof(f));
    int n = nd_emit_packet(&ip, &ns, f + 14, sizeof(f) - 14);
    f[14 + 7] = 64;
    h_inject_frame(h, f, 14 + (size_t)n);
    assert_int_equal(h_stat(h, "icp6s_badns"), 2);
    /* Someone else claims our address. */
    struct tcpc_ether_addr intruder = {{0x52, 0x54, 0x00, 0x66, 0x66, 0x66}};
    struct nd_repr na = {.type = ND_NEIGHBOR_ADVERT,
                         .flags = ND_NA_OVERRIDE,
                         .target = h->local,
                         .has_lladdr = true,
                         .lladdr = intruder};
    struct tcpc_addr all = nd_all_nodes();
    struct tcpc_ether_addr allmac = eth_mcast_ip6(&all);
    h_inject_nd(h, &intruder, &allmac, &h->peer, &all, &na);
    assert_int_equal(h_stat(h, "icp6s_dupaddr"), 1);
    h_expect_nothing(h);
    h_free(h);
}

/* Router discovery is recognised and ignored (routes are configured). */
static void test_router_advert_ignored(void **state)
{
    (void)state;
    struct harness *h = nd_h(NULL);
    struct tcpc_addr ll = v6("fe80::1"), all = nd_all_nodes();
    struct tcpc_ether_addr allmac = eth_mcast_ip6(&all);
    struct nd_repr ra = {.type = ND_ROUTER_ADVERT, .router_lifetime = 1800};
    h_inject_nd(h, &h->peer_mac, &allmac, &ll, &all, &ra);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "icps_ignored"), 1);
    struct tcpc_neigh_info ni;
    assert_false(h_neigh(h, &ll, &ni));
    h_free(h);
}

/* A solicitation without the source link-layer option: we must resolve the
 * solicitor before we can answer it. */
static void test_ns_without_lladdr(void **state)
{
    (void)state;
    struct harness *h = nd_h(NULL);
    inject_ns(h, &h->local, false);
    expect_ns(h, &h->peer);
    h_expect_nothing(h);
    inject_na(h, &h->peer_mac, ND_NA_SOLICITED | ND_NA_OVERRIDE);
    struct ip_repr ip;
    struct nd_repr na = h_expect_nd(h, &h->peer_mac, &ip);
    assert_int_equal(na.type, ND_NEIGHBOR_ADVERT);
    assert_true(tcpc_addr_eq(&na.target, &h->local));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ns_answered),
        cmocka_unit_test(test_linux_ns_verbatim),
        cmocka_unit_test(test_connect_resolves_by_ns),
        cmocka_unit_test(test_resolution_fails),
        cmocka_unit_test(test_unreachability_detection),
        cmocka_unit_test(test_probe_gives_up),
        cmocka_unit_test(test_advert_override_rules),
        cmocka_unit_test(test_bad_solicitations),
        cmocka_unit_test(test_router_advert_ignored),
        cmocka_unit_test(test_ns_without_lladdr),
    };
    return cmocka_run_group_tests_name("link_nd6", tests, NULL, NULL);
}
