/*
 * Fuzzes a whole stack on an Ethernet link: the input is a script of
 * frames (raw, or ARP, neighbour discovery, TCP and echo built valid from a
 * few bytes so that the fuzzer gets past checksums), time steps, connects
 * that make the neighbour cache resolve and hold, and run-time changes of
 * addresses, gateways and tunables. Small pools (eight neighbours, four
 * hold buffers) make eviction and exhaustion common.
 *
 * Every frame the stack emits must be well formed: from our MAC, ARP with
 * our hardware address, ND with hop limit 255 and a good checksum, TCP with
 * a good checksum, ICMP only echo replies. The neighbour listing must stay
 * within its bounds.
 *
 * Record format, repeated: kind (1 byte) then a body whose length depends
 * on the kind (see the step functions).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_script.h"
#include "core/config.h"
#include "tcpcore/link.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/nd.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAXENTRIES 8
#define FZ_MAXHOLD    3

static const struct tcpc_ether_addr fz_mac = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x01}};

/* Addresses the script picks from by index: ours, neighbours on and off
 * the link, gateways, odd ones. */
static const char *const fz_addr_text[] = {
    "198.18.0.1", "198.18.0.2",  "198.18.0.9",  "198.18.0.254", "203.0.113.5", "0.0.0.0",
    "198.18.0.7", "2001:db8::1", "2001:db8::2", "2001:db8::9",  "fe80::1",     "2001:db8:7::1",
    "fe80::2",    "198.18.1.1",  "2001:db8::7", "::1",
};
#define FZ_NADDR (sizeof(fz_addr_text) / sizeof(fz_addr_text[0]))

struct fz {
    struct tcpc_stack *stack;
    tcpc_time_t now;
    struct tcpc_addr addr[FZ_NADDR];
    int sd[8];
    unsigned next_sd;
};

static struct tcpc_ether_addr fz_peer_mac(uint8_t i)
{
    struct tcpc_ether_addr m = {{0x52, 0x54, 0x00, 0x00, 0x00, (uint8_t)(i & 7)}};
    if (i & 0x80)
        m.bytes[0] |= 1; /* now and then a group address */
    return m;
}

static void fz_check_ip(const uint8_t *pkt, size_t len)
{
    struct ip_repr ip;
    int hl = ip_parse(pkt, len, &ip);
    CHECK(hl > 0);
    const uint8_t *pl = pkt + hl;
    if (ip.proto == IPPROTO_TCP_) {
        struct tcp_repr th;
        CHECK(tcp_cksum_ok(&ip, pl, ip.payload_len));
        CHECK(tcp_parse(pl, ip.payload_len, &th) >= 0);
        return;
    }
    CHECK(ip.proto == (ip.version == 6 ? IPPROTO_ICMP6_ : IPPROTO_ICMP_));
    if (ip.version == 6 && ip.payload_len && nd_is_nd_type(pl[0])) {
        struct nd_repr nd;
        CHECK(nd_parse(&ip, pl, ip.payload_len, &nd) == 0);
        CHECK(nd.type == ND_NEIGHBOR_SOLICIT || nd.type == ND_NEIGHBOR_ADVERT);
        return;
    }
    struct icmp_echo_repr e;
    CHECK(icmp_echo_parse(&ip, pl, ip.payload_len, &e) == 0);
    CHECK(e.type == (ip.version == 6 ? ICMP6_ECHO_REPLY : ICMP4_ECHOREPLY));
}

static int fz_output(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    struct eth_repr eth;
    CHECK(eth_parse(frame, len, &eth) == ETH_HDR_LEN);
    CHECK(eth_addr_eq(&eth.src, &fz_mac) && !eth_addr_is_zero(&eth.dst));
    CHECK(len <= ETH_HDR_LEN + 1500);
    if (eth.type == ETHERTYPE_ARP) {
        struct arp_repr arp;
        CHECK(len == ETH_HDR_LEN + ARP_LEN);
        CHECK(arp_parse(frame + ETH_HDR_LEN, ARP_LEN, &arp) == ARP_LEN);
        CHECK(eth_addr_eq(&arp.sha, &fz_mac));
        return 0;
    }
    CHECK(eth.type == ETHERTYPE_IP || eth.type == ETHERTYPE_IPV6);
    fz_check_ip(frame + ETH_HDR_LEN, len - ETH_HDR_LEN);
    return 0;
}

