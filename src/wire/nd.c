/*
 * Neighbour discovery message parsing and emission; see nd.h.
 */
#include "nd.h"

#include <string.h>

#include "bytes.h"
#include "eth.h"
#include "icmp.h"
#include "wire.h"

#define ND_OPT_SLLA 1 /* source link-layer address */
#define ND_OPT_TLLA 2 /* target link-layer address */
#define ND_OPT_MTU  5
#define ND_OPT_UNIT 8 /* option lengths count 8-byte units */

#define ND_RS_LEN 8
#define ND_RA_LEN 16
#define ND_NS_LEN 24 /* NA has the same layout */

static const uint8_t nd_snm_prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};

struct tcpc_addr nd_solicited_node(const struct tcpc_addr *addr)
{
    struct tcpc_addr g;
    memcpy(g.bytes, nd_snm_prefix, sizeof(nd_snm_prefix));
    memcpy(g.bytes + 13, addr->bytes + 13, 3);
    return g;
}

bool nd_is_solicited_node(const struct tcpc_addr *addr)
{
    return memcmp(addr->bytes, nd_snm_prefix, sizeof(nd_snm_prefix)) == 0;
}

struct tcpc_addr nd_all_nodes(void)
{
    struct tcpc_addr g = {{0xff, 0x02, [15] = 1}};
    return g;
}

bool nd_is_nd_type(uint8_t type)
{
    return type >= ND_ROUTER_SOLICIT && type <= ND_NEIGHBOR_ADVERT;
}

static size_t nd_fixed_len(uint8_t type)
{
    switch (type) {
    case ND_ROUTER_SOLICIT:
        return ND_RS_LEN;
    case ND_ROUTER_ADVERT:
        return ND_RA_LEN;
    default:
        return ND_NS_LEN;
    }
}

static bool nd_addr_is_multicast(const struct tcpc_addr *a)
{
    return a->bytes[0] == 0xff;
}

/* The option that carries a link-layer address for this message type. */
static uint8_t nd_lladdr_opt(uint8_t type)
{
    return type == ND_NEIGHBOR_ADVERT ? ND_OPT_TLLA : ND_OPT_SLLA;
}

/* Walks the options in buf[off .. len); every option must have a length
 * (RFC 4861 4.6: a zero length is invalid) and fit. */
static int nd_parse_opts(const uint8_t *buf, size_t off, size_t len, struct nd_repr *out)
{
    while (off < len) {
        if (len - off < 2 || buf[off + 1] == 0)
            return -WIRE_ND_BADOPT;
        size_t olen = (size_t)buf[off + 1] * ND_OPT_UNIT;
        if (olen > len - off)
            return -WIRE_ND_BADOPT;
        uint8_t kind = buf[off];
        if (kind == nd_lladdr_opt(out->type) && olen == ND_OPT_UNIT && !out->has_lladdr) {
            out->has_lladdr = true;
            memcpy(out->lladdr.bytes, buf + off + 2, ETH_ADDR_LEN);
        } else if (kind == ND_OPT_MTU && olen == ND_OPT_UNIT && out->type == ND_ROUTER_ADVERT) {
            out->mtu = get_be32(buf + off + 4);
        }
        off += olen;
    }
    return 0;
}

static void nd_parse_fixed(const uint8_t *buf, struct nd_repr *out)
{
    switch (out->type) {
    case ND_ROUTER_ADVERT:
        out->cur_hop_limit = buf[4];
        out->flags = buf[5] & (ND_RA_MANAGED | ND_RA_OTHER);
        out->router_lifetime = get_be16(buf + 6);
        out->reachable_time = get_be32(buf + 8);
        out->retrans_timer = get_be32(buf + 12);
        break;
    case ND_NEIGHBOR_ADVERT:
        out->flags = buf[4] & (ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE);
        out->target = tcpc_addr_v6(buf + 8);
        break;
    case ND_NEIGHBOR_SOLICIT:
        out->target = tcpc_addr_v6(buf + 8);
        break;
    default:
        break;
    }
}

