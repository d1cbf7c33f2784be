/*
 * Segment-level tests of Ethernet framing: a TCP exchange in frames, the
 * destination filter (our MAC, broadcast, joined IPv6 groups only), VLAN
 * tags under net.link.ether.vlan_skip, and malformed or foreign frames,
 * each dropped with its counter.
 */
#include "hlink.h"

#include <string.h>

#include "wire/bytes.h"

static struct harness *eth_h(bool v6, const char **sysctls)
{
    struct h_opts o = {.ether = true, .v6 = v6, .sysctls = sysctls};
    return h_new(&o);
}

/* The SYN h_inject would send, framed by hand: header at f, returns the
 * frame length. */
static size_t syn_frame(struct harness *h, uint8_t *f, size_t cap,
                        const struct tcpc_ether_addr *dst)
{
    size_t n = h_build(h, SEG(.flags = TH_SYN, .seq = 100), f + ETH_HDR_LEN, cap - ETH_HDR_LEN);
    h_ether_frame(h, f, dst, h->v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);
    return n + ETH_HDR_LEN;
}

static void handshake(bool v6)
{
    struct harness *h = eth_h(v6, NULL);
    h_ether_meet(h);
    uint32_t iss;
    int sd = h_establish(h, 1000, SEG(.mss = 1460), &iss, NULL);
    assert_int_equal(tcpc_send(h->stack, sd, "hello", 5), 5);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = 1001, .data = "hello"));
    assert_int_equal(h_stat(h, "ifi_ipackets"), 3); /* meet, SYN, ACK */
    assert_int_equal(h_stat(h, "ifi_opackets"), 3); /* answer, SYN-ACK, data */
    h_free(h);
}

static void test_handshake_v4(void **state)
{
    (void)state;
    handshake(false);
}

static void test_handshake_v6(void **state)
{
    (void)state;
    handshake(true);
}

static void test_destination_filter(void **state)
{
    (void)state;
    struct harness *h = eth_h(false, NULL);
    h_ether_meet(h);
    h_listen(h);
    uint8_t f[128];
    struct tcpc_ether_addr other = {{0x52, 0x54, 0x00, 0x77, 0x77, 0x77}};
    struct tcpc_ether_addr group = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
    struct tcpc_ether_addr bc = eth_broadcast();
    h_inject_frame(h, f, syn_frame(h, f, sizeof(f), &other));
    h_inject_frame(h, f, syn_frame(h, f, sizeof(f), &group));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ifi_notours"), 2);
    /* A broadcast frame is taken; the IP layer judges the packet. */
    h_inject_frame(h, f, syn_frame(h, f, sizeof(f), &bc));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    assert_int_equal(h_stat(h, "ifi_imcasts"), 2); /* meet's request and this */
    /* Our own frame coming back (a reflecting switch port). */
    size_t n = syn_frame(h, f, sizeof(f), &h->mac);
    memcpy(f + 6, h->mac.bytes, 6);
    h_inject_frame(h, f, n);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ifi_notours"), 3);
    h_free(h);
}

/* IPv6: all-nodes and our solicited-node group pass, other groups not. */
static void test_ipv6_groups(void **state)
{
    (void)state;
    struct harness *h = eth_h(true, NULL);
    struct tcpc_addr all = nd_all_nodes(), other;
    assert_int_equal(tcpc_addr_parse("ff02::1:ff00:9", &other), 0);
    struct tcpc_ether_addr allmac = eth_mcast_ip6(&all), othermac = eth_mcast_ip6(&other);
    struct nd_repr na = {.type = ND_NEIGHBOR_ADVERT, .target = h->peer, .has_lladdr = true};
    na.lladdr = h->peer_mac;
    h_inject_nd(h, &h->peer_mac, &allmac, &h->peer, &all, &na);
    assert_int_equal(h_stat(h, "icp6s_in_na"), 1);
    h_inject_nd(h, &h->peer_mac, &othermac, &h->peer, &other, &na);
    assert_int_equal(h_stat(h, "icp6s_in_na"), 1);
    assert_int_equal(h_stat(h, "ifi_notours"), 1);
    h_free(h);
}

