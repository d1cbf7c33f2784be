/*
 * Ethernet II header parsing and emission; see eth.h.
 */
#include "eth.h"

#include "bytes.h"
#include "wire.h"

static bool eth_is_tag(uint16_t type)
{
    return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ;
}

int eth_parse(const uint8_t *buf, size_t buflen, struct eth_repr *out)
{
    if (buflen < ETH_HDR_LEN)
        return -WIRE_ETH_SHORT;
    memset(out, 0, sizeof(*out));
    memcpy(out->dst.bytes, buf, ETH_ADDR_LEN);
    memcpy(out->src.bytes, buf + ETH_ADDR_LEN, ETH_ADDR_LEN);
    if (eth_addr_is_group(&out->src))
        return -WIRE_ETH_BADSRC;
    out->type = get_be16(buf + 12);
    out->hdrlen = ETH_HDR_LEN;
    if (eth_is_tag(out->type)) {
        if (buflen < ETH_HDR_LEN + ETH_TAG_LEN)
            return -WIRE_ETH_SHORT;
        out->tagged = true;
        out->vlan_tci = get_be16(buf + 14);
        out->type = get_be16(buf + 16);
        out->hdrlen = ETH_HDR_LEN + ETH_TAG_LEN;
    }
    return out->hdrlen;
}

int eth_emit(const struct eth_repr *eth, uint8_t *buf, size_t buflen)
{
    size_t len = ETH_HDR_LEN + (eth->tagged ? ETH_TAG_LEN : 0);
    uint8_t *p = buf + 12;

    if (buflen < len)
        return -WIRE_NOSPACE;
    memcpy(buf, eth->dst.bytes, ETH_ADDR_LEN);
    memcpy(buf + ETH_ADDR_LEN, eth->src.bytes, ETH_ADDR_LEN);
    if (eth->tagged) {
        put_be16(p, ETHERTYPE_VLAN);
        put_be16(p + 2, eth->vlan_tci);
        p += ETH_TAG_LEN;
    }
    put_be16(p, eth->type);
    return (int)len;
}

struct tcpc_ether_addr eth_mcast_ip6(const struct tcpc_addr *group)
{
    struct tcpc_ether_addr m = {{0x33, 0x33}};
    memcpy(m.bytes + 2, group->bytes + 12, 4);
    return m;
}