/* RFC 4861 6.1.1, 6.1.2, 7.1.1 and 7.1.2, the parts that need no state. */
static bool nd_valid(const struct ip_repr *ip, const struct nd_repr *nd)
{
    bool unspec_src = tcpc_addr_is_any(&ip->src);
    switch (nd->type) {
    case ND_ROUTER_SOLICIT:
        return !(unspec_src && nd->has_lladdr);
    case ND_ROUTER_ADVERT:
        /* Routers advertise from their link-local address (fe80::/10). */
        return ip->src.bytes[0] == 0xfe && (ip->src.bytes[1] & 0xc0) == 0x80;
    case ND_NEIGHBOR_SOLICIT:
        if (nd_addr_is_multicast(&nd->target))
            return false;
        /* Duplicate address detection: to the solicited-node group, and
         * with no source address there is no link-layer one to learn. */
        return !unspec_src || (nd_is_solicited_node(&ip->dst) && !nd->has_lladdr);
    default:
        if (nd_addr_is_multicast(&nd->target))
            return false;
        return !(nd_addr_is_multicast(&ip->dst) && (nd->flags & ND_NA_SOLICITED));
    }
}

int nd_parse(const struct ip_repr *ip, const uint8_t *buf, size_t buflen, struct nd_repr *out)
{
    memset(out, 0, sizeof(*out));
    if (buflen < 1 || !nd_is_nd_type(buf[0]))
        return -WIRE_ND_NOTND;
    out->type = buf[0];
    if (buflen < nd_fixed_len(out->type))
        return -WIRE_ND_SHORT;
    if (!icmp_cksum_ok(ip, buf, buflen))
        return -WIRE_ICMP_BADSUM;
    if (ip->ttl != ND_HOPLIMIT)
        return -WIRE_ND_HOPLIMIT;
    if (buf[1] != 0)
        return -WIRE_ND_INVALID;
    nd_parse_fixed(buf, out);
    int err = nd_parse_opts(buf, nd_fixed_len(out->type), buflen, out);
    if (err < 0)
        return err;
    return nd_valid(ip, out) ? 0 : -WIRE_ND_INVALID;
}

static void nd_emit_fixed(const struct nd_repr *nd, uint8_t *msg)
{
    memset(msg, 0, nd_fixed_len(nd->type));
    msg[0] = nd->type;
    switch (nd->type) {
    case ND_ROUTER_ADVERT:
        msg[4] = nd->cur_hop_limit;
        msg[5] = nd->flags;
        put_be16(msg + 6, nd->router_lifetime);
        put_be32(msg + 8, nd->reachable_time);
        put_be32(msg + 12, nd->retrans_timer);
        break;
    case ND_NEIGHBOR_ADVERT:
        msg[4] = nd->flags;
        memcpy(msg + 8, nd->target.bytes, 16);
        break;
    case ND_NEIGHBOR_SOLICIT:
        memcpy(msg + 8, nd->target.bytes, 16);
        break;
    default:
        break;
    }
}

int nd_emit_packet(const struct ip_repr *ip, const struct nd_repr *nd, uint8_t *buf, size_t buflen)
{
    size_t msglen = nd_fixed_len(nd->type);
    bool mtu = nd->type == ND_ROUTER_ADVERT && nd->mtu != 0;
    msglen += nd->has_lladdr ? ND_OPT_UNIT : 0;
    msglen += mtu ? ND_OPT_UNIT : 0;
    if (buflen < IP6_HDR_LEN + msglen)
        return -WIRE_NOSPACE;

    struct ip_repr iph = *ip;
    iph.version = 6;
    iph.proto = IPPROTO_ICMP6_;
    iph.ttl = ND_HOPLIMIT;
    iph.payload_len = (uint16_t)msglen;
    int off = ip_emit(&iph, buf, buflen);
    if (off < 0)
        return off;
    uint8_t *msg = buf + off;
    size_t o = nd_fixed_len(nd->type);
    nd_emit_fixed(nd, msg);
    if (nd->has_lladdr) {
        msg[o] = nd_lladdr_opt(nd->type);
        msg[o + 1] = 1;
        memcpy(msg + o + 2, nd->lladdr.bytes, ETH_ADDR_LEN);
        o += ND_OPT_UNIT;
    }
    if (mtu) {
        msg[o] = ND_OPT_MTU;
        msg[o + 1] = 1;
        put_be16(msg + o + 2, 0);
        put_be32(msg + o + 4, nd->mtu);
    }
    icmp_cksum_set(&iph, msg, msglen);
    return (int)(IP6_HDR_LEN + msglen);
}
