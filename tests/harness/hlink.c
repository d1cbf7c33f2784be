/*
 * The harness's Ethernet helpers; see hlink.h.
 */
#include "hlink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/ip.h"

void h_ether_config(struct harness *h, struct tcpc_config *cfg, bool swap)
{
    h->ether = true;
    h->mac = swap ? H_MAC_PEER : H_MAC_LOCAL;
    h->peer_mac = swap ? H_MAC_LOCAL : H_MAC_PEER;
    h->next_mac = h->peer_mac;
    cfg->link = TCPC_LINK_ETHER;
    cfg->ether_addr = h->mac;
    cfg->local_prefixlens[0] = h->v6 ? 64 : 24;
}

void h_ether_frame(const struct harness *h, uint8_t *frame, const struct tcpc_ether_addr *dst,
                   uint16_t type)
{
    struct eth_repr eth = {.dst = *dst, .src = h->peer_mac, .type = type};
    assert_int_equal(eth_emit(&eth, frame, ETH_HDR_LEN), ETH_HDR_LEN);
}

static void mac_text(const struct tcpc_ether_addr *m, char *buf, size_t cap)
{
    snprintf(buf, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m->bytes[0], m->bytes[1], m->bytes[2],
             m->bytes[3], m->bytes[4], m->bytes[5]);
}

void h_ether_check(const struct harness *h, const uint8_t *frame, size_t len,
                   const struct tcpc_ether_addr *dst)
{
    struct eth_repr eth;
    char got[24], want[24];
    assert_int_equal(eth_parse(frame, len, &eth), ETH_HDR_LEN);
    if (!eth_addr_eq(&eth.src, &h->mac)) {
        mac_text(&eth.src, got, sizeof(got));
        fail_msg("frame from %s, not from the stack", got);
    }
    if (!eth_addr_eq(&eth.dst, dst)) {
        mac_text(&eth.dst, got, sizeof(got));
        mac_text(dst, want, sizeof(want));
        fail_msg("frame to %s, want %s", got, want);
    }
}

void h_ether_format(const uint8_t *frame, size_t len, char *buf, size_t cap)
{
    struct eth_repr eth;
    char dst[24];
    if (eth_parse(frame, len, &eth) < 0) {
        snprintf(buf, cap, "a bad frame of %zu bytes", len);
        return;
    }
    mac_text(&eth.dst, dst, sizeof(dst));
    int n = snprintf(buf, cap, "frame to %s type 0x%04x: ", dst, eth.type);
    if (n < 0 || (size_t)n >= cap)
        return;
    if (eth.type == ETHERTYPE_IP || eth.type == ETHERTYPE_IPV6)
        tcpc_format_packet(frame + eth.hdrlen, len - eth.hdrlen, buf + n, cap - (size_t)n);
    else
        snprintf(buf + n, cap - (size_t)n, "%zu bytes", len - eth.hdrlen);
}

void h_inject_arp(struct harness *h, const struct tcpc_ether_addr *src_mac,
                  const struct tcpc_ether_addr *eth_dst, const struct arp_repr *arp)
{
    uint8_t f[ETH_HDR_LEN + ARP_LEN];
    struct eth_repr eth = {.dst = *eth_dst, .src = *src_mac, .type = ETHERTYPE_ARP};
    assert_int_equal(eth_emit(&eth, f, sizeof(f)), ETH_HDR_LEN);
    assert_int_equal(arp_emit(arp, f + ETH_HDR_LEN, ARP_LEN), ARP_LEN);
    h_inject_frame(h, f, sizeof(f));
}

/* Takes the next frame into f: from the stack to eth_dst, of EtherType
 * type. Returns its length. */
static size_t h_take_frame(struct harness *h, uint8_t *f, size_t cap,
                           const struct tcpc_ether_addr *eth_dst, uint16_t type)
{
    size_t n = h_take(h, f, cap);
    struct eth_repr eth;
    h_ether_check(h, f, n, eth_dst);
    assert_int_equal(eth_parse(f, n, &eth), ETH_HDR_LEN);
    if (eth.type != type) {
        char got[512];
        h_ether_format(f, n, got, sizeof(got));
        fail_msg("expected EtherType 0x%04x, the stack sent: %s", type, got);
    }
    return n;
}

struct arp_repr h_expect_arp(struct harness *h, const struct tcpc_ether_addr *eth_dst)
{
    uint8_t f[1600];
    size_t n = h_take_frame(h, f, sizeof(f), eth_dst, ETHERTYPE_ARP);
    struct arp_repr arp;
    /* No padding: exactly the header and the packet. */
    assert_int_equal(n, ETH_HDR_LEN + ARP_LEN);
    assert_int_equal(arp_parse(f + ETH_HDR_LEN, n - ETH_HDR_LEN, &arp), ARP_LEN);
    assert_true(eth_addr_eq(&arp.sha, &h->mac));
    return arp;
}