static const struct tcpc_addr *fz_a(struct fz *f, uint8_t i)
{
    return &f->addr[i % FZ_NADDR];
}

/* Wraps an IP packet at buf + 14 in a frame to us (or broadcast) and
 * injects it. */
static void fz_frame_in(struct fz *f, uint8_t *buf, size_t iplen, uint8_t macsel, uint16_t type)
{
    struct eth_repr eth = {.src = fz_peer_mac(macsel), .type = type};
    eth.dst = (macsel & 0x40) ? eth_broadcast() : fz_mac;
    if (eth_emit(&eth, buf, ETH_HDR_LEN) == ETH_HDR_LEN)
        tcpc_input(f->stack, f->now, buf, ETH_HDR_LEN + iplen);
}

/* Raw bytes as a frame: 2-byte length, then the bytes. */
static bool fz_raw(struct fz *f, const uint8_t **p, size_t *n)
{
    return fz_step_raw(f->stack, f->now, p, n, 1600);
}

static bool fz_arp(struct fz *f, const uint8_t **p, size_t *n)
{
    uint8_t b[4];
    if (!fz_take(p, n, b, sizeof(b)))
        return false;
    struct arp_repr arp = {.op = (b[0] & 1) ? ARPOP_REPLY : ARPOP_REQUEST,
                           .sha = fz_peer_mac(b[1]),
                           .spa = *fz_a(f, b[2]),
                           .tpa = *fz_a(f, b[3])};
    if (!tcpc_addr_is_v4(&arp.spa) || !tcpc_addr_is_v4(&arp.tpa))
        return true;
    if (b[0] & 2)
        arp.tha = fz_mac;
    uint8_t buf[ETH_HDR_LEN + ARP_LEN];
    if (arp_emit(&arp, buf + ETH_HDR_LEN, ARP_LEN) == ARP_LEN)
        fz_frame_in(f, buf, ARP_LEN, (uint8_t)(b[1] | (b[0] & 0x40)), ETHERTYPE_ARP);
    return true;
}

static bool fz_nd(struct fz *f, const uint8_t **p, size_t *n)
{
    uint8_t b[5];
    if (!fz_take(p, n, b, sizeof(b)))
        return false;
    struct nd_repr nd = {.type = (uint8_t)(ND_ROUTER_SOLICIT + (b[0] & 3)),
                         .flags = b[1] & 0xe0,
                         .target = *fz_a(f, b[2]),
                         .has_lladdr = b[1] & 1,
                         .lladdr = fz_peer_mac(b[4])};
    struct ip_repr ip = {.version = 6, .src = *fz_a(f, b[3])};
    switch ((b[0] >> 2) & 3) {
    case 0:
        ip.dst = nd_solicited_node(&nd.target);
        break;
    case 1:
        ip.dst = nd_all_nodes();
        break;
    default:
        ip.dst = *fz_a(f, (uint8_t)(b[0] >> 4));
        break;
    }
    if (tcpc_addr_is_v4(&ip.src) || tcpc_addr_is_v4(&ip.dst) || tcpc_addr_is_v4(&nd.target))
        return true;
    uint8_t buf[ETH_HDR_LEN + 128];
    int len = nd_emit_packet(&ip, &nd, buf + ETH_HDR_LEN, sizeof(buf) - ETH_HDR_LEN);
    if (len <= 0)
        return true;
    if (b[1] & 2)
        buf[ETH_HDR_LEN + 7] = 64; /* a forwarded one */
    struct eth_repr eth = {.src = fz_peer_mac(b[4]), .type = ETHERTYPE_IPV6};
    eth.dst = (b[0] & 0x80) ? eth_mcast_ip6(&ip.dst) : fz_mac;
    eth_emit(&eth, buf, ETH_HDR_LEN);
    tcpc_input(f->stack, f->now, buf, ETH_HDR_LEN + (size_t)len);
    return true;
}