/* The SYN in a frame tagged with priority 5 and VID vid. */
static size_t tagged_syn(struct harness *h, uint8_t *f, size_t cap, uint16_t vid)
{
    uint8_t plain[128];
    size_t n = syn_frame(h, plain, sizeof(plain), &h->mac);
    assert_true(n + 4 <= cap);
    memcpy(f, plain, 12);
    put_be16(f + 12, ETHERTYPE_VLAN);
    put_be16(f + 14, (uint16_t)(5u << 13 | vid));
    memcpy(f + 16, plain + 12, n - 12);
    return n + 4;
}

static void test_vlan_dropped_by_default(void **state)
{
    (void)state;
    struct harness *h = eth_h(false, NULL);
    h_ether_meet(h);
    h_listen(h);
    uint8_t f[160];
    h_inject_frame(h, f, tagged_syn(h, f, sizeof(f), 100));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "ifi_vlandrops"), 1);
    /* Priority-tagged (VID 0) frames are untagged traffic (802.1Q). */
    h_inject_frame(h, f, tagged_syn(h, f, sizeof(f), 0));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    h_free(h);
}

static void test_vlan_skipped(void **state)
{
    (void)state;
    const char *sys[] = {"net.link.ether.vlan_skip=1", NULL};
    struct harness *h = eth_h(false, sys);
    h_ether_meet(h);
    h_listen(h);
    uint8_t f[160];
    h_inject_frame(h, f, tagged_syn(h, f, sizeof(f), 100));
    /* Answered, untagged: the stack does not speak VLANs, it tolerates them. */
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    assert_int_equal(h_stat(h, "ifi_vlandrops"), 0);
    h_free(h);
}

static void test_malformed_frames(void **state)
{
    (void)state;
    struct harness *h = eth_h(false, NULL);
    h_ether_meet(h);
    h_listen(h);
    uint8_t f[128];
    size_t n = syn_frame(h, f, sizeof(f), &h->mac);
    h_inject_frame(h, f, 13); /* no whole header */
    assert_int_equal(h_stat(h, "ifi_ierrors"), 1);
    f[6] |= 1; /* a group source */
    h_inject_frame(h, f, n);
    assert_int_equal(h_stat(h, "ifi_ierrors"), 2);
    f[6] &= (uint8_t)~1;
    put_be16(f + 12, ETHERTYPE_IPV6); /* an IPv4 packet under the IPv6 type */
    h_inject_frame(h, f, n);
    assert_int_equal(h_stat(h, "ifi_ierrors"), 3);
    put_be16(f + 12, 0x88cc); /* LLDP */
    h_inject_frame(h, f, n);
    assert_int_equal(h_stat(h, "ifi_noproto"), 1);
    h_inject_frame(h, f, ETH_HDR_LEN); /* a header and nothing else */
    assert_int_equal(h_stat(h, "ifi_noproto"), 2);
    put_be16(f + 12, ETHERTYPE_IP);
    h_inject_frame(h, f, ETH_HDR_LEN);
    assert_int_equal(h_stat(h, "ifi_ierrors"), 4);
    h_expect_nothing(h);
    /* Padding after the IP packet (a 60-byte minimum frame) is fine. */
    n = syn_frame(h, f, sizeof(f), &h->mac);
    memset(f + n, 0, 20);
    h_inject_frame(h, f, n + 20);
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    h_free(h);
}

/* An IP-level stack sees no frames: a frame is a malformed IP packet, and
 * the neighbour listing is empty. */
static void test_ip_level_has_no_link(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    uint8_t f[64];
    memset(f, 0, sizeof(f));
    h_inject_raw(h, f, sizeof(f));
    assert_int_equal(h_stat(h, "ips_badvers"), 1);
    assert_int_equal(h_stat(h, "ifi_ipackets"), 0);
    struct tcpc_neigh_info ni;
    assert_false(h_neigh(h, &h->peer, &ni));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_v4),
        cmocka_unit_test(test_handshake_v6),
        cmocka_unit_test(test_destination_filter),
        cmocka_unit_test(test_ipv6_groups),
        cmocka_unit_test(test_vlan_dropped_by_default),
        cmocka_unit_test(test_vlan_skipped),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_ip_level_has_no_link),
    };
    return cmocka_run_group_tests_name("link_ether", tests, NULL, NULL);
}
