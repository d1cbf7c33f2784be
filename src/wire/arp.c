/*
 * ARP packet parsing and emission; see arp.h.
 */
#include "arp.h"

#include <string.h>

#include "bytes.h"
#include "eth.h"
#include "wire.h"

#define ARPHRD_ETHER 1

/* A sender IP address no host may claim: multicast (224/4) or the limited
 * broadcast. 0.0.0.0 is an address probe and passes. */
static bool arp_spa_bad(uint32_t spa)
{
    return spa == 0xffffffffu || (spa >> 28) == 0xe;
}

int arp_parse(const uint8_t *buf, size_t buflen, struct arp_repr *out)
{
    if (buflen < ARP_LEN)
        return -WIRE_ARP_SHORT;
    if (get_be16(buf) != ARPHRD_ETHER || get_be16(buf + 2) != ETHERTYPE_IP ||
        buf[4] != ETH_ADDR_LEN || buf[5] != 4)
        return -WIRE_ARP_BADFORMAT;
    memset(out, 0, sizeof(*out));
    out->op = get_be16(buf + 6);
    if (out->op != ARPOP_REQUEST && out->op != ARPOP_REPLY)
        return -WIRE_ARP_BADOP;
    memcpy(out->sha.bytes, buf + 8, ETH_ADDR_LEN);
    out->spa = tcpc_addr_v4(get_be32(buf + 14));
    memcpy(out->tha.bytes, buf + 18, ETH_ADDR_LEN);
    out->tpa = tcpc_addr_v4(get_be32(buf + 24));
    if (eth_addr_is_group(&out->sha) || arp_spa_bad(get_be32(buf + 14)))
        return -WIRE_ARP_BADADDR;
    return ARP_LEN;
}

int arp_emit(const struct arp_repr *arp, uint8_t *buf, size_t buflen)
{
    if (buflen < ARP_LEN)
        return -WIRE_NOSPACE;
    put_be16(buf, ARPHRD_ETHER);
    put_be16(buf + 2, ETHERTYPE_IP);
    buf[4] = ETH_ADDR_LEN;
    buf[5] = 4;
    put_be16(buf + 6, arp->op);
    memcpy(buf + 8, arp->sha.bytes, ETH_ADDR_LEN);
    memcpy(buf + 14, arp->spa.bytes + 12, 4);
    memcpy(buf + 18, arp->tha.bytes, ETH_ADDR_LEN);
    memcpy(buf + 24, arp->tpa.bytes + 12, 4);
    return ARP_LEN;
}
