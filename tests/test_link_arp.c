/*
 * Segment-level tests of ARP on an Ethernet link: requests for our address
 * answered field by field (the Linux kernel's own request too, answered
 * with the bytes the kernel itself would send), RFC 826's merge rules for
 * learning, address probes, duplicates and malformed packets.
 */
#include "hlink.h"

#include <string.h>

#include "vectors.h"

static struct harness *arp_h(void)
{
    struct h_opts o = {.ether = true};
    return h_new(&o);
}

static struct tcpc_addr v4(const char *text)
{
    struct tcpc_addr a;
    assert_int_equal(tcpc_addr_parse(text, &a), 0);
    return a;
}

static void test_request_answered(void **state)
{
    (void)state;
    struct harness *h = arp_h();
    struct tcpc_ether_addr bc = eth_broadcast();
    struct arp_repr req = {
        .op = ARPOP_REQUEST, .sha = h->peer_mac, .spa = h->peer, .tpa = h->local};
    h_inject_arp(h, &h->peer_mac, &bc, &req);
    struct arp_repr rep = h_expect_arp(h, &h->peer_mac);
    assert_int_equal(rep.op, ARPOP_REPLY);
    assert_true(eth_addr_eq(&rep.sha, &h->mac));
    assert_true(tcpc_addr_eq(&rep.spa, &h->local));
    assert_true(eth_addr_eq(&rep.tha, &h->peer_mac));
    assert_true(tcpc_addr_eq(&rep.tpa, &h->peer));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "arps_received"), 1);
    assert_int_equal(h_stat(h, "arps_rxrequests"), 1);
    assert_int_equal(h_stat(h, "arps_txreplies"), 1);
    assert_int_equal(h_stat(h, "ifi_imcasts"), 1);
    /* The requester is learned (it is about to talk to us), for max_age. */
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_REACHABLE);
    assert_true(eth_addr_eq(&ni.lladdr, &h->peer_mac));
    assert_int_equal(ni.expires, h->now + 1200 * SEC);
    h_free(h);
}

/* The kernel's "who has 198.18.0.2 tell 198.18.0.1", injected as captured
 * into a stack that is 198.18.0.2: the answer must be the kernel's own
 * reply (vectors.h) with the two stations' roles exchanged. */
static void test_linux_request_verbatim(void **state)
{
    (void)state;
    struct h_opts o = {.ether = true, .swap = true};
    struct harness *h = h_new(&o);
    uint8_t req[64], rep[64], want[64], got[64];
    size_t n = unhex(linux_arp_request_hex, req, sizeof(req));
    size_t m = unhex(linux_arp_reply_hex, rep, sizeof(rep));
    h_inject_frame(h, req, n);
    /* Exchange Ethernet source and destination, and ARP sender and target. */
    memcpy(want, rep + 6, 6);
    memcpy(want + 6, rep, 6);
    memcpy(want + 12, rep + 12, 10);
    memcpy(want + 22, rep + 32, 10);
    memcpy(want + 32, rep + 22, 10);
    assert_int_equal(h_take(h, got, sizeof(got)), m);
    assert_memory_equal(got, want, m);
    h_free(h);
}

static void test_request_for_another_ignored(void **state)
{
    (void)state;
    struct harness *h = arp_h();
    struct tcpc_ether_addr bc = eth_broadcast();
    struct arp_repr req = {
        .op = ARPOP_REQUEST, .sha = h->peer_mac, .spa = h->peer, .tpa = v4("198.18.0.9")};
    h_inject_arp(h, &h->peer_mac, &bc, &req);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "arps_rxrequests"), 1);
    /* Nobody we talk to: RFC 826 creates no entry for it. */
    struct tcpc_neigh_info ni;
    assert_false(h_neigh(h, &h->peer, &ni));
    h_free(h);
}

/* A station we know announces a new MAC (gratuitous ARP, RFC 5227 3): the
 * entry follows, and our next packet goes to the new MAC. */
