/*
 * Segment-level tests of next-hop resolution on an Ethernet link, with
 * IPv4 and ARP: packets held while a neighbour resolves and released to its
 * MAC, the gateway resolved for an off-link destination, resolution giving
 * up after net.link.ether.inet.maxtries and TCP's retransmission starting
 * it again, the per-entry and pool-wide hold limits, expiry, the re-probe
 * of an entry in use, and eviction from a full cache.
 */
#include "hlink.h"

#include <errno.h>
#include <string.h>

static struct harness *neigh_h(const char **sysctls)
{
    struct h_opts o = {.ether = true, .sysctls = sysctls};
    return h_new(&o);
}

static struct tcpc_addr v4(const char *text)
{
    struct tcpc_addr a;
    assert_int_equal(tcpc_addr_parse(text, &a), 0);
    return a;
}

/* Takes a broadcast request for target from our address. */
static void expect_request(struct harness *h, const struct tcpc_addr *target)
{
    struct tcpc_ether_addr bc = eth_broadcast();
    struct arp_repr req = h_expect_arp(h, &bc);
    assert_int_equal(req.op, ARPOP_REQUEST);
    assert_true(tcpc_addr_eq(&req.spa, &h->local));
    assert_true(eth_addr_is_zero(&req.tha));
    assert_true(tcpc_addr_eq(&req.tpa, target));
}

/* The neighbour answers our request. */
static void reply_from(struct harness *h, const struct tcpc_addr *who,
                       const struct tcpc_ether_addr *mac)
{
    struct arp_repr rep = {
        .op = ARPOP_REPLY, .sha = *mac, .spa = *who, .tha = h->mac, .tpa = h->local};
    h_inject_arp(h, mac, &h->mac, &rep);
}

static void test_offlink_connect_resolves_gateway(void **state)
{
    (void)state;
    struct harness *h = neigh_h(NULL);
    struct tcpc_addr gw = v4("198.18.0.254");
    struct tcpc_ether_addr gwmac = {{0x52, 0x54, 0x00, 0x00, 0x00, 0xfe}};
    assert_int_equal(tcpc_route_set_gateway(h->stack, TCPC_AF_INET, &gw), 0);
    h->peer = v4("203.0.113.5");
    h_connect(h);
    /* The SYN waits; the gateway is asked for. */
    expect_request(h, &gw);
    h_expect_nothing(h);
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &gw, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_INCOMPLETE);
    assert_int_equal(ni.held, 1);
    assert_int_equal(ni.asked, 1);
    assert_int_equal(ni.expires, h->now + 1 * SEC);
    assert_false(h_neigh(h, &h->peer, &ni)); /* the destination is not a neighbour */
    reply_from(h, &gw, &gwmac);
    /* The held SYN goes out, framed to the gateway, addressed to the peer. */
    h->next_mac = gwmac;
    h_expect(h, SEG(.flags = TH_SYN, .ack = 0, .len = 0));
    h_expect_nothing(h);
    assert_true(h_neigh(h, &gw, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_REACHABLE);
    assert_int_equal(ni.held, 0);
    assert_int_equal(h_stat(h, "arps_txrequests"), 1);
    assert_int_equal(h_stat(h, "arps_rxreplies"), 1);
    assert_int_equal(h_stat(h, "arps_dropped"), 0);
    h_free(h);
}

/* No gateway: an off-link connect has no route. */
static void test_offlink_without_gateway(void **state)
{
    (void)state;
    struct harness *h = neigh_h(NULL);
    struct tcpc_addr far = v4("203.0.113.5");
    int sd = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_connect(h->stack, sd, &far, 80), -ENETUNREACH);
    h_expect_nothing(h);
    h_free(h);
}

/* maxtries requests a second, then the held SYNs are dropped and counted;
 * TCP's next retransmission starts a new resolution, which succeeds. */