/* A valid TCP segment from a neighbour to one of our addresses. */
static bool fz_tcp(struct fz *f, const uint8_t **p, size_t *n)
{
    uint8_t b[8];
    if (!fz_take(p, n, b, sizeof(b)))
        return false;
    const struct tcpc_addr *src = fz_a(f, b[1]), *dst = fz_a(f, b[2]);
    if (tcpc_addr_is_v4(src) != tcpc_addr_is_v4(dst))
        return true;
    struct ip_repr ip = {.src = *src, .dst = *dst, .ttl = 64};
    ip.version = tcpc_addr_is_v4(src) ? 4 : 6;
    struct tcp_repr th = {.sport = (uint16_t)(40000 + b[3]),
                          .dport = (b[0] & 0x80) ? 80 : (uint16_t)(10000 + b[4]),
                          .flags = b[0] & 0x3f,
                          .seq = (uint32_t)b[5] << 24,
                          .ack = (uint32_t)b[6] << 16,
                          .win = 65535};
    uint8_t buf[ETH_HDR_LEN + 256];
    int len = tcp_emit_packet(&ip, &th, buf + ETH_HDR_LEN, sizeof(buf) - ETH_HDR_LEN);
    if (len > 0)
        fz_frame_in(f, buf, (size_t)len, b[7], ip.version == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);
    return true;
}

static bool fz_echo(struct fz *f, const uint8_t **p, size_t *n)
{
    uint8_t b[3];
    if (!fz_take(p, n, b, sizeof(b)))
        return false;
    const struct tcpc_addr *src = fz_a(f, b[0]), *dst = fz_a(f, b[1]);
    if (tcpc_addr_is_v4(src) != tcpc_addr_is_v4(dst))
        return true;
    struct ip_repr ip = {.src = *src, .dst = *dst, .ttl = 64};
    ip.version = tcpc_addr_is_v4(src) ? 4 : 6;
    struct icmp_echo_repr e = {.type = ip.version == 6 ? ICMP6_ECHO_REQUEST : ICMP4_ECHO,
                               .id = b[2],
                               .data = (const uint8_t *)"tcpcore",
                               .datalen = 7};
    uint8_t buf[ETH_HDR_LEN + 128];
    int len = icmp_echo_emit_packet(&ip, &e, buf + ETH_HDR_LEN, sizeof(buf) - ETH_HDR_LEN);
    if (len > 0)
        fz_frame_in(f, buf, (size_t)len, b[2], ip.version == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);
    return true;
}

/* Up to about 65 s, past every ND timer of the fuzz configuration. */
static bool fz_time(struct fz *f, const uint8_t **p, size_t *n)
{
    return fz_step_time(f->stack, &f->now, p, n);
}

/* A connect to one of the addresses from a fresh socket (the oldest of
 * eight is closed to make room). */
static bool fz_connect(struct fz *f, const uint8_t **p, size_t *n)
{
    uint8_t b[2];
    if (!fz_take(p, n, b, sizeof(b)))
        return false;
    const struct tcpc_addr *dst = fz_a(f, b[0]);
    unsigned slot = f->next_sd++ % 8;
    if (f->sd[slot] >= 0)
        tcpc_close(f->stack, f->sd[slot]);
    f->sd[slot] = tcpc_socket(f->stack, tcpc_addr_is_v4(dst) ? TCPC_AF_INET : TCPC_AF_INET6);
    if (f->sd[slot] >= 0) {
        tcpc_connect(f->stack, f->sd[slot], dst, (uint16_t)(1 + b[1]));
        if (b[1] & 1)
            tcpc_send(f->stack, f->sd[slot], "data", 4);
    }
    return true;
}