static void test_gratuitous_updates_known(void **state)
{
    (void)state;
    struct harness *h = arp_h();
    h_ether_meet(h);
    struct tcpc_ether_addr moved = {{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}};
    struct tcpc_ether_addr bc = eth_broadcast();
    struct arp_repr garp = {.op = ARPOP_REQUEST, .sha = moved, .spa = h->peer, .tpa = h->peer};
    h_inject_arp(h, &moved, &bc, &garp);
    h_expect_nothing(h);
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_true(eth_addr_eq(&ni.lladdr, &moved));
    /* A stranger's gratuitous ARP creates nothing. */
    struct arp_repr other = {
        .op = ARPOP_REQUEST, .sha = moved, .spa = v4("198.18.0.77"), .tpa = v4("198.18.0.77")};
    h_inject_arp(h, &moved, &bc, &other);
    assert_false(h_neigh(h, &other.spa, &ni));
    /* The SYN-ACK to the peer goes to where it moved. */
    h_listen(h);
    h->peer_mac = moved;
    h->next_mac = moved;
    h_inject(h, SEG(.flags = TH_SYN, .seq = 100));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    h_free(h);
}

/* A reply addressed to us creates an entry even unasked (FreeBSD and RFC
 * 826 agree); one for another host does not. */
static void test_reply_learning(void **state)
{
    (void)state;
    struct harness *h = arp_h();
    struct arp_repr rep = {
        .op = ARPOP_REPLY, .sha = h->peer_mac, .spa = h->peer, .tha = h->mac, .tpa = h->local};
    h_inject_arp(h, &h->peer_mac, &h->mac, &rep);
    h_expect_nothing(h);
    struct tcpc_neigh_info ni;
    assert_true(h_neigh(h, &h->peer, &ni));
    assert_int_equal(ni.state, TCPC_NEIGH_REACHABLE);
    assert_int_equal(h_stat(h, "arps_rxreplies"), 1);
    rep.spa = v4("198.18.0.3");
    rep.tpa = v4("198.18.0.4");
    h_inject_arp(h, &h->peer_mac, &h->mac, &rep);
    assert_false(h_neigh(h, &rep.spa, &ni));
    h_free(h);
}

/* RFC 5227 2.1.1: a probe for our address (sender 0.0.0.0) is answered,
 * which tells the prober the address is taken; 0.0.0.0 is not learned. */
static void test_probe_defended(void **state)
{
    (void)state;
    struct harness *h = arp_h();
    struct tcpc_ether_addr bc = eth_broadcast();
    struct arp_repr probe = {.op = ARPOP_REQUEST, .sha = h->peer_mac, .tpa = h->local};
    probe.spa = tcpc_addr_v4(0);
    h_inject_arp(h, &h->peer_mac, &bc, &probe);
    struct arp_repr rep = h_expect_arp(h, &h->peer_mac);
    assert_int_equal(rep.op, ARPOP_REPLY);
    assert_true(tcpc_addr_eq(&rep.spa, &h->local));
    assert_true(tcpc_addr_is_any(&rep.tpa));
    struct tcpc_neigh_info ni;
    assert_false(h_neigh(h, &probe.spa, &ni));
    h_free(h);
}

/* Someone else claims our address: counted, not answered, not learned. */
static void test_duplicate_address(void **state)
{
    (void)state;
    struct harness *h = arp_h();
    struct tcpc_ether_addr bc = eth_broadcast();
    struct arp_repr req = {
        .op = ARPOP_REQUEST, .sha = h->peer_mac, .spa = h->local, .tpa = h->local};
    h_inject_arp(h, &h->peer_mac, &bc, &req);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "arps_dupips"), 1);
    struct tcpc_neigh_info ni;
    assert_false(h_neigh(h, &h->local, &ni));
    h_free(h);
}

static void test_malformed(void **state)
{
    (void)state;
    struct h_opts o = {.ether = true, .swap = true};
    struct harness *h = h_new(&o);
    uint8_t f[64];
    size_t n = unhex(linux_arp_request_hex, f, sizeof(f));
    f[15] = 6; /* hardware type IEEE 802 */
    h_inject_frame(h, f, n);
    h_inject_frame(h, f, 14 + 27); /* and one cut short */
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "arps_received"), 2);
    assert_int_equal(h_stat(h, "arps_rxbad"), 2);
    assert_int_equal(h_stat(h, "arps_rxrequests"), 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_answered),
        cmocka_unit_test(test_linux_request_verbatim),
        cmocka_unit_test(test_request_for_another_ignored),
        cmocka_unit_test(test_gratuitous_updates_known),
        cmocka_unit_test(test_reply_learning),
        cmocka_unit_test(test_probe_defended),
        cmocka_unit_test(test_duplicate_address),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests_name("link_arp", tests, NULL, NULL);
}