static void test_failure_then_retransmit_retries(void **state)
{
    (void)state;
    struct harness *h = neigh_h(NULL);
    h->peer = v4("198.18.0.9");
    h_connect(h);
    expect_request(h, &h->peer);
    for (int i = 1; i < 5; i++) {
        h_advance(h, 1 * SEC);
        expect_request(h, &h->peer); /* the SYN retransmissions are held too */
        h_expect_nothing(h);
    }
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.asked, 5);
    assert_int_equal(ni.held, 3); /* the SYN and its retransmissions at 1 s and 3 s */
    h_advance(h, 1 * SEC);
    h_expect_nothing(h);
    assert_false(h_neigh(h, &h->peer, &ni));
    assert_int_equal(h_stat(h, "arps_timeouts"), 1);
    assert_int_equal(h_stat(h, "arps_dropped"), 3);
    assert_int_equal(h_stat(h, "arps_txrequests"), 5);
    /* The retransmission at 7 s asks again. */
    h_advance(h, 1 * SEC);
    h_expect_nothing(h);
    h_advance(h, 1 * SEC);
    expect_request(h, &h->peer);
    h_expect_nothing(h);
    reply_from(h, &h->peer, &h->peer_mac);
    h_expect(h, SEG(.flags = TH_SYN, .ack = 0, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* net.link.ether.inet.maxhold: beyond it the oldest held packet goes. */
static void test_maxhold_drops_oldest(void **state)
{
    (void)state;
    const char *sys[] = {"net.link.ether.inet.maxhold=2", NULL};
    struct harness *h = neigh_h(sys);
    h->peer = v4("198.18.0.9");
    uint16_t port[3];
    for (int i = 0; i < 3; i++) {
        h_connect(h);
        port[i] = h->lport;
    }
    expect_request(h, &h->peer);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "arps_dropped"), 1);
    reply_from(h, &h->peer, &h->peer_mac);
    /* The second and third SYNs, in order; the first was the oldest. */
    h_expect(h, SEG(.flags = TH_SYN, .dport = port[1]));
    h_expect(h, SEG(.flags = TH_SYN, .dport = port[2]));
    h_expect_nothing(h);
    h_free(h);
}

/* net.link.lle.maxheld: the buffers are shared; with none left, a packet
 * for a neighbour that holds nothing yet is dropped. */
static void test_hold_pool_exhausted(void **state)
{
    (void)state;
    const char *sys[] = {"net.link.lle.maxheld=1", NULL};
    struct harness *h = neigh_h(sys);
    struct tcpc_addr a = v4("198.18.0.9"), b = v4("198.18.0.10");
    h->peer = a;
    h_connect(h);
    expect_request(h, &a);
    h->peer = b;
    h_connect(h);
    expect_request(h, &b);
    assert_int_equal(h_stat(h, "arps_dropped"), 1);
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &a, &ni));
    assert_int_equal(ni.held, 1);
    assert_true(h_neigh(h, &b, &ni));
    assert_int_equal(ni.held, 0);
    h_free(h);
}

/* A SYN from a station we have no entry for: the SYN-ACK waits for ARP
 * (an IP frame's source MAC teaches nothing, as in FreeBSD and Linux). */
static void test_passive_open_resolves_peer(void **state)
{
    (void)state;
    struct harness *h = neigh_h(NULL);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000));
    expect_request(h, &h->peer);
    h_expect_nothing(h);
    reply_from(h, &h->peer, &h->peer_mac);
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_expect_nothing(h);
    h_free(h);
}

/* An entry nobody used is removed at net.link.ether.inet.max_age; the next
 * packet resolves afresh. */
static void test_unused_entry_expires(void **state)
{
    (void)state;
    const char *sys[] = {"net.link.ether.inet.max_age=60", NULL};
    struct harness *h = neigh_h(sys);
    h_ether_meet(h);
    struct tcpc_neigh_info ni;
    h_advance(h, 60 * SEC - 1);
    assert_true(h_neigh(h, &h->peer, &ni));
    h_advance(h, 1);
    h_expect_nothing(h);
    assert_false(h_neigh(h, &h->peer, &ni));
    assert_int_equal(h_stat(h, "arps_timeouts"), 1);
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000));
    expect_request(h, &h->peer);
    h_free(h);
}