void h_inject_nd(struct harness *h, const struct tcpc_ether_addr *src_mac,
                 const struct tcpc_ether_addr *eth_dst, const struct tcpc_addr *src,
                 const struct tcpc_addr *dst, const struct nd_repr *nd)
{
    uint8_t f[256];
    struct eth_repr eth = {.dst = *eth_dst, .src = *src_mac, .type = ETHERTYPE_IPV6};
    struct ip_repr ip = {.src = *src, .dst = *dst, .version = 6, .ttl = ND_HOPLIMIT};
    assert_int_equal(eth_emit(&eth, f, sizeof(f)), ETH_HDR_LEN);
    int n = nd_emit_packet(&ip, nd, f + ETH_HDR_LEN, sizeof(f) - ETH_HDR_LEN);
    assert_true(n > 0);
    h_inject_frame(h, f, ETH_HDR_LEN + (size_t)n);
}

struct nd_repr h_expect_nd(struct harness *h, const struct tcpc_ether_addr *eth_dst,
                           struct ip_repr *ip)
{
    uint8_t f[1600];
    size_t n = h_take_frame(h, f, sizeof(f), eth_dst, ETHERTYPE_IPV6);
    struct nd_repr nd;
    assert_int_equal(ip_parse(f + ETH_HDR_LEN, n - ETH_HDR_LEN, ip), IP6_HDR_LEN);
    assert_int_equal(ip->proto, IPPROTO_ICMP6_);
    assert_int_equal(ip->ttl, ND_HOPLIMIT);
    assert_int_equal(nd_parse(ip, f + ETH_HDR_LEN + IP6_HDR_LEN, ip->payload_len, &nd), 0);
    return nd;
}

void h_inject_echo(struct harness *h, const struct tcpc_addr *dst, uint16_t id, uint16_t seq,
                   const char *data)
{
    uint8_t p[1600];
    struct ip_repr ip = {.src = h->peer, .dst = *dst, .version = h->v6 ? 6 : 4, .ttl = 64};
    struct icmp_echo_repr e = {.type = h->v6 ? ICMP6_ECHO_REQUEST : ICMP4_ECHO,
                               .id = id,
                               .seq = seq,
                               .data = (const uint8_t *)data,
                               .datalen = strlen(data)};
    int n = icmp_echo_emit_packet(&ip, &e, p, sizeof(p));
    assert_true(n > 0);
    h_inject_raw(h, p, (size_t)n);
}

struct icmp_echo_repr h_expect_echo(struct harness *h, struct ip_repr *ip, uint8_t *data,
                                    size_t cap)
{
    uint8_t f[1600];
    size_t n = h_take(h, f, sizeof(f));
    const uint8_t *pkt = f;
    if (h->ether) {
        h_ether_check(h, f, n, &h->next_mac);
        pkt += ETH_HDR_LEN;
        n -= ETH_HDR_LEN;
    }
    struct icmp_echo_repr e;
    int hl = ip_parse(pkt, n, ip);
    assert_true(hl > 0);
    assert_int_equal(ip->proto, h->v6 ? IPPROTO_ICMP6_ : IPPROTO_ICMP_);
    assert_int_equal(icmp_echo_parse(ip, pkt + hl, ip->payload_len, &e), 0);
    assert_int_equal(e.type, h->v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHOREPLY);
    assert_true(e.datalen <= cap);
    memcpy(data, e.data, e.datalen);
    e.data = data;
    return e;
}

int h_connect(struct harness *h)
{
    int sd = tcpc_socket(h->stack, tcpc_addr_is_v4(&h->peer) ? TCPC_AF_INET : TCPC_AF_INET6);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    return sd;
}

struct h_neigh_find {
    const struct tcpc_addr *a;
    struct tcpc_neigh_info *out;
};

static int h_neigh_cb(void *ctx, const struct tcpc_neigh_info *ni)
{
    struct h_neigh_find *f = ctx;
    if (!tcpc_addr_eq(&ni->addr, f->a))
        return 0;
    *f->out = *ni;
    return 1;
}

bool h_neigh(struct harness *h, const struct tcpc_addr *a, struct tcpc_neigh_info *out)
{
    struct h_neigh_find f = {a, out};
    return tcpc_neigh_list(h->stack, h_neigh_cb, &f) == 1;
}

void h_ether_meet(struct harness *h)
{
    if (!h->v6) {
        struct arp_repr req = {
            .op = ARPOP_REQUEST, .sha = h->peer_mac, .spa = h->peer, .tpa = h->local};
        struct tcpc_ether_addr bc = eth_broadcast();
        h_inject_arp(h, &h->peer_mac, &bc, &req);
        struct arp_repr rep = h_expect_arp(h, &h->peer_mac);
        assert_int_equal(rep.op, ARPOP_REPLY);
        return;
    }
    struct tcpc_addr group = nd_solicited_node(&h->local);
    struct tcpc_ether_addr gmac = eth_mcast_ip6(&group);
    struct nd_repr ns = {
        .type = ND_NEIGHBOR_SOLICIT, .target = h->local, .has_lladdr = true, .lladdr = h->peer_mac};
    struct ip_repr ip;
    h_inject_nd(h, &h->peer_mac, &gmac, &h->peer, &group, &ns);
    struct nd_repr na = h_expect_nd(h, &h->peer_mac, &ip);
    assert_int_equal(na.type, ND_NEIGHBOR_ADVERT);
}