static bool fz_config(struct fz *f, const uint8_t **p, size_t *n)
{
    uint8_t b[2];
    if (!fz_take(p, n, b, sizeof(b)))
        return false;
    const struct tcpc_addr *a = fz_a(f, b[1]);
    const char *why;
    switch (b[0] & 7) {
    case 0:
        tcpc_addr_add(f->stack, a, (unsigned)(b[0] >> 3) * 4);
        break;
    case 1:
        tcpc_addr_del(f->stack, a);
        break;
    case 2:
        tcpc_route_set_gateway(f->stack, tcpc_addr_is_v4(a) ? TCPC_AF_INET : TCPC_AF_INET6, a);
        break;
    case 3:
        tcpc_route_set_gateway(f->stack, (b[0] & 8) ? TCPC_AF_INET6 : TCPC_AF_INET, NULL);
        break;
    case 4:
        tcpc_sysctl_set(f->stack, "net.link.ether.vlan_skip", b[1] & 1, &why);
        break;
    case 5:
        tcpc_sysctl_set(f->stack, "net.link.ether.inet.maxhold", 1 + b[1] % FZ_MAXHOLD, &why);
        break;
    default:
        tcpc_sysctl_set(f->stack, "net.inet.icmp.icmplim", b[1] % 4, &why);
        break;
    }
    return true;
}

static int fz_neigh_check(void *ctx, const struct tcpc_neigh_info *ni)
{
    unsigned *count = ctx;
    CHECK(++*count <= FZ_MAXENTRIES);
    CHECK(ni->state >= TCPC_NEIGH_INCOMPLETE && ni->state <= TCPC_NEIGH_PROBE);
    CHECK(ni->held <= FZ_MAXHOLD);
    CHECK(ni->held == 0 || ni->state == TCPC_NEIGH_INCOMPLETE);
    return 0;
}

static bool fz_setup(struct fz *f)
{
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < FZ_NADDR; i++)
        tcpc_addr_parse(fz_addr_text[i], &f->addr[i]);
    for (unsigned i = 0; i < 8; i++)
        f->sd[i] = -1;
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    cfg.output = fz_output;
    cfg.link = TCPC_LINK_ETHER;
    cfg.ether_addr = fz_mac;
    cfg.local_addrs[0] = f->addr[0];
    cfg.local_prefixlens[0] = 24;
    cfg.local_addrs[1] = f->addr[7];
    cfg.local_prefixlens[1] = 64;
    cfg.nlocal_addrs = 2;
    cfg.use_seed = true;
    cfg.tun.maxsockets = 64;
    cfg.tun.sendspace = cfg.tun.recvspace = 4096;
    cfg.tun.lle_maxentries = FZ_MAXENTRIES;
    cfg.tun.lle_maxheld = 4;
    cfg.tun.arp_maxhold = cfg.tun.nd6_maxqueuelen = FZ_MAXHOLD;
    cfg.tun.arp_max_age = 30;
    cfg.tun.nd6_gctimer = 60;
    f->now = 1000000;
    if (tcpc_stack_new(&cfg, f->now, &f->stack) != 0)
        abort();
    for (int fam = 0; fam < 2; fam++) {
        int l = tcpc_socket(f->stack, fam ? TCPC_AF_INET6 : TCPC_AF_INET);
        tcpc_setsockopt(f->stack, l, TCPC_IPV6_V6ONLY, 1);
        tcpc_bind(f->stack, l, NULL, 80);
        tcpc_listen(f->stack, l, 4);
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool (*const steps[])(struct fz *, const uint8_t **, size_t *) = {
        fz_raw, fz_arp, fz_nd, fz_tcp, fz_echo, fz_time, fz_connect, fz_config,
    };
    struct fz f;
    fz_setup(&f);
    const uint8_t *p = data;
    size_t n = size;
    bool more = true;
    while (more && n > 0) {
        uint8_t kind = *p++;
        n--;
        more = steps[kind % (sizeof(steps) / sizeof(steps[0]))](&f, &p, &n);
        unsigned count = 0;
        tcpc_neigh_list(f.stack, fz_neigh_check, &count);
    }
    tcpc_stack_del(f.stack);
    return 0;
}