/* Takes a unicast probe to the known MAC. */
static void expect_probe(struct harness *h)
{
    struct arp_repr req = h_expect_arp(h, &h->peer_mac);
    assert_int_equal(req.op, ARPOP_REQUEST);
    assert_true(tcpc_addr_eq(&req.tpa, &h->peer));
    assert_true(eth_addr_eq(&req.tha, &h->peer_mac));
}

/* An entry in use at max_age is probed by unicast while traffic keeps
 * flowing to it; an answer confirms it, silence removes it. */
static void test_used_entry_reprobed(void **state)
{
    (void)state;
    const char *sys[] = {"net.link.ether.inet.max_age=60", NULL};
    struct harness *h = neigh_h(sys);
    h_ether_meet(h);
    uint32_t iss;
    int sd = h_establish(h, 1000, SEG(), &iss, NULL);
    h_advance(h, 60 * SEC);
    expect_probe(h);
    h_expect_nothing(h);
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_PROBE);
    /* Data still leaves at once, to the MAC being probed. */
    assert_int_equal(tcpc_send(h->stack, sd, "hi", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = iss + 1, .data = "hi"));
    reply_from(h, &h->peer, &h->peer_mac);
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_REACHABLE);
    assert_int_equal(ni.expires, h->now + 60 * SEC);
    /* The next round goes unanswered: maxtries probes, then it is gone. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = iss + 3));
    assert_int_equal(tcpc_send(h->stack, sd, "yo", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "yo"));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = iss + 5));
    h_advance(h, 60 * SEC);
    for (int i = 0; i < 5; i++) {
        expect_probe(h);
        h_expect_nothing(h);
        h_advance(h, 1 * SEC);
    }
    h_expect_nothing(h);
    assert_false(h_neigh(h, &h->peer, &ni));
    assert_int_equal(h_stat(h, "arps_timeouts"), 1);
    h_free(h);
}

/* net.link.lle.maxentries: a full cache evicts the entry confirmed
 * longest ago. */
static void test_full_cache_evicts_oldest(void **state)
{
    (void)state;
    const char *sys[] = {"net.link.lle.maxentries=8", NULL};
    struct harness *h = neigh_h(sys);
    struct tcpc_ether_addr bc = eth_broadcast();
    struct tcpc_addr who[9];
    for (int i = 0; i < 9; i++) {
        struct tcpc_ether_addr mac = {{0x52, 0x54, 0x00, 0x00, 0x01, (uint8_t)i}};
        who[i] = tcpc_addr_v4(0xc6120010u + (uint32_t)i);
        struct arp_repr req = {.op = ARPOP_REQUEST, .sha = mac, .spa = who[i], .tpa = h->local};
        h_inject_arp(h, &mac, &bc, &req);
        h_flush(h);
        h_advance(h, 1 * SEC);
    }
    struct tcpc_neigh_info ni;
    assert_int_equal(h_stat(h, "lle_evicted"), 1);
    assert_false(h_neigh(h, &who[0], &ni));
    for (int i = 1; i < 9; i++)
        assert_true(h_neigh(h, &who[i], &ni));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offlink_connect_resolves_gateway),
        cmocka_unit_test(test_offlink_without_gateway),
        cmocka_unit_test(test_failure_then_retransmit_retries),
        cmocka_unit_test(test_maxhold_drops_oldest),
        cmocka_unit_test(test_hold_pool_exhausted),
        cmocka_unit_test(test_passive_open_resolves_peer),
        cmocka_unit_test(test_unused_entry_expires),
        cmocka_unit_test(test_used_entry_reprobed),
        cmocka_unit_test(test_full_cache_evicts_oldest),
    };
    return cmocka_run_group_tests_name("link_neigh", tests, NULL, NULL);
}
